"""Campaign Monitor's row shapes are read at the edge, into the domain's values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from cmsf_core.adapters.campaign_monitor import rows
from cmsf_core.adapters.campaign_monitor.rows import (
    read_import_result,
    read_list_membership,
    read_suppressed_email,
)
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.subscribers import (
    ImportFailure,
    ImportResult,
    ListMembership,
    SubscriberState,
    SuppressedEmail,
)

S = SubscriberState
WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
AEST = timezone(timedelta(hours=10))

#: The module called through an untyped name: these calls pass wrong types on purpose.
loose: Any = rows

# ----------------------------------------------------------------------------- lists_for_email


def test_a_lists_for_email_row_is_read_in_the_clients_time_zone() -> None:
    """ListID, ListName, SubscriberState and DateSubscriberAdded become a ListMembership."""
    row = {
        "ListID": "ab4a2b57",
        "ListName": "List Number One",
        "SubscriberState": "Active",
        "DateSubscriberAdded": "2012-08-20 22:32:00",
    }
    membership = read_list_membership(row, AEST)
    assert membership == ListMembership(
        "ab4a2b57", "List Number One", S.ACTIVE, datetime(2012, 8, 20, 12, 32, tzinfo=UTC)
    )


def test_a_lists_for_email_row_may_be_an_attribute_object() -> None:
    """The createsend client returns objects with attributes; they read the same."""
    row = SimpleNamespace(
        ListID="L9", ListName="N", SubscriberState="Unsubscribed", DateSubscriberAdded=None
    )
    assert read_list_membership(row, UTC) == ListMembership("L9", "N", S.UNSUBSCRIBED)


def test_a_row_missing_a_key_is_refused_naming_it() -> None:
    """A row without SubscriberState is an error naming that key."""
    row = {"ListID": "L", "ListName": "N", "DateSubscriberAdded": None}
    with pytest.raises(InvalidValueError, match=r"^'SubscriberState' must be present in the row"):
        read_list_membership(row, UTC)


def test_a_platform_date_with_its_own_offset_keeps_it() -> None:
    """A date that carries an offset (or an aware datetime) is not moved to the client's zone."""
    row = {"ListID": "L", "ListName": "N", "SubscriberState": "Active"}
    with_offset = read_list_membership(
        {**row, "DateSubscriberAdded": "2024-01-01T10:00+02:00"}, AEST
    )
    aware = read_list_membership({**row, "DateSubscriberAdded": WHEN}, AEST)
    naive = read_list_membership({**row, "DateSubscriberAdded": datetime(2024, 1, 1, 10)}, AEST)
    assert with_offset.date_added == datetime(2024, 1, 1, 8, tzinfo=UTC)
    assert aware.date_added == WHEN
    assert naive.date_added == datetime(2024, 1, 1, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------- import answers

PARTIAL = {
    "ResultData": {
        "TotalUniqueEmailsSubmitted": 3,
        "TotalExistingSubscribers": 2,
        "TotalNewSubscribers": 0,
        "DuplicateEmailsInSubmission": [],
        "FailureDetails": [
            {"EmailAddress": "example+1@example", "Code": 1, "Message": "Invalid Email Address"}
        ],
    },
    "Code": 210,
    "Message": "Subscriber Import had some failures",
}


def test_the_import_result_reads_a_partial_failure_answer() -> None:
    """The 'had some failures' error carries the result in ResultData."""
    result = read_import_result(PARTIAL)
    assert result == ImportResult(
        3, 2, 0, (), (ImportFailure("example+1@example", 1, "Invalid Email Address"),)
    )


def test_the_import_result_reads_a_success_answer_and_attribute_objects() -> None:
    """A plain answer, or the client's attribute objects, read the same way."""
    body = SimpleNamespace(
        FailureDetails=[],
        TotalUniqueEmailsSubmitted=3,
        TotalExistingSubscribers=0,
        TotalNewSubscribers=3,
        DuplicateEmailsInSubmission=["a@example.com"],
    )
    assert read_import_result(body) == ImportResult(3, 0, 3, ("a@example.com",), ())


def test_the_import_result_refuses_a_malformed_failure() -> None:
    """A failure without an int code is an error naming the key."""
    bad = {"FailureDetails": [{"EmailAddress": "a@example.com", "Code": "1", "Message": "x"}]}
    with pytest.raises(InvalidTypeError, match=r"'FailureDetails.Code'"):
        read_import_result(bad)


# ----------------------------------------------------------------------------- suppression list


def test_a_suppression_list_row_is_read_in_the_clients_time_zone() -> None:
    """SuppressionReason, EmailAddress, Date and State become a SuppressedEmail."""
    row = {
        "SuppressionReason": "Unsubscribed",
        "EmailAddress": "example+1@example.com",
        "Date": "2010-10-26 10:55:31",
        "State": "Suppressed",
    }
    assert read_suppressed_email(row, AEST) == SuppressedEmail(
        "example+1@example.com", "Unsubscribed", datetime(2010, 10, 26, 0, 55, 31, tzinfo=UTC)
    )


def test_a_suppression_list_row_in_another_state_is_refused() -> None:
    """Only Suppressed entries belong on the suppression list."""
    row = {
        "SuppressionReason": "x",
        "EmailAddress": "a@b.c",
        "Date": "2010-10-26",
        "State": "Active",
    }
    with pytest.raises(InvalidValueError, match=r"^'State' must be 'Suppressed'"):
        read_suppressed_email(row, UTC)


def test_a_suppression_list_date_must_be_a_date() -> None:
    """An unreadable date names the Date key."""
    row = {"SuppressionReason": "x", "EmailAddress": "a@b.c", "Date": "soon", "State": "Suppressed"}
    with pytest.raises(InvalidValueError, match=r"^'Date' must be a date-time"):
        read_suppressed_email(row, UTC)


# ----------------------------------------------------------------------------- bad values

_ROW = {"ListID": "L", "ListName": "N", "SubscriberState": "Active"}

WRONG_TYPES = [
    (
        lambda: loose.read_list_membership(
            SimpleNamespace(ListID="L", DateSubscriberAdded=None), UTC
        ),
        "ListName",
    ),
    (
        lambda: loose.read_list_membership({**_ROW, "DateSubscriberAdded": 5}, UTC),
        "DateSubscriberAdded",
    ),
    (
        lambda: loose.read_list_membership({**_ROW, "DateSubscriberAdded": "2024-01-01"}, "UTC"),
        "tz",
    ),
    (lambda: loose.read_import_result({"FailureDetails": "none"}), "FailureDetails"),
    (
        lambda: loose.read_import_result(
            {"FailureDetails": [{"EmailAddress": "a@b.c", "Code": 1, "Message": None}]}
        ),
        "FailureDetails.Message",
    ),
]


@pytest.mark.parametrize(("call", "field"), WRONG_TYPES)
def test_a_wrong_row_is_refused_naming_the_key(call: Callable[[], object], field: str) -> None:
    """Every reader checks what it is given; the error names the argument or key."""
    with pytest.raises((InvalidValueError, InvalidTypeError)) as info:
        call()
    assert isinstance(info.value, InvalidValueError | InvalidTypeError)
    assert info.value.field == field


# ----------------------------------------------------------------------------- one reading

_MEMBERSHIP_ROWS: list[object] = [
    {**_ROW, "DateSubscriberAdded": "2012-08-20 22:32:00"},
    {**_ROW, "DateSubscriberAdded": ""},
    {**_ROW, "DateSubscriberAdded": "2024-01-01T10:00+02:00"},
    {**_ROW, "DateSubscriberAdded": WHEN},
    {**_ROW, "DateSubscriberAdded": datetime(2024, 1, 1, 10)},
    {**_ROW, "DateSubscriberAdded": "yesterday"},
    {**_ROW, "DateSubscriberAdded": 5},
    {"ListID": "L", "ListName": "N", "DateSubscriberAdded": None},
    SimpleNamespace(ListID="L9", ListName="N", SubscriberState="Bounced", DateSubscriberAdded=None),
    SimpleNamespace(ListID="L", DateSubscriberAdded=None),
]
_SUPPRESSED_ROWS: list[object] = [
    {"SuppressionReason": "x", "EmailAddress": "a@b.c", "Date": "2010-10-26 10:55:31", "State": s}
    for s in ("Suppressed", "Active")
]
_IMPORT_ANSWERS: list[object] = [
    PARTIAL,
    SimpleNamespace(ResultData=SimpleNamespace(TotalNewSubscribers=1, FailureDetails=[])),
    {"FailureDetails": "none"},
    {"FailureDetails": [{"EmailAddress": "a@b.c", "Code": "1", "Message": "x"}]},
    {"FailureDetails": [{"EmailAddress": "a@b.c", "Code": 1, "Message": None}]},
    {"FailureDetails": [{"Code": 1, "Message": "x"}]},
    {"DuplicateEmailsInSubmission": "a@b.c"},
    {"DuplicateEmailsInSubmission": [5]},
]

_CASES: list[tuple[Callable[..., object], tuple[object, ...]]] = [
    *[(read_list_membership, (row, tz)) for row in _MEMBERSHIP_ROWS for tz in (AEST, UTC)],
    *[(read_suppressed_email, (row, AEST)) for row in _SUPPRESSED_ROWS],
    *[(read_import_result, (answer,)) for answer in _IMPORT_ANSWERS],
]


@pytest.mark.parametrize(("read", "args"), _CASES)
def test_every_row_is_read_into_its_value_or_refused_naming_a_field(
    read: Callable[..., object], args: tuple[object, ...]
) -> None:
    """A row, well formed or not, gives its domain value or one error naming the field."""
    found: object
    try:
        found = read(*args)
    except (InvalidValueError, InvalidTypeError) as error:
        found = error
    if isinstance(found, InvalidValueError | InvalidTypeError):
        assert found.field
    else:
        assert isinstance(found, ListMembership | SuppressedEmail | ImportResult)
