"""The file platform's fast reading of tracking rows gives exactly what the checking reader
gives: the same events in the same order (values, types, time zones), the same skipped rows,
the same pages, for random exports: zones with DST gaps and folds (and their local mean
times of long ago), dates with and without seconds or a fraction of one, at the edges of the
calendar or not dates at all, duplicate rows, unicode, padded and malformed addresses,
URLs, list ids and bounce types of every kind, rows that are not objects, page files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsf_core.adapters.campaign_monitor.local_times import localise
from cmsf_core.adapters.files import STREAM_FILES, FilePlatform, PlatformFileError
from cmsf_core.adapters.files.tracking import _hour_start
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.records import TrackingPage
from cmsf_core.testing import read_whole_stream

ZONES = (
    "UTC",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a change of 30 minutes
    "America/St_Johns",  # an offset of -3:30, DST
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Apia",  # a whole day skipped
    "Africa/Casablanca",  # DST stopped for Ramadan
    "Pacific/Honolulu",
    "Asia/Kathmandu",
)
CLIENT = "client-1"
CAMPAIGNS = ("c-1", "c-2")

#: Local wall times near the clocks' changes of the zones, and anywhere.
_TRANSITIONS = (
    datetime(2024, 3, 31, 1),  # London spring forward
    datetime(2024, 10, 27, 1),  # London fall back
    datetime(2024, 4, 7, 2),  # Sydney fall back
    datetime(2024, 10, 6, 2),  # Sydney spring forward
    datetime(2024, 4, 7, 1, 30),  # Lord Howe
    datetime(2024, 3, 10, 2),  # New York
    datetime(2024, 11, 3, 1),
    datetime(2011, 12, 29, 23),  # Apia skips 30 December 2011
    datetime(1847, 12, 1, 0),  # London's local mean time ends
    datetime(1883, 11, 18, 12),  # US railway time
)
_NEAR = st.builds(
    lambda at, minutes, seconds: at + timedelta(minutes=minutes, seconds=seconds),
    st.sampled_from(_TRANSITIONS),
    st.integers(-150, 150),
    st.sampled_from((0, 0, 0, 1, 30, 59)),
)
_ANY = st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 12, 31))
_LOCAL = st.one_of(_NEAR, _NEAR, _ANY)


def _written(at: datetime, form: str) -> str:
    if form == "minute":
        return at.strftime("%Y-%m-%d %H:%M")
    if form == "T":
        return at.strftime("%Y-%m-%dT%H:%M:%S")
    if form == "fraction":
        return at.strftime("%Y-%m-%d %H:%M:%S") + f".{at.microsecond or 5}"
    if form == "padded":
        return f" {at:%Y-%m-%d %H:%M:%S}\t"
    return at.strftime("%Y-%m-%d %H:%M:%S")


_DATES = st.one_of(
    st.builds(
        _written,
        _LOCAL,
        st.sampled_from(("plain", "plain", "plain", "minute", "T", "fraction", "padded")),
    ),
    st.sampled_from(
        (
            "0001-01-01 00:00:00",
            "0001-01-01 00:30",
            "9999-12-31 23:59:59",
            "9999-12-31 12:00:00",
            "2024-02-30 10:00:00",
            "2024-13-01 10:00:00",
            "2024-01-01 24:00:00",
            "2024-01-01 10:60:00",
            "2024-01-01 10:00:60",
            "2024-01-01 10:00:0",
            "2024-01-01 10",
            "2024-01-01",
            "\uff12\uff10\uff12\uff14-01-01 10:00:00"  # fullwidth digits,
            "2024-01-01 1\uff10:00:00",
            "2024-01-01x10:00:00",
            "2024-01-01 10:00:00+00:00",
            "2024-01-01 10:00:00Z",
            "",
            " ",
        )
    ),
    st.none(),
    st.integers(-5, 5),
    st.just(["2024-01-01 10:00:00"]),
)
_EMAILS = st.one_of(
    st.sampled_from(
        (
            "ava@example.com",
            "Ava@Example.com",
            " ava@example.com ",
            "josé@exämple.com",
            "用户@例子.广告",
            "ben+tag@example.co.uk",
            "no-at-sign",
            "two@@example.com",
            "tab\t@example.com",
            "a@b",
            "",
            "   ",
        )
    ),
    st.emails().map(str),
    st.text(max_size=8),
    st.none(),
    st.just(5),
    st.just({"a": 1}),
)
_TEXTS = st.one_of(
    st.none(),
    st.sampled_from(("", "  ", "https://example.com/a", " https://example.com/b ", "list-1")),
    st.text(max_size=6),
    st.just(3),
    st.just(["x"]),
)
_BOUNCES = st.one_of(
    st.sampled_from(("Soft", "Hard", "soft", " HARD ", "\uff33oft", "Medium", "", " ")),
    st.none(),
    st.just(1),
)


_GOOD_EMAILS = st.sampled_from(
    (
        "ava@example.com",
        "Ava@Example.com",
        " ava@example.com ",
        "josé@exämple.com",
        "用户@例子.广告",
        "ben+tag@example.co.uk",
    )
)
_GOOD_DATES = st.builds(
    _written, _LOCAL, st.sampled_from(("plain", "plain", "minute", "T", "fraction", "padded"))
)
_GOOD_TEXTS = st.sampled_from(
    (None, "", "  ", "https://example.com/a", " https://example.com/b ", "list-1", "é")
)
_GOOD_BOUNCES = st.sampled_from(("Soft", "Hard", "soft", " HARD "))


@st.composite
def _rows(draw: st.DrawFn) -> Any:
    """A row as the API writes it (most), or anything in its fields."""
    if draw(st.integers(0, 30)) == 0:
        return draw(st.sampled_from((None, "a row", 3, ["a", "b"])))
    plausible = draw(st.integers(0, 3)) > 0
    row: dict[str, Any] = {}
    for field, good, values, chance in (
        ("EmailAddress", _GOOD_EMAILS, _EMAILS, 20),
        ("Date", _GOOD_DATES, _DATES, 20),
        ("URL", _GOOD_TEXTS, _TEXTS, 2),
        ("ListID", _GOOD_TEXTS, _TEXTS, 3),
        ("BounceType", _GOOD_BOUNCES, _BOUNCES, 2),
    ):
        if draw(st.integers(0, chance)) > 0:
            row[field] = draw(good if plausible else values)
    return row


def _stream_rows(draw: st.DrawFn) -> list[Any]:
    pool = draw(st.lists(_rows(), min_size=1, max_size=6))
    return draw(st.lists(st.sampled_from(pool) | _rows(), max_size=12))  # duplicates


@st.composite
def _exports(draw: st.DrawFn) -> tuple[str, dict[str, dict[ActivityType, list[Any]]], int]:
    zone = draw(st.sampled_from(ZONES))
    streams = {
        campaign: {
            stream: _stream_rows(draw) for stream in ActivityType if draw(st.integers(0, 3)) > 0
        }
        for campaign in CAMPAIGNS
    }
    return zone, streams, draw(st.integers(1, 4))


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _write_export(
    folder: Path, zone: str, streams: dict[str, dict[ActivityType, list[Any]]], per_file: int
) -> None:
    _write(folder / "clients.json", [{"ClientID": CLIENT, "Name": "Client"}])
    _write(
        folder / "clients" / CLIENT / "details.json",
        {"BasicDetails": {"ClientID": CLIENT, "TimeZone": zone}},
    )
    _write(
        folder / "clients" / CLIENT / "campaigns.json",
        [
            {"CampaignID": c, "Name": c, "SentDate": f"2024-03-31 0{n}:30:00"}
            for n, c in enumerate(CAMPAIGNS)
        ],
    )
    for campaign, rows_of in streams.items():
        for stream, rows in rows_of.items():
            stem = STREAM_FILES[stream]
            chunks = [rows[i : i + per_file] for i in range(0, len(rows), per_file)] or [[]]
            for number, chunk in enumerate(chunks, 1):
                name = f"{stem}.json" if len(chunks) == 1 else f"{stem}.{number}.json"
                envelope = {
                    "Results": chunk,
                    "PageNumber": number,
                    "RecordsOnThisPage": len(chunk),
                    "TotalNumberOfRecords": len(rows),
                    "NumberOfPages": len(chunks),
                }
                _write(folder / "campaigns" / campaign / name, envelope)


def _shown(page: TrackingPage) -> tuple[object, ...]:
    """Everything of a page, down to each instant's type and time zone."""
    return (
        page,
        repr(page.results),
        [(type(e.occurred_at), e.occurred_at.tzinfo) for e in page.results],
        [attrs.astuple(row) for row in page.skipped],
    )


def _read(platform: FilePlatform, since: datetime | None, page_size: int) -> list[object]:
    """Every stream of every campaign, page by page; then the first campaign again (read
    once more, after the other's)."""
    found: list[object] = []
    for campaign in (*CAMPAIGNS, CAMPAIGNS[0]):
        for stream in ActivityType:
            _events, pages = read_whole_stream(
                platform, campaign, stream, since=since, page_size=page_size
            )
            found.extend(_shown(page) for page in pages)
    return found


@settings(max_examples=75, deadline=None)
@given(
    export=_exports(),
    since=st.none() | st.sampled_from((datetime(2024, 3, 31, 0, 45, tzinfo=UTC),)),
    page_size=st.integers(1, 5),
)
def test_the_fast_reader_reads_exactly_what_the_checking_reader_reads(
    export: tuple[str, dict[str, dict[ActivityType, list[Any]]], int],
    since: datetime | None,
    page_size: int,
) -> None:
    zone, streams, per_file = export
    with tempfile.TemporaryDirectory() as folder:
        _write_export(Path(folder), zone, streams, per_file)
        reference = FilePlatform(folder)
        reference._fast_rows = False
        expected = _read(reference, since, page_size)
        found = _read(FilePlatform(folder), since, page_size)
    assert found == expected


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), local=_LOCAL)
def test_an_hour_read_at_one_offset_is_what_localise_gives_each_of_its_times(
    zone: str, local: datetime
) -> None:
    hour = local.replace(minute=0, second=0, microsecond=0)
    start = _hour_start(hour.strftime("%Y-%m-%d %H"), ZoneInfo(zone))
    if start is not None:
        for at in (local, hour, hour + timedelta(minutes=59, seconds=59)):
            moment = at.replace(microsecond=0)
            assert start + (moment - hour) == localise(moment, ZoneInfo(zone))


def test_every_hour_of_the_zones_changes_is_read_as_localise_reads_it() -> None:
    """Minutes of the hours around each zone's changes of the clocks (1900-2040)."""
    for name in ZONES:
        zone = ZoneInfo(name)
        day = datetime(1900, 1, 1)
        previous = day.replace(tzinfo=zone).utcoffset()
        while day < datetime(2040, 1, 1):
            offset = day.replace(tzinfo=zone).utcoffset()
            if offset != previous:  # the clocks changed in the day before ``day``
                for hour in range(-26, 2):
                    at = day + timedelta(hours=hour)
                    start = _hour_start(at.strftime("%Y-%m-%d %H"), zone)
                    if start is not None:
                        for minute in (0, 1, 30, 59):
                            moment = at + timedelta(minutes=minute)
                            assert start + timedelta(minutes=minute) == localise(moment, zone)
            previous = offset
            day += timedelta(days=1)


# ----------------------------------------------------------------------------- memory

EXPORT = Path(__file__).parent.parent / "data" / "platform"
APRIL = "b41c7e2d9f0a4b6c8d1e3f5a7b9c0d2e"
SPRING = "5d2e8f1a3b4c4d6e9f0a1b2c3d4e5f60"


def test_one_campaigns_streams_are_held_and_no_page_file(tmp_path: Path) -> None:
    folder = tmp_path / "platform"
    shutil.copytree(EXPORT, folder)
    platform = FilePlatform(folder)
    first = read_whole_stream(platform, APRIL, ActivityType.OPENED)[0]
    read_whole_stream(platform, APRIL, ActivityType.SENT)  # two page files
    assert {campaign for campaign, _stream in platform._streams} == {APRIL}
    assert not any("campaigns" in path.parts for path in platform._json._cache)

    read_whole_stream(platform, SPRING, ActivityType.OPENED)
    assert {campaign for campaign, _stream in platform._streams} == {SPRING}

    # A campaign read again after another is read from its files again.
    opens = folder / "campaigns" / APRIL / "opens.json"
    envelope = json.loads(opens.read_text(encoding="utf-8"))
    envelope["Results"] = envelope["Results"][:1]
    envelope["RecordsOnThisPage"] = envelope["TotalNumberOfRecords"] = 1
    opens.write_text(json.dumps(envelope), encoding="utf-8")
    again = read_whole_stream(platform, APRIL, ActivityType.OPENED)[0]
    assert len(first) > 1
    assert len(again) == 1


def test_a_bad_later_page_file_fails_the_stream_as_before(tmp_path: Path) -> None:
    """Page files are read one at a time: a bad second file still fails the whole stream,
    naming that file, and no event of the first is served."""
    folder = tmp_path / "platform"
    shutil.copytree(EXPORT, folder)
    second = folder / "campaigns" / APRIL / "recipients.2.json"
    envelope = json.loads(second.read_text(encoding="utf-8"))
    envelope["TotalNumberOfRecords"] += 1
    second.write_text(json.dumps(envelope), encoding="utf-8")
    platform = FilePlatform(folder)
    with pytest.raises(PlatformFileError) as error:
        platform.tracking_page(APRIL, ActivityType.SENT, since=None, page=1, page_size=1000)
    assert error.value.field == "TotalNumberOfRecords"
    assert platform._streams == {}
    second.write_text("{", encoding="utf-8")
    with pytest.raises(PlatformFileError) as error:
        platform.tracking_page(APRIL, ActivityType.SENT, since=None, page=1, page_size=1000)
    assert error.value.path == second
