"""Saving campaign members: matched ones as Salesforce's standard ``CampaignMember``, the
others in the integration's own object until a later sync matches them (see
:meth:`SalesforceCrm.save_members <cmsf_core.adapters.salesforce.SalesforceCrm.save_members>`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from cmsf_core.adapters.salesforce.codec import (
    MAX_EXTERNAL_ID,
    _cell,
    _member,
    _member_json,
    _member_key,
    _member_lookup,
    _parse_ref,
    _ref_text,
    _row_id,
    _row_ref,
    _sf_time,
)
from cmsf_core.adapters.salesforce.field_maps import NULL
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.sync_state import WriteResult

if TYPE_CHECKING:
    from cmsf_core.adapters.salesforce.crm import SalesforceCrm

__all__ = ["migrate_legacy_member_keys", "save_members"]


@attrs.frozen
class _Slot:
    """A person's membership of a campaign: one ``CampaignMember`` at most."""

    campaign: str
    person: str


@attrs.define
class _MemberPlan:
    """Where each saved member goes (see :meth:`SalesforceCrm.save_members`)."""

    own: dict[MemberRef, MemberRecord] = attrs.field(factory=dict)
    updates: dict[MemberRef, tuple[str, MemberRef | None]] = attrs.field(factory=dict)
    inserts: list[MemberRef] = attrs.field(factory=list)
    deletes: dict[str, MemberRef] = attrs.field(factory=dict)
    standard: list[MemberRef] = attrs.field(factory=list)


def save_members(crm: SalesforceCrm, members: Sequence[MemberRecord]) -> WriteResult:
    """Upsert campaign members, one per member ref (the last one given wins).

    A member with a person and a status is a standard ``CampaignMember``: ``CampaignId``
    (its CRM campaign), ``ContactId`` or ``LeadId`` (by the person id's prefix),
    ``Status``, and the integration's fields (:class:`MemberFields`).  Salesforce keeps
    one ``CampaignMember`` per campaign and person and lets neither be changed on an
    existing one, so the member takes that person's existing membership of the campaign
    (updated in place, even one added by hand), or a new one is inserted.  Any other
    member waits in the integration's own object (``campaign_member``): one without a
    person yet, one without a status, or one whose person's membership of the campaign
    belongs to another member not saved now.

    The steps run so that a member is never lost: first the own object's rows (a
    member leaving ``CampaignMember`` is copied there before its row goes), then the
    deletions of rows no member keeps, the updates (a row taken over from another
    member has its key cleared first: the key is unique), the insertions, and last
    the removal of the own object's rows of the members now in ``CampaignMember``.  A
    member whose step was refused is a failure keyed by its ref, and the next save of
    it finishes the move.
    """
    campaigns, sf_ids = crm._read_campaigns("save_members")
    refusals: list[tuple[object, str]] = []
    latest: dict[MemberRef, MemberRecord] = {}
    accepted: list[MemberRef] = []
    for record in members:
        campaign = campaigns.get(record.crm_campaign_id)
        status = record.member.status
        if campaign is None:
            refusals.append(
                (
                    record.ref,
                    f"ENTITY_IS_DELETED: campaign {record.crm_campaign_id} does not exist",
                )
            )
            continue
        if status is not None and not campaign.has_status(status):
            refusals.append(
                (
                    record.ref,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Status: "
                    f"bad value for restricted picklist field: {status}",
                )
            )
            continue
        latest[record.ref] = record
        accepted.append(record.ref)
    failed = _write_members(crm, latest, sf_ids) if latest else {}
    written = sum(1 for ref in accepted if ref not in failed)
    return WriteResult(written, tuple(refusals + list(failed.items())))


def _plan_members(
    crm: SalesforceCrm, latest: Mapping[MemberRef, MemberRecord], sf_ids: Mapping[str, str]
) -> _MemberPlan:
    """Where each member goes, from the ``CampaignMember`` rows holding their refs and
    the rows of the (campaign, person) memberships they want."""
    m = crm.field_map.member
    operation = "save_members"
    current: dict[MemberRef, dict[str, Any]] = {}
    texts = list(_member_lookup(latest, crm.legacy_keys))
    for row in crm._member_rows(operation, f"{m.key} IN {{values}}", texts):
        ref = _row_ref(row, m.key, m.full_key)
        if ref is not None and ref in latest:
            current.setdefault(ref, row)
    targets: dict[MemberRef, _Slot] = {
        ref: _Slot(sf_ids[record.crm_campaign_id], record.person_id)
        for ref, record in latest.items()
        if record.person_id is not None and record.member.status is not None
    }
    by_slot: dict[_Slot, dict[str, Any]] = {}
    for row in current.values():
        by_slot[_slot_of(crm, row)] = row
    for field in (m.contact, m.lead):
        persons = sorted({s.person for s in targets.values() if m.person(s.person) == field})
        for campaigns in crm._batches(sorted({s.campaign for s in targets.values()}), 0.4):
            for row in crm._member_rows(
                operation,
                f"{m.campaign} IN {{campaigns}} AND {field} IN {{values}}",
                persons,
                campaigns=campaigns,
            ):
                by_slot.setdefault(_slot_of(crm, row), row)

    def holder_of(slot: _Slot) -> MemberRef | None:
        held = by_slot.get(slot)
        return None if held is None else _row_ref(held, m.key, m.full_key)

    owner: dict[_Slot, MemberRef] = {}
    for ref, slot in targets.items():  # a member keeps the membership it holds
        if slot in by_slot and holder_of(slot) == ref:
            owner[slot] = ref
    for ref, slot in targets.items():  # a free one goes to the first member asking
        holder = holder_of(slot)
        if slot not in owner and (holder is None or holder in latest):
            owner[slot] = ref
    plan = _MemberPlan()
    for ref, record in latest.items():
        wanted = targets.get(ref)
        if wanted is None or owner.get(wanted) != ref:
            plan.own[ref] = record
            continue
        plan.standard.append(ref)
        held = by_slot.get(wanted)
        if held is None:
            plan.inserts.append(ref)
        else:
            holder = holder_of(wanted)
            plan.updates[ref] = (held["Id"], None if holder in (None, ref) else holder)
        old = current.get(ref)
        if old is not None and (held is None or old["Id"] != held["Id"]):
            plan.own[ref] = record  # a copy, until its new membership is written
    kept = {row_id for row_id, _holder in plan.updates.values()}
    plan.deletes = {row["Id"]: ref for ref, row in current.items() if row["Id"] not in kept}
    return plan


def _slot_of(crm: SalesforceCrm, row: Mapping[str, Any]) -> _Slot:
    m = crm.field_map.member
    return _Slot(row[m.campaign], row.get(m.contact) or row.get(m.lead) or "")


def _write_members(
    crm: SalesforceCrm, latest: Mapping[MemberRef, MemberRecord], sf_ids: Mapping[str, str]
) -> dict[MemberRef, str]:
    """Carry out :meth:`_plan_members`; the refused members, with why."""
    fm = crm.field_map
    own, m = fm.campaign_member, fm.member
    operation = "save_members"
    plan = _plan_members(crm, latest, sf_ids)
    failed: dict[MemberRef, str] = {}
    by_text = {_member_key(ref): ref for ref in latest}
    by_id = {row_id: ref for ref, (row_id, _holder) in plan.updates.items()}
    by_id.update(plan.deletes)

    def note(refused: list[tuple[object, str]]) -> None:
        for item, reason in refused:
            if isinstance(item, MemberRef):
                failed.setdefault(item, reason)

    def key(row: Mapping[str, str]) -> object:
        return by_text.get(row.get(own.key) or row.get(m.key) or "")

    def row_id(row: Mapping[str, str]) -> object:
        return by_id.get(row.get("Id", ""))

    rows = [_own_member_row(crm, record) for record in plan.own.values()]
    note(crm._bulk(operation, own.name, "upsert", rows, key, external_id_field=own.key)[1])
    if crm.legacy_keys:  # the waiting rows just re-keyed leave their old-key row behind
        _delete_legacy_own_rows(crm, [ref for ref in plan.own if ref not in failed], note)
    deletes = [{"Id": sf_id} for sf_id, ref in plan.deletes.items() if ref not in failed]
    note(crm._bulk(operation, m.name, "delete", deletes, row_id)[1])
    updates, handed = [], []
    for ref, (sf_id, holder) in plan.updates.items():
        if holder is not None and holder in failed:
            failed[ref] = (
                "not written: this person's membership of the campaign belongs to another "
                "member, which could not be moved"
            )
            continue
        if holder is not None:  # the key is unique: the old holder's goes first
            handed.append({"Id": sf_id, m.key: NULL, m.full_key: NULL})
        updates.append({"Id": sf_id, **_member_cells(crm, latest[ref])})
    holders = {row: holder for row, holder in plan.updates.values() if holder is not None}
    for cleared, reason in crm._bulk(operation, m.name, "update", handed, _row_id)[1]:
        note([(by_id.get(str(cleared)), reason), (holders.get(str(cleared)), reason)])
    updates = [row for row in updates if by_id[row["Id"]] not in failed]
    note(crm._bulk(operation, m.name, "update", updates, row_id)[1])
    inserts = []
    for ref in plan.inserts:
        record = latest[ref]
        if ref in failed or record.person_id is None:
            continue
        person = {m.contact: NULL, m.lead: NULL, m.person(record.person_id): record.person_id}
        inserts.append(
            {
                m.campaign: sf_ids[record.crm_campaign_id],
                **person,
                **_member_cells(crm, record),
            }
        )
    note(crm._bulk(operation, m.name, "insert", inserts, key)[1])
    moved = _member_lookup((ref for ref in plan.standard if ref not in failed), crm.legacy_keys)
    stale = {
        row["Id"]: moved[row[own.key]]
        for row in crm._own_rows(operation, own, f"{own.key} IN {{values}}", sorted(moved))
        if row[own.key] in moved
    }
    note(crm._delete_ids(operation, own.name, stale)[1])
    return failed


def _delete_legacy_own_rows(
    crm: SalesforceCrm,
    refs: Sequence[MemberRef],
    note: Callable[[list[tuple[object, str]]], None],
) -> None:
    """Delete the waiting members' rows still under an earlier version's JSON key."""
    own = crm.field_map.campaign_member
    old = {_ref_text(ref): ref for ref in refs if len(_ref_text(ref)) <= MAX_EXTERNAL_ID}
    rows = crm._own_rows("save_members", own, f"{own.key} IN {{values}}", sorted(old))
    by_id = {row["Id"]: old[row[own.key]] for row in rows if row[own.key] in old}
    note(crm._delete_ids("save_members", own.name, by_id)[1])


def _own_member_row(crm: SalesforceCrm, record: MemberRecord) -> dict[str, str]:
    own = crm.field_map.campaign_member
    return {
        own.key: _member_key(record.ref),
        own.data: _member_json(record),
        own.field("campaign"): record.member.campaign_id,
        own.field("person"): _cell(record.person_id),
    }


def _member_cells(crm: SalesforceCrm, record: MemberRecord) -> dict[str, str]:
    """A member's ``CampaignMember`` fields, but the campaign and the person (which
    Salesforce does not let an update change)."""
    m = crm.field_map.member
    member = record.member
    cells = {
        m.key: _member_key(record.ref),
        m.full_key: _ref_text(record.ref),
        m.platform_campaign: member.campaign_id,
        m.email: record.email,
        m.status: _cell(member.status),
        m.activity: _cell(None if member.activity is None else member.activity.value),
        m.activity_date: (NULL if member.activity_date is None else _sf_time(member.activity_date)),
    }
    for name, field in m.counters.items():
        cells[field] = str(getattr(member.engagement, name))
    return cells


def migrate_legacy_member_keys(crm: SalesforceCrm, campaign_ids: Collection[str]) -> WriteResult:
    """Give the members of these platform campaigns stored under the old JSON external id
    (an older version's key) the digest: ``CampaignMember`` rows with the full key too,
    waiting members in the own object.  A member already keyed by its digest is left as
    it is; written counts the members re-keyed."""
    own, m = crm.field_map.campaign_member, crm.field_map.member
    operation = "migrate_legacy_keys"
    ids = sorted(set(campaign_ids))
    waiting: list[dict[str, str]] = []
    for row in crm._own_rows(operation, own, f"{own.field('campaign')} IN {{values}}", ids):
        digest = _member_key(_member(row[own.data]).ref)
        if row[own.key] != digest:
            waiting.append({"Id": row["Id"], own.key: digest})
    standard: list[dict[str, str]] = []
    for row in crm._member_rows(operation, f"{m.platform_campaign} IN {{values}}", ids):
        ref = _parse_ref(row.get(m.key))  # only an old JSON key parses
        if ref is not None:
            standard.append({"Id": row["Id"], m.key: _member_key(ref), m.full_key: _ref_text(ref)})
    written, failures = crm._bulk(operation, own.name, "update", waiting, _row_id)
    done, failed = crm._bulk(operation, m.name, "update", standard, _row_id)
    return WriteResult(written + done, tuple(failures + failed))
