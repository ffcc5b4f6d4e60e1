"""cmsf_core.testing.properties: the ready-made suites pass for the library's own code and catch
a user's code that breaks a rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs
import pytest

from cmsf_core import (
    STATUS_RULES,
    Activity,
    ActivityKey,
    ActivityType,
    CampaignMember,
    RefreshCause,
    RefreshMode,
    Settings,
    StatusAction,
    apply_retention,
    candidate,
    refresh_member,
    retention_cutoffs,
)
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.records import TrackingPage, WriteResult
from cmsf_core.testing import CrmStoreContract, EmailPlatformContract, PlatformSeed
from cmsf_core.testing.properties import (
    ContractRun,
    check_crm_store,
    check_email_platform,
    check_refresh_function,
    check_retention_function,
    crm_store_contract,
    email_platform_contract,
)
from cmsf_core.testing.strategies import seeded_platform

# ----------------------------------------------------------------------------- refresh


def _set_from_candidate(
    member: CampaignMember, found: Activity, settings: Settings
) -> CampaignMember:
    return attrs.evolve(
        member,
        status=settings.status_mapping.label(found.type),
        activity=found.type,
        activity_date=found.occurred_at,
    )


def refresh_without_the_date_guard(
    member: CampaignMember,
    stored: Iterable[Activity],
    settings: Settings,
    *,
    cause: RefreshCause,
    default_status: str | None,
) -> CampaignMember:
    """Under Always, sets the status from any candidate, older than the Activity Date or not."""
    records = tuple(stored)
    result = refresh_member(member, records, settings, cause=cause, default_status=default_status)
    found = candidate(records, settings)
    if STATUS_RULES[(settings.refresh_mode, cause)] is StatusAction.SET_IF_NEWER and found:
        return _set_from_candidate(result, found, settings)
    return result


def refresh_that_recomputes_once_only_after_a_deletion(
    member: CampaignMember,
    stored: Iterable[Activity],
    settings: Settings,
    *,
    cause: RefreshCause,
    default_status: str | None,
) -> CampaignMember:
    """Treats Once Only like Always after a deletion: the FAQ's mismatch never shows."""
    mode = settings.refresh_mode
    if mode is RefreshMode.ONCE_ONLY and cause is RefreshCause.DELETION:
        settings = attrs.evolve(settings, refresh_mode=RefreshMode.ALWAYS)
    return refresh_member(member, stored, settings, cause=cause, default_status=default_status)


def refresh_that_keeps_the_counters(
    member: CampaignMember,
    stored: Iterable[Activity],
    settings: Settings,
    *,
    cause: RefreshCause,
    default_status: str | None,
) -> CampaignMember:
    """Sets the status right but leaves the rollups as they were."""
    result = refresh_member(member, stored, settings, cause=cause, default_status=default_status)
    return attrs.evolve(result, engagement=member.engagement)


def test_refresh_member_passes_its_own_suite() -> None:
    """The library's refresh agrees with itself on every generated case."""
    check_refresh_function(refresh_member)


def test_a_refresh_that_ignores_the_activity_date_guard_fails() -> None:
    """Setting the status from an activity no later than the Activity Date is caught,
    and the failure names the rule."""
    with pytest.raises(AssertionError, match="set from the candidate if Activity Date"):
        check_refresh_function(
            refresh_without_the_date_guard,
            refresh_modes=[RefreshMode.ALWAYS],
            causes=[RefreshCause.IMPORT],
        )


def test_a_seed_makes_the_check_draw_the_same_cases_on_every_run() -> None:
    """With a seed the check finds the same disagreement twice, whatever the profile."""
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError, match="set from the candidate") as failure:
            check_refresh_function(
                refresh_without_the_date_guard,
                refresh_modes=[RefreshMode.ALWAYS],
                causes=[RefreshCause.IMPORT],
                max_examples=100,
                seed=5,
            )
        messages.append(str(failure.value))
    assert messages[0] == messages[1]


def test_a_seeded_retention_check_passes_for_the_library() -> None:
    """A seed is accepted by the retention suite too and a correct purge passes."""
    check_retention_function(apply_retention, max_examples=20, seed=3)


def test_a_refresh_that_recomputes_once_only_after_a_deletion_fails() -> None:
    """Recalculating the status under Once Only after a purge is caught."""
    with pytest.raises(AssertionError, match="'Once Only' after a deletion"):
        check_refresh_function(
            refresh_that_recomputes_once_only_after_a_deletion,
            refresh_modes=[RefreshMode.ONCE_ONLY],
            causes=[RefreshCause.DELETION],
        )


def test_a_refresh_that_keeps_stale_counters_fails() -> None:
    """Rollups must be recomputed in every mode: stale counters are caught."""
    with pytest.raises(AssertionError, match="engagement: Engagement"):
        check_refresh_function(refresh_that_keeps_the_counters, refresh_modes=[RefreshMode.NEVER])


def test_a_refresh_that_returns_no_member_fails_with_what_it_returned() -> None:
    """A function returning something else than a member is reported as such."""

    def returns_the_status(
        member: CampaignMember,
        stored: Iterable[Activity],
        settings: Settings,
        *,
        cause: RefreshCause,
        default_status: str | None,
    ) -> CampaignMember:
        found = refresh_member(member, stored, settings, cause=cause, default_status=default_status)
        return found.status  # type: ignore[return-value]

    with pytest.raises(AssertionError, match="not a CampaignMember"):
        check_refresh_function(returns_the_status)


# ----------------------------------------------------------------------------- retention


def purge_at_or_before_the_cutoff(
    records: Sequence[Activity], settings: Settings, *, as_of: datetime
) -> list[Activity]:
    """Purges records exactly at the cutoff too: one record too many."""
    cutoffs = retention_cutoffs(settings, as_of=as_of)
    return [r for r in records if r.occurred_at > cutoffs[r.type]]


def test_apply_retention_passes_the_retention_suite() -> None:
    """The library's purge keeps what it keeps (a Retention result is accepted)."""
    check_retention_function(apply_retention)


def test_a_purge_that_deletes_records_at_the_cutoff_fails() -> None:
    """Nothing at or after the cutoff is ever deleted: an off-by-one purge is caught."""
    with pytest.raises(AssertionError, match="purged by yours, kept by ours"):
        check_retention_function(purge_at_or_before_the_cutoff)


# ----------------------------------------------------------------------------- contracts


class CrmThatForgetsDeletes(InMemoryCrm):
    """Reports deletes as written but keeps the records."""

    def delete_records(self, keys: Sequence[ActivityKey]) -> WriteResult:
        return WriteResult(len(keys))


class PlatformThatDropsTwins:
    """Serves one event of identical ones, as if the platform gave events an id."""

    def __init__(self, inner: InMemoryPlatform) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def tracking_page(
        self,
        campaign_id: str,
        stream: ActivityType,
        *,
        since: datetime | None,
        page: int,
        page_size: int,
    ) -> TrackingPage:
        served = self._inner.tracking_page(
            campaign_id, stream, since=since, page=page, page_size=page_size
        )
        return attrs.evolve(served, results=tuple(dict.fromkeys(served.results)))


def test_the_in_memory_crm_passes_the_crm_contract_in_one_call() -> None:
    """check_crm_store runs every contract test and reports what passed."""
    run = check_crm_store(InMemoryCrm, property_examples=5)
    assert isinstance(run, ContractRun)
    assert "test_deleted_records_are_gone_from_every_read" in run.passed
    assert run.skipped == ()


def test_a_crm_that_keeps_deleted_records_fails_the_contract() -> None:
    """The failure lists the contract tests that failed."""
    with pytest.raises(AssertionError, match="test_deleted_records_are_gone_from_every_read"):
        check_crm_store(CrmThatForgetsDeletes, property_examples=5)


def test_a_seeded_in_memory_platform_passes_the_platform_contract() -> None:
    """check_email_platform builds platforms from the contract's seeds."""
    run = check_email_platform(seeded_platform, property_examples=5)
    assert "test_identical_events_are_all_kept" in run.passed


def test_a_platform_that_drops_identical_events_fails_the_contract() -> None:
    """Identical events of one minute are all served: dropping twins is caught."""

    def make(seed: PlatformSeed) -> PlatformThatDropsTwins:
        return PlatformThatDropsTwins(seeded_platform(seed))

    with pytest.raises(AssertionError, match="test_identical_events_are_all_kept"):
        check_email_platform(make, property_examples=5)  # type: ignore[arg-type]


def test_the_contract_factories_give_pytest_test_classes() -> None:
    """Assigned to a Test... name, the classes run the contracts against the factories."""
    crm_suite = crm_store_contract(InMemoryCrm, property_examples=3)
    platform_suite = email_platform_contract(seeded_platform)
    assert issubclass(crm_suite, CrmStoreContract)
    assert issubclass(platform_suite, EmailPlatformContract)
    assert crm_suite.__name__.startswith("Test")
    assert crm_suite.property_examples == 3
    assert isinstance(crm_suite().make_crm(), InMemoryCrm)
    assert isinstance(platform_suite().make_platform(PlatformSeed()), InMemoryPlatform)
