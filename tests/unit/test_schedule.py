"""Import frequency and the primary sync's schedule: examples, DST gaps and folds, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from cmsf_core.domain.errors import (
    CmsfError,
    InvalidTypeError,
    InvalidValueError,
    NaiveDatetimeError,
    UnknownChoiceError,
)
from cmsf_core.domain.schedule import (
    DEFAULT_HOUR,
    DEFAULT_WEEKDAY,
    ImportFrequency,
    Schedule,
    Weekday,
    is_full_sync,
    iter_runs,
    next_run,
    parse_hour,
    resolve_zone,
    runs_between,
    upcoming_runs,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class NoOffset(tzinfo):
    """A zone that knows no offset, like a naive datetime."""

    def utcoffset(self, _dt: datetime | None) -> None:
        return None

    def dst(self, _dt: datetime | None) -> None:
        return None

    def tzname(self, _dt: datetime | None) -> None:
        return None


def runs(schedule: Schedule, after: datetime, tz: str, n: int) -> list[str]:
    return [r.isoformat() for r in upcoming_runs(schedule, after=after, tz=tz, n=n)]


# ----------------------------------------------------------------------------- the value


def test_default_schedule_is_hourly() -> None:
    """The product's default and recommended import frequency is Hourly."""
    assert Schedule().frequency is ImportFrequency.HOURLY
    assert Schedule() == Schedule.hourly()


def test_set_hour_schedules_default_to_midnight_and_weekly_to_sunday() -> None:
    """Daily, Weekly and Custom run at 00:00 unless told; Weekly on Sunday (cron's @weekly)."""
    assert Schedule.daily().hour == DEFAULT_HOUR == 0
    assert Schedule(ImportFrequency.WEEKLY).days == frozenset({DEFAULT_WEEKDAY})
    assert DEFAULT_WEEKDAY is Weekday.SUNDAY


def test_frequency_names_are_read_in_any_case() -> None:
    """All five product spellings are accepted case-insensitively."""
    names = ["never", "HOURLY", " Daily ", "weekly", "Custom"]
    assert [ImportFrequency.parse(n) for n in names] == list(ImportFrequency)


def test_unknown_frequency_lists_the_choices() -> None:
    """An unknown frequency names the field and every accepted value."""
    with pytest.raises(UnknownChoiceError, match="'Import_Frequency' must be one of 'Never'"):
        ImportFrequency.parse("fortnightly")


def test_weekday_accepts_names_and_prefixes() -> None:
    """Full names and any start of two letters or more are read, numbers are refused."""
    assert Weekday.parse("Tu") is Weekday.TUESDAY
    assert Weekday.parse("thurs.") is Weekday.THURSDAY
    assert Weekday.parse("SUNDAY") is Weekday.SUNDAY
    with pytest.raises(UnknownChoiceError):
        Weekday.parse("T")
    with pytest.raises(InvalidTypeError):
        Weekday.parse(0)


@pytest.mark.parametrize(
    ("text", "hour"),
    [("0", 0), ("23", 23), ("06:00", 6), ("6 am", 6), ("12am", 0), ("12 PM", 12), ("7p.m.", 19)],
)
def test_hours_are_read_from_product_spellings(text: str, hour: int) -> None:
    """An hour is read from 24-hour or am/pm text."""
    assert parse_hour(text) == hour


@pytest.mark.parametrize("text", ["24", "6:30", "13 pm", "0 am", "noon", "-1"])
def test_bad_hours_are_refused_naming_the_field(text: str) -> None:
    """Out-of-range hours, minutes other than :00 and other text are refused."""
    with pytest.raises(InvalidValueError, match="'hour' must be"):
        parse_hour(text)


def test_hour_refuses_bools() -> None:
    """``True`` is not hour 1."""
    with pytest.raises(InvalidTypeError, match="'hour'"):
        parse_hour(True)


def test_hourly_with_an_hour_is_refused() -> None:
    """Only Daily, Weekly and Custom run at a set hour."""
    with pytest.raises(InvalidValueError, match="'hour' must be left at 0 for a Hourly"):
        Schedule(ImportFrequency.HOURLY, hour=5)


def test_weekly_needs_exactly_one_day_and_custom_at_least_one() -> None:
    """Weekly runs on one day, Custom on one or more chosen days."""
    with pytest.raises(InvalidValueError, match="exactly one weekday"):
        Schedule(ImportFrequency.WEEKLY, days={"Mon", "Tue"})
    with pytest.raises(InvalidValueError, match="one or more weekdays for a Custom"):
        Schedule(ImportFrequency.CUSTOM)


def test_daily_with_days_is_refused() -> None:
    """A Daily schedule runs every day; chosen days are Custom."""
    with pytest.raises(InvalidValueError, match="use Custom"):
        Schedule(ImportFrequency.DAILY, days={"Mon"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Never", Schedule.never()),
        ("hourly", Schedule.hourly()),
        ("Daily", Schedule.daily(0)),
        ("Daily at 06:00", Schedule.daily(6)),
        ("daily @ 6pm", Schedule.daily(18)),
        ("Weekly", Schedule.weekly("Sunday", 0)),
        ("Weekly on Monday at 9 am", Schedule.weekly("Monday", 9)),
        ("Custom on Mon, Wed and Fri at 18:00", Schedule.custom({"Mo", "We", "Fr"}, 18)),
        ("custom: tue thu at 7", Schedule.custom({"Tuesday", "Thursday"}, 7)),
    ],
)
def test_schedules_are_read_from_product_like_text(text: str, expected: Schedule) -> None:
    """``<frequency> [on <days>] [at <hour>]`` in any case."""
    assert Schedule.parse(text) == expected


def test_schedules_are_read_from_mappings() -> None:
    """A mapping names frequency, days and hour (or their Import_* settings names)."""
    assert Schedule.parse({"Import_Frequency": "Custom", "Import_Days": ["Sat"], "hour": 5}) == (
        Schedule.custom({"Saturday"}, 5)
    )
    assert Schedule.parse({"frequency": "Daily", "hour": "06:00"}) == Schedule.daily(6)


def test_text_of_a_schedule_reads_back() -> None:
    """``str`` gives the product-like text and ``parse`` returns the same schedule."""
    schedule = Schedule.custom({"Friday", "Monday"}, hour=7)
    assert str(schedule) == "Custom on Monday, Friday at 07:00"
    assert Schedule.parse(str(schedule)) == schedule


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Hourly at 06:00", "'Import_Frequency.hour' must be left at 0"),
        ("Daily on Monday", "'Import_Frequency.days' must be empty for a Daily"),
        ("Weekly on Mon, Tue", "exactly one weekday"),
        ("Custom at 5", "one or more weekdays"),
        ("Daily at 6 at 7", "one hour"),
        ("Daily at 6:30", "'Import_Frequency.hour' must be a whole hour"),
        ("Custom on Funday", "'Import_Frequency.days' must be one of"),
        ({"hour": 5}, "a mapping with a 'frequency'"),
        ({"frequency": "Daily", "minute": 5}, "'Import_Frequency key' must be one of"),
        ("", "a schedule such as"),
    ],
)
def test_bad_specs_are_refused_with_a_clear_message(spec: object, message: str) -> None:
    """Each mistake is reported against the setting, saying what was expected."""
    with pytest.raises(InvalidValueError, match=message):
        Schedule.parse(spec)


def test_spec_of_the_wrong_type_is_a_type_error() -> None:
    """A number is no schedule."""
    with pytest.raises(InvalidTypeError, match="'Import_Frequency'"):
        Schedule.parse(3)


# ----------------------------------------------------------------------------- next run


def test_hourly_runs_at_the_top_of_the_next_hour() -> None:
    """The default schedule's next run is the next whole local hour."""
    assert next_run(Schedule(), after=utc(2024, 5, 1, 9, 15), tz="Europe/London") == utc(
        2024, 5, 1, 9
    ) + timedelta(hours=1)


def test_next_run_is_strictly_after() -> None:
    """A run exactly at ``after`` is not the next one."""
    assert next_run(Schedule.daily(9), after=utc(2024, 1, 10, 9), tz="UTC") == utc(2024, 1, 11, 9)


def test_never_has_no_next_run() -> None:
    """Never: the sync does not run on its own."""
    assert next_run(Schedule.never(), after=utc(2024, 1, 1), tz="UTC") is None
    assert upcoming_runs(Schedule.never(), after=utc(2024, 1, 1), tz="UTC", n=5) == ()


def test_days_are_the_org_local_dates() -> None:
    """Monday 07:00 in Sydney is Sunday 21:00 UTC: the local weekday decides."""
    found = next_run(Schedule.weekly("Monday", 7), after=utc(2024, 5, 1), tz="Australia/Sydney")
    assert found == utc(2024, 5, 5, 21)
    assert found is not None
    assert found.astimezone(ZoneInfo("Australia/Sydney")).strftime("%A %H:%M") == "Monday 07:00"


def test_results_are_utc_datetimes_whatever_the_input_zone() -> None:
    """``after`` may be in any zone; the run is a stdlib UTC datetime."""
    after = datetime(2024, 5, 1, 11, 15, tzinfo=timezone(timedelta(hours=2)))
    found = next_run(Schedule(), after=after, tz="Europe/Paris")
    assert found == utc(2024, 5, 1, 10)
    assert found is not None
    assert found.tzinfo is UTC


def test_zone_may_be_a_tzinfo_or_a_name() -> None:
    """An IANA name and the ZoneInfo it names give the same runs."""
    after = utc(2024, 3, 30)
    by_name = upcoming_runs(Schedule.daily(2), after=after, tz="America/New_York", n=10)
    by_zone = upcoming_runs(Schedule.daily(2), after=after, tz=ZoneInfo("America/New_York"), n=10)
    assert by_name == by_zone


def test_naive_after_is_refused() -> None:
    """The library never guesses a zone for ``after``."""
    with pytest.raises(NaiveDatetimeError, match="'after'"):
        next_run(Schedule(), after=datetime(2024, 1, 1), tz="UTC")


def test_unknown_zone_is_refused() -> None:
    """A zone name that names no IANA zone is an error naming ``tz``."""
    for name in ("Mars/Olympus_Mons", "Europe", "../etc", ""):
        with pytest.raises(InvalidValueError, match="'tz' must be an IANA time zone name"):
            next_run(Schedule(), after=utc(2024, 1, 1), tz=name)
    with pytest.raises(InvalidTypeError, match="'tz'"):
        resolve_zone(3)
    with pytest.raises(InvalidValueError, match="'tz' must be a time zone with a UTC offset"):
        resolve_zone(NoOffset())


def test_upcoming_runs_checks_n() -> None:
    """``n`` is a whole number from 0; 0 gives no runs."""
    assert upcoming_runs(Schedule(), after=utc(2024, 1, 1), tz="UTC", n=0) == ()
    with pytest.raises(InvalidValueError, match="'n'"):
        upcoming_runs(Schedule(), after=utc(2024, 1, 1), tz="UTC", n=-1)
    with pytest.raises(InvalidTypeError, match="'n'"):
        upcoming_runs(Schedule(), after=utc(2024, 1, 1), tz="UTC", n=True)


def test_iter_runs_checks_arguments_when_called() -> None:
    """A bad argument fails at the call, not at the first ``next``."""
    with pytest.raises(NaiveDatetimeError):
        iter_runs(Schedule(), after=datetime(2024, 1, 1), tz="UTC")


def test_custom_runs_on_each_chosen_day() -> None:
    """Custom: every chosen day at the hour, in order."""
    found = runs(Schedule.custom("Mon, Thu", hour=9), utc(2024, 7, 1), "America/New_York", 3)
    assert found == [
        "2024-07-01T13:00:00+00:00",
        "2024-07-04T13:00:00+00:00",
        "2024-07-08T13:00:00+00:00",
    ]


def test_runs_between_is_after_exclusive_and_until_inclusive() -> None:
    """``runs_between`` lists ``after < run <= until``."""
    found = runs_between(Schedule.daily(0), after=utc(2024, 1, 1), until=utc(2024, 1, 3), tz="UTC")
    assert found == (utc(2024, 1, 2), utc(2024, 1, 3))
    with pytest.raises(InvalidValueError, match="'until' must be at or after 'after'"):
        runs_between(Schedule(), after=utc(2024, 1, 3), until=utc(2024, 1, 1), tz="UTC")


# ----------------------------------------------------------------------------- DST gaps


def test_set_hour_in_a_gap_runs_at_the_first_instant_after_it_london() -> None:
    """London 31 Mar 2024: 01:00 does not exist; Daily at 01:00 runs at 02:00 BST."""
    assert runs(Schedule.daily(1), utc(2024, 3, 30, 12), "Europe/London", 2) == [
        "2024-03-31T01:00:00+00:00",  # 02:00 BST, the end of the gap
        "2024-04-01T00:00:00+00:00",  # 01:00 BST
    ]


def test_set_hour_in_a_gap_runs_at_the_first_instant_after_it_new_york() -> None:
    """New York 10 Mar 2024: 02:00 is skipped; Daily at 02:00 runs at 03:00 EDT."""
    assert runs(Schedule.daily(2), utc(2024, 3, 9, 12), "America/New_York", 2) == [
        "2024-03-10T07:00:00+00:00",
        "2024-03-11T06:00:00+00:00",
    ]


def test_set_hour_in_a_gap_southern_hemisphere() -> None:
    """Sydney 6 Oct 2024: 02:00 is skipped; Daily at 02:00 runs at 03:00 AEDT."""
    assert runs(Schedule.daily(2), utc(2024, 10, 5), "Australia/Sydney", 2) == [
        "2024-10-05T16:00:00+00:00",
        "2024-10-06T15:00:00+00:00",
    ]


def test_set_hour_in_a_half_hour_gap_runs_at_its_end() -> None:
    """Lord Howe 6 Oct 2024 jumps 02:00 -> 02:30: Daily at 02:00 runs at 02:30, not 03:00."""
    found = runs(Schedule.daily(2), utc(2024, 10, 4, 13), "Australia/Lord_Howe", 3)
    assert found == [
        "2024-10-04T15:30:00+00:00",  # 02:00 +10:30
        "2024-10-05T15:30:00+00:00",  # 02:30 +11:00, the end of the gap
        "2024-10-06T15:00:00+00:00",  # 02:00 +11:00
    ]


def test_weekly_run_on_the_gap_day_moves_to_the_end_of_the_gap() -> None:
    """A weekly run that falls in the gap happens once, just after it."""
    assert runs(Schedule.weekly("Sunday", 1), utc(2024, 3, 25), "Europe/London", 2) == [
        "2024-03-31T01:00:00+00:00",
        "2024-04-07T00:00:00+00:00",
    ]


def test_hourly_skips_the_hour_the_clock_skips() -> None:
    """London 31 Mar 2024: hourly runs at 00:00 GMT then 02:00 BST, one hour apart."""
    assert runs(Schedule.hourly(), utc(2024, 3, 30, 23, 30), "Europe/London", 3) == [
        "2024-03-31T00:00:00+00:00",
        "2024-03-31T01:00:00+00:00",
        "2024-03-31T02:00:00+00:00",
    ]


def test_hourly_across_a_half_hour_gap_waits_for_the_next_whole_hour() -> None:
    """Lord Howe: after 01:00 the clock never shows 02:00, so the next run is 03:00."""
    assert runs(Schedule.hourly(), utc(2024, 10, 5, 14), "Australia/Lord_Howe", 2) == [
        "2024-10-05T14:30:00+00:00",  # 01:00 +10:30
        "2024-10-05T16:00:00+00:00",  # 03:00 +11:00
    ]


def test_a_skipped_day_moves_its_run_to_the_next_day() -> None:
    """Samoa skipped 30 Dec 2011: its Daily 10:00 run happens at the gap's end, 31 Dec 00:00."""
    assert runs(Schedule.daily(10), utc(2011, 12, 29, 12), "Pacific/Apia", 3) == [
        "2011-12-29T20:00:00+00:00",
        "2011-12-30T10:00:00+00:00",
        "2011-12-30T20:00:00+00:00",
    ]


def test_two_slots_on_one_instant_run_once() -> None:
    """Samoa, Daily at 00:00: the skipped day's run and the next day's fall together, once."""
    assert runs(Schedule.daily(0), utc(2011, 12, 29, 12), "Pacific/Apia", 2) == [
        "2011-12-30T10:00:00+00:00",
        "2011-12-31T10:00:00+00:00",
    ]


def test_midnight_gap_keeps_the_local_date() -> None:
    """Santiago skips Sunday 00:00 (8 Sep 2024): the run is Sunday 01:00, still Sunday."""
    found = next_run(Schedule.weekly("Sunday", 0), after=utc(2024, 9, 7), tz="America/Santiago")
    assert found == utc(2024, 9, 8, 4)
    assert found is not None
    local = found.astimezone(ZoneInfo("America/Santiago"))
    assert (local.strftime("%A"), local.hour) == ("Sunday", 1)


# ----------------------------------------------------------------------------- DST folds


def test_set_hour_in_a_repeated_hour_runs_once_at_the_first_occurrence() -> None:
    """London 27 Oct 2024: 01:00 happens twice; Daily at 01:00 runs once, at 01:00 BST."""
    assert runs(Schedule.daily(1), utc(2024, 10, 26, 12), "Europe/London", 2) == [
        "2024-10-27T00:00:00+00:00",
        "2024-10-28T01:00:00+00:00",
    ]


def test_repeated_hour_southern_hemisphere() -> None:
    """Sydney 7 Apr 2024: 02:00 happens twice; Daily at 02:00 runs at 02:00 AEDT only."""
    assert runs(Schedule.daily(2), utc(2024, 4, 6), "Australia/Sydney", 2) == [
        "2024-04-06T15:00:00+00:00",
        "2024-04-07T16:00:00+00:00",
    ]


def test_repeated_half_hour_runs_once() -> None:
    """Lord Howe 7 Apr 2024 goes 02:00 -> 01:30: Daily at 01:00 runs once that day."""
    assert runs(Schedule.daily(1), utc(2024, 4, 5, 12), "Australia/Lord_Howe", 3) == [
        "2024-04-05T14:00:00+00:00",
        "2024-04-06T14:00:00+00:00",
        "2024-04-07T14:30:00+00:00",
    ]


def test_hourly_runs_each_distinct_whole_hour_instant_in_a_fold() -> None:
    """London 27 Oct 2024: hourly runs at 01:00 BST and at 01:00 GMT, an hour apart."""
    assert runs(Schedule.hourly(), utc(2024, 10, 26, 22, 30), "Europe/London", 5) == [
        "2024-10-26T23:00:00+00:00",
        "2024-10-27T00:00:00+00:00",  # 01:00 BST
        "2024-10-27T01:00:00+00:00",  # 01:00 GMT
        "2024-10-27T02:00:00+00:00",
        "2024-10-27T03:00:00+00:00",
    ]


def test_hourly_across_a_half_hour_fold_waits_for_the_next_whole_hour() -> None:
    """Lord Howe: 01:00 +11, then the clock goes back to 01:30 and next shows 02:00 +10:30."""
    assert runs(Schedule.hourly(), utc(2024, 4, 6, 13, 30), "Australia/Lord_Howe", 3) == [
        "2024-04-06T14:00:00+00:00",
        "2024-04-06T15:30:00+00:00",
        "2024-04-06T16:30:00+00:00",
    ]


def test_repeated_evening_hour_stays_on_its_local_date() -> None:
    """Santiago 6 Apr 2024 repeats Saturday 23:00: Daily at 23:00 runs once, at the first."""
    assert runs(Schedule.daily(23), utc(2024, 4, 6, 12), "America/Santiago", 2) == [
        "2024-04-07T02:00:00+00:00",
        "2024-04-08T03:00:00+00:00",
    ]


# ----------------------------------------------------------------------------- full daily sync


def test_first_sync_of_the_local_day_is_full_when_the_option_is_on() -> None:
    """Perform full daily sync: the first sync that starts on a new local date is full."""
    sydney = "Australia/Sydney"
    at = utc(2024, 5, 2, 0, 30)  # 10:30 on 2 May in Sydney
    earlier_same_day = utc(2024, 5, 1, 23, 30)  # 09:30 on 2 May
    day_before = utc(2024, 5, 1, 13, 30)  # 23:30 on 1 May
    assert not is_full_sync(at, full_daily_sync=True, tz=sydney, previous_run=earlier_same_day)
    assert is_full_sync(at, full_daily_sync=True, tz=sydney, previous_run=day_before)


def test_first_sync_ever_is_full_when_the_option_is_on() -> None:
    """With no previous sync the first one is full."""
    assert is_full_sync(utc(2024, 5, 2), full_daily_sync=True, tz="UTC", previous_run=None)


def test_no_sync_is_full_when_the_option_is_off() -> None:
    """Without the option every sync is incremental."""
    assert not is_full_sync(
        utc(2024, 5, 2), full_daily_sync=False, tz="UTC", previous_run=utc(2024, 4, 1)
    )


def test_full_daily_sync_uses_the_local_date_not_utc() -> None:
    """Two syncs on one UTC date but two New York dates: the second is full."""
    new_york = "America/New_York"
    previous = utc(2024, 5, 2, 3)  # 23:00 on 1 May in New York
    assert is_full_sync(
        utc(2024, 5, 2, 5), full_daily_sync=True, tz=new_york, previous_run=previous
    )


def test_previous_run_must_come_before_the_run() -> None:
    """A previous run at or after the run is a mistake, reported against ``previous_run``."""
    with pytest.raises(InvalidValueError, match="'previous_run' must be before 'run_at'"):
        is_full_sync(utc(2024, 5, 2), full_daily_sync=True, tz="UTC", previous_run=utc(2024, 5, 2))


def test_full_daily_sync_flag_must_be_a_bool() -> None:
    """``"yes"`` is not read as a flag here; settings parsing does that."""
    with pytest.raises(InvalidTypeError, match="'full_daily_sync'"):
        is_full_sync(utc(2024, 5, 2), full_daily_sync="yes", tz="UTC", previous_run=None)  # type: ignore[arg-type]


def test_schedule_errors_are_library_errors() -> None:
    """Every refusal can be caught as a CmsfError."""
    with pytest.raises(CmsfError):
        Schedule.parse("Weekly on Mon, Tue")
