"""Maintenance messages, the notification address, email masking and the settings audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, NaiveDatetimeError
from cmsf_core.domain.maintenance import (
    REDACTED,
    AuditEntry,
    MaintenanceLog,
    MaintenanceMessage,
    Notification,
    Severity,
    diff_settings,
    is_email,
    mask_email,
    mask_emails,
    parse_email,
    parse_notification_email,
)
from cmsf_core.domain.settings import SETTING_SPECS, RefreshMode, Settings

AT = datetime(2024, 5, 1, 9, tzinfo=UTC)


def message(code: str = "CM-0042", record: str | None = "003xx000004TmiQ") -> MaintenanceMessage:
    return MaintenanceMessage(
        code,
        Severity.ERROR,
        record,
        "A field maps data to a restricted picklist (Country).",
        AT,
    )


# ----------------------------------------------------------------------------- emails


def test_mask_email_keeps_the_first_letter_and_the_domain() -> None:
    """``jane.doe@example.com`` shows as ``j***@example.com``."""
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email("not an address") == REDACTED


def test_mask_emails_masks_every_address_in_a_text() -> None:
    """Addresses inside free text are masked; the rest of the text stays."""
    text = "Could not sync jane.doe@example.com (list 'VIPs'); see bob+tag@mail.example.org."
    assert mask_emails(text) == (
        "Could not sync j***@example.com (list 'VIPs'); see b***@mail.example.org."
    )


@given(st.emails().filter(lambda address: "*" not in address))
def test_any_email_is_masked_in_text(address: str) -> None:
    """No address survives masking inside a sentence (``*`` is the mask, so left out)."""
    masked = mask_emails(f"bounced: {address}.")
    assert address not in masked
    assert "***@" in masked


@pytest.mark.parametrize(
    "address", ["ops@example.com", "first.last+tag@sub.example.co.uk", "o'neil@example.ie"]
)
def test_email_shapes_that_are_accepted(address: str) -> None:
    """Ordinary addresses are accepted as they are."""
    assert is_email(address)
    assert parse_email(f"  {address} ") == address


@pytest.mark.parametrize(
    "address",
    [
        "",
        "ops",
        "ops@",
        "@example.com",
        "ops@localhost",
        "ops@@example.com",
        "a b@example.com",
        "ops@example..com",
        ".ops@example.com",
        "x" * 65 + "@example.com",
    ],
)
def test_malformed_addresses_are_refused(address: str) -> None:
    """Addresses without a proper local part and domain are refused."""
    assert not is_email(address)
    with pytest.raises(InvalidValueError, match="must be an email address"):
        parse_email(address)


def test_refused_address_is_masked_in_the_error() -> None:
    """The error about a bad address does not repeat it in full."""
    with pytest.raises(InvalidValueError) as caught:
        parse_email("jane.doe@localhost", "Notification_Email")
    assert "jane.doe" not in str(caught.value)
    assert "'Notification_Email' must be an email address" in str(caught.value)


def test_notification_email_may_be_empty() -> None:
    """No address (``None`` or blank) means no notifications."""
    assert parse_notification_email(None) is None
    assert parse_notification_email("  ") is None
    with pytest.raises(InvalidTypeError, match="'Notification_Email'"):
        parse_notification_email(42)


# ----------------------------------------------------------------------------- messages


def test_message_holds_code_severity_record_guidance_and_time() -> None:
    """The five columns of the product's maintenance table."""
    m = message()
    assert (m.code, m.severity, m.record, m.occurred_at) == (
        "CM-0042",
        Severity.ERROR,
        "003xx000004TmiQ",
        AT,
    )
    assert str(m) == (
        "2024-05-01 09:00 UTC [Error] CM-0042 003xx000004TmiQ: "
        "A field maps data to a restricted picklist (Country)."
    )


def test_message_time_is_normalised_to_utc() -> None:
    """An aware time in any zone is held in UTC; a naive one is refused."""
    paris = datetime(2024, 5, 1, 11, tzinfo=timezone(timedelta(hours=2)))
    assert attrs.evolve(message(), occurred_at=paris).occurred_at == AT
    with pytest.raises(NaiveDatetimeError, match="'occurred_at'"):
        attrs.evolve(message(), occurred_at=datetime(2024, 5, 1))


def test_message_masks_addresses_when_shown() -> None:
    """An address in the record or the guidance shows masked in str and repr."""
    m = MaintenanceMessage(
        "CM-7", "warn", "jane.doe@example.com", "Ask jane.doe@example.com to re-subscribe.", AT
    )
    for text in (str(m), repr(m)):
        assert "jane.doe@example.com" not in text
        assert "j***@example.com" in text
    assert m.record == "jane.doe@example.com"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("code", "", InvalidValueError),
        ("code", "has space", InvalidValueError),
        ("code", 42, InvalidTypeError),
        ("severity", "fatal", InvalidValueError),
        ("record", " ", InvalidValueError),
        ("guidance", None, InvalidTypeError),
    ],
)
def test_bad_message_fields_are_refused(field: str, value: object, error: type[Exception]) -> None:
    """Each field is checked and named in the error."""
    changes: dict[str, Any] = {field: value}
    with pytest.raises(error, match=f"'{field}'"):
        attrs.evolve(message(), **changes)


def test_severity_reads_product_spellings() -> None:
    """Info/Information, Warning/Warn and Error in any case."""
    assert [Severity.parse(s) for s in ("information", "WARN", "error")] == list(Severity)


# ----------------------------------------------------------------------------- the log


def test_add_returns_a_new_log_and_keeps_the_old() -> None:
    """Adding a message leaves the original log as it was."""
    log = MaintenanceLog()
    first = log.add(message("CM-1"))
    second = first.add(message("CM-2"))
    assert log.messages == ()
    assert [m.code for m in first.messages] == ["CM-1"]
    assert [m.code for m in second.messages] == ["CM-1", "CM-2"]


def test_new_messages_are_addressed_to_the_notification_email() -> None:
    """With an address set, each new message makes one notification to it."""
    log = MaintenanceLog(notification_email="ops@example.com")
    m = message()
    assert log.notification_for(m) == Notification(
        to="ops@example.com",
        subject="Maintenance message CM-0042 (Error)",
        body=str(m),
    )


def test_no_notification_without_an_address() -> None:
    """Without an address there is nothing to send."""
    assert MaintenanceLog().notification_for(message()) is None


def test_notification_shows_the_address_masked() -> None:
    """A notification's repr masks its recipient; its body masks addresses in the message."""
    log = MaintenanceLog(notification_email="jane.doe@example.com")
    m = MaintenanceMessage("CM-1", "Info", "bob@example.org", "", AT)
    notification = log.notification_for(m)
    assert notification is not None
    assert "jane.doe@example.com" not in repr(notification)
    assert "bob@example.org" not in notification.body
    assert "jane.doe@example.com" not in repr(log)


def test_notification_address_is_validated() -> None:
    """A malformed notification address is refused and masked in the error."""
    with pytest.raises(InvalidValueError, match="'notification_email' must be an email") as caught:
        MaintenanceLog().with_notification_email("jane.doe@example")
    assert "jane.doe" not in str(caught.value)
    assert (
        MaintenanceLog(notification_email="a@b.io").with_notification_email("").notification_email
        is None
    )


def test_delete_messages_clears_the_message_log_only() -> None:
    """Delete messages empties the messages; the address and the audit log stay."""
    entry = AuditEntry(AT, "admin", "DaysToKeep_Email", 180, 90)
    log = MaintenanceLog(notification_email="ops@example.com").add(message())
    log = log.record_changes([entry])
    cleared = log.delete_messages()
    assert cleared.messages == ()
    assert cleared.notification_email == "ops@example.com"
    assert cleared.audit == (entry,)


def test_log_refuses_what_is_not_a_message() -> None:
    """Only MaintenanceMessage values go in the log."""
    with pytest.raises(InvalidTypeError, match="'message'"):
        MaintenanceLog().add("CM-1 failed")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- audit log


def test_diff_gives_one_entry_per_changed_setting() -> None:
    """Changing days to keep and the refresh mode gives two entries, by product name."""
    old = Settings()
    new = Settings(days_to_keep=90, refresh_mode=RefreshMode.ONCE_ONLY)
    entries = diff_settings(old, new, at=AT, user="admin")
    assert [(e.setting, e.old, e.new) for e in entries] == [
        ("Campaign_Member_Refresh", "Always", "Once Only"),
        ("DaysToKeep_Email", 180, 90),
    ]
    assert all(e.at == AT and e.user == "admin" for e in entries)


def test_diff_of_equal_settings_is_empty() -> None:
    """No change, no entry."""
    assert diff_settings(Settings(), Settings(), at=AT, user="admin") == ()


def test_diff_reports_overrides_that_appear() -> None:
    """A per-type override that did not exist shows as changed from none."""
    new = Settings(days_to_keep_by_type={ActivityType.SENT: 90})
    (entry,) = diff_settings(Settings(), new, at=AT, user="admin")
    assert (entry.setting, entry.old, entry.new) == ("DaysToKeep_Email_Sent", None, 90)


def test_diff_values_are_immutable() -> None:
    """List values become tuples so that entries are hashable values."""
    new = Settings(imported_types={"Sent", "Opened"})
    (entry,) = diff_settings(Settings(), new, at=AT, user="admin")
    assert entry.new == ("Sent", "Opened")
    assert hash(entry) == hash(attrs.evolve(entry))


def test_secret_settings_are_redacted() -> None:
    """A spec marked secret shows ``***`` for both values, never the values."""
    specs = [
        attrs.evolve(s, secret=True) if s.name == "DaysToKeep_Email" else s for s in SETTING_SPECS
    ]
    (entry,) = diff_settings(
        Settings(), Settings(days_to_keep=12345), at=AT, user="admin", specs=specs
    )
    assert (entry.setting, entry.old, entry.new) == ("DaysToKeep_Email", REDACTED, REDACTED)
    assert "12345" not in str(entry) + repr(entry)


def test_audit_entry_reads_as_a_sentence_with_the_user_masked() -> None:
    """``str`` of an entry says who changed what, from what to what."""
    entry = AuditEntry(AT, "jane.doe@example.com", "DaysToKeep_Email", 180, 90)
    assert str(entry) == "2024-05-01 09:00 UTC j***@example.com changed DaysToKeep_Email: 180 -> 90"
    assert "jane.doe@example.com" not in repr(entry)


def test_diff_needs_an_aware_time_and_a_user() -> None:
    """The entry's time must be aware and the user named."""
    with pytest.raises(NaiveDatetimeError, match="'at'"):
        diff_settings(Settings(), Settings(days_to_keep=1), at=datetime(2024, 5, 1), user="a")
    with pytest.raises(InvalidValueError, match="'user'"):
        diff_settings(Settings(), Settings(days_to_keep=1), at=AT, user=" ")


def test_diff_needs_settings() -> None:
    """Anything but two Settings values is a type error."""
    with pytest.raises(InvalidTypeError, match="'old'"):
        diff_settings({}, Settings(), at=AT, user="a")  # type: ignore[arg-type]


@given(st.integers(0, 36_500), st.integers(0, 36_500))
def test_diff_is_empty_exactly_when_nothing_changed(a: int, b: int) -> None:
    """Two settings differing in days to keep give one entry, equal ones none."""
    entries = diff_settings(Settings(days_to_keep=a), Settings(days_to_keep=b), at=AT, user="u")
    assert len(entries) == (a != b)
