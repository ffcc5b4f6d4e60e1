"""Subscribers, consent and list membership: the rules between the CRM's contacts and leads
and the platform's subscriber lists.

Every rule here is pure.  It takes what the shell read (list memberships, CRM records,
the list's current subscribers, the suppression list) and the settings it needs as
explicit keyword arguments, and returns plain frozen data: platform commands
(:class:`Unsubscribe`, :class:`MarkDeleted`, :class:`RemoveSubscriber`,
:class:`ImportSubscribers`) that a platform adapter executes, and CRM changes
(:class:`OptOutChange`, suppression records to create, update or remove) that a CRM
adapter applies.

=============================== ==========================================================
rule                            function
=============================== ==========================================================
email opt out (platform -> CRM) :func:`email_opt_out`, :func:`opt_out_changes`,
                                :func:`plan_email_opt_out`
prevent adding opted-out people :func:`list_add_refusal`, :func:`check_list_add`
unsubscribe on opt-out          :func:`unsubscribes_for_opt_out`
deleted contact or lead         :func:`delete_on_record_delete`
import wizard                   :func:`plan_import`, :func:`import_outcomes`,
                                :func:`to_subscriber_import`
triggers                        :func:`records_to_process`, :func:`plan_record_changes`,
                                :func:`contacts_to_process`, :func:`plan_account_changes`
suppression list                :func:`plan_suppression_sync`
=============================== ==========================================================

Email addresses are compared without regard to case or surrounding spaces, as the
platform compares them.  ``docs/subscribers.md`` describes each rule and every decision
taken where the product documentation is silent.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, TypeVar

import attrs

from cmsf_core.domain.checks import (
    check_same_record,
    is_collection,
    optional_instance,
    require_text,
)
from cmsf_core.domain.emails import check_email_text, email_key
from cmsf_core.domain.errors import (
    CmsfError,
    InvalidTypeError,
    InvalidValueError,
    UnknownChoiceError,
)
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.sms import parse_sms_country, to_e164
from cmsf_core.domain.timeutil import ensure_utc, ensure_utc_or_none

__all__ = [
    "IMPORT_BATCH_SIZE",
    "LIST_ADD_REFUSED",
    "CommandResult",
    "Consent",
    "CreateSuppressionRecord",
    "CrmChange",
    "CustomValue",
    "DuplicateEmail",
    "ImportFailure",
    "ImportOutcome",
    "ImportPlan",
    "ImportRefreshType",
    "ImportResult",
    "ImportRow",
    "ImportStatus",
    "ImportSubscribers",
    "ListChange",
    "ListMembership",
    "MarkDeleted",
    "OptOutChange",
    "OptOutPlan",
    "OptedOutError",
    "Person",
    "PlatformCommand",
    "RecordChange",
    "RecordKind",
    "RemoveSubscriber",
    "RemoveSuppressionRecord",
    "SubscriberImport",
    "SubscriberState",
    "SuppressedEmail",
    "SuppressionPlan",
    "SuppressionRecord",
    "TriggerPlan",
    "Unsubscribe",
    "UpdateSuppressionRecord",
    "check_list_add",
    "contacts_to_process",
    "delete_on_record_delete",
    "email_key",
    "email_opt_out",
    "import_outcomes",
    "list_add_refusal",
    "opt_out_changes",
    "plan_account_changes",
    "plan_email_opt_out",
    "plan_import",
    "plan_record_changes",
    "plan_suppression_sync",
    "records_to_process",
    "run_on_list",
    "to_subscriber_import",
    "unsubscribes_for_opt_out",
]

#: Most subscribers Campaign Monitor accepts in one import request.
IMPORT_BATCH_SIZE = 1000

#: The product's message when an opted-out contact or lead is added to a list.
LIST_ADD_REFUSED = (
    "This {kind} cannot be added to a subscriber list because Email Opt Out is checked."
)

T = TypeVar("T")
Validator = Callable[[Any, Any, Any], None]

# ----------------------------------------------------------------------------- helpers


def _words(text: str) -> str:
    """Casefolded, with ``_`` and commas read as spaces and runs of spaces collapsed."""
    return " ".join(text.replace("_", " ").replace(",", " ").split()).casefold()


def _text(value: object, field: str) -> str:
    """``value`` if it is a non-empty string, else an error naming ``field``."""
    if not isinstance(value, str):
        raise InvalidTypeError(field, "a string", value)
    if not value.strip():
        raise InvalidValueError(field, "a non-empty string", value)
    return value


def _email(field: str) -> Callable[[object], str]:
    def convert(value: object) -> str:
        if not isinstance(value, str):
            raise InvalidTypeError(field, "an email address (str)", value)
        email = check_email_text(value, field)
        if not email:
            raise InvalidValueError(field, "a non-empty email address", value)
        return email

    return convert


def _to_email(value: object) -> str:
    return _email("email")(value)


def _optional_email(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _email("email")(value)


def _check_bool(field: str) -> Validator:
    def check(_inst: object, _attr: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidTypeError(field, "a bool", value)

    return check


def _get(row: object, key: str, field: str | None = None) -> Any:
    """A key of an API row: a mapping, or the attribute objects the createsend client returns."""
    field = field or key
    if isinstance(row, Mapping):
        if key not in row:
            raise InvalidValueError(field, "present in the row", row)
        return row[key]
    if not hasattr(row, key):
        raise InvalidValueError(field, "present in the row", row)
    return getattr(row, key)


def _api_datetime(value: object, tz: tzinfo, field: str) -> datetime:
    """A platform date-time: text like ``"2012-08-20 22:32:00"`` in the client's zone."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidValueError(
                field, "a date-time like '2012-08-20 22:32:00'", value
            ) from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise InvalidTypeError(field, "a date-time", value)
    if parsed.tzinfo is None:
        if not isinstance(tz, tzinfo):
            raise InvalidTypeError("tz", "the client's time zone (a tzinfo)", tz)
        parsed = parsed.replace(tzinfo=tz)
    return ensure_utc(parsed, field)


# ----------------------------------------------------------------------------- choices


class SubscriberState(enum.Enum):
    """A subscriber's state on a list, as Campaign Monitor names it.

    ``SUPPRESSED`` is the state of an entry on the client's suppression list, not of a
    list membership; it is here so one type covers everything that keeps an email inactive.
    """

    ACTIVE = "Active"
    UNSUBSCRIBED = "Unsubscribed"
    DELETED = "Deleted"
    BOUNCED = "Bounced"
    UNCONFIRMED = "Unconfirmed"
    SUPPRESSED = "Suppressed"

    @classmethod
    def parse(cls, value: object, field: str = "state") -> SubscriberState:
        """Read Campaign Monitor's spelling in any case, surrounding spaces ignored.

        >>> SubscriberState.parse(" unsubscribed ")
        <SubscriberState.UNSUBSCRIBED: 'Unsubscribed'>
        """
        if isinstance(value, SubscriberState):
            return value
        if not isinstance(value, str):
            raise InvalidTypeError(field, "a subscriber state name", value)
        found = _STATE_NAMES.get(value.strip().casefold())
        if found is None:
            raise UnknownChoiceError(field, tuple(s.value for s in cls), value)
        return found


_STATE_NAMES = {s.value.casefold(): s for s in SubscriberState}

#: States in which an email counts as opted out of a list.
_OPTED_OUT = frozenset({SubscriberState.UNSUBSCRIBED, SubscriberState.DELETED})
#: States an import may never reactivate.
_NEVER_RESUBSCRIBED = frozenset(
    {SubscriberState.UNSUBSCRIBED, SubscriberState.BOUNCED, SubscriberState.SUPPRESSED}
)
#: States a delete or an import-wizard removal may move to Deleted.
_RECEIVING = frozenset({SubscriberState.ACTIVE, SubscriberState.UNCONFIRMED})


class RecordKind(enum.Enum):
    """The CRM objects that carry an email: contacts and leads."""

    CONTACT = "Contact"
    LEAD = "Lead"

    @classmethod
    def parse(cls, value: object, field: str = "kind") -> RecordKind:
        """Read ``"Contact"`` or ``"Lead"`` in any case."""
        if isinstance(value, RecordKind):
            return value
        if not isinstance(value, str):
            raise InvalidTypeError(field, "'Contact' or 'Lead'", value)
        for kind in cls:
            if value.strip().casefold() == kind.value.casefold():
                return kind
        raise UnknownChoiceError(field, tuple(k.value for k in cls), value)


class Consent(enum.Enum):
    """Consent to track or to send SMS, as the platform takes it: Yes, No or Unchanged.

    ``UNCHANGED`` leaves what the platform holds as it is.
    """

    YES = "Yes"
    NO = "No"
    UNCHANGED = "Unchanged"

    @classmethod
    def parse(cls, value: object, field: str = "consent") -> Consent:
        """Read a CRM value: a checkbox (``True``/``False``), ``None`` (not mapped: unchanged)
        or text (yes/no/unchanged, true/false, in any case).

        >>> Consent.parse(True), Consent.parse(None), Consent.parse(" no ")
        (<Consent.YES: 'Yes'>, <Consent.UNCHANGED: 'Unchanged'>, <Consent.NO: 'No'>)
        """
        if isinstance(value, Consent):
            return value
        if value is None:
            return cls.UNCHANGED
        if isinstance(value, bool):
            return cls.YES if value else cls.NO
        if not isinstance(value, str):
            raise InvalidTypeError(field, "Yes, No or Unchanged (or a bool)", value)
        found = _CONSENT_NAMES.get(value.strip().casefold())
        if found is None:
            raise UnknownChoiceError(field, tuple(c.value for c in cls), value)
        return found


_CONSENT_NAMES = {
    "yes": Consent.YES,
    "true": Consent.YES,
    "no": Consent.NO,
    "false": Consent.NO,
    "unchanged": Consent.UNCHANGED,
}


class ImportRefreshType(enum.Enum):
    """What an import-wizard run does to the list, as the wizard names the choice."""

    ADD_UPDATE = "Add, Update"
    ADD_UPDATE_RESUBSCRIBE_DELETED = "Add, Update, Resubscribe Deleted"
    ADD_UPDATE_REMOVE = "Add, Update, Remove"

    @classmethod
    def parse(cls, value: object, field: str = "refresh_type") -> ImportRefreshType:
        """Read the wizard's label in any case; spaces, ``_`` and commas are loose.

        >>> ImportRefreshType.parse("add, update, remove")
        <ImportRefreshType.ADD_UPDATE_REMOVE: 'Add, Update, Remove'>
        """
        if isinstance(value, ImportRefreshType):
            return value
        if not isinstance(value, str):
            raise InvalidTypeError(field, "an import refresh type", value)
        wanted = _words(value)
        for refresh in cls:
            if wanted in (_words(refresh.value), _words(refresh.name)):
                return refresh
        raise UnknownChoiceError(field, tuple(r.value for r in cls), value)


# ----------------------------------------------------------------------------- values


def _to_state(value: object) -> SubscriberState:
    return SubscriberState.parse(value)


def _to_kind(value: object) -> RecordKind:
    return RecordKind.parse(value)


def _to_date_added(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "date_added")


@attrs.frozen
class ListMembership:
    """One list an email is on, and its state there (a row of ``lists_for_email``)."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    list_name: str = attrs.field(validator=require_text("list_name", allow_empty=True))
    state: SubscriberState = attrs.field(converter=_to_state)
    date_added: datetime | None = attrs.field(default=None, converter=_to_date_added)

    @classmethod
    def from_api(cls, row: object, tz: tzinfo) -> ListMembership:
        """Read a ``lists_for_email`` row (``ListID``, ``ListName``, ``SubscriberState``,
        ``DateSubscriberAdded``); the platform's dates are in the client's zone ``tz``."""
        added = _get(row, "DateSubscriberAdded")
        return cls(
            _get(row, "ListID"),
            _get(row, "ListName"),
            SubscriberState.parse(_get(row, "SubscriberState"), "SubscriberState"),
            None if added in (None, "") else _api_datetime(added, tz, "DateSubscriberAdded"),
        )


@attrs.frozen
class Person:
    """A CRM contact or lead as these rules see it.

    ``email`` is ``None`` when the record has none; ``account_id`` is a contact's account.
    """

    record_id: str = attrs.field(validator=require_text("record_id"))
    kind: RecordKind = attrs.field(converter=_to_kind)
    email: str | None = attrs.field(default=None, kw_only=True, converter=_optional_email)
    email_opt_out: bool = attrs.field(
        default=False, kw_only=True, validator=_check_bool("email_opt_out")
    )
    account_id: str | None = attrs.field(
        default=None, kw_only=True, validator=require_text("account_id", optional=True)
    )


@attrs.frozen
class RecordChange:
    """A contact or lead as a CRM trigger sees it: before and after the change.

    ``before`` is ``None`` for an insert, ``after`` is ``None`` for a delete.
    """

    before: Person | None = attrs.field(
        default=None, validator=optional_instance("before", Person, "a Person or None")
    )
    after: Person | None = attrs.field(
        default=None, validator=optional_instance("after", Person, "a Person or None")
    )

    def __attrs_post_init__(self) -> None:
        check_same_record(self.before, self.after)

    @property
    def record(self) -> Person:
        """The record after the change, or the deleted record."""
        record = self.after or self.before
        if record is None:  # pragma: no cover - __attrs_post_init__ refuses it
            raise InvalidValueError("before", "a record when 'after' is None", None)
        return record

    @property
    def is_delete(self) -> bool:
        """Whether the record was deleted."""
        return self.after is None


# ----------------------------------------------------------------------------- commands


@attrs.frozen
class Unsubscribe:
    """Platform command: unsubscribe ``email`` from the list (``Subscriber.unsubscribe``)."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    email: str = attrs.field(converter=_to_email)


@attrs.frozen
class MarkDeleted:
    """Platform command: move ``email`` to Deleted on the list (``Subscriber.delete``),
    because its contact or lead was deleted."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    email: str = attrs.field(converter=_to_email)


@attrs.frozen
class RemoveSubscriber:
    """Platform command: move ``email`` to Deleted on the list (``Subscriber.delete``),
    because an "Add, Update, Remove" import did not include it."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    email: str = attrs.field(converter=_to_email)


#: A custom field's value: text, or the options of a select-many field (sent as the
#: same ``Key`` repeated).
CustomValue = str | tuple[str, ...]


def _to_custom_fields(value: object) -> FrozenMap[str, CustomValue]:
    if not isinstance(value, Mapping):
        raise InvalidTypeError("custom_fields", "a mapping of field key to text", value)
    for key, text in value.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidValueError("custom_fields", "non-empty field keys", key)
        many = isinstance(text, tuple) and all(isinstance(t, str) for t in text)
        if not isinstance(text, str) and not many:
            raise InvalidTypeError(f"custom_fields[{key}]", "text (or a tuple of text)", text)
    return FrozenMap(value)


def _custom_rows(fields: Mapping[str, CustomValue]) -> list[dict[str, str]]:
    return [
        {"Key": key, "Value": item}
        for key, value in fields.items()
        for item in ((value,) if isinstance(value, str) else value)
    ]


def _check_e164(_inst: Any, _attr: Any, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidTypeError("mobile_number", "an E.164 number (str) or None", value)
    digits = value[1:]
    if not (value.startswith("+") and digits.isascii() and digits.isdigit()) or not (
        2 <= len(digits) <= 15 and digits[0] != "0"
    ):
        raise InvalidValueError(
            "mobile_number", "an E.164 number such as '+15555551234' (see to_e164)", value
        )


def _to_consent_to_track(value: object) -> Consent:
    return Consent.parse(value, "consent_to_track")


def _to_consent_to_send_sms(value: object) -> Consent:
    return Consent.parse(value, "consent_to_send_sms")


@attrs.frozen
class SubscriberImport:
    """One row of a platform import: what is sent for one email.

    ``mobile_number`` is E.164 or ``None`` (not sent: the platform keeps what it has);
    ``consent_to_send_sms`` is sent only when it is Yes or No (Unchanged is the same as
    leaving it out, so a row without SMS data holds no SMS key at all).
    """

    email: str = attrs.field(converter=_to_email)
    name: str = attrs.field(default="", validator=require_text("name", allow_empty=True))
    custom_fields: FrozenMap[str, CustomValue] = attrs.field(
        factory=FrozenMap, converter=_to_custom_fields
    )
    mobile_number: str | None = attrs.field(default=None, validator=_check_e164)
    consent_to_track: Consent = attrs.field(
        default=Consent.UNCHANGED, converter=_to_consent_to_track
    )
    consent_to_send_sms: Consent = attrs.field(
        default=Consent.UNCHANGED, converter=_to_consent_to_send_sms
    )

    def to_api(self) -> dict[str, object]:
        """The row as the import request's ``Subscribers`` item."""
        row: dict[str, object] = {
            "EmailAddress": self.email,
            "Name": self.name,
            "CustomFields": _custom_rows(self.custom_fields),
            "ConsentToTrack": self.consent_to_track.value,
        }
        if self.mobile_number is not None:
            row["MobileNumber"] = self.mobile_number
        if self.consent_to_send_sms is not Consent.UNCHANGED:
            row["ConsentToSendSms"] = self.consent_to_send_sms.value
        return row


def _to_rows(value: object) -> tuple[SubscriberImport, ...]:
    if not is_collection(value):
        raise InvalidTypeError("subscribers", "a sequence of SubscriberImport", value)
    rows = tuple(value)
    seen: set[str] = set()
    for row in rows:
        if not isinstance(row, SubscriberImport):
            raise InvalidTypeError("subscribers", "SubscriberImport rows", row)
        key = email_key(row.email)
        if key in seen:
            raise InvalidValueError("subscribers", "one row per email", row.email)
        seen.add(key)
    if not 1 <= len(rows) <= IMPORT_BATCH_SIZE:
        raise InvalidValueError(
            "subscribers", f"1 to {IMPORT_BATCH_SIZE} rows", f"{len(rows)} rows"
        )
    return rows


@attrs.frozen
class ImportSubscribers:
    """Platform command: ``Subscriber.import_subscribers`` on one list.

    The flags are the request's ``Resubscribe``, ``QueueSubscriptionBasedAutoresponders``
    and ``RestartSubscriptionBasedAutoresponders``.
    """

    list_id: str = attrs.field(validator=require_text("list_id"))
    subscribers: tuple[SubscriberImport, ...] = attrs.field(converter=_to_rows)
    resubscribe: bool = attrs.field(validator=_check_bool("resubscribe"))
    queue_subscription_based_autoresponders: bool = attrs.field(
        default=False, validator=_check_bool("queue_subscription_based_autoresponders")
    )
    restart_subscription_based_autoresponders: bool = attrs.field(
        default=False, validator=_check_bool("restart_subscription_based_autoresponders")
    )

    def to_api(self) -> dict[str, object]:
        """The request body, keyed as Campaign Monitor names its fields."""
        return {
            "Subscribers": [row.to_api() for row in self.subscribers],
            "Resubscribe": self.resubscribe,
            "QueueSubscriptionBasedAutoresponders": self.queue_subscription_based_autoresponders,
            "RestartSubscriptionBasedAutoresponders": (
                self.restart_subscription_based_autoresponders
            ),
        }


#: Everything a platform adapter is asked to execute.
PlatformCommand = Unsubscribe | MarkDeleted | RemoveSubscriber | ImportSubscribers


def _check_command(_inst: Any, _attr: Any, value: Any) -> None:
    if not isinstance(value, Unsubscribe | MarkDeleted | RemoveSubscriber | ImportSubscribers):
        raise InvalidTypeError("command", "a platform command", value)


@attrs.frozen
class CommandResult:
    """What the platform did with one command: ``ok``, or the platform's ``error`` message.

    ``import_result`` is the platform's answer to an :class:`ImportSubscribers` (``None``
    for the other commands, or when the request failed as a whole).
    """

    command: PlatformCommand = attrs.field(validator=_check_command)
    ok: bool = attrs.field(validator=_check_bool("ok"))
    error: str | None = attrs.field(default=None, validator=require_text("error", optional=True))
    import_result: ImportResult | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.ok and self.error is not None:
            raise InvalidValueError("error", "None when ok is true", self.error)
        if not self.ok and self.error is None:
            raise InvalidValueError("error", "the platform's message when ok is false", None)


@attrs.frozen
class ListChange:
    """A list subscriber's new state after a command (``key``: :func:`email_key`;
    ``email`` as the command gives it; ``added``: the email was not on the list)."""

    key: str
    email: str
    state: SubscriberState
    added: bool = False


def run_on_list(
    command: PlatformCommand, state_of: Callable[[str], SubscriberState | None]
) -> tuple[CommandResult, tuple[ListChange, ...]]:
    """What the platform does with ``command`` on one list, as a list held in memory plays
    it: the result, and the subscribers whose state changes.

    ``state_of(key)`` is the state of the subscriber whose :func:`email_key` is ``key``
    (``None``: not on the list).  An import adds the new emails as Active and counts the
    others as existing; it reactivates an inactive one only when it resubscribes.
    Unsubscribe and the deletes need the email on the list ("Subscriber not in list"
    otherwise) and move it to Unsubscribed or Deleted.
    """
    if isinstance(command, ImportSubscribers):
        changes: dict[str, ListChange] = {}
        existing = 0
        for row in command.subscribers:  # emails are unique within one import
            key = email_key(row.email)
            found = state_of(key)
            if found is None:
                changes[key] = ListChange(key, row.email, SubscriberState.ACTIVE, added=True)
                continue
            existing += 1
            if command.resubscribe and found is not SubscriberState.ACTIVE:
                changes[key] = ListChange(key, row.email, SubscriberState.ACTIVE)
        total = len(command.subscribers)
        result = ImportResult(total, existing, total - existing)
        return CommandResult(command, True, import_result=result), tuple(changes.values())
    key = email_key(command.email)
    found = state_of(key)
    if found is None:
        return CommandResult(command, False, "Subscriber not in list"), ()
    wanted = (
        SubscriberState.UNSUBSCRIBED
        if isinstance(command, Unsubscribe)
        else SubscriberState.DELETED
    )
    changed = () if found is wanted else (ListChange(key, command.email, wanted),)
    return CommandResult(command, True), changed


@attrs.frozen
class OptOutChange:
    """CRM change: set a contact's or lead's Email Opt Out to ``value``."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    email: str = attrs.field(converter=_to_email)
    value: bool = attrs.field(validator=_check_bool("value"))


def _to_suppressed_at(value: object) -> datetime:
    return ensure_utc(value, "suppressed_at")


@attrs.frozen
class SuppressedEmail:
    """An entry of the platform's suppression list."""

    email: str = attrs.field(converter=_to_email)
    reason: str = attrs.field(validator=require_text("reason"))
    suppressed_at: datetime = attrs.field(converter=_to_suppressed_at)

    @classmethod
    def from_api(cls, row: object, tz: tzinfo) -> SuppressedEmail:
        """Read a suppression-list row (``EmailAddress``, ``SuppressionReason``, ``Date``,
        ``State``); the platform's dates are in the client's zone ``tz``."""
        state = SubscriberState.parse(_get(row, "State"), "State")
        if state is not SubscriberState.SUPPRESSED:
            raise InvalidValueError("State", "'Suppressed'", state.value)
        return cls(
            _get(row, "EmailAddress"),
            _get(row, "SuppressionReason"),
            _api_datetime(_get(row, "Date"), tz, "Date"),
        )


@attrs.frozen
class SuppressionRecord:
    """A suppression record the integration keeps in the CRM."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    email: str = attrs.field(converter=_to_email)
    reason: str = attrs.field(validator=require_text("reason"))
    suppressed_at: datetime = attrs.field(converter=_to_suppressed_at)


@attrs.frozen
class CreateSuppressionRecord:
    """CRM change: create a suppression record."""

    email: str = attrs.field(converter=_to_email)
    reason: str = attrs.field(validator=require_text("reason"))
    suppressed_at: datetime = attrs.field(converter=_to_suppressed_at)


@attrs.frozen
class UpdateSuppressionRecord:
    """CRM change: set a suppression record's reason and date to the platform's."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    email: str = attrs.field(converter=_to_email)
    reason: str = attrs.field(validator=require_text("reason"))
    suppressed_at: datetime = attrs.field(converter=_to_suppressed_at)


@attrs.frozen
class RemoveSuppressionRecord:
    """CRM change: delete a suppression record (the platform no longer suppresses it)."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    email: str = attrs.field(converter=_to_email)


#: Everything a CRM adapter is asked to apply.
CrmChange = (
    OptOutChange | CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord
)


# ----------------------------------------------------------------------------- 1. opt out


def _states(memberships: Iterable[SubscriberState | ListMembership]) -> list[SubscriberState]:
    states = []
    for item in memberships:
        if isinstance(item, ListMembership):
            states.append(item.state)
        elif isinstance(item, SubscriberState):
            states.append(item)
        else:
            raise InvalidTypeError("memberships", "ListMembership or SubscriberState", item)
    return states


def email_opt_out(memberships: Iterable[SubscriberState | ListMembership]) -> bool | None:
    """The Email Opt Out an email's list memberships call for, or ``None`` (unchanged).

    ``True`` when there is at least one membership and every one is Unsubscribed or
    Deleted; ``False`` when at least one is Active; otherwise (no membership, or only
    Bounced, Unconfirmed or Suppressed beside opted-out ones) ``None``.

    >>> S = SubscriberState
    >>> email_opt_out([S.UNSUBSCRIBED, S.DELETED]), email_opt_out([S.ACTIVE, S.BOUNCED])
    (True, False)
    >>> email_opt_out([S.BOUNCED]) is None, email_opt_out([]) is None
    (True, True)
    """
    states = _states(memberships)
    if SubscriberState.ACTIVE in states:
        return False
    if states and all(state in _OPTED_OUT for state in states):
        return True
    return None


@attrs.frozen
class DuplicateEmail:
    """Several CRM records share one email (reported by the opt-out sync)."""

    email: str
    record_ids: tuple[str, ...]


@attrs.frozen
class OptOutPlan:
    """What the opt-out sync changes in the CRM, and the duplicates it found."""

    changes: tuple[OptOutChange, ...] = ()
    duplicates: tuple[DuplicateEmail, ...] = ()


def _check_people(records: Iterable[Person], field: str) -> list[Person]:
    people = list(records)
    for person in people:
        if not isinstance(person, Person):
            raise InvalidTypeError(field, "Person records", person)
    return people


def opt_out_changes(
    email: str,
    memberships: Iterable[SubscriberState | ListMembership],
    records: Iterable[Person],
    *,
    sync_email_opt_out: bool,
) -> OptOutPlan:
    """The opt-out changes for one email: every contact and lead with that email whose
    Email Opt Out differs from :func:`email_opt_out`; several records are a duplicate.

    With the setting off nothing is changed or reported.  Each record must carry
    ``email`` (compared without regard to case).
    """
    key = email_key(_email("email")(email))
    people = _check_people(records, "records")
    for person in people:
        if person.email is None or email_key(person.email) != key:
            raise InvalidValueError(
                "records",
                f"records whose email is {email!r}",
                person.email,
                detail=f"record {person.record_id!r}",
            )
    if not sync_email_opt_out:
        return OptOutPlan()
    wanted = email_opt_out(memberships)
    changes: tuple[OptOutChange, ...] = ()
    if wanted is not None:
        changes = tuple(
            OptOutChange(p.record_id, p.email or email, wanted)
            for p in people
            if p.email_opt_out != wanted
        )
    ids = tuple(dict.fromkeys(p.record_id for p in people))
    duplicates = (DuplicateEmail(email, ids),) if len(ids) > 1 else ()
    return OptOutPlan(changes, duplicates)


def plan_email_opt_out(
    memberships: Mapping[str, Iterable[SubscriberState | ListMembership]],
    records: Iterable[Person],
    *,
    sync_email_opt_out: bool,
) -> OptOutPlan:
    """:func:`opt_out_changes` for every email in ``memberships`` (email -> its lists).

    Records whose email is not a key of ``memberships`` (or who have none) are left alone;
    keys that differ only in case are one email.
    """
    if not isinstance(memberships, Mapping):
        raise InvalidTypeError("memberships", "a mapping of email to list memberships", memberships)
    people = _check_people(records, "records")
    if not sync_email_opt_out:
        return OptOutPlan()
    by_key: dict[str, tuple[str, list[SubscriberState]]] = {}
    for email, lists in memberships.items():
        shown = _email("memberships")(email)
        by_key.setdefault(email_key(shown), (shown, []))[1].extend(_states(lists))
    holders: dict[str, list[Person]] = {}
    for person in people:
        if person.email is not None and email_key(person.email) in by_key:
            holders.setdefault(email_key(person.email), []).append(person)
    changes: list[OptOutChange] = []
    duplicates: list[DuplicateEmail] = []
    for key, (shown, states) in by_key.items():
        plan = opt_out_changes(
            shown, states, holders.get(key, ()), sync_email_opt_out=sync_email_opt_out
        )
        changes.extend(plan.changes)
        duplicates.extend(plan.duplicates)
    return OptOutPlan(tuple(changes), tuple(duplicates))


# ----------------------------------------------------------------------------- 2. list adds


class OptedOutError(CmsfError, ValueError):
    """An opted-out contact or lead may not be added to a subscriber list."""

    def __init__(self, record_id: str, kind: RecordKind) -> None:
        self.record_id = record_id
        self.kind = kind
        super().__init__(f"{LIST_ADD_REFUSED.format(kind=kind.value.lower())} (record {record_id})")


def list_add_refusal(person: Person, *, prevent_opted_out_list_add: bool) -> str | None:
    """The product's message if ``person`` may not be added to a list, else ``None``.

    Refused only when the setting is on and the record's Email Opt Out is checked.  The
    rule is not retrospective: it judges an add, never a membership that already exists.
    """
    if not isinstance(person, Person):
        raise InvalidTypeError("person", "a Person", person)
    if prevent_opted_out_list_add and person.email_opt_out:
        return LIST_ADD_REFUSED.format(kind=person.kind.value.lower())
    return None


def check_list_add(person: Person, *, prevent_opted_out_list_add: bool) -> None:
    """Raise :class:`OptedOutError` if :func:`list_add_refusal` refuses the add."""
    if list_add_refusal(person, prevent_opted_out_list_add=prevent_opted_out_list_add):
        raise OptedOutError(person.record_id, person.kind)


# ----------------------------------------------------------------------------- 3, 4. triggers


def _lists(memberships: Iterable[ListMembership]) -> list[ListMembership]:
    seen: dict[str, ListMembership] = {}
    for membership in memberships:
        if not isinstance(membership, ListMembership):
            raise InvalidTypeError("memberships", "ListMembership values", membership)
        seen.setdefault(membership.list_id, membership)
    return list(seen.values())


def unsubscribes_for_opt_out(
    change: RecordChange,
    memberships: Iterable[ListMembership],
    *,
    unsubscribe_on_opt_out: bool,
) -> tuple[Unsubscribe, ...]:
    """Unsubscribe commands when a record's Email Opt Out becomes checked.

    Only on the change to checked (unchecked -> checked, or a record inserted checked),
    never while it stays checked; one command per list of the email that is not already
    Unsubscribed.  Setting off, no email, or a delete: none.
    """
    if not isinstance(change, RecordChange):
        raise InvalidTypeError("change", "a RecordChange", change)
    lists = _lists(memberships)
    after = change.after
    if not unsubscribe_on_opt_out or after is None or after.email is None:
        return ()
    became_checked = after.email_opt_out and (
        change.before is None or not change.before.email_opt_out
    )
    if not became_checked:
        return ()
    done = (SubscriberState.UNSUBSCRIBED, SubscriberState.SUPPRESSED)
    return tuple(Unsubscribe(m.list_id, after.email) for m in lists if m.state not in done)


def delete_on_record_delete(
    person: Person,
    memberships: Iterable[ListMembership],
    *,
    delete_subscriber_on_record_delete: bool,
    still_held_by: Iterable[Person] = (),
) -> tuple[MarkDeleted, ...]:
    """Commands setting the deleted record's email to Deleted on every list it receives on.

    Only Active and Unconfirmed memberships are moved: an Unsubscribed or Bounced
    subscriber stays as it is (as Deleted it could be resubscribed by the import wizard).
    No command when the setting is off, the record has no email, or another record in
    ``still_held_by`` still holds the email.
    """
    if not isinstance(person, Person):
        raise InvalidTypeError("person", "a Person", person)
    lists = _lists(memberships)
    others = _check_people(still_held_by, "still_held_by")
    if not delete_subscriber_on_record_delete or person.email is None:
        return ()
    key = email_key(person.email)
    if any(
        o.record_id != person.record_id and o.email is not None and email_key(o.email) == key
        for o in others
    ):
        return ()
    return tuple(MarkDeleted(m.list_id, person.email) for m in lists if m.state in _RECEIVING)


def records_to_process(
    batch: Sequence[T], *, disable_triggers: bool, disable_bulk_triggers: bool
) -> tuple[T, ...]:
    """The records of one trigger batch that the integration processes.

    Triggers disabled: none.  Bulk triggers disabled: only the first modified record of
    the batch.  Otherwise: all of them, in order.
    """
    given: object = batch
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise InvalidTypeError("batch", "a sequence of records", batch)
    if disable_triggers:
        return ()
    if disable_bulk_triggers:
        return tuple(batch[:1])
    return tuple(batch)


@attrs.frozen
class TriggerPlan:
    """What a batch of contact or lead changes does.

    ``processed`` are the changes automatic subscription rules and field mappings may act
    on; ``skipped`` the ones the trigger settings leave alone; ``commands`` the opt-out
    and delete commands for the platform.
    """

    processed: tuple[RecordChange, ...] = ()
    skipped: tuple[RecordChange, ...] = ()
    commands: tuple[Unsubscribe | MarkDeleted, ...] = ()


def plan_record_changes(
    changes: Sequence[RecordChange],
    memberships: Mapping[str, Iterable[ListMembership]],
    *,
    disable_triggers: bool,
    disable_bulk_triggers: bool,
    unsubscribe_on_opt_out: bool,
    delete_subscriber_on_record_delete: bool,
    surviving: Iterable[Person] = (),
) -> TriggerPlan:
    """One trigger batch of contact/lead changes: which are processed, and the commands.

    ``memberships`` maps an email to its lists; ``surviving`` are CRM records that still
    exist (a deleted record's email held by one of them is not deleted on the platform).
    """
    given: object = changes
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise InvalidTypeError("changes", "a sequence of RecordChange", changes)
    for change in changes:
        if not isinstance(change, RecordChange):
            raise InvalidTypeError("changes", "RecordChange values", change)
    if not isinstance(memberships, Mapping):
        raise InvalidTypeError("memberships", "a mapping of email to list memberships", memberships)
    processed = records_to_process(
        changes, disable_triggers=disable_triggers, disable_bulk_triggers=disable_bulk_triggers
    )
    lists_by_key: dict[str, list[ListMembership]] = {}
    for address, held in memberships.items():
        lists_by_key.setdefault(email_key(_email("memberships")(address)), []).extend(held)
    deleted = {c.record.record_id for c in processed if c.is_delete}
    holders = [p for p in _check_people(surviving, "surviving") if p.record_id not in deleted]
    commands: list[Unsubscribe | MarkDeleted] = []
    for change in processed:
        email = change.record.email
        lists = lists_by_key.get(email_key(email), []) if email is not None else []
        if change.is_delete:
            commands.extend(
                delete_on_record_delete(
                    change.record,
                    lists,
                    delete_subscriber_on_record_delete=delete_subscriber_on_record_delete,
                    still_held_by=holders,
                )
            )
        else:
            commands.extend(
                unsubscribes_for_opt_out(
                    change, lists, unsubscribe_on_opt_out=unsubscribe_on_opt_out
                )
            )
    skipped = tuple(changes[len(processed) :])  # the processed records are a prefix
    return TriggerPlan(processed, skipped, tuple(dict.fromkeys(commands)))


def contacts_to_process(
    account_id: str,
    contacts: Iterable[Person],
    *,
    enable_account_trigger: bool,
    disable_triggers: bool,
) -> tuple[Person, ...]:
    """The contacts an account change reaches: its contacts, when the account trigger is
    enabled and triggers are not disabled; otherwise none."""
    account = _text(account_id, "account_id")
    people = _check_people(contacts, "contacts")
    if disable_triggers or not enable_account_trigger:
        return ()
    return tuple(p for p in people if p.kind is RecordKind.CONTACT and p.account_id == account)


def plan_account_changes(
    account_ids: Sequence[str],
    contacts: Iterable[Person],
    *,
    enable_account_trigger: bool,
    disable_triggers: bool,
    disable_bulk_triggers: bool,
) -> tuple[Person, ...]:
    """The contacts one trigger batch of account changes reaches, each once.

    Bulk triggers disabled: only the batch's first account, all of its contacts.
    """
    people = _check_people(contacts, "contacts")
    accounts = records_to_process(
        account_ids, disable_triggers=disable_triggers, disable_bulk_triggers=disable_bulk_triggers
    )
    reached: dict[str, Person] = {}
    for account_id in accounts:
        for person in contacts_to_process(
            account_id,
            people,
            enable_account_trigger=enable_account_trigger,
            disable_triggers=disable_triggers,
        ):
            reached.setdefault(person.record_id, person)
    return tuple(reached.values())


# ----------------------------------------------------------------------------- 5. import wizard


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

    email: str = attrs.field(converter=_to_email)
    name: str = attrs.field(default="", validator=require_text("name", allow_empty=True))
    custom_fields: FrozenMap[str, CustomValue] = attrs.field(
        factory=FrozenMap, converter=_to_custom_fields
    )
    mobile_number: str | None = attrs.field(default=None, converter=_to_mobile)
    consent_to_track: Consent = attrs.field(
        default=Consent.UNCHANGED, converter=_to_consent_to_track
    )
    consent_to_send_sms: Consent = attrs.field(
        default=Consent.UNCHANGED, converter=_to_consent_to_send_sms
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
    list_id = _text(list_id, "list_id")
    refresh = ImportRefreshType.parse(refresh_type)
    if not isinstance(current, Mapping):
        raise InvalidTypeError("current", "a mapping of email to subscriber state", current)
    if type(batch_size) is not int or not 1 <= batch_size <= IMPORT_BATCH_SIZE:
        raise InvalidValueError("batch_size", f"between 1 and {IMPORT_BATCH_SIZE}", batch_size)
    states: dict[str, tuple[str, SubscriberState]] = {}
    for address, given in current.items():
        shown = _email("current")(address)
        states[email_key(shown)] = (shown, SubscriberState.parse(given, f"current[{shown!r}]"))
    blocked = {email_key(_email("suppressed")(e)) for e in suppressed}
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
        if state is not None and state not in _RECEIVING:
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
            if key not in sent and key not in blocked and state in _RECEIVING
        ]
    return ImportPlan(
        list_id, refresh, tuple(imports), tuple(removals), FrozenMap(kept), tuple(duplicates)
    )


@attrs.frozen
class ImportFailure:
    """One ``FailureDetails`` entry of an import result."""

    email: str
    code: int
    message: str


def _to_failures(value: object) -> tuple[ImportFailure, ...]:
    if not is_collection(value):
        raise InvalidTypeError("failure_details", "a sequence of ImportFailure", value)
    failures = tuple(value)
    for failure in failures:
        if not isinstance(failure, ImportFailure):
            raise InvalidTypeError("failure_details", "ImportFailure values", failure)
    return failures


def _to_emails(value: object, field: str) -> tuple[str, ...]:
    if not is_collection(value):
        raise InvalidTypeError(field, "a list of emails", value)
    return tuple(_email(field)(e) for e in value)


def _to_duplicates(value: object) -> tuple[str, ...]:
    return _to_emails(value, "duplicate_emails_in_submission")


def _count(field: str) -> Validator:
    def check(_inst: object, _attr: object, value: object) -> None:
        if type(value) is not int:
            raise InvalidTypeError(field, "a whole number", value)
        if value < 0:
            raise InvalidValueError(field, ">= 0", value)

    return check


@attrs.frozen
class ImportResult:
    """What the platform answered to one import request (also the ``ResultData`` of its
    "Subscriber Import had some failures" error)."""

    total_unique_emails_submitted: int = attrs.field(
        default=0, validator=_count("TotalUniqueEmailsSubmitted")
    )
    total_existing_subscribers: int = attrs.field(
        default=0, validator=_count("TotalExistingSubscribers")
    )
    total_new_subscribers: int = attrs.field(default=0, validator=_count("TotalNewSubscribers"))
    duplicate_emails_in_submission: tuple[str, ...] = attrs.field(
        default=(), converter=_to_duplicates
    )
    failure_details: tuple[ImportFailure, ...] = attrs.field(default=(), converter=_to_failures)

    @classmethod
    def from_api(cls, body: object) -> ImportResult:
        """Read the answer as the API (or the createsend client) returns it: a mapping or an
        attribute object, either the result itself or an error carrying ``ResultData``."""
        if isinstance(body, Mapping):
            data: object = body.get("ResultData", body)
        else:
            data = getattr(body, "ResultData", body)

        def opt(key: str, default: object) -> Any:
            if isinstance(data, Mapping):
                return data.get(key, default)
            return getattr(data, key, default)

        failures = []
        raw_failures = opt("FailureDetails", [])
        if not is_collection(raw_failures):
            raise InvalidTypeError("FailureDetails", "a list of failures", raw_failures)
        for item in raw_failures:
            code = _get(item, "Code", "FailureDetails.Code")
            message = _get(item, "Message", "FailureDetails.Message")
            if type(code) is not int:
                raise InvalidTypeError("FailureDetails.Code", "an int", code)
            if not isinstance(message, str):
                raise InvalidTypeError("FailureDetails.Message", "text", message)
            email = _get(item, "EmailAddress", "FailureDetails.EmailAddress")
            failures.append(
                ImportFailure(_email("FailureDetails.EmailAddress")(email), code, message)
            )
        return cls(
            opt("TotalUniqueEmailsSubmitted", 0),
            opt("TotalExistingSubscribers", 0),
            opt("TotalNewSubscribers", 0),
            _to_emails(opt("DuplicateEmailsInSubmission", []), "DuplicateEmailsInSubmission"),
            tuple(failures),
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


# ----------------------------------------------------------------------------- 7. suppression


@attrs.frozen
class SuppressionPlan:
    """The CRM suppression records to create, update and remove."""

    create: tuple[CreateSuppressionRecord, ...] = ()
    update: tuple[UpdateSuppressionRecord, ...] = ()
    remove: tuple[RemoveSuppressionRecord, ...] = ()

    @property
    def changes(self) -> tuple[CrmChange, ...]:
        """Every CRM change: creations, updates, then removals."""
        return (*self.create, *self.update, *self.remove)


def plan_suppression_sync(
    platform: Iterable[SuppressedEmail],
    crm: Iterable[SuppressionRecord],
    *,
    sync_suppression_list: bool,
    full: bool = False,
) -> SuppressionPlan:
    """Bring the CRM's suppression records in line with the platform's whole suppression list.

    One record per suppressed email, with the platform's reason and date: missing ones are
    created, ones whose reason or date differ are updated, and records for emails the
    platform no longer suppresses (or second records for one email) are removed.  An
    email listed twice by the platform keeps its latest entry.  Setting off: no change,
    except on a ``full`` sync, which removes every record (the integration loaded them).
    """
    entries = list(platform)
    records = list(crm)
    for entry in entries:
        if not isinstance(entry, SuppressedEmail):
            raise InvalidTypeError("platform", "SuppressedEmail values", entry)
    for record in records:
        if not isinstance(record, SuppressionRecord):
            raise InvalidTypeError("crm", "SuppressionRecord values", record)
    if not sync_suppression_list:
        if not full:
            return SuppressionPlan()
        return SuppressionPlan(
            remove=tuple(RemoveSuppressionRecord(r.record_id, r.email) for r in records)
        )
    latest: dict[str, SuppressedEmail] = {}
    for entry in entries:
        key = email_key(entry.email)
        if key not in latest or entry.suppressed_at > latest[key].suppressed_at:
            latest[key] = entry
    held: dict[str, list[SuppressionRecord]] = {}
    for record in records:
        held.setdefault(email_key(record.email), []).append(record)

    create: list[CreateSuppressionRecord] = []
    update: list[UpdateSuppressionRecord] = []
    remove: list[RemoveSuppressionRecord] = []
    for key, entry in latest.items():
        mine = held.get(key, [])
        if not mine:
            create.append(CreateSuppressionRecord(entry.email, entry.reason, entry.suppressed_at))
            continue
        same = [
            r for r in mine if (r.reason, r.suppressed_at) == (entry.reason, entry.suppressed_at)
        ]
        keep = same[0] if same else mine[0]
        if not same:
            update.append(
                UpdateSuppressionRecord(
                    keep.record_id, entry.email, entry.reason, entry.suppressed_at
                )
            )
        remove.extend(RemoveSuppressionRecord(r.record_id, r.email) for r in mine if r is not keep)
    for key, mine in held.items():
        if key not in latest:
            remove.extend(RemoveSuppressionRecord(r.record_id, r.email) for r in mine)
    return SuppressionPlan(tuple(create), tuple(update), tuple(remove))
