"""Storage estimates: about 2 KB a record, now and under other retention settings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, UnknownChoiceError
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.storage import (
    RECORD_SIZE_BYTES,
    StorageEstimate,
    StorageLine,
    estimate_storage,
    format_size,
    what_if_storage,
)

MB = 1024 * 1024


def test_ten_thousand_subscribers_take_about_twenty_megabytes() -> None:
    """The product's example: 10,000 subscribers x ~2 KB ~ 20 MB."""
    estimate = estimate_storage({"Subscribers": 10_000})
    assert estimate.total_records == 10_000
    assert estimate.total_bytes == 10_000 * 2 * 1024
    assert 19 * MB < estimate.total_bytes < 21 * MB


def test_a_record_counts_two_kilobytes() -> None:
    """The size per record is the CRM's 2 KB."""
    assert RECORD_SIZE_BYTES == 2048


def test_current_counts_by_kind_and_type_add_up() -> None:
    """Counts per kind (labels or activity types) and their total."""
    counts: dict[str | ActivityType, int] = {"Subscribers": 500, ActivityType.OPENED: 1_500}
    estimate = estimate_storage(counts)
    assert [(line.label, line.records) for line in estimate.lines] == [
        ("Subscribers", 500),
        ("Opened", 1_500),
    ]
    assert estimate.line(ActivityType.OPENED).size_bytes == 1_500 * 2048
    assert estimate.total_bytes == 2_000 * 2048


def test_estimate_reads_as_a_table() -> None:
    """``str`` lists every kind with its count and size, then the total."""
    text = str(estimate_storage({"Subscribers": 10_000, "Campaigns": 25}))
    assert text.splitlines() == [
        "Records       Count     Size",
        "Subscribers  10,000  19.5 MB",
        "Campaigns        25  50.0 KB",
        "Total        10,025  19.6 MB",
    ]


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (2048, "2.0 KB"),
        (20_480_000, "19.5 MB"),
        (3 * 1024**3, "3.0 GB"),
    ],
)
def test_sizes_are_shown_in_binary_units(size: int, text: str) -> None:
    """1 KB is 1,024 bytes, as the CRM's storage pages count."""
    assert format_size(size) == text


def test_what_if_keeps_daily_volume_times_days_to_keep() -> None:
    """At steady state a type keeps its daily volume times the days it is kept (default 180)."""
    estimate = what_if_storage({"Sent": 1_000, "Opened": 250}, Settings())
    assert estimate.line("Sent").records == 180_000
    assert estimate.line("Opened").records == 45_000
    assert estimate.line("Clicked").records == 0


def test_what_if_last_ninety_days_of_sent_emails() -> None:
    """The product's example: only sent emails, kept 90 days."""
    settings = Settings(days_to_keep=90, imported_types={"Sent"})
    estimate = what_if_storage({"Sent": 1_000, "Opened": 250, "Clicked": 40}, settings)
    assert estimate.total_records == 90_000
    assert estimate.line("Opened").note == "not imported"
    assert estimate.line("Sent").note == "1,000 a day x 90 days kept"


def test_what_if_uses_per_type_overrides() -> None:
    """A type's own days to keep wins over DaysToKeep_Email."""
    settings = Settings(days_to_keep=180, days_to_keep_by_type={ActivityType.SENT: 30})
    estimate = what_if_storage({"Sent": 100, "Opened": 100}, settings)
    assert estimate.line("Sent").records == 3_000
    assert estimate.line("Opened").records == 18_000


def test_zero_days_keeps_nothing() -> None:
    """Days to keep 0 stops tracking history: no records, no storage."""
    estimate = what_if_storage(dict.fromkeys(ActivityType, 500), Settings(days_to_keep=0))
    assert estimate.total_bytes == 0
    assert {line.note for line in estimate.lines} == {"0 days kept"}


def test_tracking_import_off_keeps_nothing() -> None:
    """With tracking import off no tracking records are kept."""
    estimate = what_if_storage({"Sent": 500}, Settings(import_tracking=False))
    assert estimate.line("Sent").records == 0
    assert estimate.line("Sent").note == "tracking import off"


def test_fractional_daily_volumes_round_up() -> None:
    """An average of 2.5 a day for 3 days is 8 records (7.5 rounded up)."""
    estimate = what_if_storage({"Bounced": 2.5}, Settings(days_to_keep=3))
    assert estimate.line("Bounced").records == 8


def test_what_if_adds_other_records() -> None:
    """Subscribers and other records are added as they are."""
    estimate = what_if_storage(
        {"Sent": 10}, Settings(days_to_keep=10), other_records={"Subscribers": 10_000}
    )
    assert estimate.total_records == 10_100
    assert estimate.line("Subscribers").records == 10_000


def test_every_activity_type_has_a_line_in_product_order() -> None:
    """Types missing from the volumes are listed with none."""
    estimate = what_if_storage({}, Settings())
    assert [line.label for line in estimate.lines] == [t.value for t in ActivityType]


@pytest.mark.parametrize(
    ("daily", "error", "message"),
    [
        ({"Sent": -1}, InvalidValueError, r"'daily\[Sent\]' must be a finite number >= 0"),
        ({"Sent": float("nan")}, InvalidValueError, "finite"),
        ({"Sent": "10"}, InvalidTypeError, "records a day"),
        ({"Sent": True}, InvalidTypeError, "records a day"),
        ({"Forwarded": 1}, UnknownChoiceError, "'daily' must be one of"),
        ({"Sent": 1, "recipients": 2}, InvalidValueError, "each activity type once"),
    ],
)
def test_bad_daily_volumes_are_refused(
    daily: dict[str, object], error: type[Exception], message: str
) -> None:
    """Negative, non-finite, non-numeric, unknown or repeated volumes are errors."""
    with pytest.raises(error, match=message):
        what_if_storage(daily, Settings())  # type: ignore[arg-type]


def test_bad_counts_are_refused() -> None:
    """Counts are whole numbers from 0, and other records cannot shadow a type."""
    with pytest.raises(InvalidValueError, match=r"'counts\[Subscribers\]' must be >= 0"):
        estimate_storage({"Subscribers": -5})
    with pytest.raises(InvalidTypeError, match="whole number"):
        estimate_storage({"Subscribers": 1.5})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="other than activity types"):
        what_if_storage({}, Settings(), other_records={"sent": 1})
    with pytest.raises(InvalidTypeError, match="'settings'"):
        what_if_storage({}, {})  # type: ignore[arg-type]


def test_unknown_line_lists_the_known_ones() -> None:
    """Asking for a kind that is not there names those that are."""
    with pytest.raises(InvalidValueError, match="'Subscribers'"):
        estimate_storage({"Subscribers": 1}).line("Campaigns")


def test_lines_check_their_numbers() -> None:
    """A line's records and bytes are whole numbers from 0."""
    with pytest.raises(InvalidValueError, match="'records' must be >= 0"):
        StorageLine("Sent", -1, 0)
    assert StorageEstimate([]).total_bytes == 0


@given(
    st.dictionaries(st.sampled_from(list(ActivityType)), st.integers(0, 10**6)),
    st.integers(0, 36_500),
    st.integers(0, 36_500),
)
def test_keeping_more_days_never_takes_less_storage(
    daily: dict[ActivityType, int], fewer: int, more: int
) -> None:
    """Raising days to keep never lowers the estimate (a what-if is monotonic)."""
    fewer, more = sorted((fewer, more))
    small = what_if_storage(daily, Settings(days_to_keep=fewer))
    large = what_if_storage(daily, Settings(days_to_keep=more))
    assert small.total_bytes <= large.total_bytes
    assert large.total_bytes == sum(daily.values()) * more * RECORD_SIZE_BYTES
