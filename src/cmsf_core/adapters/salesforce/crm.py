"""The CRM port over Salesforce: :class:`SalesforceCrm`."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from cmsf_core.adapters.salesforce.checkpoints import read_checkpoint, save_checkpoints
from cmsf_core.adapters.salesforce.codec import (
    _activity,
    _cell,
    _count,
    _ids,
    _key_text,
    _member,
    _member_lookup,
    _message,
    _message_json,
    _parse_time,
    _platform_campaign,
    _platform_campaign_json,
    _row_ref,
    _soql_time,
)
from cmsf_core.adapters.salesforce.connection import _Connection
from cmsf_core.adapters.salesforce.members import migrate_legacy_member_keys, save_members
from cmsf_core.adapters.salesforce.people import contacts_of_accounts, find_people, set_opt_out
from cmsf_core.adapters.salesforce.person_fields import (
    create_people,
    field_values,
    update_fields,
)
from cmsf_core.adapters.salesforce.statuses import reconcile_statuses, status_row
from cmsf_core.adapters.salesforce.suppression import apply_suppression, suppression_records
from cmsf_core.adapters.salesforce.tracking import (
    delete_records,
    existing_texts,
    insert_records,
    migrate_legacy_keys,
)
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.field_mappings import CreatePerson, FieldUpdate
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.member import CampaignMember
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
from cmsf_core.ports.crm import CrmStore

__all__ = ["SalesforceCrm"]


class SalesforceCrm(_Connection, CrmStore):
    """Salesforce as a :class:`~cmsf_core.ports.crm.CrmStore`.

    ``sf``: a ``simple_salesforce.Salesforce`` connection (or use :meth:`connect`); the
    adapter routes its HTTP exchanges through its own wire (it sets ``sf.session``).
    ``field_map``: the objects and fields used.  ``bulk_wait``: seconds the client waits
    before it first polls a Bulk 2.0 job.  ``timeout``: seconds for each HTTP exchange.
    ``retries``: further attempts after a transient failure (a connection failure or
    timeout, HTTP 429/5xx, ``SERVER_UNAVAILABLE``, ``REQUEST_LIMIT_EXCEEDED``) of what is
    safe to repeat, waiting ``backoff(n)`` seconds (or the ``Retry-After`` asked for, up to
    60) before retry ``n``; ``sleep`` does the waiting (inject one in tests).
    ``lock_retries``: further jobs for the records a Bulk job refused with
    ``UNABLE_TO_LOCK_ROW`` (waiting ``backoff(n)`` before each), before they are failures.
    ``legacy_keys``: also find tracking records stored under the old JSON external id (a
    store written before the digest keys; see ``docs/adapters.md``).
    """

    # -- reads -------------------------------------------------------------------------

    def checkpoint(self, client_id: str) -> Checkpoint:
        """The client's checkpoint from ``checkpoint`` (keyed by client id; a long one in
        parts, see :mod:`.checkpoints`)."""
        return read_checkpoint(self, client_id)

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        """Every Campaign with its CampaignMemberStatus rows, by ``campaign_key`` (the
        Salesforce Id when the key is empty)."""
        return self._read_campaigns("campaigns")[0]

    def _read_campaigns(self, operation: str) -> tuple[dict[str, CrmCampaign], dict[str, str]]:
        """The campaigns by key, and their Salesforce Ids by key."""
        fm = self.field_map
        rows = self._query(
            operation,
            f"SELECT Id, {fm.campaign_key}, {fm.campaign_name}, {fm.campaign_created}, "
            f"{fm.campaign_statistics} FROM {fm.campaign}",
        )
        statuses: defaultdict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for sf_id, found in self._status_rows(operation, [r["Id"] for r in rows]).items():
            for row in found:
                statuses[sf_id].append(
                    (
                        int(row["SortOrder"] or 0),
                        row["Id"],
                        MemberStatus(
                            row["Label"],
                            is_default=bool(row["IsDefault"]),
                            has_responded=bool(row["HasResponded"]),
                            sort_order=int(row["SortOrder"] or 0),
                        ),
                    )
                )
        found_campaigns, ids = {}, {}
        for row in rows:
            key = row[fm.campaign_key] or row["Id"]
            stats = row[fm.campaign_statistics]
            ids[key] = row["Id"]
            found_campaigns[key] = CrmCampaign(
                key,
                row[fm.campaign_name],
                tuple(s for *_order, s in sorted(statuses[row["Id"]], key=lambda t: t[:2])),
                created_by_integration=bool(row[fm.campaign_created]),
                statistics=None if not stats else CampaignSummary(**json.loads(stats)),
            )
        return found_campaigns, ids

    def _status_rows(
        self, operation: str, campaign_sf_ids: Iterable[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The CampaignMemberStatus rows of each campaign, by the campaign's Id."""
        found: dict[str, list[dict[str, Any]]] = {sf_id: [] for sf_id in campaign_sf_ids}
        for row in self._query_in(
            operation,
            "SELECT Id, CampaignId, Label, IsDefault, HasResponded, SortOrder "
            f"FROM {self.field_map.member_status} WHERE CampaignId IN {{values}}",
            list(found),
        ):
            found.setdefault(row["CampaignId"], []).append(row)
        return found

    def _campaign_ids(self) -> dict[str, str]:
        """Salesforce Id by campaign key."""
        fm = self.field_map
        rows = self._query("campaigns", f"SELECT Id, {fm.campaign_key} FROM {fm.campaign}")
        return {r[fm.campaign_key] or r["Id"]: r["Id"] for r in rows}

    def links(self) -> Mapping[str, CampaignLink]:
        """The campaign links (``campaign_link``), by platform campaign id."""
        own = self.field_map.campaign_link
        links = (CampaignLink(*json.loads(r[own.data])) for r in self._own_rows("links", own))
        return {link.platform_campaign_id: link for link in links}

    def platform_campaigns(self) -> Mapping[str, PlatformCampaign]:
        """The stored platform campaigns (``platform_campaign``), by campaign id."""
        own = self.field_map.platform_campaign
        found = (_platform_campaign(r[own.data]) for r in self._own_rows("platform_campaigns", own))
        return {c.campaign_id: c for c in found}

    def members(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, MemberRecord]:
        """Matched members from ``CampaignMember``, the others from the integration's own
        object; a member found in both (a move a failure interrupted, until the next
        save) is read from ``CampaignMember``."""
        own, m = self.field_map.campaign_member, self.field_map.member
        texts = list(_member_lookup(refs, self.legacy_keys))
        found = self._own_members("members", f"{own.key} IN {{values}}", texts)
        found.update(self._standard_members("members", f"{m.key} IN {{values}}", texts))
        wanted = set(refs)  # SOQL compares text without regard to case: keep exact matches
        return {ref: record for ref, record in found.items() if ref in wanted}

    def members_of(self, campaign_ids: Collection[str]) -> Sequence[MemberRecord]:
        """Every member of these platform campaigns, from both objects (see
        :meth:`members`)."""
        own, m = self.field_map.campaign_member, self.field_map.member
        ids = _ids("campaign_ids", campaign_ids)
        found = self._own_members("members_of", f"{own.field('campaign')} IN {{values}}", ids)
        found.update(
            self._standard_members("members_of", f"{m.platform_campaign} IN {{values}}", ids)
        )
        wanted = set(ids)
        return tuple(r for ref, r in found.items() if ref.campaign_id in wanted)

    def unmatched_members(self) -> Sequence[MemberRecord]:
        """The waiting members without a person (a member already in
        ``CampaignMember`` is not one, even if its waiting row is still there)."""
        own, m = self.field_map.campaign_member, self.field_map.member
        rows = self._own_rows("unmatched_members", own, f"{own.field('person')} = null")
        waiting = {record.ref: record for record in (_member(r[own.data]) for r in rows)}
        matched = self._standard_members(
            "unmatched_members", f"{m.key} IN {{values}}", _member_lookup(waiting, self.legacy_keys)
        )
        return tuple(r for ref, r in waiting.items() if ref not in matched)

    def _own_members(
        self, operation: str, where: str, values: Iterable[str]
    ) -> dict[MemberRef, MemberRecord]:
        own = self.field_map.campaign_member
        rows = self._own_rows(operation, own, where, values)
        return {record.ref: record for record in (_member(r[own.data]) for r in rows)}

    def _member_select(self) -> str:
        m = self.field_map.member
        fields = [
            "Id",
            m.campaign,
            m.contact,
            m.lead,
            m.status,
            m.key,
            m.full_key,
            m.platform_campaign,
            m.email,
            m.activity,
            m.activity_date,
            *m.counters.values(),
        ]
        return ", ".join(fields)

    def _member_rows(
        self, operation: str, where: str, values: Iterable[str], **params: Any
    ) -> list[dict[str, Any]]:
        m = self.field_map.member
        soql = f"SELECT {self._member_select()} FROM {m.name} WHERE {where}"
        return self._query_in(operation, soql, values, **params)

    def _standard_members(
        self, operation: str, where: str, values: Iterable[str]
    ) -> dict[MemberRef, MemberRecord]:
        rows = self._member_rows(operation, where, values)
        if not rows:
            return {}
        keys = {sf_id: key for key, sf_id in self._campaign_ids().items()}
        found = (self._standard_member(row, keys) for row in rows)
        return {record.ref: record for record in found if record is not None}

    def _standard_member(
        self, row: Mapping[str, Any], campaign_keys: Mapping[str, str]
    ) -> MemberRecord | None:
        """A ``CampaignMember`` row as a member (``None`` for a row without the
        integration's key, or of an unknown campaign)."""
        m = self.field_map.member
        ref = _row_ref(row, m.key, m.full_key)
        campaign = campaign_keys.get(row.get(m.campaign) or "")
        if ref is None or campaign is None:
            return None
        activity, at = row.get(m.activity), row.get(m.activity_date)
        if not activity or not at:  # both or neither (a hand edit may clear one)
            activity = at = None
        member = CampaignMember(
            ref.campaign_id,
            ref.member_id,
            status=row.get(m.status) or None,
            activity=activity,
            activity_date=None if at is None else _parse_time(at),
            engagement=Engagement(
                **{name: _count(row.get(field)) for name, field in m.counters.items()}
            ),
        )
        person = row.get(m.contact) or row.get(m.lead) or None
        return MemberRecord(campaign, member, row.get(m.email) or ref.member_id, person)

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        """The tracking records of each member, by member ref."""
        own = self.field_map.tracking_record
        found: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        rows = self._own_rows(
            "records_for",
            own,
            f"{own.field('member_ref')} IN {{values}}",
            _member_lookup(refs, self.legacy_keys),
        )
        wanted = set(refs)
        for row in rows:
            record = _activity(row[own.data])
            ref = MemberRef(record.campaign_id, record.member_id)
            if ref in wanted:
                found[ref].append(record)
        return {ref: tuple(records) for ref, records in found.items()}

    def records_of_clients(self, client_ids: Collection[str]) -> Iterable[Activity]:
        """Every tracking record of these clients."""
        own = self.field_map.tracking_record
        rows = self._own_rows(
            "records_of_clients", own, f"{own.field('client')} IN {{values}}", client_ids
        )
        return [_activity(r[own.data]) for r in rows]

    def records_of_campaigns(self, campaign_ids: Collection[str]) -> Iterable[Activity]:
        """Every tracking record of these platform campaigns.  The tracking record has no
        campaign field to query by: the records of the campaigns' clients (from the stored
        platform-campaign copies) are read and kept by campaign, or every record when a
        campaign has no copy."""
        wanted = set(campaign_ids)
        if not wanted:
            return []
        own = self.field_map.tracking_record
        copies = self.platform_campaigns()
        if wanted <= copies.keys():
            clients = {copies[c].client_id for c in wanted}
            rows = self._own_rows(
                "records_of_campaigns", own, f"{own.field('client')} IN {{values}}", clients
            )
        else:
            rows = self._own_rows("records_of_campaigns", own)
        found = (_activity(r[own.data]) for r in rows)
        return [record for record in found if record.campaign_id in wanted]

    def existing_keys(self, keys: Collection[ActivityKey]) -> Collection[ActivityKey]:
        """Which of ``keys`` are stored, looked up by their digest (see
        :meth:`insert_records`); a digest stored with another full key raises
        :class:`~cmsf_core.adapters.errors.CrmError` (``KEY_COLLISION``)."""
        texts = {_key_text(k): k for k in keys}
        return {texts[t] for t in existing_texts(self, texts)}

    def expired_records(self, cutoffs: Mapping[ActivityType, datetime]) -> Sequence[Activity]:
        """The records of each type that occurred before its cutoff (one SOQL
        date-time literal per type)."""
        own = self.field_map.tracking_record
        expired: list[Activity] = []
        for activity_type, cutoff in cutoffs.items():
            rows = self._query(
                "expired_records",
                f"SELECT Id, {own.key}, {own.data} FROM {own.name} WHERE "
                f"{own.field('type')} = {{kind}} "
                f"AND {own.field('occurred_at')} < {{cutoff:literal}}",
                kind=activity_type.value,
                cutoff=_soql_time(cutoff),
            )
            expired += (_activity(r[own.data]) for r in rows)
        return expired

    def find_people(self, emails: Collection[str]) -> Mapping[str, tuple[Person, ...]]:
        """Contacts and leads (not converted ones: ``IsConverted = false``) by normalised
        email; a contact carries its account (see :func:`.people.find_people`)."""
        return find_people(self, emails)

    def contacts_of_accounts(
        self, account_ids: Collection[str]
    ) -> Mapping[str, tuple[Person, ...]]:
        """Contacts by ``AccountId`` (see :func:`.people.contacts_of_accounts`)."""
        return contacts_of_accounts(self, account_ids)

    def suppression_records(self) -> Sequence[SuppressionRecord]:
        """Every suppression record (``suppression_record``)."""
        return suppression_records(self)

    def set_opt_out(self, changes: Sequence[OptOutChange]) -> WriteResult:
        """Update ``HasOptedOutOfEmail`` on contacts and leads (one job per object)."""
        return set_opt_out(self, changes)

    def apply_suppression(
        self,
        changes: Sequence[
            CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord
        ],
    ) -> WriteResult:
        """Delete, update and insert suppression records, run by run in the given order
        (see :func:`.suppression.apply_suppression`)."""
        return apply_suppression(self, changes)

    def save_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> WriteResult:
        """Save checkpoints one by one (see :mod:`.checkpoints`); an earlier watermark
        raises :class:`~cmsf_core.domain.errors.InvalidValueError`."""
        return save_checkpoints(self, checkpoints)

    def save_platform_campaigns(self, campaigns: Sequence[PlatformCampaign]) -> WriteResult:
        """Upsert the platform campaigns on their campaign id."""
        own = self.field_map.platform_campaign
        rows = {
            c.campaign_id: {own.key: c.campaign_id, own.data: _platform_campaign_json(c)}
            for c in campaigns
        }
        written, failures = self._upsert_own("save_platform_campaigns", own, list(rows.values()))
        return WriteResult(written + len(campaigns) - len(rows), tuple(failures))

    def delete_platform_campaigns(self, campaign_ids: Sequence[str]) -> WriteResult:
        """Delete the stored copies of these platform campaigns, found by campaign id, in
        one Bulk delete job; a missing copy is not an error."""
        own = self.field_map.platform_campaign
        wanted = set(_ids("campaign_ids", campaign_ids))
        rows = self._own_rows(
            "delete_platform_campaigns", own, f"{own.key} IN {{values}}", sorted(wanted)
        )
        # SOQL compares text without regard to case: delete exact matches only
        by_id = {r["Id"]: r[own.key] for r in rows if r[own.key] in wanted}
        written, failures = self._delete_ids("delete_platform_campaigns", own.name, by_id)
        return WriteResult(written, tuple(failures))

    def create_campaigns(
        self, campaigns: Sequence[CrmCampaign], links: Sequence[CampaignLink]
    ) -> WriteResult:
        """Upsert the campaigns not there yet (by ``campaign_key``), reconcile each new
        campaign's member statuses with the ones Salesforce created (see
        :func:`.statuses.reconcile_statuses`), and store the links.  An existing campaign is left
        as it is.  A campaign whose upsert or statuses were refused is a failure keyed by
        its campaign id."""
        fm = self.field_map
        before = self._campaign_ids()
        new = {c.campaign_id: c for c in campaigns if c.campaign_id not in before}
        rows = [
            {
                fm.campaign_key: c.campaign_id,
                fm.campaign_name: c.name,
                fm.campaign_created: _cell(c.created_by_integration),
            }
            for c in new.values()
        ]
        _done, failures = self._bulk(
            "create_campaigns",
            fm.campaign,
            "upsert",
            rows,
            lambda r: r.get(fm.campaign_key),
            external_id_field=fm.campaign_key,
        )
        refused = {item for item, _reason in failures}
        ids = self._campaign_ids() if new else before
        created = {
            ids[key]: campaign for key, campaign in new.items() if key in ids and key not in refused
        }
        failures += reconcile_statuses(self, created)
        own = fm.campaign_link
        link_rows = {
            link.platform_campaign_id: {
                own.key: link.platform_campaign_id,
                own.data: json.dumps(attrs.astuple(link)),
            }
            for link in links
        }
        done, failed = self._upsert_own("create_campaigns", own, list(link_rows.values()))
        refused = {item for item, _reason in failures}
        written = sum(1 for c in campaigns if c.campaign_id not in refused)
        written += done + len(links) - len(link_rows)
        return WriteResult(written, tuple(failures + failed))

    def add_statuses(self, statuses: Sequence[tuple[str, MemberStatus]]) -> WriteResult:
        """Insert the labels a campaign lacks (never as its default); a campaign that
        does not exist is a failure keyed by its id."""
        campaigns, ids = self._read_campaigns("add_statuses")
        failures: list[tuple[object, str]] = []
        rows = []
        labels = {cid: {s.label for s in c.statuses} for cid, c in campaigns.items()}
        for campaign_id, status in statuses:
            if campaign_id not in campaigns:
                failures.append((campaign_id, "ENTITY_IS_DELETED: no such campaign"))
            elif status.label not in labels[campaign_id]:
                labels[campaign_id].add(status.label)
                rows.append(status_row(ids[campaign_id], status, default=False))
        by_id = {v: k for k, v in ids.items()}
        _done, failed = self._bulk(
            "add_statuses",
            self.field_map.member_status,
            "insert",
            rows,
            lambda r: by_id.get(r.get("CampaignId", ""), r.get("CampaignId")),
        )
        failures += failed
        return WriteResult(len(statuses) - len(failures), tuple(failures))

    def insert_records(self, records: Sequence[Activity]) -> WriteResult:
        """Upsert the tracking records not stored yet, on their key's digest (see
        :func:`.tracking.insert_records`)."""
        return insert_records(self, records)

    def delete_records(self, keys: Sequence[ActivityKey]) -> WriteResult:
        """Delete the stored tracking records among ``keys``."""
        return delete_records(self, keys)

    def migrate_legacy_keys(self, client_ids: Collection[str]) -> WriteResult:
        """Re-key these clients' tracking records stored under the old JSON external id
        with the digest (see :func:`.tracking.migrate_legacy_keys`), then the members of
        their linked and stored platform campaigns (see
        :func:`.members.migrate_legacy_member_keys`)."""
        clients = set(_ids("client_ids", client_ids))
        records = migrate_legacy_keys(self, sorted(clients))
        campaigns = {c for c, link in self.links().items() if link.client_id in clients}
        campaigns |= {c for c, pc in self.platform_campaigns().items() if pc.client_id in clients}
        members = migrate_legacy_member_keys(self, campaigns)
        return WriteResult(
            records.written + members.written, (*records.failures, *members.failures)
        )

    def save_members(self, members: Sequence[MemberRecord]) -> WriteResult:
        """Upsert campaign members, one per member ref (the last one given wins): matched
        ones as standard ``CampaignMember`` rows, the others in the integration's own
        object (see :func:`~cmsf_core.adapters.salesforce.members.save_members`)."""
        return save_members(self, members)

    def save_statistics(self, statistics: Sequence[tuple[str, CampaignSummary]]) -> WriteResult:
        """Update ``campaign_statistics`` (JSON) on existing campaigns."""
        fm = self.field_map
        known = self._campaign_ids()
        failures: list[tuple[object, str]] = [
            (cid, "ENTITY_IS_DELETED: no such campaign")
            for cid, _s in statistics
            if cid not in known
        ]
        rows = {
            cid: {"Id": known[cid], fm.campaign_statistics: json.dumps(attrs.asdict(summary))}
            for cid, summary in statistics
            if cid in known
        }
        by_id = {v: k for k, v in known.items()}
        _done, failed = self._bulk(
            "save_statistics",
            fm.campaign,
            "update",
            list(rows.values()),
            lambda r: by_id.get(r.get("Id", "")),
        )
        failures += failed
        return WriteResult(len(statistics) - len(failures), tuple(failures))

    def add_messages(self, messages: Sequence[MaintenanceMessage]) -> WriteResult:
        """Append maintenance messages, keyed so that they read back in order."""
        own = self.field_map.maintenance_message
        stamp = time.time_ns()
        rows = [
            {own.key: f"{stamp:020d}-{n:06d}", own.data: _message_json(m)}
            for n, m in enumerate(messages)
        ]
        written, failures = self._upsert_own("add_messages", own, rows)
        return WriteResult(written, tuple(failures))

    def messages(self) -> Sequence[MaintenanceMessage]:
        """The maintenance log, oldest first."""
        own = self.field_map.maintenance_message
        rows = sorted(self._own_rows("messages", own), key=lambda r: r[own.key])
        return tuple(_message(r[own.data]) for r in rows)

    # -- contact and lead fields (field mappings; see :mod:`.person_fields`) ------------------

    def field_values(
        self, kind: RecordKind, record_ids: Collection[str], fields: Collection[str]
    ) -> Mapping[str, Mapping[str, object]]:
        """``SELECT Id, <fields> FROM Contact`` (or ``Lead``) ``WHERE Id IN (...)``, cut by
        size; values as Salesforce answers them (dates and date-times as ISO text)."""
        return field_values(self, kind, record_ids, fields)

    def update_fields(self, updates: Sequence[FieldUpdate]) -> WriteResult:
        """Bulk 2.0 updates of contacts and leads, one job per object and set of fields."""
        return update_fields(self, updates)

    def create_people(self, people: Sequence[CreatePerson]) -> WriteResult:
        """Bulk 2.0 inserts of contacts and leads; failures keyed by email."""
        return create_people(self, people)
