"""Import schedules of the primary sync, and when the sync runs next in the org's time zone.

The product's "Import frequency" is Never, Hourly (the default and the recommended one),
Daily, Weekly or Custom (chosen days of the week and an hour of the day).  A
:class:`Schedule` holds one of them; :func:`next_run`, :func:`iter_runs`,
:func:`upcoming_runs` and :func:`runs_between` say when it fires.  They never read a
clock: the instant to count from is an argument, and every result is a UTC ``datetime``.

The rules follow cron's handling of daylight-saving changes:

- Days are the org's local dates: "Weekly on Sunday" means Sunday on the org's calendar.
- A set-hour run (Daily, Weekly, Custom) whose local time is skipped when clocks move
  forward runs at the first instant after the gap (02:00 in a zone that jumps from 02:00
  to 03:00 runs at 03:00 local).
- A set-hour run whose local time happens twice when clocks move back runs once, at the
  first occurrence.
- Hourly runs at every instant at which the local clock shows a whole hour (``HH:00:00``).
  An hour the clock skips has no run; an hour the clock shows twice has two runs, one
  hour apart, because hourly means "every hour" and those are two distinct instants.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from cmsf_core.domain.choices import Choice, read_as
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, UnknownChoiceError
from cmsf_core.domain.timeutil import ensure_utc, ensure_utc_or_none

__all__ = [
    "DEFAULT_HOUR",
    "DEFAULT_WEEKDAY",
    "MAX_UPCOMING",
    "ImportFrequency",
    "Schedule",
    "Weekday",
    "is_full_sync",
    "iter_runs",
    "next_run",
    "parse_hour",
    "resolve_zone",
    "runs_between",
    "upcoming_runs",
]

#: The hour a Daily, Weekly or Custom schedule runs at when none is given: midnight,
#: as cron's ``@daily`` and ``@weekly``.
DEFAULT_HOUR = 0
#: The most runs :func:`upcoming_runs` lists in one call (more than eleven years of Hourly).
MAX_UPCOMING = 100_000

_HOUR = timedelta(hours=1)
_SECOND = timedelta(seconds=1)


class ImportFrequency(Choice):
    """How often the primary sync runs on its own ("Import frequency").

    :meth:`parse` reads the product's names, in any case, surrounding spaces ignored.

    >>> ImportFrequency.parse(" weekly ")
    <ImportFrequency.WEEKLY: 'Weekly'>
    """

    NEVER = "Never"
    HOURLY = "Hourly"
    DAILY = "Daily"
    WEEKLY = "Weekly"
    CUSTOM = "Custom"


read_as(ImportFrequency, field="Import_Frequency", expected="an import frequency name")


class Weekday(enum.Enum):
    """A day of the week, Monday first (as :meth:`datetime.date.weekday` counts)."""

    MONDAY = "Monday"
    TUESDAY = "Tuesday"
    WEDNESDAY = "Wednesday"
    THURSDAY = "Thursday"
    FRIDAY = "Friday"
    SATURDAY = "Saturday"
    SUNDAY = "Sunday"

    @classmethod
    def parse(cls, value: object, field: str = "days") -> Weekday:
        """Read a day from its name or any start of it of two letters or more.

        Case, surrounding spaces and a trailing dot are ignored, so ``"Mon"``, ``"tu"``,
        ``"Thurs."`` and ``"SUNDAY"`` are all accepted.  Numbers are refused: calendars
        disagree on whether day 0 is a Sunday or a Monday.

        >>> Weekday.parse("thurs.")
        <Weekday.THURSDAY: 'Thursday'>
        """
        if isinstance(value, Weekday):
            return value
        if not isinstance(value, str):
            raise InvalidTypeError(field, "a weekday name", value)
        text = value.strip().rstrip(".").casefold()
        if len(text) >= 2:
            for day in cls:
                if day.value.casefold().startswith(text):
                    return day
        raise UnknownChoiceError(field, tuple(d.value for d in cls), value)

    @classmethod
    def of(cls, day: date) -> Weekday:
        """The weekday of a calendar date.

        >>> Weekday.of(date(2024, 3, 31))
        <Weekday.SUNDAY: 'Sunday'>
        """
        return _WEEKDAYS[day.weekday()]

    @property
    def index(self) -> int:
        """0 for Monday to 6 for Sunday."""
        return _WEEKDAYS.index(self)


_WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)

#: The day a Weekly schedule runs on when none is given: Sunday, as cron's ``@weekly``.
DEFAULT_WEEKDAY = Weekday.SUNDAY

_HOUR_TEXT = re.compile(
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?:(?P<half>[ap])\.?\s*m\.?)?", re.IGNORECASE
)


def parse_hour(value: object, field: str = "hour") -> int:
    """An hour of the day, 0 to 23, from an int or text such as ``"6"``, ``"06:00"``, ``"6 pm"``.

    The product schedules by the hour, so minutes other than ``:00`` are refused.

    >>> parse_hour("6 pm"), parse_hour("12am"), parse_hour("07:00")
    (18, 0, 7)
    """
    if isinstance(value, bool):
        raise InvalidTypeError(field, "an hour of the day (0 to 23)", value)
    if isinstance(value, int):
        if not 0 <= value <= 23:
            raise InvalidValueError(field, "an hour between 0 and 23", value)
        return value
    if not isinstance(value, str):
        raise InvalidTypeError(field, "an hour of the day (0 to 23)", value)
    match = _HOUR_TEXT.fullmatch(value.strip())
    if match is None:
        raise InvalidValueError(field, "an hour such as 6, '06:00' or '6 pm'", value)
    hour = int(match["hour"])
    if match["minute"] is not None and match["minute"] != "00":
        raise InvalidValueError(
            field, "a whole hour", value, detail="the product schedules the sync by the hour"
        )
    half = match["half"]
    if half is None:
        if hour > 23:
            raise InvalidValueError(field, "an hour between 0 and 23", value)
        return hour
    if not 1 <= hour <= 12:
        raise InvalidValueError(field, "an hour between 1 and 12 with am/pm", value)
    return hour % 12 + (12 if half.casefold() == "p" else 0)


def _parse_days(value: object, field: str) -> frozenset[Weekday]:
    if isinstance(value, Weekday | str):
        items: Iterable[object] = [value] if isinstance(value, Weekday) else _split_days(value)
    elif isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        items = list(value)
    else:
        raise InvalidTypeError(field, "weekday names", value)
    return frozenset(Weekday.parse(item, field) for item in items)


def _split_days(text: str) -> list[str]:
    parts = re.split(r"\s*,\s*|\s+and\s+|\s*&\s*|\s*/\s*|\s+", text.strip(), flags=re.IGNORECASE)
    return [p for p in parts if p]


def _check_shape(
    frequency: ImportFrequency, hour: int, days: frozenset[Weekday], prefix: str = ""
) -> None:
    """Raise unless the hour and days fit the frequency (see :class:`Schedule`)."""
    shown_days = tuple(d.value for d in _WEEKDAYS if d in days)
    if frequency in (ImportFrequency.NEVER, ImportFrequency.HOURLY):
        if hour != DEFAULT_HOUR:
            raise InvalidValueError(
                f"{prefix}hour",
                f"left at {DEFAULT_HOUR} for a {frequency.value} schedule",
                hour,
                detail="only Daily, Weekly and Custom schedules run at a set hour",
            )
        if days:
            raise InvalidValueError(
                f"{prefix}days",
                f"empty for a {frequency.value} schedule",
                shown_days,
                detail="only Weekly and Custom schedules run on chosen days",
            )
    elif frequency is ImportFrequency.DAILY:
        if days:
            raise InvalidValueError(
                f"{prefix}days",
                "empty for a Daily schedule",
                shown_days,
                detail="a Daily schedule runs every day; use Custom for chosen days",
            )
    elif frequency is ImportFrequency.WEEKLY:
        if len(days) != 1:
            raise InvalidValueError(
                f"{prefix}days",
                "exactly one weekday for a Weekly schedule",
                shown_days,
                detail="use Custom for several days",
            )
    elif not days:
        raise InvalidValueError(f"{prefix}days", "one or more weekdays for a Custom schedule", ())


def _to_frequency(value: object) -> ImportFrequency:
    return ImportFrequency.parse(value, "frequency")


def _to_hour(value: object) -> int:
    return parse_hour(value, "hour")


def _to_days(value: object) -> frozenset[Weekday]:
    return _parse_days(value, "days")


_KEY_ROLES = {
    "frequency": "frequency",
    "import_frequency": "frequency",
    "days": "days",
    "import_days": "days",
    "weekdays": "days",
    "day": "days",
    "hour": "hour",
    "import_hour": "hour",
}


@attrs.frozen
class Schedule:
    """When the primary sync runs on its own: a frequency, and for some an hour and days.

    - Never and Hourly: no hour (left at 0) and no days.
    - Daily: an hour of the day, 0 to 23 (default 0, midnight).
    - Weekly: one weekday (default Sunday) and an hour (default 0).
    - Custom: one or more weekdays (required) and an hour (default 0).

    Hours and days are the org's local time.  The default is Hourly, the product's
    default and recommended schedule.  Named constructors read best:

    >>> print(Schedule.custom({"Mon", "Wed", "Fri"}, hour=7))
    Custom on Monday, Wednesday, Friday at 07:00
    >>> print(Schedule.weekly("Tuesday", hour="6 pm"))
    Weekly on Tuesday at 18:00
    >>> Schedule() == Schedule.hourly()
    True
    """

    frequency: ImportFrequency = attrs.field(
        default=ImportFrequency.HOURLY, converter=_to_frequency
    )
    hour: int = attrs.field(default=DEFAULT_HOUR, converter=_to_hour)
    days: frozenset[Weekday] = attrs.field(converter=_to_days)

    @days.default
    def _default_days(self) -> frozenset[Weekday]:
        if self.frequency is ImportFrequency.WEEKLY:
            return frozenset({DEFAULT_WEEKDAY})
        return frozenset()

    def __attrs_post_init__(self) -> None:
        _check_shape(self.frequency, self.hour, self.days)

    # -- named constructors -------------------------------------------------------------

    @classmethod
    def never(cls) -> Schedule:
        """The sync never runs on its own (only "Sync now" starts it)."""
        return cls(ImportFrequency.NEVER)

    @classmethod
    def hourly(cls) -> Schedule:
        """Every hour, at the top of the local hour (the default)."""
        return cls(ImportFrequency.HOURLY)

    @classmethod
    def daily(cls, hour: object = DEFAULT_HOUR) -> Schedule:
        """Every local day at ``hour``."""
        return cls(ImportFrequency.DAILY, hour)

    @classmethod
    def weekly(cls, day: object = DEFAULT_WEEKDAY, hour: object = DEFAULT_HOUR) -> Schedule:
        """Once a week, on ``day`` at ``hour`` local time."""
        return cls(ImportFrequency.WEEKLY, hour, frozenset({Weekday.parse(day, "days")}))

    @classmethod
    def custom(cls, days: object, hour: object = DEFAULT_HOUR) -> Schedule:
        """On each of ``days`` at ``hour`` local time."""
        return cls(ImportFrequency.CUSTOM, hour, days)

    # -- reading ------------------------------------------------------------------------

    @property
    def weekdays(self) -> tuple[Weekday, ...]:
        """The days it runs on, Monday first; every day for Hourly and Daily, none for Never."""
        if self.frequency is ImportFrequency.NEVER:
            return ()
        if self.frequency in (ImportFrequency.HOURLY, ImportFrequency.DAILY):
            return _WEEKDAYS
        return tuple(d for d in _WEEKDAYS if d in self.days)

    @property
    def runs_at_set_hour(self) -> bool:
        """Whether it runs once a day at most, at :attr:`hour` (Daily, Weekly, Custom)."""
        return self.frequency in _SET_HOUR

    def __str__(self) -> str:
        """The product-like text that :meth:`parse` reads back."""
        if not self.runs_at_set_hour:
            return self.frequency.value
        at = f"at {self.hour:02d}:00"
        if self.frequency is ImportFrequency.DAILY:
            return f"Daily {at}"
        names = ", ".join(d.value for d in self.weekdays)
        return f"{self.frequency.value} on {names} {at}"

    @classmethod
    def parse(cls, spec: object, field: str = "Import_Frequency") -> Schedule:
        """Read a schedule from product-like text, a mapping, a frequency or a schedule.

        Text is ``<frequency> [on <days>] [at <hour>]``: ``"Hourly"``, ``"Daily at 06:00"``,
        ``"Weekly on Monday at 9 am"``, ``"Custom on Mon, Wed and Fri at 18:00"``.  A mapping
        has a ``frequency`` and, where they apply, ``days`` and ``hour`` (also accepted as
        ``Import_Frequency``, ``Import_Days``, ``Import_Hour``).  Errors name ``field``.

        >>> Schedule.parse("custom on mon, fri at 7pm") == Schedule.custom({"Monday", "Friday"}, 19)
        True
        >>> Schedule.parse({"frequency": "Daily", "hour": "06:00"})
        Schedule(frequency=<ImportFrequency.DAILY: 'Daily'>, hour=6, days=frozenset())
        """
        if isinstance(spec, Schedule):
            return spec
        if isinstance(spec, ImportFrequency):
            return cls._build(spec, None, None, field)
        if isinstance(spec, str):
            return cls._parse_text(spec, field)
        if isinstance(spec, Mapping):
            return cls._parse_mapping(spec, field)
        raise InvalidTypeError(
            field, "a schedule such as 'Daily at 06:00' (text or a mapping)", spec
        )

    @classmethod
    def _parse_text(cls, text: str, field: str) -> Schedule:
        parts = re.split(r"\s+at\s+|\s*@\s*", text.strip(), flags=re.IGNORECASE)
        if len(parts) > 2:
            raise InvalidValueError(field, "a schedule with one hour ('... at 06:00')", text)
        head = parts[0].replace(":", " ").split(None, 1)
        if not head:
            raise InvalidValueError(field, "a schedule such as 'Hourly' or 'Daily at 06:00'", text)
        frequency = ImportFrequency.parse(head[0], field)
        rest = head[1].strip() if len(head) > 1 else ""
        rest = re.sub(r"^on\s+", "", rest, flags=re.IGNORECASE)
        days = _parse_days(rest, f"{field}.days") if rest else None
        hour = parse_hour(parts[1], f"{field}.hour") if len(parts) == 2 else None
        return cls._build(frequency, hour, days, field)

    @classmethod
    def _parse_mapping(cls, spec: Mapping[object, object], field: str) -> Schedule:
        roles: dict[str, object] = {}
        for key, value in spec.items():
            if not isinstance(key, str):
                raise InvalidTypeError(f"{field} key", "'frequency', 'days' or 'hour'", key)
            role = _KEY_ROLES.get(re.sub(r"[\s-]+", "_", key.strip()).casefold())
            if role is None:
                raise UnknownChoiceError(f"{field} key", ("frequency", "days", "hour"), key)
            if role in roles:
                raise InvalidValueError(f"{field}.{role}", "given once", value)
            roles[role] = value
        if "frequency" not in roles:
            raise InvalidValueError(field, "a mapping with a 'frequency'", dict(spec))
        frequency = ImportFrequency.parse(roles["frequency"], f"{field}.frequency")
        raw_days = roles.get("days")
        raw_hour = roles.get("hour")
        days = None if raw_days is None else _parse_days(raw_days, f"{field}.days")
        hour = None if raw_hour is None else parse_hour(raw_hour, f"{field}.hour")
        return cls._build(frequency, hour, days, field)

    @classmethod
    def _build(
        cls,
        frequency: ImportFrequency,
        hour: int | None,
        days: frozenset[Weekday] | None,
        field: str,
    ) -> Schedule:
        if days is None:
            days = (
                frozenset({DEFAULT_WEEKDAY}) if frequency is ImportFrequency.WEEKLY else frozenset()
            )
        hour = DEFAULT_HOUR if hour is None else hour
        _check_shape(frequency, hour, days, prefix=f"{field}.")
        return cls(frequency, hour, days)


_SET_HOUR = frozenset({ImportFrequency.DAILY, ImportFrequency.WEEKLY, ImportFrequency.CUSTOM})


# ----------------------------------------------------------------------------- zones


def resolve_zone(tz: object, field: str = "tz") -> tzinfo:
    """A ``tzinfo`` as given, or the IANA zone of that name (``"Europe/London"``).

    >>> resolve_zone("Australia/Lord_Howe")
    zoneinfo.ZoneInfo(key='Australia/Lord_Howe')
    """
    if isinstance(tz, tzinfo):
        zone = tz
    elif isinstance(tz, str):
        try:
            zone = ZoneInfo(tz.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise InvalidValueError(
                field, "an IANA time zone name such as 'Europe/London'", tz
            ) from None
    else:
        raise InvalidTypeError(field, "a tzinfo or an IANA time zone name", tz)
    try:
        offset = datetime(2000, 1, 1, tzinfo=zone).utcoffset()
    except NotImplementedError:
        offset = None
    if offset is None:
        raise InvalidValueError(field, "a time zone with a UTC offset", tz)
    return zone


def _wall(instant: datetime, zone: tzinfo) -> datetime:
    """The local wall-clock time of a UTC instant, as a naive datetime."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _offset(instant: datetime, zone: tzinfo) -> timedelta:
    offset = instant.astimezone(zone).utcoffset()
    if offset is None:  # pragma: no cover - resolve_zone refuses such zones
        raise InvalidValueError("tz", "a time zone with a UTC offset", zone)
    return offset


def _first_true_second(low: datetime, high: datetime, test: Callable[[datetime], bool]) -> datetime:
    """The earliest whole second in ``(low, high]`` that passes ``test``.

    ``test`` must be false at ``low`` and true at ``high``, flipping once in between;
    the offsets of real time zones change on whole seconds, so the answer is exact.
    """
    base = low.replace(microsecond=0)
    lo, hi = 0, int((high - base) // _SECOND)
    # invariant: test(base + lo s) is false (or lo is 0), test(base + hi s) is true
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if test(base + mid * _SECOND):
            hi = mid
        else:
            lo = mid
    return base + hi * _SECOND


def _slot_instant(day: date, hour: int, zone: tzinfo) -> datetime:
    """The instant a set-hour run of local ``day`` at ``hour`` happens (UTC).

    An existing local time: that instant; a repeated one: its first occurrence; a
    skipped one: the first instant after the gap.
    """
    wall = datetime.combine(day, time(hour))
    candidates = [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    existing = [c for c in candidates if _wall(c, zone) == wall]
    if existing:
        return min(existing)
    # In a gap the two folds read the wall time with the offsets on either side of the
    # jump, so the jump lies between them.
    low, high = min(candidates), max(candidates)
    if not low < high:  # pragma: no cover - a gap always has two readings
        return high
    return _first_true_second(low, high, lambda t: _wall(t, zone) >= wall)


def _next_set_hour(schedule: Schedule, after: datetime, zone: tzinfo) -> datetime:
    days = schedule.weekdays
    # Start a few days early: an offset change can put a slot of an earlier local date
    # after ``after``.  Slot instants never decrease as slots go on, so the first slot
    # after ``after`` is the next run.
    day = _wall(after, zone).date() - timedelta(days=3)
    for _ in range(_MAX_SCAN_DAYS):
        if Weekday.of(day) in days:
            instant = _slot_instant(day, schedule.hour, zone)
            if instant > after:
                return instant
        day += timedelta(days=1)
    raise InvalidValueError(  # pragma: no cover - needs a zone whose clock stops
        "tz", "a time zone whose clock reaches the next scheduled hour", zone
    )


_MAX_SCAN_DAYS = 400
_MAX_TRANSITIONS = 100


def _offset_differs(offset: timedelta, zone: tzinfo) -> Callable[[datetime], bool]:
    def test(instant: datetime) -> bool:
        return _offset(instant, zone) != offset

    return test


def _next_hourly(after: datetime, zone: tzinfo) -> datetime:
    instant = after
    for _ in range(_MAX_TRANSITIONS):
        offset = _offset(instant, zone)
        local = _wall(instant, zone)
        top = local.replace(minute=0, second=0, microsecond=0) + _HOUR
        candidate = instant + (top - local)
        if _offset(candidate, zone) == offset:
            return candidate
        # The offset changes before that hour is shown: find the change.
        change = _first_true_second(instant, candidate, _offset_differs(offset, zone))
        shown = _wall(change, zone)
        if shown.minute == shown.second == shown.microsecond == 0:
            return change
        instant = change
    raise InvalidValueError(  # pragma: no cover - needs a zone that never settles
        "tz", "a time zone whose clock reaches the next whole hour", zone
    )


def _check_after(after: object, field: str = "after") -> datetime:
    instant = ensure_utc(after, field)
    if not 1 < instant.year < 9998:
        raise InvalidValueError(field, "an instant between the years 2 and 9997", instant)
    return instant


def _next(schedule: Schedule, after: datetime, zone: tzinfo) -> datetime | None:
    if schedule.frequency is ImportFrequency.NEVER:
        return None
    if schedule.frequency is ImportFrequency.HOURLY:
        return _next_hourly(after, zone)
    return _next_set_hour(schedule, after, zone)


def _check_schedule(schedule: object) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise InvalidTypeError("schedule", "a Schedule", schedule)
    return schedule


def next_run(schedule: Schedule, *, after: datetime, tz: tzinfo | str) -> datetime | None:
    """The first run strictly after ``after``, in UTC; ``None`` for Never.

    ``after`` must be timezone-aware (any zone); ``tz`` is the org's time zone, a
    ``tzinfo`` or an IANA name.  See the module docstring for the DST rules.

    >>> from datetime import datetime, UTC
    >>> london = "Europe/London"
    >>> # 31 March 2024: London's clocks jump from 01:00 GMT to 02:00 BST.
    >>> next_run(Schedule.daily(1), after=datetime(2024, 3, 30, 12, tzinfo=UTC), tz=london)
    datetime.datetime(2024, 3, 31, 1, 0, tzinfo=datetime.timezone.utc)
    >>> next_run(Schedule.never(), after=datetime(2024, 3, 30, tzinfo=UTC), tz=london) is None
    True
    """
    schedule = _check_schedule(schedule)
    instant = _check_after(after)
    return _next(schedule, instant, resolve_zone(tz))


def iter_runs(schedule: Schedule, *, after: datetime, tz: tzinfo | str) -> Iterator[datetime]:
    """Every run strictly after ``after``, in order, without end (none for Never).

    The arguments are checked when this is called, not when the iterator is first used.
    """
    schedule = _check_schedule(schedule)
    instant = _check_after(after)
    zone = resolve_zone(tz)

    def runs(current: datetime) -> Iterator[datetime]:
        while True:
            found = _next(schedule, current, zone)
            if found is None or found.year >= 9998:
                return
            yield found
            current = found

    return runs(instant)


def upcoming_runs(
    schedule: Schedule, *, after: datetime, tz: tzinfo | str, n: int
) -> tuple[datetime, ...]:
    """The next ``n`` runs strictly after ``after`` (UTC, increasing); ``()`` for Never.

    >>> from datetime import datetime, UTC
    >>> runs = upcoming_runs(
    ...     Schedule.custom("Mon, Thu", hour=9), after=datetime(2024, 7, 1, tzinfo=UTC),
    ...     tz="America/New_York", n=3,
    ... )
    >>> [r.isoformat() for r in runs]
    ['2024-07-01T13:00:00+00:00', '2024-07-04T13:00:00+00:00', '2024-07-08T13:00:00+00:00']
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidTypeError("n", "an int", n)
    if not 0 <= n <= MAX_UPCOMING:
        raise InvalidValueError("n", f"between 0 and {MAX_UPCOMING}", n)
    runs = iter_runs(schedule, after=after, tz=tz)
    return tuple(run for run, _ in zip(runs, range(n), strict=False))


def runs_between(
    schedule: Schedule, *, after: datetime, until: datetime, tz: tzinfo | str
) -> tuple[datetime, ...]:
    """Every run ``r`` with ``after < r <= until`` (UTC, increasing)."""
    end = _check_after(until, "until")
    start = _check_after(after)
    if end < start:
        raise InvalidValueError("until", f"at or after 'after' ({start.isoformat()})", end)
    found = []
    for run in iter_runs(schedule, after=start, tz=tz):
        if run > end:
            break
        found.append(run)
    return tuple(found)


def is_full_sync(
    run_at: datetime,
    *,
    full_daily_sync: bool,
    tz: tzinfo | str,
    previous_run: datetime | None,
) -> bool:
    """Whether the primary sync starting at ``run_at`` is a full sync ("Perform full daily sync").

    With the option on, the first primary sync that starts on a local date of the org
    is a full sync and every later one that day is incremental.  ``previous_run`` is the
    start of the last primary sync before this one, scheduled or started by "Sync now"
    (``None`` if there has been none); it must be before ``run_at``.  With the option off
    every sync is incremental.  With a Daily, Weekly or Custom schedule every scheduled
    run is the first of its day, so each is full unless "Sync now" ran earlier that day.

    >>> from datetime import datetime, UTC
    >>> at = datetime(2024, 5, 2, 0, 30, tzinfo=UTC)   # 10:30 in Sydney
    >>> is_full_sync(at, full_daily_sync=True, tz="Australia/Sydney",
    ...              previous_run=datetime(2024, 5, 1, 23, 30, tzinfo=UTC))  # 09:30 same day
    False
    >>> is_full_sync(at, full_daily_sync=True, tz="Australia/Sydney",
    ...              previous_run=datetime(2024, 5, 1, 13, 30, tzinfo=UTC))  # 23:30 the day before
    True
    """
    if not isinstance(full_daily_sync, bool):
        raise InvalidTypeError("full_daily_sync", "a bool", full_daily_sync)
    run = ensure_utc(run_at, "run_at")
    previous = ensure_utc_or_none(previous_run, "previous_run")
    zone = resolve_zone(tz)
    if previous is not None and previous >= run:
        raise InvalidValueError("previous_run", f"before 'run_at' ({run.isoformat()})", previous)
    if not full_daily_sync:
        return False
    if previous is None:
        return True
    return _wall(previous, zone).date() != _wall(run, zone).date()
