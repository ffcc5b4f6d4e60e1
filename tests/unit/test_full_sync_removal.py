"""What a full sync's plan removes of what the integration loaded: the copies of platform
campaigns no longer selected, and the suppression records when that setting is off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cmsf_core import Activity, ActivityType, Settings
from cmsf_core.domain.planner import ClientRead, CrmView, Refusals, plan_sync
from cmsf_core.domain.records import Checkpoint, PlatformCampaign
from cmsf_core.domain.subscribers import (
    RemoveSuppressionRecord,
    SuppressedEmail,
    SuppressionRecord,
    plan_suppression_sync,
)

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def campaign(
    campaign_id: str, client_id: str = "c1", *, tags: frozenset[str] = frozenset()
) -> PlatformCampaign:
    """A platform campaign sent a day before AT."""
    return PlatformCampaign(
        client_id, campaign_id, campaign_id.upper(), AT - timedelta(days=1), tags
    )


def read(*campaigns: PlatformCampaign, client_id: str = "c1") -> ClientRead:
    """What was read for one client: its campaigns, no events."""
    return ClientRead(Checkpoint(client_id), campaigns, {})


def stored(*campaigns: PlatformCampaign) -> CrmView:
    """A CRM holding copies of these platform campaigns."""
    return CrmView(platform_campaigns={c.campaign_id: c for c in campaigns})


def test_a_full_sync_deletes_the_copy_of_a_campaign_the_platform_no_longer_reports() -> None:
    """Stored copies of the client read that the platform does not report are deleted."""
    spring, gone = campaign("cmp-spring"), campaign("cmp-gone")

    plan = plan_sync([read(spring)], stored(spring, gone), Settings(), as_of=AT, full=True)

    assert plan.platform_campaigns_to_delete == ("cmp-gone",)
    assert plan.counts()["platform campaigns deleted"] == 1


def test_a_full_sync_deletes_the_copy_of_a_campaign_the_filter_now_leaves_out() -> None:
    """A campaign still reported but outside the campaign filter loses its copy."""
    news = campaign("cmp-news", tags=frozenset({"news"}))
    promo = campaign("cmp-promo", tags=frozenset({"promo"}))
    settings = Settings(campaign_filter_tags=frozenset({"news"}))

    plan = plan_sync([read(news, promo)], stored(news, promo), settings, as_of=AT, full=True)

    assert plan.platform_campaigns_to_delete == ("cmp-promo",)
    assert plan.platform_campaigns == ()


def test_an_incremental_sync_deletes_no_platform_campaign_copy() -> None:
    """Only a full sync realigns the copies; an incremental sync leaves them as they are."""
    spring, gone = campaign("cmp-spring"), campaign("cmp-gone")

    plan = plan_sync([read(spring)], stored(spring, gone), Settings(), as_of=AT)

    assert plan.platform_campaigns_to_delete == ()


def test_a_full_sync_keeps_the_copies_of_a_client_it_did_not_read() -> None:
    """A client that could not be read (skipped) keeps its copies until it is read."""
    spring, other = campaign("cmp-spring"), campaign("cmp-other", client_id="c2")

    plan = plan_sync([read(spring)], stored(spring, other), Settings(), as_of=AT, full=True)

    assert plan.platform_campaigns_to_delete == ()


def test_a_copy_stays_while_the_crm_refuses_to_delete_its_records() -> None:
    """Records of a dropped campaign the CRM refused to delete keep their campaign's copy:
    the next full sync retries both, so no record is left without its campaign."""
    spring, gone = campaign("cmp-spring"), campaign("cmp-gone")
    record = Activity(
        "cmp-gone", "ann@example.com", ActivityType.SENT, AT - timedelta(hours=1), client_id="c1"
    )
    view = stored(spring, gone)
    refused = Refusals(deletes={record.key: "ENTITY_IS_LOCKED"})

    plan = plan_sync([read(spring)], view, Settings(), as_of=AT, full=True, refused=refused)

    assert plan.platform_campaigns_to_delete == ()


def test_a_full_sync_with_the_suppression_list_off_removes_every_suppression_record() -> None:
    """The integration loaded its suppression records: a full sync with the setting off
    removes them all, and reads nothing from the platform's list."""
    records = [
        SuppressionRecord("a0S1", "ann@example.com", "Bounced", AT),
        SuppressionRecord("a0S2", "bob@example.com", "Manual", AT),
    ]
    entries = [SuppressedEmail("ann@example.com", "Bounced", AT)]

    plan = plan_suppression_sync(entries, records, sync_suppression_list=False, full=True)

    assert plan.create == plan.update == ()
    assert plan.remove == (
        RemoveSuppressionRecord("a0S1", "ann@example.com"),
        RemoveSuppressionRecord("a0S2", "bob@example.com"),
    )


def test_an_incremental_sync_with_the_suppression_list_off_keeps_the_records() -> None:
    """Turning the setting off alone changes nothing until a full sync."""
    records = [SuppressionRecord("a0S1", "ann@example.com", "Bounced", AT)]

    plan = plan_suppression_sync([], records, sync_suppression_list=False)

    assert plan.changes == ()


def test_a_full_sync_with_the_suppression_list_on_follows_the_platform() -> None:
    """With the setting on, a full sync reconciles as any sync does: nothing extra goes."""
    records = [SuppressionRecord("a0S1", "ann@example.com", "Bounced", AT)]
    entries = [SuppressedEmail("ann@example.com", "Bounced", AT)]

    plan = plan_suppression_sync(entries, records, sync_suppression_list=True, full=True)

    assert plan.changes == ()
