"""The embedded default store: the CRM port on a SQLite file (stdlib ``sqlite3``).

Every write method is one transaction, so a crash (or a killed process) leaves each
bulk write either wholly applied or not at all; the sync's journal covers the gaps
between writes.  A sync holds the store's write lock (:meth:`SqliteCrm.sync_lock`) for
its whole read-plan-apply, so two syncs never interleave and a killed sync leaves the
store as it was before it.  Instants are stored as integer microseconds since the Unix
epoch (UTC).  A tracking record's row id is a 64-bit digest of its key (every part of the
key is a column of the row, so a lookup by key checks the row it finds); the indexes
follow the port's reads: records by member, and by (type, time) for the retention purge.

The file marks itself as a cmsf store (``PRAGMA application_id``) with its schema version
(``PRAGMA user_version``); any other file is refused before a byte of it is written
(:class:`~cmsf_core.ports.crm.NotAStoreError`).  Every value read is checked: a row the
library cannot read raises :class:`~cmsf_core.ports.crm.StoreCorruptError` naming the
table, the row and the column, and :meth:`SqliteCrm.problems` lists them all.

    >>> from cmsf_core.adapters.sqlite import SqliteCrm
    >>> crm = SqliteCrm(":memory:")
    >>> crm.record_count()
    0
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import attrs

from cmsf_core.adapters.crm_fields import (
    creation_problem,
    decode_value,
    encode_value,
    field_problem,
)
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.engagement import Engagement, rollup
from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError, shown
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
from cmsf_core.domain.settings import Settings, parse_label
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
from cmsf_core.ports.crm import (
    CrmStore,
    NotAStoreError,
    StoreBusyError,
    StoreCorruptError,
    StoreError,
)

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "NotAStoreError",
    "SqliteCrm",
    "StoreBusyError",
    "StoreCorruptError",
    "StoreError",
    "StoreProblem",
]

#: ``PRAGMA application_id`` of a cmsf store: "CMSF" in ASCII.
APPLICATION_ID = 0x434D5346
#: ``PRAGMA user_version``: the schema version this release writes (1: the first marked
#: schema; 2: records keyed by a 64-bit digest of their key instead of its JSON text, no
#: index by client; an unmarked store of an earlier release is version 0).  Stores of
#: every earlier version are migrated when opened.
SCHEMA_VERSION = 2
#: How long a sync (or any write) waits for another writer by default, in seconds.
DEFAULT_WAIT = 30.0

_SQLITE_MAGIC = b"SQLite format 3\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_MAX_INSTANT = (datetime(9999, 12, 31, 23, 59, tzinfo=UTC) - _EPOCH) // _MICRO
_MIN_INSTANT = (datetime(1, 1, 2, tzinfo=UTC) - _EPOCH) // _MICRO
_MAX_INT = 2**62
_CHUNK = 500  # bound parameters per IN (...) query, well under SQLite's limit
_WRITE_BATCH = 50_000  # records held as rows at once by insert_records

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    type TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    email TEXT,
    list_id TEXT,
    detail TEXT,
    occurrence INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_member ON records (campaign_id, member_id);
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

#: The tables (and their columns) every release of this store has had: an unmarked
#: database holding all of them is a store of an earlier release, migrated when opened.
_FIRST_RELEASE = {
    "records": {"key", "client_id", "campaign_id", "member_id", "type", "occurred_at"},
    "members": {"campaign_id", "member_id", "crm_campaign_id", "email", "engagement"},
    "people": {"person_id", "kind", "email", "email_key", "last_modified", "email_opt_out"},
    "campaigns": {"campaign_id", "name", "statuses", "created_by_integration", "statistics"},
    "links": {"platform_campaign_id", "client_id", "crm_campaign_id"},
    "checkpoints": {"client_id", "watermark", "pending"},
    "meta": {"key", "value"},
}
#: Columns added after a store's first release: (table, column, declaration).  A store
#: created before one of them is migrated when it is opened (``ALTER TABLE ... ADD``).
_ADDED_COLUMNS = (("people", "account_id", "TEXT"),)
#: The index on the added columns, created once they exist.
_ADDED_INDEX = (
    "CREATE INDEX IF NOT EXISTS people_by_account ON people (account_id) "
    "WHERE account_id IS NOT NULL"
)
#: ``meta`` entry naming the form of ``people.email_key`` (see :meth:`SqliteCrm._rekey_people`).
_EMAIL_KEY_META = "email_key"
_EMAIL_KEY_FORM = "nfc-lower"
_PEOPLE_COLUMNS = "person_id, kind, email, email_key, last_modified, email_opt_out, account_id"
_MEMBER_COLUMNS = (
    "campaign_id, member_id, crm_campaign_id, email, person_id, status, activity, "
    "activity_date, engagement"
)
_RECORD_COLUMNS = (
    "client_id, campaign_id, member_id, type, occurred_at, email, list_id, detail, occurrence"
)
#: Meta keys of the last sync or demo run: its settings (product names) and its as-of.
_LAST_SETTINGS = "last_run_settings"
_LAST_AS_OF = "last_run_as_of"


def _to_int(at: datetime) -> int:
    return (at - _EPOCH) // _MICRO


def _to_dt(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _record_id(key: ActivityKey) -> int:
    """A record's row id: the first 8 bytes of the BLAKE2b digest of its key, as a signed
    64-bit integer (see :func:`_key_digest`)."""
    return _key_digest(
        key.client_id,
        key.campaign_id,
        key.type.name,
        key.subject,
        key.list_id,
        key.minute,
        key.detail,
        key.occurrence,
    )


def _key_digest(
    client_id: str,
    campaign_id: str,
    type_name: str,
    subject: str,
    list_id: str | None,
    minute: int,
    detail: str | None,
    occurrence: int,
) -> int:
    """The digest of a key's parts, each text written as ``<length>:<text>``, None as
    ``-`` and an integer in decimal, joined by ``|``: no two keys give the same text."""
    listed = "-" if list_id is None else f"{len(list_id)}:{list_id}"
    detailed = "-" if detail is None else f"{len(detail)}:{detail}"
    text = (
        f"{len(client_id)}:{client_id}|{len(campaign_id)}:{campaign_id}|"
        f"{len(type_name)}:{type_name}|{len(subject)}:{subject}|{listed}|{minute}|"
        f"{detailed}|{occurrence}"
    )
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _stored_record_id(*row: object) -> int | None:
    """:func:`_record_id` of a stored row (``_RECORD_COLUMNS``), for the migration of a
    schema 1 store; a row that cannot be read gets a fresh id from SQLite."""
    client_id, campaign_id, member_id, type_name, at, email, list_id, detail, occurrence = row
    if not (
        isinstance(client_id, str)
        and isinstance(campaign_id, str)
        and isinstance(member_id, str)
        and isinstance(type_name, str)
        and isinstance(at, int)
        and (email is None or isinstance(email, str))
        and (list_id is None or isinstance(list_id, str))
        and (detail is None or isinstance(detail, str))
        and isinstance(occurrence, int)
    ):
        return None
    try:
        subject = member_id if email is None else email_key(email)
    except _READ_ERRORS:
        return None
    minute = at // 60_000_000
    return _key_digest(
        client_id, campaign_id, type_name, subject, list_id, minute, detail, occurrence
    )


T = TypeVar("T")
P = ParamSpec("P")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# ----------------------------------------------------------------------------- reading rows


class _BadValueError(ValueError):
    """A column value that breaks its rule: ``expected`` says what the column holds."""

    def __init__(self, expected: str) -> None:
        self.expected = expected
        super().__init__(expected)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _BadValueError("non-empty text")
    return value


def _opt_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _integer(value: object, low: int, high: int, what: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _BadValueError(what)
    return value


def _instant(value: object) -> datetime:
    return _to_dt(_integer(value, _MIN_INSTANT, _MAX_INSTANT, "an instant (integer µs)"))


def _opt_instant(value: object) -> datetime | None:
    return None if value is None else _instant(value)


def _flag(value: object) -> bool:
    return bool(_integer(value, 0, 1, "0 or 1"))


def _type_name(value: object) -> ActivityType:
    if not isinstance(value, str) or value not in ActivityType.__members__:
        raise _BadValueError("an activity type name (" + ", ".join(ActivityType.__members__) + ")")
    return ActivityType[value]


def _json(value: object) -> Any:
    if not isinstance(value, str):
        raise _BadValueError("JSON text")
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise _BadValueError("JSON text") from None


def _engagement(value: object) -> Engagement:
    counts = _json(value)
    if (
        not isinstance(counts, list)
        or len(counts) != len(attrs.fields(Engagement))
        or any(type(c) is not int or not 0 <= c <= _MAX_INT for c in counts)
    ):
        raise _BadValueError(f"a JSON list of {len(attrs.fields(Engagement))} counts >= 0")
    return Engagement(*counts)


def _statuses(value: object) -> tuple[MemberStatus, ...]:
    rows = _json(value)
    shape = "a JSON list of [label, is_default, has_responded, sort_order]"
    if not isinstance(rows, list) or not rows:
        raise _BadValueError(shape)
    found = []
    for row in rows:
        if (
            not isinstance(row, list)
            or len(row) != 4
            or type(row[1]) is not bool
            or type(row[2]) is not bool
            or type(row[3]) is not int
        ):
            raise _BadValueError(shape)
        found.append(
            MemberStatus(row[0], is_default=row[1], has_responded=row[2], sort_order=row[3])
        )
    return tuple(found)


def _statistics(value: object) -> CampaignSummary | None:
    if value is None:
        return None
    fields = _json(value)
    names = {f.name for f in attrs.fields(CampaignSummary)}
    if not isinstance(fields, dict) or not set(fields) <= names:
        raise _BadValueError("a JSON object of campaign statistics")
    return CampaignSummary(**fields)


def _tags(value: object) -> list[str]:
    tags = _json(value)
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _BadValueError("a JSON list of tags")
    return tags


def _pending(value: object) -> list[tuple[tuple[str, str], RefreshCause]]:
    rows = _json(value)
    shape = "a JSON list of [[campaign_id, member_id], cause]"
    if not isinstance(rows, list):
        raise _BadValueError(shape)
    found = []
    for row in rows:
        if not (
            isinstance(row, list)
            and len(row) == 2
            and isinstance(row[0], list)
            and len(row[0]) == 2
            and all(isinstance(part, str) for part in row[0])
            and row[1] in {c.value for c in RefreshCause}
        ):
            raise _BadValueError(shape)
        found.append(((row[0][0], row[0][1]), RefreshCause(row[1])))
    return found


def _mask(text: str) -> str:
    """An email in a message: its first character and its domain only."""
    local, at, domain = text.partition("@")
    return f"{local[:1]}***@{domain}" if at else text


def _row_name(key: Mapping[str, object]) -> str:
    parts = []
    for name, value in key.items():
        shown_value = _mask(value) if isinstance(value, str) else value
        parts.append(f"{name}={shown_value!r}")
    return ", ".join(parts)


_READ_ERRORS = (CmsfError, KeyError, ValueError, TypeError, OverflowError, IndexError)
_TYPES = ActivityType.__members__


@attrs.frozen
class StoreProblem:
    """One thing wrong in a store: where (table, row, column) and what."""

    table: str
    row: str
    column: str
    problem: str

    def __str__(self) -> str:
        where = f"table {self.table!r}"
        if self.row:
            where += f", row ({self.row})"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.problem}"


class _Rows:
    """Reads one row column by column; a bad value raises :class:`StoreCorruptError`."""

    def __init__(self, path: str, table: str, key: Mapping[str, object]) -> None:
        self.path = path
        self.table = table
        self.key = key

    def fail(self, column: str, problem: str) -> StoreCorruptError:
        found = StoreProblem(self.table, _row_name(self.key), column, problem)
        return StoreCorruptError(
            f"store {self.path!r} is damaged: {found}; run 'cmsf check --store' to list every "
            "bad row (a full sync rebuilds the integration's own rows)",
            table=self.table,
            row=found.row,
            column=column,
            detail=problem,
        )

    def get(self, column: str, value: object, read: Callable[[object], T]) -> T:
        try:
            return read(value)
        except _BadValueError as bad:
            raise self.fail(column, f"expected {bad.expected} (got {shown(value)})") from None
        except _READ_ERRORS as error:
            raise self.fail(column, f"{error} (got {shown(value)})") from None

    def build(self, make: Callable[[], T]) -> T:
        try:
            return make()
        except _READ_ERRORS as error:
            raise self.fail("", str(error)) from None


def _guarded(method: Callable[P, T]) -> Callable[P, T]:
    """Turn the database's own errors into the store's: busy, or damaged."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except sqlite3.OperationalError as error:
            store = args[0]
            assert isinstance(store, SqliteCrm)
            if "locked" in str(error) or "busy" in str(error):
                raise StoreBusyError(
                    f"store {str(store.path)!r} is busy: another process holds its write "
                    f"lock ({error}); nothing was changed, run again later"
                ) from None
            raise StoreCorruptError(
                f"store {str(store.path)!r} cannot be read as a cmsf store: {error}"
            ) from None
        except sqlite3.DatabaseError as error:
            store = args[0]
            assert isinstance(store, SqliteCrm)
            if isinstance(error, sqlite3.IntegrityError):
                raise
            raise StoreCorruptError(f"store {str(store.path)!r} is damaged: {error}") from None

    return run


# ----------------------------------------------------------------------------- identity


def _refuse(path: Path, why: str) -> NotAStoreError:
    return NotAStoreError(f"store {str(path)!r} {why}; nothing was written to it")


def _probe(path: Path) -> int:
    """The schema version of the store at ``path`` (0: an unmarked store of an earlier
    release), reading without writing a byte; refuse anything that is not a store."""
    if path.is_dir():
        raise _refuse(path, "is a folder, not a store file")
    try:
        with path.open("rb") as file:
            header = file.read(100)
        size = path.stat().st_size
    except OSError as error:
        raise _refuse(path, f"cannot be read ({error.strerror})") from None
    if size == 0:
        raise _refuse(path, "is an empty file (0 bytes), not a cmsf store")
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise _refuse(path, "is not a SQLite database (no SQLite header), not a cmsf store")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    wal = header[18] == 2  # the write-ahead-log file format
    # A checkpoint (or a transaction) cut short may write the header before the pages it
    # grows the file by; the log or journal beside the file recovers them, so a short
    # file is only truncated when there is neither.
    logged = Path(f"{path}-wal").exists() or Path(f"{path}-journal").exists()
    if header[24:28] == header[92:96] and pages and size < page_size * pages and not logged:
        raise _refuse(path, f"is truncated ({size:,} bytes of {page_size * pages:,})")
    application_id = int.from_bytes(header[68:72], "big")
    version = int.from_bytes(header[60:64], "big")
    if application_id not in (0, APPLICATION_ID):
        raise _refuse(path, f"belongs to another application (application_id {application_id:#x})")
    if application_id == 0 or wal:
        # The header may be behind a write-ahead log: look inside without writing.
        application_id, version, tables = _look_inside(path, wal=wal)
        if application_id == 0 and not _is_first_release(tables):
            names = ", ".join(sorted(tables)[:6]) or "none"
            raise _refuse(path, f"is another application's SQLite database (tables: {names})")
        if application_id not in (0, APPLICATION_ID):
            raise _refuse(
                path, f"belongs to another application (application_id {application_id:#x})"
            )
    if version > SCHEMA_VERSION:
        raise _refuse(
            path,
            f"has schema version {version}, newer than this release knows ({SCHEMA_VERSION}); "
            "upgrade cmsf_core",
        )
    return version


def _look_inside(path: Path, *, wal: bool) -> tuple[int, int, dict[str, set[str]]]:
    has_log = Path(f"{path}-wal").exists()
    # Without a log the file is the whole database: open it immutable, so that SQLite
    # creates no -shm/-wal beside it.  With one, a read-only open reads the log too.
    mode = "mode=ro" if wal and has_log else "immutable=1"
    uri = f"{path.resolve().as_uri()}?{mode}"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            (application_id,) = db.execute("PRAGMA application_id").fetchone()
            (version,) = db.execute("PRAGMA user_version").fetchone()
            names = [
                str(row[0])
                for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            tables = {
                name: {str(row[1]) for row in db.execute(f"PRAGMA table_info('{name}')")}
                for name in names
                if "'" not in name
            }
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        raise _refuse(path, f"is not a readable SQLite database ({error})") from None
    return int(application_id), int(version), tables


def _is_first_release(tables: Mapping[str, set[str]]) -> bool:
    return all(columns <= tables.get(table, set()) for table, columns in _FIRST_RELEASE.items())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # pragma: no cover - another user's process: alive
        return True
    return True


def _clear_leftovers(path: Path) -> None:
    """Remove half-built stores of killed processes (``.<name>.<pid>.<token>.creating``)."""
    for leftover in path.parent.glob(f".{path.name}.*.creating"):
        pid = leftover.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            leftover.unlink(missing_ok=True)


def _ddl(db: sqlite3.Connection) -> None:
    """Create what is missing of the schema, inside the caller's transaction."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def _create(db: sqlite3.Connection) -> None:
    """A new store's schema and marks, inside the caller's transaction."""
    _ddl(db)
    db.execute(_ADDED_INDEX)
    db.execute("INSERT INTO meta VALUES (?, ?)", (_EMAIL_KEY_META, _EMAIL_KEY_FORM))
    _mark(db)


def _mark(db: sqlite3.Connection) -> None:
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}


def _rebuild_records(db: sqlite3.Connection) -> None:
    """Schema 1 (and 0) -> 2, inside the caller's transaction: the records keyed by their
    key's JSON text become rows keyed by its digest (:func:`_record_id`); the index by
    client goes.  Two keys of one digest stop the migration (nothing is changed)."""
    db.create_function("cmsf_record_id", 9, _stored_record_id, deterministic=True)
    for index in ("records_by_member", "records_by_client", "records_by_time"):
        db.execute(f"DROP INDEX IF EXISTS {index}")
    db.execute("ALTER TABLE records RENAME TO records_schema_1")
    db.execute(_SCHEMA.split(";", maxsplit=1)[0])
    db.execute(
        f"INSERT INTO records (id, {_RECORD_COLUMNS}) "
        f"SELECT cmsf_record_id({_RECORD_COLUMNS}), {_RECORD_COLUMNS} "
        "FROM records_schema_1 ORDER BY 1"
    )
    db.execute("DROP TABLE records_schema_1")


# ----------------------------------------------------------------------------- rows


def _activity(rows: _Rows, row: Sequence[Any]) -> Activity:
    client_id, campaign_id, member_id, type_name, at, email, list_id, detail, occurrence = row
    if (
        type(at) is int
        and _MIN_INSTANT <= at <= _MAX_INSTANT
        and type(occurrence) is int
        and 0 <= occurrence <= _MAX_INT
        and type_name in _TYPES
        and isinstance(client_id, str)
        and client_id
        and email != ""
        and list_id != ""
        and detail != ""
    ):
        # The common case, read at once: the record's own validators check the rest.
        try:
            return Activity(
                campaign_id,
                member_id,
                _TYPES[type_name],
                _to_dt(at),
                client_id=client_id,
                email=email,
                list_id=list_id,
                detail=detail,
                occurrence=occurrence,
            )
        except _READ_ERRORS:
            pass  # the column by column read below names what is wrong
    values = (
        rows.get("client_id", client_id, _text),
        rows.get("campaign_id", campaign_id, _text),
        rows.get("member_id", member_id, _text),
        rows.get("type", type_name, _type_name),
        rows.get("occurred_at", at, _instant),
        rows.get("email", email, _opt_text),
        rows.get("list_id", list_id, _opt_text),
        rows.get("detail", detail, _opt_text),
        rows.get("occurrence", occurrence, lambda v: _integer(v, 0, _MAX_INT, "a count >= 0")),
    )
    return rows.build(
        lambda: Activity(
            values[1],
            values[2],
            values[3],
            values[4],
            client_id=values[0],
            email=values[5],
            list_id=values[6],
            detail=values[7],
            occurrence=values[8],
        )
    )


def _person(rows: _Rows, row: Sequence[Any]) -> Person:
    person_id, kind, email, _key, modified, opt_out, account_id = row
    person_id = rows.get("person_id", person_id, _text)
    kind = rows.get("kind", kind, lambda v: PersonKind(_text(v)))
    email = rows.get("email", email, _text)
    modified = rows.get("last_modified", modified, _instant)
    opt_out = rows.get("email_opt_out", opt_out, _flag)
    account_id = rows.get("account_id", account_id, _opt_text)
    return rows.build(
        lambda: Person(
            person_id, kind, email, modified, email_opt_out=opt_out, account_id=account_id
        )
    )


def _label(value: object) -> str | None:
    return None if value is None else parse_label(value, "status")


def _member(rows: _Rows, row: Sequence[Any]) -> MemberRecord:
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
    campaign_id = rows.get("campaign_id", campaign_id, _text)
    member_id = rows.get("member_id", member_id, _text)
    crm_campaign_id = rows.get("crm_campaign_id", crm_campaign_id, _text)
    email = rows.get("email", email, _text)
    person_id = rows.get("person_id", person_id, _opt_text)
    status = rows.get("status", status, _label)
    activity = rows.get("activity", activity, lambda v: None if v is None else _type_name(v))
    activity_date = rows.get("activity_date", activity_date, _opt_instant)
    counts = rows.get("engagement", engagement, _engagement)
    member = rows.build(
        lambda: CampaignMember(
            campaign_id,
            member_id,
            status=status,
            activity=activity,
            activity_date=activity_date,
            engagement=counts,
        )
    )
    return rows.build(lambda: MemberRecord(crm_campaign_id, member, email, person_id))


def _member_problem(
    record: MemberRecord, campaigns: Mapping[str, CrmCampaign]
) -> tuple[str, str] | None:
    """What breaks the CRM's rules in a member read back: (column, problem), or None."""
    campaign = campaigns.get(record.crm_campaign_id)
    status = record.member.status
    if campaign is None:
        return (
            "crm_campaign_id",
            f"expected a campaign of this store (got {record.crm_campaign_id!r})",
        )
    if status is not None and not campaign.has_status(status):
        return "status", f"expected a status of campaign {campaign.name!r} (got {status!r})"
    return None


def _engagement_json(engagement: Engagement) -> str:
    return json.dumps(attrs.astuple(engagement))


_CAMPAIGN_COLUMNS = "campaign_id, name, statuses, created_by_integration, statistics"
_LINK_COLUMNS = "platform_campaign_id, client_id, crm_campaign_id"
_PLATFORM_COLUMNS = "campaign_id, client_id, name, sent_at, tags, subject"
_CHECKPOINT_COLUMNS = "client_id, watermark, pending"
_SUPPRESSION_COLUMNS = "record_id, email, reason, suppressed_at"
_MESSAGE_COLUMNS = "id, code, severity, record, guidance, occurred_at"


def _any_text(value: object) -> str:
    if not isinstance(value, str):
        raise _BadValueError("text")
    return value


def _campaign(rows: _Rows, row: Sequence[Any]) -> CrmCampaign:
    campaign_id = rows.get("campaign_id", row[0], _text)
    name = rows.get("name", row[1], _text)
    statuses = rows.get("statuses", row[2], _statuses)
    created = rows.get("created_by_integration", row[3], _flag)
    statistics = rows.get("statistics", row[4], _statistics)
    return rows.build(
        lambda: CrmCampaign(
            campaign_id, name, statuses, created_by_integration=created, statistics=statistics
        )
    )


def _link(rows: _Rows, row: Sequence[Any]) -> CampaignLink:
    platform_campaign_id = rows.get("platform_campaign_id", row[0], _text)
    client_id = rows.get("client_id", row[1], _text)
    crm_campaign_id = rows.get("crm_campaign_id", row[2], _text)
    return rows.build(lambda: CampaignLink(client_id, platform_campaign_id, crm_campaign_id))


def _platform_campaign(rows: _Rows, row: Sequence[Any]) -> PlatformCampaign:
    campaign_id = rows.get("campaign_id", row[0], _text)
    client_id = rows.get("client_id", row[1], _text)
    name = rows.get("name", row[2], _text)
    sent_at = rows.get("sent_at", row[3], _instant)
    tags = rows.get("tags", row[4], _tags)
    subject = rows.get("subject", row[5], _any_text)
    return rows.build(
        lambda: PlatformCampaign(client_id, campaign_id, name, sent_at, tags, subject=subject)
    )


def _checkpoint(rows: _Rows, row: Sequence[Any]) -> Checkpoint:
    client_id = rows.get("client_id", row[0], _text)
    watermark = rows.get("watermark", row[1], _opt_instant)
    pending = rows.get("pending", row[2], _pending)
    return rows.build(lambda: Checkpoint(client_id, watermark, pending))


def _suppression(rows: _Rows, row: Sequence[Any]) -> SuppressionRecord:
    record_id = rows.get("record_id", row[0], _text)
    email = rows.get("email", row[1], _text)
    reason = rows.get("reason", row[2], _text)
    at = rows.get("suppressed_at", row[3], _instant)
    return rows.build(lambda: SuppressionRecord(record_id, email, reason, at))


def _message(rows: _Rows, row: Sequence[Any]) -> MaintenanceMessage:
    code = rows.get("code", row[1], _text)
    severity = rows.get("severity", row[2], _text)
    record = rows.get("record", row[3], lambda v: None if v is None else _any_text(v))
    guidance = rows.get("guidance", row[4], _any_text)
    at = rows.get("occurred_at", row[5], _instant)
    return rows.build(lambda: MaintenanceMessage(code, severity, record, guidance, at))


def _meta(rows: _Rows, row: Sequence[Any]) -> str:
    return rows.get("value", row[1], _any_text)


#: What a scan reads: table, columns (the key columns first), how many are the key, and
#: how a row is read.  The integration's own tables are the ones a full sync reloads.
_SCANS: tuple[tuple[str, str, int, Callable[[_Rows, Sequence[Any]], object]], ...] = (
    ("records", f"id, {_RECORD_COLUMNS}", 1, lambda rows, row: _activity(rows, row[1:])),
    ("members", _MEMBER_COLUMNS, 2, _member),
    ("people", _PEOPLE_COLUMNS, 1, _person),
    ("campaigns", _CAMPAIGN_COLUMNS, 1, _campaign),
    ("links", _LINK_COLUMNS, 1, _link),
    ("platform_campaigns", _PLATFORM_COLUMNS, 1, _platform_campaign),
    ("checkpoints", _CHECKPOINT_COLUMNS, 1, _checkpoint),
    ("suppression_records", _SUPPRESSION_COLUMNS, 1, _suppression),
    ("messages", _MESSAGE_COLUMNS, 1, _message),
    ("meta", "key, value", 1, _meta),
)
_LOADED_TABLES = frozenset(
    {"records", "members", "platform_campaigns", "checkpoints", "suppression_records", "messages"}
)


def _seconds(_inst: object, attribute: attrs.Attribute[float], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTypeError(attribute.name, "a number of seconds", value)
    if not 0 <= value < float("inf"):
        raise InvalidValueError(attribute.name, "a number of seconds >= 0", value)


@attrs.define
class SqliteCrm(CrmStore):
    """The CRM port on a SQLite database file (``":memory:"`` for a throwaway store).

    A missing file is created (``create=False`` refuses it instead), marked as a cmsf
    store from its first byte: it is built under a temporary name and moved into place
    whole, with ``origin`` (which tool made it) in its metadata.  ``lazy`` creates it on
    the first write only, so that a dry run or a refused sync leaves no file behind.  An
    existing file that is not a cmsf store raises
    :class:`~cmsf_core.ports.crm.NotAStoreError` without a byte of it written; an
    unmarked store of an earlier release is migrated.  ``wait`` is how many seconds a
    write waits for another writer (a sync in another process) before
    :class:`~cmsf_core.ports.crm.StoreBusyError`.

    Seeding helpers mirror :class:`~cmsf_core.adapters.memory.InMemoryCrm`'s.  Close it
    with :meth:`close` (or use it as a context manager).
    """

    path: str | Path
    create: bool = attrs.field(default=True, kw_only=True)
    lazy: bool = attrs.field(default=False, kw_only=True)
    origin: str | None = attrs.field(default=None, kw_only=True)
    wait: float = attrs.field(default=DEFAULT_WAIT, kw_only=True, validator=_seconds)
    _db: sqlite3.Connection = attrs.field(init=False)
    _pending: bool = attrs.field(init=False, default=False)
    _held: bool = attrs.field(init=False, default=False)
    _made_here: bool = attrs.field(init=False, default=False)
    _local: threading.Lock = attrs.field(init=False, factory=threading.Lock)

    def __attrs_post_init__(self) -> None:
        if str(self.path) == ":memory:":
            self._db = self._fresh_in_memory()
            return
        path = Path(self.path)
        if not path.parent.is_dir():
            raise _refuse(path, f"is in a folder that does not exist ({str(path.parent)!r})")
        if path.exists() or path.is_symlink():
            self._open_existing(path)
        elif not self.create:
            raise _refuse(path, "does not exist")
        elif self.lazy:
            self._db = self._fresh_in_memory()
            self._pending = True
        else:
            self._materialise(racing_is_busy=False)

    # -- opening and creating ------------------------------------------------------------

    def _connect(self, name: str) -> sqlite3.Connection:
        db = sqlite3.connect(name, isolation_level=None, timeout=self.wait)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        # Settings of this connection (docs/storage.md, "Settings"): a page cache of up to
        # 64 MiB, used as it fills, and temporary sorts in memory.
        db.execute("PRAGMA cache_size=-65536")
        db.execute("PRAGMA temp_store=MEMORY")
        return db

    def _fresh_in_memory(self) -> sqlite3.Connection:
        db = self._connect(":memory:")
        db.execute("BEGIN")
        _create(db)
        if self.origin is not None:
            db.execute("INSERT INTO meta VALUES ('origin', ?)", (self.origin,))
        db.execute("COMMIT")
        return db

    def _open_existing(self, path: Path) -> None:
        version = _probe(path)
        self._db = self._connect(str(path))
        try:
            if version < SCHEMA_VERSION or not self._schema_is_current():
                self._migrate()
            self._rekey_people()
            (mode,) = self._db.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        except sqlite3.OperationalError as error:
            self._db.close()
            if "locked" in str(error) or "busy" in str(error):
                raise StoreBusyError(
                    f"store {str(path)!r} is busy: another process holds its write lock "
                    f"({error}); nothing was changed, run again later"
                ) from None
            raise _refuse(path, f"cannot be opened as a cmsf store ({error})") from None
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise _refuse(path, f"cannot be opened as a cmsf store ({error})") from None

    def _materialise(self, *, racing_is_busy: bool) -> None:
        """Build a new store under a temporary name and move it into place whole."""
        path = Path(self.path)
        _clear_leftovers(path)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.creating")
        try:
            db = sqlite3.connect(temporary, isolation_level=None)
            try:
                db.execute("BEGIN IMMEDIATE")
                _create(db)
                if self.origin is not None:
                    db.execute("INSERT INTO meta VALUES ('origin', ?)", (self.origin,))
                db.execute("COMMIT")
            finally:
                db.close()
        except (OSError, sqlite3.DatabaseError) as error:
            temporary.unlink(missing_ok=True)
            raise _refuse(path, f"cannot be created ({error})") from None
        try:
            os.link(temporary, path)  # fails if another process made the store meanwhile
        except FileExistsError:
            temporary.unlink(missing_ok=True)
            if racing_is_busy:
                raise StoreBusyError(
                    f"another process created store {str(path)!r} while this one was "
                    "reading; nothing was written, run again"
                ) from None
            self._open_existing(path)
            return
        except OSError:  # pragma: no cover - a file system without hard links
            if path.exists():
                temporary.unlink(missing_ok=True)
                raise StoreBusyError(
                    f"another process created store {str(path)!r} meanwhile; run again"
                ) from None
            os.replace(temporary, path)
        else:
            temporary.unlink(missing_ok=True)
        self._made_here = True
        self._db = self._connect(str(path))
        self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer

    def _migrate(self) -> None:
        """Bring a store made by an earlier release up to the current schema in one
        transaction, checking again inside it (another process may have just done it)."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if "key" in _columns(db, "records"):
                _rebuild_records(db)
            _ddl(db)
            for table, column, declaration in _ADDED_COLUMNS:
                if column not in _columns(db, table):
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            db.execute(_ADDED_INDEX)
            _mark(db)
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

    def _schema_is_current(self) -> bool:
        db = self._db
        if any(column not in _columns(db, table) for table, column, _ in _ADDED_COLUMNS):
            return False
        (indexed,) = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
            ("people_by_account",),
        ).fetchone()
        return bool(indexed)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @property
    def made_here(self) -> bool:
        """Whether this object created the store file (not another process, not earlier)."""
        return self._made_here

    def __enter__(self) -> SqliteCrm:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the writer lock -------------------------------------------------------------------

    @contextmanager
    def sync_lock(
        self, *, wait: float | None = None, dry_run: bool = False, full: bool = False
    ) -> Iterator[None]:
        """Hold the store's write lock (``BEGIN IMMEDIATE``) for one whole sync.

        Another process's sync waits up to ``wait`` seconds (``self.wait`` when None)
        and then raises :class:`~cmsf_core.ports.crm.StoreBusyError`.  The sync's steps
        become savepoints of this one transaction, committed when the sync ends, also
        when it ends in an error (each step stays as durable as its own transaction
        was); a killed process leaves the store as it was before the sync.  A dry run
        holds a read snapshot only.  A full sync first drops the rows of the
        integration's own tables that cannot be read (the sync reloads them).
        """
        limit = max(0.0, self.wait if wait is None else wait)
        if not self._local.acquire(timeout=limit):
            raise StoreBusyError(f"another sync in this process holds store {str(self.path)!r}")
        try:
            if self._held:  # pragma: no cover - guarded by the thread lock
                raise StoreBusyError(f"store {str(self.path)!r} is already held by a sync")
            self._begin(limit, dry_run=dry_run)
            if not dry_run and str(self.path) != ":memory:":
                _clear_leftovers(Path(self.path))
            self._held = True
            try:
                if full and not dry_run:
                    self._drop_unreadable_loaded_rows()
                yield
            finally:
                self._held = False
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK" if dry_run else "COMMIT")
        finally:
            self._local.release()

    def _begin(self, wait: float, *, dry_run: bool) -> None:
        db = self._db
        started = datetime.now(UTC)
        db.execute(f"PRAGMA busy_timeout = {max(0, int(wait * 1000))}")
        try:
            db.execute("BEGIN" if dry_run else "BEGIN IMMEDIATE")
            if dry_run:
                db.execute("SELECT count(*) FROM meta").fetchone()  # take the snapshot now
        except sqlite3.OperationalError as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            raise StoreBusyError(
                f"another sync holds store {str(self.path)!r} since before "
                f"{started:%Y-%m-%d %H:%M:%S} UTC (waited {wait:g} s); nothing was changed, "
                "run again when it has finished"
            ) from None
        finally:
            db.execute(f"PRAGMA busy_timeout = {max(0, int(self.wait * 1000))}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write: its own transaction, or a savepoint of the sync holding the store."""
        if self._pending:
            placeholder = self._db
            self._materialise(racing_is_busy=True)
            placeholder.close()
            self._pending = False
            if self._held:
                self._db.execute("BEGIN IMMEDIATE")
        db = self._db
        if self._held:
            db.execute("SAVEPOINT write")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK TO write")
                db.execute("RELEASE write")
                raise
            db.execute("RELEASE write")
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _write(self, sql: str, rows: Iterable[Sequence[object]]) -> int:
        """Run one statement over many rows in one transaction; return the rows changed."""
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(sql, rows)
            return db.total_changes - before

    def _rows(self, table: str, **key: object) -> _Rows:
        return _Rows(str(self.path), table, key)

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
        return None if row is None else self._rows("meta", key=key).get("value", row[0], _text)

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the store's own metadata."""
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(key, value)])

    def remember_run(self, settings: Settings, as_of: datetime) -> None:
        """Record the settings (by their product names) and the as-of of a sync or demo
        run, for :meth:`last_run` (``cmsf diagnose`` uses them by default)."""
        self._write(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [
                (_LAST_SETTINGS, json.dumps(settings.to_mapping(), default=str)),
                (_LAST_AS_OF, as_of.astimezone(UTC).isoformat()),
            ],
        )

    def last_run(self) -> tuple[Settings, datetime] | None:
        """The settings and as-of of the last run recorded by :meth:`remember_run`."""
        settings_text = self.get_meta(_LAST_SETTINGS)
        as_of_text = self.get_meta(_LAST_AS_OF)
        if settings_text is None or as_of_text is None:
            return None

        def settings(value: object) -> Settings:
            mapping = _json(value)
            if not isinstance(mapping, dict):
                raise _BadValueError("a JSON object of settings by product name")
            return Settings.from_mapping(mapping)

        def instant(value: object) -> datetime:
            at = datetime.fromisoformat(_text(value))
            if at.tzinfo is None:
                raise _BadValueError("an ISO 8601 instant with a UTC offset")
            return at

        return (
            self._rows("meta", key=_LAST_SETTINGS).get("value", settings_text, settings),
            self._rows("meta", key=_LAST_AS_OF).get("value", as_of_text, instant),
        )

    # -- inspection --------------------------------------------------------------------

    def record_count(self) -> int:
        """How many tracking records are stored."""
        (count,) = self._db.execute("SELECT count(*) FROM records").fetchone()
        return int(count)

    def _records(self, where: str = "", params: Sequence[object] = ()) -> Iterator[Activity]:
        for record_id, *row in self._db.execute(
            f"SELECT id, {_RECORD_COLUMNS} FROM records {where}", params
        ):
            yield _activity(self._rows("records", id=record_id), row)

    def _keys_at(self, db: sqlite3.Connection, ids: Iterable[int]) -> dict[int, ActivityKey]:
        """The key of the record stored under each of ``ids`` that holds one."""
        held: dict[int, ActivityKey] = {}
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            for record_id, *row in db.execute(
                f"SELECT id, {_RECORD_COLUMNS} FROM records WHERE id IN ({marks})", list(chunk)
            ):
                held[record_id] = _activity(self._rows("records", id=record_id), row).key
        return held

    def all_records(self) -> tuple[Activity, ...]:
        """Every stored tracking record."""
        return tuple(self._records())

    def _members(self, where: str = "", params: Sequence[object] = ()) -> Iterator[MemberRecord]:
        campaigns: Mapping[str, CrmCampaign] | None = None
        for row in self._db.execute(f"SELECT {_MEMBER_COLUMNS} FROM members {where}", params):
            rows = self._rows("members", campaign_id=row[0], member_id=row[1])
            record = _member(rows, row)
            campaigns = self.campaigns() if campaigns is None else campaigns
            problem = _member_problem(record, campaigns)
            if problem is not None:
                raise rows.fail(*problem)
            yield record

    def all_members(self) -> tuple[MemberRecord, ...]:
        """Every campaign member."""
        return tuple(self._members())

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
        return _checkpoint(self._rows("checkpoints", client_id=client_id), (client_id, *row))

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        found = {}
        for row in self._db.execute(f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns"):
            campaign = _campaign(self._rows("campaigns", campaign_id=row[0]), row)
            found[campaign.campaign_id] = campaign
        return found

    def links(self) -> Mapping[str, CampaignLink]:
        found = {}
        for row in self._db.execute(f"SELECT {_LINK_COLUMNS} FROM links"):
            link = _link(self._rows("links", platform_campaign_id=row[0]), row)
            found[link.platform_campaign_id] = link
        return found

    def platform_campaigns(self) -> Mapping[str, PlatformCampaign]:
        found = {}
        for row in self._db.execute(f"SELECT {_PLATFORM_COLUMNS} FROM platform_campaigns"):
            campaign = _platform_campaign(self._rows("platform_campaigns", campaign_id=row[0]), row)
            found[campaign.campaign_id] = campaign
        return found

    def members(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, MemberRecord]:
        found: dict[MemberRef, MemberRecord] = {}
        for chunk in _chunks(list(refs)):
            clause = " OR ".join(["(campaign_id = ? AND member_id = ?)"] * len(chunk))
            params = [part for ref in chunk for part in ref]
            for record in self._members(f"WHERE {clause}", params):
                found[record.ref] = record
        return found

    def members_of(self, campaign_ids: Collection[str]) -> Sequence[MemberRecord]:
        found: list[MemberRecord] = []
        for chunk in _chunks(list(campaign_ids)):
            marks = ",".join("?" * len(chunk))
            found.extend(self._members(f"WHERE campaign_id IN ({marks})", list(chunk)))
        return found

    def unmatched_members(self) -> Sequence[MemberRecord]:
        return list(self._members("WHERE person_id IS NULL"))

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        grouped: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        for chunk in _chunks(list(refs)):
            clause = " OR ".join(["(campaign_id = ? AND member_id = ?)"] * len(chunk))
            params = [part for ref in chunk for part in ref]
            for activity in self._records(f"WHERE {clause}", params):
                grouped[MemberRef(activity.campaign_id, activity.member_id)].append(activity)
        return {ref: tuple(found) for ref, found in grouped.items()}

    def records_of_clients(self, client_ids: Collection[str]) -> Iterable[Activity]:
        found: list[Activity] = []
        for chunk in _chunks(list(client_ids)):
            marks = ",".join("?" * len(chunk))
            found.extend(self._records(f"WHERE client_id IN ({marks})", list(chunk)))
        return found

    def existing_keys(self, keys: Collection[ActivityKey]) -> Collection[ActivityKey]:
        if not keys or self._db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None:
            return set()  # an empty store (a first import): no key to look for
        wanted = {k: _record_id(k) for k in keys}
        held = self._keys_at(self._db, wanted.values())
        return {key for key, record_id in wanted.items() if held.get(record_id) == key}

    def expired_records(self, cutoffs: Mapping[ActivityType, datetime]) -> Sequence[Activity]:
        found: list[Activity] = []
        for activity_type, cutoff in cutoffs.items():
            limit = _to_int(cutoff) if cutoff.year < 9999 else 2**62
            found.extend(
                self._records("WHERE type = ? AND occurred_at < ?", (activity_type.name, limit))
            )
        return found

    def _people(self, where: str, params: Sequence[object]) -> Iterator[Person]:
        for row in self._db.execute(f"SELECT {_PEOPLE_COLUMNS} FROM people {where}", params):
            yield _person(self._rows("people", person_id=row[0]), row)

    def find_people(self, emails: Collection[str]) -> Mapping[str, tuple[Person, ...]]:
        keys = sorted({normalise_email(e) for e in emails})
        grouped: defaultdict[str, list[Person]] = defaultdict(list)
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for person in self._people(
                f"WHERE email_key IN ({marks}) ORDER BY person_id", list(chunk)
            ):
                grouped[normalise_email(person.email)].append(person)
        return {key: tuple(people) for key, people in grouped.items()}

    def contacts_of_accounts(
        self, account_ids: Collection[str]
    ) -> Mapping[str, tuple[Person, ...]]:
        grouped: defaultdict[str, list[Person]] = defaultdict(list)
        for chunk in _chunks(sorted(set(account_ids))):
            marks = ",".join("?" * len(chunk))
            for person in self._people(
                f"WHERE account_id IN ({marks}) AND kind = ? ORDER BY person_id",
                [*chunk, PersonKind.CONTACT.value],
            ):
                grouped[str(person.account_id)].append(person)
        return {account: tuple(people) for account, people in grouped.items()}

    def suppression_records(self) -> Sequence[SuppressionRecord]:
        return [
            _suppression(self._rows("suppression_records", record_id=row[0]), row)
            for row in self._db.execute(
                f"SELECT {_SUPPRESSION_COLUMNS} FROM suppression_records ORDER BY seq"
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
        failures: list[tuple[object, str]] = []
        written = 0
        with self._transaction() as db:
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

    def delete_platform_campaigns(self, campaign_ids: Sequence[str]) -> WriteResult:
        written = self._write(
            "DELETE FROM platform_campaigns WHERE campaign_id = ?",
            [(campaign_id,) for campaign_id in dict.fromkeys(campaign_ids)],
        )
        return WriteResult(written)

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
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO campaigns VALUES (?, ?, ?, ?, ?)",
                [self._campaign_row(c) for c in campaigns],
            )
            db.executemany(
                "INSERT OR REPLACE INTO links VALUES (?, ?, ?)",
                [(k.platform_campaign_id, k.client_id, k.crm_campaign_id) for k in links],
            )
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
        written = 0
        with self._transaction() as db:
            for start in range(0, len(records), _WRITE_BATCH):
                written += self._insert_batch(db, records[start : start + _WRITE_BATCH])
        return WriteResult(written)

    def _insert_batch(self, db: sqlite3.Connection, records: Sequence[Activity]) -> int:
        """Insert one batch in row id order (each page of the table written once), holding
        one row tuple per record; return how many rows were new."""
        first: dict[int, int] = {}  # row id -> the batch's first record of that id
        rows: dict[int, tuple[object, ...]] = {}
        for index, r in enumerate(records):
            key = r.key
            record_id = _record_id(key)
            if record_id in first:
                if records[first[record_id]].key != key:
                    raise self._collision(record_id)
                continue  # the same key twice: the first one is stored
            first[record_id] = index
            rows[record_id] = (
                record_id,
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
        ordered = sorted(rows)
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rows[record_id] for record_id in ordered),
        )
        written = db.total_changes - before
        if written < len(ordered):
            # Some row ids were taken: by the same key (kept as it is), or by another key
            # of the same digest, which this store cannot hold: nothing is written.
            held = self._keys_at(db, ordered)
            for record_id in ordered:
                if held.get(record_id) != records[first[record_id]].key:
                    raise self._collision(record_id)
        return written

    def _collision(self, record_id: int) -> StoreError:
        return StoreError(
            f"store {str(self.path)!r} cannot hold two tracking records whose keys share "
            f"the 64-bit digest {record_id} (a chance of about n\N{SUPERSCRIPT TWO}/2^65 "
            "for n records); nothing was written"
        )

    def delete_records(self, keys: Sequence[ActivityKey]) -> WriteResult:
        wanted = {k: _record_id(k) for k in keys}
        with self._transaction() as db:
            held = self._keys_at(db, wanted.values())
            doomed = sorted(i for k, i in wanted.items() if held.get(i) == k)
            before = db.total_changes
            db.executemany("DELETE FROM records WHERE id = ?", [(i,) for i in doomed])
            written = db.total_changes - before
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
            _message(self._rows("messages", id=row[0]), row)
            for row in self._db.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages ORDER BY id")
        ]

    def delete_messages(self) -> int:
        """The maintenance page's "delete messages": clear the log; returns how many went."""
        return self._write("DELETE FROM messages", [()])

    # -- integrity ---------------------------------------------------------------------

    def _scan(
        self,
    ) -> Iterator[tuple[StoreProblem | None, str, tuple[str, ...], tuple[Any, ...], object]]:
        """Every row, read: (problem or None, table, key names, key, value read)."""
        for table, columns, key_count, read in _SCANS:
            names = tuple(name.strip() for name in columns.split(",")[:key_count])
            try:
                rows_read = self._db.execute(f"SELECT {columns} FROM {table}").fetchall()
            except sqlite3.DatabaseError as error:
                problem = StoreProblem(table, "", "", f"cannot be read ({error})")
                yield problem, table, (), (), None
                continue
            for row in rows_read:
                key = tuple(row[:key_count])
                try:
                    value = read(
                        _Rows(str(self.path), table, dict(zip(names, key, strict=True))), row
                    )
                except StoreCorruptError as error:
                    problem = StoreProblem(table, error.row, error.column, error.detail)
                    yield problem, table, names, key, None
                else:
                    yield None, table, names, key, value

    def problems(self) -> list[StoreProblem]:
        """Everything wrong in the store, row by row (empty when it is consistent).

        The database's own integrity check; every value of every row read as the sync
        reads it; every member's campaign and status; and, when every tracking record
        reads, every member's rollups against its stored records (a member in a sync's
        journal is left out: the next sync refreshes it).  Reads the whole store.
        """
        found: list[StoreProblem] = [
            StoreProblem("(database)", "", "", str(row[0]))
            for row in self._db.execute("PRAGMA quick_check")
            if row[0] != "ok"
        ]
        read: defaultdict[str, list[Any]] = defaultdict(list)
        broken: set[str] = set()
        for problem, table, _names, _key, value in self._scan():
            if problem is None:
                read[table].append(value)
            else:
                found.append(problem)
                broken.add(table)
        campaigns = {c.campaign_id: c for c in read["campaigns"]}
        pending = {MemberRef(*ref) for c in read["checkpoints"] for ref, _cause in c.pending}
        stored: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        for activity in read["records"]:
            stored[MemberRef(activity.campaign_id, activity.member_id)].append(activity)
        for record in read["members"]:
            row = _row_name({"campaign_id": record.ref[0], "member_id": record.ref[1]})
            problem_found = _member_problem(record, campaigns)
            if problem_found is not None and "campaigns" not in broken:
                found.append(StoreProblem("members", row, *problem_found))
            counted = rollup(stored.get(record.ref, ()))
            if (
                "records" not in broken
                and record.ref not in pending
                and counted != record.member.engagement
            ):
                found.append(
                    StoreProblem(
                        "members",
                        row,
                        "engagement",
                        f"rollups {list(attrs.astuple(record.member.engagement))} disagree "
                        f"with the stored records {list(attrs.astuple(counted))}",
                    )
                )
        return found

    def _drop_unreadable_loaded_rows(self) -> int:
        """Delete the rows of the integration's own tables that cannot be read (a full
        sync reloads them); rows of the CRM's own tables stay and are reported."""
        doomed: list[tuple[str, tuple[str, ...], tuple[Any, ...]]] = []
        campaigns: dict[str, CrmCampaign] = {}
        members: list[tuple[tuple[str, ...], tuple[Any, ...], MemberRecord]] = []
        for problem, table, names, key, value in self._scan():
            if problem is not None and table in _LOADED_TABLES and names:
                doomed.append((table, names, key))
            elif isinstance(value, CrmCampaign):
                campaigns[value.campaign_id] = value
            elif isinstance(value, MemberRecord):
                members.append((names, key, value))
        doomed += [
            ("members", names, key)
            for names, key, record in members
            if _member_problem(record, campaigns) is not None
        ]
        with self._transaction() as db:
            for table, names, key in doomed:
                clause = " AND ".join(f"{name} = ?" for name in names)
                db.execute(f"DELETE FROM {table} WHERE {clause}", key)
        return len(doomed)

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


for _name, _method in list(vars(SqliteCrm).items()):
    if callable(_method) and not _name.startswith("_") and _name not in {"close", "sync_lock"}:
        setattr(SqliteCrm, _name, _guarded(_method))


_PERSON_FIELDS_TABLE = """
CREATE TABLE IF NOT EXISTS person_fields (
    person_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (person_id, name_key)
) WITHOUT ROWID
"""
