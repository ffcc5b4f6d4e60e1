"""The SQLite store: the CRM contract, a sync equal to the in-memory one, crash safety,
one writer at a time, and the migration of a store made by an earlier release."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from cmsf_core import Settings
from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.adapters.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteCrm
from cmsf_core.adapters.sqlite import store as sqlite_module
from cmsf_core.app.demo import build_platform
from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.field_mappings import CreatePerson
from cmsf_core.domain.records import Checkpoint, PersonKind
from cmsf_core.domain.subscribers import RecordKind
from cmsf_core.ports.crm import CrmStore, StoreBusyError, StoreError
from cmsf_core.ports.platform import EmailPlatform
from cmsf_core.shell.sync import run_sync
from cmsf_core.testing import CrmStoreContract


class TestSqliteCrm(CrmStoreContract):
    """SqliteCrm passes the CRM port's contract."""

    def make_crm(self) -> CrmStore:
        return SqliteCrm(":memory:")


def _seed(crm: InMemoryCrm | SqliteCrm) -> None:
    for n in (1, 2):
        crm.add_campaign(
            f"sf-cmp-{n}",
            f"Digest {n}",
            statuses=("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam"),
        )
        crm.link("client-1", f"cmp-{n}", f"sf-cmp-{n}")
    for i in range(0, 200, 3):
        crm.add_person(f"reader{i:05d}@example.com", person_id=f"003{i:05d}")


def _state(crm: InMemoryCrm | SqliteCrm) -> tuple[object, ...]:
    return (
        sorted(repr(a.key) for a in crm.all_records()),
        sorted(repr(m) for m in crm.all_members()),
        crm.checkpoint("client-1"),
    )


def test_a_sync_into_sqlite_reaches_the_in_memory_state(tmp_path: Path) -> None:
    """Day-by-day syncs of one history end in the same records, members and watermark in
    the SQLite store as in the in-memory CRM, and survive closing and reopening."""
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    settings = Settings(days_to_keep=7)
    memory, store = InMemoryCrm(), SqliteCrm(tmp_path / "cmsf.db")
    _seed(memory)
    _seed(store)
    platform = build_platform(recipients=200, campaigns=2)
    for day in range(1, 12):
        for crm in (memory, store):
            run_sync(crm, platform, settings, as_of=start + timedelta(days=day))
    store.close()

    with SqliteCrm(tmp_path / "cmsf.db") as reopened:
        assert _state(reopened) == _state(memory)
        assert reopened.record_count() > 0


_CHILD = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from cmsf_core import Activity, ActivityType
    from cmsf_core.adapters.sqlite import SqliteCrm

    crm = SqliteCrm(sys.argv[1])
    at = datetime(2026, 3, 2, tzinfo=UTC)
    records = [
        Activity("cmp-1", f"r{i}@example.com", ActivityType.OPENED, at, email=f"r{i}@example.com")
        for i in range(int(sys.argv[2]))
    ]
    print("writing", flush=True)
    crm.insert_records(records)
    print("done", flush=True)
    """
)


def test_a_killed_writer_leaves_a_bulk_write_whole_or_absent(tmp_path: Path) -> None:
    """A process killed in the middle of a bulk insert leaves none or all of its records."""
    path = tmp_path / "crash.db"
    count = 150_000
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "writing"
    time.sleep(0.2)
    child.kill()
    child.wait(timeout=30)
    rest = child.stdout.read()
    child.stdout.close()

    assert "done" not in rest, "the write finished before the kill: raise the count"
    with SqliteCrm(path) as crm:
        assert crm.record_count() in (0, count)


#: A store as the first release created it: no mark, no account column.
_OLD_STORE = """
CREATE TABLE records (key TEXT PRIMARY KEY, client_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL, member_id TEXT NOT NULL, type TEXT NOT NULL,
    occurred_at INTEGER NOT NULL, email TEXT, list_id TEXT, detail TEXT,
    occurrence INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE members (campaign_id TEXT NOT NULL, member_id TEXT NOT NULL,
    crm_campaign_id TEXT NOT NULL, email TEXT NOT NULL, person_id TEXT, status TEXT,
    activity TEXT, activity_date INTEGER, engagement TEXT NOT NULL,
    PRIMARY KEY (campaign_id, member_id)) WITHOUT ROWID;
CREATE TABLE people (
    person_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    email_opt_out INTEGER NOT NULL
);
CREATE INDEX people_by_email ON people (email_key);
CREATE TABLE campaigns (campaign_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    statuses TEXT NOT NULL, created_by_integration INTEGER NOT NULL, statistics TEXT);
CREATE TABLE links (platform_campaign_id TEXT PRIMARY KEY, client_id TEXT NOT NULL,
    crm_campaign_id TEXT NOT NULL);
CREATE TABLE checkpoints (client_id TEXT PRIMARY KEY, watermark INTEGER,
    pending TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO people VALUES ('003OLD', 'Contact', 'Old@Example.com', 'old@example.com', 0, 1);
"""


def test_a_store_made_before_accounts_is_migrated_when_opened(tmp_path: Path) -> None:
    """An unmarked store of the first release (no account column) opens: it is marked,
    its contacts are kept (with no account), contacts with accounts can be added, and
    reopening is a no-op."""
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(_OLD_STORE)
        db.commit()

    with SqliteCrm(path) as crm:
        (old,) = crm.find_people(["old@example.com"])["old@example.com"]
        assert (old.person_id, old.email, old.email_opt_out, old.account_id) == (
            "003OLD",
            "Old@Example.com",
            True,
            None,
        )
        crm.add_person("new@example.com", person_id="003NEW", account_id="001A")
        assert [p.person_id for p in crm.contacts_of_accounts(["001A"])["001A"]] == ["003NEW"]

    with SqliteCrm(path) as reopened:
        assert [p.person_id for p in reopened.contacts_of_accounts(["001A"])["001A"]] == ["003NEW"]
        assert reopened.find_people(["old@example.com"])["old@example.com"][0] == old
    with closing(sqlite3.connect(path)) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(people)")]
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        marks = (
            db.execute("PRAGMA application_id").fetchone()
            + db.execute("PRAGMA user_version").fetchone()
        )
    assert columns[-1] == "account_id"
    assert "people_by_account" in indexes
    assert marks == (APPLICATION_ID, SCHEMA_VERSION)


def test_opening_a_current_store_writes_nothing(tmp_path: Path) -> None:
    """Once migrated, opening the store again changes nothing in it."""
    path = tmp_path / "cmsf.db"
    SqliteCrm(path).close()
    with closing(sqlite3.connect(path)) as db:
        before = db.execute("PRAGMA schema_version").fetchone()

    SqliteCrm(path).close()

    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA schema_version").fetchone() == before


def test_a_lead_with_an_account_is_refused() -> None:
    """Leads have no account: seeding one with an account names the field."""
    crm = SqliteCrm(":memory:")

    with pytest.raises(InvalidValueError, match="account_id"):
        crm.add_person("ann@example.com", person_id="00QA", kind=PersonKind.LEAD, account_id="001A")


def test_a_contact_moved_to_another_account_is_found_there_only() -> None:
    """Adding a person again replaces it: the contact leaves its old account."""
    crm = SqliteCrm(":memory:")
    crm.add_person("ann@example.com", person_id="003A", account_id="001A")

    crm.add_person("ann@example.com", person_id="003A", account_id="001B")

    assert list(crm.contacts_of_accounts(["001A", "001B"])) == ["001B"]


# ------------------------------------------------------------------ seeding, in both stores

_STORES = {"in memory": InMemoryCrm, "sqlite": lambda: SqliteCrm(":memory:")}


@pytest.mark.parametrize("make", list(_STORES.values()), ids=list(_STORES))
def test_an_empty_person_id_is_refused_and_a_missing_one_is_numbered(
    make: Any,
) -> None:
    """Both stores seed people alike: no ``person_id`` numbers the person after those
    held; an empty one is refused (a person's id is never empty), and nothing is added."""
    crm = make()
    crm.add_person("ann@example.com", person_id="003A")

    with pytest.raises(InvalidValueError, match="person_id") as refused:
        crm.add_person("bob@example.com", person_id="")
    lead = crm.add_person("bob@example.com", kind=PersonKind.LEAD)

    assert "a non-empty string" in str(refused.value)
    assert lead.person_id == "L000002"
    assert [p.person_id for p in crm.find_people(["bob@example.com"])["bob@example.com"]] == [
        "L000002"
    ]


@pytest.mark.parametrize("make", list(_STORES.values()), ids=list(_STORES))
def test_a_link_to_a_campaign_not_added_is_refused_in_both_stores(make: Any) -> None:
    """A hand-made link needs its CRM campaign first; with it, the link is kept."""
    crm = make()

    with pytest.raises(InvalidValueError, match="a CRM campaign added first"):
        crm.link("client-1", "cmp-1", "sf-cmp-1")
    crm.add_campaign("sf-cmp-1", "Digest", statuses=("Sent", "Opened"), default="Opened")
    crm.link("client-1", "cmp-1", "sf-cmp-1")

    assert crm.campaigns()["sf-cmp-1"].default_status == "Opened"
    assert crm.links()["cmp-1"].crm_campaign_id == "sf-cmp-1"


# ----------------------------------------------------------------------------- one writer

_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class _Hooked:
    """A platform that runs ``hook`` the first time the sync asks for ``method``."""

    def __init__(self, platform: Any, method: str, hook: Any) -> None:
        self._platform = platform
        self._method = method
        self._hook = hook

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._platform, name)
        if name != self._method or self._hook is None:
            return found
        hook, self._hook = self._hook, None

        def call(*args: Any, **kwargs: Any) -> Any:
            hook()
            return found(*args, **kwargs)

        return call


def test_a_sync_started_while_another_reads_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    """While one sync reads the platform, a second sync of the same store (another
    connection, no wait) raises StoreBusyError; the first ends as a sync alone does."""
    path = tmp_path / "cmsf.db"
    platform = build_platform(recipients=60, campaigns=2)
    settings = Settings(days_to_keep=7)
    alone = InMemoryCrm()
    _seed(alone)
    run_sync(alone, platform, settings, as_of=_START + timedelta(days=9))
    refused: list[BaseException] = []
    with SqliteCrm(path) as first, SqliteCrm(path) as second:
        _seed(first)

        def second_sync() -> None:
            try:
                run_sync(second, platform, settings, as_of=_START + timedelta(days=9), wait=0)
            except StoreBusyError as error:
                refused.append(error)

        hooked = cast(EmailPlatform, _Hooked(platform, "sent_campaigns", second_sync))
        run_sync(first, hooked, settings, as_of=_START + timedelta(days=9))

        assert len(refused) == 1
        assert "another sync holds store" in str(refused[0])
        assert _state(first) == _state(alone)


def test_syncs_of_one_store_from_two_threads_at_the_same_as_of_both_succeed(
    tmp_path: Path,
) -> None:
    """Two syncs at the same --as-of, each on its own connection, wait their turn: both
    succeed (never the watermark error) and the store equals one sync's."""
    path = tmp_path / "cmsf.db"
    platform = build_platform(recipients=60, campaigns=2)
    settings = Settings(days_to_keep=7)
    with SqliteCrm(path) as crm:
        _seed(crm)
    alone = InMemoryCrm()
    _seed(alone)
    run_sync(alone, platform, settings, as_of=_START + timedelta(days=9))
    errors: list[BaseException] = []

    def sync(full: bool) -> None:
        try:
            with SqliteCrm(path) as crm:
                run_sync(crm, platform, settings, as_of=_START + timedelta(days=9), full=full)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sync, args=(full,)) for full in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with SqliteCrm(path) as crm:
        assert _state(crm) == _state(alone)


def test_the_in_memory_store_admits_one_sync_at_a_time() -> None:
    """While a sync holds the in-memory store, another raises StoreBusyError."""
    crm = InMemoryCrm()
    platform = build_platform(recipients=20, campaigns=1)
    with crm.sync_lock(), pytest.raises(StoreBusyError, match="another sync"):
        run_sync(crm, platform, Settings(), as_of=_START + timedelta(days=2), wait=0)
    assert run_sync(crm, platform, Settings(), as_of=_START + timedelta(days=2)).applied


def test_a_sync_failing_part_way_keeps_its_earlier_steps_and_a_rerun_converges(
    tmp_path: Path,
) -> None:
    """An error after the records are written (in the subscriber part) leaves the steps
    before it committed and the watermark unmoved, as before the writer lock; the next
    sync converges to the state of an undisturbed one."""
    path = tmp_path / "cmsf.db"
    platform = build_platform(recipients=60, campaigns=2)
    settings = Settings(days_to_keep=7)
    as_of = _START + timedelta(days=9)
    alone = InMemoryCrm()
    _seed(alone)
    run_sync(alone, platform, settings, as_of=as_of)

    def fail() -> None:
        raise RuntimeError("the platform went away")

    with SqliteCrm(path) as crm:
        _seed(crm)
        broken = cast(EmailPlatform, _Hooked(platform, "subscriber_changes", fail))
        with pytest.raises(RuntimeError, match="went away"):
            run_sync(crm, broken, settings, as_of=as_of)
        assert crm.record_count() == alone.record_count()
        assert crm.checkpoint("client-1").watermark is None
        run_sync(crm, platform, settings, as_of=as_of)
        assert _state(crm) == _state(alone)


def test_two_lazy_stores_racing_to_create_one_file_let_the_second_retry(
    tmp_path: Path,
) -> None:
    """Two lazy stores of one missing path: the first write creates it; the other's
    first write raises StoreBusyError (it read an empty store) and writes nothing."""
    path = tmp_path / "cmsf.db"
    with SqliteCrm(path, lazy=True) as first, SqliteCrm(path, lazy=True) as second:
        first.add_person("jane@example.com", person_id="003A")
        with pytest.raises(StoreBusyError, match="created store"):
            second.add_person("joe@example.com", person_id="003B")
    with SqliteCrm(path) as crm:
        assert crm.find_people(["joe@example.com"]) == {}
    assert not list(tmp_path.glob(".*.creating"))


def test_only_the_store_that_created_the_file_says_it_made_it(tmp_path: Path) -> None:
    """``made_here`` is true for the lazy store whose first write made the file, and false
    for the one that lost the race and for a store opened later."""
    path = tmp_path / "cmsf.db"
    with SqliteCrm(path, lazy=True) as first, SqliteCrm(path, lazy=True) as second:
        assert not first.made_here
        first.add_person("jane@example.com", person_id="003A")
        assert first.made_here
        with pytest.raises(StoreBusyError):
            second.add_person("joe@example.com", person_id="003B")
        assert not second.made_here
    with SqliteCrm(path) as later:
        assert not later.made_here


def test_a_sync_that_loses_the_race_to_create_a_store_never_removes_it(tmp_path: Path) -> None:
    """Two first syncs of a missing store: the one refused because the other created the
    file meanwhile leaves that file in place (it removes only a store it made itself)."""
    from cmsf_core.app.cli import store as cli  # noqa: PLC0415 - the command's own clean-up

    path = tmp_path / "cmsf.db"
    with SqliteCrm(path, lazy=True) as loser, SqliteCrm(path, lazy=True) as winner:
        winner.add_person("jane@example.com", person_id="003A")
        with pytest.raises(StoreBusyError), cli._removed_on_failure(loser):
            loser.add_person("joe@example.com", person_id="003B")
    assert path.exists()
    with SqliteCrm(path) as crm:
        assert set(crm.find_people(["jane@example.com"])) == {"jane@example.com"}
    made = tmp_path / "made.db"

    def fail_after_creating(crm: SqliteCrm) -> None:
        with cli._removed_on_failure(crm):
            crm.add_person("ann@example.com", person_id="003C")
            raise RuntimeError("the sync failed after creating its store")

    with SqliteCrm(made, lazy=True) as crm, pytest.raises(RuntimeError, match="failed after"):
        fail_after_creating(crm)
    assert not made.exists()


#: The records table of schema 1 (keyed by its key's JSON text) and its three indexes.
_SCHEMA_1_RECORDS = """
ALTER TABLE people ADD COLUMN account_id TEXT;
CREATE INDEX people_by_account ON people (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX records_by_member ON records (campaign_id, member_id);
CREATE INDEX records_by_client ON records (client_id);
CREATE INDEX records_by_time ON records (type, occurred_at);
CREATE TABLE platform_campaigns (campaign_id TEXT PRIMARY KEY, client_id TEXT NOT NULL,
    name TEXT NOT NULL, sent_at INTEGER NOT NULL, tags TEXT NOT NULL, subject TEXT NOT NULL);
INSERT INTO meta VALUES ('email_key', 'nfc-lower');
"""


def _schema_1_key(activity: Activity) -> str:
    """The records' primary key as schema 1 wrote it: the key's parts as compact JSON."""
    key = activity.key
    parts = [key.client_id, key.campaign_id, key.type.name, key.subject, key.list_id]
    return json.dumps([*parts, key.minute, key.detail, key.occurrence], separators=(",", ":"))


def _history() -> list[Activity]:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    return [
        Activity("cmp-1", "ann@example.com", ActivityType.SENT, at, client_id="c-1"),
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
        Activity("cmp-2", "m-42", ActivityType.BOUNCED, at, client_id="c-2", detail="Hard"),
    ]


def test_a_store_of_schema_1_is_migrated_and_reads_the_same_records(tmp_path: Path) -> None:
    """A marked store of schema 1 (records keyed by JSON text, an index by client) opens
    as the current schema in one step: the same records are read back, found and deleted by key,
    and inserting them again writes nothing."""
    path = tmp_path / "v1.db"
    records = _history()
    with closing(sqlite3.connect(path)) as db:
        db.executescript(_OLD_STORE + _SCHEMA_1_RECORDS)
        db.executemany(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    _schema_1_key(a),
                    a.client_id,
                    a.campaign_id,
                    a.member_id,
                    a.type.name,
                    (a.occurred_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
                    a.email,
                    a.list_id,
                    a.detail,
                    a.occurrence,
                )
                for a in records
            ],
        )
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
        db.commit()

    with SqliteCrm(path) as crm:
        assert set(crm.all_records()) == set(records)
        assert set(crm.existing_keys([a.key for a in records])) == {a.key for a in records}
        assert crm.insert_records(records).written == 0
        assert set(crm.records_of_clients(["c-2"])) == {records[2]}
        assert crm.delete_records([records[0].key]).written == 1
        assert crm.problems() == []
    with closing(sqlite3.connect(path)) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(records)")]
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        version = db.execute("PRAGMA user_version").fetchone()[0]
    assert (columns[:2], version) == (["member", "id"], SCHEMA_VERSION)
    assert not {"records_by_client", "records_by_member", "records_schema_1"} & names
    assert {"records_by_id", "records_by_time", "record_members"} <= names


def test_two_keys_of_one_digest_are_refused_and_never_confused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When two record keys share a row id (forced here), the second insert raises
    StoreError and writes nothing, and lookups and deletes by key never take one
    record for the other."""
    monkeypatch.setattr(sqlite_module, "_record_id", lambda _key: 7)
    first, second, third = _history()
    crm = SqliteCrm(":memory:")
    assert crm.insert_records([first]).written == 1

    with pytest.raises(StoreError, match="share the 64-bit digest 7"):
        crm.insert_records([third, second])
    with pytest.raises(StoreError, match="nothing was written"):
        crm.insert_records([second, third])
    with pytest.raises(StoreError, match="share the 64-bit digest 7"):
        crm.insert_records([second])

    assert crm.all_records() == (first,)
    assert list(crm.existing_keys([second.key, third.key])) == []
    assert crm.delete_records([second.key]).written == 0
    assert crm.all_records() == (first,)


def test_people_created_by_a_field_mapping_are_one_write_of_the_store(tmp_path: Path) -> None:
    """Creating contacts is a write like any other: a step of a sync holding the store,
    and the first write of a lazy store, which it creates on disk and keeps."""
    created = CreatePerson(
        RecordKind.CONTACT,
        "zed@example.com",
        "list-1",
        {"Email": "zed@example.com", "LastName": "Zed"},
    )
    held = SqliteCrm(":memory:")
    with held.sync_lock():
        assert held.create_people([created]).written == 1
    path = tmp_path / "lazy.db"
    with SqliteCrm(path, lazy=True) as lazy:
        assert lazy.create_people([created]).written == 1

    assert [p.email for p in held.find_people(["zed@example.com"])["zed@example.com"]] == [
        "zed@example.com"
    ]
    with SqliteCrm(path) as reopened:
        assert list(reopened.find_people(["zed@example.com"])) == ["zed@example.com"]


@pytest.mark.parametrize("make", list(_STORES.values()), ids=list(_STORES))
def test_a_watermark_cleared_over_a_stored_one_is_refused_in_both_stores(make: Any) -> None:
    """A watermark never goes back, nor away: saving none over a stored one is refused
    and the stored one stays."""
    crm = make()
    crm.save_checkpoints([Checkpoint("client-1", _START)])

    with pytest.raises(InvalidValueError, match="watermark"):
        crm.save_checkpoints([Checkpoint("client-1", None)])
    assert crm.checkpoint("client-1").watermark == _START
