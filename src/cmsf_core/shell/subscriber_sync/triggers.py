"""What the contact, lead and account triggers do with a batch of changes on a client's
lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.limits import Job
from cmsf_core.domain.maintenance import mask_email
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import (
    CommandResult,
    ImportOutcome,
    ImportRefreshType,
    ImportRow,
    ImportSubscribers,
    Person,
    RecordChange,
    SubscriberState,
    TriggerPlan,
    email_key,
    plan_account_changes,
    plan_import,
    plan_record_changes,
    records_to_process,
    to_subscriber_import,
)
from cmsf_core.ports.crm import CrmStore
from cmsf_core.ports.platform import EmailPlatform
from cmsf_core.shell.field_sync import FieldMappingConfig, check_as_of, mapped_rows
from cmsf_core.shell.people import people_with_emails, to_subscriber_person
from cmsf_core.shell.reports import PlatformAnswers
from cmsf_core.shell.subscriber_sync.shared import (
    ListAddRefusal,
    _log_failures,
    _outcomes,
    _refusal,
    check_client_and_settings,
)


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
        changes, memberships, **flags, surviving=people_with_emails(crm, deleted_emails)
    )
    results = platform.execute(client_id, plan.commands) if plan.commands else ()
    return RecordChangeReport(plan, tuple(results))


#: The states in which a subscriber receives a list's email (an account change re-sends
#: its contacts' rows to these lists only).
_RECEIVING = frozenset({SubscriberState.ACTIVE, SubscriberState.UNCONFIRMED})


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
