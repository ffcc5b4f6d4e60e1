"""The embedded default store: the CRM port on a SQLite file (stdlib ``sqlite3``).

Every write method is one transaction, so a crash (or a killed process) leaves each
bulk write either wholly applied or not at all; the sync's journal covers the gaps
between writes.  Instants are stored as integer microseconds since the Unix epoch (UTC),
record keys as their JSON text.  Indexes follow the port's reads: records by member, by
client and by (type, time) for the retention purge.

    >>> from cmsf_core.adapters.sqlite import SqliteCrm
    >>> crm = SqliteCrm(":memory:")
    >>> crm.record_count()
    0
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import attrs

from cmsf_core.adapters.crm_fields import (
    creation_problem,
    decode_value,
    encode_value,
    field_problem,
)
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.field_mappings import CreatePerson, CrmValue, FieldUpdate
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records import (
    CampaignLink,
    CampaignSummary,
    Checkpoint,
    CrmCampaign,
    MemberRecord,
    MemberRef,
    MemberStatus,
    Person,
    PersonKind,
    PlatformCampaign,
    WriteResult,
    normalise_email,
)
from cmsf_core.domain.status import RefreshCause
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    OptOutChange,
    RecordKind,
    RemoveSuppressionRecord,
    SuppressionRecord,
    UpdateSuppressionRecord,
    email_key,
)
from cmsf_core.ports.crm import CrmStore

__all__ = ["SqliteCrm"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_CHUNK = 500  # bound parameters per IN (...) query, well under SQLite's limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    type TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    email TEXT,
    list_id TEXT,
    detail TEXT,
    occurrence INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_by_member ON records (campaign_id, member_id);
CREATE INDEX IF NOT EXISTS records_by_client ON records (client_id);
CREATE INDEX IF NOT EXISTS records_by_time ON records (type, occurred_at);
CREATE TABLE IF NOT EXISTS members (
    campaign_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    crm_campaign_id TEXT NOT NULL,
    email TEXT NOT NULL,
    person_id TEXT,
    status TEXT,
    activity TEXT,
    activity_date INTEGER,
    engagement TEXT NOT NULL,
    PRIMARY KEY (campaign_id, member_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_unmatched ON members (person_id) WHERE person_id IS NULL;
CREATE TABLE IF NOT EXISTS people (
    person_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    email_opt_out INTEGER NOT NULL,
    account_id TEXT
);
CREATE INDEX IF NOT EXISTS people_by_email ON people (email_key);
CREATE TABLE IF NOT EXISTS campaigns (
    campaign_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    statuses TEXT NOT NULL,
    created_by_integration INTEGER NOT NULL,
    statistics TEXT
);
CREATE TABLE IF NOT EXISTS links (
    platform_campaign_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    crm_campaign_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS platform_campaigns (
    campaign_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    tags TEXT NOT NULL,
    subject TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    client_id TEXT PRIMARY KEY,
    watermark INTEGER,
    pending TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppression_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    reason TEXT NOT NULL,
    suppressed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    record TEXT,
    guidance TEXT NOT NULL,
    occurred_at INTEGER NOT NULL
);
"""

#: Columns added after a store's first release: (table, column, declaration).  A store
#: created before one of them is migrated when it is opened (``ALTER TABLE ... ADD``).
_ADDED_COLUMNS = (("people", "account_id", "TEXT"),)
#: The index on the added columns, created once they exist.
_ADDED_INDEX_NAME = "people_by_account"
_ADDED_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {_ADDED_INDEX_NAME} ON people (account_id) "
    "WHERE account_id IS NOT NULL"
)
#: ``meta`` entry naming the form of ``people.email_key`` (see :meth:`SqliteCrm._rekey_people`).
_EMAIL_KEY_META = "email_key"
_EMAIL_KEY_FORM = "nfc-lower"
_PEOPLE_COLUMNS = "person_id, kind, email, email_key, last_modified, email_opt_out, account_id"


def _to_int(at: datetime) -> int:
    return (at - _EPOCH) // _MICRO


def _to_dt(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _key_text(key: ActivityKey) -> str:
    return json.dumps(
        [
            key.client_id,
            key.campaign_id,
            key.type.name,
            key.subject,
            key.list_id,
            key.minute,
            key.detail,
            key.occurrence,
        ],
        separators=(",", ":"),
    )


T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


_RECORD_COLUMNS = (
    "client_id, campaign_id, member_id, type, occurred_at, email, list_id, detail, occurrence"
)


def _activity(row: tuple[Any, ...]) -> Activity:
    client_id, campaign_id, member_id, type_name, at, email, list_id, detail, occurrence = row
    return Activity(
        str(campaign_id),
        str(member_id),
        ActivityType[str(type_name)],
        _to_dt(int(at)),
        client_id=str(client_id),
        email=email if email is None else str(email),
        list_id=list_id if list_id is None else str(list_id),
        detail=detail if detail is None else str(detail),
        occurrence=int(occurrence),
    )


def _person(row: tuple[Any, ...]) -> Person:
    person_id, kind, email, _key, modified, opt_out, account_id = row
    return Person(
        str(person_id),
        PersonKind(kind),
        str(email),
        _to_dt(int(modified)),
        email_opt_out=bool(opt_out),
        account_id=None if account_id is None else str(account_id),
    )


def _engagement_json(engagement: Engagement) -> str:
    return json.dumps(attrs.astuple(engagement))


@attrs.define
class SqliteCrm(CrmStore):
    """The CRM port on a SQLite database file (``":memory:"`` for a throwaway store).

    Seeding helpers mirror :class:`~cmsf_core.adapters.memory.InMemoryCrm`'s.  Close it
    with :meth:`close` (or use it as a context manager).
    """

    path: str | Path
    _db: sqlite3.Connection = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._db = sqlite3.connect(str(self.path), isolation_level=None)
        if str(self.path) != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._migrate()
        self._rekey_people()

    def _migrate(self) -> None:
        """Bring a store made by an earlier release up to the current schema.  Nothing is
        written when it is current; otherwise one transaction adds what is missing,
        checking again inside it (another process may have just done it)."""
        if self._schema_is_current():
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for table, column, declaration in _ADDED_COLUMNS:
                if column not in self._columns(table):
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            db.execute(_ADDED_INDEX)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _rekey_people(self) -> None:
        """Re-key the people of a store saved when emails were compared casefolded (before
        DESIGN §8's trimmed, NFC, lower-cased form), once: ``meta.email_key`` records it."""
        db = self._db
        done = db.execute("SELECT value FROM meta WHERE key = ?", (_EMAIL_KEY_META,)).fetchone()
        if done is not None and done[0] == _EMAIL_KEY_FORM:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = db.execute("SELECT person_id, email, email_key FROM people").fetchall()
            db.executemany(
                "UPDATE people SET email_key = ? WHERE person_id = ?",
                [(email_key(e), pid) for pid, e, key in rows if email_key(e) != key],
            )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", (_EMAIL_KEY_META, _EMAIL_KEY_FORM)
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _columns(self, table: str) -> set[str]:
        return {str(row[1]) for row in self._db.execute(f"PRAGMA table_info({table})")}

    def _schema_is_current(self) -> bool:
        if any(column not in self._columns(table) for table, column, _ in _ADDED_COLUMNS):
            return False
        (indexed,) = self._db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
            (_ADDED_INDEX_NAME,),
        ).fetchone()
        return bool(indexed)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> SqliteCrm:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _write(self, sql: str, rows: Iterable[Sequence[object]]) -> int:
        """Run one statement over many rows in one transaction; return the rows changed."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            before = db.total_changes
            db.executemany(sql, rows)
            changed = db.total_changes - before
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return changed

    # -- seeding ---------------------------------------------------------------------

    def add_person(
        self,
        email: str,
        *,
        person_id: str | None = None,
        kind: PersonKind = PersonKind.CONTACT,
        last_modified: datetime | None = None,
        email_opt_out: bool = False,
        account_id: str | None = None,
    ) -> Person:
        """Add (or replace) a contact or lead; ``account_id`` is a contact's account
        (a lead has none)."""
        if person_id is None:
            (count,) = self._db.execute("SELECT count(*) FROM people").fetchone()
            person_id = f"{kind.value[0]}{count + 1:06d}"
        person = Person(
            person_id,
            kind,
            email,
            last_modified or datetime(2000, 1, 1, tzinfo=UTC),
            email_opt_out=email_opt_out,
            account_id=account_id,
        )
        self._write(
            f"INSERT OR REPLACE INTO people ({_PEOPLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    person.person_id,
                    person.kind.value,
                    person.email,
                    normalise_email(person.email),
                    _to_int(person.last_modified),
                    int(person.email_opt_out),
                    person.account_id,
                )
            ],
        )
        return person

    def add_campaign(
        self,
        campaign_id: str,
        name: str,
        *,
        statuses: Iterable[str | MemberStatus] = ("Sent", "Responded"),
        default: str | None = None,
        responded: Iterable[str] = ("Responded",),
    ) -> CrmCampaign:
        """Add a CRM campaign; plain labels become statuses (the first is the default)."""
        campaign = CrmCampaign.from_labels(
            campaign_id, name, statuses, default=default, responded=responded
        )
        self._save_campaign(campaign, replace=True)
        return campaign

    def link(self, client_id: str, platform_campaign_id: str, crm_campaign_id: str) -> None:
        """Link a platform campaign to an existing CRM campaign by hand."""
        if crm_campaign_id not in self.campaigns():
            raise InvalidValueError(
                "crm_campaign_id", "a CRM campaign added first", crm_campaign_id
            )
        self._write(
            "INSERT OR REPLACE INTO links VALUES (?, ?, ?)",
            [(platform_campaign_id, client_id, crm_campaign_id)],
        )

    def get_meta(self, key: str) -> str | None:
        """A value of the store's own metadata (which tool made it, ...)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the store's own metadata."""
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(key, value)])

    # -- inspection --------------------------------------------------------------------

    def record_count(self) -> int:
        """How many tracking records are stored."""
        (count,) = self._db.execute("SELECT count(*) FROM records").fetchone()
        return int(count)

    def all_records(self) -> tuple[Activity, ...]:
        """Every stored tracking record."""
        return tuple(
            _activity(row) for row in self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM records")
        )

    def all_members(self) -> tuple[MemberRecord, ...]:
        """Every campaign member."""
        return tuple(self._member(row) for row in self._db.execute("SELECT * FROM members"))

    def member(self, campaign_id: str, email: str) -> MemberRecord | None:
        """The member of a platform campaign with that email, if any."""
        return self.members([MemberRef(campaign_id, normalise_email(email))]).get(
            MemberRef(campaign_id, normalise_email(email))
        )

    # -- reads -------------------------------------------------------------------------

    def checkpoint(self, client_id: str) -> Checkpoint:
        row = self._db.execute(
            "SELECT watermark, pending FROM checkpoints WHERE client_id = ?", (client_id,)
        ).fetchone()
        if row is None:
            return Checkpoint(client_id)
        watermark, pending = row
        return Checkpoint(
            client_id,
            None if watermark is None else _to_dt(watermark),
            [((ref[0], ref[1]), RefreshCause(cause)) for ref, cause in json.loads(pending)],
        )

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        found = {}
        for campaign_id, name, statuses, created, statistics in self._db.execute(
            "SELECT * FROM campaigns"
        ):
            found[campaign_id] = CrmCampaign(
                campaign_id,
                name,
                tuple(
                    MemberStatus(label, is_default=d, has_responded=r, sort_order=o)
                    for label, d, r, o in json.loads(statuses)
                ),
                created_by_integration=bool(created),
                statistics=None
                if statistics is None
                else CampaignSummary(**json.loads(statistics)),
            )
        return found

    def links(self) -> Mapping[str, CampaignLink]:
        return {
            pid: CampaignLink(cid, pid, crm_id)
            for pid, cid, crm_id in self._db.execute("SELECT * FROM links")
        }

    def platform_campaigns(self) -> Mapping[str, PlatformCampaign]:
        return {
            campaign_id: PlatformCampaign(
                client_id, campaign_id, name, _to_dt(sent_at), json.loads(tags), subject=subject
            )
            for campaign_id, client_id, name, sent_at, tags, subject in self._db.execute(
                "SELECT * FROM platform_campaigns"
            )
        }

    def _member(self, row: tuple[Any, ...]) -> MemberRecord:
        (
            campaign_id,
            member_id,
            crm_campaign_id,
            email,
            person_id,
            status,
            activity,
            activity_date,
            engagement,
        ) = row
        member = CampaignMember(
            str(campaign_id),
            str(member_id),
            status=status,
            activity=None if activity is None else ActivityType[str(activity)],
            activity_date=None if activity_date is None else _to_dt(int(activity_date)),
            engagement=Engagement(*json.loads(str(engagement))),
        )
        return MemberRecord(
            str(crm_campaign_id),
            member,
            str(email),
            None if person_id is None else str(person_id),
        )

    def members(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, MemberRecord]:
        found: dict[MemberRef, MemberRecord] = {}
        wanted = list(refs)
        for chunk in _chunks(wanted):
            clause = " OR ".join(["(campaign_id = ? AND member_id = ?)"] * len(chunk))
            params = [part for ref in chunk for part in ref]
            for row in self._db.execute(f"SELECT * FROM members WHERE {clause}", params):
                record = self._member(row)
                found[record.ref] = record
        return found

    def members_of(self, campaign_ids: Collection[str]) -> Sequence[MemberRecord]:
        found: list[MemberRecord] = []
        for chunk in _chunks(list(campaign_ids)):
            marks = ",".join("?" * len(chunk))
            found.extend(
                self._member(row)
                for row in self._db.execute(
                    f"SELECT * FROM members WHERE campaign_id IN ({marks})", list(chunk)
                )
            )
        return found

    def unmatched_members(self) -> Sequence[MemberRecord]:
        return [
            self._member(row)
            for row in self._db.execute("SELECT * FROM members WHERE person_id IS NULL")
        ]

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        grouped: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        for chunk in _chunks(list(refs)):
            clause = " OR ".join(["(campaign_id = ? AND member_id = ?)"] * len(chunk))
            params = [part for ref in chunk for part in ref]
            for row in self._db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM records WHERE {clause}", params
            ):
                activity = _activity(row)
                grouped[MemberRef(activity.campaign_id, activity.member_id)].append(activity)
        return {ref: tuple(found) for ref, found in grouped.items()}

    def records_of_clients(self, client_ids: Collection[str]) -> Iterable[Activity]:
        found: list[Activity] = []
        for chunk in _chunks(list(client_ids)):
            marks = ",".join("?" * len(chunk))
            found.extend(
                _activity(row)
                for row in self._db.execute(
                    f"SELECT {_RECORD_COLUMNS} FROM records WHERE client_id IN ({marks})",
                    list(chunk),
                )
            )
        return found

    def existing_keys(self, keys: Collection[ActivityKey]) -> Collection[ActivityKey]:
        by_text = {_key_text(k): k for k in keys}
        texts = list(by_text)
        found: set[ActivityKey] = set()
        for chunk in _chunks(texts):
            marks = ",".join("?" * len(chunk))
            found.update(
                by_text[text]
                for (text,) in self._db.execute(
                    f"SELECT key FROM records WHERE key IN ({marks})", list(chunk)
                )
            )
        return found

    def expired_records(self, cutoffs: Mapping[ActivityType, datetime]) -> Sequence[Activity]:
        found: list[Activity] = []
        for activity_type, cutoff in cutoffs.items():
            limit = _to_int(cutoff) if cutoff.year < 9999 else 2**62
            found.extend(
                _activity(row)
                for row in self._db.execute(
                    f"SELECT {_RECORD_COLUMNS} FROM records WHERE type = ? AND occurred_at < ?",
                    (activity_type.name, limit),
                )
            )
        return found

    def find_people(self, emails: Collection[str]) -> Mapping[str, tuple[Person, ...]]:
        keys = sorted({normalise_email(e) for e in emails})
        grouped: defaultdict[str, list[Person]] = defaultdict(list)
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT {_PEOPLE_COLUMNS} FROM people WHERE email_key IN ({marks}) "
                "ORDER BY person_id",
                list(chunk),
            ):
                grouped[str(row[3])].append(_person(row))
        return {key: tuple(people) for key, people in grouped.items()}

    def contacts_of_accounts(
        self, account_ids: Collection[str]
    ) -> Mapping[str, tuple[Person, ...]]:
        grouped: defaultdict[str, list[Person]] = defaultdict(list)
        for chunk in _chunks(sorted(set(account_ids))):
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT {_PEOPLE_COLUMNS} FROM people "
                f"WHERE account_id IN ({marks}) AND kind = ? ORDER BY person_id",
                [*chunk, PersonKind.CONTACT.value],
            ):
                grouped[str(row[6])].append(_person(row))
        return {account: tuple(people) for account, people in grouped.items()}

    def suppression_records(self) -> Sequence[SuppressionRecord]:
        return [
            SuppressionRecord(record_id, email, reason, _to_dt(at))
            for record_id, email, reason, at in self._db.execute(
                "SELECT record_id, email, reason, suppressed_at FROM suppression_records "
                "ORDER BY seq"
            )
        ]

    # -- writes ------------------------------------------------------------------------

    def set_opt_out(self, changes: Sequence[OptOutChange]) -> WriteResult:
        ids = [c.record_id for c in changes]
        known: set[str] = set()
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            known.update(
                row[0]
                for row in self._db.execute(
                    f"SELECT person_id FROM people WHERE person_id IN ({marks})", list(chunk)
                )
            )
        failures: list[tuple[object, str]] = [
            (c.record_id, "ENTITY_IS_DELETED: no such contact or lead")
            for c in changes
            if c.record_id not in known
        ]
        rows = [(int(c.value), c.record_id) for c in changes if c.record_id in known]
        self._write("UPDATE people SET email_opt_out = ? WHERE person_id = ?", rows)
        return WriteResult(len(rows), tuple(failures))

    def apply_suppression(
        self,
        changes: Sequence[
            CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord
        ],
    ) -> WriteResult:
        db = self._db
        failures: list[tuple[object, str]] = []
        written = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            for change in changes:
                if isinstance(change, RemoveSuppressionRecord):
                    cursor = db.execute(
                        "DELETE FROM suppression_records WHERE record_id = ?", (change.record_id,)
                    )
                    written += cursor.rowcount
                elif isinstance(change, UpdateSuppressionRecord):
                    cursor = db.execute(
                        "UPDATE suppression_records SET email = ?, reason = ?, suppressed_at = ? "
                        "WHERE record_id = ?",
                        (
                            change.email,
                            change.reason,
                            _to_int(change.suppressed_at),
                            change.record_id,
                        ),
                    )
                    if cursor.rowcount:
                        written += 1
                    else:
                        failures.append(
                            (change.record_id, "ENTITY_IS_DELETED: no such suppression record")
                        )
                else:
                    (last,) = db.execute(
                        "SELECT coalesce(max(seq), 0) FROM suppression_records"
                    ).fetchone()
                    db.execute(
                        "INSERT INTO suppression_records "
                        "(record_id, email, reason, suppressed_at) VALUES (?, ?, ?, ?)",
                        (
                            f"a0S{last + 1:06d}",
                            change.email,
                            change.reason,
                            _to_int(change.suppressed_at),
                        ),
                    )
                    written += 1
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return WriteResult(written, tuple(failures))

    def save_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> WriteResult:
        for checkpoint in checkpoints:
            old = self.checkpoint(checkpoint.client_id).watermark
            new = checkpoint.watermark
            if old is not None and (new is None or new < old):
                raise InvalidValueError("watermark", f">= the stored {old.isoformat()}", new)
        rows = [
            (
                c.client_id,
                None if c.watermark is None else _to_int(c.watermark),
                json.dumps(
                    sorted([list(ref), cause.value] for ref, cause in c.pending),
                ),
            )
            for c in checkpoints
        ]
        self._write("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)", rows)
        return WriteResult(len(rows))

    def save_platform_campaigns(self, campaigns: Sequence[PlatformCampaign]) -> WriteResult:
        rows = [
            (
                c.campaign_id,
                c.client_id,
                c.name,
                _to_int(c.sent_at),
                json.dumps(sorted(c.tags)),
                c.subject,
            )
            for c in campaigns
        ]
        self._write("INSERT OR REPLACE INTO platform_campaigns VALUES (?, ?, ?, ?, ?, ?)", rows)
        return WriteResult(len(rows))

    def _save_campaign(self, campaign: CrmCampaign, *, replace: bool) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        self._write(
            f"{verb} INTO campaigns VALUES (?, ?, ?, ?, ?)",
            [self._campaign_row(campaign)],
        )

    @staticmethod
    def _campaign_row(campaign: CrmCampaign) -> tuple[object, ...]:
        return (
            campaign.campaign_id,
            campaign.name,
            json.dumps(
                [[s.label, s.is_default, s.has_responded, s.sort_order] for s in campaign.statuses]
            ),
            int(campaign.created_by_integration),
            None if campaign.statistics is None else json.dumps(attrs.asdict(campaign.statistics)),
        )

    def create_campaigns(
        self, campaigns: Sequence[CrmCampaign], links: Sequence[CampaignLink]
    ) -> WriteResult:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR IGNORE INTO campaigns VALUES (?, ?, ?, ?, ?)",
                [self._campaign_row(c) for c in campaigns],
            )
            db.executemany(
                "INSERT OR REPLACE INTO links VALUES (?, ?, ?)",
                [(k.platform_campaign_id, k.client_id, k.crm_campaign_id) for k in links],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return WriteResult(len(campaigns) + len(links))

    def add_statuses(self, statuses: Sequence[tuple[str, MemberStatus]]) -> WriteResult:
        current = dict(self.campaigns())
        failures: list[tuple[object, str]] = []
        changed: dict[str, CrmCampaign] = {}
        for campaign_id, status in statuses:
            campaign = changed.get(campaign_id) or current.get(campaign_id)
            if campaign is None:
                failures.append((campaign_id, "ENTITY_IS_DELETED: no such campaign"))
                continue
            if not campaign.has_status(status.label):
                changed[campaign_id] = attrs.evolve(
                    campaign, statuses=(*campaign.statuses, attrs.evolve(status, is_default=False))
                )
        self._write(
            "UPDATE campaigns SET statuses = ? WHERE campaign_id = ?",
            [(self._campaign_row(c)[2], c.campaign_id) for c in changed.values()],
        )
        return WriteResult(len(statuses) - len(failures), tuple(failures))

    def insert_records(self, records: Sequence[Activity]) -> WriteResult:
        rows = []
        for r in records:
            rows.append(
                (
                    _key_text(r.key),
                    r.client_id,
                    r.campaign_id,
                    r.member_id,
                    r.type.name,
                    _to_int(r.occurred_at),
                    r.email,
                    r.list_id,
                    r.detail,
                    r.occurrence,
                )
            )
        written = self._write(
            "INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        return WriteResult(written)

    def delete_records(self, keys: Sequence[ActivityKey]) -> WriteResult:
        written = self._write("DELETE FROM records WHERE key = ?", [(_key_text(k),) for k in keys])
        return WriteResult(written)

    def save_members(self, members: Sequence[MemberRecord]) -> WriteResult:
        campaigns = self.campaigns()
        failures: list[tuple[object, str]] = []
        rows = []
        for record in members:
            campaign = campaigns.get(record.crm_campaign_id)
            status = record.member.status
            if campaign is None:
                failures.append(
                    (record.ref, f"ENTITY_IS_DELETED: campaign {record.crm_campaign_id}")
                )
                continue
            if status is not None and not campaign.has_status(status):
                failures.append(
                    (
                        record.ref,
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Status: bad value for "
                        f"restricted picklist field: {status} (not a member status of "
                        f"campaign {campaign.name})",
                    )
                )
                continue
            m = record.member
            rows.append(
                (
                    m.campaign_id,
                    m.member_id,
                    record.crm_campaign_id,
                    record.email,
                    record.person_id,
                    m.status,
                    None if m.activity is None else m.activity.name,
                    None if m.activity_date is None else _to_int(m.activity_date),
                    _engagement_json(m.engagement),
                )
            )
        self._write("INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return WriteResult(len(rows), tuple(failures))

    def save_statistics(self, statistics: Sequence[tuple[str, CampaignSummary]]) -> WriteResult:
        known = self.campaigns()
        failures: list[tuple[object, str]] = [
            (cid, "ENTITY_IS_DELETED: no such campaign")
            for cid, _ in statistics
            if cid not in known
        ]
        rows = [
            (json.dumps(attrs.asdict(summary)), cid) for cid, summary in statistics if cid in known
        ]
        self._write("UPDATE campaigns SET statistics = ? WHERE campaign_id = ?", rows)
        return WriteResult(len(rows), tuple(failures))

    def add_messages(self, messages: Sequence[MaintenanceMessage]) -> WriteResult:
        rows = [
            (m.code, m.severity.value, m.record, m.guidance, _to_int(m.occurred_at))
            for m in messages
        ]
        self._write(
            "INSERT INTO messages (code, severity, record, guidance, occurred_at) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        return WriteResult(len(rows))

    def messages(self) -> Sequence[MaintenanceMessage]:
        return [
            MaintenanceMessage(code, severity, record, guidance, _to_dt(at))
            for code, severity, record, guidance, at in self._db.execute(
                "SELECT code, severity, record, guidance, occurred_at FROM messages ORDER BY id"
            )
        ]

    def delete_messages(self) -> int:
        """The maintenance page's "delete messages": clear the log; returns how many went."""
        return self._write("DELETE FROM messages", [()])

    # -- contact and lead fields (field mappings) ---------------------------------------
    # Kept in a table of their own, created on first use: one row per (person, field),
    # the name casefolded in ``name_key`` (Salesforce's API names ignore case) and the
    # value as typed JSON text.

    def _fields_table(self) -> None:
        self._db.execute(_PERSON_FIELDS_TABLE)

    def set_fields(self, person_id: str, values: Mapping[str, CrmValue]) -> None:
        """Set fields of a contact or lead by hand (seeding, or a user's edit)."""
        self._fields_table()
        if self._kind_of([person_id]).get(person_id) is None:
            raise InvalidValueError("person_id", "a contact or lead added first", person_id)
        for name, value in values.items():
            problem = field_problem(name, value)
            if problem is not None:
                raise InvalidValueError(f"values[{name!r}]", "a value the CRM takes", problem)
        self._write(
            "INSERT OR REPLACE INTO person_fields VALUES (?, ?, ?, ?)",
            [(person_id, n.casefold(), n, encode_value(v)) for n, v in values.items()],
        )

    def _kind_of(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """person id -> (kind, email) of the ids that exist."""
        found: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            for pid, kind, email in self._db.execute(
                f"SELECT person_id, kind, email FROM people WHERE person_id IN ({marks})",
                list(chunk),
            ):
                found[str(pid)] = (str(kind), str(email))
        return found

    def field_values(
        self, kind: RecordKind, record_ids: Collection[str], fields: Collection[str]
    ) -> Mapping[str, Mapping[str, object]]:
        self._fields_table()
        wanted = RecordKind.parse(kind).value
        people = {p: e for p, (k, e) in self._kind_of(record_ids).items() if k == wanted}
        names = list(dict.fromkeys(fields))
        found: dict[str, dict[str, object]] = {
            pid: {n: (email if n.casefold() == "email" else None) for n in names}
            for pid, email in people.items()
        }
        keys = {n.casefold() for n in names}
        for chunk in _chunks(sorted(people)):
            marks = ",".join("?" * len(chunk))
            for pid, key, text in self._db.execute(
                "SELECT person_id, name_key, value FROM person_fields "
                f"WHERE person_id IN ({marks})",
                list(chunk),
            ):
                if key in keys:
                    for name in names:
                        if name.casefold() == key:
                            found[str(pid)][name] = decode_value(str(text))
        return found

    def update_fields(self, updates: Sequence[FieldUpdate]) -> WriteResult:
        self._fields_table()
        kinds = self._kind_of(u.record_id for u in updates)
        failures: list[tuple[object, str]] = []
        rows: list[tuple[str, str, str, str]] = []
        written = 0
        for update in updates:
            held = kinds.get(update.record_id)
            reason = None
            if held is None or held[0] != update.kind.value:
                reason = f"ENTITY_IS_DELETED: no such {update.kind.value.lower()}"
            for name, value in update.values.items():
                reason = reason or field_problem(name, value)
            if reason is not None:
                failures.append((update.record_id, reason))
                continue
            written += 1
            rows.extend(
                (update.record_id, n.casefold(), n, encode_value(v))
                for n, v in update.values.items()
            )
        self._write("INSERT OR REPLACE INTO person_fields VALUES (?, ?, ?, ?)", rows)
        return WriteResult(written, tuple(failures))

    def create_people(self, people: Sequence[CreatePerson]) -> WriteResult:
        self._fields_table()
        failures: list[tuple[object, str]] = []
        written = 0
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            (count,) = db.execute("SELECT count(*) FROM people").fetchone()
            for created in people:
                reason = creation_problem(created)
                if reason is not None:
                    failures.append((created.email, reason))
                    continue
                prefix = "00Q" if created.kind is RecordKind.LEAD else "003"
                count += 1
                person_id = f"{prefix}SQL{count:09d}"
                while db.execute(
                    "SELECT 1 FROM people WHERE person_id = ?", (person_id,)
                ).fetchone():
                    count += 1
                    person_id = f"{prefix}SQL{count:09d}"
                email = str(created.values.get("Email") or created.email)
                db.execute(
                    f"INSERT INTO people ({_PEOPLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        person_id,
                        created.kind.value,
                        email,
                        normalise_email(email),
                        _to_int(datetime.now(UTC)),
                        0,
                        None,
                    ),
                )
                db.executemany(
                    "INSERT OR REPLACE INTO person_fields VALUES (?, ?, ?, ?)",
                    [
                        (person_id, n.casefold(), n, encode_value(v))
                        for n, v in created.values.items()
                        if n.casefold() != "email"
                    ],
                )
                written += 1
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return WriteResult(written, tuple(failures))


_PERSON_FIELDS_TABLE = """
CREATE TABLE IF NOT EXISTS person_fields (
    person_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (person_id, name_key)
) WITHOUT ROWID
"""
