"""The pure planner, called directly: inputs are plain values, the plan is plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cmsf_core import ActivityType, Settings
from cmsf_core.domain.planner import ClientRead, CrmView, RefusalKind, plan_sync
from cmsf_core.domain.records import (
    CampaignLink,
    Checkpoint,
    PlatformCampaign,
    TrackingEvent,
)

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _read() -> ClientRead:
    campaign = PlatformCampaign("c1", "cmp-1", "Spring", SENT)
    events = (
        TrackingEvent(ActivityType.SENT, "ann@example.com", SENT),
        TrackingEvent(ActivityType.OPENED, "ann@example.com", SENT + timedelta(hours=1)),
    )
    return ClientRead(Checkpoint("c1"), (campaign,), {"cmp-1": events})


def test_a_link_to_a_deleted_crm_campaign_is_reported_and_the_records_still_import() -> None:
    """A platform campaign linked to a CRM campaign that no longer exists: the plan reports
    it, creates no member, and still imports the tracking records."""
    view = CrmView(links={"cmp-1": CampaignLink("c1", "cmp-1", "sf-gone")})

    plan = plan_sync([_read()], view, Settings(), as_of=SENT + timedelta(days=1))

    assert [r.kind for r in plan.refusals] == [RefusalKind.USE_LINKED_CAMPAIGN]
    assert "sf-gone" in plan.refusals[0].record
    assert plan.members_to_save == ()
    assert len(plan.records_to_insert) == 2
    assert plan.messages[0].code == "SYNC-USE-LINKED-CAMPAIGN"


def test_the_same_inputs_give_the_same_plan() -> None:
    """plan_sync is pure: planning twice from the same reads gives equal plans."""
    view = CrmView()
    as_of = SENT + timedelta(days=1)

    assert plan_sync([_read()], view, Settings(), as_of=as_of) == plan_sync(
        [_read()], view, Settings(), as_of=as_of
    )


def test_events_after_as_of_are_left_for_a_later_sync() -> None:
    """An event stamped after as_of is skipped and does not move the watermark."""
    plan = plan_sync([_read()], CrmView(), Settings(), as_of=SENT + timedelta(minutes=30))

    assert [a.type for a in plan.records_to_insert] == [ActivityType.SENT]
    assert plan.skipped["events after as_of"] == 1
    assert plan.checkpoints[0].watermark == SENT
