"""The FAQ "Why are Salesforce Campaign Member Statuses, Clicks and Opens different to Campaign
Monitor?", walked through under each Campaign_Member_Refresh mode.

A member is sent the newsletter, opens it and clicks a link; the sync sets Status "Clicked"
and Clicks = 1.  DaysToKeep_Email later purges the tracking records.  Always Update
recalculates Status from what remains; Update Once and Never Update keep "Clicked" with
Clicks = 0, and ``diagnose`` explains why and names both remedies.
"""

from __future__ import annotations

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
    apply_retention,
    diagnose,
    refresh_member,
)

CAMPAIGN = "701-spring-newsletter"
MEMBER = "00v-ann"

SENT_AT = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
OPENED_AT = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)
CLICKED_AT = datetime(2024, 3, 4, 9, 31, tzinfo=UTC)

#: "Very short retention periods (like 7 days) often cause confusing mismatches."
DAYS_TO_KEEP = 7
PURGE_DAY = CLICKED_AT + timedelta(days=DAYS_TO_KEEP + 1)
WITHIN_WINDOW = CLICKED_AT + timedelta(days=DAYS_TO_KEEP - 1)

SENT = Activity(CAMPAIGN, MEMBER, ActivityType.SENT, SENT_AT, email="ann@example.com")
OPENED = Activity(CAMPAIGN, MEMBER, ActivityType.OPENED, OPENED_AT, email="ann@example.com")
CLICKED = Activity(
    CAMPAIGN,
    MEMBER,
    ActivityType.CLICKED,
    CLICKED_AT,
    email="ann@example.com",
    detail="https://example.com/spring-sale",
)
HISTORY = (SENT, OPENED, CLICKED)

ALL_MODES = tuple(RefreshMode)
STATIC_MODES = (RefreshMode.ONCE_ONLY, RefreshMode.NEVER)


def settings_for(mode: RefreshMode, **changes: object) -> Settings:
    """The org's settings: DaysToKeep_Email = 7 and the given Campaign_Member_Refresh."""
    return attrs.evolve(Settings(refresh_mode=mode, days_to_keep=DAYS_TO_KEEP), **changes)


def synced_member(settings: Settings) -> CampaignMember:
    """The member after the sync that imported the send, the open and the click.

    Under Never Update the integration does not set Status, so the member got "Clicked"
    while the org was still on Always Update and switched to Never Update afterwards.
    """
    at_sync = settings
    if settings.refresh_mode is RefreshMode.NEVER:
        at_sync = attrs.evolve(settings, refresh_mode=RefreshMode.ALWAYS)
    return refresh_member(CampaignMember(CAMPAIGN, MEMBER), HISTORY, at_sync)


def after_purge(settings: Settings, *, default_status: str | None = None) -> CampaignMember:
    """The member once the retention job ran on PURGE_DAY and the member was refreshed."""
    retention = apply_retention(HISTORY, settings, as_of=PURGE_DAY)
    return refresh_member(
        synced_member(settings),
        retention.kept,
        settings,
        cause=RefreshCause.DELETION,
        default_status=default_status,
    )


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_a_sent_opened_and_clicked_member_shows_clicked_with_one_click(mode: RefreshMode) -> None:
    """After the sync the member's Status is "Clicked" and Clicks = 1, Opens = 1."""
    member = synced_member(settings_for(mode))

    assert member.status == "Clicked"
    assert member.activity is ActivityType.CLICKED
    assert member.activity_date == CLICKED_AT
    assert member.engagement == Engagement(sent=1, opens=1, clicks=1)


def test_days_to_keep_email_purges_records_older_than_the_window() -> None:
    """On PURGE_DAY every record is older than DaysToKeep_Email and is purged."""
    retention = apply_retention(HISTORY, settings_for(RefreshMode.ALWAYS), as_of=PURGE_DAY)

    assert retention.kept == ()
    assert retention.purged == HISTORY


def test_days_to_keep_email_keeps_records_inside_the_window() -> None:
    """A day before the window closes nothing is purged."""
    retention = apply_retention(HISTORY, settings_for(RefreshMode.ALWAYS), as_of=WITHIN_WINDOW)

    assert retention.kept == HISTORY
    assert retention.purged == ()


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_rollups_drop_to_zero_after_the_purge_in_every_mode(mode: RefreshMode) -> None:
    """Clicks and Opens are dynamic rollups: they drop to 0 whatever the refresh mode."""
    member = after_purge(settings_for(mode))

    assert member.engagement == Engagement()


def test_always_update_reverts_status_to_sent_when_only_the_send_remains() -> None:
    """Always Update: with sent records kept longer, Status reverts to the earlier "Sent"."""
    settings = settings_for(RefreshMode.ALWAYS, days_to_keep_by_type={ActivityType.SENT: 90})

    member = after_purge(settings)

    assert member.status == "Sent"
    assert member.activity is ActivityType.SENT
    assert member.activity_date == SENT_AT
    assert member.engagement == Engagement(sent=1)


def test_always_update_blanks_status_when_no_record_remains() -> None:
    """Always Update: with nothing left and no default status known, Status becomes blank."""
    member = after_purge(settings_for(RefreshMode.ALWAYS))

    assert member.status is None
    assert member.activity is None
    assert member.activity_date is None


def test_always_update_falls_back_to_the_campaign_default_status() -> None:
    """Always Update: with nothing left, Status becomes the campaign's default status."""
    member = after_purge(settings_for(RefreshMode.ALWAYS), default_status="Planned")

    assert member.status == "Planned"
    assert member.activity is None
    assert member.activity_date is None


@pytest.mark.parametrize("mode", STATIC_MODES, ids=lambda m: m.value)
def test_update_once_and_never_update_keep_clicked_with_zero_clicks(mode: RefreshMode) -> None:
    """Update Once / Never Update: Status stays "Clicked" while Clicks drops to 0."""
    member = after_purge(settings_for(mode), default_status="Planned")

    assert member.status == "Clicked"
    assert member.activity is ActivityType.CLICKED
    assert member.activity_date == CLICKED_AT
    assert member.engagement.clicks == 0


@pytest.mark.parametrize("mode", STATIC_MODES, ids=lambda m: m.value)
def test_diagnose_explains_clicked_with_zero_clicks_by_the_retention_window(
    mode: RefreshMode,
) -> None:
    """diagnose: Status without its records, explained by DaysToKeep, with both remedies."""
    settings = settings_for(mode)
    member = after_purge(settings)

    findings = diagnose(member, (), settings, as_of=PURGE_DAY)

    assert [f.code for f in findings] == [FindingCode.STATUS_WITHOUT_ACTIVITY]
    (finding,) = findings
    assert "Clicked" in finding.message
    assert "DaysToKeep" in finding.message
    assert "retention" in finding.message
    assert "by hand" not in finding.message
    assert any("Always" in remedy for remedy in finding.remedies)
    assert any("DaysToKeep" in remedy for remedy in finding.remedies)


@pytest.mark.parametrize("mode", STATIC_MODES, ids=lambda m: m.value)
def test_diagnose_explains_records_deleted_by_hand_inside_the_window(mode: RefreshMode) -> None:
    """Manual deletion within DaysToKeep causes the same mismatch; diagnose says so."""
    settings = settings_for(mode)
    member = refresh_member(synced_member(settings), (SENT,), settings, cause=RefreshCause.DELETION)

    findings = diagnose(member, (SENT,), settings, as_of=WITHIN_WINDOW)

    assert member.status == "Clicked"
    assert member.engagement == Engagement(sent=1)
    assert [f.code for f in findings] == [FindingCode.STATUS_WITHOUT_ACTIVITY]
    (finding,) = findings
    assert "by hand" in finding.message
    assert "retention purge removed" not in finding.message
    assert any("Always" in remedy for remedy in finding.remedies)
    assert any("DaysToKeep" in remedy for remedy in finding.remedies)


@pytest.mark.parametrize("default_status", [None, "Planned"])
def test_always_update_leaves_nothing_for_diagnose_to_explain(default_status: str | None) -> None:
    """Always Update: after the purge, Status and records agree; diagnose finds nothing."""
    settings = settings_for(RefreshMode.ALWAYS)
    member = after_purge(settings, default_status=default_status)

    assert diagnose(member, (), settings, as_of=PURGE_DAY) == ()


def test_always_update_reverted_to_a_default_status_of_sent_leaves_nothing_to_explain() -> None:
    """Always Update back on the campaign's default "Sent" with no record: nothing to explain."""
    settings = settings_for(RefreshMode.ALWAYS)
    member = after_purge(settings, default_status="Sent")

    assert member.status == "Sent"
    assert diagnose(member, (), settings, as_of=PURGE_DAY, default_status="Sent") == ()


def test_always_update_with_sent_kept_leaves_nothing_for_diagnose_to_explain() -> None:
    """Always Update: reverted to "Sent" with the sent record kept, diagnose finds nothing."""
    settings = settings_for(RefreshMode.ALWAYS, days_to_keep_by_type={ActivityType.SENT: 90})
    member = after_purge(settings)

    assert diagnose(member, (SENT,), settings, as_of=PURGE_DAY) == ()


@pytest.mark.parametrize("mode", ALL_MODES, ids=lambda m: m.value)
def test_a_full_sync_reimports_purged_records_and_restores_the_rollups(mode: RefreshMode) -> None:
    """Purged data stays on the platform: re-importing it restores Clicks = 1."""
    settings = settings_for(mode)
    purged = after_purge(settings)

    member = refresh_member(purged, HISTORY, settings)

    assert member.engagement == Engagement(sent=1, opens=1, clicks=1)
    assert member.status == "Clicked"
    assert member.activity_date == CLICKED_AT
