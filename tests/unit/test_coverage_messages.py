"""Messages are part of the interface: each error and each diagnosis reads exactly so.

Error messages follow ``'field' must be <expected> (got <what arrived>)``; the diagnosis
of a member spells out why its status and records disagree and both remedies.  Pinning
the exact text keeps a rewording deliberate (and lets mutation testing see the text).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    CmsfError,
    Engagement,
    RefreshCause,
    RefreshMode,
    Settings,
    StatusMapping,
    StatusPolicy,
    apply_retention,
    candidate,
    diagnose,
    number_occurrences,
    plan_sync,
    refresh_member,
)
from cmsf_core.domain.diagnose import FindingCode
from cmsf_core.domain.planner import ClientRead, CrmView
from cmsf_core.domain.records import Checkpoint

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
NAIVE = datetime(2024, 5, 1, 9, 30)
MEMBER = CampaignMember("cmp-1", "m-1")
TWICE = ClientRead(Checkpoint("c1"), (), {})
OTHER = Activity("cmp-1", "m-2", ActivityType.OPENED, AT)

EXACT: dict[str, tuple[Callable[[], object], str]] = {
    "type of the wrong type": (
        lambda: ActivityType.parse(3),
        "'type' must be an activity type name (got int 3)",
    ),
    "occurrence of the wrong type": (
        lambda: Activity("c", "m", ActivityType.SENT, AT, occurrence=1.5),  # type: ignore[arg-type]
        "'occurrence' must be an int (got float 1.5)",
    ),
    "negative occurrence": (
        lambda: Activity("c", "m", ActivityType.SENT, AT, occurrence=-2),
        "'occurrence' must be >= 0 (got -2)",
    ),
    "counter of the wrong type": (
        lambda: Engagement(clicks="1"),  # type: ignore[arg-type]
        "'clicks' must be an int (got str '1')",
    ),
    "refresh of a non-member": (
        lambda: refresh_member("m-1", (), Settings()),  # type: ignore[arg-type]
        "'member' must be a CampaignMember (got str 'm-1')",
    ),
    "refresh without settings": (
        lambda: refresh_member(MEMBER, (), {"Campaign_Member_Refresh": "Never"}),  # type: ignore[arg-type]
        "'settings' must be a Settings (got dict {'Campaign_Member_Refresh': 'Never'})",
    ),
    "refresh with a cause given as text": (
        lambda: refresh_member(MEMBER, (), Settings(), cause="import"),  # type: ignore[arg-type]
        "'cause' must be a RefreshCause (got str 'import')",
    ),
    "refresh with a stored value that is not a record": (
        lambda: refresh_member(MEMBER, ["Opened"], Settings()),  # type: ignore[list-item]
        "'stored' must be Activity records (got str 'Opened')",
    ),
    "refresh with another member's record": (
        lambda: refresh_member(MEMBER, (OTHER,), Settings()),
        "'stored' must be records of member 'm-1' in campaign 'cmp-1' (got "
        + repr(OTHER.key)[:65]
        + f"... ({len(repr(OTHER.key))} chars)); this one is of member 'm-2' in campaign 'cmp-1'",
    ),
    "retention without settings": (
        lambda: apply_retention((), "Never", as_of=AT),  # type: ignore[arg-type]
        "'settings' must be a Settings (got str 'Never')",
    ),
    "retention of a value that is not a record": (
        lambda: apply_retention([5], Settings(), as_of=AT),  # type: ignore[list-item]
        "'activities' must be Activity records (got int 5)",
    ),
    "a bool setting given unknown text": (
        lambda: Settings.from_mapping({"Import_Email_Tracking": "maybe"}),
        "'Import_Email_Tracking' must be true/false (or active/inactive, yes/no, on/off) "
        "(got 'maybe')",
    ),
    "a bool setting given a number": (
        lambda: Settings.from_mapping({"Import_Email_Tracking": 2}),
        "'Import_Email_Tracking' must be a bool (got int 2)",
    ),
    "a date-time setting given other text": (
        lambda: Settings.from_mapping({"Campaign_Filter_Start_Date": "soon"}),
        "'Campaign_Filter_Start_Date' must be an ISO 8601 date-time with a UTC offset (got 'soon')",
    ),
    "a status mapping given a list": (
        lambda: Settings.from_mapping({"Status_Mapping": ["Opened"]}),
        "'Status_Mapping' must be a mapping of activity type to label (or null) "
        "(got list ['Opened'])",
    ),
    "responded statuses given a number": (
        lambda: Settings.from_mapping({"Responded_Statuses": 5}),
        "'Responded_Statuses' must be a list of status labels (got int 5)",
    ),
    "settings that are not a mapping": (
        lambda: Settings.from_mapping("DaysToKeep_Email=7"),  # type: ignore[arg-type]
        "'settings' must be a mapping of setting name to value (got str 'DaysToKeep_Email=7')",
    ),
    "a settings key that is not text": (
        lambda: Settings.from_mapping({5: 1}),  # type: ignore[dict-item]
        "'settings key' must be a setting name (str) (got int 5)",
    ),
    "a setting given under both its names": (
        lambda: Settings.from_mapping({"DaysToKeep_Email": 7, "days_to_keep": 8}),
        "'DaysToKeep_Email' must be given once (got 8); given as both 'DaysToKeep_Email' "
        "and 'days_to_keep'",
    ),
    "a status mapping that is a dict": (
        lambda: Settings(status_mapping={}),  # type: ignore[arg-type]
        "'status_mapping' must be a StatusMapping (got dict {})",
    ),
    "a refresh mode that is not text": (
        lambda: RefreshMode.parse(5),
        "'Campaign_Member_Refresh' must be a refresh mode name (got int 5)",
    ),
    "a status policy that is not text": (
        lambda: StatusPolicy.parse(5),
        "'Status_Policy' must be a status policy name (got int 5)",
    ),
    "an unknown status policy": (
        lambda: StatusPolicy.parse("Random"),
        "'Status_Policy' must be one of 'Latest Wins', 'Most Engaged' (got 'Random')",
    ),
    "days that are not a number": (
        lambda: Settings.from_mapping({"DaysToKeep_Email": "seven"}),
        "'DaysToKeep_Email' must be a whole number of days (got str 'seven')",
    ),
    "days over a century": (
        lambda: Settings.from_mapping({"DaysToKeep_Email": 36_501}),
        "'DaysToKeep_Email' must be <= 36500 (got 36501)",
    ),
    "a label that is not text": (
        lambda: StatusMapping({"Opened": 5}),
        "'status_mapping[Opened]' must be a status label (str) (got int 5)",
    ),
    "an empty label": (
        lambda: StatusMapping({"Opened": " "}),
        "'status_mapping[Opened]' must be a label of 1 to 40 characters (got ' ')",
    ),
    "a label over 40 characters": (
        lambda: StatusMapping({"Opened": "L" * 41}),
        "'status_mapping[Opened]' must be a label of at most 40 "
        "characters (got "
        "'LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL'); it has 41",
    ),
    "a label with a control character": (
        lambda: StatusMapping({"Opened": "a\tb"}),
        "'status_mapping[Opened]' must be a label without control characters (got 'a\\tb')",
    ),
    "imported types that are not a list": (
        lambda: Settings(imported_types=5),
        "'imported_types' must be a list of activity type names (got int 5)",
    ),
    "tags that are not a list": (
        lambda: Settings(campaign_filter_tags=5),
        "'campaign_filter_tags' must be a list of tag names (got int 5)",
    ),
    "an empty tag": (
        lambda: Settings(campaign_filter_tags=[" "]),
        "'campaign_filter_tags' must be non-empty tag names (got ' ')",
    ),
    "an overlap that is not a number": (
        lambda: Settings.from_mapping({"Sync_Overlap_Minutes": "ten"}),
        "'Sync_Overlap_Minutes' must be a whole number of minutes (got str 'ten')",
    ),
    "an overlap over a week": (
        lambda: Settings.from_mapping({"Sync_Overlap_Minutes": 10_081}),
        "'Sync_Overlap_Minutes' must be between 0 and 10080 minutes (a week) (got 10081)",
    ),
    "an overlap given as text to the attribute": (
        lambda: Settings(sync_overlap_minutes="10"),  # type: ignore[arg-type]
        "'sync_overlap_minutes' must be a whole number of minutes (got str '10')",
    ),
    "days given as text to the attribute": (
        lambda: Settings(days_to_keep="7"),  # type: ignore[arg-type]
        "'days_to_keep' must be a whole number of days (got str '7')",
    ),
    "labels that are not a mapping": (
        lambda: StatusMapping("Opened"),
        "'status_mapping.labels' must be a mapping of activity type to label (got str 'Opened')",
    ),
    "responded labels that are not a collection": (
        lambda: StatusMapping(responded=5),
        "'status_mapping.responded' must be a collection of labels (got int 5)",
    ),
    "per-type days that are not a mapping": (
        lambda: Settings(days_to_keep_by_type=5),
        "'days_to_keep_by_type' must be a mapping of activity type to days (got int 5)",
    ),
    "a bool attribute given text": (
        lambda: Settings(import_tracking="yes"),  # type: ignore[arg-type]
        "'import_tracking' must be a bool (got str 'yes')",
    ),
    "auto-create without its start": (
        lambda: Settings(auto_create_campaigns=True),
        "'auto_create_campaigns_since' must be the date-time the "
        "setting was enabled when auto_create_campaigns is on (got "
        "None); creation is not retrospective, so the library needs "
        "that date",
    ),
    "a plan without settings": (
        lambda: plan_sync([], CrmView(), "Never", as_of=AT),  # type: ignore[arg-type]
        "'settings' must be a Settings (got str 'Never')",
    ),
    "a plan without a CRM view": (
        lambda: plan_sync([], {}, Settings(), as_of=AT),  # type: ignore[arg-type]
        "'crm' must be a CrmView (got dict {})",
    ),
    "a plan at a naive instant": (
        lambda: plan_sync([], CrmView(), Settings(), as_of=NAIVE),
        "'as_of' must be a timezone-aware datetime (got "
        "datetime.datetime(2024, 5, 1, 9, 30)); attach a zone (e.g. "
        "pendulum.instance(value, tz='UTC'))",
    ),
    "a plan of reads that are not reads": (
        lambda: plan_sync(["c1"], CrmView(), Settings(), as_of=AT),  # type: ignore[list-item]
        "'reads' must be ClientRead values (got str 'c1')",
    ),
    "a plan reading one client twice": (
        lambda: plan_sync(
            [ClientRead(Checkpoint("c1"), (), {})] * 2, CrmView(), Settings(), as_of=AT
        ),
        "'reads' must be one ClientRead per client (got ['c1', 'c1'])",
    ),
}


@pytest.mark.parametrize(("action", "message"), EXACT.values(), ids=EXACT.keys())
def test_an_error_message_reads_field_expected_and_what_arrived(
    action: Callable[[], object], message: str
) -> None:
    """The whole message, word for word."""
    with pytest.raises(CmsfError) as excinfo:
        action()

    assert str(excinfo.value) == message


# ----------------------------------------------------------------------------- occurrences


def test_numbering_keeps_records_that_are_already_numbered_as_they_are() -> None:
    """A record whose occurrence is already right is passed through, not copied."""
    first = Activity("c", "m", ActivityType.CLICKED, AT)
    second = attrs.evolve(first, occurrence=5)

    numbered = number_occurrences([first, second])

    assert numbered[0] is first
    assert numbered[1] == attrs.evolve(first, occurrence=1)


# ----------------------------------------------------------------------------- diagnosis

REFRESH_ALWAYS = (
    "Set Campaign_Member_Refresh to 'Always Update' (now 'Always') so that Status is "
    "recalculated when tracking records are removed."
)
KEEP_180 = (
    "Increase DaysToKeep_Email (now 180 days) so that tracking records are kept longer; "
    "a full sync re-imports purged records."
)
UNDER_ALWAYS = "Under 'Always' the next refresh after a deletion recalculates Status."


def clicked(at: datetime = AT) -> CampaignMember:
    """A member whose status Clicked was set by a click at ``at``."""
    return CampaignMember(
        "cmp-1", "m-1", status="Clicked", activity=ActivityType.CLICKED, activity_date=at
    )


def only_finding(
    member: CampaignMember,
    stored: tuple[Activity, ...],
    settings: Settings,
    *,
    as_of: datetime = AT + timedelta(days=1),
    default_status: str | None = None,
) -> tuple[str, tuple[str, ...]]:
    """The message and remedies of the one finding diagnose returns."""
    (finding,) = diagnose(member, stored, settings, as_of=as_of, default_status=default_status)
    return finding.message, finding.remedies


@pytest.mark.parametrize(
    "settings",
    [Settings(imported_types={"Sent", "Opened"}), Settings(import_tracking=False)],
    ids=["type not imported", "tracking import off"],
)
def test_a_status_whose_records_are_not_imported_says_so(settings: Settings) -> None:
    """Why: the type is not imported (or tracking import is off); both remedies."""
    message, remedies = only_finding(clicked(), (), settings)

    assert message == (
        "Member m-1: Status is 'Clicked' but no Clicked record is stored (Clicks = 0): "
        f"Clicked records are not imported under the current settings. {UNDER_ALWAYS}"
    )
    assert remedies == (REFRESH_ALWAYS, KEEP_180)


def test_a_status_older_than_the_retention_window_says_the_purge_removed_it() -> None:
    """Why: the activity is older than the type's window (a per-type override shown)."""
    settings = Settings(refresh_mode="Update Once", days_to_keep_by_type={"Clicked": 30})
    at = AT - timedelta(days=31)

    message, remedies = only_finding(clicked(at), (), settings, as_of=AT)

    assert message == (
        "Member m-1: Status is 'Clicked' but no Clicked record is stored (Clicks = 0): the "
        "activity that set it (2024-03-31 09:30 UTC) is older than DaysToKeep_Email (30 days), "
        "so the retention purge removed its records. Status stays because "
        "Campaign_Member_Refresh is 'Once Only', which does not recalculate it when records "
        "are removed."
    )
    assert remedies == (
        "Set Campaign_Member_Refresh to 'Always Update' (now 'Once Only') so that Status is "
        "recalculated when tracking records are removed.",
        "Increase DaysToKeep_Email (now 30 days for Clicked records) so that tracking records "
        "are kept longer; a full sync re-imports purged records.",
    )


def test_an_activity_exactly_at_the_cutoff_was_not_purged() -> None:
    """At the cutoff itself a record is kept, so its absence means a deletion by hand."""
    cutoff = AT - timedelta(days=180)

    message, _ = only_finding(clicked(cutoff), (), Settings(), as_of=AT)

    assert message == (
        "Member m-1: Status is 'Clicked' but no Clicked record is stored (Clicks = 0): the "
        "activity that set it is within DaysToKeep_Email, so its records were deleted by hand "
        "(avoid removing tracking records outside the retention process). " + UNDER_ALWAYS
    )


def test_a_status_set_by_hand_says_the_integration_did_not_set_it() -> None:
    """No activity behind a status other than the default: set by hand or before tracking."""
    member = CampaignMember("cmp-1", "m-1", status="Opened")

    message, remedies = only_finding(member, (), Settings(), default_status="Sent")

    assert message == (
        "Member m-1: Status is 'Opened' but no Opened record is stored (Opens = 0): the status "
        "was not set by the integration (set by hand, or before tracking began). " + UNDER_ALWAYS
    )
    assert remedies == (REFRESH_ALWAYS, KEEP_180)


def test_a_default_status_set_by_the_integration_is_still_explained() -> None:
    """The default-status exemption is for members with no activity only."""
    member = CampaignMember(
        "cmp-1", "m-1", status="Sent", activity=ActivityType.SENT, activity_date=AT
    )

    message, _ = only_finding(member, (), Settings(), default_status="Sent")

    assert message.startswith(
        "Member m-1: Status is 'Sent' but no Sent record is stored (Sent = 0): "
    )


def test_a_shared_label_is_explained_by_the_activity_that_set_it() -> None:
    """Opened and Clicked both map to 'Engaged': a click set it, so an open does not count."""
    mapping = StatusMapping({"Opened": "Engaged", "Clicked": "Engaged"})
    settings = Settings(status_mapping=mapping)
    member = CampaignMember(
        "cmp-1",
        "m-1",
        status="Engaged",
        activity=ActivityType.CLICKED,
        activity_date=AT,
        engagement=Engagement(opens=1),
    )
    opened = Activity("cmp-1", "m-1", ActivityType.OPENED, AT)

    message, _ = only_finding(member, (opened,), settings)

    assert "no Clicked record is stored (Clicks = 0)" in message


def test_a_rollup_out_of_date_names_both_counters() -> None:
    """Counters that differ from the records: both shown, and the remedy is a sync."""
    opened = Activity("cmp-1", "m-1", ActivityType.OPENED, AT)

    (finding,) = diagnose(MEMBER, (opened,), Settings(), as_of=AT)

    assert finding.code is FindingCode.ROLLUP_OUT_OF_DATE
    assert finding.message == (
        "Member m-1: counters Engagement(sent=0, opens=0, clicks=0, bounces=0, unsubscribes=0, "
        "spam_complaints=0) differ from the 1 stored records (Engagement(sent=0, opens=1, "
        "clicks=0, bounces=0, unsubscribes=0, spam_complaints=0))."
    )
    assert finding.remedies == ("Run a sync: rollups are recomputed from the stored records.",)
    assert not finding.informational


def _once_only_opened(*stored: Activity) -> list[str]:
    member = CampaignMember(
        "cmp-1",
        "m-1",
        status="Opened",
        activity=ActivityType.OPENED,
        activity_date=AT,
        engagement=refresh_member(MEMBER, stored, Settings()).engagement,
    )
    settings = Settings(refresh_mode="Update Once")
    return [f.message for f in diagnose(member, stored, settings, as_of=AT)]


def test_a_later_record_under_once_only_is_explained_as_expected() -> None:
    """A click after the open that set the status: informational, by design."""
    opened = Activity("cmp-1", "m-1", ActivityType.OPENED, AT)
    later = Activity("cmp-1", "m-1", ActivityType.CLICKED, AT + timedelta(hours=2))

    assert _once_only_opened(opened, later) == [
        "Member m-1: Status is 'Opened' but a later Clicked record (2024-05-01 11:30 UTC) maps "
        "to 'Clicked'; under 'Once Only' this is expected."
    ]


def test_a_record_at_the_same_instant_is_not_later() -> None:
    """A click at the very instant of the open that set the status is not flagged."""
    opened = Activity("cmp-1", "m-1", ActivityType.OPENED, AT)
    same = Activity("cmp-1", "m-1", ActivityType.CLICKED, AT)

    assert _once_only_opened(opened, same) == []


def test_a_finding_renders_its_columns_and_joins_its_remedies() -> None:
    """The HTML table has code, message and remedies columns; remedies joined by ' | '."""
    (finding,) = diagnose(clicked(), (), Settings(), as_of=AT + timedelta(days=1))

    from cmsf_core.app.notebook import finding_html  # noqa: PLC0415 - the notebook view

    html = finding_html(finding)

    assert "<th>code</th><th>message</th><th>remedies</th>" in html
    assert f"{REFRESH_ALWAYS} | {KEEP_180}" in html


def test_the_candidate_of_a_deletion_refresh_follows_what_remains() -> None:
    """After a deletion under Always, the latest remaining mapped record sets status."""
    opened = Activity("cmp-1", "m-1", ActivityType.OPENED, AT)
    member = refresh_member(MEMBER, (opened,), Settings(), cause=RefreshCause.DELETION)

    assert candidate((opened,), Settings()) is opened
    assert (member.status, member.activity_date) == ("Opened", AT)


# ----------------------------------------------------------------------------- settings


def test_types_for_a_label_lists_the_types_mapped_to_it() -> None:
    """Several types may share a label; unmapped types belong to no label, not even None."""
    mapping = StatusMapping({"Opened": "Engaged", "Clicked": "Engaged", "Sent": None})

    assert mapping.types_for("Engaged") == {ActivityType.OPENED, ActivityType.CLICKED}
    assert mapping.types_for("Bounced") == {ActivityType.BOUNCED}
    assert mapping.types_for(None) == frozenset()
    assert mapping.mapped_labels() == (
        "Engaged",
        "Bounced",
        "Unsubscribed",
        "Marked as Spam",
    )


def test_unset_optional_settings_are_left_out_of_the_mapping() -> None:
    """to_mapping leaves out what is unset (None), and writes it once it is set."""
    unset = Settings().to_mapping()
    chosen = Settings(sms_country="GB", notification_email="ops@example.com").to_mapping()

    for name in ("SMS_Country", "Notification_Email", "Campaign_Filter_Start_Date"):
        assert name not in unset
    assert (chosen["SMS_Country"], chosen["Notification_Email"]) == ("GB", "ops@example.com")


def test_a_date_time_setting_accepts_an_aware_datetime_as_it_is() -> None:
    """Campaign_Filter_Start_Date may be a datetime value, not only ISO text."""
    settings = Settings.from_mapping({"Campaign_Filter_Start_Date": AT})

    assert settings.campaign_filter_start == AT


def test_a_status_shared_by_several_types_lists_each_of_them() -> None:
    """A hand-set label that two types map to: either record would explain it."""
    mapping = StatusMapping({"Opened": "Engaged", "Clicked": "Engaged"})
    member = CampaignMember("cmp-1", "m-1", status="Engaged")

    message, _ = only_finding(member, (), Settings(status_mapping=mapping))

    assert message.startswith(
        "Member m-1: Status is 'Engaged' but no Opened or Clicked record is stored "
        "(Opens = 0, Clicks = 0): the status was not set by the integration"
    )


def test_text_settings_are_read_in_the_products_spellings() -> None:
    """Signed digits, an underscore for a space, comma-separated labels."""
    settings = Settings.from_mapping(
        {
            "DaysToKeep_Email": "+7",
            "Status_Policy": "Most_Engaged",
            "Responded_Statuses": "Opened,Clicked",
        }
    )

    assert settings.days_to_keep == 7
    assert settings.status_policy.value == "Most Engaged"
    assert settings.status_mapping.responded == {"Opened", "Clicked"}
    with pytest.raises(CmsfError, match="'DaysToKeep_Email' must be a whole number"):
        Settings.from_mapping({"DaysToKeep_Email": "X7"})


def test_the_overlap_may_be_anything_from_none_to_a_week() -> None:
    """0 and 10,080 minutes are both accepted; one more is not."""
    assert Settings(sync_overlap_minutes=0).sync_overlap_minutes == 0
    assert Settings(sync_overlap_minutes=10_080).sync_overlap_minutes == 10_080
    with pytest.raises(CmsfError):
        Settings(sync_overlap_minutes=10_081)


def test_one_day_kept_still_imports_and_a_naive_as_of_is_refused() -> None:
    """A type kept one day is imported; retention_cutoff names its as_of."""
    settings = Settings(days_to_keep=1)

    assert settings.imports(ActivityType.SENT)
    assert not Settings(days_to_keep=0).imports(ActivityType.SENT)
    with pytest.raises(CmsfError) as excinfo:
        settings.retention_cutoff(ActivityType.SENT, NAIVE)
    assert str(excinfo.value).startswith("'as_of' must be a timezone-aware datetime")
