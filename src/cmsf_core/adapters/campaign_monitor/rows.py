"""Campaign Monitor's row shapes, read into the domain's values at the edge.

The API (and the ``createsend`` client, which answers with attribute objects) names its
fields ``ListID``, ``EmailAddress``, ``SubscriberState``, ``ResultData`` ...; the domain
never sees those keys.  :func:`value` and :func:`required` read one field of a row, a
mapping or an attribute object alike; :func:`read_list_membership`,
:func:`read_suppressed_email` and :func:`read_import_result` turn a ``lists_for_email``
row, a suppression-list row and an import answer into
:class:`~cmsf_core.domain.subscribers.ListMembership`,
:class:`~cmsf_core.domain.subscribers.SuppressedEmail` and
:class:`~cmsf_core.domain.subscribers.ImportResult`.  Errors name the API's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.checks import is_collection
from cmsf_core.domain.emails import check_nonempty_email as _email
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.subscribers import (
    Consent,
    ImportFailure,
    ImportResult,
    ImportSubscribers,
    ListMembership,
    SubscriberImport,
    SubscriberState,
    SuppressedEmail,
)
from cmsf_core.domain.timeutil import ensure_utc

__all__ = [
    "BOUNCE_TYPES",
    "LIST_STATES",
    "PAGE_SIZE_LIMIT",
    "STREAMS",
    "import_request",
    "read_import_result",
    "read_list_membership",
    "read_suppressed_email",
    "required",
    "subscriber_row",
    "value",
]

#: The largest page the API serves.
PAGE_SIZE_LIMIT = 1000

#: The endpoint (``Campaign`` method, export file name) serving each tracking stream.
STREAMS: Mapping[ActivityType, str] = {
    ActivityType.SENT: "recipients",
    ActivityType.OPENED: "opens",
    ActivityType.CLICKED: "clicks",
    ActivityType.BOUNCED: "bounces",
    ActivityType.UNSUBSCRIBED: "unsubscribes",
    ActivityType.SPAM_COMPLAINT: "spam",
}

#: The endpoint (``List`` method, export file name) serving each list state, in the order
#: they are read.
LIST_STATES: Mapping[str, SubscriberState] = {
    "active": SubscriberState.ACTIVE,
    "unconfirmed": SubscriberState.UNCONFIRMED,
    "unsubscribed": SubscriberState.UNSUBSCRIBED,
    "bounced": SubscriberState.BOUNCED,
    "deleted": SubscriberState.DELETED,
}

#: A bounce row's ``BounceType`` (any case) -> as the records keep it.
BOUNCE_TYPES: Mapping[str, str] = {"soft": "Soft", "hard": "Hard"}

_ABSENT: Any = object()


def value(row: object, key: str, default: Any = None) -> Any:
    """Field ``key`` of a row (a mapping or an attribute object), or ``default``."""
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


def required(row: object, key: str, field: str | None = None) -> Any:
    """Field ``key`` of a row; a row without it is an error naming ``field`` (the key)."""
    found = value(row, key, _ABSENT)
    if found is _ABSENT:
        raise InvalidValueError(field or key, "present in the row", row)
    return found


def _api_datetime(text: object, tz: tzinfo, field: str) -> datetime:
    """A platform date-time: text like ``"2012-08-20 22:32:00"`` in the client's zone."""
    if isinstance(text, str):
        try:
            parsed = datetime.fromisoformat(text.strip())
        except ValueError:
            raise InvalidValueError(field, "a date-time like '2012-08-20 22:32:00'", text) from None
    elif isinstance(text, datetime):
        parsed = text
    else:
        raise InvalidTypeError(field, "a date-time", text)
    if parsed.tzinfo is None:
        if not isinstance(tz, tzinfo):
            raise InvalidTypeError("tz", "the client's time zone (a tzinfo)", tz)
        parsed = parsed.replace(tzinfo=tz)
    return ensure_utc(parsed, field)


def read_list_membership(row: object, tz: tzinfo) -> ListMembership:
    """Read a ``lists_for_email`` row (``ListID``, ``ListName``, ``SubscriberState``,
    ``DateSubscriberAdded``); the platform's dates are in the client's zone ``tz``."""
    added = required(row, "DateSubscriberAdded")
    return ListMembership(
        required(row, "ListID"),
        required(row, "ListName"),
        SubscriberState.parse(required(row, "SubscriberState"), "SubscriberState"),
        None if added in (None, "") else _api_datetime(added, tz, "DateSubscriberAdded"),
    )


def read_suppressed_email(row: object, tz: tzinfo) -> SuppressedEmail:
    """Read a suppression-list row (``EmailAddress``, ``SuppressionReason``, ``Date``,
    ``State``); the platform's dates are in the client's zone ``tz``."""
    state = SubscriberState.parse(required(row, "State"), "State")
    if state is not SubscriberState.SUPPRESSED:
        raise InvalidValueError("State", "'Suppressed'", state.value)
    return SuppressedEmail(
        required(row, "EmailAddress"),
        required(row, "SuppressionReason"),
        _api_datetime(required(row, "Date"), tz, "Date"),
    )


def read_import_result(body: object) -> ImportResult:
    """Read an import answer as the API (or the createsend client) returns it: a mapping
    or an attribute object, either the result itself or an error carrying ``ResultData``."""
    data = value(body, "ResultData", body)
    failures = []
    raw_failures = value(data, "FailureDetails", [])
    if not is_collection(raw_failures):
        raise InvalidTypeError("FailureDetails", "a list of failures", raw_failures)
    for item in raw_failures:
        code = required(item, "Code", "FailureDetails.Code")
        message = required(item, "Message", "FailureDetails.Message")
        if type(code) is not int:
            raise InvalidTypeError("FailureDetails.Code", "an int", code)
        if not isinstance(message, str):
            raise InvalidTypeError("FailureDetails.Message", "text", message)
        email = required(item, "EmailAddress", "FailureDetails.EmailAddress")
        failures.append(ImportFailure(_email(email, "FailureDetails.EmailAddress"), code, message))
    duplicates = value(data, "DuplicateEmailsInSubmission", [])
    if not is_collection(duplicates):
        raise InvalidTypeError("DuplicateEmailsInSubmission", "a list of emails", duplicates)
    return ImportResult(
        value(data, "TotalUniqueEmailsSubmitted", 0),
        value(data, "TotalExistingSubscribers", 0),
        value(data, "TotalNewSubscribers", 0),
        tuple(_email(e, "DuplicateEmailsInSubmission") for e in duplicates),
        tuple(failures),
    )


def subscriber_row(row: SubscriberImport) -> dict[str, object]:
    """One row of an import request's ``Subscribers``: a select-many custom field is sent
    as its key repeated, one ``{Key, Value}`` per option; ``MobileNumber`` only when there
    is a number, ``ConsentToSendSms`` only when it is to change (Unchanged sends no key)."""
    body: dict[str, object] = {
        "EmailAddress": row.email,
        "Name": row.name,
        "CustomFields": [
            {"Key": key, "Value": item}
            for key, field_value in row.custom_fields.items()
            for item in ((field_value,) if isinstance(field_value, str) else field_value)
        ],
        "ConsentToTrack": row.consent_to_track.value,
    }
    if row.mobile_number is not None:
        body["MobileNumber"] = row.mobile_number
    if row.consent_to_send_sms is not Consent.UNCHANGED:
        body["ConsentToSendSms"] = row.consent_to_send_sms.value
    return body


def import_request(command: ImportSubscribers) -> dict[str, object]:
    """The body of ``Subscriber.import_subscribers`` for ``command``, keyed as Campaign
    Monitor names its fields."""
    return {
        "Subscribers": [subscriber_row(row) for row in command.subscribers],
        "Resubscribe": command.resubscribe,
        "QueueSubscriptionBasedAutoresponders": command.queue_subscription_based_autoresponders,
        "RestartSubscriptionBasedAutoresponders": (
            command.restart_subscription_based_autoresponders
        ),
    }
