"""The platform's import request and its answer: the rows sent for each email, the
request on one list, and what the platform reports back (counts, duplicates, failures)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from cmsf_core.domain.checks import is_collection, require_text
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.subscribers._checks import (
    check_bool,
    check_count,
    collection_of,
    email_converter,
    to_email,
)
from cmsf_core.domain.subscribers.values import (
    Consent,
    to_consent_to_send_sms,
    to_consent_to_track,
)

__all__ = [
    "IMPORT_BATCH_SIZE",
    "CustomValue",
    "ImportFailure",
    "ImportResult",
    "ImportSubscribers",
    "SubscriberImport",
]

#: Most subscribers Campaign Monitor accepts in one import request.
IMPORT_BATCH_SIZE = 1000


#: A custom field's value: text, or the options of a select-many field (sent as the
#: same ``Key`` repeated).
CustomValue = str | tuple[str, ...]


def to_custom_fields(value: object) -> FrozenMap[str, CustomValue]:
    """The converter of a ``custom_fields`` attribute: field key -> text (or a tuple of text)."""
    if not isinstance(value, Mapping):
        raise InvalidTypeError("custom_fields", "a mapping of field key to text", value)
    for key, text in value.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidValueError("custom_fields", "non-empty field keys", key)
        many = isinstance(text, tuple) and all(isinstance(t, str) for t in text)
        if not isinstance(text, str) and not many:
            raise InvalidTypeError(f"custom_fields[{key}]", "text (or a tuple of text)", text)
    return FrozenMap(value)


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


@attrs.frozen
class SubscriberImport:
    """One row of a platform import: what is sent for one email.

    ``mobile_number`` is E.164 or ``None`` (not sent: the platform keeps what it has);
    ``consent_to_send_sms`` is sent only when it is Yes or No (Unchanged is the same as
    leaving it out, so a row without SMS data holds no SMS key at all).
    """

    email: str = attrs.field(converter=to_email)
    name: str = attrs.field(default="", validator=require_text("name", allow_empty=True))
    custom_fields: FrozenMap[str, CustomValue] = attrs.field(
        factory=FrozenMap, converter=to_custom_fields
    )
    mobile_number: str | None = attrs.field(default=None, validator=_check_e164)
    consent_to_track: Consent = attrs.field(
        default=Consent.UNCHANGED, converter=to_consent_to_track
    )
    consent_to_send_sms: Consent = attrs.field(
        default=Consent.UNCHANGED, converter=to_consent_to_send_sms
    )


def _to_rows(value: object) -> tuple[SubscriberImport, ...]:
    rows = collection_of(
        value,
        "subscribers",
        SubscriberImport,
        collection="a sequence of SubscriberImport",
        item="SubscriberImport rows",
    )
    seen: set[str] = set()
    for row in rows:
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
    resubscribe: bool = attrs.field(validator=check_bool("resubscribe"))
    queue_subscription_based_autoresponders: bool = attrs.field(
        default=False, validator=check_bool("queue_subscription_based_autoresponders")
    )
    restart_subscription_based_autoresponders: bool = attrs.field(
        default=False, validator=check_bool("restart_subscription_based_autoresponders")
    )


@attrs.frozen
class ImportFailure:
    """One ``FailureDetails`` entry of an import result."""

    email: str
    code: int
    message: str


def _to_failures(value: object) -> tuple[ImportFailure, ...]:
    return collection_of(
        value,
        "failure_details",
        ImportFailure,
        collection="a sequence of ImportFailure",
        item="ImportFailure values",
    )


def _to_emails(value: object, field: str) -> tuple[str, ...]:
    if not is_collection(value):
        raise InvalidTypeError(field, "a list of emails", value)
    return tuple(email_converter(field)(e) for e in value)


def _to_duplicates(value: object) -> tuple[str, ...]:
    return _to_emails(value, "duplicate_emails_in_submission")


@attrs.frozen
class ImportResult:
    """What the platform answered to one import request (also the ``ResultData`` of its
    "Subscriber Import had some failures" error)."""

    total_unique_emails_submitted: int = attrs.field(
        default=0, validator=check_count("TotalUniqueEmailsSubmitted")
    )
    total_existing_subscribers: int = attrs.field(
        default=0, validator=check_count("TotalExistingSubscribers")
    )
    total_new_subscribers: int = attrs.field(
        default=0, validator=check_count("TotalNewSubscribers")
    )
    duplicate_emails_in_submission: tuple[str, ...] = attrs.field(
        default=(), converter=_to_duplicates
    )
    failure_details: tuple[ImportFailure, ...] = attrs.field(default=(), converter=_to_failures)
