"""The store's tables and their migrations: the schema this release writes, the marks that
say a file is a cmsf store (``application_id``, ``user_version``), and the steps that bring
a store of an earlier release up to date."""

from __future__ import annotations

import sqlite3

from cmsf_core.adapters.sqlite.columns import TYPE_CODES
from cmsf_core.adapters.sqlite.keys import _stored_record_id

#: ``PRAGMA application_id`` of a cmsf store: "CMSF" in ASCII.
APPLICATION_ID = 0x434D5346
#: ``PRAGMA user_version``: the schema version this release writes (1: the first marked
#: schema; 2: records keyed by a 64-bit digest of their key instead of its JSON text, no
#: index by client; 3: compact records, see :data:`_RECORDS`; an unmarked store of an
#: earlier release is version 0).  Stores of every earlier version are migrated when
#: opened.
SCHEMA_VERSION = 3

#: The tracking records (schema 3).  ``record_members`` interns the (client, campaign,
#: member) of the records: one row a member, whose integer id each record holds in
#: ``member``.  A record is stored clustered by member (``WITHOUT ROWID``, primary key
#: (member, id)), so the records of a member are neighbours on disk; ``id`` is the 64-bit
#: digest of the record's key (``keys``), unique.  ``type`` is an integer code
#: (``columns.TYPE_CODES``); ``occurred_at`` whole seconds since the Unix epoch and ``micro``
#: the microseconds within the second; ``email`` is ``''`` when it is the member id
#: itself (the common case: the member is known by its email).  The indexes are the
#: reads': by id (``existing_keys``, ``delete_records``), by (type, time) for the
#: retention purge, and the members' by (campaign, member) and by client.
_RECORDS = """
CREATE TABLE IF NOT EXISTS record_members (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    UNIQUE (campaign_id, member_id, client_id)
);
CREATE INDEX IF NOT EXISTS record_members_by_client
    ON record_members (client_id, campaign_id, member_id);
CREATE TABLE IF NOT EXISTS records (
    member INTEGER NOT NULL,
    id INTEGER NOT NULL,
    type INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    micro INTEGER NOT NULL,
    email TEXT,
    list_id TEXT,
    detail TEXT,
    occurrence INTEGER NOT NULL,
    PRIMARY KEY (member, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS records_by_id ON records (id);
CREATE INDEX IF NOT EXISTS records_by_time ON records (type, occurred_at);
"""

#: The records table of schema 2 (built by the migration of a schema 1 store, then
#: compacted by :func:`_compact_records`).
_RECORDS_SCHEMA_2 = """
CREATE TABLE records (
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
)
"""

_SCHEMA = """
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
#: A record's columns as its reads select them (``m``: its ``record_members`` row, ``r``:
#: its ``records`` row) and as a bad value is reported (:data:`_RECORD_NAMES`).
_RECORD_COLUMNS = (
    "r.id, m.client_id, m.campaign_id, m.member_id, r.type, r.occurred_at, r.micro, "
    "r.email, r.list_id, r.detail, r.occurrence"
)
_RECORD_NAMES = ", ".join(c.split(".")[1] for c in _RECORD_COLUMNS.split(", ")[1:])
#: A record read with its member, from the records (the member's row may be missing in a
#: damaged store: its columns are then NULL, and named as bad).
_RECORDS_FROM = "records r LEFT JOIN record_members m ON m.id = r.member"
#: A record read from its member (a search by campaign, member or client).
_MEMBERS_RECORDS = "record_members m CROSS JOIN records r ON r.member = m.id"
#: The columns of schema 2's records table, as the migration reads them.
_RECORD_COLUMNS_2 = (
    "client_id, campaign_id, member_id, type, occurred_at, email, list_id, detail, occurrence"
)
#: Meta keys of the last sync or demo run: its settings (product names) and its as-of.
_LAST_SETTINGS = "last_run_settings"
_LAST_AS_OF = "last_run_as_of"
_CAMPAIGN_COLUMNS = "campaign_id, name, statuses, created_by_integration, statistics"
_LINK_COLUMNS = "platform_campaign_id, client_id, crm_campaign_id"
_PLATFORM_COLUMNS = "campaign_id, client_id, name, sent_at, tags, subject"
_CHECKPOINT_COLUMNS = "client_id, watermark, pending"
_SUPPRESSION_COLUMNS = "record_id, email, reason, suppressed_at"
_MESSAGE_COLUMNS = "id, code, severity, record, guidance, occurred_at"

_PERSON_FIELDS_TABLE = """
CREATE TABLE IF NOT EXISTS person_fields (
    person_id TEXT NOT NULL,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (person_id, name_key)
) WITHOUT ROWID
"""


def _ddl(db: sqlite3.Connection) -> None:
    """Create what is missing of the schema, inside the caller's transaction."""
    for statement in (_RECORDS + _SCHEMA).split(";"):
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
    db.execute(_RECORDS_SCHEMA_2)
    db.execute(
        f"INSERT INTO records (id, {_RECORD_COLUMNS_2}) "
        f"SELECT cmsf_record_id({_RECORD_COLUMNS_2}), {_RECORD_COLUMNS_2} "
        "FROM records_schema_1 ORDER BY 1"
    )
    db.execute("DROP TABLE records_schema_1")


def _compact_records(db: sqlite3.Connection) -> None:
    """Schema 2 -> 3, inside the caller's transaction: the (client, campaign, member) of
    the records go to ``record_members``; each record keeps its id (its key's digest),
    its type as a code, its instant as seconds and microseconds, and ``''`` for an email
    equal to its member id.  A value the new columns cannot read (a damaged row) is
    copied as it is, so that a read still names it."""
    for index in ("records_by_member", "records_by_client", "records_by_time"):
        db.execute(f"DROP INDEX IF EXISTS {index}")
    db.execute("ALTER TABLE records RENAME TO records_schema_2")
    for statement in _RECORDS.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(
        "INSERT INTO record_members (client_id, campaign_id, member_id) "
        "SELECT DISTINCT client_id, campaign_id, member_id FROM records_schema_2 "
        "ORDER BY campaign_id, member_id, client_id"
    )
    codes = " ".join(f"WHEN '{name}' THEN {code}" for name, code in TYPE_CODES.items())
    whole = "typeof(o.occurred_at) = 'integer'"
    micro = "((o.occurred_at % 1000000) + 1000000) % 1000000"
    db.execute(
        "INSERT INTO records "
        "(member, id, type, occurred_at, micro, email, list_id, detail, occurrence) "
        f"SELECT m.id, o.id, CASE o.type {codes} ELSE o.type END, "
        f"CASE WHEN {whole} THEN (o.occurred_at - {micro}) / 1000000 ELSE o.occurred_at END, "
        f"CASE WHEN {whole} THEN {micro} ELSE 0 END, "
        "CASE WHEN o.email = o.member_id THEN '' ELSE o.email END, "
        "o.list_id, o.detail, o.occurrence "
        "FROM records_schema_2 o JOIN record_members m ON m.campaign_id = o.campaign_id "
        "AND m.member_id = o.member_id AND m.client_id = o.client_id ORDER BY m.id, o.id"
    )
    db.execute("DROP TABLE records_schema_2")
