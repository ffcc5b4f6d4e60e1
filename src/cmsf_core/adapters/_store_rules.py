"""The CRM's rules that both embedded stores (in memory, SQLite) apply over their own storage.

Each store keeps its data its own way; what the CRM accepts or refuses, and with which
reason, is written here once: a write to a campaign that does not exist, a member status
that is not one of its campaign's, a field value the CRM does not take, a watermark going
back, the id and fields of a contact or lead created by a field mapping, which change of
the suppression list is written and which fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import TypeVar

import attrs

from cmsf_core.adapters.crm_fields import field_problem
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.field_mappings import CreatePerson, CrmValue, FieldUpdate
from cmsf_core.domain.records.campaigns import CrmCampaign, MemberStatus
from cmsf_core.domain.records.people import Person, PersonKind
from cmsf_core.domain.records.platform import CampaignSummary
from cmsf_core.domain.records.sync_state import WriteResult
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    RecordKind,
    RemoveSuppressionRecord,
    UpdateSuppressionRecord,
)

T = TypeVar("T")

#: The reasons the CRM gives for refusing a write to something that does not exist.
NO_SUCH_CAMPAIGN = "ENTITY_IS_DELETED: no such campaign"
NO_SUCH_PERSON = "ENTITY_IS_DELETED: no such contact or lead"
NO_SUCH_SUPPRESSION_RECORD = "ENTITY_IS_DELETED: no such suppression record"


def change_campaigns(
    campaigns: MutableMapping[str, CrmCampaign],
    items: Sequence[tuple[str, T]],
    change: Callable[[CrmCampaign, T], CrmCampaign],
    before_each: Callable[[], None] | None = None,
) -> tuple[list[str], list[tuple[object, str]]]:
    """Apply ``change`` to the campaign each item names, in ``campaigns`` (in place, so a
    later item sees an earlier one's change); an item naming no campaign is a failure
    (:data:`NO_SUCH_CAMPAIGN`).  ``before_each`` runs before each item (a store counting
    its writes).  Returns the ids changed, in order, and the failures."""
    changed: list[str] = []
    failures: list[tuple[object, str]] = []
    for campaign_id, item in items:
        if before_each is not None:
            before_each()
        campaign = campaigns.get(campaign_id)
        if campaign is None:
            failures.append((campaign_id, NO_SUCH_CAMPAIGN))
            continue
        updated = change(campaign, item)
        if updated is not campaign:
            campaigns[campaign_id] = updated
            changed.append(campaign_id)
    return changed, failures


def change_suppression(
    changes: Sequence[CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord],
    *,
    create: Callable[[CreateSuppressionRecord], None],
    update: Callable[[UpdateSuppressionRecord], bool],
    remove: Callable[[str], bool],
    refusal: Callable[[object], str | None] = lambda _change: None,
) -> WriteResult:
    """Apply changes of the suppression list, each by the store's own ``create``,
    ``update`` (False: no record of its id, a failure, :data:`NO_SUCH_SUPPRESSION_RECORD`)
    or ``remove`` (False: nothing to remove, not a failure) of a record id; a change the
    ``refusal`` rule refuses fails with its reason.  A failure is named by the change's
    email (a new record) or record id."""
    failures: list[tuple[object, str]] = []
    written = 0
    for change in changes:
        reason = refusal(change)
        if reason is None:
            if isinstance(change, RemoveSuppressionRecord):
                written += remove(change.record_id)
                continue
            if isinstance(change, UpdateSuppressionRecord):
                done = update(change)
            else:
                create(change)
                done = True
            if done:
                written += 1
                continue
            reason = NO_SUCH_SUPPRESSION_RECORD
        key = change.email if isinstance(change, CreateSuppressionRecord) else change.record_id
        failures.append((key, reason))
    return WriteResult(written, tuple(failures))


def with_status(campaign: CrmCampaign, status: MemberStatus) -> CrmCampaign:
    """``campaign`` with ``status`` added (never as the default), unless it has that label."""
    if campaign.has_status(status.label):
        return campaign
    return attrs.evolve(
        campaign, statuses=(*campaign.statuses, attrs.evolve(status, is_default=False))
    )


def with_statistics(campaign: CrmCampaign, summary: CampaignSummary) -> CrmCampaign:
    """``campaign`` with the platform campaign's statistics ``summary``."""
    return attrs.evolve(campaign, statistics=summary)


def picklist_refusal(status: str | None, campaign: CrmCampaign) -> str | None:
    """The CRM's reason for refusing a member whose status is not one of its campaign's
    (a restricted picklist), or None."""
    if status is None or campaign.has_status(status):
        return None
    return (
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Status: bad value for restricted "
        f"picklist field: {status} (not a member status of campaign {campaign.name})"
    )


def refuse_older_watermark(old: datetime | None, new: datetime | None) -> None:
    """Refuse a checkpoint whose watermark would go back (or away) from the stored one."""
    if old is not None and (new is None or new < old):
        raise InvalidValueError("watermark", f">= the stored {old.isoformat()}", new)


def check_field_values(values: Mapping[str, CrmValue]) -> None:
    """Refuse field values set by hand that the CRM would not take."""
    for name, value in values.items():
        problem = field_problem(name, value)
        if problem is not None:
            raise InvalidValueError(f"values[{name!r}]", "a value the CRM takes", problem)


def update_refusal(update: FieldUpdate, held_kind: str | None) -> str | None:
    """The CRM's reason for refusing a field update: no such record of its kind
    (``held_kind``: the kind of the record stored under its id, if any), or a value it
    does not take; None when it takes it."""
    if held_kind != update.kind.value:
        return f"ENTITY_IS_DELETED: no such {update.kind.value.lower()}"
    for name, value in update.values.items():
        problem = field_problem(name, value)
        if problem is not None:
            return problem
    return None


def field_row(
    email: str, held: Mapping[str, tuple[str, object]], names: Iterable[str]
) -> dict[str, object]:
    """A person's values of the fields ``names``: the stored ones (``held``, by casefolded
    name), the person's email for ``Email``, None for the others."""
    return {
        name: (email if name.casefold() == "email" else None)
        if name.casefold() not in held
        else held[name.casefold()][1]
        for name in names
    }


def new_person_id(
    created: CreatePerson, tag: str, first: int, taken: Callable[[str], bool]
) -> tuple[int, str]:
    """The first free id of a created contact or lead, numbered from ``first`` on, and its
    number: ``003`` (a contact) or ``00Q`` (a lead), ``tag``, the number in 9 digits."""
    prefix = "00Q" if created.kind is RecordKind.LEAD else "003"
    number = first
    while taken(found := f"{prefix}{tag}{number:09d}"):
        number += 1
    return number, found


def created_person(created: CreatePerson, person_id: str, modified: datetime) -> Person:
    """The contact or lead a field mapping creates, under ``person_id``, last modified at
    ``modified``: its email is its ``Email`` value, else its email."""
    email = str(created.values.get("Email") or created.email)
    return Person(person_id, PersonKind(created.kind.value), email, modified)


def created_fields(created: CreatePerson) -> dict[str, CrmValue]:
    """The field values of a created contact or lead other than its email."""
    return {name: value for name, value in created.values.items() if name.casefold() != "email"}
