"""cmsf_core.testing.strategies: valid values aimed at the rules' edges, the documented shrink
targets, and st.from_type through the ``hypothesis`` entry point."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import Phase, find, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    Engagement,
    ImportFrequency,
    RefreshCause,
    Schedule,
    Settings,
    StatusMapping,
    number_occurrences,
)
from cmsf_core.domain.schedule import resolve_zone
from cmsf_core.domain.settings import parse_label
from cmsf_core.testing import PlatformSeed, read_whole_stream
from cmsf_core.testing import _hypothesis_hook as hook
from cmsf_core.testing import strategies as cs

ROOT = Path(__file__).resolve().parent.parent

#: The first example Hypothesis tries is the simplest one: what a failure shrinks to.
SIMPLEST = hypothesis_settings(phases=[Phase.generate], max_examples=1, database=None)

#: Enough tries to meet a rare case; ``find`` returns the first one it meets, unshrunk.
SEARCH = hypothesis_settings(phases=[Phase.generate], max_examples=2_000, database=None)


def simplest(strategy: st.SearchStrategy[Any]) -> Any:
    """The value a failing example of ``strategy`` shrinks to."""
    return find(strategy, lambda _value: True, settings=SIMPLEST)


def some(strategy: st.SearchStrategy[Any], condition: Any) -> Any:
    """An example of ``strategy`` meeting ``condition`` (fails if none is met)."""
    return find(strategy, condition, settings=SEARCH)


FIRST_INSTANT = datetime(2024, 1, 1, tzinfo=UTC)
LONDON_SPRING_FORWARD = datetime(2024, 3, 31, 1, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------- shrinking


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (cs.utc_instants(), FIRST_INSTANT),
        (cs.activity_times(), FIRST_INSTANT),
        (cs.time_zones(), "UTC"),
        (cs.activity_types(), ActivityType.SENT),
        (cs.refresh_causes(), RefreshCause.IMPORT),
        (cs.activities(), Activity("cmp-1", "m-1", ActivityType.SENT, FIRST_INSTANT)),
        (cs.stored_records(), ()),
        (cs.engagements(), Engagement()),
        (cs.status_labels(), "Sent"),
        (cs.default_statuses(), None),
        (cs.members(), CampaignMember("cmp-1", "m-1")),
        (cs.member_histories(), (CampaignMember("cmp-1", "m-1"), ())),
        (cs.status_mappings(), StatusMapping()),
        (cs.schedules(), Schedule()),
        (cs.settings(), Settings()),
        (cs.tracking_settings(), Settings()),
        (cs.setting_mappings(), {}),
    ],
    ids=lambda value: getattr(value, "__name__", None) or type(value).__name__,
)
def test_each_strategy_shrinks_to_its_documented_value(
    strategy: st.SearchStrategy[Any], expected: object
) -> None:
    """The simplest value of each strategy is the one its docstring names."""
    assert simplest(strategy) == expected


def test_dst_edge_instants_shrink_to_londons_first_spring_forward() -> None:
    """The simplest DST edge is 02:00 BST on 31 March 2024, given in London's zone."""
    edge = simplest(cs.dst_edge_instants())
    assert edge == LONDON_SPRING_FORWARD
    assert edge.tzinfo == ZoneInfo("Europe/London")
    assert (edge.hour, edge.minute) == (2, 0)


def test_stored_records_with_a_minimum_shrink_to_numbered_sent_records() -> None:
    """With ``min_size``, the simplest history is that many Sent twins numbered 0, 1, ..."""
    records = simplest(cs.stored_records(min_size=2))
    assert [(r.type, r.occurred_at, r.occurrence) for r in records] == [
        (ActivityType.SENT, FIRST_INSTANT, 0),
        (ActivityType.SENT, FIRST_INSTANT, 1),
    ]


def test_platform_histories_shrink_to_one_utc_client_with_one_campaign() -> None:
    """The simplest platform: client-1 in UTC, campaign cmp-1, no events."""
    seed = simplest(cs.platform_histories())
    assert [(c.client_id, c.time_zone) for c in seed.clients] == [("client-1", "UTC")]
    assert [c.campaign_id for c in seed.campaigns] == ["cmp-1"]
    assert seed.events == ()


# ----------------------------------------------------------------------------- validity


@given(cs.activities())
def test_activities_are_utc_with_a_detail_exactly_for_clicks_and_bounces(record: Activity) -> None:
    """Every record is held in UTC; clicks carry a URL, bounces a bounce type, others none."""
    assert record.occurred_at.tzinfo is UTC
    wants_detail = record.type in (ActivityType.CLICKED, ActivityType.BOUNCED)
    assert (record.detail is not None) == wants_detail


@given(cs.stored_records(campaign_id="cmp-9", member_id="m-9"))
def test_stored_records_have_distinct_keys_and_are_numbered_as_an_import_numbers_them(
    records: tuple[Activity, ...],
) -> None:
    """A stored history: one member's records, distinct keys, numbering already applied."""
    assert len({r.key for r in records}) == len(records)
    assert number_occurrences(records) == records
    assert {(r.campaign_id, r.member_id) for r in records} <= {("cmp-9", "m-9")}


def test_stored_records_hold_identical_twins_of_one_minute() -> None:
    """Identical events of one minute occur, numbered apart."""
    records = some(cs.stored_records(), lambda rs: any(r.occurrence > 0 for r in rs))
    twin = next(r for r in records if r.occurrence > 0)
    first = next(r for r in records if r.key == twin.key._replace(occurrence=0))
    assert first.type is twin.type


def test_stored_records_hold_twins_at_another_second_of_the_same_minute() -> None:
    """Events at two seconds of one minute share a key but for the occurrence number."""

    def split_minute(records: tuple[Activity, ...]) -> bool:
        by_base: dict[object, set[datetime]] = {}
        for r in records:
            by_base.setdefault(r.key._replace(occurrence=0), set()).add(r.occurred_at)
        return any(len(times) > 1 for times in by_base.values())

    assert split_minute(some(cs.stored_records(), split_minute))


def test_stored_records_hold_ties_of_different_types_at_one_instant() -> None:
    """Two types at the same instant occur: the tie rank decides the candidate."""

    def tie(records: tuple[Activity, ...]) -> bool:
        return any(
            a.occurred_at == b.occurred_at and a.type is not b.type
            for a in records
            for b in records
        )

    assert tie(some(cs.stored_records(), tie))


@given(cs.member_histories(campaign_id="cmp-2", member_id="ann@example.com"))
def test_member_histories_belong_to_one_member(
    history: tuple[CampaignMember, tuple[Activity, ...]],
) -> None:
    """The member and its records share the campaign and member ids."""
    member, records = history
    assert (member.campaign_id, member.member_id) == ("cmp-2", "ann@example.com")
    assert all((r.campaign_id, r.member_id) == ("cmp-2", "ann@example.com") for r in records)


def test_member_histories_put_the_activity_date_on_a_records_instant() -> None:
    """The Activity Date guard's edge: a record exactly at the member's Activity Date."""

    def on_the_edge(history: tuple[CampaignMember, tuple[Activity, ...]]) -> bool:
        member, records = history
        return any(r.occurred_at == member.activity_date for r in records)

    assert on_the_edge(some(cs.member_histories(), on_the_edge))


@pytest.mark.parametrize(
    "kind",
    [
        lambda m: m.status is None,
        lambda m: m.status is not None and m.activity is None,
        lambda m: m.activity is not None and m.activity_date is not None,
    ],
    ids=["fresh", "set by hand", "set by the integration"],
)
def test_members_are_fresh_set_by_hand_or_set_by_the_integration(kind: Any) -> None:
    """All three kinds of member occur."""
    assert kind(some(cs.members(), kind))


def test_dst_edge_instants_include_a_repeated_hour_given_with_fold_1() -> None:
    """The second occurrence of a repeated local hour is given with ``fold=1``."""
    instant = some(cs.dst_edge_instants(), lambda t: t.fold == 1)
    earlier = instant.replace(fold=0)
    assert instant.utcoffset() != earlier.utcoffset()


@given(cs.dst_edge_instants())
def test_dst_edge_instants_are_within_two_hours_of_a_change_of_their_zone(
    instant: datetime,
) -> None:
    """Each instant is at most two hours from one of its zone's clock changes."""
    assert isinstance(instant.tzinfo, ZoneInfo)
    changes = cs.dst_transitions(instant.tzinfo.key)
    assert min(abs(instant - change) for change in changes) <= timedelta(hours=2)
    assert instant.second == instant.microsecond == 0


@pytest.mark.parametrize("zone", cs.DST_ZONES)
def test_dst_transitions_are_where_the_offset_changes(zone: str) -> None:
    """A minute before each change the offset is the old one, at the change the new one."""
    tz = ZoneInfo(zone)
    changes = cs.dst_transitions(zone)
    assert len(changes) == 4  # two changes a year in 2024 and 2025
    for change in changes:
        before = (change - timedelta(minutes=1)).astimezone(tz).utcoffset()
        assert before != change.astimezone(tz).utcoffset()


@given(cs.status_labels())
def test_status_labels_are_valid_picklist_values(label: str) -> None:
    """Every label is accepted as it is: 1 to 40 printable characters, no outer spaces."""
    assert parse_label(label, "label") == label


def test_status_mappings_map_types_to_nothing_and_share_labels() -> None:
    """A type mapped to no status, and two types sharing a label, both occur."""
    unmapped = some(cs.status_mappings(), lambda m: None in m.labels.values())
    assert any(label is None for label in unmapped.labels.values())

    def shared(mapping: StatusMapping) -> bool:
        labels = [label for label in mapping.labels.values() if label is not None]
        return len(set(labels)) < len(labels)

    assert shared(some(cs.status_mappings(), shared))


@given(cs.settings())
def test_settings_survive_a_round_trip_through_their_product_names(settings: Settings) -> None:
    """What ``to_mapping`` writes, ``from_mapping`` reads back to the same settings."""
    assert Settings.from_mapping(settings.to_mapping()) == settings


@given(cs.setting_mappings())
def test_setting_mappings_are_read_by_from_mapping(mapping: dict[str, object]) -> None:
    """Every generated settings file is accepted, whatever its keys' case and spellings."""
    read = Settings.from_mapping(mapping)
    assert isinstance(read, Settings)


def test_setting_mappings_use_the_products_other_spellings() -> None:
    """The refresh mode appears as "Update Once" (and keys in other cases)."""
    found = some(cs.setting_mappings(), lambda m: "Update Once" in m.values())
    assert Settings.from_mapping(found).refresh_mode.value == "Once Only"


@given(cs.schedules())
def test_schedules_read_back_from_their_text(schedule: Schedule) -> None:
    """Each schedule's text is read back to the same schedule."""
    assert Schedule.parse(str(schedule)) == schedule


@pytest.mark.parametrize("frequency", list(ImportFrequency))
def test_schedules_cover_every_frequency(frequency: ImportFrequency) -> None:
    """Never, Hourly, Daily, Weekly and Custom all occur."""
    assert some(cs.schedules(), lambda s: s.frequency is frequency).frequency is frequency


@given(cs.time_zones())
def test_time_zones_are_known_iana_zones(zone: str) -> None:
    """Each name resolves to a zone."""
    resolve_zone(zone)


# ----------------------------------------------------------------------------- platforms


@hypothesis_settings(max_examples=50)
@given(cs.platform_histories())
def test_a_seeded_platform_serves_exactly_its_history(seed: PlatformSeed) -> None:
    """Every stream of every campaign serves the seeded events, twins included."""
    platform = cs.seeded_platform(seed)
    assert [c.client_id for c in platform.clients()] == [c.client_id for c in seed.clients]
    for campaign in seed.campaigns:
        for stream in ActivityType:
            served, _pages = read_whole_stream(platform, campaign.campaign_id, stream)
            assert Counter(served) == Counter(seed.stream(campaign.campaign_id, stream))


def test_platform_histories_hold_identical_twin_events() -> None:
    """The same event reported twice in one minute occurs."""
    seed = some(cs.platform_histories(), lambda s: any(n > 1 for n in Counter(s.events).values()))
    assert len(set(seed.events)) < len(seed.events)


def test_platform_histories_send_across_a_clock_change() -> None:
    """A campaign of a client in a DST zone with events on both sides of a change."""

    def across(seed: PlatformSeed) -> bool:
        zones = {c.client_id: ZoneInfo(c.time_zone) for c in seed.clients}
        owner = {c.campaign_id: c.client_id for c in seed.campaigns}
        offsets: dict[str, set[object]] = {}
        for campaign_id, event in seed.events:
            zone = zones[owner[campaign_id]]
            offsets.setdefault(campaign_id, set()).add(
                event.occurred_at.astimezone(zone).utcoffset()
            )
        return any(len(found) > 1 for found in offsets.values())

    assert across(some(cs.platform_histories(), across))


def test_platforms_are_fresh_in_memory_platforms() -> None:
    """``platforms()`` draws a new platform serving the drawn history."""
    platform = simplest(cs.platforms())
    assert [c.client_id for c in platform.clients()] == ["client-1"]


# ----------------------------------------------------------------------------- st.from_type

REGISTERED: list[tuple[type, Callable[[], st.SearchStrategy[Any]]]] = [
    (Activity, cs.activities),
    (CampaignMember, cs.members),
    (Settings, cs.settings),
    (StatusMapping, cs.status_mappings),
    (Schedule, cs.schedules),
    (Engagement, cs.engagements),
]


@pytest.mark.parametrize(("cls", "strategy"), REGISTERED, ids=lambda v: getattr(v, "__name__", ""))
def test_from_type_draws_from_our_strategy_once_registered(cls: type, strategy: Any) -> None:
    """After ``register_type_strategies()``, ``st.from_type(cls)`` draws this module's strategy."""
    cs.register_type_strategies()
    drawn = simplest(st.from_type(cls))
    assert isinstance(drawn, cls)
    assert drawn == simplest(strategy())


def test_registering_twice_is_harmless() -> None:
    """The entry point and a test may both register; the second changes nothing."""
    cs.register_type_strategies()
    cs.register_type_strategies()
    assert simplest(st.from_type(Settings)) == Settings()


def test_the_entry_point_knows_exactly_the_types_strategy_for_draws() -> None:
    """The hook's types (named before the strategies can be imported) are the registered
    ones, and ``strategy_for`` refuses any other type."""
    hooked = [getattr(importlib.import_module(module), name) for module, name in hook.TYPES]
    assert hooked == [cls for cls, _strategy in REGISTERED]
    with pytest.raises(KeyError):
        cs.strategy_for(str)


def test_the_entry_point_draws_each_type_from_our_strategy() -> None:
    """``register()`` of the hook gives ``st.from_type`` the same strategies."""
    hook.register()
    for cls, strategy in REGISTERED:
        assert simplest(st.from_type(cls)) == simplest(strategy())


def _declared_entry_point() -> str | None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project.get("entry-points", {}).get("hypothesis", {}).get("_")
    return None if declared is None else str(declared)


def _first_draw_in_a_fresh_interpreter(
    type_name: str, *, first: str = ""
) -> subprocess.CompletedProcess[str]:
    """``st.from_type(<type_name>)``'s simplest value, printed by a new interpreter that
    runs ``first`` before anything else."""
    script = (
        f"{first}\n"
        "from hypothesis import Phase, find, settings, strategies as st\n"
        f"from cmsf_core import {type_name}\n"
        "once = settings(phases=[Phase.generate], max_examples=1, database=None)\n"
        f"print(repr(find(st.from_type({type_name}), lambda v: True, settings=once)))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )


def test_the_hypothesis_entry_point_registers_the_strategies_on_import() -> None:
    """Installed with the entry point, a fresh interpreter's ``st.from_type`` knows our
    types without any explicit registration."""
    declared = _declared_entry_point()
    assert declared == "cmsf_core.testing._hypothesis_hook:register"
    installed = {ep.value for ep in entry_points(group="hypothesis")}
    assert declared in installed, "reinstall the package: its entry points are out of date"
    result = _first_draw_in_a_fresh_interpreter("Activity")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Activity(campaign_id='cmp-1', member_id='m-1'")


def test_the_strategies_module_can_be_the_first_import() -> None:
    """``import cmsf_core.testing.strategies`` before Hypothesis runs the entry point while the
    strategies module is half-built; the hook lives apart, so the import works and
    ``st.from_type`` still draws from our strategies."""
    result = _first_draw_in_a_fresh_interpreter(
        "Settings", first="import cmsf_core.testing.strategies"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Settings("), result.stdout
