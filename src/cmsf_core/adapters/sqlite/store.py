"""The store class: :class:`SqliteCrm`, the CRM port on a SQLite file, with its seeding
helpers, its reads (records, members, campaigns, checkpoints) and its bulk writes, each one
transaction."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from cmsf_core.adapters._store_rules import (
    change_campaigns,
    picklist_refusal,
    refuse_older_watermark,
    with_statistics,
    with_status,
)
from cmsf_core.adapters.sqlite.columns import (
    _CODE_OF,
    _WRITE_BATCH,
    T,
    _BadValueError,
    _by_campaign,
    _engagement_json,
    _json,
    _marked,
    _text,
    _to_int,
)
from cmsf_core.adapters.sqlite.connection import _guarded
from cmsf_core.adapters.sqlite.keys import _record_id
from cmsf_core.adapters.sqlite.lock import _SyncLock
from cmsf_core.adapters.sqlite.people import _People
from cmsf_core.adapters.sqlite.rows import (
    _activity,
    _campaign,
    _checkpoint,
    _link,
    _member,
    _member_problem,
    _message,
    _platform_campaign,
    _Rows,
)
from cmsf_core.adapters.sqlite.schema import (
    _CAMPAIGN_COLUMNS,
    _LAST_AS_OF,
    _LAST_SETTINGS,
    _LINK_COLUMNS,
    _MEMBER_COLUMNS,
    _MEMBERS_RECORDS,
    _MESSAGE_COLUMNS,
    _PLATFORM_COLUMNS,
    _RECORD_COLUMNS,
    _RECORDS_FROM,
)
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign, MemberStatus
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.platform import CampaignSummary, PlatformCampaign
from cmsf_core.domain.records.sync_state import Checkpoint, WriteResult
from cmsf_core.domain.settings import Settings
from cmsf_core.ports.crm import StoreError


@attrs.define
class SqliteCrm(_People, _SyncLock):
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

    #: The values of the keyed tables' rows as last read, by table and row (``_keyed``).
    _known_rows: dict[str, dict[tuple[Any, ...], Any]] = attrs.field(
        init=False, factory=dict, repr=False, eq=False
    )

    # -- seeding: where StoreSeeding keeps what it builds -----------------------------

    def _put_campaign(self, campaign: CrmCampaign) -> None:
        self._save_campaign(campaign, replace=True)

    def _put_link(self, link: CampaignLink) -> None:
        self._write("INSERT OR REPLACE INTO links VALUES (?, ?, ?)", [self._link_row(link)])

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

    def _records(
        self, where: str = "", params: Sequence[object] = (), source: str = _RECORDS_FROM
    ) -> Iterator[Activity]:
        """The records of ``source`` (from the records, or from their members) that match."""
        for record_id, *row in self._db.execute(
            f"SELECT {_RECORD_COLUMNS} FROM {source} {where}", params
        ):
            yield _activity(self._rows("records", id=record_id), row)

    def _keys_at(self, db: sqlite3.Connection, ids: Iterable[int]) -> dict[int, ActivityKey]:
        """The key of the record stored under each of ``ids`` that holds one."""
        held: dict[int, ActivityKey] = {}
        for marks, chunk in _marked(sorted(set(ids))):
            for record_id, *row in db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM {_RECORDS_FROM} WHERE r.id IN ({marks})", chunk
            ):
                held[record_id] = _activity(self._rows("records", id=record_id), row).key
        return held

    def all_records(self) -> tuple[Activity, ...]:
        """Every stored tracking record."""
        return tuple(self._records())

    def _members(
        self,
        where: str = "",
        params: Sequence[object] = (),
        read: list[Mapping[str, CrmCampaign]] | None = None,
    ) -> Iterator[MemberRecord]:
        """The members that match, each checked against its campaign: the store's
        campaigns are read with the first member found, once for all the reads that share
        ``read`` (which keeps them)."""
        read = [] if read is None else read
        for row in self._db.execute(f"SELECT {_MEMBER_COLUMNS} FROM members {where}", params):
            rows = self._rows("members", campaign_id=row[0], member_id=row[1])
            record = _member(rows, row)
            if not read:
                read.append(self.campaigns())
            problem = _member_problem(record, read[0])
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

    def _keyed(
        self, table: str, columns: str, read: Callable[[_Rows, Sequence[Any]], T]
    ) -> dict[str, T]:
        """Every row of ``table`` read, by its key (the first of ``columns``).

        A row read before with the very same values gives the value read then (the values
        are immutable, and a sync asks for the campaigns several times); a row that
        changed, or that failed its checks, is read again."""
        key = columns.split(",", 1)[0]
        known = self._known_rows
        before = known.get(table, {})
        seen: dict[tuple[Any, ...], Any] = {}
        found: dict[str, T] = {}
        for row in self._db.execute(f"SELECT {columns} FROM {table}"):
            value = before.get(row)
            if value is None:
                value = read(self._rows(table, **{key: row[0]}), row)
            seen[row] = found[str(row[0])] = value
        known[table] = seen  # only the rows the table holds now are kept
        return found

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        return self._keyed("campaigns", _CAMPAIGN_COLUMNS, _campaign)

    def links(self) -> Mapping[str, CampaignLink]:
        return self._keyed("links", _LINK_COLUMNS, _link)

    def platform_campaigns(self) -> Mapping[str, PlatformCampaign]:
        return self._keyed("platform_campaigns", _PLATFORM_COLUMNS, _platform_campaign)

    def members(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, MemberRecord]:
        found: dict[MemberRef, MemberRecord] = {}
        campaigns: list[Mapping[str, CrmCampaign]] = []
        for campaign_id, marks, chunk in _by_campaign(refs):
            where = f"WHERE campaign_id = ? AND member_id IN ({marks})"
            for record in self._members(where, [campaign_id, *chunk], campaigns):
                found[record.ref] = record
        return found

    def members_of(self, campaign_ids: Collection[str]) -> Sequence[MemberRecord]:
        found: list[MemberRecord] = []
        campaigns: list[Mapping[str, CrmCampaign]] = []
        for marks, chunk in _marked(campaign_ids):
            found.extend(self._members(f"WHERE campaign_id IN ({marks})", chunk, campaigns))
        return found

    def unmatched_members(self) -> Sequence[MemberRecord]:
        return list(self._members("WHERE person_id IS NULL"))

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        grouped: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        for campaign_id, marks, chunk in _by_campaign(refs):
            where = f"WHERE m.campaign_id = ? AND m.member_id IN ({marks})"
            for activity in self._records(where, [campaign_id, *chunk], _MEMBERS_RECORDS):
                grouped[MemberRef(activity.campaign_id, activity.member_id)].append(activity)
        return {ref: tuple(found) for ref, found in grouped.items()}

    def records_of_clients(self, client_ids: Collection[str]) -> Iterable[Activity]:
        found: list[Activity] = []
        for marks, chunk in _marked(dict.fromkeys(client_ids)):
            found.extend(self._records(f"WHERE m.client_id IN ({marks})", chunk, _MEMBERS_RECORDS))
        return found

    def records_of_campaigns(self, campaign_ids: Collection[str]) -> Iterable[Activity]:
        """Every tracking record the integration loaded for these platform campaigns
        (linked or not), read by the members' index on campaign, a member's records
        together."""
        found: list[Activity] = []
        for marks, chunk in _marked(dict.fromkeys(campaign_ids)):
            where = f"WHERE m.campaign_id IN ({marks})"
            found.extend(self._records(where, chunk, _MEMBERS_RECORDS))
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
            second, micro = divmod(limit, 1_000_000)
            found.extend(
                self._records(
                    "WHERE r.type = ? AND r.occurred_at <= ? "
                    "AND (r.occurred_at < ? OR r.micro < ?)",
                    (_CODE_OF[activity_type], second, second, micro),
                )
            )
        return found

    def save_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> WriteResult:
        for checkpoint in checkpoints:
            refuse_older_watermark(
                self.checkpoint(checkpoint.client_id).watermark, checkpoint.watermark
            )
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

    @staticmethod
    def _link_row(link: CampaignLink) -> tuple[object, ...]:
        return (link.platform_campaign_id, link.client_id, link.crm_campaign_id)

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
                [self._link_row(k) for k in links],
            )
        return WriteResult(len(campaigns) + len(links))

    def add_statuses(self, statuses: Sequence[tuple[str, MemberStatus]]) -> WriteResult:
        return self._change_campaigns(statuses, with_status, "statuses")

    def _change_campaigns(
        self,
        items: Sequence[tuple[str, T]],
        change: Callable[[CrmCampaign, T], CrmCampaign],
        column: str,
    ) -> WriteResult:
        """Apply ``change`` to the campaign each item names (see ``change_campaigns``) and
        write the changed campaigns' ``column`` back."""
        if not items:
            return WriteResult(0)
        current = dict(self.campaigns())
        changed, failures = change_campaigns(current, items, change)
        index = _CAMPAIGN_COLUMNS.split(", ").index(column)
        self._write(
            f"UPDATE campaigns SET {column} = ? WHERE campaign_id = ?",
            [(self._campaign_row(current[c])[index], c) for c in dict.fromkeys(changed)],
        )
        return WriteResult(len(items) - len(failures), tuple(failures))

    def insert_records(self, records: Sequence[Activity]) -> WriteResult:
        written = 0
        with self._transaction() as db:
            for start in range(0, len(records), _WRITE_BATCH):
                written += self._insert_batch(db, records[start : start + _WRITE_BATCH])
        return WriteResult(written)

    def _insert_batch(self, db: sqlite3.Connection, records: Sequence[Activity]) -> int:
        """Insert one batch in (member, id) order (each page of the table written once),
        holding one row tuple per record; return how many rows were new."""
        first: dict[int, Activity] = {}  # row id -> the batch's first record of that id
        for r in records:
            key = r.key
            record_id = _record_id(key)
            held = first.get(record_id)
            if held is None:
                first[record_id] = r
            elif held.key != key:
                raise self._collision(record_id)
            # else the same key twice: the first one is stored
        members = _member_ids(
            db, {(r.client_id, r.campaign_id, r.member_id) for r in first.values()}
        )
        rows = []
        for record_id, r in first.items():
            second, micro = divmod(_to_int(r.occurred_at), 1_000_000)
            rows.append(
                (
                    members[r.client_id, r.campaign_id, r.member_id],
                    record_id,
                    _CODE_OF[r.type],
                    second,
                    micro,
                    "" if r.email == r.member_id else r.email,
                    r.list_id,
                    r.detail,
                    r.occurrence,
                )
            )
        rows.sort()  # by (member, id): ids are unique
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO records "
            "(member, id, type, occurred_at, micro, email, list_id, detail, occurrence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        written = db.total_changes - before
        if written < len(rows):
            # Some row ids were taken: by the same key (kept as it is), or by another key
            # of the same digest, which this store cannot hold: nothing is written.
            held_keys = self._keys_at(db, first)
            for record_id, r in first.items():
                if held_keys.get(record_id) != r.key:
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
            reason = (
                f"ENTITY_IS_DELETED: campaign {record.crm_campaign_id}"
                if campaign is None
                else picklist_refusal(record.member.status, campaign)
            )
            if reason is not None:
                failures.append((record.ref, reason))
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
        return self._change_campaigns(statistics, with_statistics, "statistics")

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


def _member_ids(
    db: sqlite3.Connection, members: set[tuple[str, str, str]]
) -> dict[tuple[str, str, str], int]:
    """The ``record_members`` id of each (client_id, campaign_id, member_id), those not
    yet stored added (numbered on from the highest, in campaign and member order)."""
    found: dict[tuple[str, str, str], int] = {}
    for campaign_id, marks, chunk in _by_campaign((c, m) for _client, c, m in members):
        for member_row, client_id, member_id in db.execute(
            "SELECT id, client_id, member_id FROM record_members "
            f"WHERE campaign_id = ? AND member_id IN ({marks})",
            [campaign_id, *chunk],
        ):
            found[client_id, campaign_id, member_id] = member_row
    missing = sorted((c, m, k) for k, c, m in members if (k, c, m) not in found)
    if missing:
        (top,) = db.execute("SELECT coalesce(max(id), 0) FROM record_members").fetchone()
        new = {(k, c, m): top + n for n, (c, m, k) in enumerate(missing, start=1)}
        db.executemany(
            "INSERT INTO record_members (id, client_id, campaign_id, member_id) "
            "VALUES (?, ?, ?, ?)",
            [(member_row, *member) for member, member_row in new.items()],
        )
        found.update(new)
    return found


#: The store's own classes (the class and its parts), whose public methods are guarded:
#: each one is the store's method, named as one (a port's docstring serves for it).
_OWN = [k for k in SqliteCrm.__mro__ if k.__module__.startswith(__package__ or "-")]
for _name in sorted({name for k in _OWN for name in vars(k)}):
    _method = next(vars(k)[_name] for k in _OWN if _name in vars(k))
    if callable(_method) and not _name.startswith("_") and _name not in {"close", "sync_lock"}:
        _run = _guarded(_method)
        _run.__module__ = SqliteCrm.__module__
        _run.__qualname__ = f"{SqliteCrm.__qualname__}.{_name}"
        setattr(SqliteCrm, _name, _run)
