"""Schedule properties around real daylight-saving transitions.

Zones: Europe/London and America/New_York (northern hemisphere), Australia/Sydney
(southern), Australia/Lord_Howe (a 30-minute shift), America/Santiago (changes at
midnight) and Pacific/Chatham (a +12:45 offset).  The oracle walks UTC in 15-minute steps
(every offset of these zones is a multiple of 15 minutes, so every run lies on that grid)
and reads the local clock: an Hourly run is each step whose clock shows a whole hour; a
set-hour slot runs at the first step whose clock shows that slot's time or later.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.schedule import (
    ImportFrequency,
    Schedule,
    Weekday,
    is_full_sync,
    next_run,
    runs_between,
    upcoming_runs,
)

ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
)
STEP = timedelta(minutes=15)
WINDOW = timedelta(days=9)  # long enough to hold a run of every weekly schedule
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _offset(instant: datetime, zone: tzinfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


def _transitions(name: str, first_year: int, last_year: int) -> tuple[datetime, ...]:
    """Every offset change of a zone in the years given, to the second."""
    zone = ZoneInfo(name)
    found = []
    day = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    while day < end:
        following = day + timedelta(days=1)
        if _offset(day, zone) != _offset(following, zone):
            low, high = day, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if _offset(middle, zone) == _offset(low, zone):
                    low = middle
                else:
                    high = middle
            found.append(high)
        day = following
    return tuple(found)


TRANSITIONS = {name: _transitions(name, 2022, 2027) for name in ZONES}


def _wall(instant: datetime, zone: tzinfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _grid_floor(instant: datetime) -> datetime:
    return EPOCH + ((instant - EPOCH) // STEP) * STEP


def expected_runs(
    schedule: Schedule, after: datetime, until: datetime, zone: tzinfo
) -> tuple[datetime, ...]:
    """The runs in ``(after, until]`` by walking the local clock in 15-minute steps."""
    start = _grid_floor(after - timedelta(days=2))
    steps = int((until - start) / STEP) + 1
    instants = [start + k * STEP for k in range(steps)]
    walls = [_wall(t, zone) for t in instants]
    if schedule.frequency is ImportFrequency.HOURLY:
        found = [t for t, w in zip(instants, walls, strict=True) if w.minute == 0]
    else:
        first, last = min(walls).date() - timedelta(days=1), max(walls).date()
        dates = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        slots = [
            datetime.combine(d, time(schedule.hour))
            for d in dates
            if Weekday.of(d) in schedule.weekdays
        ]
        found = []
        pending = 0
        for instant, wall in zip(instants, walls, strict=True):
            while pending < len(slots) and slots[pending] <= wall:
                if not found or found[-1] != instant:
                    found.append(instant)
                pending += 1
    return tuple(t for t in found if after < t <= until)


def slot_of(run: datetime, schedule: Schedule, zone: tzinfo) -> tuple[date, int]:
    """The set-hour slot a run belongs to: the latest slot at or before its local time."""
    wall = _wall(run, zone)
    for back in range(8):
        day = wall.date() - timedelta(days=back)
        slot = datetime.combine(day, time(schedule.hour))
        if Weekday.of(day) in schedule.weekdays and slot <= wall:
            return day, schedule.hour
    raise AssertionError(f"no slot before {wall}")


hours = st.integers(0, 23)
weekdays = st.sampled_from(list(Weekday))
schedules = st.one_of(
    st.just(Schedule.hourly()),
    st.builds(Schedule.daily, hours),
    st.builds(Schedule.weekly, weekdays, hours),
    st.builds(Schedule.custom, st.frozensets(weekdays, min_size=1), hours),
)


@st.composite
def near_transitions(draw: st.DrawFn) -> tuple[Schedule, datetime, ZoneInfo]:
    """A zone, an instant within days of one of its real transitions, and a schedule
    whose hour and days are often those of the transition's gap or fold."""
    name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(name)
    transition = draw(st.sampled_from(TRANSITIONS[name]))
    after = transition + timedelta(
        seconds=draw(st.integers(-3 * 86_400, 86_400)),
        microseconds=draw(st.integers(0, 999_999)),
    )
    before, at = _wall(transition - timedelta(seconds=1), zone), _wall(transition, zone)
    near_hours = st.sampled_from(sorted({before.hour, at.hour, (before.hour + 1) % 24}))
    hour = draw(st.one_of(near_hours, hours))
    near_days = st.sampled_from([Weekday.of(before.date()), Weekday.of(at.date())])
    day = draw(st.one_of(near_days, weekdays))
    frequency = draw(
        st.sampled_from([f for f in ImportFrequency if f is not ImportFrequency.NEVER])
    )
    if frequency is ImportFrequency.HOURLY:
        schedule = Schedule.hourly()
    elif frequency is ImportFrequency.DAILY:
        schedule = Schedule.daily(hour)
    elif frequency is ImportFrequency.WEEKLY:
        schedule = Schedule.weekly(day, hour)
    else:
        schedule = Schedule.custom(draw(st.frozensets(weekdays)) | {day}, hour)
    return schedule, after, zone


@given(near_transitions())
def test_runs_are_exactly_the_scheduled_slots(case: tuple[Schedule, datetime, ZoneInfo]) -> None:
    """Runs in a window are exactly the oracle's: none missing, none extra, in order."""
    schedule, after, zone = case
    until = after + WINDOW
    assert runs_between(schedule, after=after, until=until, tz=zone) == expected_runs(
        schedule, after, until, zone
    )


@given(near_transitions())
def test_runs_strictly_increase_after_the_start(
    case: tuple[Schedule, datetime, ZoneInfo],
) -> None:
    """Every run is later than ``after`` and than the run before it, and is in UTC."""
    schedule, after, zone = case
    runs = upcoming_runs(schedule, after=after, tz=zone, n=30)
    assert len(runs) == 30
    assert all(r.tzinfo is UTC for r in runs)
    assert all(a < b for a, b in zip((after, *runs), runs, strict=False))


@given(near_transitions())
def test_no_slot_runs_twice(case: tuple[Schedule, datetime, ZoneInfo]) -> None:
    """A set-hour slot (local date + hour) runs at most once; an Hourly local hour runs
    twice only when the clock shows it twice (two offsets)."""
    schedule, after, zone = case
    runs = runs_between(schedule, after=after, until=after + WINDOW, tz=zone)
    if schedule.frequency is ImportFrequency.HOURLY:
        offsets_by_hour: dict[datetime, list[timedelta | None]] = {}
        for run in runs:
            offsets_by_hour.setdefault(_wall(run, zone), []).append(_offset(run, zone))
        for offsets in offsets_by_hour.values():
            assert len(offsets) == len(set(offsets)) <= 2
    else:
        slots = [slot_of(r, schedule, zone) for r in runs]
        assert len(slots) == len(set(slots))


@given(near_transitions())
def test_set_hour_runs_show_the_slot_time_or_the_end_of_a_gap(
    case: tuple[Schedule, datetime, ZoneInfo],
) -> None:
    """A set-hour run happens at its local time, or right after a gap that skipped it."""
    schedule, after, zone = case
    if schedule.frequency is ImportFrequency.HOURLY:
        return
    for run in runs_between(schedule, after=after, until=after + WINDOW, tz=zone):
        wall = _wall(run, zone)
        if (wall.hour, wall.minute) != (schedule.hour, 0):
            day, hour = slot_of(run, schedule, zone)
            slot = datetime.combine(day, time(hour))
            assert _wall(run - timedelta(seconds=1), zone) < slot < wall


@given(near_transitions(), st.integers(0, 10**6))
def test_next_run_from_between_two_runs_is_the_later_one(
    case: tuple[Schedule, datetime, ZoneInfo], fraction: int
) -> None:
    """From any instant in ``[run_i, run_i+1)`` the next run is ``run_i+1``."""
    schedule, after, zone = case
    first, second = upcoming_runs(schedule, after=after, tz=zone, n=2)
    between = first + (second - first) * fraction // (10**6 + 1)
    assert next_run(schedule, after=between, tz=zone) == second


@given(near_transitions())
def test_full_daily_sync_marks_one_run_per_local_day(
    case: tuple[Schedule, datetime, ZoneInfo],
) -> None:
    """With "Perform full daily sync", each local date with runs has exactly one full one."""
    schedule, after, zone = case
    runs = runs_between(schedule, after=after, until=after + WINDOW, tz=zone)
    full = [
        r
        for previous, r in zip((None, *runs), runs, strict=False)
        if is_full_sync(r, full_daily_sync=True, tz=zone, previous_run=previous)
    ]
    assert Counter(_wall(r, zone).date() for r in full) == Counter(
        dict.fromkeys({_wall(r, zone).date() for r in runs}, 1)
    )


@given(schedules)
def test_schedule_text_reads_back(schedule: Schedule) -> None:
    """``Schedule.parse(str(s)) == s`` for every schedule."""
    assert Schedule.parse(str(schedule)) == schedule
