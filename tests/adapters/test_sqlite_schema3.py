"""The SQLite store's compact records (schema 3): every read gives exactly what the
in-memory store gives for the same writes, and a store of schema 2 is migrated with
nothing lost."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.adapters.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteCrm
from cmsf_core.adapters.sqlite.keys import _record_id
from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.records.members import MemberRef

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CAMPAIGNS = ("cmp-1", "cmp-2", "cmp-3")
_MEMBERS = ("ann@example.com", "bob@example.com", "m-7")
_CLIENTS = ("c-1", "c-2")


@st.composite
def _records(draw: st.DrawFn) -> Activity:
    member_id = draw(st.sampled_from(_MEMBERS))
    activity_type = draw(st.sampled_from(tuple(ActivityType)))
    return Activity(
        draw(st.sampled_from(_CAMPAIGNS)),
        member_id,
        activity_type,
        draw(
            st.one_of(
                st.datetimes(
                    min_value=datetime(1960, 1, 1),
                    max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC),
                ),
                st.sampled_from(
                    [
                        datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
                        datetime(2026, 3, 2, 9, 30, 59, 999_999, tzinfo=UTC),
                        datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
                        datetime(1, 1, 2, tzinfo=UTC),
                        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
                    ]
                ),
            )
        ),
        client_id=draw(st.sampled_from(_CLIENTS)),
        email=draw(st.sampled_from((None, member_id, member_id.upper(), "carol@example.org"))),
        list_id=draw(st.sampled_from((None, "list-1"))),
        detail=draw(st.sampled_from((None, "https://example.com/a", "Hard"))),
        occurrence=draw(st.integers(min_value=0, max_value=2)),
    )


def _grouped(found: object) -> dict[MemberRef, Counter[Activity]]:
    assert isinstance(found, dict)
    return {ref: Counter(records) for ref, records in found.items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(st.lists(_records(), max_size=12), min_size=1, max_size=3),
    doomed=st.lists(st.integers(min_value=0, max_value=40), max_size=6),
    cutoff=st.datetimes(
        min_value=datetime(1960, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_read_of_the_compact_records_equals_the_in_memory_store(
    batches: list[list[Activity]], doomed: list[int], cutoff: datetime
) -> None:
    """Inserts (a key met again is kept as first stored), deletes, and every read by
    member, campaign, client, key and retention cutoff, as InMemoryCrm gives them."""
    memory, store = InMemoryCrm(), SqliteCrm(":memory:")
    everything = [record for batch in batches for record in batch]
    for batch in batches:
        assert store.insert_records(batch).written == memory.insert_records(batch).written
    keys = [everything[i % len(everything)].key for i in doomed] if everything else []
    assert store.delete_records(keys).written == memory.delete_records(keys).written

    assert Counter(store.all_records()) == Counter(memory.all_records())
    assert [a.key for a in store.all_records()] == [  # no two rows of one key
        *{a.key: None for a in store.all_records()}
    ]
    refs = [MemberRef(c, m) for c in _CAMPAIGNS for m in (*_MEMBERS, "nobody")]
    assert _grouped(store.records_for(refs)) == _grouped(memory.records_for(refs))
    for clients in ([], ["c-1"], list(_CLIENTS), ["c-9"]):
        assert Counter(store.records_of_clients(clients)) == Counter(
            memory.records_of_clients(clients)
        )
    for campaigns in ([], ["cmp-1"], ["cmp-2", "cmp-3", "cmp-2"], ["cmp-9"]):
        assert Counter(store.records_of_campaigns(campaigns)) == Counter(
            a for a in memory.all_records() if a.campaign_id in campaigns
        )
    wanted = [a.key for a in everything]
    assert set(store.existing_keys(wanted)) == set(memory.existing_keys(wanted))
    cutoffs = {t: cutoff + timedelta(microseconds=n) for n, t in enumerate(ActivityType)}
    assert Counter(store.expired_records(cutoffs)) == Counter(memory.expired_records(cutoffs))


#: A store of schema 2 as its release wrote it (the tables a sync touches).
_SCHEMA_2 = """
CREATE TABLE records (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL, member_id TEXT NOT NULL, type TEXT NOT NULL,
    occurred_at INTEGER NOT NULL, email TEXT, list_id TEXT, detail TEXT,
    occurrence INTEGER NOT NULL);
CREATE INDEX records_by_member ON records (campaign_id, member_id);
CREATE INDEX records_by_time ON records (type, occurred_at);
CREATE TABLE members (campaign_id TEXT NOT NULL, member_id TEXT NOT NULL,
    crm_campaign_id TEXT NOT NULL, email TEXT NOT NULL, person_id TEXT, status TEXT,
    activity TEXT, activity_date INTEGER, engagement TEXT NOT NULL,
    PRIMARY KEY (campaign_id, member_id)) WITHOUT ROWID;
CREATE INDEX members_unmatched ON members (person_id) WHERE person_id IS NULL;
CREATE TABLE people (person_id TEXT PRIMARY KEY, kind TEXT NOT NULL, email TEXT NOT NULL,
    email_key TEXT NOT NULL, last_modified INTEGER NOT NULL, email_opt_out INTEGER NOT NULL,
    account_id TEXT);
CREATE INDEX people_by_email ON people (email_key);
CREATE INDEX people_by_account ON people (account_id) WHERE account_id IS NOT NULL;
CREATE TABLE campaigns (campaign_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    statuses TEXT NOT NULL, created_by_integration INTEGER NOT NULL, statistics TEXT);
CREATE TABLE links (platform_campaign_id TEXT PRIMARY KEY, client_id TEXT NOT NULL,
    crm_campaign_id TEXT NOT NULL);
CREATE TABLE platform_campaigns (campaign_id TEXT PRIMARY KEY, client_id TEXT NOT NULL,
    name TEXT NOT NULL, sent_at INTEGER NOT NULL, tags TEXT NOT NULL, subject TEXT NOT NULL);
CREATE TABLE checkpoints (client_id TEXT PRIMARY KEY, watermark INTEGER,
    pending TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('email_key', 'nfc-lower');
INSERT INTO checkpoints VALUES ('c-1', 1772443800000000, '[]');
"""


def _history() -> list[Activity]:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    return [
        Activity("cmp-1", "ann@example.com", ActivityType.SENT, at, client_id="c-1"),
        Activity(
            "cmp-1",
            "ann@example.com",
            ActivityType.OPENED,
            at + timedelta(seconds=5, microseconds=7),
            client_id="c-1",
            email="ann@example.com",
        ),
        Activity(
            "cmp-1",
            "ann@example.com",
            ActivityType.CLICKED,
            at + timedelta(minutes=3),
            client_id="c-1",
            email="Ann@Example.com",
            list_id="list-9",
            detail="https://example.com/a",
            occurrence=1,
        ),
        Activity(
            "cmp-2",
            "m-42",
            ActivityType.BOUNCED,
            datetime(1969, 12, 31, 23, 59, 59, 250_000, tzinfo=UTC),
            client_id="c-2",
            detail="Hard",
        ),
    ]


def _schema_2_store(path: Path, records: list[Activity], *, damaged: bool = False) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.executescript(_SCHEMA_2)
        db.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    _record_id(a.key),
                    a.client_id,
                    a.campaign_id,
                    a.member_id,
                    a.type.name,
                    (a.occurred_at - _EPOCH) // timedelta(microseconds=1),
                    a.email,
                    a.list_id,
                    a.detail,
                    a.occurrence,
                )
                for a in records
            ],
        )
        if damaged:
            db.execute("UPDATE records SET type = 'FORWARDED' WHERE member_id = 'm-42'")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 2")
        db.commit()


def test_a_store_of_schema_2_is_migrated_with_nothing_lost(tmp_path: Path) -> None:
    """Opened, a schema 2 store becomes schema 3 in one step: the same records (to the
    microsecond, before 1970 too, emails as written) are read, found by key, member,
    campaign and client, and inserting them again writes nothing; the checkpoint stays."""
    path = tmp_path / "v2.db"
    records = _history()
    _schema_2_store(path, records)

    with SqliteCrm(path) as crm:
        assert Counter(crm.all_records()) == Counter(records)
        assert set(crm.existing_keys([a.key for a in records])) == {a.key for a in records}
        assert crm.insert_records(records).written == 0
        assert set(crm.records_for([MemberRef("cmp-2", "m-42")])[MemberRef("cmp-2", "m-42")]) == {
            records[3]
        }
        assert set(crm.records_of_campaigns(["cmp-1"])) == set(records[:3])
        assert set(crm.records_of_clients(["c-2"])) == {records[3]}
        assert crm.checkpoint("c-1").watermark == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        assert crm.problems() == []
    with closing(sqlite3.connect(path)) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        version = db.execute("PRAGMA user_version").fetchone()[0]
        application = db.execute("PRAGMA application_id").fetchone()[0]
        emails = sorted(str(row[0]) for row in db.execute("SELECT email FROM records"))
    assert (application, version) == (APPLICATION_ID, SCHEMA_VERSION)
    assert {"records_by_id", "records_by_time", "record_members"} <= names
    assert not {"records_schema_2", "records_by_member"} & names
    assert emails == ["", "Ann@Example.com", "None", "None"]  # '': the member id itself
    with SqliteCrm(path) as reopened:  # reopening is a no-op
        assert Counter(reopened.all_records()) == Counter(records)


def test_a_damaged_row_of_a_schema_2_store_is_still_named_after_the_migration(
    tmp_path: Path,
) -> None:
    """The migration copies a value it cannot read as it is: the row is kept, and a
    check names its table, row and column."""
    path = tmp_path / "v2.db"
    _schema_2_store(path, _history(), damaged=True)

    with SqliteCrm(path) as crm:
        assert crm.record_count() == 4
        problems = crm.problems()

    assert [(p.table, p.column) for p in problems] == [("records", "type")]
    assert problems[0].row == f"id={_record_id(_history()[3].key)}"


def test_a_damaged_member_row_is_named_and_replaced_when_its_records_are_reloaded(
    tmp_path: Path,
) -> None:
    """A member id damaged in ``record_members`` is reported on the records using it;
    the full sync's clean-up drops those records and the member row, and the records
    loaded again read back whole."""
    path = tmp_path / "crm.db"
    records = _history()
    with SqliteCrm(path) as crm:
        crm.insert_records(records)
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE record_members SET member_id = ' ' WHERE member_id = 'm-42'")
        db.commit()

    with SqliteCrm(path) as crm:
        assert [p.table for p in crm.problems()] == ["records"]
        assert crm._drop_unreadable_loaded_rows() == 1
        assert crm.insert_records(records).written == 1
        assert Counter(crm.all_records()) == Counter(records)
        assert crm.problems() == []
        (members,) = crm._db.execute("SELECT count(*) FROM record_members").fetchone()
    assert members == 2
