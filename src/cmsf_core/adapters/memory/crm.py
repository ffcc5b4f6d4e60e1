"""The CRM held in memory: :class:`InMemoryCrm`, with Salesforce's rules where the sync meets
them, and a crash (:class:`SimulatedCrashError`) or a refusal injected on demand to test
recovery."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

import attrs

from cmsf_core.adapters._store_rules import (
    NO_SUCH_PERSON,
    change_campaigns,
    change_suppression,
    created_fields,
    created_person,
    field_row,
    new_person_id,
    picklist_refusal,
    refuse_older_watermark,
    update_refusal,
    with_statistics,
    with_status,
)
from cmsf_core.adapters._store_seeding import StoreSeeding
from cmsf_core.adapters.crm_fields import creation_problem
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.errors import CmsfError
from cmsf_core.domain.field_mappings import CreatePerson, CrmValue, FieldUpdate
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign, MemberStatus
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.people import Person
from cmsf_core.domain.records.platform import CampaignSummary, PlatformCampaign
from cmsf_core.domain.records.sync_state import Checkpoint, WriteResult
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    OptOutChange,
    RecordKind,
    RemoveSuppressionRecord,
    SuppressionRecord,
    UpdateSuppressionRecord,
)
from cmsf_core.ports.crm import CrmStore, StoreBusyError

T = TypeVar("T")


class SimulatedCrashError(CmsfError, RuntimeError):
    """Raised by :class:`InMemoryCrm` when an injected crash point is reached."""


#: A refusal rule: given the kind of write ("record", "member", ...) and the item, the
#: CRM's reason for refusing it, or ``None`` to accept it.
RefusalRule = Callable[[str, object], str | None]


@attrs.define
class InMemoryCrm(StoreSeeding, CrmStore):
    """A CRM held in memory, with Salesforce's rules where the sync meets them.

    ``fail_after``: raise :class:`SimulatedCrashError` once that many more items have been
    written (the items before it stay written, as after a real crash).  ``refuse``: a
    rule returning the CRM's reason for refusing an item, or ``None``.
    """

    fail_after: int | None = None
    refuse: RefusalRule | None = None
    _records: dict[ActivityKey, Activity] = attrs.field(factory=dict, init=False)
    _by_member: defaultdict[MemberRef, set[ActivityKey]] = attrs.field(
        factory=lambda: defaultdict(set), init=False
    )
    _by_client: defaultdict[str, set[ActivityKey]] = attrs.field(
        factory=lambda: defaultdict(set), init=False
    )
    _expiry: dict[ActivityType, list[tuple[datetime, int, ActivityKey]]] = attrs.field(
        factory=lambda: {t: [] for t in ActivityType}, init=False
    )
    _sequence: itertools.count[int] = attrs.field(factory=itertools.count, init=False)
    _members: dict[MemberRef, MemberRecord] = attrs.field(factory=dict, init=False)
    _members_by_campaign: defaultdict[str, set[MemberRef]] = attrs.field(
        factory=lambda: defaultdict(set), init=False
    )
    _unmatched: set[MemberRef] = attrs.field(factory=set, init=False)
    _people: dict[str, Person] = attrs.field(factory=dict, init=False)
    _people_by_email: defaultdict[str, set[str]] = attrs.field(
        factory=lambda: defaultdict(set), init=False
    )
    _contacts_by_account: defaultdict[str, set[str]] = attrs.field(
        factory=lambda: defaultdict(set), init=False
    )
    _campaigns: dict[str, CrmCampaign] = attrs.field(factory=dict, init=False)
    _links: dict[str, CampaignLink] = attrs.field(factory=dict, init=False)
    _platform_campaigns: dict[str, PlatformCampaign] = attrs.field(factory=dict, init=False)
    _checkpoints: dict[str, Checkpoint] = attrs.field(factory=dict, init=False)
    _messages: list[MaintenanceMessage] = attrs.field(factory=list, init=False)
    _suppression: dict[str, SuppressionRecord] = attrs.field(factory=dict, init=False)
    _suppression_ids: itertools.count[int] = attrs.field(
        factory=lambda: itertools.count(1), init=False
    )
    writes: Counter[str] = attrs.field(factory=Counter, init=False)
    _writer: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)
    #: The clock a created contact's or lead's last-modified time is read from.
    clock: Callable[[], datetime] = attrs.field(default=lambda: datetime.now(UTC), kw_only=True)
    #: person id -> casefolded field name -> (name as written, value)
    _fields: dict[str, dict[str, tuple[str, CrmValue]]] = attrs.field(factory=dict, init=False)

    @contextmanager
    def sync_lock(
        self, *, wait: float | None = None, dry_run: bool = False, full: bool = False
    ) -> Iterator[None]:
        """One sync at a time across threads: another waits up to ``wait`` seconds (30
        when None), then :class:`~cmsf_core.ports.crm.StoreBusyError`."""
        del dry_run, full
        limit = 30.0 if wait is None else wait
        if not self._writer.acquire(timeout=max(0.0, limit)):
            raise StoreBusyError(
                f"another sync holds this in-memory store (waited {limit:g} s); nothing was changed"
            )
        try:
            yield
        finally:
            self._writer.release()

    # -- seeding: where StoreSeeding keeps what it builds ---------------------------------

    def _person_count(self) -> int:
        return len(self._people)

    def _holds_person(self, person_id: str) -> bool:
        return person_id in self._people

    def _put_person(self, person: Person) -> None:
        person_id = person.person_id
        old = self._people.get(person_id)
        if old is not None:
            self._people_by_email[normalise_email(old.email)].discard(person_id)
            if old.account_id is not None:
                self._contacts_by_account[old.account_id].discard(person_id)
        self._people[person_id] = person
        self._people_by_email[normalise_email(person.email)].add(person_id)
        if person.account_id is not None:
            self._contacts_by_account[person.account_id].add(person_id)

    def _put_campaign(self, campaign: CrmCampaign) -> None:
        self._campaigns[campaign.campaign_id] = campaign

    def _put_link(self, link: CampaignLink) -> None:
        self._links[link.platform_campaign_id] = link

    # -- inspection (tests, notebooks) -------------------------------------------------

    def all_records(self) -> tuple[Activity, ...]:
        """Every stored tracking record."""
        return tuple(self._records.values())

    def all_members(self) -> tuple[MemberRecord, ...]:
        """Every campaign member."""
        return tuple(self._members.values())

    def member(self, campaign_id: str, email: str) -> MemberRecord | None:
        """The member of a platform campaign with that email, if any."""
        return self._members.get(MemberRef(campaign_id, normalise_email(email)))

    def record_count(self) -> int:
        """How many tracking records are stored."""
        return len(self._records)

    def person(self, person_id: str) -> Person | None:
        """A contact or lead by id, if it exists."""
        return self._people.get(person_id)

    # -- crash and refusal injection ---------------------------------------------------

    def _tick(self, kind: str) -> None:
        if self.fail_after is not None:
            if self.fail_after <= 0:
                raise SimulatedCrashError(f"simulated crash before writing a {kind}")
            self.fail_after -= 1
        self.writes[kind] += 1

    def _refused(self, kind: str, item: object) -> str | None:
        return self.refuse(kind, item) if self.refuse is not None else None

    def _bulk(
        self,
        kind: str,
        items: Iterable[T],
        key: Callable[[T], object],
        apply: Callable[[T], object],
        *,
        problem: Callable[[T], str | None] = lambda _item: None,
    ) -> WriteResult:
        """One bulk write, the CRM's way: an item with a ``problem``, or one the ``refuse``
        rule refuses, fails with its reason (under its ``key``); every other one is a write
        of ``kind`` (where an injected crash happens) and is applied."""
        failures: list[tuple[object, str]] = []
        written = 0
        for item in items:
            reason = problem(item) or self._refused(kind, item)
            if reason is not None:
                failures.append((key(item), reason))
                continue
            self._tick(kind)
            apply(item)
            written += 1
        return WriteResult(written, tuple(failures))

    # -- reads -------------------------------------------------------------------------

    def checkpoint(self, client_id: str) -> Checkpoint:
        return self._checkpoints.get(client_id) or Checkpoint(client_id)

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        return dict(self._campaigns)

    def links(self) -> Mapping[str, CampaignLink]:
        return dict(self._links)

    def platform_campaigns(self) -> Mapping[str, PlatformCampaign]:
        return dict(self._platform_campaigns)

    def members(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, MemberRecord]:
        found = {}
        for ref in refs:
            record = self._members.get(ref)
            if record is not None:
                found[ref] = record
        return found

    def members_of(self, campaign_ids: Collection[str]) -> Sequence[MemberRecord]:
        return tuple(
            self._members[ref] for cid in campaign_ids for ref in self._members_by_campaign[cid]
        )

    def unmatched_members(self) -> Sequence[MemberRecord]:
        return tuple(self._members[ref] for ref in self._unmatched)

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        records = self._records
        return {
            ref: tuple(records[k] for k in self._by_member[ref])
            for ref in refs
            if ref in self._by_member
        }

    def records_of_clients(self, client_ids: Collection[str]) -> Iterable[Activity]:
        records = self._records
        return [records[k] for cid in client_ids for k in self._by_client.get(cid, ())]

    def records_of_campaigns(self, campaign_ids: Collection[str]) -> Iterable[Activity]:
        records, wanted = self._records, set(campaign_ids)
        return [
            records[k]
            for ref, keys in self._by_member.items()
            if ref.campaign_id in wanted
            for k in keys
        ]

    def existing_keys(self, keys: Collection[ActivityKey]) -> Collection[ActivityKey]:
        records = self._records
        return {k for k in keys if k in records}

    def expired_records(self, cutoffs: Mapping[ActivityType, datetime]) -> Sequence[Activity]:
        expired = []
        for activity_type, cutoff in cutoffs.items():
            heap = self._expiry[activity_type]
            due = []
            listed: set[ActivityKey] = set()
            while heap and heap[0][0] < cutoff:
                entry = heapq.heappop(heap)
                record = self._records.get(entry[2])
                # A key deleted and inserted again has a stale entry too: list it once.
                if record is not None and record.occurred_at == entry[0] and entry[2] not in listed:
                    listed.add(entry[2])
                    due.append(entry)
                    expired.append(record)
            for entry in due:  # still stored until a delete commits
                heapq.heappush(heap, entry)
        return expired

    def find_people(self, emails: Collection[str]) -> Mapping[str, tuple[Person, ...]]:
        found = {}
        for email in emails:
            ids = self._people_by_email.get(normalise_email(email))
            if ids:
                found[normalise_email(email)] = tuple(self._people[i] for i in sorted(ids))
        return found

    def contacts_of_accounts(
        self, account_ids: Collection[str]
    ) -> Mapping[str, tuple[Person, ...]]:
        found = {}
        for account_id in account_ids:
            ids = self._contacts_by_account.get(account_id)
            if ids:
                found[account_id] = tuple(self._people[i] for i in sorted(ids))
        return found

    def suppression_records(self) -> Sequence[SuppressionRecord]:
        return tuple(self._suppression.values())

    # -- writes ------------------------------------------------------------------------

    def set_opt_out(self, changes: Sequence[OptOutChange]) -> WriteResult:
        def opt_out(change: OptOutChange) -> None:
            person = self._people[change.record_id]
            self._people[person.person_id] = attrs.evolve(person, email_opt_out=change.value)

        return self._bulk(
            "opt out",
            changes,
            lambda change: change.record_id,
            opt_out,
            problem=lambda change: None if change.record_id in self._people else NO_SUCH_PERSON,
        )

    def apply_suppression(
        self,
        changes: Sequence[
            CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord
        ],
    ) -> WriteResult:
        def create(change: CreateSuppressionRecord) -> None:
            self._tick("suppression")
            record_id = f"a0S{next(self._suppression_ids):06d}"
            self._suppression[record_id] = SuppressionRecord(
                record_id, change.email, change.reason, change.suppressed_at
            )

        def update(change: UpdateSuppressionRecord) -> bool:
            if change.record_id not in self._suppression:
                return False
            self._tick("suppression")
            self._suppression[change.record_id] = SuppressionRecord(
                change.record_id, change.email, change.reason, change.suppressed_at
            )
            return True

        def remove(record_id: str) -> bool:
            if self._suppression.pop(record_id, None) is None:
                return False
            self._tick("suppression")
            return True

        return change_suppression(
            changes,
            create=create,
            update=update,
            remove=remove,
            refusal=lambda change: self._refused("suppression", change),
        )

    def save_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> WriteResult:
        for checkpoint in checkpoints:
            self._tick("checkpoint")
            refuse_older_watermark(
                self.checkpoint(checkpoint.client_id).watermark, checkpoint.watermark
            )
            self._checkpoints[checkpoint.client_id] = checkpoint
        return WriteResult(len(checkpoints))

    def save_platform_campaigns(self, campaigns: Sequence[PlatformCampaign]) -> WriteResult:
        for campaign in campaigns:
            self._tick("platform campaign")
            self._platform_campaigns[campaign.campaign_id] = campaign
        return WriteResult(len(campaigns))

    def delete_platform_campaigns(self, campaign_ids: Sequence[str]) -> WriteResult:
        return self._bulk(
            "delete platform campaign",
            (c for c in campaign_ids if c in self._platform_campaigns),  # read as it goes
            lambda campaign_id: campaign_id,
            self._platform_campaigns.__delitem__,
        )

    def create_campaigns(
        self, campaigns: Sequence[CrmCampaign], links: Sequence[CampaignLink]
    ) -> WriteResult:
        for campaign in campaigns:
            self._tick("campaign")
            self._campaigns.setdefault(campaign.campaign_id, campaign)
        for link in links:
            self._tick("link")
            self._links[link.platform_campaign_id] = link
        return WriteResult(len(campaigns) + len(links))

    def add_statuses(self, statuses: Sequence[tuple[str, MemberStatus]]) -> WriteResult:
        return self._change_campaigns("status", statuses, with_status)

    def _change_campaigns(
        self,
        kind: str,
        items: Sequence[tuple[str, T]],
        change: Callable[[CrmCampaign, T], CrmCampaign],
    ) -> WriteResult:
        """Apply ``change`` to the campaign each item names (see ``change_campaigns``), each
        item a write of ``kind``."""
        _changed, failures = change_campaigns(
            self._campaigns, items, change, lambda: self._tick(kind)
        )
        return WriteResult(len(items) - len(failures), tuple(failures))

    def insert_records(self, records: Sequence[Activity]) -> WriteResult:
        def insert(record: Activity) -> None:
            key = record.key
            self._records[key] = record
            self._by_member[MemberRef(record.campaign_id, record.member_id)].add(key)
            self._by_client[record.client_id].add(key)
            heapq.heappush(
                self._expiry[record.type], (record.occurred_at, next(self._sequence), key)
            )

        # Read as it goes: a key met twice is stored once.
        fresh = (record for record in records if record.key not in self._records)
        return self._bulk("record", fresh, lambda record: record.key, insert)

    def delete_records(self, keys: Sequence[ActivityKey]) -> WriteResult:
        def delete(record: Activity) -> None:
            key = record.key
            del self._records[key]
            ref = MemberRef(record.campaign_id, record.member_id)
            self._by_member[ref].discard(key)
            if not self._by_member[ref]:
                del self._by_member[ref]
            self._by_client[record.client_id].discard(key)

        held = (self._records[key] for key in keys if key in self._records)  # read as it goes
        return self._bulk("delete", held, lambda record: record.key, delete)

    def save_members(self, members: Sequence[MemberRecord]) -> WriteResult:
        def save(record: MemberRecord) -> None:
            self._members[record.ref] = record
            self._members_by_campaign[record.member.campaign_id].add(record.ref)
            if record.person_id is None:
                self._unmatched.add(record.ref)
            else:
                self._unmatched.discard(record.ref)

        return self._bulk(
            "member", members, lambda record: record.ref, save, problem=self._member_problem
        )

    def _member_problem(self, record: MemberRecord) -> str | None:
        campaign = self._campaigns.get(record.crm_campaign_id)
        if campaign is None:
            return f"ENTITY_IS_DELETED: campaign {record.crm_campaign_id} does not exist"
        return picklist_refusal(record.member.status, campaign)

    def save_statistics(self, statistics: Sequence[tuple[str, CampaignSummary]]) -> WriteResult:
        return self._change_campaigns("statistics", statistics, with_statistics)

    def add_messages(self, messages: Sequence[MaintenanceMessage]) -> WriteResult:
        for message in messages:
            self._tick("message")
            self._messages.append(message)
        return WriteResult(len(messages))

    def messages(self) -> Sequence[MaintenanceMessage]:
        return tuple(self._messages)

    def delete_messages(self) -> int:
        """The maintenance page's "delete messages": clear the log; returns how many went."""
        count = len(self._messages)
        self._messages.clear()
        return count

    # -- contact and lead fields (field mappings) ---------------------------------------

    def _put_fields(self, person_id: str, values: Mapping[str, CrmValue]) -> None:
        held = self._fields.setdefault(person_id, {})
        held.update({name.casefold(): (name, value) for name, value in values.items()})

    def field_values(
        self, kind: RecordKind, record_ids: Collection[str], fields: Collection[str]
    ) -> Mapping[str, Mapping[str, object]]:
        wanted = RecordKind.parse(kind).value
        found: dict[str, Mapping[str, object]] = {}
        for record_id in record_ids:
            person = self._people.get(record_id)
            if person is None or person.kind.value != wanted:
                continue
            found[record_id] = field_row(person.email, self._fields.get(record_id, {}), fields)
        return found

    def update_fields(self, updates: Sequence[FieldUpdate]) -> WriteResult:
        def refusal(update: FieldUpdate) -> str | None:
            person = self._people.get(update.record_id)
            return update_refusal(update, None if person is None else person.kind.value)

        return self._bulk(
            "field update",
            updates,
            lambda update: update.record_id,
            lambda update: self.set_fields(update.record_id, update.values),
            problem=refusal,
        )

    def create_people(self, people: Sequence[CreatePerson]) -> WriteResult:
        def create(created: CreatePerson) -> None:
            _number, person_id = new_person_id(
                created, "MEM", len(self._people) + 1, lambda pid: pid in self._people
            )
            self._put_person(created_person(created, person_id, self.clock()))
            self.set_fields(person_id, created_fields(created))

        return self._bulk(
            "person", people, lambda created: created.email, create, problem=creation_problem
        )
