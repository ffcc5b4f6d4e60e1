"""The shell of the subscriber rules: read through the ports, plan with
:mod:`cmsf_core.domain.subscribers`, apply, report.

- :func:`sync_subscribers` runs with the primary sync (:func:`~cmsf_core.sync.run_sync`
  calls it): the Email Opt Out of every contact and lead whose email changed state on a
  list since the last sync, and the suppression records.
- :func:`handle_record_changes` is what the contact and lead triggers do with a batch of
  changes: unsubscribe on opt-out, Deleted on delete, as the trigger settings allow.
- :func:`add_to_list` adds a contact or lead to a list, refused when it is opted out and
  the "prevent" setting is on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

import attrs

from cmsf_core.domain import records
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.records import PersonKind, WriteResult
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import (
    CommandResult,
    DuplicateEmail,
    ImportSubscribers,
    ListMembership,
    OptOutPlan,
    Person,
    RecordChange,
    RecordKind,
    SubscriberImport,
    SuppressionPlan,
    TriggerPlan,
    check_list_add,
    email_key,
    plan_email_opt_out,
    plan_record_changes,
    plan_suppression_sync,
    records_to_process,
)
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.ports.crm import CrmStore
from cmsf_core.ports.platform import EmailPlatform

__all__ = [
    "RecordChangeReport",
    "SubscriberSyncReport",
    "add_to_list",
    "handle_record_changes",
    "sync_subscribers",
    "to_subscriber_person",
]

_KINDS = {PersonKind.CONTACT: RecordKind.CONTACT, PersonKind.LEAD: RecordKind.LEAD}


def to_subscriber_person(person: records.Person) -> Person:
    """The subscriber rules' view of a contact or lead the CRM port returned."""
    if not isinstance(person, records.Person):
        raise InvalidTypeError("person", "a records.Person", person)
    return Person(
        person.person_id,
        _KINDS[person.kind],
        email=person.email,
        email_opt_out=person.email_opt_out,
    )


def _people(crm: CrmStore, emails: Collection[str]) -> list[Person]:
    if not emails:
        return []
    found = crm.find_people(emails)
    seen: dict[str, Person] = {}
    for people in found.values():
        for person in people:
            seen.setdefault(person.person_id, to_subscriber_person(person))
    return list(seen.values())


# ----------------------------------------------------------------------------- primary sync


@attrs.frozen
class SubscriberSyncReport:
    """What the subscriber part of a sync changed (or, on a dry run, would change).

    ``failures`` are the CRM's per-item refusals (record id or email -> reason).
    """

    opt_out: OptOutPlan = attrs.field(factory=OptOutPlan)
    suppression: SuppressionPlan = attrs.field(factory=SuppressionPlan)
    failures: tuple[tuple[object, str], ...] = ()
    messages: tuple[MaintenanceMessage, ...] = ()


def _duplicate_message(duplicate: DuplicateEmail, at: datetime) -> MaintenanceMessage:
    ids = ", ".join(duplicate.record_ids)
    return MaintenanceMessage(
        "SYNC-DUPLICATE-EMAIL",
        Severity.WARNING,
        duplicate.email,
        f"{len(duplicate.record_ids)} contacts and leads share this email ({ids}); "
        "Email Opt Out is kept the same on all of them.",
        at,
    )


def _failure_messages(code: str, result: WriteResult, at: datetime) -> list[MaintenanceMessage]:
    return [
        MaintenanceMessage(code, Severity.ERROR, str(item) or None, reason, at)
        for item, reason in result.failures
    ]


def sync_subscribers(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    since: Mapping[str, datetime | None],
    *,
    as_of: datetime,
    dry_run: bool = False,
) -> SubscriberSyncReport:
    """The subscriber part of the primary sync, for the clients in ``since``.

    ``since`` maps each client id to the start of the window the sync read for it
    (``None``: everything).  With "sync email opt out" on, the emails whose list state
    changed since then are read again (their lists in every client of ``since``), and
    every contact and lead with that email gets the Email Opt Out the rule calls for;
    duplicates are reported as warnings.  With "sync suppression list" on, the CRM's
    suppression records follow the clients' suppression lists.  A dry run only plans.
    """
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    as_of = ensure_utc(as_of, "as_of")
    opt_out = OptOutPlan()
    if settings.sync_email_opt_out:
        changed: dict[str, str] = {}
        for client_id, start in since.items():
            for email in platform.subscriber_changes(client_id, since=start):
                changed.setdefault(email_key(email), email)
        memberships: dict[str, list[ListMembership]] = {}
        for email in changed.values():
            memberships[email] = [m for c in since for m in platform.lists_for_email(c, email)]
        opt_out = plan_email_opt_out(
            memberships, _people(crm, list(changed.values())), sync_email_opt_out=True
        )
    suppression = SuppressionPlan()
    if settings.sync_suppression_list:
        entries = [e for client_id in since for e in platform.suppression_list(client_id)]
        suppression = plan_suppression_sync(
            entries, crm.suppression_records(), sync_suppression_list=True
        )
    messages = [_duplicate_message(d, as_of) for d in opt_out.duplicates]
    if dry_run:
        return SubscriberSyncReport(opt_out, suppression, messages=tuple(messages))
    failures: list[tuple[object, str]] = []
    if opt_out.changes:
        result = crm.set_opt_out(opt_out.changes)
        failures += result.failures
        messages += _failure_messages("SYNC-EMAIL-OPT-OUT", result, as_of)
    if suppression.changes:
        result = crm.apply_suppression(
            [*suppression.create, *suppression.update, *suppression.remove]
        )
        failures += result.failures
        messages += _failure_messages("SYNC-SUPPRESSION", result, as_of)
    if messages:
        crm.add_messages(messages)
    return SubscriberSyncReport(opt_out, suppression, tuple(failures), tuple(messages))


# ----------------------------------------------------------------------------- triggers


@attrs.frozen
class RecordChangeReport:
    """What a trigger batch did: the plan, and the platform's result for each command."""

    plan: TriggerPlan
    results: tuple[CommandResult, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the platform accepted every command."""
        return all(r.ok for r in self.results)


def handle_record_changes(
    crm: CrmStore,
    platform: EmailPlatform,
    client_id: str,
    changes: Sequence[RecordChange],
    settings: Settings,
) -> RecordChangeReport:
    """Handle one trigger batch of contact and lead changes on ``client_id``'s lists.

    The trigger settings pick the changes processed (none with triggers disabled, the
    first with bulk triggers disabled); the lists of their emails are read, and the
    unsubscribes (opt-out ticked) and deletes (record deleted) the settings call for are
    executed on the platform.  A deleted record's email still held by another contact or
    lead is left alone.
    """
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    if not isinstance(client_id, str) or not client_id.strip():
        raise InvalidValueError("client_id", "a non-empty client id", client_id)
    flags = {
        "disable_triggers": settings.disable_triggers,
        "disable_bulk_triggers": settings.disable_bulk_triggers,
        "unsubscribe_on_opt_out": settings.unsubscribe_on_opt_out,
        "delete_subscriber_on_record_delete": settings.delete_subscriber_on_record_delete,
    }
    processed = records_to_process(
        changes,
        disable_triggers=settings.disable_triggers,
        disable_bulk_triggers=settings.disable_bulk_triggers,
    )
    # Read lists only for the changes a rule may act on (a superset: the rules decide).
    acting = [
        c
        for c in processed
        if isinstance(c, RecordChange)
        and c.record.email is not None
        and (
            (c.is_delete and settings.delete_subscriber_on_record_delete)
            or (not c.is_delete and settings.unsubscribe_on_opt_out and c.record.email_opt_out)
        )
    ]
    emails = {email_key(e): e for c in acting if (e := c.record.email) is not None}
    memberships = {e: platform.lists_for_email(client_id, e) for e in emails.values()}
    deleted_emails = [e for c in acting if c.is_delete and (e := c.record.email) is not None]
    plan = plan_record_changes(
        changes, memberships, **flags, surviving=_people(crm, deleted_emails)
    )
    results = platform.execute(client_id, plan.commands) if plan.commands else ()
    return RecordChangeReport(plan, tuple(results))


# ----------------------------------------------------------------------------- list adds


def add_to_list(
    platform: EmailPlatform,
    client_id: str,
    list_id: str,
    person: Person,
    settings: Settings,
    *,
    subscriber: SubscriberImport | None = None,
) -> CommandResult:
    """Add a contact or lead to a list (an import of one row, never resubscribing).

    Raises :class:`~cmsf_core.domain.subscribers.OptedOutError` with the product's message
    when its Email Opt Out is checked and "prevent contacts or leads being added to lists"
    is on.  ``subscriber`` is the row to send (default: the email alone).
    """
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    check_list_add(person, prevent_opted_out_list_add=settings.prevent_opted_out_list_add)
    if person.email is None:
        raise InvalidValueError("person.email", "an email to add to the list", None)
    row = subscriber if subscriber is not None else SubscriberImport(person.email)
    command = ImportSubscribers(
        list_id,
        (row,),
        False,
        queue_subscription_based_autoresponders=settings.trigger_joins_a_list_journeys,
    )
    (result,) = platform.execute(client_id, [command])
    return result
