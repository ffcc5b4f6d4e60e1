"""Behaviour of the domain's less-travelled paths: type guards of the pure functions,
connection invariants, frozen maps, plan rendering and the year-1 edges of time arithmetic.

Each test states a rule of the library; together they keep ``cmsf_core.domain`` at full
branch coverage (see ``docs/reliability.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

import attrs
import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    CmsfError,
    Connection,
    ConnectionStatus,
    Credentials,
    GovernorLimits,
    ImportFrequency,
    InvalidTypeError,
    InvalidValueError,
    Job,
    MaintenanceLog,
    MaintenanceMessage,
    PlatformAccount,
    PlatformUser,
    Schedule,
    Settings,
    UnknownChoiceError,
    Weekday,
    apply_retention,
    batches,
    diagnose,
    diff_settings,
    estimate_storage,
    format_size,
    iter_runs,
    mask_email,
    next_run,
    plan_jobs,
    plan_sync,
    refresh_member,
    retention_cutoffs,
    runs_between,
    what_if_storage,
)
from cmsf_core.domain import connection as conn
from cmsf_core.domain.connection import AccountKind, Client, ConnectedClient, Effect, EffectKind
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.maintenance import AuditEntry, mask_emails
from cmsf_core.domain.planner import (
    ClientRead,
    CrmView,
    Refusals,
    SyncPlan,
    read_window_start,
)
from cmsf_core.domain.records import (
    CampaignLink,
    Checkpoint,
    CrmCampaign,
    MemberRecord,
    MemberRef,
    MemberStatus,
    PlatformCampaign,
    TrackingEvent,
    member_ref,
)
from cmsf_core.domain.schedule import resolve_zone
from cmsf_core.domain.settings import SETTING_SPECS, StatusMapping
from cmsf_core.domain.storage import StorageEstimate, StorageLine
from cmsf_core.domain.subscribers import CommandResult, Unsubscribe
from cmsf_core.domain.timeutil import START_OF_TIME

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
YEAR_ONE = datetime(1, 1, 1, 0, 30, tzinfo=UTC)


def refused(action: Callable[[], object], error: type[CmsfError], field: str) -> str:
    """Run ``action``; it raises ``error`` naming ``field``; return the message."""
    with pytest.raises(error) as excinfo:
        action()
    message = str(excinfo.value)
    assert repr(field) in message, message
    return message


# ----------------------------------------------------------------------------- time edges


def test_retention_cutoff_reaching_back_past_year_one_keeps_everything() -> None:
    """Days kept that reach before 0001-01-01: the cutoff is the first instant, so nothing
    is purged (instead of an OverflowError)."""
    first = Activity("cmp-1", "m-1", ActivityType.OPENED, START_OF_TIME)

    cutoffs = retention_cutoffs(Settings(days_to_keep=180), as_of=YEAR_ONE)
    result = apply_retention([first], Settings(days_to_keep=180), as_of=YEAR_ONE)

    assert set(cutoffs.values()) == {START_OF_TIME}
    assert result.kept == (first,)
    assert result.purged == ()


def test_retention_cutoff_exactly_at_the_first_instant_is_that_instant() -> None:
    """as_of exactly 180 days after the first instant: the cutoff is the first instant."""
    as_of = START_OF_TIME + timedelta(days=180)

    assert Settings().retention_cutoff(ActivityType.SENT, as_of) == START_OF_TIME
    assert Settings().retention_cutoff(ActivityType.SENT, as_of + timedelta(days=1)) == (
        START_OF_TIME + timedelta(days=1)
    )


def test_read_window_of_a_watermark_in_the_first_hour_starts_at_the_first_instant() -> None:
    """The overlap reaching back before year 1 reads from the first instant."""
    start = read_window_start(Checkpoint("c1", YEAR_ONE), Settings(sync_overlap_minutes=60))
    later = read_window_start(
        Checkpoint("c1", YEAR_ONE + timedelta(minutes=30, seconds=5)),
        Settings(sync_overlap_minutes=60),
    )

    assert start == START_OF_TIME
    assert later == START_OF_TIME
    assert read_window_start(Checkpoint("c1", None), Settings()) is None


def test_read_window_is_floored_to_the_minute() -> None:
    """Watermark minus the overlap, seconds dropped, so one minute is read whole."""
    watermark = datetime(2024, 5, 1, 9, 30, 45, 5, tzinfo=UTC)

    start = read_window_start(Checkpoint("c1", watermark), Settings(sync_overlap_minutes=15))

    assert start == datetime(2024, 5, 1, 9, 15, tzinfo=UTC)


# ----------------------------------------------------------------------------- type guards


def test_pure_functions_refuse_arguments_of_the_wrong_type() -> None:
    """Each names its argument: settings, activities, member, stored, crm, reads."""
    member = CampaignMember("cmp-1", "m-1")
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: apply_retention([], {"DaysToKeep_Email": 7}, as_of=AT), "settings"),  # type: ignore[arg-type]
        (lambda: apply_retention(["x"], Settings(), as_of=AT), "activities"),  # type: ignore[list-item]
        (lambda: refresh_member("m-1", [], Settings()), "member"),  # type: ignore[arg-type]
        (lambda: refresh_member(member, [], None), "settings"),  # type: ignore[arg-type]
        (lambda: refresh_member(member, ["x"], Settings()), "stored"),  # type: ignore[list-item]
        (lambda: plan_sync([], CrmView(), None, as_of=AT), "settings"),  # type: ignore[arg-type]
        (lambda: plan_sync([], {}, Settings(), as_of=AT), "crm"),  # type: ignore[arg-type]
        (lambda: plan_sync(["c1"], CrmView(), Settings(), as_of=AT), "reads"),  # type: ignore[list-item]
        (lambda: diff_settings(Settings(), None, at=AT, user="u"), "new"),  # type: ignore[arg-type]
        (lambda: diff_settings(Settings(), Settings(), at=AT, user="u", specs=["x"]), "specs"),  # type: ignore[list-item]
        (lambda: mask_email(5), "address"),  # type: ignore[arg-type]
        (lambda: mask_emails(None), "text"),  # type: ignore[arg-type]
        (lambda: MaintenanceLog().add("message"), "message"),  # type: ignore[arg-type]
        (lambda: MaintenanceLog().notification_for(None), "message"),  # type: ignore[arg-type]
        (lambda: MaintenanceLog(messages="abc"), "messages"),
        (lambda: MaintenanceLog(messages=[1]), "messages"),
        (lambda: MaintenanceLog().record_changes(["entry"]), "audit"),  # type: ignore[list-item]
        (lambda: AuditEntry(AT, 5, "DaysToKeep_Email", 1, 2), "user"),  # type: ignore[arg-type]
        (lambda: AuditEntry(AT, " ", "DaysToKeep_Email", 1, 2), "user"),
        (lambda: AuditEntry(AT, "u", "", 1, 2), "setting"),
        (lambda: next_run("Hourly", after=AT, tz="UTC"), "schedule"),  # type: ignore[arg-type]
        (lambda: Job.parse(5), "job"),
        (lambda: GovernorLimits(["Email opt-out"]), "batch_sizes"),
        (lambda: batches(5, 2), "items"),  # type: ignore[arg-type]
        (lambda: batches([1], 0), "size"),
        (lambda: batches([1], 1.0), "size"),  # type: ignore[arg-type]
        (lambda: plan_jobs(Job.EMAIL_OPT_OUT, "10"), "count"),  # type: ignore[arg-type]
        (lambda: plan_jobs(Job.EMAIL_OPT_OUT, -1), "count"),
        (lambda: plan_jobs(Job.EMAIL_OPT_OUT, 10, {"Email opt-out": 5}), "limits"),  # type: ignore[arg-type]
        (lambda: ImportFrequency.parse(5), "Import_Frequency"),
        (lambda: StatusMapping({}, responded="Opened"), "status_mapping.responded"),
    ]
    for action, field in cases:
        with pytest.raises(CmsfError) as excinfo:
            action()
        assert repr(field) in str(excinfo.value), (field, str(excinfo.value))


TWICE: dict[str | ActivityType, int] = {"Sent": 1, ActivityType.SENT: 2}


def test_storage_refuses_bad_counts_sizes_and_labels() -> None:
    """Sizes, counts, record kinds and volumes are checked, each error naming its field."""
    cases: list[tuple[Callable[[], object], type[CmsfError], str]] = [
        (lambda: format_size(1.5), InvalidTypeError, "size_bytes"),  # type: ignore[arg-type]
        (lambda: format_size(True), InvalidTypeError, "size_bytes"),
        (lambda: format_size(-1), InvalidValueError, "size_bytes"),
        (lambda: StorageLine("Sent", True, 0), InvalidTypeError, "records"),
        (lambda: StorageLine("Sent", -1, 0), InvalidValueError, "records"),
        (lambda: StorageLine(5, 1, 0), InvalidTypeError, "label"),  # type: ignore[arg-type]
        (lambda: StorageLine(" ", 1, 0), InvalidValueError, "label"),
        (lambda: StorageEstimate("lines"), InvalidTypeError, "lines"),
        (lambda: StorageEstimate([1]), InvalidTypeError, "lines"),
        (lambda: estimate_storage({}, bytes_per_record=1.5), InvalidTypeError, "bytes_per_record"),  # type: ignore[arg-type]
        (lambda: estimate_storage({}, bytes_per_record=0), InvalidValueError, "bytes_per_record"),
        (lambda: estimate_storage({5: 1}), InvalidTypeError, "counts"),  # type: ignore[arg-type]
        (lambda: estimate_storage({" ": 1}), InvalidValueError, "counts"),
        (lambda: estimate_storage([("Subscribers", 1)]), InvalidTypeError, "counts"),  # type: ignore[arg-type]
        (
            lambda: estimate_storage(TWICE),
            InvalidValueError,
            "counts",
        ),
        (lambda: estimate_storage({"Subscribers": -1}), InvalidValueError, "counts[Subscribers]"),
        (lambda: what_if_storage([("Sent", 1)], Settings()), InvalidTypeError, "daily"),  # type: ignore[arg-type]
    ]
    for action, error, field in cases:
        refused(action, error, field)


def test_a_storage_line_is_found_by_activity_type_or_label() -> None:
    """StorageEstimate.line reads an activity type or a label; an unknown one is refused."""
    counts: dict[str | ActivityType, int] = {ActivityType.SENT: 3, "Subscribers": 2}
    estimate = estimate_storage(counts)

    assert estimate.line(ActivityType.SENT).records == 3
    assert estimate.line("Subscribers").size_bytes == 2 * 2048
    refused(lambda: estimate.line("Leads"), InvalidValueError, "label")


# ----------------------------------------------------------------------------- connection


def _account(kind: str = "Agency") -> PlatformAccount:
    clients = (Client("c1", "Acme", "UTC"), Client("c2", "Beta", "UTC"))
    return PlatformAccount("acct-1", kind, clients if kind == "Agency" else clients[:1])


def _connected(kind: str = "Agency") -> Connection:
    return conn.connect(
        Connection(),
        credentials=Credentials.api_key("key-1"),
        platform_user=PlatformUser("admin", True),
        account=_account(kind),
        current_user="admin",
        client_ids=["c1"] if kind == "Agency" else None,
    ).state


def test_account_kind_reads_names_in_any_case_and_refuses_others() -> None:
    """'agency'/'DIRECT' are read; other text and non-text are refused naming 'kind'."""
    assert AccountKind.parse(" agency ") is AccountKind.AGENCY
    assert AccountKind.parse(AccountKind.DIRECT) is AccountKind.DIRECT
    refused(lambda: AccountKind.parse("Reseller"), UnknownChoiceError, "kind")
    refused(lambda: AccountKind.parse(1), InvalidTypeError, "kind")


def test_platform_values_refuse_malformed_parts() -> None:
    """Users, accounts, client rows, effects and connections check every part."""
    row = ConnectedClient("c1", "Acme", "UTC", security_owner="admin")
    cases: list[tuple[Callable[[], object], type[CmsfError], str]] = [
        (lambda: PlatformUser("admin", "yes"), InvalidTypeError, "full_access"),  # type: ignore[arg-type]
        (lambda: PlatformAccount("a", "Direct", "c1"), InvalidTypeError, "clients"),
        (lambda: PlatformAccount("a", "Direct", ["c1"]), InvalidTypeError, "clients"),
        (lambda: PlatformAccount("a", "Agency", ()), InvalidValueError, "clients"),
        (
            lambda: PlatformAccount("a", "Agency", (Client("c1", "A", "UTC"),) * 2),
            InvalidValueError,
            "clients",
        ),
        (lambda: Connection(clients="c1"), InvalidTypeError, "clients"),
        (lambda: Connection(clients=["c1"]), InvalidTypeError, "clients"),
        (lambda: Connection(account="acct-1"), InvalidTypeError, "account"),  # type: ignore[arg-type]
        (lambda: Connection(status="Connected"), InvalidTypeError, "status"),
        (lambda: Connection(clients=[row]), InvalidValueError, "clients[c1]"),
        (lambda: Effect("Add client"), InvalidTypeError, "kind"),
    ]
    for action, error, field in cases:
        refused(action, error, field)


def test_a_connected_state_holds_its_invariants() -> None:
    """Connected needs an account, clients of it, and an owner for each client."""
    good = _connected()
    orphan = ConnectedClient("c9", "Gone", "UTC", security_owner="admin")
    unowned = attrs.evolve(good.clients[0], security_owner=None)

    assert good.is_connected
    assert not Connection().is_connected
    refused(lambda: attrs.evolve(good, account=None), InvalidValueError, "account")
    refused(lambda: attrs.evolve(good, clients=()), InvalidValueError, "clients")
    refused(lambda: attrs.evolve(good, clients=(orphan,)), InvalidValueError, "clients")
    refused(
        lambda: attrs.evolve(good, clients=(unowned,)),
        InvalidValueError,
        "clients[c1].security_owner",
    )


def test_transitions_refuse_what_is_not_a_connection_or_its_parts() -> None:
    """The state, the platform user, the account and client ids are checked first."""
    cases: list[tuple[Callable[[], object], type[CmsfError], str]] = [
        (lambda: conn.disconnect("connected"), InvalidTypeError, "state"),  # type: ignore[arg-type]
        (
            lambda: conn.connect(
                Connection(),
                credentials=Credentials.api_key("key-1"),
                platform_user="admin",  # type: ignore[arg-type]
                account=_account(),
                current_user="admin",
            ),
            InvalidTypeError,
            "platform_user",
        ),
        (
            lambda: conn.connect(
                Connection(),
                credentials=Credentials.api_key("key-1"),
                platform_user=PlatformUser("admin", True),
                account="acct-1",  # type: ignore[arg-type]
                current_user="admin",
            ),
            InvalidTypeError,
            "account",
        ),
        (lambda: conn.select_clients(_connected(), [1]), InvalidTypeError, "client_ids"),  # type: ignore[list-item]
        (lambda: conn.select_clients(_connected(), None), InvalidTypeError, "client_ids"),  # type: ignore[arg-type]
        (lambda: conn.select_clients(_connected(), "c1"), InvalidTypeError, "client_ids"),
    ]
    for action, error, field in cases:
        refused(action, error, field)


def test_selecting_clients_of_a_direct_account_is_refused() -> None:
    """select_clients is for agency accounts only; nothing changes."""
    state = _connected("Direct")

    message = refused(lambda: conn.select_clients(state, ["c1"]), InvalidValueError, "connection")

    assert "agency" in message


def test_reconnect_keeps_the_clients_still_offered() -> None:
    """Without client ids, reconnect keeps the previous selection the account still has."""
    state = conn.select_clients(_connected(), ["c1", "c2"]).state
    smaller = PlatformAccount("acct-1", "Agency", (Client("c2", "Beta 2", "UTC"),))

    step = conn.reconnect(
        state,
        credentials=Credentials.api_key("key-2"),
        platform_user=PlatformUser("admin", True),
        account=smaller,
    )

    assert step.state.client_ids == ("c2",)
    assert step.state.clients[0].name == "Beta 2"
    assert [(e.kind, e.client_id) for e in step.effects][-1] == (
        EffectKind.REMOVE_CLIENT_CONFIGURATION,
        "c1",
    )
    assert step.state.status is ConnectionStatus.CONNECTED


# ----------------------------------------------------------------------------- frozen map


def test_a_frozen_map_hashes_by_its_items_and_compares_with_mappings() -> None:
    """Equal items, equal hash (cached); equal to a dict; not comparable to a list."""
    first = FrozenMap({"a": 1, "b": 2})
    second = FrozenMap({"b": 2, "a": 1})

    assert hash(first) == hash(second) == hash(first)
    assert first == {"a": 1, "b": 2}
    assert first != {"a": 1}
    assert first.__eq__(["a", "b"]) is NotImplemented
    assert first != ["a", "b"]
    assert len({first, second}) == 1
    assert repr(first) == "FrozenMap({'a': 1, 'b': 2})"


# ----------------------------------------------------------------------------- maintenance


def test_audit_entries_show_lists_mappings_and_unset_values_readably() -> None:
    """Tags show as [a, b], limits as {job: n}, an unset value as (none)."""
    old = Settings()
    new = Settings(
        campaign_filter_tags={"spring", "sale"},
        governor_limits=GovernorLimits({"Email opt-out": 50}),
        notification_email="ops@example.com",
    )

    entries = {e.setting: e for e in diff_settings(old, new, at=AT, user="admin")}

    assert str(entries["Campaign_Filter_Tags"]).endswith(
        "Campaign_Filter_Tags: [] -> [sale, spring]"
    )
    assert str(entries["Governor_Limits"]).endswith(
        "Governor_Limits: (none) -> {Email opt-out: 50}"
    )
    assert str(entries["Notification_Email"]).endswith("(none) -> o***@example.com")
    assert entries["Governor_Limits"].new == FrozenMap({"Email opt-out": 50})
    back = {e.setting: e for e in diff_settings(new, old, at=AT, user="admin")}
    assert back["Governor_Limits"].new is None


def test_a_message_refers_to_a_record_or_to_nothing() -> None:
    """record is None for a general message; a record must be a non-empty reference."""
    general = MaintenanceMessage("CM-1", "Info", None, "", AT)

    assert str(general) == "2024-05-01 09:30 UTC [Info] CM-1"
    refused(
        lambda: MaintenanceMessage("CM-1", "Info", 5, "", AT),  # type: ignore[arg-type]
        InvalidTypeError,
        "record",
    )


# ----------------------------------------------------------------------------- schedules


class _NoOffset(tzinfo):
    """A tzinfo that cannot say its offset."""

    def utcoffset(self, _dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, _dt: datetime | None) -> timedelta | None:
        return None


class _Abstract(tzinfo):
    """A tzinfo subclass that implements nothing (the base raises NotImplementedError)."""


ZONES_WITHOUT_OFFSET = [_NoOffset(), _Abstract()]  # type: ignore[abstract]


@pytest.mark.parametrize("zone", ZONES_WITHOUT_OFFSET, ids=["no offset", "abstract"])
def test_a_zone_without_an_offset_is_refused(zone: tzinfo) -> None:
    """A tzinfo that gives no UTC offset cannot place local hours: refused naming tz."""
    refused(lambda: resolve_zone(zone), InvalidValueError, "tz")


def test_a_never_schedule_has_no_weekdays_and_no_runs() -> None:
    """Never: no weekdays, iter_runs yields nothing, runs_between is empty."""
    never = Schedule.parse(ImportFrequency.NEVER)

    assert never == Schedule.never()
    assert never.weekdays == ()
    assert list(iter_runs(never, after=AT, tz="UTC")) == []
    assert runs_between(never, after=AT, until=AT + timedelta(days=7), tz="UTC") == ()


def test_weekday_index_counts_from_monday() -> None:
    """Monday is 0 and Sunday 6, as date.weekday counts."""
    assert [d.index for d in Weekday] == list(range(7))
    assert Weekday.of(AT.date()).index == AT.weekday()


# ----------------------------------------------------------------------------- plans


def _read(client_id: str = "c1") -> ClientRead:
    campaign = PlatformCampaign(client_id, f"cmp-{client_id}", "Spring", AT)
    event = TrackingEvent(ActivityType.OPENED, "ann@example.com", AT)
    return ClientRead(Checkpoint(client_id), (campaign,), {campaign.campaign_id: (event,)})


def _linked_view(client_id: str = "c1") -> CrmView:
    crm_campaign = CrmCampaign("sf-1", "Spring", (MemberStatus("Sent", is_default=True),))
    link = CampaignLink(client_id, f"cmp-{client_id}", "sf-1")
    return CrmView(campaigns={"sf-1": crm_campaign}, links={link.platform_campaign_id: link})


def test_a_plan_refuses_two_reads_of_one_client() -> None:
    """One ClientRead per client: the same client twice is refused naming reads."""
    message = refused(
        lambda: plan_sync([_read(), _read()], CrmView(), Settings(), as_of=AT),
        InvalidValueError,
        "reads",
    )

    assert "one ClientRead per client" in message


def test_a_plan_renders_as_text_and_as_an_html_table() -> None:
    """str is the summary; the notebook rendering is a table with a caption."""
    plan = plan_sync([_read()], _linked_view(), Settings(), as_of=AT + timedelta(hours=1))
    full = attrs.evolve(plan, full=True)

    assert str(plan) == plan.summary()
    assert str(plan).startswith("incremental sync plan at 2024-05-01 10:30 UTC")
    from cmsf_core.app.notebook import plan_html  # noqa: PLC0415 - the notebook view

    html = plan_html(plan)
    assert "<table" in html
    assert "Incremental sync plan at 2024-05-01 10:30 UTC" in html
    assert "Full sync plan" in plan_html(full)
    assert "records inserted" in html


def test_a_plan_without_checkpoints_has_no_watermark_lines() -> None:
    """An empty plan's summary lists counts only."""
    plan = SyncPlan(as_of=AT, full=False)

    assert "watermark" not in plan.summary()


def test_auto_created_campaign_without_mapped_labels_gets_a_sent_status() -> None:
    """If no type maps to a label, the auto-created campaign still gets one default status."""
    unmapped = StatusMapping(dict.fromkeys(ActivityType))
    settings = Settings(
        status_mapping=unmapped,
        auto_create_campaigns=True,
        auto_create_campaigns_since=AT - timedelta(days=1),
    )

    plan = plan_sync([_read()], CrmView(), settings, as_of=AT + timedelta(hours=1))

    (campaign,) = plan.campaigns_to_create
    assert [(s.label, s.is_default) for s in campaign.statuses] == [("Sent", True)]


def test_an_auto_campaign_already_in_the_crm_is_linked_not_created_again() -> None:
    """A re-run finds the auto-created campaign by its external id and only links it."""
    settings = Settings(auto_create_campaigns=True, auto_create_campaigns_since=AT)
    first = plan_sync([_read()], CrmView(), settings, as_of=AT + timedelta(hours=1))
    (created,) = first.campaigns_to_create
    view = CrmView(campaigns={created.campaign_id: created})

    again = plan_sync([_read()], view, settings, as_of=AT + timedelta(hours=1))

    assert again.campaigns_to_create == ()
    assert [link.crm_campaign_id for link in again.links_to_create] == [created.campaign_id]


def test_a_refused_delete_is_reported_and_the_record_kept() -> None:
    """An expired record whose delete the CRM refused stays out of the plan's deletes."""
    old = Activity(
        "cmp-c1",
        "ann@example.com",
        ActivityType.SENT,
        AT - timedelta(days=400),
        client_id="c1",
        email="ann@example.com",
    )
    view = attrs.evolve(_linked_view(), expired=(old,))
    refusals = Refusals(deletes={old.key: "ENTITY_IS_LOCKED"})

    plan = plan_sync([_read()], view, Settings(), as_of=AT, refused=refusals)

    assert old not in plan.records_to_delete
    assert [(r.kind.name, r.reason) for r in plan.refusals] == [
        ("DELETE_RECORD", "ENTITY_IS_LOCKED")
    ]


def test_pending_refreshes_of_an_unlinked_campaign_are_dropped() -> None:
    """A journal entry for a campaign no longer linked refreshes nothing."""
    ref = MemberRef("cmp-gone", "ann@example.com")
    read = attrs.evolve(
        _read(),
        checkpoint=Checkpoint("c1", AT, {(ref, "import")}),
    )

    plan = plan_sync([read], _linked_view(), Settings(), as_of=AT + timedelta(hours=1))

    assert all(m.ref != ref for m in plan.members_to_save)
    assert plan.checkpoints[0].pending == frozenset()


def test_a_full_sync_leaves_members_of_unread_campaigns_alone() -> None:
    """A full sync refreshes the members of the campaigns it read, and only those."""
    other = MemberRecord(
        "sf-2", CampaignMember("cmp-other", "bob@example.com", status="Sent"), "bob@example.com"
    )
    view = attrs.evolve(_linked_view(), members={other.ref: other})

    plan = plan_sync([_read()], view, Settings(), as_of=AT + timedelta(hours=1), full=True)

    assert other.ref not in {m.ref for m in plan.members_to_save}
    assert {m.ref for m in plan.members_to_save} == {MemberRef("cmp-c1", "ann@example.com")}


# ----------------------------------------------------------------------------- subscribers


def test_a_command_result_has_an_error_exactly_when_it_failed() -> None:
    """ok=True with an error, or ok=False without one, is refused naming 'error'."""
    command = Unsubscribe("list-1", "ann@example.com")

    assert CommandResult(command, True).error is None
    assert CommandResult(command, False, "Subscriber not in list").error
    refused(lambda: CommandResult(command, True, "boom"), InvalidValueError, "error")
    refused(lambda: CommandResult(command, False), InvalidValueError, "error")
    refused(lambda: CommandResult("unsubscribe", True), InvalidTypeError, "command")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- settings


def test_days_and_overlap_attributes_hold_ints_only() -> None:
    """Settings(days_to_keep="7") is refused: text is read by from_mapping, not stored."""
    refused(lambda: Settings(days_to_keep="7"), InvalidTypeError, "days_to_keep")  # type: ignore[arg-type]
    refused(
        lambda: Settings(sync_overlap_minutes="10"),  # type: ignore[arg-type]
        InvalidTypeError,
        "sync_overlap_minutes",
    )

    settings = Settings.from_mapping({"DaysToKeep_Email": " 7 ", "Sync_Overlap_Minutes": "+10"})

    assert (settings.days_to_keep, settings.sync_overlap_minutes) == (7, 10)
    assert type(settings.days_to_keep) is int


def test_every_setting_reads_back_what_it_writes() -> None:
    """to_mapping then from_mapping gives the same Settings, for a non-default one."""
    settings = Settings(
        refresh_mode="Never",
        days_to_keep=30,
        days_to_keep_by_type={"Sent": 7},
        imported_types={"Sent", "Opened"},
        campaign_filter_tags={"spring"},
        campaign_filter_start=AT,
        auto_create_campaigns=True,
        auto_create_campaigns_since=AT,
        import_schedule=Schedule.weekly("Monday", 6),
        notification_email="ops@example.com",
        governor_limits=GovernorLimits({"Email opt-out": 50}),
    )

    assert Settings.from_mapping(settings.to_mapping()) == settings
    assert {s.name for s in SETTING_SPECS} >= set(settings.to_mapping())


# ----------------------------------------------------------------------------- records


def test_a_member_ref_casefolds_the_email_and_refuses_non_text() -> None:
    """member_ref keys a member by its campaign and casefolded email."""
    assert member_ref("cmp-1", " Ann@Example.COM ") == MemberRef("cmp-1", "ann@example.com")
    refused(lambda: member_ref("cmp-1", 5), InvalidTypeError, "email")  # type: ignore[arg-type]
    refused(lambda: member_ref("cmp-1", "ann"), InvalidValueError, "email")


# ----------------------------------------------------------------------------- diagnose


def test_a_finding_renders_as_an_html_table_with_its_remedies() -> None:
    """The notebook rendering shows code, message and remedies, escaped."""
    member = CampaignMember(
        "cmp-1", "m-1", status="Clicked", activity=ActivityType.CLICKED, activity_date=AT
    )
    (finding,) = diagnose(member, (), Settings(), as_of=AT + timedelta(days=1))

    from cmsf_core.app.notebook import finding_html  # noqa: PLC0415 - the notebook view

    html = finding_html(finding)

    assert "<table" in html
    assert "STATUS_WITHOUT_ACTIVITY" in html
    assert "Clicks = 0" in html
    assert " | " in html
