"""Settings: the refresh mode spellings, the product's setting names, defaults and imports."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core import (
    ActivityType,
    InvalidTypeError,
    RefreshMode,
    Settings,
    StatusMapping,
    StatusPolicy,
    UnknownChoiceError,
)
from strategies import settings as any_settings

SPELLINGS = {
    "Always": RefreshMode.ALWAYS,
    "Always Update": RefreshMode.ALWAYS,
    "Once Only": RefreshMode.ONCE_ONLY,
    "Update Once": RefreshMode.ONCE_ONLY,
    "Never": RefreshMode.NEVER,
    "Never Update": RefreshMode.NEVER,
}


# ------------------------------------------------------------------------------- RefreshMode


@pytest.mark.parametrize(("text", "mode"), SPELLINGS.items())
def test_refresh_mode_reads_each_of_the_products_spellings(text: str, mode: RefreshMode) -> None:
    """The six spellings of the product's screens and FAQ name the three modes."""
    assert RefreshMode.parse(text) is mode


@given(
    spelling=st.sampled_from(sorted(SPELLINGS)),
    upper=st.lists(st.booleans(), min_size=13, max_size=13),
    before=st.text(" \t", max_size=3),
    after=st.text(" \t\n", max_size=3),
)
def test_refresh_mode_ignores_case_and_surrounding_spaces(
    spelling: str, upper: list[bool], before: str, after: str
) -> None:
    """Any mix of case, with spaces around, reads as the same mode."""
    cased = "".join(c.upper() if u else c.lower() for c, u in zip(spelling, upper, strict=False))

    assert RefreshMode.parse(before + cased + after) is SPELLINGS[spelling]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Alway",
        "Always Updates",
        "Always  Update",
        "Update Always",
        "Once",
        "Update",
        "Only Once",
        "Once_Only",
        "Never-Update",
        "Don't update",
        "None",
        "Sometimes",
    ],
)
def test_refresh_mode_refuses_other_text_and_lists_the_accepted_spellings(text: str) -> None:
    """Anything but the six spellings is refused; the error lists all six."""
    with pytest.raises(UnknownChoiceError) as excinfo:
        RefreshMode.parse(text)

    assert isinstance(excinfo.value, ValueError)
    for spelling in SPELLINGS:
        assert repr(spelling) in str(excinfo.value)
    assert set(excinfo.value.accepted) == set(SPELLINGS)


@given(st.text(max_size=16))
def test_refresh_mode_accepts_text_only_when_it_is_one_of_the_spellings(text: str) -> None:
    """Arbitrary text is read iff, stripped and lower-cased, it is one of the spellings."""
    expected = {k.lower(): v for k, v in SPELLINGS.items()}.get(text.strip().lower())

    if expected is None:
        with pytest.raises(UnknownChoiceError):
            RefreshMode.parse(text)
    else:
        assert RefreshMode.parse(text) is expected


@pytest.mark.parametrize("value", [None, 1, True, ["Always"]])
def test_refresh_mode_refuses_values_that_are_not_text(value: object) -> None:
    """A non-string refresh mode is a type error."""
    with pytest.raises(InvalidTypeError):
        RefreshMode.parse(value)


# ------------------------------------------------------------------------------- defaults


def test_default_settings_are_the_products_defaults() -> None:
    """Always, 180 days, all six types imported, tracking on, identity mapping, latest wins."""
    settings = Settings()

    assert settings.refresh_mode is RefreshMode.ALWAYS
    assert settings.days_to_keep == 180
    assert all(settings.days_to_keep_for(t) == 180 for t in ActivityType)
    assert settings.imported_types == frozenset(ActivityType)
    assert settings.import_tracking is True
    assert settings.status_mapping == StatusMapping()
    assert settings.status_policy is StatusPolicy.LATEST_WINS


def test_settings_are_immutable() -> None:
    """A Settings value cannot be changed in place; attrs.evolve makes a new one."""
    settings = Settings()

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        settings.days_to_keep = 7  # type: ignore[misc]
    assert attrs.evolve(settings, days_to_keep=7).days_to_keep == 7
    assert settings.days_to_keep == 180


# ------------------------------------------------------------------------------- from_mapping


def test_from_mapping_reads_campaign_member_refresh_and_days_to_keep_email() -> None:
    """The product's own names set the refresh mode and the days kept."""
    settings = Settings.from_mapping(
        {"Campaign_Member_Refresh": "Update Once", "DaysToKeep_Email": 7}
    )

    assert settings.refresh_mode is RefreshMode.ONCE_ONLY
    assert settings.days_to_keep == 7
    assert attrs.evolve(settings, refresh_mode="Always", days_to_keep=180) == Settings()


def test_from_mapping_reads_every_documented_setting_name() -> None:
    """Each documented name lands on its attribute."""
    mapping = {
        "Campaign_Member_Refresh": "Never Update",
        "DaysToKeep_Email": "30",
        "DaysToKeep_Email_Sent": 90,
        "DaysToKeep_Email_Opened": 14,
        "Email_Types_To_Import": "Sent, Opened, Clicked",
        "Import_Email_Tracking": "Active",
        "Status_Mapping": {"Opened": "Registered", "Spam complaint": None},
        "Responded_Statuses": ["Registered", "Clicked"],
        "Status_Policy": "Most Engaged",
        "Update_Campaign_Statistics": True,
        "Auto_Create_Campaigns": "true",
        "Auto_Create_Campaigns_Since": "2024-01-15T08:00:00+01:00",
        "Auto_Create_Missing_Statuses": "yes",
        "Campaign_Filter_Start_Date": "2024-01-01T00:00:00Z",
        "Campaign_Filter_Tags": "newsletter, webinar",
        "Sync_Overlap_Minutes": 30,
    }

    settings = Settings.from_mapping(mapping)

    assert settings.refresh_mode is RefreshMode.NEVER
    assert settings.days_to_keep == 30
    assert settings.days_to_keep_for(ActivityType.SENT) == 90
    assert settings.days_to_keep_for(ActivityType.OPENED) == 14
    assert settings.days_to_keep_for(ActivityType.CLICKED) == 30
    assert settings.imported_types == {ActivityType.SENT, ActivityType.OPENED, ActivityType.CLICKED}
    assert settings.import_tracking is True
    assert settings.status_mapping.label(ActivityType.OPENED) == "Registered"
    assert settings.status_mapping.label(ActivityType.SPAM_COMPLAINT) is None
    assert settings.status_mapping.label(ActivityType.CLICKED) == "Clicked"
    assert settings.status_mapping.responded == {"Registered", "Clicked"}
    assert settings.status_policy is StatusPolicy.MOST_ENGAGED
    assert settings.update_campaign_statistics is True
    assert settings.auto_create_campaigns is True
    assert settings.auto_create_campaigns_since == datetime(2024, 1, 15, 7, 0, tzinfo=UTC)
    assert settings.auto_create_statuses is True
    assert settings.campaign_filter_start == datetime(2024, 1, 1, tzinfo=UTC)
    assert settings.campaign_filter_tags == {"newsletter", "webinar"}
    assert settings.sync_overlap_minutes == 30


def test_from_mapping_reads_the_attribute_names_too() -> None:
    """Plain attribute names are accepted alongside the product's names."""
    settings = Settings.from_mapping({"refresh_mode": "Once Only", "days_to_keep": 7})

    assert (settings.refresh_mode, settings.days_to_keep) == (RefreshMode.ONCE_ONLY, 7)


def test_from_mapping_of_nothing_is_the_default_settings() -> None:
    """An empty mapping gives the defaults."""
    assert Settings.from_mapping({}) == Settings()


def test_from_mapping_keeps_default_labels_when_only_responded_statuses_are_given() -> None:
    """Responded_Statuses alone changes the responded flags, not the labels."""
    settings = Settings.from_mapping({"Responded_Statuses": "Clicked"})

    assert settings.status_mapping.labels == StatusMapping().labels
    assert settings.status_mapping.responded == {"Clicked"}


def test_to_mapping_uses_the_products_names_and_round_trips_the_defaults() -> None:
    """to_mapping names Campaign_Member_Refresh and DaysToKeep_Email and reads back equal."""
    mapping = Settings().to_mapping()

    assert mapping["Campaign_Member_Refresh"] == "Always"
    assert mapping["DaysToKeep_Email"] == 180
    assert Settings.from_mapping(mapping) == Settings()


def test_to_mapping_round_trips_a_fully_configured_settings() -> None:
    """Every option set away from its default survives to_mapping -> from_mapping."""
    settings = Settings(
        refresh_mode=RefreshMode.ONCE_ONLY,
        days_to_keep=7,
        days_to_keep_by_type={ActivityType.SENT: 90, ActivityType.BOUNCED: 0},
        imported_types={ActivityType.SENT, ActivityType.BOUNCED},
        import_tracking=False,
        status_mapping=StatusMapping(
            {ActivityType.OPENED: "Registered", ActivityType.SENT: None},
            responded={"Registered"},
        ),
        status_policy=StatusPolicy.MOST_ENGAGED,
        update_campaign_statistics=True,
        auto_create_campaigns=True,
        auto_create_campaigns_since=datetime(2024, 2, 1, 12, 0, tzinfo=UTC),
        auto_create_statuses=True,
        campaign_filter_start=datetime(2024, 1, 1, tzinfo=UTC),
        campaign_filter_tags={"webinar"},
        sync_overlap_minutes=15,
    )

    assert Settings.from_mapping(settings.to_mapping()) == settings


@given(any_settings())
def test_to_mapping_round_trips_any_settings(settings: Settings) -> None:
    """from_mapping(to_mapping(s)) == s for settings drawn over every core option."""
    assert Settings.from_mapping(settings.to_mapping()) == settings


# ------------------------------------------------------------------------------- days, imports


def test_days_to_keep_overrides_apply_per_type() -> None:
    """A per-type override replaces DaysToKeep_Email for that type only."""
    settings = Settings(days_to_keep=30, days_to_keep_by_type={"Sent": 90})

    assert settings.days_to_keep_for(ActivityType.SENT) == 90
    assert {settings.days_to_keep_for(t) for t in ActivityType if t is not ActivityType.SENT} == {
        30
    }


def test_days_to_keep_zero_imports_nothing() -> None:
    """DaysToKeep = 0 stops tracking history: no type is imported."""
    settings = Settings(days_to_keep=0)

    assert not any(settings.imports(t) for t in ActivityType)


def test_excluded_types_are_never_imported() -> None:
    """Only the types chosen under "What email types to import" are imported."""
    settings = Settings(imported_types=["Sent", "Opened", "Clicked"])

    imported = {t for t in ActivityType if settings.imports(t)}

    assert imported == {ActivityType.SENT, ActivityType.OPENED, ActivityType.CLICKED}


def test_switching_tracking_import_off_imports_no_type() -> None:
    """Import_Email_Tracking off: no type is imported at all."""
    settings = Settings.from_mapping({"Import_Email_Tracking": "Inactive"})

    assert not any(settings.imports(t) for t in ActivityType)


def test_a_type_kept_for_zero_days_is_not_imported() -> None:
    """A per-type override of 0 days stops importing that type only."""
    settings = Settings(days_to_keep_by_type={ActivityType.SENT: 0})

    assert {t for t in ActivityType if not settings.imports(t)} == {ActivityType.SENT}


def test_status_labels_of_exactly_40_characters_are_accepted() -> None:
    """A CRM picklist value holds 40 characters: a 40-character label is fine."""
    label = "R" * 40

    assert StatusMapping({ActivityType.OPENED: label}).label(ActivityType.OPENED) == label
