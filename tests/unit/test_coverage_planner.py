"""The planner's details that a sync's outcome alone does not show: what an event record
carries, how a plan reads as text, the status sets it creates, what it counts as skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    CampaignSummary,
    CmsfError,
    Engagement,
    RefreshCause,
    Settings,
    StatusMapping,
)
from cmsf_core.domain.planner import (
    ClientRead,
    CrmView,
    Refusal,
    RefusalKind,
    Refusals,
    SyncPlan,
    event_records,
    plan_sync,
)
from cmsf_core.domain.records import (
    CampaignLink,
    Checkpoint,
    CrmCampaign,
    MemberRecord,
    MemberRef,
    MemberStatus,
    Person,
    PersonKind,
    PlatformCampaign,
    TrackingEvent,
)

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
LATER = AT + timedelta(hours=1)


def campaign(campaign_id: str = "cmp-1", *, tags: frozenset[str] = frozenset()) -> PlatformCampaign:
    """A platform campaign of client c1 sent at AT."""
    return PlatformCampaign("c1", campaign_id, campaign_id.upper(), AT, tags)


def read(*campaigns: PlatformCampaign, events: dict[str, tuple[TrackingEvent, ...]]) -> ClientRead:
    """What was read for client c1."""
    return ClientRead(Checkpoint("c1"), campaigns, events)


def test_an_event_record_carries_the_email_list_and_detail_of_its_event() -> None:
    """The casefolded email is both member id and email; list id and detail are kept."""
    click = TrackingEvent(
        ActivityType.CLICKED,
        " Ann@Example.com ",
        AT,
        list_id="list-1",
        detail="https://example.com/offer",
    )

    (record,) = event_records("c1", "cmp-1", [click])

    assert (record.client_id, record.campaign_id, record.member_id) == (
        "c1",
        "cmp-1",
        "ann@example.com",
    )
    assert (record.email, record.list_id, record.detail) == (
        "ann@example.com",
        "list-1",
        "https://example.com/offer",
    )
    assert (record.type, record.occurred_at, record.occurrence) == (ActivityType.CLICKED, AT, 0)


def test_clicks_on_two_links_in_one_minute_are_two_records_each_first_of_its_kind() -> None:
    """The clicked URL is part of the identity: no numbering between different links."""
    events = [
        TrackingEvent(ActivityType.CLICKED, "ann@example.com", AT, detail=url)
        for url in ("https://a.example", "https://b.example", "https://a.example")
    ]

    records = event_records("c1", "cmp-1", events)

    assert [(r.detail, r.occurrence) for r in records] == [
        ("https://a.example", 0),
        ("https://b.example", 0),
        ("https://a.example", 1),
    ]


def test_an_event_email_that_is_no_address_is_refused_naming_event_email() -> None:
    """The platform's row is checked where it becomes a record."""
    bad = TrackingEvent(ActivityType.OPENED, "ann.example.com", AT)

    with pytest.raises(CmsfError) as excinfo:
        event_records("c1", "cmp-1", [bad])

    assert str(excinfo.value) == (
        "'event.email' must be an email address like name@example.com (got 'ann.example.com')"
    )


def test_a_campaign_of_another_client_is_refused() -> None:
    """Every campaign of a ClientRead belongs to its client."""
    other = PlatformCampaign("c2", "cmp-9", "Other", AT)

    with pytest.raises(CmsfError) as excinfo:
        plan_sync([read(other, events={})], CrmView(), Settings(), as_of=LATER)

    assert str(excinfo.value) == "'campaigns' must be campaigns of client 'c1' (got 'c2')"


def test_a_campaign_without_events_read_plans_nothing_for_it() -> None:
    """A campaign missing from the events read counts as no events."""
    plan = plan_sync([read(campaign(), events={})], CrmView(), Settings(), as_of=LATER)

    assert plan.events_read == 0
    assert plan.records_to_insert == ()
    assert plan.platform_campaigns == (campaign(),)


def test_a_stored_copy_equal_to_the_platform_campaign_is_not_stored_again() -> None:
    """Platform campaigns are written only when new or changed."""
    view = CrmView(platform_campaigns={"cmp-1": campaign()})
    renamed = PlatformCampaign("c1", "cmp-1", "Renamed", AT)

    same = plan_sync([read(campaign(), events={})], view, Settings(), as_of=LATER)
    changed = plan_sync([read(renamed, events={})], view, Settings(), as_of=LATER)

    assert same.platform_campaigns == ()
    assert changed.platform_campaigns == (renamed,)


def test_each_filtered_out_campaign_is_counted_once() -> None:
    """Campaigns without any of the filter's tags are skipped and counted."""
    settings = Settings(campaign_filter_tags={"spring"})
    campaigns = (
        campaign("cmp-1"),
        campaign("cmp-2"),
        campaign("cmp-3", tags=frozenset({"spring"})),
    )

    plan = plan_sync([read(*campaigns, events={})], CrmView(), settings, as_of=LATER)

    assert plan.skipped == {"campaigns filtered out": 2}
    assert [c.campaign_id for c in plan.platform_campaigns] == ["cmp-3"]


def test_an_auto_created_campaign_gets_every_mapped_status_sent_by_default() -> None:
    """Statuses in type order, numbered from 1; Sent is the default; Opened and Clicked
    count as responded."""
    settings = Settings(auto_create_campaigns=True, auto_create_campaigns_since=AT)

    plan = plan_sync([read(campaign(), events={})], CrmView(), settings, as_of=LATER)

    (created,) = plan.campaigns_to_create
    assert created.statuses == (
        MemberStatus("Sent", is_default=True, sort_order=1),
        MemberStatus("Opened", has_responded=True, sort_order=2),
        MemberStatus("Clicked", has_responded=True, sort_order=3),
        MemberStatus("Bounced", sort_order=4),
        MemberStatus("Unsubscribed", sort_order=5),
        MemberStatus("Marked as Spam", sort_order=6),
    )


def test_without_a_sent_label_the_first_mapped_label_is_the_default() -> None:
    """When Sent sets no status, the auto-created campaign defaults to the first label."""
    settings = Settings(
        auto_create_campaigns=True,
        auto_create_campaigns_since=AT,
        status_mapping=StatusMapping({"Sent": None}),
    )

    plan = plan_sync([read(campaign(), events={})], CrmView(), settings, as_of=LATER)

    (created,) = plan.campaigns_to_create
    assert created.default_status == "Opened"
    assert [s.sort_order for s in created.statuses] == [1, 2, 3, 4, 5]


def test_missing_statuses_are_numbered_after_the_campaigns_own() -> None:
    """Auto-create missing statuses appends the mapped labels the campaign lacks."""
    crm_campaign = CrmCampaign(
        "sf-1",
        "Spring",
        (
            MemberStatus("Sent", is_default=True, sort_order=1),
            MemberStatus("Clicked", sort_order=7),
        ),
    )
    view = CrmView(
        campaigns={"sf-1": crm_campaign}, links={"cmp-1": CampaignLink("c1", "cmp-1", "sf-1")}
    )

    plan = plan_sync(
        [read(campaign(), events={})],
        view,
        Settings(auto_create_statuses=True),
        as_of=LATER,
    )

    assert [(crm_id, s.label, s.sort_order) for crm_id, s in plan.statuses_to_add] == [
        ("sf-1", "Opened", 8),
        ("sf-1", "Bounced", 9),
        ("sf-1", "Unsubscribed", 10),
        ("sf-1", "Marked as Spam", 11),
    ]


def test_a_plan_summary_lists_every_count_skips_and_watermarks() -> None:
    """The summary's exact lines: kind and time, counts, skips, one watermark per client."""
    plan = SyncPlan(
        as_of=AT,
        full=True,
        checkpoints=(Checkpoint("c1", None), Checkpoint("c2", AT)),
        skipped={"types not imported": 1, "events after as_of": 3},
    )

    assert plan.summary().split("\n") == [
        "full sync plan at 2024-05-01 09:30 UTC",
        "  events read                            0",
        "  records inserted                       0",
        "  records deleted                        0",
        "  of which purged by retention           0",
        "  members saved                          0",
        "  campaigns created                      0",
        "  links created                          0",
        "  statuses added                         0",
        "  campaign statistics updated            0",
        "  platform campaigns stored              0",
        "  platform campaigns deleted             0",
        "  refused writes                         0",
        "  skipped: events after as_of            3",
        "  skipped: types not imported            1",
        "  watermark c1                                  -",
        "  watermark c2                   2024-05-01 09:30",
    ]
    from cmsf_core.app.notebook import plan_html  # noqa: PLC0415 - the notebook view

    html = plan_html(plan)
    assert "<th>change</th><th>count</th>" in html
    assert "Full sync plan at 2024-05-01 09:30 UTC" in html


def test_a_refusal_becomes_an_error_message_with_its_support_code() -> None:
    """Code SYNC-<KIND>, severity Error, the record, and guidance naming the reason."""
    refusal = Refusal(
        RefusalKind.SAVE_MEMBER, "member m-1 of campaign cmp-1", "FIELD_CUSTOM_VALIDATION", "c1"
    )

    message = refusal.message(AT)

    assert (message.code, message.severity.value, message.record, message.occurred_at) == (
        "SYNC-SAVE-MEMBER",
        "Error",
        "member m-1 of campaign cmp-1",
        AT,
    )
    assert message.guidance == (
        "The CRM refused to save campaign member: FIELD_CUSTOM_VALIDATION. The rest of the "
        "sync went on; this record is retried at the next sync."
    )


# ----------------------------------------------------------------------------- rules in order

ANN = "ann@example.com"
REF = MemberRef("cmp-1", ANN)


def linked_view(**changes: Any) -> CrmView:
    """cmp-1 linked to CRM campaign sf-1 (statuses Sent, default, Opened, Clicked)."""
    crm_campaign = CrmCampaign(
        "sf-1",
        "Spring",
        (
            MemberStatus("Sent", is_default=True),
            MemberStatus("Opened"),
            MemberStatus("Clicked"),
        ),
    )
    view = CrmView(
        campaigns={"sf-1": crm_campaign}, links={"cmp-1": CampaignLink("c1", "cmp-1", "sf-1")}
    )
    return attrs.evolve(view, **changes)


def record(kind: ActivityType, at: datetime, email: str = ANN) -> Activity:
    """A stored record of cmp-1 (client c1)."""
    return Activity("cmp-1", email, kind, at, client_id="c1", email=email)


def member(status: str = "Sent", **changes: Any) -> MemberRecord:
    """Ann's stored member record in sf-1."""
    return MemberRecord("sf-1", CampaignMember("cmp-1", ANN, status=status, **changes), ANN)


def events(*rows: tuple[ActivityType, datetime]) -> ClientRead:
    """cmp-1 read with these events of Ann."""
    return read(campaign(), events={"cmp-1": tuple(TrackingEvent(t, ANN, at) for t, at in rows)})


def test_each_skipped_event_is_counted_and_the_next_one_still_read() -> None:
    """Events after as_of, of types not imported and older than retention are skipped one
    by one; a later good event in the same stream is still imported."""
    settings = Settings(imported_types={"Sent", "Clicked"}, days_to_keep=30)
    rows = (
        (ActivityType.SENT, LATER + timedelta(hours=1)),
        (ActivityType.SENT, LATER + timedelta(hours=2)),
        (ActivityType.OPENED, AT),
        (ActivityType.OPENED, AT),
        (ActivityType.CLICKED, AT - timedelta(days=31)),
        (ActivityType.CLICKED, AT - timedelta(days=32)),
        (ActivityType.CLICKED, AT),
    )

    plan = plan_sync([events(*rows)], linked_view(), settings, as_of=LATER)

    assert plan.skipped == {
        "events after as_of": 2,
        "types not imported": 2,
        "older than retention": 2,
    }
    assert [(a.type, a.occurred_at) for a in plan.records_to_insert] == [(ActivityType.CLICKED, AT)]
    assert plan.events_read == 7


def test_a_record_at_the_retention_cutoff_is_imported() -> None:
    """Nothing at or after the cutoff is dropped."""
    cutoff = LATER - timedelta(days=30)

    plan = plan_sync(
        [events((ActivityType.SENT, cutoff))], linked_view(), Settings(days_to_keep=30), as_of=LATER
    )

    assert plan.skipped == {}
    assert len(plan.records_to_insert) == 1


def test_a_stored_record_is_skipped_and_the_next_one_still_imported() -> None:
    """Records already stored are not inserted again; the rest of the stream goes on."""
    stored = record(ActivityType.SENT, AT)
    view = linked_view(existing_keys=frozenset({stored.key}))

    plan = plan_sync(
        [events((ActivityType.SENT, AT), (ActivityType.OPENED, AT + timedelta(minutes=1)))],
        view,
        Settings(),
        as_of=LATER,
    )

    assert [a.type for a in plan.records_to_insert] == [ActivityType.OPENED]


def test_a_refused_insert_is_reported_by_type_campaign_minute_and_occurrence() -> None:
    """The refusal names the record; the next record of the stream is still imported."""
    (first, second) = event_records(
        "c1",
        "cmp-1",
        [TrackingEvent(ActivityType.SENT, ANN, AT), TrackingEvent(ActivityType.OPENED, ANN, AT)],
    )

    plan = plan_sync(
        [events((ActivityType.SENT, AT), (ActivityType.OPENED, AT))],
        linked_view(),
        Settings(),
        as_of=LATER,
        refused=Refusals(inserts={first.key: "DUPLICATE_VALUE"}),
    )

    minute = int(AT.timestamp()) // 60
    assert [(r.kind, r.record, r.reason, r.client_id) for r in plan.refusals] == [
        (
            RefusalKind.INSERT_RECORD,
            f"Sent of campaign cmp-1 at minute {minute} #0",
            "DUPLICATE_VALUE",
            "c1",
        )
    ]
    assert plan.records_to_insert == (second,)


def test_a_refused_delete_names_the_record_and_its_client() -> None:
    """A delete the CRM refused is reported with the record's description and client."""
    old = record(ActivityType.SENT, AT - timedelta(days=400))

    plan = plan_sync(
        [read(campaign(), events={})],
        linked_view(expired=(old,)),
        Settings(),
        as_of=AT,
        refused=Refusals(deletes={old.key: "ENTITY_IS_LOCKED"}),
    )

    minute = int(old.occurred_at.timestamp()) // 60
    assert [(r.record, r.client_id) for r in plan.refusals] == [
        (f"Sent of campaign cmp-1 at minute {minute} #0", "c1")
    ]
    assert plan.purged == 0


def test_expired_records_are_purged_counted_and_their_member_journaled() -> None:
    """A purge of a linked campaign's records counts them and journals the member's
    refresh under its client, even when that campaign was not read this time."""
    old = record(ActivityType.OPENED, AT - timedelta(days=400))
    view = linked_view(
        expired=(old,),
        members={
            REF: member("Opened", activity=ActivityType.OPENED, activity_date=old.occurred_at)
        },
        stored={REF: (old,)},
    )

    plan = plan_sync([read(events={})], view, Settings(), as_of=AT)

    assert plan.records_to_delete == (old,)
    assert plan.purged == 1
    assert plan.counts()["of which purged by retention"] == 1
    assert [c.pending for c in plan.journal] == [frozenset({(REF, RefreshCause.DELETION)})]
    (saved,) = plan.members_to_save
    assert (saved.member.status, saved.member.activity) == ("Sent", None)


def test_a_full_sync_deletes_what_the_platform_no_longer_reports_but_not_as_purged() -> None:
    """Removed by a full sync is a delete, not a retention purge."""
    gone = record(ActivityType.CLICKED, AT - timedelta(days=1))
    view = linked_view(stored={REF: (gone,)}, members={REF: member("Sent")})

    plan = plan_sync([read(campaign(), events={})], view, Settings(), as_of=LATER, full=True)

    assert plan.full is True
    assert plan.records_to_delete == (gone,)
    assert plan.purged == 0


def test_a_full_sync_resets_a_status_the_remaining_records_do_not_support() -> None:
    """Full: every member of a read campaign is recomputed from scratch, so a Clicked set
    by a record the platform no longer has gives way to the older Opened."""
    opened_at = AT - timedelta(hours=2)
    view = linked_view(
        members={
            REF: member(
                "Clicked", activity=ActivityType.CLICKED, activity_date=AT - timedelta(hours=1)
            )
        },
        stored={REF: (record(ActivityType.OPENED, opened_at),)},
        existing_keys=frozenset({record(ActivityType.OPENED, opened_at).key}),
    )

    plan = plan_sync(
        [events((ActivityType.OPENED, opened_at))], view, Settings(), as_of=LATER, full=True
    )

    (saved,) = plan.members_to_save
    assert (saved.member.status, saved.member.activity_date) == ("Opened", opened_at)


def test_a_full_sync_refreshes_stale_members_of_read_campaigns_only() -> None:
    """A member of a read campaign with stale counters is saved; others are left alone."""
    stale = member("Sent", engagement=Engagement(opens=4))
    other = MemberRecord(
        "sf-2", CampaignMember("cmp-other", "bob@example.com", status="Sent"), "bob@example.com"
    )
    view = linked_view(members={REF: stale, other.ref: other})

    plan = plan_sync([read(campaign(), events={})], view, Settings(), as_of=LATER, full=True)

    assert [(m.ref, m.member.engagement) for m in plan.members_to_save] == [(REF, Engagement())]


@pytest.mark.parametrize("mode", ["Update Once", "Always"], ids=["once only", "always"])
def test_an_import_and_a_purge_in_one_sync_set_a_new_members_status(mode: str) -> None:
    """A member both imported and purged in one sync is refreshed as after the import
    too: under Once Only the new Opened still sets its empty status."""
    old = record(ActivityType.SENT, AT - timedelta(days=400))
    view = linked_view(
        expired=(old,),
        members={REF: member("Sent", engagement=Engagement(sent=1))},
        stored={REF: (old,)},
    )

    plan = plan_sync(
        [events((ActivityType.OPENED, AT))], view, Settings(refresh_mode=mode), as_of=LATER
    )

    (saved,) = plan.members_to_save
    assert (saved.member.status, saved.member.activity_date) == ("Opened", AT)


def test_a_purge_alone_under_once_only_keeps_a_status_set_by_hand() -> None:
    """Deletion only: the import rule does not run, so a hand-set status without an
    activity is not replaced from the remaining records."""
    old = record(ActivityType.SENT, AT - timedelta(days=400))
    kept = record(ActivityType.CLICKED, AT - timedelta(days=1))
    view = linked_view(
        expired=(old,),
        members={REF: member("Opened", engagement=Engagement(sent=1, clicks=1))},
        stored={REF: (old, kept)},
    )

    plan = plan_sync([read(events={})], view, Settings(refresh_mode="Update Once"), as_of=AT)

    (saved,) = plan.members_to_save
    assert (saved.member.status, saved.member.activity) == ("Opened", None)
    assert saved.member.engagement == Engagement(clicks=1)


def test_a_journal_entry_of_a_member_never_saved_creates_it_under_its_email() -> None:
    """A pending refresh of a member the CRM does not hold yet creates the member."""
    pending = ClientRead(Checkpoint("c1", AT, {(REF, RefreshCause.IMPORT)}), (campaign(),), {})

    plan = plan_sync([pending], linked_view(), Settings(), as_of=LATER)

    (saved,) = plan.members_to_save
    assert (saved.ref, saved.email, saved.member.status) == (REF, ANN, "Sent")


def test_an_unmatched_member_is_matched_once_a_contact_has_its_email() -> None:
    """Unmatched members are looked at again each sync; without a person, they are not
    touched at all (even stale counters wait for their match)."""
    waiting = member("Sent", engagement=Engagement(opens=3))
    person = Person("003A", PersonKind.CONTACT, ANN, AT)
    unlinked = MemberRef("cmp-unlinked", "bob@example.com")
    first = ClientRead(Checkpoint("c1", AT, {(unlinked, RefreshCause.IMPORT)}), (), {})

    alone = plan_sync([first], linked_view(unmatched=(waiting,)), Settings(), as_of=LATER)
    matched = plan_sync(
        [first],
        linked_view(unmatched=(waiting,), members={REF: waiting}, people={ANN: (person,)}),
        Settings(),
        as_of=LATER,
    )

    assert alone.members_to_save == ()
    assert [(m.ref, m.person_id, m.member.engagement) for m in matched.members_to_save] == [
        (REF, "003A", Engagement())
    ]


def test_a_matched_member_keeps_its_person_when_a_newer_one_shares_the_email() -> None:
    """Matching happens once: a later contact with the same email does not take over."""
    people = {
        ANN: (
            Person("003A", PersonKind.CONTACT, ANN, AT - timedelta(days=9)),
            Person("00QB", PersonKind.LEAD, ANN, AT),
        )
    }
    known = attrs.evolve(member("Sent"), person_id="003A")
    view = linked_view(members={REF: known}, people=people)

    plan = plan_sync([events((ActivityType.OPENED, AT))], view, Settings(), as_of=LATER)

    (saved,) = plan.members_to_save
    assert saved.person_id == "003A"


def test_refused_members_stay_pending_under_their_own_client() -> None:
    """Every refused member save is reported with its client and kept in that client's
    checkpoint; another client's checkpoint keeps none of them."""
    bob = MemberRef("cmp-1", "bob@example.com")
    read_c1 = read(
        campaign(),
        events={
            "cmp-1": (
                TrackingEvent(ActivityType.SENT, ANN, AT),
                TrackingEvent(ActivityType.SENT, "bob@example.com", AT),
            )
        },
    )
    read_c2 = ClientRead(Checkpoint("c2"), (), {})

    plan = plan_sync(
        [read_c1, read_c2],
        linked_view(),
        Settings(),
        as_of=LATER,
        refused=Refusals(members={REF: "FIELD_CUSTOM_VALIDATION", bob: "LOCKED"}),
    )

    assert sorted((r.record, r.client_id) for r in plan.refusals) == [
        ("member ann@example.com of campaign cmp-1", "c1"),
        ("member bob@example.com of campaign cmp-1", "c1"),
    ]
    by_client = {c.client_id: c.pending for c in plan.checkpoints}
    assert by_client == {
        "c1": frozenset({(REF, RefreshCause.IMPORT), (bob, RefreshCause.IMPORT)}),
        "c2": frozenset(),
    }


def test_auto_create_off_creates_nothing_even_with_a_start_date() -> None:
    """A start date alone does not turn campaign creation on."""
    settings = Settings(auto_create_campaigns=False, auto_create_campaigns_since=AT)

    plan = plan_sync([read(campaign(), events={})], CrmView(), settings, as_of=LATER)

    assert plan.campaigns_to_create == ()
    assert plan.links_to_create == ()


def test_a_link_to_a_deleted_crm_campaign_is_reported_with_guidance() -> None:
    """The refusal names the campaign and says how to fix it; the client is named."""
    view = CrmView(links={"cmp-1": CampaignLink("c1", "cmp-1", "sf-gone")})

    plan = plan_sync([read(campaign(), events={})], view, Settings(), as_of=LATER)

    assert [(r.kind, r.record, r.reason, r.client_id) for r in plan.refusals] == [
        (
            RefusalKind.USE_LINKED_CAMPAIGN,
            "campaign sf-gone",
            "it no longer exists, but platform campaign cmp-1 links to it; re-link the "
            "platform campaign (its tracking records are still imported)",
            "c1",
        )
    ]


def test_missing_statuses_of_a_campaign_linked_twice_are_added_once() -> None:
    """Two platform campaigns linked to one CRM campaign: its missing statuses once."""
    view = linked_view(
        links={
            "cmp-1": CampaignLink("c1", "cmp-1", "sf-1"),
            "cmp-2": CampaignLink("c1", "cmp-2", "sf-1"),
        }
    )

    plan = plan_sync(
        [read(campaign("cmp-1"), campaign("cmp-2"), events={})],
        view,
        Settings(auto_create_statuses=True),
        as_of=LATER,
    )

    assert [s.label for _, s in plan.statuses_to_add] == [
        "Bounced",
        "Unsubscribed",
        "Marked as Spam",
    ]


def test_events_read_add_up_over_every_campaign() -> None:
    """events_read counts the rows of every campaign read."""
    two = read(
        campaign("cmp-1"),
        campaign("cmp-2"),
        events={
            "cmp-1": (TrackingEvent(ActivityType.SENT, ANN, AT),),
            "cmp-2": (
                TrackingEvent(ActivityType.SENT, ANN, AT),
                TrackingEvent(ActivityType.OPENED, ANN, AT),
            ),
        },
    )

    plan = plan_sync([two], CrmView(), Settings(), as_of=LATER)

    assert plan.events_read == 3


def test_a_per_type_retention_window_applies_to_events_read() -> None:
    """An event older than its own type's window is skipped, even within the default."""
    settings = Settings(days_to_keep_by_type={"Sent": 1})
    two_days = (ActivityType.SENT, AT - timedelta(days=2))

    plan = plan_sync([events(two_days)], linked_view(), settings, as_of=AT)

    assert plan.skipped == {"older than retention": 1}
    assert plan.records_to_insert == ()


def test_one_refused_delete_does_not_stop_the_rest_of_the_purge() -> None:
    """Expired records after a refused one are still deleted."""
    first = record(ActivityType.SENT, AT - timedelta(days=400))
    second = record(ActivityType.OPENED, AT - timedelta(days=399))

    plan = plan_sync(
        [read(events={})],
        linked_view(expired=(first, second)),
        Settings(),
        as_of=AT,
        refused=Refusals(deletes={first.key: "ENTITY_IS_LOCKED"}),
    )

    assert plan.records_to_delete == (second,)


def test_a_purge_of_a_member_the_crm_lacks_creates_it_under_its_email() -> None:
    """A member whose records expire but who is not in the CRM is created, by email."""
    old = record(ActivityType.SENT, AT - timedelta(days=400))

    plan = plan_sync([read(events={})], linked_view(expired=(old,)), Settings(), as_of=AT)

    (saved,) = plan.members_to_save
    assert (saved.ref, saved.email, saved.member.status) == (REF, ANN, "Sent")


def test_a_refused_member_of_a_campaign_not_read_has_no_client() -> None:
    """A journaled member whose campaign was not read this time: refusal without client."""
    pending = ClientRead(Checkpoint("c1", AT, {(REF, RefreshCause.IMPORT)}), (), {})

    plan = plan_sync(
        [pending],
        linked_view(),
        Settings(),
        as_of=LATER,
        refused=Refusals(members={REF: "LOCKED"}),
    )

    assert [(r.kind, r.client_id) for r in plan.refusals] == [(RefusalKind.SAVE_MEMBER, "")]


def test_the_watermark_is_the_latest_event_over_every_campaign() -> None:
    """A later event in the first campaign read is not hidden by an earlier one after it."""
    two = read(
        campaign("cmp-1"),
        campaign("cmp-2"),
        events={
            "cmp-1": (TrackingEvent(ActivityType.SENT, ANN, AT + timedelta(minutes=30)),),
            "cmp-2": (TrackingEvent(ActivityType.SENT, ANN, AT),),
        },
    )

    plan = plan_sync([two], CrmView(), Settings(), as_of=LATER)

    assert plan.checkpoints[0].watermark == AT + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("statistics_on", "linked"),
    [(False, True), (True, False)],
    ids=["setting off", "campaign not linked"],
)
def test_campaign_statistics_need_the_setting_and_a_link(statistics_on: bool, linked: bool) -> None:
    """A summary read is saved only when statistics are on and the campaign is linked."""
    summary = CampaignSummary(recipients=10, unique_opened=4)
    with_summary = attrs.evolve(read(campaign(), events={}), summaries={"cmp-1": summary})
    view = linked_view() if linked else CrmView()

    plan = plan_sync(
        [with_summary],
        view,
        Settings(update_campaign_statistics=statistics_on),
        as_of=LATER,
    )

    assert plan.statistics == ()
    on = plan_sync(
        [with_summary], linked_view(), Settings(update_campaign_statistics=True), as_of=LATER
    )
    assert on.statistics == (("sf-1", summary),)
