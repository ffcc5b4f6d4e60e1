"""The campaign member status rules (DESIGN §6) and ``diagnose``, by example.

Read with the product's "Status Refresh Behaviour" note: Status is only updated when the
member's Activity Date is empty or older than the activity that would set it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    Engagement,
    FindingCode,
    RefreshCause,
    RefreshMode,
    Settings,
    StatusMapping,
    StatusPolicy,
    candidate,
    diagnose,
    refresh_member,
)

CAMPAIGN = "701-webinar"
MEMBER = "00v-bob"
T0 = datetime(2024, 5, 6, 14, 0, tzinfo=UTC)

ALWAYS = Settings(refresh_mode=RefreshMode.ALWAYS)
ONCE_ONLY = Settings(refresh_mode=RefreshMode.ONCE_ONLY)
NEVER = Settings(refresh_mode=RefreshMode.NEVER)

#: Highest first: the order ties at one instant are broken in.
RANKED = (
    ActivityType.UNSUBSCRIBED,
    ActivityType.SPAM_COMPLAINT,
    ActivityType.BOUNCED,
    ActivityType.CLICKED,
    ActivityType.OPENED,
    ActivityType.SENT,
)
DEFAULT_LABEL = {
    ActivityType.SENT: "Sent",
    ActivityType.OPENED: "Opened",
    ActivityType.CLICKED: "Clicked",
    ActivityType.BOUNCED: "Bounced",
    ActivityType.UNSUBSCRIBED: "Unsubscribed",
    ActivityType.SPAM_COMPLAINT: "Marked as Spam",
}


def at(minutes: int) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def record(activity_type: ActivityType, minutes: int, **fields: object) -> Activity:
    """A tracking record of the member, ``minutes`` after T0."""
    return Activity(CAMPAIGN, MEMBER, activity_type, at(minutes), **fields)  # type: ignore[arg-type]


def fresh() -> CampaignMember:
    """A member the integration has not set a status on yet."""
    return CampaignMember(CAMPAIGN, MEMBER)


def set_by_integration(activity_type: ActivityType, minutes: int) -> CampaignMember:
    """A member whose status was set by an activity ``minutes`` after T0."""
    return CampaignMember(
        CAMPAIGN,
        MEMBER,
        status=DEFAULT_LABEL[activity_type],
        activity=activity_type,
        activity_date=at(minutes),
    )


def state(member: CampaignMember) -> tuple[object, ...]:
    """What the refresh rules may change besides the rollups."""
    return (member.status, member.activity, member.activity_date)


# ------------------------------------------------------------------------------- Once Only


def test_once_only_captures_the_first_interaction_and_ignores_a_later_click() -> None:
    """Once Only: the first sync captures "Opened"; a later click does not override it."""
    sent, opened = record(ActivityType.SENT, 0), record(ActivityType.OPENED, 30)
    first = refresh_member(fresh(), (sent, opened), ONCE_ONLY)

    clicked = record(ActivityType.CLICKED, 90, detail="https://example.com/register")
    later = refresh_member(first, (sent, opened, clicked), ONCE_ONLY)

    assert state(first) == ("Opened", ActivityType.OPENED, at(30))
    assert state(later) == ("Opened", ActivityType.OPENED, at(30))
    assert later.engagement == Engagement(sent=1, opens=1, clicks=1)


def test_once_only_keeps_a_status_set_by_hand_after_the_first_interaction() -> None:
    """Once Only: a status set by hand after the first sync survives later imports."""
    opened = record(ActivityType.OPENED, 30)
    first = refresh_member(fresh(), (opened,), ONCE_ONLY)
    by_hand = attrs.evolve(first, status="Attended")

    later = refresh_member(by_hand, (opened, record(ActivityType.CLICKED, 90)), ONCE_ONLY)

    assert state(later) == ("Attended", ActivityType.OPENED, at(30))


def test_once_only_waits_for_the_first_mapped_activity_when_sent_sets_no_status() -> None:
    """Once Only with Sent mapped to nothing: the send sets nothing, the first open does."""
    settings = attrs.evolve(ONCE_ONLY, status_mapping=StatusMapping({ActivityType.SENT: None}))
    sent = record(ActivityType.SENT, 0)
    after_send = refresh_member(fresh(), (sent,), settings)
    opened = record(ActivityType.OPENED, 30)
    after_open = refresh_member(after_send, (sent, opened), settings)
    clicked = record(ActivityType.CLICKED, 90)
    after_click = refresh_member(after_open, (sent, opened, clicked), settings)

    assert state(after_send) == (None, None, None)
    assert after_send.engagement == Engagement(sent=1)
    assert state(after_open) == ("Opened", ActivityType.OPENED, at(30))
    assert state(after_click) == ("Opened", ActivityType.OPENED, at(30))


# ------------------------------------------------------------------------------- Never


def test_never_leaves_a_fresh_member_without_status_but_counts_its_records() -> None:
    """Never: the integration sets no status, while the rollups still follow the records."""
    records = (record(ActivityType.SENT, 0), record(ActivityType.OPENED, 5))

    member = refresh_member(fresh(), records, NEVER)

    assert state(member) == (None, None, None)
    assert member.engagement == Engagement(sent=1, opens=1)


# ------------------------------------------------------------------------------- Always


def test_always_moves_status_forward_to_a_later_click() -> None:
    """Always: a click later than the member's Activity Date sets "Clicked"."""
    member = set_by_integration(ActivityType.OPENED, 30)
    records = (record(ActivityType.OPENED, 30), record(ActivityType.CLICKED, 45))

    refreshed = refresh_member(member, records, ALWAYS)

    assert state(refreshed) == ("Clicked", ActivityType.CLICKED, at(45))


def test_always_follows_the_latest_record_even_when_it_is_less_engaged() -> None:
    """Always, latest wins: an open after a click sets "Opened"."""
    records = (record(ActivityType.CLICKED, 10), record(ActivityType.OPENED, 20))

    refreshed = refresh_member(fresh(), records, ALWAYS)

    assert state(refreshed) == ("Opened", ActivityType.OPENED, at(20))


def test_activity_date_guard_an_older_activity_never_overrides_a_newer_status() -> None:
    """Always: a late-arriving click older than the Activity Date leaves Status alone."""
    member = set_by_integration(ActivityType.OPENED, 30)
    late_click = record(ActivityType.CLICKED, 10)

    refreshed = refresh_member(member, (late_click,), ALWAYS)

    assert state(refreshed) == ("Opened", ActivityType.OPENED, at(30))
    assert refreshed.engagement == Engagement(clicks=1)


def test_activity_date_guard_needs_a_strictly_later_activity() -> None:
    """Always: a record at the very instant of the Activity Date does not override Status."""
    member = set_by_integration(ActivityType.OPENED, 30)
    same_instant_click = record(ActivityType.CLICKED, 30)

    refreshed = refresh_member(member, (same_instant_click,), ALWAYS)

    assert state(refreshed) == ("Opened", ActivityType.OPENED, at(30))


def test_always_overrides_a_status_set_by_hand_when_activity_date_is_empty() -> None:
    """Always: with no Activity Date, the first import sets Status over a hand-set one."""
    member = CampaignMember(CAMPAIGN, MEMBER, status="Attended")

    refreshed = refresh_member(member, (record(ActivityType.SENT, 0),), ALWAYS)

    assert state(refreshed) == ("Sent", ActivityType.SENT, at(0))


# ------------------------------------------------------------------------------- ties


@pytest.mark.parametrize(
    ("higher", "lower"),
    list(itertools.combinations(RANKED, 2)),
    ids=lambda t: t.value,
)
def test_ties_at_one_instant_go_to_the_higher_ranked_type(
    higher: ActivityType, lower: ActivityType
) -> None:
    """Unsubscribed > Spam complaint > Bounced > Clicked > Opened > Sent, in either order."""
    for records in ((record(higher, 5), record(lower, 5)), (record(lower, 5), record(higher, 5))):
        refreshed = refresh_member(fresh(), records, ALWAYS)
        assert state(refreshed) == (DEFAULT_LABEL[higher], higher, at(5))


def test_all_six_types_at_one_instant_give_unsubscribed() -> None:
    """With one record of every type at the same instant, Unsubscribed wins."""
    records = tuple(record(t, 5) for t in ActivityType)

    assert state(refresh_member(fresh(), records, ALWAYS)) == (
        "Unsubscribed",
        ActivityType.UNSUBSCRIBED,
        at(5),
    )


def test_a_later_lower_ranked_record_beats_an_earlier_higher_ranked_one() -> None:
    """Rank only breaks ties: a Sent one second after an Unsubscribed wins under latest wins."""
    unsubscribed = record(ActivityType.UNSUBSCRIBED, 5)
    sent = Activity(CAMPAIGN, MEMBER, ActivityType.SENT, at(5) + timedelta(seconds=1))

    assert candidate((unsubscribed, sent), ALWAYS) == sent


# ------------------------------------------------------------------------------- mapping


def test_opened_mapped_to_registered_sets_registered_which_counts_as_responded() -> None:
    """Opened -> "Registered" (responded): an open sets Status "Registered", a response."""
    mapping = StatusMapping({ActivityType.OPENED: "Registered"}, responded={"Registered"})
    settings = Settings(status_mapping=mapping)

    member = refresh_member(fresh(), (record(ActivityType.OPENED, 3),), settings)

    assert state(member) == ("Registered", ActivityType.OPENED, at(3))
    assert mapping.is_responded(member.status)
    assert not mapping.is_responded("Sent")
    assert mapping.label(ActivityType.CLICKED) == "Clicked"


def test_default_mapping_is_the_identity_with_spam_marked_and_opens_and_clicks_responded() -> None:
    """The default labels are the type names, "Marked as Spam"; Opened and Clicked respond."""
    mapping = StatusMapping()

    assert {t: mapping.label(t) for t in ActivityType} == DEFAULT_LABEL
    assert {label for label in DEFAULT_LABEL.values() if mapping.is_responded(label)} == {
        "Opened",
        "Clicked",
    }
    assert not mapping.is_responded(None)


@pytest.mark.parametrize("mode", list(RefreshMode), ids=lambda m: m.value)
def test_a_type_mapped_to_none_never_sets_status(mode: RefreshMode) -> None:
    """Clicked -> nothing: a click alone never sets status, in any mode, by any cause."""
    settings = Settings(
        refresh_mode=mode, status_mapping=StatusMapping({ActivityType.CLICKED: None})
    )
    clicks = (record(ActivityType.CLICKED, 1), record(ActivityType.CLICKED, 2))

    imported = refresh_member(fresh(), clicks, settings)
    deleted = refresh_member(fresh(), clicks[:1], settings, cause=RefreshCause.DELETION)

    assert state(imported) == (None, None, None)
    assert state(deleted) == (None, None, None)
    assert imported.engagement == Engagement(clicks=2)


def test_a_type_mapped_to_none_is_skipped_for_the_latest_mapped_record() -> None:
    """Clicked -> nothing: an open before the click sets the status, the click is skipped."""
    settings = Settings(status_mapping=StatusMapping({ActivityType.CLICKED: None}))
    records = (record(ActivityType.OPENED, 1), record(ActivityType.CLICKED, 2))

    assert state(refresh_member(fresh(), records, settings)) == (
        "Opened",
        ActivityType.OPENED,
        at(1),
    )


def test_types_sharing_a_label_set_that_label_with_their_own_activity() -> None:
    """Opened and Clicked both -> "Responded": the latest sets "Responded" and its type."""
    mapping = StatusMapping({ActivityType.OPENED: "Responded", ActivityType.CLICKED: "Responded"})
    records = (record(ActivityType.OPENED, 1), record(ActivityType.CLICKED, 2))

    member = refresh_member(fresh(), records, Settings(status_mapping=mapping))

    assert state(member) == ("Responded", ActivityType.CLICKED, at(2))


# ------------------------------------------------------------------------------- deletion


def test_always_after_a_deletion_recomputes_without_the_date_guard() -> None:
    """Always, deletion: with the click gone, Status goes back to the earlier "Opened"."""
    member = set_by_integration(ActivityType.CLICKED, 45)

    refreshed = refresh_member(
        member, (record(ActivityType.OPENED, 30),), ALWAYS, cause=RefreshCause.DELETION
    )

    assert state(refreshed) == ("Opened", ActivityType.OPENED, at(30))
    assert refreshed.engagement == Engagement(opens=1)


def test_always_after_deleting_everything_falls_back_to_the_default_status() -> None:
    """Always, deletion: nothing mapped remains, so Status is the default, activity cleared."""
    member = set_by_integration(ActivityType.CLICKED, 45)

    refreshed = refresh_member(
        member, (), ALWAYS, cause=RefreshCause.DELETION, default_status="Targeted"
    )

    assert state(refreshed) == ("Targeted", None, None)


def test_always_after_deleting_every_mapped_record_falls_back_to_the_default_status() -> None:
    """Always, deletion: only unmapped records remain, so the default status applies."""
    settings = Settings(status_mapping=StatusMapping({ActivityType.SENT: None}))
    member = set_by_integration(ActivityType.CLICKED, 45)

    refreshed = refresh_member(
        member,
        (record(ActivityType.SENT, 0),),
        settings,
        cause=RefreshCause.DELETION,
        default_status="Targeted",
    )

    assert state(refreshed) == ("Targeted", None, None)
    assert refreshed.engagement == Engagement(sent=1)


def test_the_default_status_is_not_used_after_an_import() -> None:
    """Always, import: with no mapped record the member is left as it is."""
    member = CampaignMember(CAMPAIGN, MEMBER, status="Attended")

    refreshed = refresh_member(member, (), ALWAYS, default_status="Targeted")

    assert state(refreshed) == ("Attended", None, None)


@pytest.mark.parametrize("settings", [ONCE_ONLY, NEVER], ids=["Once Only", "Never"])
def test_once_only_and_never_keep_status_after_a_deletion(settings: Settings) -> None:
    """Once Only / Never, deletion: Status untouched even with a default status known."""
    member = set_by_integration(ActivityType.CLICKED, 45)

    refreshed = refresh_member(
        member, (), settings, cause=RefreshCause.DELETION, default_status="Targeted"
    )

    assert state(refreshed) == ("Clicked", ActivityType.CLICKED, at(45))


# ------------------------------------------------------------------------------- most engaged


MOST_ENGAGED = Settings(status_policy=StatusPolicy.MOST_ENGAGED)


def test_most_engaged_follows_the_highest_ranked_record_rather_than_the_latest() -> None:
    """Most engaged: a click followed by an open keeps "Clicked"."""
    records = (record(ActivityType.CLICKED, 10), record(ActivityType.OPENED, 20))

    member = refresh_member(fresh(), records, MOST_ENGAGED)

    assert state(member) == ("Clicked", ActivityType.CLICKED, at(10))


def test_most_engaged_takes_the_latest_among_records_of_the_top_rank() -> None:
    """Most engaged: of two clicks, the later one sets the Activity Date."""
    records = (
        record(ActivityType.CLICKED, 20),
        record(ActivityType.OPENED, 30),
        record(ActivityType.CLICKED, 10),
    )

    assert candidate(records, MOST_ENGAGED) == records[0]


def test_most_engaged_keeps_the_activity_date_guard() -> None:
    """Most engaged, Always: an older click still never overrides a newer status."""
    member = set_by_integration(ActivityType.OPENED, 30)

    refreshed = refresh_member(member, (record(ActivityType.CLICKED, 10),), MOST_ENGAGED)

    assert state(refreshed) == ("Opened", ActivityType.OPENED, at(30))


def test_most_engaged_is_not_displaced_by_a_later_less_engaged_record() -> None:
    """Most engaged, Always: after "Clicked", a later open leaves Status alone."""
    click = record(ActivityType.CLICKED, 10)
    member = refresh_member(fresh(), (click,), MOST_ENGAGED)

    refreshed = refresh_member(member, (click, record(ActivityType.OPENED, 20)), MOST_ENGAGED)

    assert state(refreshed) == ("Clicked", ActivityType.CLICKED, at(10))


def test_most_engaged_moves_up_to_a_later_more_engaged_record() -> None:
    """Most engaged, Always: after "Opened", a later click sets "Clicked"."""
    opened = record(ActivityType.OPENED, 10)
    member = refresh_member(fresh(), (opened,), MOST_ENGAGED)

    refreshed = refresh_member(member, (opened, record(ActivityType.CLICKED, 20)), MOST_ENGAGED)

    assert state(refreshed) == ("Clicked", ActivityType.CLICKED, at(20))


# ------------------------------------------------------------------------------- diagnose


@pytest.mark.parametrize("mode", list(RefreshMode), ids=lambda m: m.value)
def test_diagnose_finds_nothing_when_status_and_records_agree(mode: RefreshMode) -> None:
    """A member whose status follows its latest stored record needs no explanation."""
    settings = Settings(refresh_mode=mode)
    records = (record(ActivityType.SENT, 0), record(ActivityType.OPENED, 5))
    member = refresh_member(set_by_integration(ActivityType.OPENED, 5), records, settings)

    assert diagnose(member, records, settings, as_of=at(60)) == ()


def test_diagnose_finds_nothing_for_a_fresh_member_without_records() -> None:
    """No status and no records: nothing to explain."""
    assert diagnose(fresh(), (), ALWAYS, as_of=at(0)) == ()


@pytest.mark.parametrize("settings", [ONCE_ONLY, NEVER], ids=["Once Only", "Never"])
def test_status_behind_activity_is_reported_under_once_only_and_never(settings: Settings) -> None:
    """Once Only / Never: a later click behind an "Opened" status is expected, informational."""
    records = (record(ActivityType.OPENED, 5), record(ActivityType.CLICKED, 20))
    member = refresh_member(set_by_integration(ActivityType.OPENED, 5), records, settings)

    findings = diagnose(member, records, settings, as_of=at(60))

    assert member.status == "Opened"
    assert [f.code for f in findings] == [FindingCode.STATUS_BEHIND_ACTIVITY]
    assert findings[0].informational
    assert "Clicked" in findings[0].message
    assert any("Always" in remedy for remedy in findings[0].remedies)


def test_status_behind_activity_is_not_reported_for_a_later_record_of_the_same_label() -> None:
    """Once Only: a later open behind an "Opened" status maps to the same status: no finding."""
    records = (record(ActivityType.OPENED, 5), record(ActivityType.OPENED, 20))
    member = refresh_member(set_by_integration(ActivityType.OPENED, 5), records, ONCE_ONLY)

    assert diagnose(member, records, ONCE_ONLY, as_of=at(60)) == ()


def test_status_behind_activity_is_not_reported_under_always() -> None:
    """Always: a status behind a later record is not the by-design case of Once Only/Never."""
    records = (record(ActivityType.OPENED, 5), record(ActivityType.CLICKED, 20))
    member = set_by_integration(ActivityType.OPENED, 5)
    member = attrs.evolve(member, engagement=Engagement(opens=1, clicks=1))

    codes = [f.code for f in diagnose(member, records, ALWAYS, as_of=at(60))]

    assert FindingCode.STATUS_BEHIND_ACTIVITY not in codes


def test_diagnose_reports_rollups_out_of_date_with_the_records() -> None:
    """Counters that differ from the stored records are reported as out of date."""
    records = (record(ActivityType.OPENED, 5),)
    member = attrs.evolve(set_by_integration(ActivityType.OPENED, 5), engagement=Engagement())

    codes = [f.code for f in diagnose(member, records, ALWAYS, as_of=at(60))]

    assert codes == [FindingCode.ROLLUP_OUT_OF_DATE]


def test_a_status_shared_by_several_types_is_backed_by_a_record_of_any_of_them() -> None:
    """A hand-set "Responded" (Opened and Clicked both map to it) is backed by an open."""
    mapping = StatusMapping({ActivityType.OPENED: "Responded", ActivityType.CLICKED: "Responded"})
    settings = Settings(status_mapping=mapping)
    records = (record(ActivityType.OPENED, 5),)
    member = CampaignMember(CAMPAIGN, MEMBER, status="Responded", engagement=Engagement(opens=1))

    assert diagnose(member, records, settings, as_of=at(60)) == ()
