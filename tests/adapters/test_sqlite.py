"""The SQLite store: the CRM contract, a sync equal to the in-memory one, crash safety,
and the migration of a store made by an earlier release."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmsf_core import Settings
from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.adapters.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteCrm
from cmsf_core.demo import build_platform
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.records import PersonKind
from cmsf_core.ports.crm import CrmStore
from cmsf_core.sync import run_sync
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
    from cmsf_core.adapters.sqlite import APPLICATION_ID, SCHEMA_VERSION, SqliteCrm

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
