"""Stateful test of sync sequences against a small reference model.

Three systems receive the same platform events and settings changes:

- ``main`` syncs at every sync step and sometimes crashes part-way through applying;
- ``steady`` syncs at the same steps, never crashes, and receives each batch of events in
  the reverse order (order independence);
- ``lazy`` syncs only at every other sync step (batch-split independence).

After every step the invariants of DESIGN §8 are checked; see ``check_invariants``.  The
campaign filter and the suppression-list setting change too: after a full sync the stored
platform campaigns are exactly the selected ones the platform reports, and no suppression
record is left while the setting is off.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from cmsf_core import (
    Activity,
    ActivityKey,
    ActivityType,
    RefreshMode,
    Settings,
    candidate,
    rollup,
)
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform, SimulatedCrashError
from cmsf_core.domain.planner import event_records
from cmsf_core.domain.records import MemberRef, TrackingEvent
from cmsf_core.shell import stream
from cmsf_core.shell.sync import delete_records_by_hand, run_sync

START = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # the weekend Europe moves its clocks
EMAILS = ("ann@example.com", "bob@example.com", "cy@example.com")
CAMPAIGNS = {"cmp-a": "c1", "cmp-b": "c1", "cmp-c": "c2", "cmp-x": "c1"}  # cmp-x: unlinked
LINKED = ("cmp-a", "cmp-b", "cmp-c")
TAGS = {"cmp-a": "news", "cmp-b": "promo", "cmp-c": "news", "cmp-x": "promo"}
SUPPRESSED = {"c1": "cy@example.com", "c2": "bob@example.com"}
STATUSES = ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")
OVERLAP = 60

#: How often each rule fired over the whole run (printed by the deep profile's summary).
RULES_FIRED: Counter[str] = Counter()


def _build() -> tuple[InMemoryPlatform, InMemoryCrm]:
    platform = InMemoryPlatform()
    platform.add_client("c1", "Direct client", time_zone="Europe/London")
    platform.add_client("c2", "Agency sub-account", time_zone="Australia/Sydney")
    for campaign_id, client_id in CAMPAIGNS.items():
        platform.add_campaign(
            client_id, campaign_id, campaign_id.upper(), sent_at=START, tags=[TAGS[campaign_id]]
        )
    for client_id, email in SUPPRESSED.items():
        platform.add_suppressed(client_id, email, "Bounced", START)
    crm = InMemoryCrm()
    for campaign_id in LINKED:
        crm.add_campaign("sf-" + campaign_id, campaign_id, statuses=STATUSES)
        crm.link(CAMPAIGNS[campaign_id], campaign_id, "sf-" + campaign_id)
    crm.add_person("ann@example.com", person_id="003-ann")
    crm.add_person("bob@example.com", person_id="00Q-bob")
    return platform, crm


def _identity(item: TrackingEvent | Activity) -> tuple[object, ...]:
    email = item.email.casefold() if item.email else ""
    return (item.type, email, int(item.occurred_at.timestamp()) // 60, item.detail)


def _at(key: ActivityKey) -> datetime:
    return datetime.fromtimestamp(key.minute * 60, tz=UTC)


@attrs.define
class System:
    """One platform + CRM pair and what the model knows about it."""

    platform: InMemoryPlatform
    crm: InMemoryCrm
    watermarks: dict[str, datetime | None] = attrs.field(factory=dict)

    def state(self) -> tuple[frozenset[ActivityKey], dict[MemberRef, object]]:
        records = frozenset(a.key for a in self.crm.all_records())
        members = {m.ref: (m.member, m.person_id) for m in self.crm.all_members()}
        return records, members


event_types = st.sampled_from(list(ActivityType))
settings_changes = st.builds(
    Settings,
    refresh_mode=st.sampled_from(list(RefreshMode)),
    days_to_keep=st.sampled_from([0, 1, 2, 7, 180]),
    imported_types=st.frozensets(st.sampled_from(list(ActivityType)), min_size=1),
    sync_overlap_minutes=st.just(OVERLAP),
)


class SyncMachine(RuleBasedStateMachine):
    """Events arrive, time passes, syncs run (and crash), settings change, records go."""

    @initialize(mode=st.sampled_from(list(RefreshMode)))
    def setup(self, mode: RefreshMode) -> None:
        self.now = START
        self.settings = Settings(refresh_mode=mode, days_to_keep=2, sync_overlap_minutes=OVERLAP)
        self.main = System(*_build())
        self.steady = System(*_build())
        self.lazy = System(*_build())
        self.lazy_turn = False
        self.crashed = False
        self.ever_crashed = False
        self.settings_changed = False
        self.contact_added = False
        self.synced_settings = self.settings
        self.hand_deleted: set[ActivityKey] = set()
        self.must_have: set[ActivityKey] = set()
        self.unsynced: list[tuple[str, TrackingEvent]] = []
        self.modes_seen = {mode}
        self.lazy_comparable = True
        self.last_synced_at: datetime | None = None
        self.previous_members = self.main.state()[1]

    # -- the platform --------------------------------------------------------------

    @rule(
        batch=st.lists(
            st.tuples(
                st.sampled_from(list(CAMPAIGNS)),
                event_types,
                st.sampled_from(EMAILS),
                st.integers(min_value=0, max_value=OVERLAP - 2),
                st.sampled_from([None, "https://example.com/a"]),
            ),
            min_size=1,
            max_size=6,
        ),
        twins=st.booleans(),
    )
    def events_arrive(
        self,
        batch: list[tuple[str, ActivityType, str, int, str | None]],
        twins: bool,
    ) -> None:
        """A batch of events, out of order, late inside the overlap, maybe with twins."""
        RULES_FIRED["events arrive"] += 1
        events = []
        for campaign_id, activity_type, email, minutes_ago, url in batch:
            at = self.now - timedelta(minutes=minutes_ago)
            detail = url if activity_type is ActivityType.CLICKED else None
            events.append((campaign_id, TrackingEvent(activity_type, email, at, detail=detail)))
        if twins:
            RULES_FIRED["identical twins"] += 1
            events.append(events[0])
        for system, ordered in (
            (self.main, events),
            (self.steady, list(reversed(events))),
            (self.lazy, events),
        ):
            for campaign_id, event in ordered:
                system.platform.add_events(campaign_id, [event])
        self.unsynced.extend(events)

    @rule(minutes=st.sampled_from([1, 7, 45, 60 * 5, 60 * 24, 60 * 24 * 3]))
    def time_passes(self, minutes: int) -> None:
        """The clock moves forward (across the DST weekend, too)."""
        RULES_FIRED["time passes"] += 1
        self.now += timedelta(minutes=minutes)

    # -- syncs ---------------------------------------------------------------------

    def _sync(self, system: System, *, full: bool = False) -> None:
        report = run_sync(system.crm, system.platform, self.settings, as_of=self.now, full=full)
        assert report.applied
        again = run_sync(system.crm, system.platform, self.settings, as_of=self.now)
        counts = again.plan.counts()
        assert counts["records inserted"] == 0, again.summary()
        assert counts["records deleted"] == 0, again.summary()
        assert counts["members saved"] == 0, again.summary()

    def _expect_after_sync(self) -> None:
        """Update the model: what a sync at ``now`` must have stored, and what it purged.

        The events that arrived since the last sync are the latest arrivals of their kind,
        so they hold the highest occurrence numbers among identical events.
        """
        arrived: Counter[tuple[str, object]] = Counter()
        for campaign_id, event in self.unsynced:
            if (
                self.settings.imports(event.type)
                and event.occurred_at <= self.now
                and self._selected(campaign_id)
            ):
                arrived[campaign_id, _identity(event)] += 1
        for campaign_id, client_id in CAMPAIGNS.items():
            numbered = event_records(
                client_id, campaign_id, self.main.platform.all_events(campaign_id)
            )
            for activity in sorted(numbered, key=lambda a: -a.occurrence):
                identity = (campaign_id, _identity(activity))
                if arrived[identity] > 0:
                    arrived[identity] -= 1
                    self.must_have.add(activity.key)
        self.unsynced = [(c, e) for c, e in self.unsynced if e.occurred_at > self.now]
        self.must_have = {
            key
            for key in self.must_have
            if _at(key) >= self.settings.retention_cutoff(key.type, self.now)
        }
        self.last_synced_at = self.now
        self.synced_settings = self.settings

    @rule()
    def sync(self) -> None:
        """An incremental sync on every system (the lazy one every other time)."""
        RULES_FIRED["sync"] += 1
        self._sync(self.main)
        self._sync(self.steady)
        self.lazy_turn = not self.lazy_turn
        if self.lazy_turn:
            self._sync(self.lazy)
        self.crashed = False
        self._expect_after_sync()
        self._check_against_twins(lazy=self.lazy_turn)

    @rule(after=st.integers(min_value=0, max_value=12))
    def crash_mid_apply(self, after: int) -> None:
        """The CRM fails after a few writes; the steady system syncs normally."""
        self.main.crm.fail_after = after
        try:
            run_sync(self.main.crm, self.main.platform, self.settings, as_of=self.now)
        except SimulatedCrashError:
            RULES_FIRED["crash mid-apply"] += 1
            self.crashed = self.ever_crashed = True
        else:
            RULES_FIRED["crash point not reached"] += 1
            self.crashed = False
        finally:
            self.main.crm.fail_after = None
        self._sync(self.steady)
        self.lazy_comparable = False
        if not self.crashed:
            self._expect_after_sync()

    @rule(batch=st.integers(min_value=2, max_value=5))
    def crash_between_batches(self, batch: int) -> None:
        """The sync stops between two campaigns' batches (before the ``batch``-th reads
        anything); the steady system syncs normally."""
        started = 0
        view = stream._view

        def crash_at_batch(*args: Any, **kwargs: Any) -> Any:
            nonlocal started
            started += 1
            if started == batch:
                raise SimulatedCrashError(f"simulated crash before batch {batch}")
            return view(*args, **kwargs)

        stream._view = crash_at_batch
        try:
            run_sync(self.main.crm, self.main.platform, self.settings, as_of=self.now)
        except SimulatedCrashError:
            RULES_FIRED["crash between batches"] += 1
            self.crashed = self.ever_crashed = True
        else:
            RULES_FIRED["crash point between batches not reached"] += 1
            self.crashed = False
        finally:
            stream._view = view
        self._sync(self.steady)
        self.lazy_comparable = False
        if not self.crashed:
            self._expect_after_sync()

    @precondition(lambda self: not self.crashed)
    @rule()
    def full_sync(self) -> None:
        """A full sync stores exactly what the platform has under the current settings."""
        RULES_FIRED["full sync"] += 1
        self._sync(self.main, full=True)
        self._sync(self.steady, full=True)
        self._expect_after_sync()
        expected = set()
        for campaign_id, client_id in CAMPAIGNS.items():
            if not self._selected(campaign_id):
                continue
            for activity in event_records(
                client_id, campaign_id, self.main.platform.all_events(campaign_id)
            ):
                cutoff = self.settings.retention_cutoff(activity.type, self.now)
                if (
                    self.settings.imports(activity.type)
                    and cutoff <= activity.occurred_at <= self.now
                ):
                    expected.add(activity.key)
        stored = {a.key for a in self.main.crm.all_records()}
        assert stored == expected
        selected = {c for c in CAMPAIGNS if self._selected(c)}
        suppressed = set(SUPPRESSED.values()) if self.settings.sync_suppression_list else set()
        for system in (self.main, self.steady):
            assert set(system.crm.platform_campaigns()) == selected, "a stale campaign copy"
            assert {r.email for r in system.crm.suppression_records()} == suppressed
        self.must_have = expected  # what the platform no longer yields is removed too
        self.hand_deleted -= expected
        self.lazy_comparable = self.lazy_comparable and not self.settings_changed
        self._check_against_twins()

    def _selected(self, campaign_id: str) -> bool:
        """Whether the campaign filter in force selects the campaign."""
        tags = self.settings.campaign_filter_tags
        return not tags or TAGS[campaign_id] in tags

    # -- settings and people ---------------------------------------------------------

    @precondition(lambda self: not self.crashed)  # a crash is recovered under its settings
    @rule(new=settings_changes)
    def settings_change(self, new: Settings) -> None:
        """An administrator changes refresh mode, days to keep or imported types."""
        RULES_FIRED["settings change"] += 1
        self.settings = attrs.evolve(
            new,
            campaign_filter_tags=self.settings.campaign_filter_tags,
            sync_suppression_list=self.settings.sync_suppression_list,
        )
        self._settings_changed(new.refresh_mode)

    @precondition(lambda self: not self.crashed)
    @rule(
        tags=st.sampled_from([frozenset(), frozenset({"news"}), frozenset({"promo"})]),
        suppression=st.booleans(),
    )
    def filter_or_suppression_change(self, tags: frozenset[str], suppression: bool) -> None:
        """An administrator narrows or widens the campaign filter, or switches the
        suppression list on or off (a full sync then removes what is no longer wanted)."""
        RULES_FIRED["filter or suppression change"] += 1
        self.settings = attrs.evolve(
            self.settings, campaign_filter_tags=tags, sync_suppression_list=suppression
        )
        self._settings_changed(self.settings.refresh_mode)

    def _settings_changed(self, mode: RefreshMode) -> None:
        """Note a settings change: the lazy twin and the modes seen depend on it."""
        self.settings_changed = True
        if not self.lazy_turn:  # the lazy system would import the pending window differently
            self.lazy_comparable = False
        self.modes_seen.add(mode)

    @precondition(lambda self: not self.crashed)
    @rule(data=st.data())
    def delete_by_hand(self, data: st.DataObject) -> None:
        """A CRM user deletes some tracking records by hand."""
        stored = sorted(self.main.crm.all_records(), key=lambda a: repr(a.key))
        if not stored:
            return
        RULES_FIRED["delete by hand"] += 1
        doomed = data.draw(st.lists(st.sampled_from(stored), min_size=1, max_size=3, unique=True))
        keys = [a.key for a in doomed]
        delete_records_by_hand(self.main.crm, keys, self.settings)
        delete_records_by_hand(self.steady.crm, keys, self.settings)
        self.hand_deleted.update(keys)
        self.must_have.difference_update(keys)
        self.lazy_comparable = False

    @precondition(lambda self: not self.contact_added)
    @rule()
    def contact_appears(self) -> None:
        """A contact is created for the one email that had none."""
        RULES_FIRED["contact appears"] += 1
        self.contact_added = True
        for system in (self.main, self.steady, self.lazy):
            system.crm.add_person("cy@example.com", person_id="003-cy")

    # -- invariants ------------------------------------------------------------------

    def _check_against_twins(self, *, lazy: bool = False) -> None:
        main_records, main_members = self.main.state()
        steady_records, steady_members = self.steady.state()
        assert main_records == steady_records, "order or a crash changed the records"
        same_history = not self.ever_crashed
        if (
            same_history
            or self.modes_seen <= {RefreshMode.ALWAYS}
            or self.modes_seen <= {RefreshMode.NEVER}
        ):
            if same_history:
                assert main_members == steady_members, "order changed the members"
            else:
                self._check_members_after_crash(main_members, steady_members)
        if lazy and self.lazy_comparable:
            assert self.lazy.state()[0] == main_records, "batch splits changed the records"

    def _check_members_after_crash(
        self, main: dict[MemberRef, object], steady: dict[MemberRef, object]
    ) -> None:
        """A crash may merge two syncs' events into one.  Everything must still agree,
        except that same-instant activities split across syncs may leave a different one
        of them as the status (the documented "strictly later" guard): then both Activity
        Dates are that instant and both activities are stored at it."""
        assert main.keys() == steady.keys(), "a crash changed which members exist"
        for ref, (ours, person) in main.items():  # type: ignore[misc]
            theirs, their_person = steady[ref]  # type: ignore[misc]
            assert person == their_person, ref
            if ours == theirs:
                continue
            RULES_FIRED["crash merged same-instant syncs"] += 1
            assert attrs.evolve(ours, status=theirs.status, activity=theirs.activity) == theirs, (
                "a crash changed more than a same-instant status",
                ours,
                theirs,
            )
            at_instant = {
                a.type
                for a in self.main.crm.records_for([ref]).get(ref, ())
                if a.occurred_at == ours.activity_date
            }
            assert {ours.activity, theirs.activity} <= at_instant, (ours, theirs, at_instant)

    @invariant()
    def rollups_equal_stored_records(self) -> None:
        """Every member's counters are the counts of its stored records."""
        if self.crashed:
            return
        for system in (self.main, self.steady):
            for record in system.crm.all_members():
                stored = system.crm.records_for([record.ref]).get(record.ref, ())
                assert record.member.engagement == rollup(stored), record

    @invariant()
    def watermarks_never_go_back(self) -> None:
        """No client's watermark ever moves backwards, crash or not."""
        for system in (self.main, self.steady, self.lazy):
            for client_id in ("c1", "c2"):
                mark = system.crm.checkpoint(client_id).watermark
                before = system.watermarks.get(client_id)
                if before is not None:
                    assert mark is not None
                    assert mark >= before
                system.watermarks[client_id] = mark

    @invariant()
    def nothing_lost_nothing_unexpired_deleted(self) -> None:
        """After a sync, every event it should have imported is stored, unless expired."""
        if self.crashed or self.last_synced_at is None:
            return
        stored = {a.key: a for a in self.main.crm.all_records()}
        for key in self.must_have:
            assert key in stored or key in self.hand_deleted, f"lost {key}"
        for activity in stored.values():
            cutoff = self.synced_settings.retention_cutoff(activity.type, self.last_synced_at)
            assert activity.occurred_at >= cutoff, f"expired record kept: {activity}"
            assert activity.occurred_at <= self.last_synced_at, f"future record: {activity}"

    @invariant()
    def refresh_modes_hold(self) -> None:
        """Never and Once Only never change a status the integration already set."""
        if self.crashed:
            return
        _records, members = self.main.state()
        mode = self.settings.refresh_mode
        for ref, (member, _person) in members.items():
            before = self.previous_members.get(ref)
            if before is None:
                continue
            old = before[0]  # type: ignore[index]
            same = (old.status, old.activity, old.activity_date) == (
                member.status,
                member.activity,
                member.activity_date,
            )
            if mode is RefreshMode.NEVER:
                assert same, (old, member)
            if mode is RefreshMode.ONCE_ONLY and old.activity_date is not None:
                assert same, (old, member)
        if self.modes_seen <= {RefreshMode.ALWAYS} and self.last_synced_at is not None:
            for ref, (member, _person) in members.items():
                stored = self.main.crm.records_for([ref]).get(ref, ())
                latest = candidate(stored, self.settings)
                if latest is not None:
                    assert member.activity_date is not None
                    assert member.activity_date >= latest.occurred_at, (member, latest)
        self.previous_members = members

    def teardown(self) -> None:
        note(f"rules fired so far: {dict(RULES_FIRED)}")


TestSyncSequences = SyncMachine.TestCase
