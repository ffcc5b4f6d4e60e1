"""The SQLite store's identity and integrity: files that are not stores are refused
untouched, rows edited behind the library's back are named, ``cmsf check`` lists them,
a full sync repairs what it loaded, and the store remembers its last run's settings."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cmsf_core import Settings
from cmsf_core.adapters.sqlite import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    NotAStoreError,
    SqliteCrm,
    StoreCorruptError,
)
from cmsf_core.domain.errors import CmsfError

EXPORT = Path(__file__).resolve().parent.parent / "data" / "platform"
AS_OF = "2024-04-10T00:00:00+00:00"
SMALL = ["--recipients", "60", "--campaigns", "2", "--days", "10"]
#: Settings under which the sample export creates CRM campaigns and their members.
SETTINGS = (
    'Auto_Create_Campaigns = true\nAuto_Create_Campaigns_Since = "2020-01-01T00:00:00+00:00"\n'
)


def cmsf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmsf_core", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _listing(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a digest of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        if path.is_file()
        else "<dir>"
        for path in sorted(folder.rglob("*"))
    }


def _synced_store(folder: Path) -> Path:
    """A store holding one sync of the sample export, with linked campaigns and members."""
    (folder / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    result = cmsf(
        "sync", "--store", "crm.db", "--platform", str(EXPORT), "--as-of", AS_OF,
        "--settings", "settings.toml", cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder / "crm.db"


# ----------------------------------------------------------------------------- identity


def _other_apps_db(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        db.execute("INSERT INTO notes (text) VALUES ('mine')")
        db.commit()
    return path


def _other_apps_wal_db(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        db.commit()
    return path


def _marked_by_another_app(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA application_id = 1234")
        db.execute("CREATE TABLE records (key TEXT)")
        db.commit()
    return path


def _empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _text_file(path: Path) -> Path:
    path.write_text("name,email\nJane,jane@example.com\n", encoding="utf-8")
    return path


def _truncated_store(path: Path) -> Path:
    with SqliteCrm(path.with_name("whole.db")) as crm:
        for i in range(300):
            crm.add_person(f"reader{i}@example.com", person_id=f"003{i:05d}")
    whole = path.with_name("whole.db").read_bytes()
    path.with_name("whole.db").unlink()
    path.write_bytes(whole[: len(whole) // 2])
    return path


def _newer_store(path: Path) -> Path:
    SqliteCrm(path).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.commit()
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _in_missing_folder(path: Path) -> Path:
    return path.parent / "no-such-folder" / path.name


NOT_STORES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "another application's database": (_other_apps_db, "another application's"),
    "another application's WAL database": (_other_apps_wal_db, "another application's"),
    "a database marked by another application": (_marked_by_another_app, "another application"),
    "a 0-byte file": (_empty_file, "empty file"),
    "a text file": (_text_file, "not a SQLite database"),
    "a truncated store": (_truncated_store, "truncated"),
    "a store of a newer schema": (_newer_store, "newer than this release"),
    "a folder": (_folder, "is a folder"),
    "a path in a missing folder": (_in_missing_folder, "folder that does not exist"),
}


@pytest.mark.parametrize("case", list(NOT_STORES))
def test_a_file_that_is_not_a_store_is_refused_without_a_byte_written(
    case: str, tmp_path: Path
) -> None:
    """Opening anything but a cmsf store raises NotAStoreError; the folder is unchanged."""
    make, words = NOT_STORES[case]
    path = make(tmp_path / "other.db")
    before = _listing(tmp_path)

    with pytest.raises(NotAStoreError, match=words) as raised:
        SqliteCrm(path)

    assert isinstance(raised.value, CmsfError)
    assert _listing(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize("command", ["diagnose", "sync", "check", "demo"])
@pytest.mark.parametrize("case", ["another application's database", "a 0-byte file", "a folder"])
def test_every_command_refuses_a_file_that_is_not_a_store_in_one_line(
    command: str, case: str, tmp_path: Path
) -> None:
    """Each command given a non-store: exit 2, one line on stderr, the folder unchanged."""
    make, words = NOT_STORES[case]
    make(tmp_path / "other.db")
    before = _listing(tmp_path)
    extra = ["--platform", str(EXPORT), "--as-of", AS_OF] if command == "sync" else []
    extra = [*SMALL] if command == "demo" else extra

    result = cmsf(command, "--store", "other.db", *extra, cwd=tmp_path)

    assert result.returncode == 2
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert _listing(tmp_path) == before


def test_a_new_store_is_marked_as_a_cmsf_store_of_this_schema(tmp_path: Path) -> None:
    """A created store carries the library's application id and schema version."""
    SqliteCrm(tmp_path / "cmsf.db").close()

    with closing(sqlite3.connect(tmp_path / "cmsf.db")) as db:
        marks = (
            db.execute("PRAGMA application_id").fetchone()[0],
            db.execute("PRAGMA user_version").fetchone()[0],
        )
    assert marks == (APPLICATION_ID, SCHEMA_VERSION)


def test_a_lazy_store_is_created_on_its_first_write_only(tmp_path: Path) -> None:
    """With lazy=True nothing appears until the first write; then a marked store does."""
    path = tmp_path / "lazy.db"
    with SqliteCrm(path, lazy=True) as crm:
        assert crm.record_count() == 0
        assert not path.exists()
        crm.add_person("jane@example.com", person_id="003A")
        assert path.exists()
    with SqliteCrm(path) as reopened:
        assert [
            p.person_id for p in reopened.find_people(["jane@example.com"])["jane@example.com"]
        ] == ["003A"]
    assert not list(tmp_path.glob(".*.creating"))


def test_a_missing_store_is_refused_when_creation_is_not_allowed(tmp_path: Path) -> None:
    """create=False: a missing file is NotAStoreError, and nothing is created."""
    with pytest.raises(NotAStoreError, match="does not exist"):
        SqliteCrm(tmp_path / "missing.db", create=False)
    assert not list(tmp_path.iterdir())


def test_a_dry_run_on_a_missing_store_leaves_no_file(tmp_path: Path) -> None:
    """`cmsf sync --dry-run` plans from an empty store and creates no file."""
    result = cmsf(
        "sync", "--store", "crm.db", "--platform", str(EXPORT), "--as-of", AS_OF, "--dry-run",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "records inserted" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_sync_refused_for_a_corrupt_export_leaves_no_file(tmp_path: Path) -> None:
    """A sync refused for unreadable platform data (exit 2) creates no store file."""
    export = tmp_path / "export"
    (export / "clients.json").parent.mkdir()
    (export / "clients.json").write_text('[{"ClientID": ', encoding="utf-8")

    result = cmsf(
        "sync", "--store", "crm.db", "--platform", str(export), "--as-of", AS_OF, cwd=tmp_path
    )

    assert result.returncode == 2
    assert not [p for p in tmp_path.iterdir() if p.name != "export"]


def test_a_store_left_by_a_killed_demo_does_not_block_the_next_demo(tmp_path: Path) -> None:
    """The demo's store is marked as demo-made from its first byte, so the file a demo
    killed right after creating it leaves behind is replaced by the next demo."""
    SqliteCrm(tmp_path / "cmsf.db", origin="created by cmsf demo").close()

    result = cmsf("demo", *SMALL, cwd=tmp_path)

    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- integrity


def _edit(path: Path, sql: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute(sql)
        db.commit()


_MEMBERS = "WHERE member_id IN (SELECT member_id FROM members LIMIT {})"

#: Edits behind the library's back: (SQL, table, column named in the error).
DAMAGE = {
    "engagement list of the wrong length": (
        "UPDATE members SET engagement = '[1, 2]' " + _MEMBERS.format("1"),
        "members",
        "engagement",
    ),
    "engagement that is not JSON": (
        "UPDATE members SET engagement = '{oops'",
        "members",
        "engagement",
    ),
    "a status that is not one of the campaign's": (
        "UPDATE members SET status = 42",
        "members",
        "status",
    ),
    "an unknown activity type": ("UPDATE records SET type = 'FORWARDED'", "records", "type"),
    "an instant out of range": (
        "UPDATE records SET occurred_at = 99999999999999999999",
        "records",
        "occurred_at",
    ),
    "an instant that is text": (
        "UPDATE records SET occurred_at = 'soon'",
        "records",
        "occurred_at",
    ),
    "a journal of the wrong shape": (
        "UPDATE checkpoints SET pending = '{}'",
        "checkpoints",
        "pending",
    ),
    "a watermark that is text": (
        "UPDATE checkpoints SET watermark = 'yesterday'",
        "checkpoints",
        "watermark",
    ),
    "a status set that is empty": ("UPDATE campaigns SET statuses = '[]'", "campaigns", "statuses"),
}


def _read_everything(crm: SqliteCrm) -> None:
    crm.all_records()
    crm.all_members()
    crm.campaigns()
    for (client_id,) in crm._db.execute("SELECT client_id FROM checkpoints"):
        crm.checkpoint(client_id)


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_row_edited_behind_the_librarys_back_is_named_on_read_and_by_check(
    case: str, tmp_path: Path
) -> None:
    """A bad value raises StoreCorruptError naming table and column (never a raw
    KeyError, JSONDecodeError, TypeError or OverflowError); `cmsf check` lists it, exit 1."""
    sql, table, column = DAMAGE[case]
    path = _synced_store(tmp_path)
    _edit(path, sql)

    with SqliteCrm(path) as crm, pytest.raises(StoreCorruptError) as raised:
        _read_everything(crm)
    result = cmsf("check", "--store", "crm.db", cwd=tmp_path)

    assert (raised.value.table, raised.value.column) == (table, column)
    assert f"table {table!r}" in str(raised.value)
    assert f"column {column!r}" in str(raised.value)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"table {table!r}" in result.stdout
    assert f"column {column!r}" in result.stdout


def test_a_dropped_table_is_a_store_error_not_a_traceback(tmp_path: Path) -> None:
    """A table dropped behind the library's back: StoreCorruptError on read, check exit 1."""
    path = _synced_store(tmp_path)
    _edit(path, "DROP TABLE records")

    with SqliteCrm(path) as crm, pytest.raises(StoreCorruptError, match="records"):
        crm.all_records()
    result = cmsf("check", "--store", "crm.db", cwd=tmp_path)

    assert result.returncode == 1
    assert "records" in result.stdout


def test_check_of_a_synced_store_finds_it_consistent(tmp_path: Path) -> None:
    """`cmsf check` on a store only the library wrote: exit 0, no problems."""
    _synced_store(tmp_path)

    result = cmsf("check", "--store", "crm.db", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "consistent" in result.stdout


def test_check_lists_rollups_that_disagree_with_the_records(tmp_path: Path) -> None:
    """A record deleted behind the library's back leaves its member's rollups wrong:
    check names the member (email masked) and the engagement column."""
    path = _synced_store(tmp_path)
    _edit(path, "DELETE FROM records WHERE id IN (SELECT id FROM records LIMIT 1)")

    with SqliteCrm(path) as crm:
        problems = crm.problems()

    assert [(p.table, p.column) for p in problems] == [("members", "engagement")]
    assert "***@" in problems[0].row


def test_a_full_sync_repairs_the_rows_it_loaded(tmp_path: Path) -> None:
    """Damaged records, members and journal rows are rebuilt by a full sync: check is
    clean again and the state equals the undamaged store's."""
    path = _synced_store(tmp_path)
    with SqliteCrm(path) as crm:
        expected = (sorted(map(repr, crm.all_records())), sorted(map(repr, crm.all_members())))
    _edit(
        path,
        "UPDATE records SET type = 'FORWARDED' WHERE id IN (SELECT id FROM records LIMIT 3)",
    )
    _edit(
        path,
        "UPDATE members SET engagement = '[1]' " + _MEMBERS.format("2"),
    )
    _edit(
        path,
        "UPDATE members SET status = 42 " + _MEMBERS.format("5, 1"),
    )
    _edit(path, "UPDATE checkpoints SET pending = 'nonsense'")

    full = cmsf(
        "sync", "--store", "crm.db", "--platform", str(EXPORT), "--as-of", AS_OF, "--full",
        "--settings", "settings.toml", cwd=tmp_path,
    )  # fmt: skip
    check = cmsf("check", "--store", "crm.db", cwd=tmp_path)

    assert full.returncode == 0, full.stderr
    assert check.returncode == 0, check.stdout
    with SqliteCrm(path) as crm:
        assert (
            sorted(map(repr, crm.all_records())),
            sorted(map(repr, crm.all_members())),
        ) == expected


def test_a_damaged_crm_row_is_not_dropped_by_a_full_sync(tmp_path: Path) -> None:
    """The CRM's own rows (campaigns, people) are never deleted: the full sync is refused
    with the row named, exit 2."""
    path = _synced_store(tmp_path)
    _edit(path, "UPDATE campaigns SET statuses = 'nonsense'")

    full = cmsf(
        "sync", "--store", "crm.db", "--platform", str(EXPORT), "--as-of", AS_OF, "--full",
        "--settings", "settings.toml", cwd=tmp_path,
    )  # fmt: skip

    assert full.returncode == 2
    assert "table 'campaigns'" in full.stderr
    assert "Traceback" not in full.stderr


# ----------------------------------------------------------------------------- last run


def test_the_store_remembers_the_settings_and_as_of_of_its_last_run(tmp_path: Path) -> None:
    """remember_run / last_run round-trip the settings (by product names) and the as-of."""
    settings = Settings.from_mapping({"Campaign_Member_Refresh": "Never", "DaysToKeep_Email": 9})
    as_of = datetime(2026, 3, 22, 9, tzinfo=UTC)
    with SqliteCrm(tmp_path / "cmsf.db") as crm:
        assert crm.last_run() is None
        crm.remember_run(settings, as_of)
    with SqliteCrm(tmp_path / "cmsf.db") as crm:
        assert crm.last_run() == (settings, as_of)


def test_damaged_remembered_settings_are_named(tmp_path: Path) -> None:
    """Remembered settings edited into nonsense: StoreCorruptError naming the meta row."""
    with SqliteCrm(tmp_path / "cmsf.db") as crm:
        crm.remember_run(Settings(), datetime(2026, 3, 22, tzinfo=UTC))
        crm.set_meta("last_run_settings", '{"DaysToKeep_Email": -1}')
        with pytest.raises(StoreCorruptError, match="meta"):
            crm.last_run()


@pytest.mark.slow
def test_diagnose_after_the_demo_agrees_with_the_demo(tmp_path: Path) -> None:
    """`cmsf diagnose --store cmsf.db`, the demo's suggested next step, flags as many
    members as the demo reported, under the demo's settings and as-of, and says so."""
    demo = cmsf("demo", *SMALL, "--days-to-keep", "5", cwd=tmp_path)
    diagnose = cmsf("diagnose", "--store", "cmsf.db", cwd=tmp_path)

    assert demo.returncode == 0, demo.stderr
    flagged = next(
        line for line in demo.stdout.splitlines() if line.startswith("Members that diagnose flags")
    ).split()[-1]
    assert diagnose.stdout.startswith(f"{flagged} of ")
    assert "the store's last run" in diagnose.stdout
    assert re.search(r"\(the store's last run, \d+ \w+ ago\)", diagnose.stdout)
    assert "(now 'Once Only')" in diagnose.stdout
    assert "DaysToKeep_Email = 5" in diagnose.stdout
    assert "DaysToKeep_Email = 5 (records purged after 5 days)" in demo.stdout


def test_diagnose_options_override_the_remembered_run(tmp_path: Path) -> None:
    """--settings and --as-of win over the store's last run, and the output says so."""
    demo = cmsf("demo", *SMALL, cwd=tmp_path)
    settings = tmp_path / "always.toml"
    settings.write_text('Campaign_Member_Refresh = "Always"\n', encoding="utf-8")
    diagnose = cmsf(
        "diagnose", "--store", "cmsf.db", "--settings", str(settings),
        "--as-of", "2026-03-12T09:00:00+00:00", cwd=tmp_path,
    )  # fmt: skip

    assert demo.returncode == 0, demo.stderr
    assert "Campaign_Member_Refresh = Always" in diagnose.stdout
    assert "(--as-of)" in diagnose.stdout


# ----------------------------------------------------------------------------- waiting


@pytest.mark.parametrize("wait", [-1, float("nan"), float("inf")])
def test_a_wait_that_is_not_a_number_of_seconds_is_refused(wait: float, tmp_path: Path) -> None:
    """SqliteCrm(wait=...) must be a finite number of seconds >= 0; nothing is created."""
    with pytest.raises(CmsfError, match="'wait' must be a number of seconds >= 0"):
        SqliteCrm(tmp_path / "cmsf.db", wait=wait)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_lock_wait_in_the_environment_is_refused_in_one_line(tmp_path: Path) -> None:
    """CMSF_LOCK_WAIT that is not a number of seconds: exit 2, the variable named."""
    result = subprocess.run(
        [sys.executable, "-m", "cmsf_core", "sync", "--store", "crm.db", "--platform",
         str(EXPORT), "--as-of", AS_OF],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "CMSF_LOCK_WAIT": "soon"},
    )  # fmt: skip

    assert result.returncode == 2
    assert "CMSF_LOCK_WAIT" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_campaign_row_read_before_is_read_again_once_it_changes(tmp_path: Path) -> None:
    """The store keeps the campaigns it read while their rows stay the same; a row damaged
    (or changed) behind its back is read again, and its damage named."""
    path = _synced_store(tmp_path)
    with SqliteCrm(path, create=False) as crm:
        first = crm.campaigns()
        assert crm.campaigns() == first
        crm._db.execute("UPDATE campaigns SET name = 'Renamed'")
        renamed = crm.campaigns()
        assert {c.name for c in renamed.values()} == {"Renamed"}
        assert renamed.keys() == first.keys()
        crm._db.execute("UPDATE campaigns SET statuses = 'nonsense'")
        with pytest.raises(StoreCorruptError, match="campaigns"):
            crm.campaigns()
