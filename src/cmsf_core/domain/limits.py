"""Internal governor limits: how many records each background job handles per batch.

The CRM caps what one transaction may do, so the integration splits its work into
batches, one job per batch.  Each job has a default batch size; an admin who hits a
limit in one job (the product's example: the email opt-out batch job) lowers its size,
which means fewer records in each batch and more jobs.  :data:`JOB_LIMITS` is the table
of jobs, defaults and maxima; :func:`batches` and :func:`plan_jobs` do the splitting.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

import attrs

from cmsf_core.domain.choices import Choice, read_as
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.frozen import FrozenMap

__all__ = [
    "JOB_LIMITS",
    "MIN_BATCH_SIZE",
    "GovernorLimits",
    "Job",
    "JobLimit",
    "JobPlan",
    "batches",
    "parse_batch_size",
    "plan_jobs",
]

T = TypeVar("T")


class Job(Choice):
    """The integration's background jobs that work in batches.

    :meth:`parse` reads a job from its name or its label; case, ``_``, ``-`` and spaces are
    ignored.

    >>> Job.parse("email_opt_out"), Job.parse("Email Opt-Out")
    (<Job.EMAIL_OPT_OUT: 'Email opt-out'>, <Job.EMAIL_OPT_OUT: 'Email opt-out'>)
    """

    PRIMARY_SYNC = "Primary sync"
    EMAIL_OPT_OUT = "Email opt-out"
    RETENTION_PURGE = "Retention purge"
    CAMPAIGN_MEMBER_REFRESH = "Campaign member refresh"
    SUBSCRIBER_IMPORT = "Subscriber import"
    SUPPRESSION_LIST = "Suppression list"
    FULL_SYNC_REMOVAL = "Full sync removal"


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


read_as(Job, field="job", expected="a job name", key=_squash, names=True)

#: The smallest batch any job accepts.
MIN_BATCH_SIZE = 1


@attrs.frozen
class JobLimit:
    """A job's default batch size, the largest it accepts, and what a batch holds."""

    default: int
    maximum: int
    unit: str


# A CRM batch job takes 200 records a batch by default and at most 2,000; the platform
# reads pages of at most 1,000 records and imports at most 1,000 subscribers a call.
_CRM = JobLimit(200, 2000, "CRM records per batch")

#: Every job's default and maximum batch size.
JOB_LIMITS: FrozenMap[Job, JobLimit] = FrozenMap(
    {
        Job.PRIMARY_SYNC: JobLimit(1000, 1000, "platform records read per page"),
        Job.EMAIL_OPT_OUT: _CRM,
        Job.RETENTION_PURGE: _CRM,
        Job.CAMPAIGN_MEMBER_REFRESH: _CRM,
        Job.SUBSCRIBER_IMPORT: JobLimit(1000, 1000, "subscribers per platform import call"),
        Job.SUPPRESSION_LIST: JobLimit(1000, 1000, "suppressed emails read per page"),
        Job.FULL_SYNC_REMOVAL: _CRM,
    }
)


def parse_batch_size(value: object, job: Job, field: str | None = None) -> int:
    """A batch size for ``job``: a whole number from 1 to the job's maximum.

    Digit strings are accepted.

    >>> parse_batch_size("50", Job.EMAIL_OPT_OUT)
    50
    """
    name = field or f"batch_sizes[{job.value}]"
    if isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(name, "a whole number of records", value)
    maximum = JOB_LIMITS[job].maximum
    if not MIN_BATCH_SIZE <= value <= maximum:
        raise InvalidValueError(name, f"between {MIN_BATCH_SIZE} and {maximum}", value)
    return value


def _to_batch_sizes(value: object) -> FrozenMap[Job, int]:
    if not isinstance(value, Mapping):
        raise InvalidTypeError("batch_sizes", "a mapping of job to batch size", value)
    sizes = {job: limit.default for job, limit in JOB_LIMITS.items()}
    given: set[Job] = set()
    for key, size in value.items():
        job = Job.parse(key, "batch_sizes")
        if job in given:
            raise InvalidValueError("batch_sizes", "each job once", job.value)
        given.add(job)
        sizes[job] = parse_batch_size(size, job)
    return FrozenMap(sizes)


@attrs.frozen
class GovernorLimits:
    """The batch size of every job; jobs left out keep their default.

    >>> limits = GovernorLimits({"Email opt-out": 50})
    >>> limits.size_for(Job.EMAIL_OPT_OUT), limits.size_for(Job.RETENTION_PURGE)
    (50, 200)
    """

    batch_sizes: FrozenMap[Job, int] = attrs.field(factory=FrozenMap, converter=_to_batch_sizes)

    def size_for(self, job: Job) -> int:
        """The batch size of ``job``."""
        return self.batch_sizes[Job.parse(job)]

    def with_batch_size(self, job: Job | str, size: int) -> GovernorLimits:
        """These limits with one job's batch size changed."""
        parsed = Job.parse(job)
        return GovernorLimits({**self.batch_sizes, parsed: size})

    def changed(self) -> dict[Job, int]:
        """The jobs whose batch size is not the default, with their size."""
        return {
            job: size for job, size in self.batch_sizes.items() if size != JOB_LIMITS[job].default
        }

    @classmethod
    def parse(cls, value: object, field: str = "Governor_Limits") -> GovernorLimits:
        """Read a mapping of job name to batch size (see :meth:`Job.parse`)."""
        if isinstance(value, GovernorLimits):
            return value
        if not isinstance(value, Mapping):
            raise InvalidTypeError(field, "a mapping of job name to batch size", value)
        return cls(value)

    def to_mapping(self) -> dict[str, int]:
        """Every job's batch size by job label, as :meth:`parse` reads it back."""
        return {job.value: self.batch_sizes[job] for job in Job}


def batches(items: Iterable[T], size: int) -> tuple[tuple[T, ...], ...]:
    """``items`` cut into consecutive batches of ``size`` (the last may be smaller).

    >>> batches("abcde", 2)
    (('a', 'b'), ('c', 'd'), ('e',))
    """
    if isinstance(size, bool) or not isinstance(size, int):
        raise InvalidTypeError("size", "a whole number of items", size)
    if size < MIN_BATCH_SIZE:
        raise InvalidValueError("size", f">= {MIN_BATCH_SIZE}", size)
    if not isinstance(items, Iterable):
        raise InvalidTypeError("items", "an iterable", items)
    iterator = iter(items)
    return tuple(iter(lambda: tuple(itertools.islice(iterator, size)), ()))


@attrs.frozen
class JobPlan:
    """How a job splits ``records`` into batches of at most ``batch_size`` (one job each)."""

    job: Job
    records: int
    batch_size: int

    @property
    def jobs(self) -> int:
        """How many batches, hence jobs, the work takes."""
        return -(-self.records // self.batch_size)

    @property
    def last_batch_size(self) -> int:
        """The size of the last batch (0 when there is nothing to do)."""
        if self.records == 0:
            return 0
        return self.records - (self.jobs - 1) * self.batch_size

    def ranges(self) -> Iterator[tuple[int, int]]:
        """The ``(start, stop)`` record positions of each batch, in order."""
        for start in range(0, self.records, self.batch_size):
            yield start, min(start + self.batch_size, self.records)

    def __str__(self) -> str:
        """``Email opt-out: 1,000 records in 20 jobs of up to 50``."""
        return (
            f"{self.job.value}: {self.records:,} records in {self.jobs:,} "
            f"job{'s' if self.jobs != 1 else ''} of up to {self.batch_size:,}"
        )


def plan_jobs(job: Job | str, count: int, limits: GovernorLimits | None = None) -> JobPlan:
    """How ``count`` records of ``job`` are split under ``limits`` (default limits if none).

    >>> print(plan_jobs(Job.EMAIL_OPT_OUT, 1_000))
    Email opt-out: 1,000 records in 5 jobs of up to 200
    >>> print(plan_jobs(Job.EMAIL_OPT_OUT, 1_000, GovernorLimits({"Email opt-out": 50})))
    Email opt-out: 1,000 records in 20 jobs of up to 50
    """
    parsed = Job.parse(job)
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidTypeError("count", "a whole number of records", count)
    if count < 0:
        raise InvalidValueError("count", ">= 0", count)
    if limits is None:
        limits = GovernorLimits()
    if not isinstance(limits, GovernorLimits):
        raise InvalidTypeError("limits", "GovernorLimits", limits)
    return JobPlan(parsed, count, limits.size_for(parsed))
