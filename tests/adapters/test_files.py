"""The file platform: Campaign Monitor API responses read from a folder.

- the EmailPlatform contract, on seeds written to a folder in the API's shapes;
- the example export in ``tests/data/platform`` read and synced into the in-memory CRM;
- the localisation of naive local times around real DST gaps and folds;
- every kind of bad file refused with an error naming the file, the record and the field.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if "cmsf_core.testing" not in sys.modules:  # pytest's assert messages in the contracts
    pytest.register_assert_rewrite("cmsf_core.testing")

from cmsf_core.adapters.files import (
    STREAM_FILES,
    FilePlatform,
    PlatformFileError,
    localise,
    zone_for_time_zone,
)
from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import CmsfError, InvalidValueError
from cmsf_core.domain.records import (
    CampaignSummary,
    PlatformCampaign,
    PlatformClient,
    SkippedRow,
    TrackingPage,
)
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import (
    ImportSubscribers,
    SubscriberImport,
    SubscriberState,
    Unsubscribe,
)
from cmsf_core.shell.sync import run_sync
from cmsf_core.testing import EmailPlatformContract, PlatformSeed, read_whole_stream

EXPORT = Path(__file__).parent.parent / "data" / "platform"
BOOKS = "3f9d2c1a7b6e4d508a1c2e3f4b5a6978"  # Harbour Books, Sydney
CYCLES = "8e7d6c5b4a39281706f5e4d3c2b1a098"  # Thames Cycles, London
APRIL = "b41c7e2d9f0a4b6c8d1e3f5a7b9c0d2e"
SPRING = "5d2e8f1a3b4c4d6e9f0a1b2c3d4e5f60"
READERS = "c7a1e9b3d5f24a6c8e0b2d4f6a8c0e13"

#: The display names the contract's seeds are written with (the others as IANA names).
DISPLAY_NAMES = {
    "Australia/Sydney": "(GMT+10:00) Canberra, Melbourne, Sydney",
    "Europe/London": "(GMT) Dublin, Edinburgh, Lisbon, London",
}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ----------------------------------------------------------------------------- writing seeds


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def _envelope(rows: list[Any], page: int, pages: int, size: int, total: int) -> dict[str, Any]:
    return {
        "Results": rows,
        "ResultsOrderedBy": "date",
        "OrderDirection": "asc",
        "PageNumber": page,
        "PageSize": size,
        "RecordsOnThisPage": len(rows),
        "TotalNumberOfRecords": total,
        "NumberOfPages": pages,
    }


def _write_paged(folder: Path, stem: str, rows: list[Any], page_size: int = 2) -> None:
    """One file with the whole envelope when it fits a page, numbered page files if not."""
    if len(rows) <= page_size:
        _write(folder / f"{stem}.json", _envelope(rows, 1, 1, 1000, len(rows)))
        return
    pages = -(-len(rows) // page_size)
    for number in range(1, pages + 1):
        chunk = rows[(number - 1) * page_size : number * page_size]
        _write(
            folder / f"{stem}.{number}.json", _envelope(chunk, number, pages, page_size, len(rows))
        )


def _local_text(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def write_seed(folder: Path, seed: PlatformSeed) -> None:
    """Write ``seed`` as the Campaign Monitor API returns it."""
    zones = {c.client_id: c.time_zone for c in seed.clients}
    _write(
        folder / "clients.json", [{"ClientID": c.client_id, "Name": c.name} for c in seed.clients]
    )
    campaigns: dict[str, PlatformCampaign] = {}
    for number, client in enumerate(seed.clients):
        time_zone = DISPLAY_NAMES.get(client.time_zone, client.time_zone)
        details = {"ClientID": client.client_id, "CompanyName": client.name, "TimeZone": time_zone}
        _write(folder / "clients" / client.client_id / "details.json", {"BasicDetails": details})
        rows = []
        for campaign in seed.campaigns_of(client.client_id):
            campaigns[campaign.campaign_id] = campaign
            rows.append(
                {
                    "CampaignID": campaign.campaign_id,
                    "Name": campaign.name,
                    "Subject": campaign.subject,
                    "SentDate": _local_text(campaign.sent_at, client.time_zone),
                    "TotalRecipients": 0,
                    "Tags": sorted(campaign.tags),
                }
            )
        target = folder / "clients" / client.client_id
        if number % 2:  # API v3.3: paged envelopes
            _write_paged(target, "campaigns", rows)
        else:  # API v3.1: a plain array
            _write(target / "campaigns.json", rows)
    for campaign_id, campaign in campaigns.items():
        zone = zones[campaign.client_id]
        for stream, stem in STREAM_FILES.items():
            rows = []
            for event in seed.stream(campaign_id, stream):
                row: dict[str, Any] = {"EmailAddress": event.email}
                if event.list_id is not None:
                    row["ListID"] = event.list_id
                if stream is not ActivityType.SENT or event.occurred_at != campaign.sent_at:
                    row["Date"] = _local_text(event.occurred_at, zone)
                if stream is ActivityType.BOUNCED:
                    row["BounceType"] = event.detail
                    row["Reason"] = f"{event.detail} Bounce"
                elif event.detail is not None:
                    row["URL"] = event.detail
                rows.append(row)
            if rows:
                _write_paged(folder / "campaigns" / campaign_id, stem, rows)
    for campaign_id, summary in seed.summaries:
        fields = {api: getattr(summary, name) for name, api in CampaignSummary.API_FIELDS}
        _write(folder / "campaigns" / campaign_id / "summary.json", fields)
    lists: dict[str, list[str]] = {}
    states: dict[tuple[str, str], list[dict[str, str]]] = {}
    for m in seed.memberships:
        if m.list_id not in lists.setdefault(m.client_id, []):
            lists[m.client_id].append(m.list_id)
        row = {
            "EmailAddress": m.email,
            "Name": m.email.split("@")[0],
            "Date": _local_text(m.changed_at, zones[m.client_id]),
            "State": m.state.value,
        }
        states.setdefault((m.list_id, m.state.value.casefold()), []).append(row)
    for client_id, list_ids in lists.items():
        names = [{"ListID": list_id, "Name": f"List {list_id}"} for list_id in list_ids]
        _write(folder / "clients" / client_id / "lists.json", names)
    for (list_id, stem), members in states.items():
        _write_paged(folder / "lists" / list_id, stem, members)
    suppressed: dict[str, list[dict[str, str]]] = {}
    for client_id, entry in seed.suppressed:
        suppressed.setdefault(client_id, []).append(
            {
                "SuppressionReason": entry.reason,
                "EmailAddress": entry.email,
                "Date": _local_text(entry.suppressed_at, zones[client_id]),
                "State": "Suppressed",
            }
        )
    for client_id, entries in suppressed.items():
        _write_paged(folder / "clients" / client_id, "suppressionlist", entries)


class TestFilePlatformContract(EmailPlatformContract):
    """FilePlatform keeps the EmailPlatform contract, on seeds written as API files."""

    property_examples = 60

    def setup_method(self) -> None:
        self._folders: list[tempfile.TemporaryDirectory[str]] = []

    def teardown_method(self) -> None:
        for folder in self._folders:
            folder.cleanup()

    def make_platform(self, seed: PlatformSeed) -> FilePlatform:
        folder = tempfile.TemporaryDirectory(prefix="cmsf-files-")
        self._folders.append(folder)
        write_seed(Path(folder.name), seed)
        return FilePlatform(folder.name)


# ----------------------------------------------------------------------------- the example


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A private copy of the example export, to break or delete."""
    target = tmp_path / "platform"
    shutil.copytree(EXPORT, target)
    return target


def test_the_example_clients_get_iana_zones_from_their_display_names() -> None:
    platform = FilePlatform(EXPORT)

    assert tuple(platform.clients()) == (
        PlatformClient(BOOKS, "Harbour Books", "Australia/Sydney"),
        PlatformClient(CYCLES, "Thames Cycles", "Europe/London"),
    )


def test_the_example_campaigns_are_read_from_paged_and_plain_lists() -> None:
    platform = FilePlatform(EXPORT)

    (april,) = platform.sent_campaigns(BOOKS)
    (spring,) = platform.sent_campaigns(CYCLES)

    assert april == PlatformCampaign(
        BOOKS,
        APRIL,
        "April new releases",
        utc(2024, 4, 4, 22, 0),  # 09:00 AEDT (+11)
        frozenset({"newsletter", "books"}),
        subject="New releases for April",
    )
    assert spring.sent_at == utc(2024, 3, 28, 18, 0)  # 18:00 GMT
    assert spring.tags == frozenset()


def test_the_example_streams_are_localised_and_served_oldest_first() -> None:
    platform = FilePlatform(EXPORT)

    sent, pages = read_whole_stream(platform, APRIL, ActivityType.SENT, page_size=3)
    opens, _ = read_whole_stream(platform, APRIL, ActivityType.OPENED)
    spring_opens, _ = read_whole_stream(platform, SPRING, ActivityType.OPENED)
    bounces, _ = read_whole_stream(platform, APRIL, ActivityType.BOUNCED)

    # recipients.1.json + recipients.2.json; rows carry no date: the campaign's SentDate
    assert [e.email for e in sent] == [
        "ava.ng@example.com.au",
        "ben.ohare@example.com.au",
        "chloe.park@example.com.au",
        "dev.patel@example.com.au",
    ]
    assert {e.occurred_at for e in sent} == {utc(2024, 4, 4, 22, 0)}
    assert [p.number_of_pages for p in pages] == [2, 2]
    # "2024-04-07 02:30:00" in Sydney happens twice (03:00 AEDT -> 02:00 AEST): the first
    assert [e.occurred_at for e in opens] == [
        utc(2024, 4, 4, 22, 12),
        utc(2024, 4, 4, 22, 12),
        utc(2024, 4, 6, 15, 30),
        utc(2024, 4, 8, 9, 45),  # 19:45 AEST (+10), after the change
    ]
    # London: 18:20 GMT on 28 March, 09:05 BST on 31 March (after the change)
    assert [e.occurred_at for e in spring_opens] == [
        utc(2024, 3, 28, 18, 20),
        utc(2024, 3, 31, 8, 5),
    ]
    assert [(e.email, e.detail, e.list_id) for e in bounces] == [
        ("dev.patel@example.com.au", "Hard", READERS)
    ]


def test_since_is_compared_after_localising() -> None:
    platform = FilePlatform(EXPORT)
    since = datetime(2024, 4, 7, 2, 0, tzinfo=timezone(timedelta(hours=11)))  # 15:00 UTC

    page = platform.tracking_page(APRIL, ActivityType.OPENED, since=since, page=1, page_size=10)

    assert [e.email for e in page.results] == [
        "ben.ohare@example.com.au",
        "Chloe.Park@example.com.au",
    ]
    assert page.total_number_of_records == 2


def test_the_example_summaries_and_list_states() -> None:
    platform = FilePlatform(EXPORT)

    assert platform.campaign_summary(APRIL) == CampaignSummary(
        recipients=4, total_opened=4, unique_opened=3, clicks=1, bounced=1, unsubscribed=1
    )
    (ben,) = platform.lists_for_email(BOOKS, "Ben.OHare@example.com.au")
    assert (ben.list_id, ben.list_name, ben.state) == (
        READERS,
        "Harbour Books readers",
        SubscriberState.UNSUBSCRIBED,
    )
    assert ben.date_added == utc(2023, 9, 13, 22, 0)  # ListJoinedDate, 08:00 AEST
    (ava,) = platform.lists_for_email(BOOKS, "ava.ng@example.com.au")
    assert ava.state is SubscriberState.ACTIVE
    assert platform.lists_for_email(BOOKS, "nobody@example.com") == ()
    assert platform.lists_for_email(CYCLES, "ava.ng@example.com.au") == ()
    assert set(platform.subscriber_changes(BOOKS, since=None)) == {
        "ava.ng@example.com.au",
        "chloe.park@example.com.au",
        "ben.ohare@example.com.au",
        "dev.patel@example.com.au",
    }
    assert platform.subscriber_changes(BOOKS, since=utc(2024, 4, 5)) == (
        "ben.ohare@example.com.au",
    )
    assert platform.subscriber_changes(BOOKS, since=utc(2024, 4, 6, 15, 45)) == (
        "ben.ohare@example.com.au",
    )
    assert platform.subscriber_changes(BOOKS, since=utc(2024, 4, 6, 15, 46)) == ()
    (suppressed,) = platform.suppression_list(BOOKS)
    assert (suppressed.email, suppressed.reason, suppressed.suppressed_at) == (
        "ben.ohare@example.com.au",
        "Unsubscribed",
        utc(2024, 4, 6, 15, 45),
    )
    assert platform.suppression_list(CYCLES) == ()
    assert platform.subscriber_changes(CYCLES, since=None) == ()


def test_the_example_export_syncs_into_the_crm() -> None:
    platform = FilePlatform(EXPORT)
    crm = InMemoryCrm()
    ben = crm.add_person("ben.ohare@example.com.au", person_id="003000000000001")
    crm.add_person("ava.ng@example.com.au", person_id="003000000000002")
    settings = Settings(
        auto_create_campaigns=True,
        auto_create_campaigns_since=utc(2024, 1, 1),
        update_campaign_statistics=True,
        sync_suppression_list=True,
    )

    report = run_sync(crm, platform, settings, as_of=utc(2024, 4, 10))

    assert report.ok
    assert crm.record_count() == 16
    members = {(m.member.campaign_id, m.email): m for m in crm.all_members()}
    expected = {
        (APRIL, "ava.ng@example.com.au"): ("Clicked", utc(2024, 4, 4, 22, 13)),
        (APRIL, "ben.ohare@example.com.au"): ("Unsubscribed", utc(2024, 4, 6, 15, 45)),
        (APRIL, "chloe.park@example.com.au"): ("Opened", utc(2024, 4, 8, 9, 45)),
        (APRIL, "dev.patel@example.com.au"): ("Bounced", utc(2024, 4, 4, 22, 1)),
        (SPRING, "emma.hughes@example.co.uk"): ("Opened", utc(2024, 3, 28, 18, 20)),
        (SPRING, "finn.walsh@example.co.uk"): ("Clicked", utc(2024, 3, 31, 8, 6)),
    }
    assert {k: (m.member.status, m.member.activity_date) for k, m in members.items()} == expected
    assert members[(APRIL, "ava.ng@example.com.au")].member.engagement.opens == 2
    assert members[(APRIL, "ben.ohare@example.com.au")].person_id == ben.person_id
    statistics = {c.name: c.statistics for c in crm.campaigns().values()}
    assert statistics["April new releases"] == platform.campaign_summary(APRIL)
    assert crm.checkpoint(BOOKS).watermark == utc(2024, 4, 8, 9, 45)
    assert crm.checkpoint(CYCLES).watermark == utc(2024, 3, 31, 8, 6)
    assert [s.email for s in crm.suppression_records()] == ["ben.ohare@example.com.au"]
    assert [(c.record_id, c.value) for c in report.opt_out_changes] == [(ben.person_id, True)]

    again = run_sync(crm, platform, settings, as_of=utc(2024, 4, 10))

    assert again.plan.records_to_insert == ()
    assert crm.record_count() == 16


def test_files_are_read_once(export: Path) -> None:
    platform = FilePlatform(export)
    first = (
        platform.clients(),
        [platform.sent_campaigns(c.client_id) for c in platform.clients()],
        [read_whole_stream(platform, APRIL, t)[0] for t in ActivityType],
        platform.campaign_summary(APRIL),
        platform.lists_for_email(BOOKS, "ava.ng@example.com.au"),
        platform.suppression_list(BOOKS),
    )
    shutil.rmtree(export)

    again = (
        platform.clients(),
        [platform.sent_campaigns(c.client_id) for c in platform.clients()],
        [read_whole_stream(platform, APRIL, t)[0] for t in ActivityType],
        platform.campaign_summary(APRIL),
        platform.lists_for_email(BOOKS, "ava.ng@example.com.au"),
        platform.suppression_list(BOOKS),
    )

    assert again == first


def test_paging_arguments_are_checked() -> None:
    platform = FilePlatform(EXPORT)

    for size in (0, 1001):
        with pytest.raises(ValueError, match="page_size"):
            platform.tracking_page(APRIL, ActivityType.OPENED, since=None, page=1, page_size=size)
    with pytest.raises(ValueError, match="'page'"):
        platform.tracking_page(APRIL, ActivityType.OPENED, since=None, page=0, page_size=10)
    with pytest.raises(ValueError, match="campaign_id"):
        platform.tracking_page("nope", ActivityType.OPENED, since=None, page=1, page_size=10)
    beyond = platform.tracking_page(APRIL, ActivityType.OPENED, since=None, page=9, page_size=10)
    assert beyond.results == ()
    assert beyond.total_number_of_records == 4


def test_commands_change_the_states_in_memory_and_never_the_files(export: Path) -> None:
    before = {p: p.read_bytes() for p in export.rglob("*.json")}
    now = utc(2024, 4, 9, 12, 0)
    platform = FilePlatform(export, clock=lambda: now)
    command = Unsubscribe(READERS, "ava.ng@example.com.au")

    (result, other) = platform.execute(BOOKS, [command, Unsubscribe("no-such-list", "a@b.co")])

    assert result.ok
    assert (other.ok, other.error) == (False, "Invalid ListID")
    (ava,) = platform.lists_for_email(BOOKS, "ava.ng@example.com.au")
    assert ava.state is SubscriberState.UNSUBSCRIBED
    assert "ava.ng@example.com.au" in platform.subscriber_changes(BOOKS, since=now)
    assert {p: p.read_bytes() for p in export.rglob("*.json")} == before
    (fresh,) = FilePlatform(export).lists_for_email(BOOKS, "ava.ng@example.com.au")
    assert fresh.state is SubscriberState.ACTIVE


# ----------------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("value", "zone"),
    [
        ("Australia/Sydney", "Australia/Sydney"),
        ("UTC", "UTC"),
        ("(GMT+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
        ("(GMT+10:00) Brisbane", "Australia/Brisbane"),
        ("(GMT+09:30) Adelaide", "Australia/Adelaide"),
        ("(GMT) Dublin, Edinburgh, Lisbon, London", "Europe/London"),
        ("(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Vienna"),
        ("(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"),
        ("(GMT+05:45) Kathmandu", "Asia/Kathmandu"),
        ("(GMT+12:00) Auckland, Wellington", "Pacific/Auckland"),
        ("(GMT-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(GMT-08:00) Pacific Time (US & Canada)", "America/Los_Angeles"),
        ("(GMT-03:00) Buenos Aires, Georgetown", "America/Argentina/Buenos_Aires"),
        ("(GMT+03:00) Atlantis", None),
        ("(GMT+05:00) Sydney", None),  # the city exists, not with that offset
        ("Sydney", None),
        ("", None),
    ],
)
def test_time_zone_names_map_to_iana_zones(value: str, zone: str | None) -> None:
    assert zone_for_time_zone(value) == zone


def test_an_unknown_time_zone_names_the_file_and_field(export: Path) -> None:
    details = export / "clients" / CYCLES / "details.json"
    data = json.loads(details.read_text())
    data["BasicDetails"]["TimeZone"] = "(GMT+03:00) Atlantis"
    details.write_text(json.dumps(data))

    with pytest.raises(PlatformFileError) as caught:
        FilePlatform(export).sent_campaigns(CYCLES)

    message = str(caught.value)
    assert str(details) in message
    assert "BasicDetails" in message
    assert "'TimeZone'" in message
    assert "--time-zone" in message


def test_a_time_zone_override_replaces_the_details(export: Path) -> None:
    (export / "clients" / CYCLES / "details.json").unlink()

    platform = FilePlatform(export, time_zones={CYCLES: "Europe/Dublin"})

    assert platform.clients()[1].time_zone == "Europe/Dublin"
    with pytest.raises(ValueError, match=r"time_zones\['x'\]"):
        FilePlatform(export, time_zones={"x": "Mars/Olympus"})


# ----------------------------------------------------------------------------- DST policy


@pytest.mark.parametrize(
    ("zone", "local", "expected"),
    [
        # London, 31 March 2024: 01:00 GMT -> 02:00 BST; 01:00-01:59 never happens.
        ("Europe/London", datetime(2024, 3, 31, 0, 59), utc(2024, 3, 31, 0, 59)),
        ("Europe/London", datetime(2024, 3, 31, 1, 0), utc(2024, 3, 31, 1, 0)),  # = 02:00 BST
        ("Europe/London", datetime(2024, 3, 31, 1, 30), utc(2024, 3, 31, 1, 30)),  # = 02:30 BST
        ("Europe/London", datetime(2024, 3, 31, 2, 0), utc(2024, 3, 31, 1, 0)),
        # London, 27 October 2024: 02:00 BST -> 01:00 GMT; 01:00-01:59 happens twice.
        ("Europe/London", datetime(2024, 10, 27, 0, 59), utc(2024, 10, 26, 23, 59)),
        ("Europe/London", datetime(2024, 10, 27, 1, 30), utc(2024, 10, 27, 0, 30)),  # first
        ("Europe/London", datetime(2024, 10, 27, 2, 0), utc(2024, 10, 27, 2, 0)),
        # Sydney, 6 October 2024: 02:00 AEST -> 03:00 AEDT (gap); 7 April 2024: fold.
        ("Australia/Sydney", datetime(2024, 10, 6, 2, 30), utc(2024, 10, 5, 16, 30)),
        ("Australia/Sydney", datetime(2024, 10, 6, 3, 0), utc(2024, 10, 5, 16, 0)),
        ("Australia/Sydney", datetime(2024, 4, 7, 2, 30), utc(2024, 4, 6, 15, 30)),  # first
        ("Australia/Sydney", datetime(2024, 4, 7, 3, 0), utc(2024, 4, 6, 17, 0)),
        # New York, 10 March 2024 (gap 02:00-02:59) and 3 November 2024 (fold 01:00-01:59).
        ("America/New_York", datetime(2024, 3, 10, 2, 30), utc(2024, 3, 10, 7, 30)),
        ("America/New_York", datetime(2024, 11, 3, 1, 30), utc(2024, 11, 3, 5, 30)),
        # Lord Howe Island moves by 30 minutes: gap 02:00-02:29 on 6 October 2024.
        ("Australia/Lord_Howe", datetime(2024, 10, 6, 2, 15), utc(2024, 10, 5, 15, 45)),
        ("Australia/Lord_Howe", datetime(2024, 10, 6, 2, 30), utc(2024, 10, 5, 15, 30)),
    ],
)
def test_gap_and_fold_policy(zone: str, local: datetime, expected: datetime) -> None:
    assert localise(local, ZoneInfo(zone)) == expected


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/London", datetime(2024, 3, 31)),
        ("Europe/London", datetime(2024, 10, 27)),
        ("Australia/Sydney", datetime(2024, 4, 7)),
        ("Australia/Sydney", datetime(2024, 10, 6)),
        ("Australia/Lord_Howe", datetime(2024, 10, 6)),
        ("Australia/Lord_Howe", datetime(2024, 4, 7)),
    ],
)
def test_every_minute_of_a_transition_day_follows_the_policy(zone: str, day: datetime) -> None:
    """A real minute maps back to itself (the first one in a fold) and real minutes keep
    their order; a minute in a gap is moved forward by exactly the gap."""
    tz = ZoneInfo(zone)
    previous = None
    gaps = folds = 0
    for minute in range(24 * 60):
        local = day + timedelta(minutes=minute)
        instant = localise(local, tz)
        wall = instant.astimezone(tz)
        first = local.replace(tzinfo=tz, fold=0)
        second = local.replace(tzinfo=tz, fold=1)
        if wall.replace(tzinfo=None) == local:
            assert wall.fold == 0
            folds += first.utcoffset() != second.utcoffset()
        else:
            gaps += 1
            gap = abs(first.utcoffset() - second.utcoffset())  # type: ignore[operator]
            assert wall.replace(tzinfo=None) == local + gap
            continue
        if previous is not None:  # real minutes keep their order
            assert instant > previous
        previous = instant
    assert gaps + folds in {30, 60}


def test_a_row_in_a_gap_is_read_with_the_policy(export: Path) -> None:
    opens = export / "campaigns" / SPRING / "opens.json"
    data = json.loads(opens.read_text())
    data["Results"][0]["Date"] = "2024-03-31 01:30:00"  # no such London time
    opens.write_text(json.dumps(data))

    events, _ = read_whole_stream(FilePlatform(export), SPRING, ActivityType.OPENED)

    assert events[1].occurred_at == utc(2024, 3, 31, 1, 30)  # 02:30 BST


# ----------------------------------------------------------------------------- bad files


def _edit(path: Path, change: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text())
    path.write_text(json.dumps(change(data)))


def _set_row(index: int, field: str, value: object) -> Callable[[Any], Any]:
    def change(data: Any) -> Any:
        rows = data["Results"] if isinstance(data, dict) else data
        if value is _DELETE:
            del rows[index][field]
        else:
            rows[index][field] = value
        return data

    return change


def _set(field: str, value: object) -> Callable[[Any], Any]:
    def change(data: Any) -> Any:
        data[field] = value
        return data

    return change


_DELETE = object()
_OPENS = f"campaigns/{APRIL}/opens.json"


def _truncate(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) // 2])


def _read_everything(platform: FilePlatform) -> None:
    for client in platform.clients():
        platform.sent_campaigns(client.client_id)
        platform.lists_for_email(client.client_id, "ava.ng@example.com.au")
        platform.suppression_list(client.client_id)
    for campaign in (APRIL, SPRING):
        for stream in ActivityType:
            read_whole_stream(platform, campaign, stream)
        platform.campaign_summary(campaign)


#: (file, how it is broken, the record and the field the error must name)
BAD_FILES: list[tuple[str, Callable[[Path], object], str, str | None]] = [
    ("clients.json", Path.unlink, "file", None),
    (f"clients/{CYCLES}/details.json", Path.unlink, "file", None),
    (f"clients/{BOOKS}/campaigns.json", Path.unlink, "file", None),
    (f"campaigns/{SPRING}/summary.json", Path.unlink, "file", None),
    (_OPENS, _truncate, "line ", None),
    ("clients.json", _truncate, "line ", None),
    (_OPENS, lambda p: _edit(p, lambda d: d["Results"]), "envelope", None),
    (_OPENS, lambda p: _edit(p, _set("Results", None)), "envelope", "Results"),
    (_OPENS, lambda p: _edit(p, _set("NumberOfPages", 3)), "envelope", "NumberOfPages"),
    (_OPENS, lambda p: _edit(p, _set("PageNumber", 2)), "envelope", "PageNumber"),
    (_OPENS, lambda p: _edit(p, _set("RecordsOnThisPage", 9)), "envelope", "RecordsOnThisPage"),
    (
        f"campaigns/{APRIL}/recipients.2.json",
        lambda p: _edit(p, _set("TotalNumberOfRecords", 40)),
        "envelope",
        "TotalNumberOfRecords",
    ),
    (
        f"campaigns/{APRIL}/recipients.1.json",
        lambda p: shutil.copy(p, p.with_name("recipients.json")),
        "file",
        None,
    ),
    (
        f"campaigns/{APRIL}/recipients.2.json",
        lambda p: p.rename(p.with_name("recipients.3.json")),
        "file",
        None,
    ),
    (
        f"clients/{CYCLES}/campaigns.json",
        lambda p: _edit(p, _set_row(0, "SentDate", "28/03/2024 18:00")),
        "[0]",
        "SentDate",
    ),
    (
        f"clients/{BOOKS}/campaigns.json",
        lambda p: _edit(p, _set_row(0, "CampaignID", _DELETE)),
        "Results[0]",
        "CampaignID",
    ),
    (
        f"clients/{BOOKS}/campaigns.json",
        lambda p: _edit(p, _set_row(0, "Tags", "books")),
        "Results[0]",
        "Tags",
    ),
    ("clients.json", lambda p: _edit(p, _set_row(1, "ClientID", 7)), "[1]", "ClientID"),
    (
        f"clients/{CYCLES}/details.json",
        lambda p: _edit(p, lambda _d: {"BasicDetails": {"CompanyName": "x"}}),
        "BasicDetails",
        "TimeZone",
    ),
    (
        f"campaigns/{APRIL}/summary.json",
        lambda p: _edit(p, _set("Clicks", -1)),
        "summary",
        "Clicks",
    ),
    (
        f"campaigns/{APRIL}/summary.json",
        lambda p: _edit(p, lambda d: {k: v for k, v in d.items() if k != "Recipients"}),
        "summary",
        "Recipients",
    ),
    (
        f"lists/{READERS}/active.json",
        lambda p: _edit(p, _set_row(1, "State", "Sleeping")),
        "Results[1]",
        "State",
    ),
    (
        f"lists/{READERS}/unsubscribed.json",
        lambda p: _edit(p, _set_row(0, "Date", "")),
        "Results[0]",
        "Date",
    ),
    (
        f"clients/{BOOKS}/suppressionlist.json",
        lambda p: _edit(p, _set_row(0, "State", "Active")),
        "Results[0]",
        "State",
    ),
    (
        f"clients/{BOOKS}/suppressionlist.json",
        lambda p: _edit(p, _set_row(0, "SuppressionReason", _DELETE)),
        "Results[0]",
        "SuppressionReason",
    ),
]


#: (file, how one row is broken, the row and the field the skipped-row notice must name)
BAD_ROWS: list[tuple[str, Callable[[Path], object], str, str | None]] = [
    (
        _OPENS,
        lambda p: _edit(p, _set_row(2, "EmailAddress", _DELETE)),
        "Results[2]",
        "EmailAddress",
    ),
    (_OPENS, lambda p: _edit(p, _set_row(1, "EmailAddress", "")), "Results[1]", "EmailAddress"),
    (_OPENS, lambda p: _edit(p, _set_row(3, "Date", _DELETE)), "Results[3]", "Date"),
    (_OPENS, lambda p: _edit(p, _set_row(0, "Date", "2024-02-30 10:00:00")), "Results[0]", "Date"),
    (_OPENS, lambda p: _edit(p, _set_row(0, "Date", "yesterday")), "Results[0]", "Date"),
    (_OPENS, lambda p: _edit(p, _set_row(0, "Date", "2024-04-05")), "Results[0]", "Date"),
    (_OPENS, lambda p: _edit(p, _set_row(0, "Date", 1712300000)), "Results[0]", "Date"),
    (_OPENS, lambda p: _edit(p, _set_row(0, "Date", ["2024-04-05"])), "Results[0]", "Date"),
    (
        _OPENS,
        lambda p: _edit(p, _set_row(0, "Date", "2024-04-05T09:12:00+10:00")),
        "Results[0]",
        "Date",
    ),
    (
        f"campaigns/{APRIL}/bounces.json",
        lambda p: _edit(p, _set_row(0, "BounceType", "Transient")),
        "Results[0]",
        "BounceType",
    ),
    (
        f"campaigns/{APRIL}/clicks.json",
        lambda p: _edit(p, _set_row(0, "URL", 42)),
        "Results[0]",
        "URL",
    ),
]


@pytest.mark.parametrize(
    ("name", "damage", "record", "field"),
    BAD_FILES,
    ids=[f"{n.rsplit('/', 1)[-1]}-{i}" for i, (n, *_rest) in enumerate(BAD_FILES)],
)
def test_a_bad_file_names_the_file_the_record_and_the_field(
    export: Path,
    name: str,
    damage: Callable[[Path], object],
    record: str,
    field: str | None,
) -> None:
    damage(export / name)

    with pytest.raises(PlatformFileError) as caught:
        _read_everything(FilePlatform(export))

    error = caught.value
    assert isinstance(error, CmsfError)
    assert isinstance(error, ValueError)
    message = str(error)
    assert str(error.path) in message
    assert error.path.parent == (export / name).parent
    assert error.record.startswith(record)
    assert record in message
    assert error.field == field
    if field is not None:
        assert repr(field) in message


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlatformFileError, match="not a folder"):
        FilePlatform(tmp_path / "nowhere")


def test_missing_streams_and_list_files_are_empty(export: Path) -> None:
    (export / "campaigns" / APRIL / "spam.json").unlink()
    (export / "clients" / BOOKS / "lists.json").unlink()
    (export / "clients" / BOOKS / "suppressionlist.json").unlink()
    platform = FilePlatform(export)

    spam, pages = read_whole_stream(platform, APRIL, ActivityType.SPAM_COMPLAINT)

    assert spam == ()
    assert pages[0].total_number_of_records == 0
    assert platform.lists_for_email(BOOKS, "ava.ng@example.com.au") == ()
    assert platform.subscriber_changes(BOOKS, since=None) == ()
    assert platform.suppression_list(BOOKS) == ()


def test_the_example_list_serves_its_subscribers_in_every_state() -> None:
    """list_subscribers reads every state file of the list: each email as written."""
    platform = FilePlatform(EXPORT)

    assert dict(platform.list_subscribers(BOOKS, READERS)) == {
        "ava.ng@example.com.au": SubscriberState.ACTIVE,
        "chloe.park@example.com.au": SubscriberState.ACTIVE,
        "ben.ohare@example.com.au": SubscriberState.UNSUBSCRIBED,
        "dev.patel@example.com.au": SubscriberState.BOUNCED,
    }


def test_list_subscribers_follow_the_commands_held_in_memory(export: Path) -> None:
    """An unsubscribe and an import executed on the file platform are read back."""
    platform = FilePlatform(export, clock=lambda: utc(2024, 4, 9, 12, 0))
    rows = (SubscriberImport("new.reader@example.com.au"),)

    platform.execute(
        BOOKS,
        [Unsubscribe(READERS, "ava.ng@example.com.au"), ImportSubscribers(READERS, rows, False)],
    )

    served = platform.list_subscribers(BOOKS, READERS)
    assert served["ava.ng@example.com.au"] is SubscriberState.UNSUBSCRIBED
    assert served["new.reader@example.com.au"] is SubscriberState.ACTIVE


def test_an_email_in_two_state_files_takes_its_latest_state(export: Path) -> None:
    """A subscriber listed as Active and later as Deleted is Deleted (the latest Date)."""
    deleted = {
        "EmailAddress": "ava.ng@example.com.au",
        "Date": "2024-04-08 10:00:00",
        "State": "Deleted",
    }
    _write(export / "lists" / READERS / "deleted.json", _envelope([deleted], 1, 1, 1000, 1))

    served = FilePlatform(export).list_subscribers(BOOKS, READERS)

    assert served["ava.ng@example.com.au"] is SubscriberState.DELETED


def test_list_subscribers_of_a_list_the_client_lacks_names_list_id() -> None:
    """A list missing from the client's lists.json is refused, naming list_id."""
    platform = FilePlatform(EXPORT)

    with pytest.raises(InvalidValueError, match="list_id"):
        platform.list_subscribers(CYCLES, READERS)


def test_a_list_state_row_dated_as_the_current_api_dates_it_is_read(tmp_path: Path) -> None:
    """Rows with ``StateChangedDate`` (the current API) instead of ``Date`` are read."""
    folder = tmp_path / "export"
    shutil.copytree(EXPORT, folder)
    for path in (folder / "lists").rglob("*.json"):
        text = path.read_text(encoding="utf-8").replace('"Date"', '"StateChangedDate"')
        path.write_text(text, encoding="utf-8")
    renamed = FilePlatform(folder)
    original = FilePlatform(EXPORT)
    for client in original.clients():
        for since in (None, datetime(2024, 4, 6, tzinfo=UTC)):
            assert renamed.subscriber_changes(
                client.client_id, since=since
            ) == original.subscriber_changes(client.client_id, since=since)


# ----------------------------------------------------------------------------- skipped rows


def _stream_of(name: str) -> tuple[str, ActivityType]:
    """The campaign and stream of ``campaigns/<id>/<stream>.json``."""
    _campaigns, campaign, file = name.split("/")
    stem = file.split(".")[0]
    return campaign, next(t for t, s in STREAM_FILES.items() if s == stem)


def _hawaiian(export: Path) -> None:
    """Thames Cycles moved to Hawaii (UTC-10:00), for dates at the end of the calendar."""
    _edit(
        export / f"clients/{CYCLES}/details.json",
        lambda d: {"BasicDetails": {**d["BasicDetails"], "TimeZone": "(GMT-10:00) Hawaii"}},
    )


_SPRING_OPENS = f"campaigns/{SPRING}/opens.json"
_CLICKS = f"campaigns/{APRIL}/clicks.json"

BAD_ROWS += [
    # the edges of the calendar: 0001-01-01 in Sydney (+10:00) is before year 1 in UTC
    (_OPENS, lambda p: _edit(p, _set_row(1, "Date", "0001-01-01 00:00:00")), "Results[1]", "Date"),
    (_OPENS, lambda p: _edit(p, _set_row(1, "Date", "0001-01-01 09:59")), "Results[1]", "Date"),
    # invisible characters in an address (DESIGN §8)
    (
        _OPENS,
        lambda p: _edit(p, _set_row(0, "EmailAddress", "a\u200b@x.com")),
        "Results[0]",
        "EmailAddress",
    ),
    (
        _OPENS,
        lambda p: _edit(p, _set_row(0, "EmailAddress", "a@x.com\n")),
        "Results[0]",
        "EmailAddress",
    ),
    (
        _OPENS,
        lambda p: _edit(p, _set_row(0, "EmailAddress", "a\x00@x.com")),
        "Results[0]",
        "EmailAddress",
    ),
    (
        _OPENS,
        lambda p: _edit(p, _set_row(0, "EmailAddress", "\ufeffa@x.com")),
        "Results[0]",
        "EmailAddress",
    ),
    (
        _OPENS,
        lambda p: _edit(p, _set_row(0, "EmailAddress", "nobody")),
        "Results[0]",
        "EmailAddress",
    ),
    # a row that is no object
    (_OPENS, lambda p: _edit(p, _set_row_value(2, "a row")), "Results[2]", None),
    (_OPENS, lambda p: _edit(p, _set_row_value(2, None)), "Results[2]", None),
    # wrong types in each field of a stream row
    *(
        (name, lambda p, f=field, v=value: _edit(p, _set_row(0, f, v)), "Results[0]", field)
        for name, field in [
            (_OPENS, "EmailAddress"),
            (_OPENS, "Date"),
            (_OPENS, "ListID"),
            (_CLICKS, "URL"),
            (_CLICKS, "EmailAddress"),
            (f"campaigns/{APRIL}/bounces.json", "BounceType"),
            (f"campaigns/{APRIL}/unsubscribes.json", "Date"),
            (f"campaigns/{APRIL}/recipients.1.json", "EmailAddress"),
        ]
        for value in (42, 4.5, True, ["x"], {"x": 1})
    ),
]


def _set_row_value(index: int, value: object) -> Callable[[Any], Any]:
    def change(data: Any) -> Any:
        data["Results"][index] = value
        return data

    return change


@pytest.mark.parametrize(
    ("name", "damage", "record", "field"),
    BAD_ROWS,
    ids=[f"{n.rsplit('/', 1)[-1]}-{i}" for i, (n, *_rest) in enumerate(BAD_ROWS)],
)
def test_a_malformed_stream_row_is_skipped_and_named_while_the_rest_is_read(
    export: Path,
    name: str,
    damage: Callable[[Path], object],
    record: str,
    field: str | None,
) -> None:
    """A bad tracking row is left out and named (file, row, field); its neighbours are read."""
    campaign, stream = _stream_of(name)
    whole, _pages = read_whole_stream(FilePlatform(export), campaign, stream)
    damage(export / name)

    events, pages = read_whole_stream(FilePlatform(export), campaign, stream, page_size=1)

    skipped = [row for page in pages for row in page.skipped]
    assert [(s.source, s.position, s.field) for s in skipped] == [(name, record, field)]
    assert pages[0].skipped == tuple(skipped)  # all on the first page of the read
    assert len(events) == len(whole) - 1
    assert skipped[0].problem
    assert str(skipped[0].message(utc(2024, 5, 1))).count("@x.com") <= 1


def test_a_date_past_the_end_of_the_calendar_in_hawaii_is_skipped(export: Path) -> None:
    """9999-12-31 23:59 at UTC-10:00 is past year 9999 in UTC: that row is skipped."""
    _hawaiian(export)
    _edit(export / _SPRING_OPENS, _set_row(0, "Date", "9999-12-31 23:59:00"))

    events, pages = read_whole_stream(FilePlatform(export), SPRING, ActivityType.OPENED)

    assert [(s.position, s.field, s.occurred_at) for s in pages[0].skipped] == [
        ("Results[0]", "Date", None)
    ]
    assert len(events) == 1


def test_a_skipped_row_with_a_good_date_is_reported_only_in_its_window(export: Path) -> None:
    """A bad-email row dated before ``since`` is not reported again; an undated one is."""
    _edit(export / _OPENS, _set_row(0, "EmailAddress", "a\u200b@x.com"))
    _edit(export / _OPENS, _set_row(1, "Date", "0001-01-01 00:00:00"))
    platform = FilePlatform(export)

    _all, first = read_whole_stream(platform, APRIL, ActivityType.OPENED)
    _later, later = read_whole_stream(platform, APRIL, ActivityType.OPENED, since=utc(2030, 1, 1))

    dated = {s.position: s.occurred_at for s in first[0].skipped}
    assert set(dated) == {"Results[0]", "Results[1]"}
    assert dated["Results[0]"] is not None
    assert dated["Results[1]"] is None
    assert [s.position for s in later[0].skipped] == ["Results[1]"]


def test_a_sync_skips_bad_rows_reports_them_and_imports_the_rest(export: Path) -> None:
    """Two bad rows: the sync goes on, each becomes a SYNC-SKIPPED-ROW message and is counted."""
    _edit(export / _OPENS, _set_row(1, "EmailAddress", "ava\u200b@example.com.au"))
    _edit(export / _CLICKS, _set_row(0, "Date", "0001-01-01 00:00:00"))
    crm = InMemoryCrm()
    settings = Settings(auto_create_campaigns=True, auto_create_campaigns_since=utc(2024, 1, 1))

    dry = run_sync(crm, FilePlatform(export), settings, as_of=utc(2024, 4, 10), dry_run=True)
    assert len(dry.skipped_rows) == 2
    assert crm.messages() == ()

    report = run_sync(crm, FilePlatform(export), settings, as_of=utc(2024, 4, 10))

    assert not report.ok  # applied, with rows to look at: `cmsf sync` exits 1
    assert report.applied
    assert crm.record_count() == 14  # the example's 16, less the two rows skipped
    assert sorted((s.source, s.position, s.field) for s in report.skipped_rows) == [
        (_CLICKS, "Results[0]", "Date"),
        (_OPENS, "Results[1]", "EmailAddress"),
    ]
    assert "skipped platform rows: 2" in report.summary()
    messages = [m for m in crm.messages() if m.code == "SYNC-SKIPPED-ROW"]
    assert sorted(m.record or "" for m in messages) == [
        f"{_CLICKS} Results[0]",
        f"{_OPENS} Results[1]",
    ]
    assert all(m.severity.value == "Warning" for m in messages)
    assert all("rows around it were synced" in m.guidance for m in messages)
    assert "ava" not in " ".join(str(m) for m in messages)  # the address is not echoed


def test_skipped_rows_default_to_none_for_other_adapters() -> None:
    """A page built without skipped rows has none: adapters that never skip need no change."""
    assert TrackingPage(()).skipped == ()


def test_a_skipped_row_without_a_field_names_the_row_only() -> None:
    """A row that is no object at all is reported without a field name."""
    row = SkippedRow("campaigns/c1/opens.json", "Results[2]", None, "must be a JSON object")

    message = row.message(utc(2024, 5, 1))

    assert message.record == "campaigns/c1/opens.json Results[2]"
    assert "field" not in message.guidance
    assert "must be a JSON object" in message.guidance


# ----------------------------------------------------------------------------- hostile files


def _outside(export: Path) -> Path:
    """A decoy beside the export: well-formed API files that must never be read."""
    decoy = export.parent / "outside"
    if not decoy.exists():
        shutil.copytree(export / "campaigns" / APRIL, decoy)
        shutil.copy(export / "clients" / BOOKS / "details.json", decoy / "details.json")
        shutil.copy(export / "clients" / BOOKS / "campaigns.json", decoy / "campaigns.json")
        shutil.copy(export / "clients.json", decoy / "clients.json")
    return decoy


def _client_id(value: Callable[[Path], str]) -> Callable[[Path], object]:
    return lambda export: _edit(export / "clients.json", _set_row(0, "ClientID", value(export)))


def _campaign_id(value: Callable[[Path], str]) -> Callable[[Path], object]:
    return lambda export: _edit(
        export / f"clients/{BOOKS}/campaigns.json", _set_row(0, "CampaignID", value(export))
    )


def _link_out(name: str, target: str) -> Callable[[Path], object]:
    """Replace ``name`` by a symbolic link to ``target`` in the decoy outside the export."""

    def damage(export: Path) -> None:
        path = export / name
        destination = _outside(export) / target
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        path.symlink_to(destination, target_is_directory=destination.is_dir())

    return damage


def _write_text(name: str, text: str | bytes) -> Callable[[Path], object]:
    def damage(export: Path) -> None:
        path = export / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return damage


def _folder_instead(name: str) -> Callable[[Path], object]:
    def damage(export: Path) -> None:
        (export / name).unlink()
        (export / name).mkdir()
        (export / name / "inner.json").write_text("{}")

    return damage


def _dates_in(name: str, field: str, value: str) -> Callable[[Path], object]:
    return lambda export: _edit(export / name, _set_row(0, field, value))


_BOOKS_CAMPAIGNS = f"clients/{BOOKS}/campaigns.json"
_CYCLES_CAMPAIGNS = f"clients/{CYCLES}/campaigns.json"
_SUMMARY = f"campaigns/{APRIL}/summary.json"
_DEEP = "[" * 100_000 + "]" * 100_000
_LONG_NUMBER = '{"Recipients": ' + "9" * 5_000 + "}"


def _truncate_file(name: str) -> Callable[[Path], object]:
    return lambda export: _truncate(export / name)


def _latin1_clients(export: Path) -> None:
    text = (export / "clients.json").read_text().replace("Harbour Books", "Librairie du Quai é")
    (export / "clients.json").write_bytes(text.encode("latin-1"))


def _cycles_sent_at_the_end_of_time(export: Path) -> None:
    _hawaiian(export)
    _edit(export / _CYCLES_CAMPAIGNS, _set_row(0, "SentDate", "9999-12-31 23:59:00"))


#: (what it is, how the export is damaged, the file, the record and field the error names)
HOSTILE: list[tuple[str, Callable[[Path], object], str, str, str | None]] = [
    (
        "absolute ClientID",
        _client_id(lambda e: str(_outside(e))),
        "clients.json",
        "[0]",
        "ClientID",
    ),
    ("../ ClientID", _client_id(lambda _e: "../../outside"), "clients.json", "[0]", "ClientID"),
    ("ClientID '..'", _client_id(lambda _e: ".."), "clients.json", "[0]", "ClientID"),
    ("NUL in ClientID", _client_id(lambda _e: f"{BOOKS}\x00"), "clients.json", "[0]", "ClientID"),
    (
        "backslash ClientID",
        _client_id(lambda _e: "..\\..\\outside"),
        "clients.json",
        "[0]",
        "ClientID",
    ),
    (
        "drive letter ClientID",
        _client_id(lambda _e: "C:outside"),
        "clients.json",
        "[0]",
        "ClientID",
    ),
    ("bidi mark in ClientID", _client_id(lambda _e: "a\u202eb"), "clients.json", "[0]", "ClientID"),
    ("overlong ClientID", _client_id(lambda _e: "a" * 300), "clients.json", "[0]", "ClientID"),
    ("device name ClientID", _client_id(lambda _e: "nul.json"), "clients.json", "[0]", "ClientID"),
    (
        "../ CampaignID",
        _campaign_id(lambda _e: "../../../outside"),
        _BOOKS_CAMPAIGNS,
        "Results[0]",
        "CampaignID",
    ),
    (
        "absolute CampaignID",
        _campaign_id(lambda e: str(_outside(e))),
        _BOOKS_CAMPAIGNS,
        "Results[0]",
        "CampaignID",
    ),
    (
        "NUL in CampaignID",
        _campaign_id(lambda _e: "a\x00b"),
        _BOOKS_CAMPAIGNS,
        "Results[0]",
        "CampaignID",
    ),
    (
        "absolute ListID",
        lambda e: _edit(e / f"clients/{BOOKS}/lists.json", _set_row(0, "ListID", "/etc")),
        f"clients/{BOOKS}/lists.json",
        "[0]",
        "ListID",
    ),
    ("a stream linked out", _link_out(_OPENS, "opens.json"), _OPENS, "file", None),
    (
        "clients.json linked out",
        _link_out("clients.json", "clients.json"),
        "clients.json",
        "file",
        None,
    ),
    (
        "details.json linked out",
        _link_out(f"clients/{CYCLES}/details.json", "details.json"),
        f"clients/{CYCLES}/details.json",
        "file",
        None,
    ),
    (
        "a campaign folder linked out",
        _link_out(f"campaigns/{APRIL}", "."),
        f"campaigns/{APRIL}",
        "file",
        None,
    ),
    ("deep JSON", _write_text(_OPENS, _DEEP), _OPENS, "file", None),
    ("a 5,000-digit number", _write_text(_SUMMARY, _LONG_NUMBER), _SUMMARY, "file", None),
    ("NaN", _write_text(_SUMMARY, '{"Recipients": NaN}'), _SUMMARY, "file", None),
    (
        "Infinity",
        _write_text(_OPENS, '{"Results": [], "PageNumber": -Infinity}'),
        _OPENS,
        "file",
        None,
    ),
    (
        "SentDate 0001-01-01 at +10:00",
        _dates_in(_BOOKS_CAMPAIGNS, "SentDate", "0001-01-01 00:00:00"),
        _BOOKS_CAMPAIGNS,
        "Results[0]",
        "SentDate",
    ),
    (
        "SentDate 9999-12-31 at -10:00",
        _cycles_sent_at_the_end_of_time,
        _CYCLES_CAMPAIGNS,
        "[0]",
        "SentDate",
    ),
    (
        "a list row dated 0001-01-01 at +10:00",
        _dates_in(f"lists/{READERS}/active.json", "StateChangedDate", "0001-01-01 00:00:00"),
        f"lists/{READERS}/active.json",
        "Results[0]",
        "StateChangedDate",
    ),
    ("not UTF-8", _latin1_clients, "clients.json", "byte ", None),
    (
        "UTF-16",
        lambda e: (e / "clients.json").write_bytes("[]".encode("utf-16")),
        "clients.json",
        "byte 0",
        None,
    ),
    ("a stream that is a folder", _folder_instead(_OPENS), _OPENS, "file", None),
    ("a summary that is a folder", _folder_instead(_SUMMARY), _SUMMARY, "file", None),
    (
        "clients.json that is a folder",
        _folder_instead("clients.json"),
        "clients.json",
        "file",
        None,
    ),
    ("truncated JSON", _truncate_file(_OPENS), _OPENS, "line ", None),
    ("empty file", _write_text(_OPENS, ""), _OPENS, "line 1", None),
    (
        "a zero-width space in a list member's address",
        _dates_in(f"lists/{READERS}/active.json", "EmailAddress", "ava\u200b@example.com.au"),
        f"lists/{READERS}/active.json",
        "Results[0]",
        "EmailAddress",
    ),
    (
        "a tab in a suppressed address",
        _dates_in(f"clients/{BOOKS}/suppressionlist.json", "EmailAddress", "ben\t@example.com"),
        f"clients/{BOOKS}/suppressionlist.json",
        "Results[0]",
        "EmailAddress",
    ),
]

#: Fields of the files whose rows are not skipped (clients, campaigns, lists, suppression,
#: summaries): a wrong type is an error naming the file, the record and the field.
_TYPED_FIELDS = [
    ("clients.json", "[1]", "ClientID"),
    ("clients.json", "[1]", "Name"),
    (_BOOKS_CAMPAIGNS, "Results[0]", "CampaignID"),
    (_BOOKS_CAMPAIGNS, "Results[0]", "Name"),
    (_BOOKS_CAMPAIGNS, "Results[0]", "SentDate"),
    (_BOOKS_CAMPAIGNS, "Results[0]", "Subject"),
    (_BOOKS_CAMPAIGNS, "Results[0]", "Tags"),
    (_CYCLES_CAMPAIGNS, "[0]", "SentDate"),
    (f"clients/{BOOKS}/lists.json", "[0]", "ListID"),
    (f"clients/{BOOKS}/lists.json", "[0]", "Name"),
    (f"lists/{READERS}/active.json", "Results[0]", "EmailAddress"),
    (f"lists/{READERS}/active.json", "Results[0]", "StateChangedDate"),
    (f"lists/{READERS}/active.json", "Results[0]", "State"),
    (f"clients/{BOOKS}/suppressionlist.json", "Results[0]", "EmailAddress"),
    (f"clients/{BOOKS}/suppressionlist.json", "Results[0]", "Date"),
]
_WRONG_VALUES = (42, 4.5, ["x"], {"x": 1})

HOSTILE += [
    (
        f"{field} = {value!r}",
        lambda e, n=name, r=record, f=field, v=value: _edit(
            e / n, _set_row(int(r.rsplit("[", 1)[1].rstrip("]")), f, v)
        ),
        name,
        record,
        field,
    )
    for name, record, field in _TYPED_FIELDS
    for value in _WRONG_VALUES
    if not (field == "Tags" and isinstance(value, list))  # ["x"] is a list of tags
]
HOSTILE += [
    (
        f"summary {field} = {value!r}",
        lambda e, f=field, v=value: _edit(e / _SUMMARY, _set(f, v)),
        _SUMMARY,
        "summary",
        field,
    )
    for field in ("Recipients", "Clicks", "Bounced")
    for value in ("3", 4.5, True, -1, None, [3])
]


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file opened through pathlib during the test, resolved."""
    seen: list[Path] = []
    real_open = Path.open

    def spying_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        seen.append(self.resolve())
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spying_open)
    return seen


@pytest.mark.parametrize(
    ("what", "damage", "name", "record", "field"),
    HOSTILE,
    ids=[what for what, *_rest in HOSTILE],
)
def test_a_hostile_export_is_one_platform_file_error_and_nothing_outside_is_read(
    export: Path,
    opened: list[Path],
    what: str,
    damage: Callable[[Path], object],
    name: str,
    record: str,
    field: str | None,
) -> None:
    """Each hostile export is refused by one PlatformFileError naming file, record and field."""
    _outside(export)
    damage(export)
    opened.clear()  # damaging the export read files; from here only the platform reads

    with pytest.raises(PlatformFileError) as caught:
        _read_everything(FilePlatform(export))

    error = caught.value
    assert error.path == export / name, what
    assert error.record.startswith(record)
    assert error.field == field
    message = str(error)
    assert name.rsplit("/", 1)[-1] in message
    if field is not None:
        assert repr(field) in message
    root = export.resolve()
    # (the zone database is read from the interpreter's own files: not an export's)
    assert [p for p in opened if p.suffix == ".json" and not p.is_relative_to(root)] == []


def test_a_file_larger_than_the_cap_is_refused_before_it_is_parsed(export: Path) -> None:
    """A file over max_file_bytes is refused, naming the file and the cap."""
    opens = export / _OPENS
    opens.write_text(opens.read_text() + " " * 100_000)  # still valid JSON, only larger
    platform = FilePlatform(export, max_file_bytes=50_000)

    with pytest.raises(PlatformFileError, match="larger than 50,000 bytes") as caught:
        read_whole_stream(platform, APRIL, ActivityType.OPENED)

    assert caught.value.path == export / _OPENS


@pytest.mark.parametrize("cap", [0, -1, 1.5, "1"])
def test_the_file_size_cap_must_be_a_positive_int(export: Path, cap: object) -> None:
    """max_file_bytes below 1 or not an int is refused naming the argument."""
    with pytest.raises(InvalidValueError, match="'max_file_bytes'"):
        FilePlatform(export, max_file_bytes=cap)  # type: ignore[arg-type]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads unreadable files"
)
def test_an_unreadable_file_is_a_platform_file_error(export: Path) -> None:
    """A file without read permission is refused naming it, not an OSError."""
    path = export / _OPENS
    path.chmod(0)
    try:
        with pytest.raises(PlatformFileError, match="cannot be read") as caught:
            read_whole_stream(FilePlatform(export), APRIL, ActivityType.OPENED)
    finally:
        path.chmod(0o644)

    assert caught.value.path == path


def test_a_symbolic_link_inside_the_export_is_followed(export: Path) -> None:
    """A link to another file of the same export is read: only leaving the folder is refused."""
    opens = export / _OPENS
    copy = export / "opens-copy.json"
    shutil.move(opens, copy)
    opens.symlink_to(copy)

    events, _pages = read_whole_stream(FilePlatform(export), APRIL, ActivityType.OPENED)

    assert len(events) == 4


def test_a_symbolic_link_loop_is_a_platform_file_error(export: Path) -> None:
    """A link that points at itself is refused naming the file."""
    opens = export / _OPENS
    opens.unlink()
    opens.symlink_to(opens)

    with pytest.raises(PlatformFileError) as caught:
        read_whole_stream(FilePlatform(export), APRIL, ActivityType.OPENED)

    assert caught.value.path == opens


# ----------------------------------------------------------------------------- fuzzing

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["2024-04-05 09:12:00", "0001-01-01 00:00:00", "9999-12-31 23:59:59"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
#: A row with the API's field names, holding anything.
_ROWS = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(
        (
            "EmailAddress",
            "Date",
            "ListID",
            "URL",
            "BounceType",
            "CampaignID",
            "Name",
            "SentDate",
            "Tags",
            "ClientID",
            "State",
            "StateChangedDate",
            "SuppressionReason",
        ),
        _JSON_VALUES,
    ),
)
_FUZZED_FILES = [
    "clients.json",
    f"clients/{BOOKS}/campaigns.json",
    f"clients/{BOOKS}/lists.json",
    f"clients/{BOOKS}/suppressionlist.json",
    f"clients/{CYCLES}/details.json",
    _OPENS,
    _SUMMARY,
    f"lists/{READERS}/active.json",
]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(_FUZZED_FILES),
    content=st.one_of(
        st.binary(max_size=64),
        _JSON_VALUES.map(json.dumps),
        st.lists(_ROWS, max_size=3).map(json.dumps),
        st.lists(_ROWS, max_size=3).map(
            lambda rows: json.dumps(_envelope(rows, 1, 1, 1000, len(rows)))
        ),
    ),
)
def test_any_content_in_any_file_is_read_or_refused_with_a_platform_file_error(
    export: Path, name: str, content: str | bytes
) -> None:
    """Whatever a file holds, reading the export succeeds or raises PlatformFileError."""
    path = export / name
    original = path.read_bytes()
    try:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        refused = _refusal(lambda: _read_what_is_listed(FilePlatform(export)))
    finally:
        path.write_bytes(original)
    assert refused is None or str(refused.path).startswith(str(export))


def _read_what_is_listed(platform: FilePlatform) -> None:
    """Read every file the export's own lists lead to, as a sync would."""
    for client in platform.clients():
        for campaign in platform.sent_campaigns(client.client_id):
            for stream in ActivityType:
                read_whole_stream(platform, campaign.campaign_id, stream)
            platform.campaign_summary(campaign.campaign_id)
        platform.subscriber_changes(client.client_id, since=None)
        platform.suppression_list(client.client_id)


def _refusal(read: Callable[[], object]) -> PlatformFileError | None:
    """The PlatformFileError ``read`` raised, or None; any other exception propagates."""
    try:
        read()
    except PlatformFileError as error:
        return error
    return None
