"""The member statuses of a campaign the adapter creates (``CampaignMemberStatus``).

Salesforce gives every new Campaign two statuses by itself (:data:`AUTO_STATUSES`);
:func:`reconcile_statuses` turns them into exactly the statuses the campaign asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from cmsf_core.adapters.salesforce.codec import _cell, _status_differs
from cmsf_core.domain.records.campaigns import CrmCampaign, MemberStatus

if TYPE_CHECKING:
    from cmsf_core.adapters.salesforce.crm import SalesforceCrm

__all__ = ["reconcile_statuses", "status_row"]


def reconcile_statuses(
    crm: SalesforceCrm, created: Mapping[str, CrmCampaign]
) -> list[tuple[object, str]]:
    """Give each new campaign (by Salesforce Id) exactly the statuses it asks for.

    When Salesforce inserts a Campaign it creates two CampaignMemberStatus rows by
    itself (:data:`AUTO_STATUSES`): "Sent" (``IsDefault``) and "Responded"
    (``HasResponded``).  The CampaignMemberStatus object reference adds the rules the
    order below follows: a status that is the default cannot be deleted, a campaign
    always has a default (API 39.0 and later), and ``SortOrder`` is unique within a
    campaign.  One Bulk job per step, for all the campaigns at once:

    1. the default asked for becomes the default: the row with its label is updated
       (``IsDefault`` true, which takes the flag from the old default), or inserted
       (on a free ``SortOrder`` for now);
    2. the statuses not asked for are deleted (the old default is no longer one);
    3. the kept statuses get their ``HasResponded``, ``IsDefault`` and ``SortOrder``;
       when one would take an order another still holds, they move through free
       orders first;
    4. the missing statuses are inserted.

    A campaign whose step 1 was refused is left there (its failure reported).
    Salesforce also requires a responded status on every campaign (API 39.0 and
    later): a campaign asking for none keeps "Responded", refused per item.
    """
    if not created:
        return []
    operation = "create_campaigns"
    obj = crm.field_map.member_status
    key_of = {sf_id: campaign.campaign_id for sf_id, campaign in created.items()}
    owner: dict[str, str] = {}
    failures: list[tuple[object, str]] = []

    def read() -> dict[str, list[dict[str, Any]]]:
        found = crm._status_rows(operation, created)
        owner.update((row["Id"], key_of[sf_id]) for sf_id, rows in found.items() for row in rows)
        return found

    def who(row: Mapping[str, str]) -> object:
        campaign = row.get("CampaignId", "")
        return key_of.get(campaign) or owner.get(row.get("Id", ""), row.get("Id"))

    def run(verb: str, rows: list[dict[str, str]]) -> bool:
        failures.extend(crm._bulk(operation, obj, verb, rows, who)[1])
        return bool(rows)

    current = read()
    updates, inserts = [], []
    for sf_id, campaign in created.items():
        want = next(s for s in campaign.statuses if s.is_default)
        row = next((r for r in current[sf_id] if r["Label"] == want.label), None)
        if row is None:
            taken = {int(r["SortOrder"] or 0) for r in current[sf_id]}
            order = want.sort_order if want.sort_order not in taken else max(taken) + 1
            inserts.append(status_row(sf_id, attrs.evolve(want, sort_order=order)))
        elif not row["IsDefault"]:
            updates.append({"Id": row["Id"], "IsDefault": "true"})
    changed = run("update", updates) | run("insert", inserts)
    skipped = {item for item, _reason in failures}
    todo = {sf_id: c for sf_id, c in created.items() if c.campaign_id not in skipped}
    current = read() if changed else current
    deletes = [
        {"Id": row["Id"]}
        for sf_id, campaign in todo.items()
        for row in current[sf_id]
        if not campaign.has_status(row["Label"])
    ]
    current = read() if run("delete", deletes) else current
    bumps, finals, missing = [], [], []
    for sf_id, campaign in todo.items():
        have = {row["Label"]: row for row in current[sf_id]}
        orders = {int(row["SortOrder"] or 0): row["Id"] for row in current[sf_id]}
        changes = [
            (have[s.label], s)
            for s in campaign.statuses
            if s.label in have and _status_differs(have[s.label], s)
        ]
        moves = [(row, s) for row, s in changes if int(row["SortOrder"] or 0) != s.sort_order]
        if any(orders.get(s.sort_order, row["Id"]) != row["Id"] for row, s in moves):
            top = max([*orders, *(s.sort_order for s in campaign.statuses)]) + 1
            bumps += [
                {"Id": row["Id"], "SortOrder": str(top + n)} for n, (row, _s) in enumerate(moves)
            ]
        finals += [
            {
                "Id": row["Id"],
                "IsDefault": _cell(s.is_default),
                "HasResponded": _cell(s.has_responded),
                "SortOrder": str(s.sort_order),
            }
            for row, s in changes
        ]
        missing += [status_row(sf_id, s) for s in campaign.statuses if s.label not in have]
    run("update", bumps)
    run("update", finals)
    run("insert", missing)
    return failures


def status_row(
    campaign_sf_id: str, status: MemberStatus, *, default: bool | None = None
) -> dict[str, str]:
    """A ``CampaignMemberStatus`` row (Bulk CSV cells) of a campaign, by its Salesforce Id;
    ``default`` overrides the status's own ``IsDefault``."""
    return {
        "CampaignId": campaign_sf_id,
        "Label": status.label,
        "IsDefault": _cell(status.is_default if default is None else default),
        "HasResponded": _cell(status.has_responded),
        "SortOrder": str(status.sort_order),
    }
