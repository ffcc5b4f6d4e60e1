"""Properties of the field mapping conversions: CRM -> platform -> CRM gives the value back
for every type where the trip is lossless, and a value that cannot convert never yields a
value (it raises, and the planners turn it into a message)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.field_mappings import (
    US_STATES,
    FieldConversionError,
    FieldMapping,
    ListFieldMappings,
    PlatformField,
    PlatformSubscriber,
    mapped_custom_fields,
    plan_crm_fields,
    to_crm_value,
    to_platform_value,
)
from cmsf_core.domain.subscribers import Person, RecordKind

ZONES = st.sampled_from(
    [UTC, ZoneInfo("Europe/Paris"), ZoneInfo("Australia/Sydney"), ZoneInfo("America/New_York")]
)
AS_OF = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OPTIONS = ("Red", "Green", "Blue", "Dark blue")


def _round_trip(crm_type: str, value: object, zone: ZoneInfo, **kw: object) -> object:
    out = FieldMapping.crm_to_platform("l", "Contact", "F", crm_type, **kw)  # type: ignore[arg-type]
    sent = to_platform_value(value, out, zone=zone)  # type: ignore[arg-type]
    back = FieldMapping.platform_to_crm(
        "l", out.platform_field, "Contact", "F", crm_type, crm_options=out.platform_field.options
    )
    return to_crm_value(sent, back, zone=zone)


@given(st.text().filter(str.strip), ZONES)
def test_text_round_trips(value: str, zone: ZoneInfo) -> None:
    """Non-blank text comes back as it was."""
    assert _round_trip("text", value, zone) == value


@given(st.integers() | st.floats(allow_nan=False, allow_infinity=False), ZONES)
def test_numbers_round_trip(value: float, zone: ZoneInfo) -> None:
    """Ints and finite floats come back equal and of the same type."""
    back = _round_trip("number", value, zone)
    assert back == value
    assert type(back) is type(value)


@given(st.dates(), ZONES)
def test_dates_round_trip_in_any_zone(value: date, zone: ZoneInfo) -> None:
    """A date comes back as the same date."""
    assert _round_trip("date", value, zone) == value


@given(st.dates(min_value=date(1900, 1, 2), max_value=date(9999, 12, 30)), ZONES)
def test_local_midnights_round_trip_as_date_times(day: date, zone: ZoneInfo) -> None:
    """A date-time at midnight in the org's zone comes back as the same instant."""
    instant = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    assert _round_trip("datetime", instant, zone) == instant


@given(st.booleans(), ZONES)
def test_checkboxes_round_trip(value: bool, zone: ZoneInfo) -> None:
    """A checkbox comes back as it was, through a Yes/No select field."""
    assert _round_trip("checkbox", value, zone) is value


@given(st.sampled_from(OPTIONS))
def test_picklist_values_round_trip(value: str) -> None:
    """A picklist value among the field's options comes back."""
    assert _round_trip("picklist", value, UTC, options=OPTIONS) == value


@given(st.lists(st.sampled_from(OPTIONS), min_size=1, unique=True))
def test_multi_selects_round_trip_as_semicolon_lists(chosen: list[str]) -> None:
    """A ``;`` list of distinct options comes back as the same list."""
    value = ";".join(chosen)
    assert _round_trip("multipicklist", value, UTC, options=OPTIONS) == value


@given(st.sampled_from(sorted(US_STATES.values())))
def test_us_states_round_trip(value: str) -> None:
    """A state name comes back through a USState field."""
    assert _round_trip("text", value, UTC, platform_type="USState") == value


@given(st.text(), st.sampled_from(["number", "date", "datetime", "checkbox"]), ZONES)
def test_platform_text_either_converts_exactly_or_never_yields_a_value(
    text: str, crm_type: str, zone: ZoneInfo
) -> None:
    """Any platform text is a value that converts back to the same platform text, or an
    error: never a silently different value."""
    field = PlatformField("F", "Text")
    back = FieldMapping.platform_to_crm("l", field, "Contact", "F", crm_type)
    out = FieldMapping.crm_to_platform("l", "Contact", "F", crm_type, platform_type="Text")
    try:
        value = to_crm_value(text, back, zone=zone)
    except FieldConversionError:
        return
    if value is None or (value is False and not text.strip()):
        assert not text.strip()
        return
    again = to_crm_value(to_platform_value(value, out, zone=zone), back, zone=zone)
    assert again == value


@given(st.text(max_size=8), ZONES)
def test_a_bad_value_is_never_sent_and_always_reported(text: str, zone: ZoneInfo) -> None:
    """Planning a number mapping sends the field or reports it, never both, never neither."""
    mapping = FieldMapping.crm_to_platform("l", "Contact", "Score", "number")
    lists = ListFieldMappings("l", [mapping])
    got = mapped_custom_fields(
        "003A", RecordKind.CONTACT, {"Score": text}, lists, zone=zone, as_of=AS_OF
    )
    if not text.strip():
        assert not got.custom_fields
        assert not got.messages
    else:
        assert bool(got.custom_fields) != bool(got.messages)


@given(st.text(max_size=8))
def test_a_bad_platform_value_is_never_written(text: str) -> None:
    """A platform value that is not a number leaves the CRM field out of every update."""
    score = PlatformField("Score", "Number")
    mapping = FieldMapping.platform_to_crm("l", score, "Contact", "Score__c", "number")
    lists = ListFieldMappings("l", [mapping])
    sub = PlatformSubscriber("l", "a@example.com", "", {"[Score]": text})
    people = {"a@example.com": [Person("003A", "Contact", email="a@example.com")]}
    plan = plan_crm_fields([lists], [sub], people, zone=UTC, as_of=AS_OF - timedelta(days=1))
    written = [u.values["Score__c"] for u in plan.updates]
    for value in written:
        assert value is None or str(value) == str(type(value)(text.strip()))
    assert len(written) + len(plan.messages) == 1
