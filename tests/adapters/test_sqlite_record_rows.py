"""The SQLite store's record reader: a checked row becomes the same record as the validated
constructor gives, and a row the record's rules refuse is still a StoreCorruptError."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.ports.crm import StoreCorruptError

_AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
_RECORDS = (
    Activity("cmp-1", "m-1", ActivityType.OPENED, _AT, client_id="c-1", email="a@example.com"),
    Activity(
        "cmp-1",
        "m-2",
        ActivityType.CLICKED,
        _AT,
        client_id="c-1",
        list_id="l-1",
        detail="https://example.com",
        occurrence=2,
    ),
)


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "crm.db"
    with SqliteCrm(path) as crm:
        crm.insert_records(_RECORDS)
    return path


def test_records_read_back_equal_the_validated_records(tmp_path: Path) -> None:
    """Equal, same hash, repr and key as the records written."""
    with SqliteCrm(_store(tmp_path)) as crm:
        read = sorted(crm.all_records(), key=lambda a: a.member_id)
    assert read == list(_RECORDS)
    assert [hash(a) for a in read] == [hash(a) for a in _RECORDS]
    assert [repr(a) for a in read] == [repr(a) for a in _RECORDS]
    assert [a.key for a in read] == [a.key for a in _RECORDS]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE record_members SET member_id = '   ' WHERE id = 1",
        "UPDATE record_members SET campaign_id = x'41'",
        "DELETE FROM record_members",
        "UPDATE records SET micro = 1000000",
        "UPDATE records SET type = 6",
        "UPDATE records SET occurred_at = 253402300799, micro = 1",
        "UPDATE records SET email = ' ' WHERE email IS NOT NULL",
        "UPDATE records SET list_id = x'00' WHERE list_id IS NOT NULL",
        "UPDATE records SET detail = '  ' WHERE detail IS NOT NULL",
    ],
)
def test_a_row_the_record_refuses_is_a_corrupt_store(tmp_path: Path, sql: str) -> None:
    """Text the record's rules refuse is named as corruption, not trusted."""
    path = _store(tmp_path)
    with closing(sqlite3.connect(path)) as db:
        db.execute(sql)
        db.commit()
    with SqliteCrm(path) as crm, pytest.raises(StoreCorruptError) as raised:
        crm.all_records()
    assert raised.value.table == "records"
