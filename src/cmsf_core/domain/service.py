"""What the sync service runs now: the pure decision behind a scheduled service loop.

The product runs the primary sync on its import schedule (:class:`~cmsf_core.domain.
schedule.Schedule`), makes the first sync of each local day a full sync when "Perform
full daily sync" is on, and runs nothing while the sync is turned off or the connection
is not active.  :func:`due` is that decision as a pure function of the schedule, what
the service remembers (:class:`ServiceState`) and the instant ``now``; a shell asks it,
runs what it says, and records the run with :func:`after_run`.

Rules (each one tested):

- A scheduled run is *served* once: after :func:`after_run` records it, asking again at
  the same or a later instant before the next scheduled run gives nothing.
- Runs missed while the service was not asked (the machine slept, a sync took longer
  than the interval) are caught up by **one** run, never by one run per missed slot;
  the decision says how many it covers.
- A service with no history runs at its first decision, serving the latest scheduled
  run at or before ``now`` (nothing to wait for: the data is already behind).
- A failed run is recorded like a finished one: the scheduled run it served is not run
  again, and the next scheduled run retries the work (the sync's watermark did not
  move, so nothing is lost).  The failure itself is the shell's to report.
- Full or incremental follows :func:`~cmsf_core.domain.schedule.is_full_sync`: with
  the option on, the first primary sync of a local date of the org is full.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta, tzinfo
from itertools import takewhile

import attrs

from cmsf_core.domain.checks import check_bool
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.schedule import (
    ImportFrequency,
    Schedule,
    is_full_sync,
    iter_runs,
    next_run,
    resolve_zone,
)
from cmsf_core.domain.timeutil import ensure_utc, ensure_utc_or_none

__all__ = ["RunKind", "ServiceDecision", "ServiceState", "after_run", "due"]

#: How far back a service with no history looks for the scheduled run it serves first:
#: longer than the longest gap between two runs of any schedule (a week).
_LOOKBACK = timedelta(days=8)


class RunKind(enum.Enum):
    """What the service runs now."""

    NOTHING = "nothing"
    INCREMENTAL = "incremental"
    FULL = "full"


def _to_served(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "last_served")


def _to_started(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "last_started")


@attrs.frozen
class ServiceState:
    """What the service remembers between two decisions.

    ``last_served`` is the latest scheduled run already served (run or failed; ``None``:
    the service has no history), ``last_started`` the start of the last primary sync,
    scheduled or started by hand (for the daily full sync), ``sync_enabled`` whether the
    sync is turned on, ``connection_active`` whether the platform connection answers.
    """

    last_served: datetime | None = attrs.field(default=None, converter=_to_served)
    last_started: datetime | None = attrs.field(default=None, converter=_to_started)
    sync_enabled: bool = attrs.field(default=True, validator=check_bool)
    connection_active: bool = attrs.field(default=True, validator=check_bool)


@attrs.frozen
class ServiceDecision:
    """What :func:`due` decided: what to run, for which scheduled run, and why.

    ``serves`` is the scheduled run this sync serves (``None`` when nothing runs),
    ``covers`` how many scheduled runs it catches up (1 when on time), ``next_check`` the
    next scheduled run after ``now`` (``None`` when there is none: Never, turned off or
    disconnected), ``reason`` one sentence for a person.
    """

    kind: RunKind
    reason: str
    serves: datetime | None = None
    covers: int = 0
    next_check: datetime | None = None

    @property
    def runs(self) -> bool:
        """Whether a sync runs now."""
        return self.kind is not RunKind.NOTHING


def _check_schedule(schedule: object) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise InvalidTypeError("schedule", "a Schedule", schedule)
    return schedule


def _check_state(state: object) -> ServiceState:
    if not isinstance(state, ServiceState):
        raise InvalidTypeError("state", "a ServiceState", state)
    return state


def _pending(
    schedule: Schedule, state: ServiceState, now: datetime, zone: tzinfo
) -> list[datetime]:
    """The scheduled runs at or before ``now`` not served yet (only the latest without history)."""
    start = state.last_served if state.last_served is not None else now - _LOOKBACK
    pending = list(takewhile(lambda run: run <= now, iter_runs(schedule, after=start, tz=zone)))
    if state.last_served is None:
        return pending[-1:]
    return pending


def due(
    schedule: Schedule,
    state: ServiceState,
    now: datetime,
    *,
    tz: tzinfo | str,
    full_daily_sync: bool = False,
) -> ServiceDecision:
    """What the service runs at ``now``: nothing, an incremental sync or a full sync.

    ``tz`` is the org's time zone (the schedule's and the full sync's days are its local
    dates).  ``now`` must not be before ``state.last_served``.

    >>> from datetime import datetime, UTC
    >>> state = ServiceState(last_served=datetime(2024, 5, 1, 9, tzinfo=UTC))
    >>> due(Schedule.hourly(), state, datetime(2024, 5, 1, 9, 40, tzinfo=UTC), tz="UTC").kind
    <RunKind.NOTHING: 'nothing'>
    >>> decision = due(Schedule.hourly(), state, datetime(2024, 5, 1, 10, 5, tzinfo=UTC), tz="UTC")
    >>> decision.kind, decision.serves.hour
    (<RunKind.INCREMENTAL: 'incremental'>, 10)
    """
    schedule = _check_schedule(schedule)
    state = _check_state(state)
    instant = ensure_utc(now, "now")
    zone = resolve_zone(tz)
    if not isinstance(full_daily_sync, bool):
        raise InvalidTypeError("full_daily_sync", "a bool", full_daily_sync)
    if state.last_served is not None and instant < state.last_served:
        raise InvalidValueError(
            "now", f"at or after the last served run ({state.last_served.isoformat()})", instant
        )
    if not state.sync_enabled:
        return ServiceDecision(RunKind.NOTHING, "the sync is turned off")
    if not state.connection_active:
        return ServiceDecision(RunKind.NOTHING, "the connection is not active: reconnect to sync")
    if schedule.frequency is ImportFrequency.NEVER:
        return ServiceDecision(RunKind.NOTHING, "the import frequency is Never")
    following = next_run(schedule, after=instant, tz=zone)
    pending = _pending(schedule, state, instant, zone)
    if not pending:
        return ServiceDecision(RunKind.NOTHING, "no scheduled run is due", next_check=following)
    serves = pending[-1]
    previous = state.last_started
    full = (previous is None or previous < instant) and is_full_sync(
        instant, full_daily_sync=full_daily_sync, tz=zone, previous_run=previous
    )
    kind = RunKind.FULL if full else RunKind.INCREMENTAL
    what = "the daily full sync" if full else "the scheduled sync"
    missed = f", catching up {len(pending)} scheduled runs" if len(pending) > 1 else ""
    return ServiceDecision(
        kind,
        f"{what} of {serves.isoformat()}{missed}",
        serves=serves,
        covers=len(pending),
        next_check=following,
    )


def after_run(state: ServiceState, decision: ServiceDecision, *, started: datetime) -> ServiceState:
    """The state once the sync ``decision`` asked for has run (or failed), started at ``started``.

    A decision that ran nothing leaves the state as it is.  The served run is recorded
    whether the sync finished or failed: a failed sync is retried by the next scheduled
    run, never by running the same one again in a loop.
    """
    state = _check_state(state)
    if not isinstance(decision, ServiceDecision):
        raise InvalidTypeError("decision", "a ServiceDecision", decision)
    began = ensure_utc(started, "started")
    if not decision.runs:
        return state
    return attrs.evolve(state, last_served=decision.serves, last_started=began)
