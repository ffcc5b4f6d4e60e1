"""The import wizard: the CRM rows it sends, the import requests and removals one run
makes under the refresh type and the SMS settings, and each email's outcome."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs

from cmsf_core.domain.checks import require_text
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.sms import parse_sms_country, to_e164
from cmsf_core.domain.subscribers._checks import email_converter, nonblank_text, to_email
from cmsf_core.domain.subscribers.commands import PlatformCommand, RemoveSubscriber
from cmsf_core.domain.subscribers.imports import (
    IMPORT_BATCH_SIZE,
    CustomValue,
    ImportFailure,
    ImportResult,
    ImportSubscribers,
    SubscriberImport,
    to_custom_fields,
)
from cmsf_core.domain.subscribers.values import (
    RECEIVING,
    Consent,
    ImportRefreshType,
    SubscriberState,
    to_consent_to_send_sms,
    to_consent_to_track,
)

__all__ = [
    "ImportOutcome",
    "ImportPlan",
    "ImportRow",
    "ImportStatus",
    "import_outcomes",
    "plan_import",
    "to_subscriber_import",
]


def _to_mobile(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTypeError("mobile_number", "the CRM's mobile number (str) or None", value)
    return value.strip() or None


@attrs.frozen
class ImportRow:
    """One CRM row the import wizard sends: an email, its name, mapped custom fields, the
    mobile number as the CRM holds it, and the two consents."""

    email: str = attrs.field(converter=to_email)
    name: str = attrs.field(default="", validator=require_text("name", allow_empty=True))
    custom_fields: FrozenMap[str, CustomValue] = attrs.field(
        factory=FrozenMap, converter=to_custom_fields
    )
    mobile_number: str | None = attrs.field(default=None, converter=_to_mobile)
    consent_to_track: Consent = attrs.field(
        default=Consent.UNCHANGED, converter=to_consent_to_track
    )
    consent_to_send_sms: Consent = attrs.field(
        default=Consent.UNCHANGED, converter=to_consent_to_send_sms
    )
    record_id: str | None = attrs.field(
        default=None, kw_only=True, validator=require_text("record_id", optional=True)
    )


def to_subscriber_import(
    row: ImportRow,
    *,
    sms_enabled: bool,
    sms_country: str | None = None,
    field: str = "row",
) -> SubscriberImport:
    """What is sent to the platform for one CRM row, under the SMS settings.

    With SMS enabled the mobile number is converted by
    :func:`~cmsf_core.domain.sms.to_e164` for ``sms_country`` (a bad number is an error
    naming ``{field}.mobile_number``) and the consent to send SMS is kept; with SMS off
    neither is sent.  The consent to track is always sent.

    >>> to_subscriber_import(
    ...     ImportRow("ann@example.com", mobile_number="(555) 555-1234"),
    ...     sms_enabled=True,
    ...     sms_country="US",
    ... ).mobile_number
    '+15555551234'
    """
    if not isinstance(row, ImportRow):
        raise InvalidTypeError(field, "an ImportRow", row)
    country = parse_sms_country(sms_country, "sms_country") if sms_enabled else None
    mobile = None
    if sms_enabled and row.mobile_number is not None:
        mobile = to_e164(row.mobile_number, country, field=f"{field}.mobile_number")
    return SubscriberImport(
        row.email,
        row.name,
        row.custom_fields,
        mobile,
        row.consent_to_track,
        row.consent_to_send_sms if sms_enabled else Consent.UNCHANGED,
    )


@attrs.frozen
class ImportPlan:
    """An import-wizard run: the import commands, the removals, and what stays inactive.

    ``kept_inactive`` maps an imported email whose state the import does not change
    (Unsubscribed, Bounced, Suppressed, or Deleted without resubscription) to that state;
    ``duplicates`` are emails given more than once (the first row is sent).
    """

    list_id: str
    refresh_type: ImportRefreshType
    imports: tuple[ImportSubscribers, ...] = ()
    removals: tuple[RemoveSubscriber, ...] = ()
    kept_inactive: FrozenMap[str, SubscriberState] = attrs.field(factory=FrozenMap)
    duplicates: tuple[str, ...] = ()

    @property
    def commands(self) -> tuple[PlatformCommand, ...]:
        """Every platform command, imports first."""
        return (*self.imports, *self.removals)


def _batches(
    list_id: str,
    rows: list[SubscriberImport],
    size: int,
    *,
    resubscribe: bool,
    queue: bool,
    restart: bool,
) -> list[ImportSubscribers]:
    return [
        ImportSubscribers(list_id, rows[i : i + size], resubscribe, queue, restart)
        for i in range(0, len(rows), size)
    ]


def plan_import(
    list_id: str,
    rows: Iterable[ImportRow],
    current: Mapping[str, SubscriberState | str],
    *,
    refresh_type: ImportRefreshType | str,
    resubscribe_deleted_via_import_wizard: bool,
    trigger_joins_a_list_journeys: bool,
    suppressed: Iterable[str] = (),
    sms_enabled: bool = False,
    sms_country: str | None = None,
    batch_size: int = IMPORT_BATCH_SIZE,
) -> ImportPlan:
    """Plan one import-wizard run into list ``list_id``.

    ``current`` maps each email on the list to its state; ``suppressed`` are the emails on
    the client's suppression list.  Rows go in imports with ``Resubscribe`` false, except
    Deleted subscribers when the refresh type is "Add, Update, Resubscribe Deleted" *and*
    the re-subscribe setting is on: those go in their own import with ``Resubscribe``
    true.  An Unsubscribed, Bounced or Suppressed subscriber is never in a resubscribing
    import.  "Add, Update, Remove" also removes the list's Active and Unconfirmed
    subscribers that the import does not include.

    Trigger joins-a-list journeys sets ``QueueSubscriptionBasedAutoresponders`` on every
    import and ``RestartSubscriptionBasedAutoresponders`` on the resubscribing one.  With
    SMS enabled each mobile number is converted by :func:`~cmsf_core.domain.sms.to_e164`
    for ``sms_country`` (a bad number refuses the whole plan, naming the row); with SMS
    off no mobile number or SMS consent is sent.
    """
    list_id = nonblank_text(list_id, "list_id")
    refresh = ImportRefreshType.parse(refresh_type)
    if not isinstance(current, Mapping):
        raise InvalidTypeError("current", "a mapping of email to subscriber state", current)
    if type(batch_size) is not int or not 1 <= batch_size <= IMPORT_BATCH_SIZE:
        raise InvalidValueError("batch_size", f"between 1 and {IMPORT_BATCH_SIZE}", batch_size)
    states: dict[str, tuple[str, SubscriberState]] = {}
    for address, given in current.items():
        shown = email_converter("current")(address)
        states[email_key(shown)] = (shown, SubscriberState.parse(given, f"current[{shown!r}]"))
    blocked = {email_key(email_converter("suppressed")(e)) for e in suppressed}
    country = parse_sms_country(sms_country, "sms_country") if sms_enabled else None
    resubscribing = (
        refresh is ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED
        and resubscribe_deleted_via_import_wizard
    )

    plain: list[SubscriberImport] = []
    revive: list[SubscriberImport] = []
    kept: dict[str, SubscriberState] = {}
    duplicates: list[str] = []
    sent: set[str] = set()
    for index, row in enumerate(rows):
        if not isinstance(row, ImportRow):
            raise InvalidTypeError(f"rows[{index}]", "an ImportRow", row)
        key = email_key(row.email)
        if key in sent:
            duplicates.append(row.email)
            continue
        sent.add(key)
        subscriber = to_subscriber_import(
            row, sms_enabled=sms_enabled, sms_country=country, field=f"rows[{index}]"
        )
        found = states.get(key)
        state = SubscriberState.SUPPRESSED if key in blocked else found[1] if found else None
        if state is SubscriberState.DELETED and resubscribing:
            revive.append(subscriber)
            continue
        if state is not None and state not in RECEIVING:
            kept[row.email] = state
        plain.append(subscriber)

    journeys = trigger_joins_a_list_journeys
    imports = _batches(
        list_id, plain, batch_size, resubscribe=False, queue=journeys, restart=False
    ) + _batches(list_id, revive, batch_size, resubscribe=True, queue=journeys, restart=journeys)
    removals: list[RemoveSubscriber] = []
    if refresh is ImportRefreshType.ADD_UPDATE_REMOVE:
        removals = [
            RemoveSubscriber(list_id, shown)
            for key, (shown, state) in states.items()
            if key not in sent and key not in blocked and state in RECEIVING
        ]
    return ImportPlan(
        list_id, refresh, tuple(imports), tuple(removals), FrozenMap(kept), tuple(duplicates)
    )


class ImportStatus(enum.Enum):
    """What an import did to one email."""

    IMPORTED = "imported"
    RESUBSCRIBED = "resubscribed"
    KEPT_INACTIVE = "kept inactive"
    FAILED = "failed"


@attrs.frozen
class ImportOutcome:
    """One email's outcome; ``code`` and ``message`` are the platform's for a failure."""

    email: str
    status: ImportStatus
    code: int | None = None
    message: str | None = None


def import_outcomes(
    command: ImportSubscribers,
    result: ImportResult,
    *,
    kept_inactive: Mapping[str, SubscriberState] = FrozenMap(),
) -> tuple[ImportOutcome, ...]:
    """Per-email outcomes of one import, from the platform's answer.

    Every row of ``command`` in order: FAILED with the platform's code and message when
    ``FailureDetails`` names it; KEPT_INACTIVE when ``kept_inactive`` (the plan's) holds it
    (updated, but still Unsubscribed, Bounced, Suppressed or Deleted); else RESUBSCRIBED
    for a resubscribing import and IMPORTED for the others.  A failure for an email the
    command did not hold comes last, as FAILED.
    """
    if not isinstance(command, ImportSubscribers):
        raise InvalidTypeError("command", "an ImportSubscribers", command)
    if not isinstance(result, ImportResult):
        raise InvalidTypeError("result", "an ImportResult", result)
    failed: dict[str, ImportFailure] = {}
    for failure in result.failure_details:
        failed.setdefault(email_key(failure.email), failure)
    inactive = {email_key(email) for email in kept_inactive}
    ok = ImportStatus.RESUBSCRIBED if command.resubscribe else ImportStatus.IMPORTED
    outcomes = []
    for row in command.subscribers:
        key = email_key(row.email)
        if key in failed:
            bad = failed.pop(key)
            outcomes.append(ImportOutcome(row.email, ImportStatus.FAILED, bad.code, bad.message))
        elif key in inactive:
            outcomes.append(ImportOutcome(row.email, ImportStatus.KEPT_INACTIVE))
        else:
            outcomes.append(ImportOutcome(row.email, ok))
    outcomes.extend(
        ImportOutcome(f.email, ImportStatus.FAILED, f.code, f.message) for f in failed.values()
    )
    return tuple(outcomes)
