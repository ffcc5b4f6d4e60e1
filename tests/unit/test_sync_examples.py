"""The product docs' sync behaviour, as examples run through ``run_sync`` with the in-memory
adapters.

Campaign settings (auto-create campaigns, statistics, status refresh, auto-create missing
statuses, status mapping), the campaign filter, matching members to contacts and leads,
agency clients, maintenance messages for refused records, crash recovery, the full sync and
the FAQ on "Clicked but Clicks = 0".  Every test asserts on the CRM's resulting state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from cmsf_core import (
    Activity,
    ActivityKey,
    ActivityType,
    Engagement,
    RefreshMode,
    Settings,
    Severity,
)
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform, SimulatedCrashError
from cmsf_core.domain.planner import RefusalKind, auto_campaign_id
from cmsf_core.domain.records import (
    CampaignSummary,
    CrmCampaign,
    MemberRecord,
    PersonKind,
    TrackingEvent,
    WriteResult,
)
from cmsf_core.shell.sync import SyncAbortedError, SyncReport, delete_records_by_hand, run_sync

CLIENT = "client-acme"
OTHER_CLIENT = "client-acme-sydney"

#: "Auto create Salesforce campaigns" was switched on at this instant.
ENABLED_AT = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
#: The May newsletter went out a few days later.
SENT_AT = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)

ANN = "ann@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
RECIPIENTS = (ANN, BOB, CAROL)
OFFER = "https://example.com/may-offer"


# ----------------------------------------------------------------------------- helpers


def minutes(n: int) -> datetime:
    """An instant ``n`` minutes after the newsletter was sent."""
    return SENT_AT + timedelta(minutes=n)


def account(*clients: str) -> InMemoryPlatform:
    """A Campaign Monitor account with these clients (an agency has several)."""
    platform = InMemoryPlatform()
    for client_id in clients or (CLIENT,):
        platform.add_client(client_id, client_id.replace("-", " ").title())
    return platform


def send(
    platform: InMemoryPlatform,
    campaign_id: str,
    *,
    client_id: str = CLIENT,
    sent_at: datetime = SENT_AT,
    tags: Iterable[str] = (),
    to: Iterable[str] = RECIPIENTS,
) -> None:
    """A sent campaign and its recipients (the Sent stream)."""
    platform.add_campaign(client_id, campaign_id, campaign_id.title(), sent_at=sent_at, tags=tags)
    for email in to:
        platform.add_event(campaign_id, ActivityType.SENT, email, sent_at)


def engage(platform: InMemoryPlatform, campaign_id: str, sent_at: datetime = SENT_AT) -> None:
    """Ann opens then clicks, Bob opens, Carol does nothing."""
    platform.add_event(campaign_id, ActivityType.OPENED, ANN, sent_at + timedelta(minutes=30))
    platform.add_event(
        campaign_id, ActivityType.CLICKED, ANN, sent_at + timedelta(minutes=31), detail=OFFER
    )
    platform.add_event(campaign_id, ActivityType.OPENED, BOB, sent_at + timedelta(minutes=45))


def newsletter(campaign_id: str = "cmp-may", **kwargs: Any) -> InMemoryPlatform:
    """One client, one campaign sent to Ann, Bob and Carol, with their engagement."""
    platform = account()
    send(platform, campaign_id, **kwargs)
    engage(platform, campaign_id, kwargs.get("sent_at", SENT_AT))
    return platform


def linked_crm(campaign_id: str = "cmp-may", *statuses: str) -> InMemoryCrm:
    """A CRM with a campaign created by hand and linked to the platform campaign."""
    crm = InMemoryCrm()
    crm.add_campaign(
        "701-may", "May newsletter", statuses=statuses or ("Sent", "Opened", "Clicked")
    )
    crm.link(CLIENT, campaign_id, "701-may")
    return crm


def auto_create(**changes: Any) -> Settings:
    """The product's settings with "Auto create Salesforce campaigns" on since ENABLED_AT."""
    return Settings(auto_create_campaigns=True, auto_create_campaigns_since=ENABLED_AT, **changes)


def sync(
    crm: InMemoryCrm,
    platform: InMemoryPlatform,
    settings: Settings,
    at: datetime,
    **kwargs: Any,
) -> SyncReport:
    """The primary sync at ``at``."""
    return run_sync(crm, platform, settings, as_of=at, **kwargs)


def member(crm: InMemoryCrm, campaign_id: str, email: str) -> MemberRecord:
    """The campaign member of that platform campaign and email (it must exist)."""
    found = crm.member(campaign_id, email)
    assert found is not None, f"no member {email} in {campaign_id}"
    return found


def statuses(crm: InMemoryCrm, campaign_id: str) -> dict[str, str | None]:
    """Each member's Status by email."""
    return {
        m.email: m.member.status for m in crm.all_members() if m.member.campaign_id == campaign_id
    }


def state(crm: InMemoryCrm, clients: Iterable[str] = (CLIENT,)) -> dict[str, object]:
    """Everything the sync changes in the CRM, comparable between two CRMs."""
    return {
        "records": {r.key: r for r in crm.all_records()},
        "members": {m.ref: m for m in crm.all_members()},
        "campaigns": dict(crm.campaigns()),
        "links": dict(crm.links()),
        "platform campaigns": dict(crm.platform_campaigns()),
        "checkpoints": [crm.checkpoint(c) for c in clients],
    }


# ----------------------------------------------------------------------------- auto create


def test_auto_create_links_a_crm_campaign_to_a_campaign_sent_after_enabling() -> None:
    """The May newsletter, sent after the setting was enabled, gets a linked CRM campaign."""
    crm = InMemoryCrm()
    settings = Settings.from_mapping(
        {"Auto_Create_Campaigns": "Active", "Auto_Create_Campaigns_Since": ENABLED_AT.isoformat()}
    )

    platform = newsletter("cmp-may")

    sync(crm, platform, settings, minutes(60))

    created = crm.campaigns()[auto_campaign_id("cmp-may")]
    assert created.name == platform.sent_campaigns(CLIENT)[0].name
    assert created.created_by_integration
    assert crm.links()["cmp-may"].crm_campaign_id == created.campaign_id


def test_auto_create_is_not_retrospective() -> None:
    """A campaign sent before the setting was enabled gets no CRM campaign, but its
    tracking records are still imported."""
    platform = newsletter("cmp-may")
    send(platform, "cmp-april", sent_at=ENABLED_AT - timedelta(days=20), to=[ANN])
    crm = InMemoryCrm()

    sync(crm, platform, auto_create(), minutes(60))

    assert set(crm.campaigns()) == {auto_campaign_id("cmp-may")}
    assert set(crm.links()) == {"cmp-may"}
    assert [r.campaign_id for r in crm.all_records()].count("cmp-april") == 1
    assert crm.member("cmp-april", ANN) is None


def test_auto_created_campaign_gets_a_member_for_every_recipient() -> None:
    """Members are created from the campaign's recipients, engaged or not."""
    crm = InMemoryCrm()

    sync(crm, newsletter("cmp-may"), auto_create(), minutes(60))

    assert set(statuses(crm, "cmp-may")) == set(RECIPIENTS)
    assert {m.crm_campaign_id for m in crm.all_members()} == {auto_campaign_id("cmp-may")}


def test_member_status_is_set_from_the_status_mapping_with_rollups() -> None:
    """Ann clicked, Bob opened, Carol was only sent the email: Clicked, Opened, Sent."""
    crm = InMemoryCrm()

    sync(crm, newsletter("cmp-may"), auto_create(), minutes(60))

    assert statuses(crm, "cmp-may") == {ANN: "Clicked", BOB: "Opened", CAROL: "Sent"}
    ann = member(crm, "cmp-may", ANN).member
    assert ann.engagement == Engagement(sent=1, opens=1, clicks=1)
    assert (ann.activity, ann.activity_date) == (ActivityType.CLICKED, minutes(31))


def test_auto_created_campaign_has_the_mapped_statuses_with_sent_as_default() -> None:
    """The new CRM campaign's status set is the mapped labels; responded ones flagged."""
    crm = InMemoryCrm()

    sync(crm, newsletter("cmp-may"), auto_create(), minutes(60))

    campaign = crm.campaigns()[auto_campaign_id("cmp-may")]
    assert [s.label for s in campaign.statuses] == [
        "Sent",
        "Opened",
        "Clicked",
        "Bounced",
        "Unsubscribed",
        "Marked as Spam",
    ]
    assert campaign.default_status == "Sent"
    assert {s.label for s in campaign.statuses if s.has_responded} == {"Opened", "Clicked"}


def test_members_are_created_from_recipients_even_when_sent_records_are_not_imported() -> None:
    """Sent deselected from the imported types: no Sent records, but every recipient of
    the auto-created campaign still becomes a member."""
    crm = InMemoryCrm()
    settings = auto_create(imported_types=set(ActivityType) - {ActivityType.SENT})

    sync(crm, newsletter("cmp-may"), settings, minutes(60))

    assert set(statuses(crm, "cmp-may")) == set(RECIPIENTS)
    assert ActivityType.SENT not in {r.type for r in crm.all_records()}
    assert member(crm, "cmp-may", CAROL).member.engagement == Engagement()


def test_without_auto_create_no_crm_campaign_is_created_and_tracking_still_flows() -> None:
    """Salesforce campaigns are optional: tracking history is imported without them."""
    crm = InMemoryCrm()

    sync(crm, newsletter("cmp-may"), Settings(), minutes(60))

    assert crm.campaigns() == {}
    assert crm.all_members() == ()
    assert crm.record_count() == 6


# ----------------------------------------------------------------------------- statuses


def registered_settings(**changes: Any) -> Settings:
    """Clicked mapped to "Registered", which counts as a response."""
    return Settings.from_mapping(
        {
            "Status_Mapping": {"Clicked": "Registered"},
            "Responded_Statuses": ["Opened", "Registered"],
            **changes,
        }
    )


def test_auto_create_missing_statuses_adds_registered_with_its_responded_flag() -> None:
    """Clicked is mapped to "Registered": the linked campaign gains "Registered", flagged
    as responded, sorted after the statuses it had, and Ann's Status is "Registered"."""
    crm = linked_crm("cmp-may", "Sent", "Responded")
    before = crm.campaigns()["701-may"].statuses
    settings = registered_settings(Auto_Create_Missing_Statuses=True)

    sync(crm, newsletter("cmp-may"), settings, minutes(60))

    campaign = crm.campaigns()["701-may"]
    registered = next(s for s in campaign.statuses if s.label == "Registered")
    assert registered.has_responded
    assert registered.sort_order > max(s.sort_order for s in before)
    assert campaign.statuses[: len(before)] == before
    assert member(crm, "cmp-may", ANN).member.status == "Registered"


def test_auto_create_missing_statuses_keeps_the_default_status() -> None:
    """The campaign's default status stays its only default; new members start from it."""
    crm = linked_crm("cmp-may", "Invited", "Sent", "Responded")
    settings = Settings.from_mapping(
        {
            "Status_Mapping": {"Sent": None, "Clicked": "Registered"},
            "Auto_Create_Missing_Statuses": True,
        }
    )

    sync(crm, newsletter("cmp-may"), settings, minutes(60))

    campaign = crm.campaigns()["701-may"]
    assert [s.label for s in campaign.statuses if s.is_default] == ["Invited"]
    assert member(crm, "cmp-may", CAROL).member.status == "Invited"


def test_auto_create_missing_statuses_never_adds_a_label_twice() -> None:
    """A second sync finds every mapped status present and adds nothing."""
    crm = linked_crm("cmp-may", "Sent", "Responded")
    platform = newsletter("cmp-may")
    settings = registered_settings(Auto_Create_Missing_Statuses=True)
    sync(crm, platform, settings, minutes(60))
    after_first = crm.campaigns()["701-may"].statuses

    report = sync(crm, platform, settings, minutes(120))

    assert report.plan.statuses_to_add == ()
    assert crm.campaigns()["701-may"].statuses == after_first


def test_an_unknown_status_is_refused_until_auto_create_missing_statuses_adds_it() -> None:
    """Without the setting the CRM refuses Status "Registered" (restricted picklist): Ann is
    reported and the rest goes on; once the setting is on, the next sync saves her."""
    crm = linked_crm("cmp-may", "Sent", "Opened", "Clicked")
    platform = newsletter("cmp-may")

    report = sync(crm, platform, registered_settings(), minutes(60))

    assert [(r.kind, ANN in r.record) for r in report.plan.refusals] == [
        (RefusalKind.SAVE_MEMBER, True)
    ]
    assert "Registered" in report.plan.refusals[0].reason
    assert crm.member("cmp-may", ANN) is None
    assert [m.code for m in crm.messages()] == ["SYNC-SAVE-MEMBER"]
    assert statuses(crm, "cmp-may") == {BOB: "Opened", CAROL: "Sent"}
    assert crm.record_count() == 6

    later = sync(
        crm, platform, registered_settings(Auto_Create_Missing_Statuses=True), minutes(120)
    )

    assert later.ok
    assert member(crm, "cmp-may", ANN).member.status == "Registered"


# ----------------------------------------------------------------------------- campaign filter


def test_campaign_filter_start_date_imports_campaigns_sent_on_or_after_it() -> None:
    """Campaigns sent before the filter's start date are skipped entirely."""
    platform = account()
    start = SENT_AT - timedelta(days=7)
    send(platform, "cmp-old", sent_at=start - timedelta(minutes=1), to=[ANN])
    send(platform, "cmp-on-start", sent_at=start, to=[ANN])
    send(platform, "cmp-may", to=[ANN])
    crm = InMemoryCrm()

    sync(crm, platform, Settings(campaign_filter_start=start), minutes(60))

    assert {r.campaign_id for r in crm.all_records()} == {"cmp-on-start", "cmp-may"}
    assert set(crm.platform_campaigns()) == {"cmp-on-start", "cmp-may"}


def test_campaign_filter_tags_imports_campaigns_with_any_of_the_tags() -> None:
    """With tags selected, a campaign is imported when it has at least one of them."""
    platform = account()
    send(platform, "cmp-news", tags=["newsletter"], to=[ANN])
    send(platform, "cmp-webinar", tags=["webinar", "promo"], to=[ANN])
    send(platform, "cmp-promo", tags=["promo"], to=[ANN])
    send(platform, "cmp-untagged", to=[ANN])
    crm = InMemoryCrm()
    settings = Settings.from_mapping({"Campaign_Filter_Tags": "newsletter, webinar"})

    sync(crm, platform, settings, minutes(60))

    assert {r.campaign_id for r in crm.all_records()} == {"cmp-news", "cmp-webinar"}


def test_campaign_filter_applies_to_auto_created_campaigns() -> None:
    """A filtered-out campaign gets no CRM campaign even when auto-create is on."""
    platform = account()
    send(platform, "cmp-news", tags=["newsletter"])
    send(platform, "cmp-promo", tags=["promo"])
    crm = InMemoryCrm()

    sync(crm, platform, auto_create(campaign_filter_tags={"newsletter"}), minutes(60))

    assert set(crm.links()) == {"cmp-news"}


# ----------------------------------------------------------------------------- statistics


def test_campaign_statistics_are_copied_to_the_linked_campaign_when_the_setting_is_on() -> None:
    """The linked CRM campaign carries the platform's summary (recipients, opens, ...)."""
    crm = linked_crm("cmp-may")
    platform = newsletter("cmp-may")

    sync(crm, platform, Settings(update_campaign_statistics=True), minutes(60))

    statistics = crm.campaigns()["701-may"].statistics
    assert statistics == platform.campaign_summary("cmp-may")
    assert statistics is not None
    assert (statistics.recipients, statistics.total_opened, statistics.clicks) == (3, 2, 1)


def test_campaign_statistics_follow_the_platform_at_each_sync() -> None:
    """A later sync copies the summary again when the platform's numbers moved."""
    crm = linked_crm("cmp-may")
    platform = newsletter("cmp-may")
    settings = Settings(update_campaign_statistics=True)
    sync(crm, platform, settings, minutes(60))
    newer = CampaignSummary(recipients=3, total_opened=9, unique_opened=3, clicks=4, forwards=2)
    platform.set_summary("cmp-may", newer)

    sync(crm, platform, settings, minutes(120))

    assert crm.campaigns()["701-may"].statistics == newer


def test_campaign_statistics_are_left_alone_when_the_setting_is_off() -> None:
    """Without "Update Salesforce campaign statistics" the CRM campaign has none."""
    crm = linked_crm("cmp-may")

    sync(crm, newsletter("cmp-may"), Settings(), minutes(60))

    assert crm.campaigns()["701-may"].statistics is None


# ----------------------------------------------------------------------------- matching


def test_a_member_is_matched_to_the_contact_with_its_email_whatever_the_case() -> None:
    """Ann's contact is stored as "Ann@Example.com": her member is linked to it."""
    crm = linked_crm("cmp-may")
    contact = crm.add_person("Ann@Example.com", person_id="003-ann")

    sync(crm, newsletter("cmp-may"), Settings(), minutes(60))

    assert member(crm, "cmp-may", ANN).person_id == contact.person_id


def test_several_people_with_one_email_match_the_most_recently_modified() -> None:
    """An old contact, a newer lead and an older lead share Ann's email: the newest wins."""
    crm = linked_crm("cmp-may")
    crm.add_person(ANN, person_id="003-old", last_modified=SENT_AT - timedelta(days=30))
    crm.add_person(
        ANN, person_id="00Q-new", kind=PersonKind.LEAD, last_modified=SENT_AT - timedelta(days=1)
    )
    crm.add_person(
        ANN, person_id="00Q-older", kind=PersonKind.LEAD, last_modified=SENT_AT - timedelta(days=9)
    )

    sync(crm, newsletter("cmp-may"), Settings(), minutes(60))

    assert member(crm, "cmp-may", ANN).person_id == "00Q-new"


def test_a_member_without_a_contact_or_lead_is_kept_and_matched_at_a_later_sync() -> None:
    """Carol has no contact yet: her member is kept unmatched, and the first sync after
    her contact is created links it, with no new tracking events needed."""
    crm = linked_crm("cmp-may")
    crm.add_person(ANN, person_id="003-ann")
    platform = newsletter("cmp-may")
    sync(crm, platform, Settings(), minutes(60))
    before = member(crm, "cmp-may", CAROL)
    assert before.person_id is None
    assert {m.email for m in crm.unmatched_members()} == {BOB, CAROL}

    platform.add_event("cmp-may", ActivityType.OPENED, ANN, minutes(300))
    sync(crm, platform, Settings(), minutes(400))  # Carol's events now fall before the window
    crm.add_person(CAROL, person_id="003-carol", last_modified=minutes(90))
    sync(crm, platform, Settings(), minutes(24 * 60))

    carol = member(crm, "cmp-may", CAROL)
    assert carol.person_id == "003-carol"
    assert carol.member == before.member  # status, activity and rollups kept
    assert carol.member.engagement.sent == 1
    assert CAROL not in {m.email for m in crm.unmatched_members()}


def test_resyncing_never_creates_a_duplicate_member_or_record() -> None:
    """Overlapping re-reads, an email in another case and repeated syncs: one member per
    campaign and email, one record per platform event."""
    crm = linked_crm("cmp-may")
    platform = newsletter("cmp-may")
    sync(crm, platform, Settings(), minutes(60))
    platform.add_event("cmp-may", ActivityType.OPENED, "ANN@Example.COM", minutes(70))

    for hour in (2, 3, 3):
        sync(crm, platform, Settings(), minutes(hour * 60))

    assert sorted(m.email for m in crm.all_members()) == sorted(RECIPIENTS)
    assert crm.record_count() == len(platform.all_events("cmp-may"))
    assert member(crm, "cmp-may", ANN).member.engagement.opens == 2


# ----------------------------------------------------------------------------- agency clients


def test_each_client_of_an_agency_keeps_its_own_watermark() -> None:
    """Two clients sync side by side; each watermark is its own latest event."""
    platform = account(CLIENT, OTHER_CLIENT)
    send(platform, "cmp-london", client_id=CLIENT)
    send(platform, "cmp-sydney", client_id=OTHER_CLIENT, sent_at=minutes(600))
    crm = InMemoryCrm()

    sync(crm, platform, Settings(), minutes(24 * 60))

    assert crm.checkpoint(CLIENT).watermark == SENT_AT
    assert crm.checkpoint(OTHER_CLIENT).watermark == minutes(600)
    assert {r.client_id for r in crm.all_records()} == {CLIENT, OTHER_CLIENT}


def test_a_client_with_nothing_new_keeps_its_watermark_while_another_advances() -> None:
    """New events for one client move only that client's watermark."""
    platform = account(CLIENT, OTHER_CLIENT)
    send(platform, "cmp-london", client_id=CLIENT)
    send(platform, "cmp-sydney", client_id=OTHER_CLIENT)
    crm = InMemoryCrm()
    sync(crm, platform, Settings(), minutes(60))
    platform.add_event("cmp-sydney", ActivityType.OPENED, ANN, minutes(300))

    sync(crm, platform, Settings(), minutes(360))

    assert crm.checkpoint(CLIENT).watermark == SENT_AT
    assert crm.checkpoint(OTHER_CLIENT).watermark == minutes(300)


def test_a_client_added_later_imports_its_history_despite_the_others_watermark() -> None:
    """A client selected after months of syncing reads from the start of its history."""
    platform = account(CLIENT)
    send(platform, "cmp-london", client_id=CLIENT, sent_at=minutes(10_000))
    crm = InMemoryCrm()
    sync(crm, platform, Settings(), minutes(10_060))
    platform.add_client(OTHER_CLIENT, "Sydney")
    send(platform, "cmp-sydney", client_id=OTHER_CLIENT)

    sync(crm, platform, Settings(), minutes(10_120))

    assert sum(r.client_id == OTHER_CLIENT for r in crm.all_records()) == len(RECIPIENTS)
    assert crm.checkpoint(OTHER_CLIENT).watermark == SENT_AT


# ----------------------------------------------------------------------------- dry run


def test_a_dry_run_plans_every_change_but_writes_nothing() -> None:
    """A dry run reports what the sync would do; the CRM is exactly as before."""
    crm = linked_crm("cmp-may")
    platform = newsletter("cmp-may")
    settings = Settings(update_campaign_statistics=True, auto_create_statuses=True)
    before = state(crm)

    report = sync(crm, platform, settings, minutes(60), dry_run=True)

    assert not report.applied
    assert len(report.plan.records_to_insert) == 6
    assert len(report.plan.members_to_save) == 3
    assert state(crm) == before
    assert sync(crm, platform, settings, minutes(60)).plan == report.plan


# ----------------------------------------------------------------------------- refusals


def refuse_bobs_click(kind: str, item: object) -> str | None:
    """The CRM's validation rule refusing Bob's click record."""
    if (
        kind == "record"
        and isinstance(item, Activity)
        and (item.member_id, item.type) == (BOB, ActivityType.CLICKED)
    ):
        return "FIELD_CUSTOM_VALIDATION_EXCEPTION: clicks from this domain are blocked"
    return None


def bob_clicks(platform: InMemoryPlatform) -> None:
    """Bob clicks at minute 50; Carol opens hours later, far past the re-read overlap."""
    platform.add_event("cmp-may", ActivityType.CLICKED, BOB, minutes(50), detail=OFFER)
    platform.add_event("cmp-may", ActivityType.OPENED, CAROL, minutes(300))


def test_a_refused_record_is_reported_and_the_rest_of_the_sync_goes_on() -> None:
    """Bob's click is refused: it becomes a maintenance message; every other record and
    member is written."""
    crm = linked_crm("cmp-may")
    crm.refuse = refuse_bobs_click
    platform = newsletter("cmp-may")
    bob_clicks(platform)

    report = sync(crm, platform, Settings(), minutes(360))

    assert report.applied
    assert not report.ok
    [refusal] = report.plan.refusals
    assert refusal.kind is RefusalKind.INSERT_RECORD
    assert refusal.reason.startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION")
    assert refusal.client_id == CLIENT
    assert crm.record_count() == len(platform.all_events("cmp-may")) - 1
    [message] = crm.messages()
    assert message.code == "SYNC-INSERT-RECORD"
    assert message.severity is Severity.ERROR
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in message.guidance
    assert "retried at the next sync" in message.guidance
    assert statuses(crm, "cmp-may") == {ANN: "Clicked", BOB: "Opened", CAROL: "Opened"}
    assert crm.checkpoint(CLIENT).watermark == minutes(50)
    assert "refused" in report.summary()


def test_a_refused_record_is_imported_at_the_next_sync_once_the_crm_accepts_it() -> None:
    """The refusal held the watermark at Bob's click: once the validation rule is fixed,
    the next sync re-reads it, imports it and sets his Status."""
    crm = linked_crm("cmp-may")
    crm.refuse = refuse_bobs_click
    platform = newsletter("cmp-may")
    bob_clicks(platform)
    sync(crm, platform, Settings(), minutes(360))

    crm.refuse = None
    report = sync(crm, platform, Settings(), minutes(24 * 60))

    assert report.ok
    assert crm.record_count() == len(platform.all_events("cmp-may"))
    bob = member(crm, "cmp-may", BOB).member
    assert (bob.status, bob.engagement.clicks) == ("Clicked", 1)


# ----------------------------------------------------------------------------- crash recovery


def crash_scenario(mode: RefreshMode) -> tuple[InMemoryPlatform, Settings, list[datetime]]:
    """Two syncs: the first imports the send and the opens; the second, a week later,
    imports new clicks and purges the first week's records (7 days kept)."""
    platform = newsletter("cmp-may")
    platform.add_event("cmp-may", ActivityType.CLICKED, BOB, minutes(8 * 24 * 60), detail=OFFER)
    platform.add_event("cmp-may", ActivityType.OPENED, CAROL, minutes(8 * 24 * 60 + 5))
    settings = auto_create(refresh_mode=mode, days_to_keep=7, update_campaign_statistics=True)
    return platform, settings, [minutes(60), minutes(8 * 24 * 60 + 60)]


@pytest.mark.parametrize("mode", list(RefreshMode), ids=lambda m: m.value)
def test_a_crash_at_any_write_then_a_normal_sync_reaches_the_uninterrupted_state(
    mode: RefreshMode,
) -> None:
    """Whichever write the second sync crashes at, a normal sync afterwards ends in the
    state the uninterrupted syncs reach: nothing lost, nothing doubled."""
    platform, settings, (first, second) = crash_scenario(mode)
    expected = InMemoryCrm()
    sync(expected, platform, settings, first)
    writes_before = expected.writes.total()
    sync(expected, platform, settings, second)
    writes = expected.writes.total() - writes_before
    assert writes > 10

    for crash_after in range(writes):
        crm = InMemoryCrm()
        sync(crm, platform, settings, first)
        crm.fail_after = crash_after
        with pytest.raises(SimulatedCrashError):
            sync(crm, platform, settings, second)
        crm.fail_after = None

        sync(crm, platform, settings, second)

        assert state(crm) == state(expected), f"crash after {crash_after} writes"


# ----------------------------------------------------------------------------- full sync


def full_sync_scenario() -> tuple[InMemoryPlatform, list[tuple[datetime, list[TrackingEvent]]]]:
    """Two campaigns whose events arrive over four days; 2 days kept."""
    platform = account()
    send(platform, "cmp-may", to=[])
    send(platform, "cmp-june", sent_at=minutes(24 * 60), to=[])
    day = 24 * 60
    arrivals = [
        (minutes(0), [TrackingEvent("Sent", e, minutes(0)) for e in RECIPIENTS]),
        (
            minutes(300),
            [
                TrackingEvent("Opened", ANN, minutes(30)),
                TrackingEvent("Clicked", ANN, minutes(31), detail=OFFER),
                TrackingEvent("Clicked", ANN, minutes(31), detail=OFFER),
            ],
        ),
        (minutes(day), [TrackingEvent("Opened", BOB, minutes(day - 10))]),
        (minutes(2 * day + 60), [TrackingEvent("Bounced", CAROL, minutes(2 * day), detail="Hard")]),
    ]
    return platform, arrivals


def test_a_full_sync_reaches_the_state_of_the_incremental_syncs() -> None:
    """Incremental syncs as events arrive (with retention purging the oldest) end where
    one full sync of the same platform data ends."""
    platform, arrivals = full_sync_scenario()
    settings = auto_create(days_to_keep=2)
    incremental = InMemoryCrm()
    for at, events in arrivals:
        platform.add_events("cmp-may", events)
        sync(incremental, platform, settings, at + timedelta(minutes=30))
    as_of = minutes(3 * 24 * 60)
    sync(incremental, platform, settings, as_of)

    full = InMemoryCrm()
    sync(full, platform, settings, as_of, full=True)

    assert state(full) == state(incremental)


@pytest.mark.parametrize("mode", list(RefreshMode), ids=lambda m: m.value)
def test_a_full_sync_after_incremental_syncs_changes_nothing(mode: RefreshMode) -> None:
    """When the CRM already matches the platform, a full sync finds nothing to change."""
    platform, arrivals = full_sync_scenario()
    settings = auto_create(refresh_mode=mode, days_to_keep=2)
    crm = InMemoryCrm()
    for at, events in arrivals:
        platform.add_events("cmp-may", events)
        sync(crm, platform, settings, at + timedelta(minutes=30))
    as_of = minutes(3 * 24 * 60)
    sync(crm, platform, settings, as_of)
    before = state(crm)

    report = sync(crm, platform, settings, as_of, full=True)

    assert report.plan.records_to_insert == report.plan.records_to_delete == ()
    assert report.plan.members_to_save == ()
    assert state(crm) == before


def test_a_full_sync_removes_only_what_the_integration_loaded() -> None:
    """After "Opened" is deselected, a full sync removes the stored opens; contacts, leads
    and the CRM's own campaigns stay."""
    crm = linked_crm("cmp-may")
    crm.add_campaign("701-events", "Trade show", statuses=("Invited", "Attended"))
    ann = crm.add_person(ANN, person_id="003-ann")
    platform = newsletter("cmp-may")
    sync(crm, platform, Settings(), minutes(60))
    own_campaign = crm.campaigns()["701-events"]
    no_opens = Settings(imported_types=set(ActivityType) - {ActivityType.OPENED})

    sync(crm, platform, no_opens, minutes(120), full=True)

    assert {r.type for r in crm.all_records()} == {ActivityType.SENT, ActivityType.CLICKED}
    assert crm.find_people([ANN])[ANN] == (ann,)
    assert crm.campaigns()["701-events"] == own_campaign
    assert member(crm, "cmp-may", BOB).member.engagement == Engagement(sent=1)


# ----------------------------------------------------------------------------- FAQ


def faq_crm(mode: RefreshMode) -> tuple[InMemoryCrm, Settings]:
    """Ann was sent the newsletter, opened it and clicked: Status "Clicked", Clicks = 1."""
    settings = auto_create(refresh_mode=mode)
    crm = InMemoryCrm()
    sync(crm, newsletter("cmp-may"), settings, minutes(60))
    ann = member(crm, "cmp-may", ANN).member
    assert (ann.status, ann.engagement.clicks) == ("Clicked", 1)
    return crm, settings


def clicks_of(crm: InMemoryCrm, email: str) -> list[ActivityKey]:
    """The keys of the click records stored for ``email``."""
    return [
        r.key for r in crm.all_records() if r.member_id == email and r.type is ActivityType.CLICKED
    ]


def test_deleting_a_click_by_hand_under_once_only_leaves_clicked_with_zero_clicks() -> None:
    """The FAQ: under Update Once the Status stays "Clicked" while Clicks drops to 0."""
    crm, settings = faq_crm(RefreshMode.ONCE_ONLY)

    delete_records_by_hand(crm, clicks_of(crm, ANN), settings)

    ann = member(crm, "cmp-may", ANN).member
    assert (ann.status, ann.engagement.clicks, ann.engagement.opens) == ("Clicked", 0, 1)


def test_deleting_a_click_by_hand_under_always_recalculates_the_status() -> None:
    """The FAQ's remedy: under Always Update the Status follows what remains (Opened)."""
    crm, settings = faq_crm(RefreshMode.ALWAYS)

    delete_records_by_hand(crm, clicks_of(crm, ANN), settings)

    ann = member(crm, "cmp-may", ANN).member
    assert (ann.status, ann.engagement.clicks, ann.activity) == (
        "Opened",
        0,
        ActivityType.OPENED,
    )


def test_retention_purge_keeps_clicked_under_once_only_and_recalculates_under_always() -> None:
    """The FAQ through the sync: DaysToKeep_Email = 7 purges Ann's records a week later;
    Update Once keeps "Clicked" with Clicks = 0, Always Update falls back to "Sent"."""
    week_later = minutes(8 * 24 * 60)
    results = {}
    for mode in (RefreshMode.ONCE_ONLY, RefreshMode.ALWAYS):
        crm, settings = faq_crm(mode)
        platform = newsletter("cmp-may")
        sync(crm, platform, attrs.evolve(settings, days_to_keep=7), week_later)
        ann = member(crm, "cmp-may", ANN).member
        results[mode] = (ann.status, ann.engagement.clicks)

    assert results == {RefreshMode.ONCE_ONLY: ("Clicked", 0), RefreshMode.ALWAYS: ("Sent", 0)}


def test_deleting_by_hand_changes_only_the_members_of_the_deleted_records() -> None:
    """Deleting by hand changes members only, never the CRM campaign or other members."""
    crm, settings = faq_crm(RefreshMode.ONCE_ONLY)
    campaigns: dict[str, CrmCampaign] = dict(crm.campaigns())
    bob = member(crm, "cmp-may", BOB)

    delete_records_by_hand(crm, clicks_of(crm, ANN), settings)

    assert dict(crm.campaigns()) == campaigns
    assert member(crm, "cmp-may", BOB) == bob


# ----------------------------------------------------------------------------- checkpoints


class CrmThatRefusesCheckpoints(InMemoryCrm):
    """A CRM that refuses the sync's journal, or its final checkpoint, as an org can."""

    def __init__(self, *, refuse_journal: bool) -> None:
        super().__init__()
        self.refuse_journal = refuse_journal
        self.refusing = True

    def save_checkpoints(self, checkpoints: Any) -> WriteResult:
        """Refuse the first (journal) or the last (advanced watermark) save while refusing."""
        checkpoints = tuple(checkpoints)
        journal = all(c.pending for c in checkpoints) and any(c.pending for c in checkpoints)
        if self.refusing and checkpoints and journal == self.refuse_journal:
            return WriteResult(0, tuple((c.client_id, "UNABLE_TO_LOCK_ROW") for c in checkpoints))
        return super().save_checkpoints(checkpoints)


def test_a_refused_final_checkpoint_is_reported_and_the_next_sync_converges() -> None:
    """The data is applied, the watermark stays, the report is not ok; the next sync
    re-reads the window and imports nothing twice."""
    crm = CrmThatRefusesCheckpoints(refuse_journal=False)
    platform = newsletter()
    report = sync(crm, platform, auto_create(), minutes(60))
    assert report.applied
    assert not report.ok
    assert [m.code for m in report.unsaved_checkpoints] == ["SYNC-CHECKPOINT-REFUSED"]
    assert "not saved: client" in report.summary()
    assert "SYNC-CHECKPOINT-REFUSED" in {m.code for m in crm.messages()}
    assert crm.checkpoint(CLIENT).watermark is None
    assert statuses(crm, "cmp-may") == {ANN: "Clicked", BOB: "Opened", CAROL: "Sent"}
    crm.refusing = False
    again = sync(crm, platform, auto_create(), minutes(61))
    assert again.ok
    assert again.plan.records_to_insert == ()
    assert crm.checkpoint(CLIENT).watermark == minutes(45)
    assert crm.record_count() == 6


def test_a_refused_journal_stops_the_sync_before_anything_is_written() -> None:
    """Without its journal a crash could lose a refresh: the sync stops, nothing applied."""
    crm = CrmThatRefusesCheckpoints(refuse_journal=True)
    with pytest.raises(SyncAbortedError, match="refused to save the sync journal"):
        sync(crm, newsletter(), auto_create(), minutes(60))
    assert crm.record_count() == 0
    assert crm.all_members() == ()


# ----------------------------------------------------------------------------- full sync removal


def news_and_promo() -> tuple[InMemoryCrm, InMemoryPlatform]:
    """Two linked campaigns of one client, tagged "news" and "promo", synced once unfiltered."""
    platform = account()
    for campaign_id, tag in (("cmp-news", "news"), ("cmp-promo", "promo")):
        send(platform, campaign_id, tags=[tag])
        engage(platform, campaign_id)
    crm = InMemoryCrm()
    crm.add_campaign("701-news", "News", statuses=("Sent", "Opened", "Clicked"))
    crm.add_campaign("701-promo", "Promo", statuses=("Sent", "Opened", "Clicked"))
    crm.link(CLIENT, "cmp-news", "701-news")
    crm.link(CLIENT, "cmp-promo", "701-promo")
    sync(crm, platform, Settings(), minutes(60))
    assert set(crm.platform_campaigns()) == {"cmp-news", "cmp-promo"}
    return crm, platform


def test_a_full_sync_removes_the_copy_and_records_of_a_campaign_the_filter_now_leaves_out() -> None:
    """After the filter is narrowed to "news", a full sync removes the promo campaign's
    stored copy and tracking records; its link and CRM campaign (the user's) stay."""
    crm, platform = news_and_promo()
    news_only = Settings(campaign_filter_tags=frozenset({"news"}))

    report = sync(crm, platform, news_only, minutes(120), full=True)

    assert report.plan.platform_campaigns_to_delete == ("cmp-promo",)
    assert set(crm.platform_campaigns()) == {"cmp-news"}
    assert {r.campaign_id for r in crm.all_records()} == {"cmp-news"}
    assert set(crm.links()) == {"cmp-news", "cmp-promo"}
    assert set(crm.campaigns()) == {"701-news", "701-promo"}
    assert member(crm, "cmp-promo", ANN).member.engagement == Engagement()


def test_an_incremental_sync_leaves_the_copy_of_a_campaign_filtered_out() -> None:
    """Narrowing the filter stops new imports; only a full sync removes what was loaded."""
    crm, platform = news_and_promo()
    news_only = Settings(campaign_filter_tags=frozenset({"news"}))

    sync(crm, platform, news_only, minutes(120))

    assert set(crm.platform_campaigns()) == {"cmp-news", "cmp-promo"}
    assert {r.campaign_id for r in crm.all_records()} == {"cmp-news", "cmp-promo"}


def test_a_full_sync_removes_the_copy_of_a_campaign_deleted_on_the_platform() -> None:
    """A campaign the platform no longer reports loses its copy and records."""
    crm, platform = news_and_promo()
    platform.remove_campaign("cmp-promo")

    sync(crm, platform, Settings(), minutes(120), full=True)

    assert set(crm.platform_campaigns()) == {"cmp-news"}
    assert {r.campaign_id for r in crm.all_records()} == {"cmp-news"}


def test_a_full_sync_that_crashes_anywhere_is_finished_by_the_next_full_sync() -> None:
    """Whichever write the full sync crashes at, no record is left without its campaign's
    copy, and the next full sync ends in the uninterrupted state."""
    news_only = Settings(campaign_filter_tags=frozenset({"news"}))
    expected, platform = news_and_promo()
    writes_before = expected.writes.total()
    sync(expected, platform, news_only, minutes(120), full=True)
    writes = expected.writes.total() - writes_before
    assert writes > 3

    for crash_after in range(writes):
        crm, platform = news_and_promo()
        crm.fail_after = crash_after
        with pytest.raises(SimulatedCrashError):
            sync(crm, platform, news_only, minutes(120), full=True)
        crm.fail_after = None
        orphans = {r.campaign_id for r in crm.all_records()} - set(crm.platform_campaigns())
        assert not orphans, f"crash after {crash_after} writes"

        sync(crm, platform, news_only, minutes(120), full=True)

        assert state(crm) == state(expected), f"crash after {crash_after} writes"


def test_a_refused_copy_deletion_is_reported_and_retried_by_the_next_full_sync() -> None:
    """The CRM refuses to delete the promo copy: a maintenance message says so, the rest of
    the full sync is applied, and the next full sync deletes it."""
    crm, platform = news_and_promo()
    crm.refuse = lambda kind, _item: (
        "ENTITY_IS_LOCKED" if kind == "delete platform campaign" else None
    )
    news_only = Settings(campaign_filter_tags=frozenset({"news"}))

    sync(crm, platform, news_only, minutes(120), full=True)

    assert set(crm.platform_campaigns()) == {"cmp-news", "cmp-promo"}
    assert {r.campaign_id for r in crm.all_records()} == {"cmp-news"}
    [message] = crm.messages()
    assert message.code == "SYNC-DELETE-PLATFORM-CAMPAIGN"
    assert "ENTITY_IS_LOCKED" in message.guidance
    crm.refuse = None
    sync(crm, platform, news_only, minutes(180), full=True)
    assert set(crm.platform_campaigns()) == {"cmp-news"}


def suppressed_crm() -> tuple[InMemoryCrm, InMemoryPlatform]:
    """Ann hard-bounced: with "Sync suppression list" on, the CRM holds her record."""
    crm = linked_crm("cmp-may")
    platform = newsletter("cmp-may")
    platform.add_suppressed(CLIENT, ANN, "Bounced", minutes(10))
    sync(crm, platform, Settings(sync_suppression_list=True), minutes(60))
    assert [r.email for r in crm.suppression_records()] == [ANN]
    return crm, platform


def test_a_full_sync_with_the_suppression_list_off_removes_the_suppression_records() -> None:
    """Once the setting is off, a full sync removes the suppression records it loaded."""
    crm, platform = suppressed_crm()

    report = sync(crm, platform, Settings(), minutes(120), full=True)

    assert crm.suppression_records() == ()
    assert len(report.suppression_changes) == 1


def test_an_incremental_sync_with_the_suppression_list_off_keeps_the_records() -> None:
    """Switching the setting off stops the sync of the list; the records stay until a full
    sync."""
    crm, platform = suppressed_crm()

    sync(crm, platform, Settings(), minutes(120))

    assert [r.email for r in crm.suppression_records()] == [ANN]


def test_a_dry_full_sync_plans_the_removals_and_writes_nothing() -> None:
    """A dry run lists the copies and suppression records a full sync would remove."""
    crm, platform = news_and_promo()
    platform.add_suppressed(CLIENT, ANN, "Bounced", minutes(10))
    sync(crm, platform, Settings(sync_suppression_list=True), minutes(90))
    news_only = Settings(campaign_filter_tags=frozenset({"news"}))

    report = sync(crm, platform, news_only, minutes(120), full=True, dry_run=True)

    assert report.plan.platform_campaigns_to_delete == ("cmp-promo",)
    assert len(report.suppression_changes) == 1
    assert set(crm.platform_campaigns()) == {"cmp-news", "cmp-promo"}
    assert len(crm.suppression_records()) == 1
