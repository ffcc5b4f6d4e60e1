"""Internal governor limits: batch sizes per job, batching, and jobs planned."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, UnknownChoiceError
from cmsf_core.domain.limits import (
    JOB_LIMITS,
    GovernorLimits,
    Job,
    JobPlan,
    batches,
    parse_batch_size,
    plan_jobs,
)


def test_every_job_has_a_default_within_its_maximum() -> None:
    """Each job's default batch size is between 1 and its maximum."""
    assert set(JOB_LIMITS) == set(Job)
    for limit in JOB_LIMITS.values():
        assert 1 <= limit.default <= limit.maximum


def test_default_limits_use_each_jobs_default() -> None:
    """Limits left alone are the defaults (200 for a CRM batch job)."""
    limits = GovernorLimits()
    assert limits.size_for(Job.EMAIL_OPT_OUT) == 200
    assert limits.size_for(Job.PRIMARY_SYNC) == 1000
    assert limits.changed() == {}


def test_lowering_the_email_opt_out_batch_gives_smaller_batches_and_more_jobs() -> None:
    """The product's example: fewer records in each batch and more jobs."""
    default = plan_jobs(Job.EMAIL_OPT_OUT, 1_000)
    lowered = plan_jobs(Job.EMAIL_OPT_OUT, 1_000, GovernorLimits({"Email opt-out": 50}))
    assert (default.batch_size, default.jobs) == (200, 5)
    assert (lowered.batch_size, lowered.jobs) == (50, 20)
    assert str(lowered) == "Email opt-out: 1,000 records in 20 jobs of up to 50"


def test_changing_one_job_leaves_the_others() -> None:
    """A new size for one job changes that job only."""
    limits = GovernorLimits().with_batch_size("retention_purge", 25)
    assert limits.changed() == {Job.RETENTION_PURGE: 25}
    assert limits.size_for(Job.EMAIL_OPT_OUT) == 200


@pytest.mark.parametrize("size", [0, -1, 2001])
def test_batch_sizes_outside_one_to_the_maximum_are_refused(size: int) -> None:
    """A CRM batch job takes 1 to 2,000 records a batch."""
    with pytest.raises(
        InvalidValueError, match=r"'batch_sizes\[Email opt-out\]' must be between 1 and 2000"
    ):
        GovernorLimits({Job.EMAIL_OPT_OUT: size})


def test_platform_jobs_are_capped_at_the_platform_page_size() -> None:
    """Reading pages and importing subscribers stop at 1,000 a call."""
    with pytest.raises(InvalidValueError, match="between 1 and 1000"):
        GovernorLimits({"Subscriber import": 1001})


def test_batch_sizes_are_read_from_settings_text() -> None:
    """Job names in any spelling and digit strings are accepted."""
    limits = GovernorLimits.parse({"EMAIL_OPT_OUT": "75", "campaign member refresh": 100})
    assert limits.changed() == {Job.EMAIL_OPT_OUT: 75, Job.CAMPAIGN_MEMBER_REFRESH: 100}
    assert GovernorLimits.parse(limits.to_mapping()) == limits


def test_bad_limits_are_refused() -> None:
    """Unknown jobs, bools, floats and repeated jobs are errors naming the field."""
    with pytest.raises(UnknownChoiceError, match="'batch_sizes' must be one of"):
        GovernorLimits({"Nightly magic": 10})
    with pytest.raises(InvalidTypeError, match="whole number"):
        parse_batch_size(True, Job.EMAIL_OPT_OUT)
    with pytest.raises(InvalidTypeError, match="whole number"):
        parse_batch_size(10.0, Job.EMAIL_OPT_OUT)
    with pytest.raises(InvalidValueError, match="each job once"):
        GovernorLimits({"email opt-out": 10, "EMAIL_OPT_OUT": 20})
    with pytest.raises(InvalidTypeError, match="'Governor_Limits'"):
        GovernorLimits.parse([10])


def test_batches_cut_items_in_order() -> None:
    """Consecutive batches of the size; the last holds the rest."""
    assert batches(range(7), 3) == ((0, 1, 2), (3, 4, 5), (6,))
    assert batches([], 3) == ()


def test_batches_refuse_a_size_below_one() -> None:
    """A batch holds at least one item."""
    with pytest.raises(InvalidValueError, match="'size' must be >= 1"):
        batches([1], 0)
    with pytest.raises(InvalidTypeError, match="'size'"):
        batches([1], True)


def test_plan_of_nothing_has_no_jobs() -> None:
    """No records, no jobs."""
    plan = plan_jobs(Job.RETENTION_PURGE, 0)
    assert (plan.jobs, plan.last_batch_size, list(plan.ranges())) == (0, 0, [])
    with pytest.raises(InvalidValueError, match="'count' must be >= 0"):
        plan_jobs(Job.RETENTION_PURGE, -1)


@given(st.lists(st.integers()), st.integers(1, 50))
def test_batches_rejoin_to_the_items(items: list[int], size: int) -> None:
    """Every batch is full except maybe the last, and together they are the items."""
    cut = batches(items, size)
    assert [x for batch in cut for x in batch] == items
    assert all(len(batch) == size for batch in cut[:-1])
    assert all(1 <= len(batch) <= size for batch in cut)


@given(st.integers(0, 100_000), st.integers(1, 2000), st.integers(1, 2000))
def test_a_smaller_batch_size_never_means_fewer_jobs(count: int, a: int, b: int) -> None:
    """Lowering a batch size gives smaller batches and at least as many jobs."""
    small, large = sorted((a, b))
    fine = plan_jobs(Job.EMAIL_OPT_OUT, count, GovernorLimits({Job.EMAIL_OPT_OUT: small}))
    coarse = plan_jobs(Job.EMAIL_OPT_OUT, count, GovernorLimits({Job.EMAIL_OPT_OUT: large}))
    assert fine.jobs >= coarse.jobs
    assert fine.batch_size <= coarse.batch_size


@given(st.integers(0, 10_000), st.integers(1, 2000))
def test_plan_ranges_cover_every_record_once(count: int, size: int) -> None:
    """The planned batches cover records 0..count-1 in order, each at most the size."""
    plan = JobPlan(Job.FULL_SYNC_REMOVAL, count, size)
    ranges = list(plan.ranges())
    assert len(ranges) == plan.jobs
    assert [i for start, stop in ranges for i in range(start, stop)] == list(range(count))
    assert all(0 < stop - start <= size for start, stop in ranges)
    if ranges:
        assert ranges[-1][1] - ranges[-1][0] == plan.last_batch_size
