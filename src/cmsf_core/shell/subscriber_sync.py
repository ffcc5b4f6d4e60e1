"""The shell of the subscriber rules: read through the ports, plan with
:mod:`cmsf_core.domain.subscribers`, apply, report.

- :func:`sync_subscribers` runs with the primary sync (:func:`~cmsf_core.shell.sync.run_sync`
  calls it): the Email Opt Out of every contact and lead whose email changed state on a
  list since the last sync, and the suppression records.
- :func:`handle_record_changes` is what the contact and lead triggers do with a batch of
  changes: unsubscribe on opt-out, Deleted on delete, as the trigger settings allow.
- :func:`handle_account_changes` is what the account trigger does with a batch of account
  changes: the accounts' contacts have their mapped subscriber rows sent again to the
  lists they receive on.
- :func:`add_to_list` adds a contact or lead to a list, refused when it is opted out and
  the "prevent" setting is on.
- :func:`run_import` is an import-wizard run into one list.

Mobile numbers and the two consents reach the platform through :func:`run_import`,
:func:`add_to_list` and :func:`handle_account_changes` alike: numbers in E.164 for the SMS
country when SMS is enabled, neither the number nor the consent to send SMS when it is not
(:func:`~cmsf_core.domain.subscribers.to_subscriber_import`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo

import attrs

from cmsf_core.domain import records
from cmsf_core.domain.checks import is_collection
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings import ListFieldMappings
from cmsf_core.domain.limits import Job
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity, mask_email, mask_emails
from cmsf_core.domain.records import PersonKind
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import (
    CommandResult,
    Consent,
    DuplicateEmail,
    ImportOutcome,
    ImportPlan,
    ImportRefreshType,
    ImportResult,
    ImportRow,
    ImportStatus,
    ImportSubscribers,
    ListMembership,
    OptOutPlan,
    Person,
    RecordChange,
    RecordKind,
    RemoveSubscriber,
    SubscriberImport,
    SubscriberState,
    SuppressionPlan,
    TriggerPlan,
    check_list_add,
    email_key,
    import_outcomes,
    list_add_refusal,
    plan_account_changes,
    plan_email_opt_out,
    plan_import,
    plan_record_changes,
    plan_suppression_sync,
    records_to_process,
    to_subscriber_import,
)
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.ports.crm import CrmStore
from cmsf_core.ports.platform import EmailPlatform
from cmsf_core.shell.field_sync import FieldMappingConfig, check_as_of, list_mappings, mapped_rows
from cmsf_core.shell.reports import PlatformAnswers, refusal_messages

__all__ = [
    "AccountChangeReport",
    "ImportReport",
    "ListAddRefusal",
    "RecordChangeReport",
    "SubscriberSyncReport",
    "add_to_list",
    "handle_account_changes",
    "handle_record_changes",
    "run_import",
    "sync_subscribers",
    "to_subscriber_person",
]

_log = logging.getLogger(__name__)

#: The states in which a subscriber receives a list's email (an account change re-sends
#: its contacts' rows to these lists only).
_RECEIVING = frozenset({SubscriberState.ACTIVE, SubscriberState.UNCONFIRMED})

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
        account_id=person.account_id,
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


def sync_subscribers(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    since: Mapping[str, datetime | None],
    *,
    as_of: datetime,
    dry_run: bool = False,
    full: bool = False,
) -> SubscriberSyncReport:
    """The subscriber part of the primary sync, for the clients in ``since``.

    ``since`` maps each client id to the start of the window the sync read for it
    (``None``: everything).  With "sync email opt out" on, the emails whose list state
    changed since then are read again (their lists in every client of ``since``), and
    every contact and lead with that email gets the Email Opt Out the rule calls for;
    duplicates are reported as warnings.  With "sync suppression list" on, the CRM's
    suppression records follow the clients' suppression lists; with it off, a ``full``
    sync removes them (the integration loaded them).  A dry run only plans.
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
    if settings.sync_suppression_list or full:
        on = settings.sync_suppression_list
        entries = (
            [e for client_id in since for e in platform.suppression_list(client_id)] if on else []
        )
        suppression = plan_suppression_sync(
            entries, crm.suppression_records(), sync_suppression_list=on, full=full
        )
    messages = [_duplicate_message(d, as_of) for d in opt_out.duplicates]
    if dry_run:
        return SubscriberSyncReport(opt_out, suppression, messages=tuple(messages))
    failures: list[tuple[object, str]] = []
    if opt_out.changes:
        result = crm.set_opt_out(opt_out.changes)
        failures += result.failures
        messages += refusal_messages("SYNC-EMAIL-OPT-OUT", result, as_of)
    if suppression.changes:
        result = crm.apply_suppression(
            [*suppression.create, *suppression.update, *suppression.remove]
        )
        failures += result.failures
        messages += refusal_messages("SYNC-SUPPRESSION", result, as_of)
    if messages:
        crm.add_messages(messages)
    return SubscriberSyncReport(opt_out, suppression, tuple(failures), tuple(messages))


# ----------------------------------------------------------------------------- triggers


@attrs.frozen
class RecordChangeReport(PlatformAnswers):
    """What a trigger batch did: the plan, and the platform's result for each command."""

    plan: TriggerPlan
    results: tuple[CommandResult, ...] = ()


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
    check_client_and_settings(client_id, settings)
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


# ----------------------------------------------------------------------------- shared


def check_client_and_settings(client_id: object, settings: object) -> None:
    """Refuse a shell call whose settings are not a Settings or whose client id is empty."""
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    if not isinstance(client_id, str) or not client_id.strip():
        raise InvalidValueError("client_id", "a non-empty client id", client_id)


def _as_person(value: object, field: str) -> Person:
    if isinstance(value, records.Person):
        return to_subscriber_person(value)
    if not isinstance(value, Person):
        raise InvalidTypeError(field, "a Person (or a records.Person)", value)
    return value


@attrs.frozen
class ListAddRefusal:
    """A contact or lead that was not sent, with the product's message (its Email Opt Out
    is checked and "prevent contacts or leads being added to lists" is on)."""

    record_id: str
    kind: RecordKind
    email: str | None = attrs.field(repr=lambda e: "None" if e is None else mask_email(e))
    message: str


def _refusal(person: Person, settings: Settings) -> ListAddRefusal | None:
    message = list_add_refusal(
        person, prevent_opted_out_list_add=settings.prevent_opted_out_list_add
    )
    if message is None:
        return None
    return ListAddRefusal(person.record_id, person.kind, person.email, message)


def _outcomes(
    results: Iterable[CommandResult], kept_inactive: Mapping[str, SubscriberState]
) -> tuple[ImportOutcome, ...]:
    """Per-email outcomes of the import commands among ``results``: the platform's answer
    for each row, or FAILED with the error for an import refused as a whole."""
    outcomes: list[ImportOutcome] = []
    for result in results:
        command = result.command
        if not isinstance(command, ImportSubscribers):
            continue
        answer = result.import_result
        if answer is None and not result.ok:
            outcomes.extend(
                ImportOutcome(row.email, ImportStatus.FAILED, None, result.error)
                for row in command.subscribers
            )
            continue
        outcomes.extend(
            import_outcomes(command, answer or ImportResult(), kept_inactive=kept_inactive)
        )
    return tuple(outcomes)


def _log_failures(what: str, outcomes: Iterable[ImportOutcome]) -> None:
    """One WARNING line for the rows the platform refused, every email in it masked."""
    failed = [o for o in outcomes if o.status is ImportStatus.FAILED]
    if failed:
        refused = ", ".join(f"{mask_email(o.email)} ({o.message})" for o in failed)
        _log.warning(
            "%s: %d subscriber(s) refused by the platform: %s",
            what,
            len(failed),
            mask_emails(refused),  # the platform's messages may quote an address too
        )


# ----------------------------------------------------------------------------- list adds


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


# ----------------------------------------------------------------------------- import wizard


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
        person = _as_person(given_person, f"people[{index}]")
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


# ----------------------------------------------------------------------------- account trigger


@attrs.frozen
class AccountChangeReport(PlatformAnswers):
    """What a batch of account changes did (or, on a dry run, would do).

    ``accounts`` are the accounts the trigger settings let through and ``skipped`` the
    others; ``reached`` their contacts; ``refused`` the opted-out contacts not sent;
    ``commands`` the imports re-sending the contacts' rows, ``results`` the platform's
    answer to each and ``outcomes`` one per row sent.
    """

    accounts: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    reached: tuple[Person, ...] = ()
    refused: tuple[ListAddRefusal, ...] = ()
    commands: tuple[ImportSubscribers, ...] = ()
    results: tuple[CommandResult, ...] = ()
    outcomes: tuple[ImportOutcome, ...] = ()


def _account_ids(account_ids: object) -> list[str]:
    if isinstance(account_ids, str | bytes) or not isinstance(account_ids, Sequence):
        raise InvalidTypeError("account_ids", "a sequence of account ids", account_ids)
    for index, account_id in enumerate(account_ids):
        if not isinstance(account_id, str) or not account_id.strip():
            raise InvalidValueError(f"account_ids[{index}]", "a non-empty account id", account_id)
    return list(account_ids)


def handle_account_changes(
    crm: CrmStore,
    platform: EmailPlatform,
    client_id: str,
    account_ids: Sequence[str],
    settings: Settings,
    *,
    subscriber_row: Callable[[Person], ImportRow] | None = None,
    dry_run: bool = False,
    field_mappings: FieldMappingConfig | None = None,
    as_of: datetime | None = None,
) -> AccountChangeReport:
    """Handle one trigger batch of account changes on ``client_id``'s lists.

    With "enable account trigger" on and triggers not disabled, the accounts' contacts
    are read (only the batch's first account with bulk triggers disabled) and each is
    processed as a contact change: ``subscriber_row(contact)`` (the field mappings,
    which may read Account fields) gives its row, and the row is sent again to every list
    the contact is Active or Unconfirmed on, in imports that never resubscribe and start
    no journey.  Nobody is added to a list and nobody inactive is reactivated.  With
    "prevent contacts or leads being added to lists" on, an opted-out contact is not sent
    (``refused``).  Mobile numbers and consents follow the SMS settings; every row is
    checked before anything is sent.  Without ``subscriber_row`` (or ``field_mappings``)
    the contacts reached are only reported.  ``dry_run`` reads and plans, and sends
    nothing.

    ``field_mappings`` replaces the row function where a list has mappings: each list's
    mapped fields are read from the CRM and converted (the row of ``subscriber_row``, or
    the email alone, gets them); values that cannot be converted are left out and logged,
    dated ``as_of`` (``docs/field-mappings.md``).
    """
    check_client_and_settings(client_id, settings)
    ids = _account_ids(account_ids)
    if subscriber_row is not None and not callable(subscriber_row):
        raise InvalidTypeError("subscriber_row", "a function of a Person or None", subscriber_row)
    triggered = settings.enable_account_trigger and not settings.disable_triggers
    accounts: tuple[str, ...] = ()
    if triggered:
        accounts = tuple(
            dict.fromkeys(
                records_to_process(
                    ids,
                    disable_triggers=settings.disable_triggers,
                    disable_bulk_triggers=settings.disable_bulk_triggers,
                )
            )
        )
    skipped = tuple(a for a in dict.fromkeys(ids) if a not in accounts)
    contacts = crm.contacts_of_accounts(accounts) if accounts else {}
    reached = plan_account_changes(
        ids,
        [to_subscriber_person(p) for people in contacts.values() for p in people],
        enable_account_trigger=settings.enable_account_trigger,
        disable_triggers=settings.disable_triggers,
        disable_bulk_triggers=settings.disable_bulk_triggers,
    )
    report = AccountChangeReport(accounts, skipped, reached)
    if (subscriber_row is None and field_mappings is None) or not reached:
        return report
    if subscriber_row is None:
        subscriber_row = _email_row

    refused: list[ListAddRefusal] = []
    rows: list[ImportRow] = []
    for person in reached:
        refusal = _refusal(person, settings)
        if refusal is not None:
            refused.append(refusal)
        elif person.email is not None:  # a contact read from the CRM always has one
            rows.append(_mapped_row(subscriber_row, person, person.email, settings))
    emails: dict[str, str] = {}
    for row in rows:
        emails.setdefault(email_key(row.email), row.email)
    memberships = {key: platform.lists_for_email(client_id, e) for key, e in emails.items()}

    per_list: dict[str, tuple[list[ImportRow], dict[str, SubscriberState]]] = {}
    for row in rows:
        for membership in memberships[email_key(row.email)]:
            if membership.state in _RECEIVING:
                list_rows, held = per_list.setdefault(membership.list_id, ([], {}))
                list_rows.append(row)
                held[row.email] = membership.state
    commands: list[ImportSubscribers] = []
    for list_id, (list_rows, held) in per_list.items():
        sent_rows = list_rows
        if field_mappings is not None:
            sent_rows = _account_rows(
                crm, client_id, list_id, list_rows, reached, field_mappings, as_of, dry_run
            )
        plan = plan_import(
            list_id,
            sent_rows,
            held,
            refresh_type=ImportRefreshType.ADD_UPDATE,
            resubscribe_deleted_via_import_wizard=False,
            trigger_joins_a_list_journeys=False,
            sms_enabled=settings.sms_enabled,
            sms_country=settings.sms_country,
            batch_size=settings.governor_limits.size_for(Job.SUBSCRIBER_IMPORT),
        )
        commands.extend(plan.imports)
    report = attrs.evolve(report, refused=tuple(refused), commands=tuple(commands))
    if dry_run or not commands:
        return report
    results = tuple(platform.execute(client_id, commands))
    outcomes = _outcomes(results, {})
    _log_failures("account change", outcomes)
    return attrs.evolve(report, results=results, outcomes=outcomes)


def _mapped_row(
    subscriber_row: Callable[[Person], ImportRow], person: Person, email: str, settings: Settings
) -> ImportRow:
    """The contact's row from the user's mapping, checked: an ImportRow for the contact's
    email whose mobile number converts (the whole batch is refused otherwise)."""
    field = f"subscriber_row({person.record_id!r})"
    row = subscriber_row(person)
    if not isinstance(row, ImportRow):
        raise InvalidTypeError(field, "an ImportRow", row)
    if email_key(row.email) != email_key(email):
        raise InvalidValueError(
            f"{field}.email", f"the contact's email ({mask_email(email)})", mask_email(row.email)
        )
    to_subscriber_import(
        row, sms_enabled=settings.sms_enabled, sms_country=settings.sms_country, field=field
    )
    return row


def _email_row(person: Person) -> ImportRow:
    """A contact's row when only field mappings say what to send: its email."""
    return ImportRow(person.email or "", record_id=person.record_id)


def _account_rows(
    crm: CrmStore,
    client_id: str,
    list_id: str,
    rows: list[ImportRow],
    reached: Sequence[Person],
    config: FieldMappingConfig,
    as_of: datetime | None,
    dry_run: bool,
) -> list[ImportRow]:
    """The rows for one list, with its mapped fields when it has mappings."""
    if not isinstance(config, FieldMappingConfig):
        raise InvalidTypeError("field_mappings", "a FieldMappingConfig", config)
    mappings = config.of_list(client_id, list_id)
    if mappings is None:
        return rows
    by_email = {email_key(p.email): p for p in reached if p.email is not None}
    pairs = [(row, by_email[email_key(row.email)]) for row in rows]
    mapped, messages = mapped_rows(crm, pairs, mappings, zone=config.zone, as_of=check_as_of(as_of))
    if messages and not dry_run:
        crm.add_messages(messages)
    return list(mapped)
