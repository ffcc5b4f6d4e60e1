"""Contacts and leads in Salesforce: finding them by email (not converted leads) or by
account, and their email opt-out (``HasOptedOutOfEmail``)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cmsf_core.adapters.salesforce.codec import _cell, _ids, _parse_time
from cmsf_core.adapters.salesforce.field_maps import LEAD_PREFIX, FieldMap
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.records.people import Person, PersonKind
from cmsf_core.domain.records.sync_state import WriteResult
from cmsf_core.domain.subscribers import OptOutChange

if TYPE_CHECKING:
    from cmsf_core.adapters.salesforce.crm import SalesforceCrm

__all__ = ["contacts_of_accounts", "find_people", "set_opt_out"]


def find_people(crm: SalesforceCrm, emails: Collection[str]) -> Mapping[str, tuple[Person, ...]]:
    """Contacts and leads (not converted ones: ``IsConverted = false``) by normalised
    email; a contact carries its account."""
    fm = crm.field_map
    wanted = {normalise_email(e) for e in emails}
    found: defaultdict[str, list[Person]] = defaultdict(list)
    for kind, obj in ((PersonKind.CONTACT, fm.contact), (PersonKind.LEAD, fm.lead)):
        # A converted lead is no longer a person to match: its contact is (and
        # Salesforce refuses member and opt-out writes on the lead).
        converted = f" AND {fm.lead_converted} = false" if kind is PersonKind.LEAD else ""
        rows = crm._query_in(
            "find_people",
            f"SELECT {_person_select(fm, kind)} FROM {obj} "
            f"WHERE {fm.person_email} IN {{values}}{converted}",
            sorted(wanted),
        )
        for row in rows:
            email = normalise_email(row[fm.person_email])
            if email in wanted:  # SOQL compares text without regard to case
                found[email].append(_person(fm, row, kind))
    return {e: tuple(sorted(p, key=lambda x: x.person_id)) for e, p in found.items()}


def contacts_of_accounts(
    crm: SalesforceCrm, account_ids: Collection[str]
) -> Mapping[str, tuple[Person, ...]]:
    """Contacts by ``AccountId`` (the field map's ``contact_account``), ``IN`` lists
    sent 200 ids at a time.  A contact without an email is left out (a
    :class:`~cmsf_core.domain.records.Person` has one).  An account asked for by its
    15-character id is answered under that id."""
    fm = crm.field_map
    wanted = _ids("account_ids", account_ids)
    exact = set(wanted)
    by_prefix = {account[:15]: account for account in wanted}
    rows = crm._query_in(
        "contacts_of_accounts",
        f"SELECT {_person_select(fm, PersonKind.CONTACT)} FROM {fm.contact} "
        f"WHERE {fm.contact_account} IN {{values}} AND {fm.person_email} != null",
        wanted,
    )
    found: defaultdict[str, list[Person]] = defaultdict(list)
    for row in rows:
        account = row.get(fm.contact_account) or ""
        asked = account if account in exact else by_prefix.get(account[:15])
        if asked is not None and row.get(fm.person_email):
            found[asked].append(_person(fm, row, PersonKind.CONTACT))
    return {a: tuple(sorted(p, key=lambda x: x.person_id)) for a, p in found.items()}


def _person_select(fm: FieldMap, kind: PersonKind) -> str:
    fields = f"Id, {fm.person_email}, {fm.person_modified}, {fm.person_opt_out}"
    return fields + (f", {fm.contact_account}" if kind is PersonKind.CONTACT else "")


def _person(fm: FieldMap, row: Mapping[str, Any], kind: PersonKind) -> Person:
    account = row.get(fm.contact_account) if kind is PersonKind.CONTACT else None
    return Person(
        row["Id"],
        kind,
        row[fm.person_email],
        _parse_time(row[fm.person_modified]),
        email_opt_out=bool(row[fm.person_opt_out]),
        account_id=account or None,
    )


def set_opt_out(crm: SalesforceCrm, changes: Sequence[OptOutChange]) -> WriteResult:
    """Update ``HasOptedOutOfEmail`` on contacts and leads (one job per object)."""
    fm = crm.field_map
    written, failures = 0, []
    for obj, group in itertools.groupby(
        sorted(changes, key=lambda c: c.record_id.startswith(LEAD_PREFIX)),
        key=lambda c: fm.lead if c.record_id.startswith(LEAD_PREFIX) else fm.contact,
    ):
        rows = [{"Id": c.record_id, fm.person_opt_out: _cell(c.value)} for c in group]
        done, failed = crm._bulk("set_opt_out", obj, "update", rows, lambda r: r.get("Id"))
        written += done
        failures += failed
    return WriteResult(written, tuple(failures))
