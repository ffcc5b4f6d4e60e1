"""The streaming sync: one campaign at a time, the report's bounded mode, what it reads.

The equivalence with one plan of everything is a property test
(``tests/properties/test_stream_equivalence.py``); crashes between batches are in the
stateful test.  These are the examples.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cmsf_core import ActivityType, Settings
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain import planner
from cmsf_core.domain.activity import Activity
from cmsf_core.domain.records import TrackingEvent, WriteResult
from cmsf_core.domain.records.sync_state import Checkpoint
from cmsf_core.ports.errors import PlatformError
from cmsf_core.shell.sync import SyncAbortedError, run_sync

CLIENT = "client-1"
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AS_OF = SENT + timedelta(days=1)
CAMPAIGNS = ("cmp-1", "cmp-2", "cmp-3")
EMAILS = ("ann@example.com", "bob@example.com", "cy@example.com")


def _platform() -> InMemoryPlatform:
    platform = InMemoryPlatform()
    platform.add_client(CLIENT, "Acme")
    for n, campaign_id in enumerate(CAMPAIGNS):
        platform.add_campaign(CLIENT, campaign_id, campaign_id.upper(), sent_at=SENT)
        for email in EMAILS:
            platform.add_event(campaign_id, ActivityType.SENT, email, SENT)
            at = SENT + timedelta(minutes=10 * (n + 1))
            platform.add_event(campaign_id, ActivityType.OPENED, email, at)
    return platform


def _crm(crm: InMemoryCrm | None = None) -> InMemoryCrm:
    crm = crm if crm is not None else InMemoryCrm()
    for campaign_id in CAMPAIGNS:
        crm.add_campaign("sf-" + campaign_id, campaign_id, statuses=("Sent", "Opened"))
        crm.link(CLIENT, campaign_id, "sf-" + campaign_id)
    crm.add_person("ann@example.com", person_id="003-ann")
    return crm


class SpyCrm(InMemoryCrm):
    """Counts the whole-history reads and the campaigns each stored-records read asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.client_reads = 0
        self.campaign_reads: list[tuple[str, ...]] = []

    def records_of_clients(self, client_ids: Collection[str]) -> Iterable[Activity]:
        """Counted: a streaming sync never reads a client's whole history at once."""
        self.client_reads += 1
        return super().records_of_clients(client_ids)

    def records_of_campaigns(self, campaign_ids: Collection[str]) -> Iterable[Activity]:
        """Counted, with the campaigns asked for."""
        self.campaign_reads.append(tuple(campaign_ids))
        return super().records_of_campaigns(campaign_ids)


def test_keep_changes_false_keeps_the_counts_and_not_the_changes() -> None:
    """The same sync with and without the changes kept: same counts, summary and CRM."""
    kept = _crm()
    counted = _crm()
    full = run_sync(kept, _platform(), Settings(), as_of=AS_OF)
    bounded = run_sync(counted, _platform(), Settings(), as_of=AS_OF, keep_changes=False)

    assert bounded.plan.counts() == full.plan.counts()
    assert bounded.plan.counts()["records inserted"] == 18
    assert bounded.plan.counts()["members saved"] == 9
    assert bounded.summary() == full.summary()
    assert bounded.plan.records_to_insert == bounded.plan.members_to_save == ()
    assert len(full.plan.records_to_insert) == 18
    assert set(counted.all_records()) == set(kept.all_records())
    assert set(counted.all_members()) == set(kept.all_members())
    assert counted.checkpoint(CLIENT) == kept.checkpoint(CLIENT)


def test_a_full_sync_reads_stored_records_one_campaign_at_a_time() -> None:
    """Never the client's whole history: each campaign's stored records, in its batch."""
    crm = _crm(SpyCrm())
    run_sync(crm, _platform(), Settings(), as_of=AS_OF)
    assert crm.campaign_reads == []  # an incremental sync reads the touched members' only

    platform = _platform()
    platform.remove_campaign("cmp-2")
    report = run_sync(crm, platform, Settings(), as_of=AS_OF, full=True)

    assert crm.client_reads == 0
    assert sorted(crm.campaign_reads) == [("cmp-1",), ("cmp-2",), ("cmp-3",)]
    assert report.plan.platform_campaigns_to_delete == ("cmp-2",)
    assert {a.campaign_id for a in crm.all_records()} == {"cmp-1", "cmp-3"}
    assert set(crm.platform_campaigns()) == {"cmp-1", "cmp-3"}


def test_each_campaign_becomes_records_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The events of a campaign are turned into records once per sync, not twice."""
    calls: list[str] = []
    original = planner.event_records

    def counted(client_id: str, campaign_id: str, events: Iterable[TrackingEvent]) -> Any:
        calls.append(campaign_id)
        return original(client_id, campaign_id, events)

    monkeypatch.setattr(planner, "event_records", counted)
    run_sync(_crm(), _platform(), Settings(), as_of=AS_OF)
    assert sorted(calls) == sorted(CAMPAIGNS)


class FailingPlatform(InMemoryPlatform):
    """Fails to read one campaign's streams, as a platform outage part-way would."""

    failing: str | None = None

    def tracking_page(self, campaign_id: str, *args: Any, **kwargs: Any) -> Any:
        """Raise for the failing campaign."""
        if campaign_id == self.failing:
            raise PlatformError("service unavailable", status=503, operation="tracking_page")
        return super().tracking_page(campaign_id, *args, **kwargs)


def test_a_platform_error_part_way_skips_the_rest_of_the_client() -> None:
    """The campaigns before it stay applied, the watermark stays; the next sync converges."""
    platform = FailingPlatform()
    reference = _platform()
    platform.add_client(CLIENT, "Acme")
    for campaign_id in CAMPAIGNS:
        platform.add_campaign(CLIENT, campaign_id, campaign_id.upper(), sent_at=SENT)
        platform.add_events(campaign_id, reference.all_events(campaign_id))
    platform.failing = "cmp-2"
    crm = _crm()

    report = run_sync(crm, platform, Settings(), as_of=AS_OF)

    assert [m.record for m in report.skipped_clients] == [f"client {CLIENT}"]
    assert {a.campaign_id for a in crm.all_records()} == {"cmp-1"}
    assert crm.checkpoint(CLIENT).watermark is None
    platform.failing = None
    again = run_sync(crm, platform, Settings(), as_of=AS_OF)
    assert again.ok
    done = _crm()
    run_sync(done, _platform(), Settings(), as_of=AS_OF)
    assert set(crm.all_records()) == set(done.all_records())
    assert set(crm.all_members()) == set(done.all_members())
    assert crm.checkpoint(CLIENT) == done.checkpoint(CLIENT)


class CrmThatRefusesTheSecondJournal(InMemoryCrm):
    """Saves the first batch's journal, refuses the next."""

    journals = 0

    def save_checkpoints(self, checkpoints: Iterable[Checkpoint]) -> WriteResult:
        """Refuse the second journal (a checkpoint with pending members)."""
        checkpoints = tuple(checkpoints)
        if any(c.pending for c in checkpoints):
            self.journals += 1
            if self.journals == 2:
                return WriteResult(
                    0, tuple((c.client_id, "UNABLE_TO_LOCK_ROW") for c in checkpoints)
                )
        return super().save_checkpoints(checkpoints)


def test_a_journal_refused_at_a_later_campaign_says_what_was_applied() -> None:
    """The first campaign is applied (its journal saved), nothing after it."""
    crm = _crm(CrmThatRefusesTheSecondJournal())
    with pytest.raises(SyncAbortedError, match="the campaigns synced before it are applied"):
        run_sync(crm, _platform(), Settings(), as_of=AS_OF)
    assert {a.campaign_id for a in crm.all_records()} == {"cmp-1"}
    assert crm.checkpoint(CLIENT).watermark is None
    assert crm.checkpoint(CLIENT).pending
