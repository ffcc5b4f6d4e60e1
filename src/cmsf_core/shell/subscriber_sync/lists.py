"""Sending people to a list: one contact or lead added (:func:`add_to_list`) and an
import-wizard run (:func:`run_import`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo

import attrs

from cmsf_core.domain import records
from cmsf_core.domain.checks import is_collection
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings import ListFieldMappings
from cmsf_core.domain.limits import Job
from cmsf_core.domain.maintenance import MaintenanceMessage, mask_email
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import (
    CommandResult,
    Consent,
    ImportOutcome,
    ImportPlan,
    ImportRefreshType,
    ImportRow,
    ImportStatus,
    ImportSubscribers,
    Person,
    RemoveSubscriber,
    SubscriberImport,
    SubscriberState,
    check_list_add,
    email_key,
    plan_import,
    to_subscriber_import,
)
from cmsf_core.ports.crm import CrmStore
from cmsf_core.ports.platform import EmailPlatform
from cmsf_core.shell.field_sync import check_as_of, list_mappings, mapped_rows
from cmsf_core.shell.people import as_person
from cmsf_core.shell.reports import PlatformAnswers
from cmsf_core.shell.subscriber_sync.shared import (
    ListAddRefusal,
    _log_failures,
    _outcomes,
    _refusal,
    check_client_and_settings,
)


def add_to_list(
    platform: EmailPlatform,
    client_id: str,
    list_id: str,
    person: Person,
    settings: Settings,
    *,
    subscriber: SubscriberImport | ImportRow | None = None,
    mappings: ListFieldMappings | None = None,
    crm: CrmStore | None = None,
    zone: tzinfo = UTC,
    as_of: datetime | None = None,
) -> CommandResult:
    """Add a contact or lead to a list (an import of one row, never resubscribing).

    Raises :class:`~cmsf_core.domain.subscribers.OptedOutError` with the product's message
    when its Email Opt Out is checked and "prevent contacts or leads being added to lists"
    is on.  ``subscriber`` is the row to send (default: the email alone): an
    :class:`~cmsf_core.domain.subscribers.ImportRow` as the CRM holds it (its mobile number
    is converted to E.164 for the SMS country) or a ready
    :class:`~cmsf_core.domain.subscribers.SubscriberImport`.  With SMS off neither the
    mobile number nor the consent to send SMS is sent.  Its email must be the person's.

    ``mappings`` (the list's field mappings) adds the mapped custom fields, read from
    ``crm`` and converted in the org's ``zone``; a value that cannot be converted is left
    out and written to the maintenance log, dated ``as_of``
    (``docs/field-mappings.md``).
    """
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    check_list_add(person, prevent_opted_out_list_add=settings.prevent_opted_out_list_add)
    if person.email is None:
        raise InvalidValueError("person.email", "an email to add to the list", None)
    row = _list_add_row(person.email, subscriber, settings)
    if mappings is not None:
        row = _with_mapped_fields(row, person, mappings, crm, zone, as_of)
    command = ImportSubscribers(
        list_id,
        (row,),
        False,
        queue_subscription_based_autoresponders=settings.trigger_joins_a_list_journeys,
    )
    (result,) = platform.execute(client_id, [command])
    return result


def _list_add_row(
    email: str, subscriber: SubscriberImport | ImportRow | None, settings: Settings
) -> SubscriberImport:
    if subscriber is None:
        return SubscriberImport(email)
    if isinstance(subscriber, ImportRow):
        row = to_subscriber_import(
            subscriber,
            sms_enabled=settings.sms_enabled,
            sms_country=settings.sms_country,
            field="subscriber",
        )
    elif isinstance(subscriber, SubscriberImport):
        row = subscriber
        if not settings.sms_enabled:
            row = attrs.evolve(row, mobile_number=None, consent_to_send_sms=Consent.UNCHANGED)
    else:
        raise InvalidTypeError("subscriber", "a SubscriberImport, an ImportRow or None", subscriber)
    if email_key(row.email) != email_key(email):
        raise InvalidValueError(
            "subscriber.email", f"the person's email ({mask_email(email)})", mask_email(row.email)
        )
    return row


def _with_mapped_fields(
    row: SubscriberImport,
    person: Person,
    mappings: ListFieldMappings,
    crm: CrmStore | None,
    zone: tzinfo,
    as_of: datetime | None,
) -> SubscriberImport:
    """``row`` with the list's mapped fields of ``person`` (the messages logged)."""
    list_mappings(mappings)
    if crm is None:
        raise InvalidValueError("crm", "the CRM store to read the mapped fields from", None)
    (mapped,), messages = mapped_rows(
        crm,
        [(ImportRow(row.email, record_id=person.record_id), person)],
        mappings,
        zone=zone,
        as_of=check_as_of(as_of),
    )
    if messages:
        crm.add_messages(messages)
    return attrs.evolve(row, custom_fields={**row.custom_fields, **mapped.custom_fields})


@attrs.frozen
class ImportReport(PlatformAnswers):
    """What an import-wizard run did (or, on a dry run, would do).

    ``plan`` is the run's plan, ``results`` the platform's answer to each of its commands
    (imports first, then removals), ``outcomes`` one per imported row (FAILED with the
    platform's code and message for a refused one), ``refused`` the rows not sent because
    their record is opted out.
    """

    plan: ImportPlan
    results: tuple[CommandResult, ...] = ()
    outcomes: tuple[ImportOutcome, ...] = ()
    refused: tuple[ListAddRefusal, ...] = ()
    #: Mapped field values that could not be converted (left out of their rows).
    messages: tuple[MaintenanceMessage, ...] = ()

    @property
    def failures(self) -> tuple[ImportOutcome, ...]:
        """The rows the platform refused, with its code and message."""
        return tuple(o for o in self.outcomes if o.status is ImportStatus.FAILED)

    @property
    def removed(self) -> tuple[str, ...]:
        """The emails an "Add, Update, Remove" run moved to Deleted."""
        return tuple(
            r.command.email
            for r in self.results
            if r.ok and isinstance(r.command, RemoveSubscriber)
        )


def run_import(
    platform: EmailPlatform,
    client_id: str,
    list_id: str,
    rows: Iterable[ImportRow],
    settings: Settings,
    *,
    refresh_type: ImportRefreshType | str,
    people: Iterable[Person | records.Person] = (),
    dry_run: bool = False,
    mappings: ListFieldMappings | None = None,
    crm: CrmStore | None = None,
    zone: tzinfo = UTC,
    as_of: datetime | None = None,
) -> ImportReport:
    """One import-wizard run of ``rows`` into ``client_id``'s list ``list_id``.

    The list's subscribers and states
    (:meth:`~cmsf_core.ports.platform.EmailPlatform.list_subscribers`) and the client's
    suppression list are read, the run is planned by
    :func:`~cmsf_core.domain.subscribers.plan_import` with the settings ("re-subscribe
    deleted subscribers via import wizard", "trigger joins-a-list journeys", SMS and its
    country, the subscriber import job's batch size), and its commands are executed.

    ``people`` are the CRM records behind the rows, matched by
    :attr:`~cmsf_core.domain.subscribers.ImportRow.record_id`: with "prevent contacts or
    leads being added to lists" on, a row whose record has Email Opt Out checked is not
    sent and is reported in ``refused`` with the product's message; an "Add, Update,
    Remove" run does not remove it either (the setting is not retrospective).  Everything
    is validated before anything is read or sent (a bad mobile number in any row refuses
    the whole run, naming the row): nothing is half-applied.  ``dry_run`` reads and
    plans, and sends nothing.

    ``mappings`` (the list's field mappings) adds to each row whose record is in
    ``people`` its mapped custom fields, read from ``crm`` and converted in the org's
    ``zone``; a value that cannot be converted is left out, reported in ``messages`` and
    (unless ``dry_run``) written to the maintenance log, dated ``as_of``.
    """
    check_client_and_settings(client_id, settings)
    if not isinstance(list_id, str) or not list_id.strip():
        raise InvalidValueError("list_id", "a non-empty list id", list_id)
    if not is_collection(rows):
        raise InvalidTypeError("rows", "a sequence of ImportRow", rows)
    wanted = list(rows)
    records_by_id: dict[str, Person] = {}
    if not is_collection(people):
        raise InvalidTypeError("people", "a sequence of Person", people)
    for index, given_person in enumerate(people):
        person = as_person(given_person, f"people[{index}]")
        records_by_id.setdefault(person.record_id, person)
    sent: list[ImportRow] = []
    refused: list[ListAddRefusal] = []
    for index, row in enumerate(wanted):
        if not isinstance(row, ImportRow):
            raise InvalidTypeError(f"rows[{index}]", "an ImportRow", row)
        record = records_by_id.get(row.record_id) if row.record_id is not None else None
        refusal = _refusal(record, settings) if record is not None else None
        if refusal is None:
            sent.append(row)
        else:
            refused.append(attrs.evolve(refusal, email=row.email))

    messages: tuple[MaintenanceMessage, ...] = ()
    if mappings is not None:
        sent, messages = _mapped_import_rows(sent, records_by_id, mappings, crm, zone, as_of)

    def plan(current: Mapping[str, SubscriberState], suppressed: Iterable[str] = ()) -> ImportPlan:
        return plan_import(
            list_id,
            sent,
            current,
            refresh_type=refresh_type,
            resubscribe_deleted_via_import_wizard=settings.resubscribe_deleted_via_import_wizard,
            trigger_joins_a_list_journeys=settings.trigger_joins_a_list_journeys,
            suppressed=suppressed,
            sms_enabled=settings.sms_enabled,
            sms_country=settings.sms_country,
            batch_size=settings.governor_limits.size_for(Job.SUBSCRIBER_IMPORT),
        )

    plan({})  # every row is checked before anything is read or sent

    current = platform.list_subscribers(client_id, list_id)
    suppressed = [entry.email for entry in platform.suppression_list(client_id)]
    # A refused row's subscriber is left exactly as it is: not sent, and (since the plan
    # only removes subscribers it holds) not removed by "Add, Update, Remove".
    untouched = {email_key(r.email) for r in refused if r.email is not None}
    untouched -= {email_key(row.email) for row in sent}
    held = {e: state for e, state in current.items() if email_key(e) not in untouched}
    planned = plan(held, suppressed)
    if messages and crm is not None and not dry_run:
        crm.add_messages(messages)
    if dry_run or not planned.commands:
        return ImportReport(planned, refused=tuple(refused), messages=messages)
    results = tuple(platform.execute(client_id, planned.commands))
    outcomes = _outcomes(results, planned.kept_inactive)
    _log_failures(f"import into list {list_id}", outcomes)
    return ImportReport(planned, results, outcomes, tuple(refused), messages)


def _mapped_import_rows(
    rows: list[ImportRow],
    people: Mapping[str, Person],
    mappings: ListFieldMappings,
    crm: CrmStore | None,
    zone: tzinfo,
    as_of: datetime | None,
) -> tuple[list[ImportRow], tuple[MaintenanceMessage, ...]]:
    """The rows with their records' mapped fields (rows without a record as they are)."""
    list_mappings(mappings)
    if crm is None:
        raise InvalidValueError("crm", "the CRM store to read the mapped fields from", None)
    at = check_as_of(as_of)
    known = [(i, r) for i, r in enumerate(rows) if r.record_id in people]
    pairs = [(r, people[r.record_id or ""]) for _i, r in known]
    mapped, messages = mapped_rows(crm, pairs, mappings, zone=zone, as_of=at)
    out = list(rows)
    for (index, _row), row in zip(known, mapped, strict=True):
        out[index] = row
    return out, messages
