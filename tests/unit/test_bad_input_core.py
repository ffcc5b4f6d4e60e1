"""Bad input to the tracking core: each refusal is a specific error that is also a builtin,
with a message naming the field, what was expected and the value that arrived."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    CmsfError,
    Engagement,
    InvalidTypeError,
    InvalidValueError,
    NaiveDatetimeError,
    RefreshMode,
    Settings,
    StatusMapping,
    UnknownChoiceError,
    UnknownSettingError,
    apply_retention,
    diagnose,
    refresh_member,
)

AWARE = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
NAIVE = datetime(2024, 5, 1, 9, 30)
LONG_LABEL = "Registered for the spring webinar series!"  # 41 characters
ACCEPTED_REFRESH = ("Always", "Always Update", "Once Only", "Update Once", "Never", "Never Update")
TYPE_LABELS = ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Spam complaint")


def refusal(action: Callable[[], object], error: type[CmsfError], builtin: type[Exception]) -> str:
    """Run ``action``; check it raised exactly ``error``, a CmsfError and ``builtin``; give
    the message."""
    with pytest.raises(error) as excinfo:
        action()
    assert type(excinfo.value) is error
    assert isinstance(excinfo.value, CmsfError)
    assert isinstance(excinfo.value, builtin)
    return str(excinfo.value)


# ------------------------------------------------------------------------------- naive datetimes


NAIVE_CASES = {
    "occurred_at": lambda: Activity("cmp-1", "m-1", ActivityType.OPENED, NAIVE),
    "activity_date": lambda: CampaignMember(
        "cmp-1", "m-1", status="Opened", activity=ActivityType.OPENED, activity_date=NAIVE
    ),
    "as_of": lambda: apply_retention((), Settings(), as_of=NAIVE),
    "campaign_filter_start": lambda: Settings(campaign_filter_start=NAIVE),
    "Campaign_Filter_Start_Date": lambda: Settings.from_mapping(
        {"Campaign_Filter_Start_Date": "2024-05-01T09:30:00"}
    ),
}


@pytest.mark.parametrize(("field", "action"), NAIVE_CASES.items())
def test_a_naive_datetime_is_refused_naming_the_field(
    field: str, action: Callable[[], object]
) -> None:
    """A datetime without a zone is a NaiveDatetimeError (a ValueError) naming the field."""
    message = refusal(action, NaiveDatetimeError, ValueError)

    assert repr(field) in message
    assert "timezone-aware" in message
    assert "2024, 5, 1, 9, 30" in message


def test_diagnose_refuses_a_naive_as_of() -> None:
    """diagnose needs an aware as_of too."""
    member = CampaignMember("cmp-1", "m-1")

    message = refusal(
        lambda: diagnose(member, (), Settings(), as_of=NAIVE), NaiveDatetimeError, ValueError
    )

    assert "'as_of'" in message


def test_a_date_string_where_a_datetime_belongs_is_a_type_error() -> None:
    """A string is not a datetime: InvalidTypeError (a TypeError) naming the field."""
    message = refusal(
        lambda: Activity("cmp-1", "m-1", ActivityType.OPENED, "2024-05-01 09:30"),  # type: ignore[arg-type]
        InvalidTypeError,
        TypeError,
    )

    assert "'occurred_at'" in message
    assert "timezone-aware datetime" in message
    assert "'2024-05-01 09:30'" in message


# ------------------------------------------------------------------------------- refresh text


def test_unknown_refresh_text_is_refused_listing_the_accepted_spellings() -> None:
    """RefreshMode.parse("Sometimes"): UnknownChoiceError (a ValueError) with all six."""
    message = refusal(lambda: RefreshMode.parse("Sometimes"), UnknownChoiceError, ValueError)

    assert "'Campaign_Member_Refresh'" in message
    assert "'Sometimes'" in message
    assert all(repr(spelling) in message for spelling in ACCEPTED_REFRESH)


def test_unknown_refresh_text_in_a_settings_mapping_names_the_setting() -> None:
    """From a mapping, the error names Campaign_Member_Refresh and the text given."""
    message = refusal(
        lambda: Settings.from_mapping({"Campaign_Member_Refresh": "Update Twice"}),
        UnknownChoiceError,
        ValueError,
    )

    assert "'Campaign_Member_Refresh'" in message
    assert "'Update Twice'" in message
    assert "'Update Once'" in message


def test_unknown_refresh_text_given_to_settings_names_the_attribute() -> None:
    """Settings(refresh_mode=...) names refresh_mode."""
    message = refusal(
        lambda: Settings(refresh_mode="Hourly"),  # type: ignore[arg-type]
        UnknownChoiceError,
        ValueError,
    )

    assert "'refresh_mode'" in message
    assert "'Hourly'" in message


# ------------------------------------------------------------------------------- negative days


def test_negative_days_to_keep_is_refused() -> None:
    """Settings(days_to_keep=-3): "'days_to_keep' must be >= 0 (got -3)"."""
    message = refusal(lambda: Settings(days_to_keep=-3), InvalidValueError, ValueError)

    assert message == "'days_to_keep' must be >= 0 (got -3)"


def test_negative_days_to_keep_email_in_a_mapping_names_the_setting() -> None:
    """DaysToKeep_Email = -3 in a mapping names DaysToKeep_Email."""
    message = refusal(
        lambda: Settings.from_mapping({"DaysToKeep_Email": -3}), InvalidValueError, ValueError
    )

    assert "'DaysToKeep_Email'" in message
    assert ">= 0" in message
    assert "-3" in message


def test_a_negative_per_type_override_names_the_type() -> None:
    """days_to_keep_by_type={"Sent": -1} names the type's field."""
    message = refusal(
        lambda: Settings(days_to_keep_by_type={"Sent": -1}), InvalidValueError, ValueError
    )

    assert "days_to_keep_by_type[Sent]" in message
    assert ">= 0" in message
    assert "-1" in message


@pytest.mark.parametrize("days", [7.5, "seven", None, True])
def test_days_that_are_not_a_whole_number_are_a_type_error(days: object) -> None:
    """Days must be a whole number: other types are an InvalidTypeError (a TypeError)."""
    message = refusal(lambda: Settings(days_to_keep=days), InvalidTypeError, TypeError)  # type: ignore[arg-type]

    assert "'days_to_keep'" in message
    assert "whole number of days" in message
    assert repr(days) in message


# ------------------------------------------------------------------------------- labels


def test_a_status_label_over_40_characters_is_refused() -> None:
    """A 41-character label cannot be a CRM picklist value."""
    assert len(LONG_LABEL) == 41

    message = refusal(
        lambda: StatusMapping({ActivityType.OPENED: LONG_LABEL}), InvalidValueError, ValueError
    )

    assert "status_mapping[Opened]" in message
    assert "at most 40 characters" in message
    assert repr(LONG_LABEL) in message


@pytest.mark.parametrize(
    ("field", "action"),
    [
        ("status", lambda: CampaignMember("cmp-1", "m-1", status=LONG_LABEL)),
        (
            "default_status",
            lambda: refresh_member(
                CampaignMember("cmp-1", "m-1"), (), Settings(), default_status=LONG_LABEL
            ),
        ),
        ("status_mapping.responded", lambda: StatusMapping(responded={LONG_LABEL})),
        (
            "Status_Mapping[Clicked]",
            lambda: Settings.from_mapping({"Status_Mapping": {"Clicked": LONG_LABEL}}),
        ),
        (
            "status_mapping[Clicked]",
            lambda: StatusMapping({"Clicked": LONG_LABEL}),
        ),
    ],
)
def test_a_label_over_40_characters_is_refused_wherever_it_arrives(
    field: str, action: Callable[[], object]
) -> None:
    """Member status, default status, responded labels and mapped labels: 40 at most."""
    message = refusal(action, InvalidValueError, ValueError)

    assert repr(field) in message
    assert "40" in message
    assert repr(LONG_LABEL) in message


def test_an_empty_status_label_is_refused() -> None:
    """A blank label is no label: 1 to 40 characters."""
    message = refusal(
        lambda: StatusMapping({ActivityType.OPENED: "  "}), InvalidValueError, ValueError
    )

    assert "status_mapping[Opened]" in message
    assert "'  '" in message


# ------------------------------------------------------------------------------- type names


def test_an_unknown_type_name_is_refused_listing_the_types() -> None:
    """ActivityType.parse("Forwarded"): UnknownChoiceError (a ValueError) listing the six."""
    message = refusal(lambda: ActivityType.parse("Forwarded"), UnknownChoiceError, ValueError)

    assert "'type'" in message
    assert "'Forwarded'" in message
    assert all(repr(label) in message for label in TYPE_LABELS)


def test_an_activity_of_an_unknown_type_is_refused() -> None:
    """Activity(type="Forwarded") names the type field."""
    message = refusal(
        lambda: Activity("cmp-1", "m-1", "Forwarded", AWARE),  # type: ignore[arg-type]
        UnknownChoiceError,
        ValueError,
    )

    assert "'type'" in message
    assert "'Forwarded'" in message


@pytest.mark.parametrize(
    ("field", "action"),
    [
        ("imported_types", lambda: Settings(imported_types=["Sent", "Forwards"])),
        (
            "Email_Types_To_Import",
            lambda: Settings.from_mapping({"Email_Types_To_Import": "Sent, Forwards"}),
        ),
        ("status_mapping", lambda: StatusMapping({"Forwards": "Forwarded"})),
        ("days_to_keep_by_type", lambda: Settings(days_to_keep_by_type={"Forwards": 3})),
    ],
)
def test_an_unknown_type_name_in_settings_names_the_setting(
    field: str, action: Callable[[], object]
) -> None:
    """Unknown type names in settings name the setting and the value."""
    message = refusal(action, UnknownChoiceError, ValueError)

    assert repr(field) in message
    assert "Forwards" in message
    assert "'Opened'" in message


# ------------------------------------------------------------------------------- settings keys


def test_an_unknown_settings_key_is_refused_with_a_suggestion() -> None:
    """A misspelt key is an UnknownSettingError (a KeyError) naming it and the known ones."""
    message = refusal(
        lambda: Settings.from_mapping({"DaysToKeep_Emails": 7}), UnknownSettingError, KeyError
    )

    assert "'DaysToKeep_Emails'" in message
    assert "did you mean 'DaysToKeep_Email'" in message
    assert "Campaign_Member_Refresh" in message


def test_an_unknown_settings_key_without_a_close_match_lists_the_known_keys() -> None:
    """A key like nothing known still names itself and lists what is known."""
    with pytest.raises(UnknownSettingError) as excinfo:
        Settings.from_mapping({"Colour": "blue"})

    assert isinstance(excinfo.value, KeyError)
    assert "'Colour'" in str(excinfo.value)
    assert "did you mean" not in str(excinfo.value)
    assert "DaysToKeep_Email" in excinfo.value.known


def test_a_setting_given_under_two_names_is_refused() -> None:
    """A setting given under its product name and its attribute name is refused."""
    message = refusal(
        lambda: Settings.from_mapping({"DaysToKeep_Email": 7, "days_to_keep": 7}),
        InvalidValueError,
        ValueError,
    )

    assert "'DaysToKeep_Email'" in message
    assert "given once" in message


def test_a_setting_given_under_two_names_is_refused_naming_both() -> None:
    """DaysToKeep_Email and days_to_keep together are ambiguous; the error names both keys."""
    message = refusal(
        lambda: Settings.from_mapping({"DaysToKeep_Email": 7, "days_to_keep": 7}),
        InvalidValueError,
        ValueError,
    )

    assert "DaysToKeep_Email" in message
    assert "days_to_keep" in message


# ------------------------------------------------------------------------------- other values


def test_a_negative_counter_is_refused() -> None:
    """Engagement(opens=-1): counters are >= 0."""
    message = refusal(lambda: Engagement(opens=-1), InvalidValueError, ValueError)

    assert message == "'opens' must be >= 0 (got -1)"


def test_activity_without_activity_date_is_refused() -> None:
    """A member's activity and activity date are set together or not at all."""
    message = refusal(
        lambda: CampaignMember("cmp-1", "m-1", activity=ActivityType.OPENED),
        InvalidValueError,
        ValueError,
    )

    assert "'activity_date'" in message
    assert "both or neither" in message


def test_refresh_refuses_records_of_another_member() -> None:
    """refresh_member: ``stored`` holds this member's records only."""
    member = CampaignMember("cmp-1", "m-1")
    other = Activity("cmp-1", "m-2", ActivityType.OPENED, AWARE)

    message = refusal(
        lambda: refresh_member(member, (other,), Settings()), InvalidValueError, ValueError
    )

    assert "'stored'" in message
    assert "'m-1'" in message
    assert "'m-2'" in message


def test_refresh_refuses_a_cause_that_is_not_a_refresh_cause() -> None:
    """cause must be a RefreshCause, not its text."""
    message = refusal(
        lambda: refresh_member(CampaignMember("cmp-1", "m-1"), (), Settings(), cause="deletion"),  # type: ignore[arg-type]
        InvalidTypeError,
        TypeError,
    )

    assert "'cause'" in message
    assert "'deletion'" in message
