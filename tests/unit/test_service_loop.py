"""The sync service loop with a fake clock: schedule, DST, failures, stop, restart, switch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.app.humanize import duration, last_synced, local_time, relative
from cmsf_core.app.service_lines import clients_lines, run_line, wait_line
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import CmsfError
from cmsf_core.domain.records import PlatformCampaign
from cmsf_core.domain.service import RunKind, ServiceDecision
from cmsf_core.domain.settings import Settings
from cmsf_core.ports.crm import StoreBusyError
from cmsf_core.ports.errors import PlatformError
from cmsf_core.shell.service import (
    RUN_FAILED,
    RUN_FINISHED,
    STATE_KEY,
    STORE_BUSY,
    SWITCH_KEY,
    MemoryMeta,
    ServiceBusyError,
    ServiceOutcome,
    ServiceRun,
    ServiceStateError,
    hold_service_lock,
    load_service_state,
    real_sleep,
    run_service,
    set_sync_enabled,
    sync_enabled,
)

LONDON = "Europe/London"
SPRING = datetime(2024, 3, 30, 22, 30, tzinfo=UTC)  # London's clocks go forward at 01:00 GMT
AUTUMN = datetime(2024, 10, 26, 22, 30, tzinfo=UTC)  # ... and back at 01:00 GMT on the 27th


@attrs.define
class FakeClock:
    """A clock that only a sleep moves; it remembers every sleep."""

    now: datetime
    slept: list[float] = attrs.field(factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@attrs.define
class FlakyPlatform(InMemoryPlatform):
    """An in-memory platform whose reads fail, on demand, for some clients or altogether."""

    failing: set[str] = attrs.field(factory=set)
    down: bool = False
    busy: bool = False
    on_read: Callable[[], None] | None = None

    def clients(self) -> Sequence[object]:  # type: ignore[override]
        if self.down:
            raise PlatformError("the platform cannot be reached", status=503, operation="clients")
        if self.busy:
            raise StoreBusyError("another sync holds the store")
        return super().clients()

    def sent_campaigns(self, client_id: str) -> Sequence[PlatformCampaign]:
        if self.on_read is not None:
            self.on_read()
        if client_id in self.failing:
            raise PlatformError("invalid API key", code=100, status=401, operation="campaigns")
        return super().sent_campaigns(client_id)


def platform() -> FlakyPlatform:
    p = FlakyPlatform()
    p.add_client("c1", "Harbour Books", time_zone=LONDON)
    p.add_client("c2", "Thames Cycles", time_zone=LONDON)
    p.add_campaign("c1", "cmp-1", "Spring", sent_at=SPRING - timedelta(days=1))
    p.add_event("cmp-1", ActivityType.SENT, "ann@example.com", SPRING - timedelta(days=1))
    p.add_event("cmp-1", ActivityType.OPENED, "ann@example.com", SPRING + timedelta(hours=5))
    return p


def serve(
    crm: InMemoryCrm | SqliteCrm,
    source: InMemoryPlatform,
    clock: FakeClock,
    *,
    settings: Settings | None = None,
    meta: MemoryMeta | None = None,
    max_runs: int | None = None,
    stop: Callable[[], bool] = lambda: False,
    waits: list[ServiceDecision] | None = None,
) -> tuple[ServiceOutcome, list[ServiceRun]]:
    runs: list[ServiceRun] = []
    outcome = run_service(
        crm,
        source,
        settings or Settings(perform_full_daily_sync=True),
        clock=clock,
        sleep=clock.sleep,
        stop=stop,
        tz=LONDON,
        meta=meta,
        max_runs=max_runs,
        on_run=runs.append,
        on_wait=lambda decision, _now: (waits if waits is not None else []).append(decision),
    )
    return outcome, runs


def local_hours(runs: Sequence[ServiceRun]) -> list[str]:
    return [local_time(run.started, LONDON)[11:] for run in runs]


def test_an_hourly_service_skips_the_hour_the_spring_change_removes() -> None:
    """Across London's spring change the service runs at every whole local hour (no 01:00)."""
    clock = FakeClock(SPRING)
    outcome, runs = serve(InMemoryCrm(), platform(), clock, max_runs=6)

    assert local_hours(runs) == [
        "22:30 GMT",
        "23:00 GMT",
        "00:00 GMT",
        "02:00 BST",
        "03:00 BST",
        "04:00 BST",
    ]
    assert [run.started - runs[0].started for run in runs[1:]] == [
        timedelta(minutes=30 + 60 * n) for n in range(5)
    ]
    assert outcome.runs == 6
    assert outcome.failures == 0
    assert not outcome.stopped


def test_the_daily_full_sync_is_the_first_run_of_each_local_day() -> None:
    """With Perform full daily sync on, the first run and the local midnight run are full."""
    clock = FakeClock(SPRING)
    _, runs = serve(InMemoryCrm(), platform(), clock, max_runs=6)

    kinds = [run.decision.kind for run in runs]
    assert kinds == [RunKind.FULL, RunKind.INCREMENTAL, RunKind.FULL] + [RunKind.INCREMENTAL] * 3


def test_an_hourly_service_runs_twice_in_the_hour_the_autumn_change_repeats() -> None:
    """01:00 BST and 01:00 GMT are two runs, an hour apart."""
    clock = FakeClock(AUTUMN)
    _, runs = serve(InMemoryCrm(), platform(), clock, max_runs=5)

    assert local_hours(runs) == ["23:30 BST", "00:00 BST", "01:00 BST", "01:00 GMT", "02:00 GMT"]


def test_the_service_imports_what_arrives_and_records_every_run() -> None:
    """The open at 03:30 UTC is imported by the 04:00 UTC run; each run is a message."""
    crm = InMemoryCrm()
    clock = FakeClock(SPRING)
    _, runs = serve(crm, platform(), clock, max_runs=8)

    imported = [run.report.plan.counts()["records inserted"] for run in runs if run.report]
    assert imported == [1, 0, 0, 0, 0, 0, 1, 0]
    finished = [m for m in crm.messages() if m.code == RUN_FINISHED]
    assert len(finished) == 8
    assert "the full sync of the scheduled run" in finished[0].guidance


def test_every_client_read_is_last_synced_at_the_finish_of_the_run() -> None:
    """The clients table has a row per platform client, last synced at the run's finish."""
    clock = FakeClock(SPRING)
    outcome, runs = serve(InMemoryCrm(), platform(), clock, max_runs=2)

    assert [row.client_id for row in outcome.clients] == ["c1", "c2"]
    assert all(row.last_synced == runs[-1].finished for row in outcome.clients)
    assert all(row.connection_active for row in outcome.clients)


def test_a_client_skipped_for_a_platform_error_has_its_connection_lost_until_it_answers() -> None:
    """c2's key is revoked: its row says connection lost, c1 syncs; once it answers, active."""
    source = platform()
    source.failing.add("c2")
    meta = MemoryMeta()
    clock = FakeClock(SPRING)
    outcome, runs = serve(InMemoryCrm(), source, clock, meta=meta, max_runs=1)

    rows = {row.client_id: row for row in outcome.clients}
    assert rows["c1"].last_synced == runs[0].finished
    assert rows["c1"].connection_active
    assert rows["c2"].last_synced is None
    assert not rows["c2"].connection_active
    assert not runs[0].ok
    assert runs[0].message.severity.value == "Warning"

    source.failing.clear()
    outcome, _ = serve(InMemoryCrm(), source, clock, meta=meta, max_runs=1)
    assert all(row.connection_active for row in outcome.clients)


def test_a_run_that_raises_is_reported_and_retried_at_the_next_scheduled_run() -> None:
    """The platform is down at 22:30: an Error message, every client's connection lost,
    and the 23:00 run syncs."""
    source = platform()
    source.down = True
    crm = InMemoryCrm()
    clock = FakeClock(SPRING)
    meta = MemoryMeta()
    outcome, runs = serve(crm, source, clock, meta=meta, max_runs=1)

    assert runs[0].error is not None
    assert "cannot be reached" in runs[0].error
    assert runs[0].report is None
    assert not runs[0].ok
    assert outcome.failures == 1
    assert outcome.not_ok == 1
    (failed,) = crm.messages()
    assert failed.code == RUN_FAILED
    assert failed.severity.value == "Error"
    assert "retries it" in failed.guidance

    source.down = False
    outcome, runs = serve(crm, source, clock, meta=meta, max_runs=1)
    assert runs[0].started == datetime(2024, 3, 30, 23, tzinfo=UTC)
    assert runs[0].ok


def test_a_busy_store_is_a_warning_and_the_next_scheduled_run_retries() -> None:
    """Another sync holds the store: a SERVICE-STORE-BUSY warning; the loop goes on."""
    source = platform()
    source.busy = True
    crm = InMemoryCrm()
    outcome, runs = serve(crm, source, FakeClock(SPRING), max_runs=2)

    assert [m.code for m in crm.messages()] == [STORE_BUSY, STORE_BUSY]
    assert runs[1].started - runs[0].started == timedelta(minutes=30)
    assert outcome.failures == 2


def test_a_stop_asked_during_a_sync_lets_it_finish_and_record_first() -> None:
    """SIGTERM arrives while the platform is read: the run completes and is recorded."""
    asked: list[bool] = []
    source = platform()
    source.on_read = lambda: asked.append(True)
    crm = InMemoryCrm()
    outcome, runs = serve(crm, source, FakeClock(SPRING), stop=lambda: bool(asked))

    assert outcome.stopped
    assert outcome.runs == 1
    assert runs[0].ok
    assert crm.record_count() == 1
    assert [m.code for m in crm.messages()] == [RUN_FINISHED]


def test_a_restarted_service_does_not_run_a_served_slot_again() -> None:
    """The state kept in the store carries over: at the same instant nothing runs again."""
    meta = MemoryMeta()
    clock = FakeClock(SPRING)
    serve(InMemoryCrm(), platform(), clock, meta=meta, max_runs=1)
    waits: list[ServiceDecision] = []
    _, runs = serve(InMemoryCrm(), platform(), clock, meta=meta, max_runs=1, waits=waits)

    assert waits[0].reason == "no scheduled run is due"
    assert runs[0].started == datetime(2024, 3, 30, 23, tzinfo=UTC)


def test_a_slot_is_served_before_its_sync_runs_so_a_crash_never_repeats_it() -> None:
    """A process killed inside the sync: its slot is saved as served, the next one retries."""

    class Killed(BaseException):
        """Stands for the process dying."""

    def die() -> None:
        raise Killed

    source = platform()
    source.on_read = die
    meta = MemoryMeta()
    clock = FakeClock(SPRING)
    with pytest.raises(Killed):
        serve(InMemoryCrm(), source, clock, meta=meta)
    state, _ = load_service_state(meta)
    assert state.last_served == datetime(2024, 3, 30, 22, tzinfo=UTC)

    source.on_read = None
    _, runs = serve(InMemoryCrm(), source, clock, meta=meta, max_runs=1)
    assert runs[0].decision.serves == datetime(2024, 3, 30, 23, tzinfo=UTC)


def test_missed_runs_are_caught_up_by_one_run() -> None:
    """A service asleep for five hours runs once, covering five scheduled runs."""
    meta = MemoryMeta()
    clock = FakeClock(SPRING)
    serve(InMemoryCrm(), platform(), clock, meta=meta, max_runs=1)
    clock.now += timedelta(hours=5)
    _, runs = serve(InMemoryCrm(), platform(), clock, meta=meta, max_runs=1)

    assert runs[0].decision.covers == 5
    assert "catching up 5 runs" in run_line(runs[0], LONDON)


def test_a_turned_off_sync_runs_nothing_until_turned_on_again() -> None:
    """While the switch is off the service polls it; turned on, the due run starts."""
    meta = MemoryMeta()
    set_sync_enabled(meta, False)
    clock = FakeClock(SPRING)
    waits: list[ServiceDecision] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.slept) == 3:
            set_sync_enabled(meta, True)

    runs: list[ServiceRun] = []
    run_service(
        InMemoryCrm(),
        platform(),
        Settings(),
        clock=clock,
        sleep=sleep,
        stop=lambda: False,
        tz=LONDON,
        meta=meta,
        max_runs=1,
        poll=60,
        on_run=runs.append,
        on_wait=lambda decision, _now: waits.append(decision),
    )
    assert [w.reason for w in waits] == ["the sync is turned off"] * 3
    assert clock.slept == [60, 60, 60]
    assert runs[0].started == SPRING + timedelta(minutes=3)
    assert sync_enabled(meta)


def test_the_service_never_sleeps_longer_than_its_poll() -> None:
    """Under a Daily schedule the wait for tomorrow is cut into polls of at most an hour."""
    clock = FakeClock(SPRING)
    serve_settings = Settings.from_mapping({"Import_Frequency": "Daily at 6"})
    _, runs = serve(InMemoryCrm(), platform(), clock, settings=serve_settings, max_runs=2)
    assert max(clock.slept) <= 60
    assert local_time(runs[1].started, LONDON) == "2024-03-31 06:00 BST"


def test_a_clock_that_went_back_is_waited_for_not_decided_on() -> None:
    """A clock behind the last served run makes the service wait, never raise."""
    meta = MemoryMeta()
    clock = FakeClock(SPRING)
    serve(InMemoryCrm(), platform(), clock, meta=meta, max_runs=1)
    clock.now = SPRING - timedelta(hours=2)
    _, runs = serve(InMemoryCrm(), platform(), clock, meta=meta, max_runs=1)
    assert runs[0].started == datetime(2024, 3, 30, 23, tzinfo=UTC)


def test_the_state_lives_in_a_sqlite_store_by_default(tmp_path: Path) -> None:
    """Without ``meta`` the service keeps its state in the store's own metadata."""
    clock = FakeClock(SPRING)
    with SqliteCrm(tmp_path / "s.db") as crm:
        serve(crm, platform(), clock, max_runs=1)
    with SqliteCrm(tmp_path / "s.db") as crm:
        state, clients = load_service_state(crm)
        assert state.last_served == datetime(2024, 3, 30, 22, tzinfo=UTC)
        assert len(clients) == 2
        assert [m.code for m in crm.messages()] == [RUN_FINISHED]


def test_a_store_without_metadata_keeps_the_state_in_memory() -> None:
    """An in-memory CRM has no metadata: the loop still runs, nothing persists."""
    outcome, _ = serve(InMemoryCrm(), platform(), FakeClock(SPRING), meta=None, max_runs=1)
    assert outcome.state.last_served == datetime(2024, 3, 30, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        (STATE_KEY, "{not json", "is not valid JSON"),
        (STATE_KEY, '{"version": 9}', "version 1"),
        (STATE_KEY, '{"version": 1, "last_served": "yesterday"}', "'last_served'"),
        (STATE_KEY, '{"version": 1, "last_served": 3}', "'last_served'"),
        (STATE_KEY, '{"version": 1, "clients": {}}', "'clients' must be a list"),
        (STATE_KEY, '{"version": 1, "clients": [1]}', "clients[0] must be an object"),
        (STATE_KEY, '{"version": 1, "clients": [{"name": "x"}]}', "clients[0] has no"),
        (
            STATE_KEY,
            '{"version": 1, "clients": [{"client_id": "", "name": "x", "time_zone": "UTC"}]}',
            "clients[0]:",
        ),
        (SWITCH_KEY, "maybe", "'on' or 'off'"),
    ],
)
def test_unreadable_service_state_is_one_clear_error(key: str, value: str, words: str) -> None:
    """A damaged state or switch is refused with an error naming the key."""
    meta = MemoryMeta({key: value})
    with pytest.raises(ServiceStateError, match="service") as caught:
        load_service_state(meta)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_runs": 0}, "'max_runs' must be >= 1"),
        ({"max_runs": True}, "'max_runs' must be a whole number"),
        ({"poll": 0}, "'poll' must be a number of seconds > 0"),
        ({"tz": "Mars/Olympus"}, "'tz' must be an IANA time zone"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(
    kwargs: dict[str, object], words: str
) -> None:
    """A bad argument raises before the first decision; nothing is recorded."""
    crm = InMemoryCrm()
    arguments: dict[str, object] = {
        "clock": FakeClock(SPRING),
        "sleep": lambda _s: None,
        "stop": lambda: False,
        "tz": LONDON,
    }
    arguments.update(kwargs)
    with pytest.raises(CmsfError, match=words):
        run_service(crm, platform(), Settings(), **arguments)  # type: ignore[arg-type]
    assert not crm.messages()


def test_settings_and_switch_values_are_type_checked() -> None:
    """Settings must be a Settings, the switch a bool."""
    with pytest.raises(TypeError, match="'settings' must be a Settings"):
        run_service(
            InMemoryCrm(),
            platform(),
            {},  # type: ignore[arg-type]
            clock=FakeClock(SPRING),
            sleep=lambda _s: None,
            stop=lambda: True,
            tz=LONDON,
        )
    with pytest.raises(TypeError, match="'enabled' must be a bool"):
        set_sync_enabled(MemoryMeta(), "off")  # type: ignore[arg-type]


def test_a_second_service_on_the_same_store_is_refused(tmp_path: Path) -> None:
    """The service lock is held once; the refusal names the holder; released on exit."""
    store = tmp_path / "s.db"
    with (
        hold_service_lock(store),
        pytest.raises(ServiceBusyError, match="pid"),
        hold_service_lock(store),
    ):
        pass  # pragma: no cover - never entered
    with hold_service_lock(store) as path:
        assert path.name == "s.db.service-lock"


def test_real_sleep_returns_at_once_when_a_stop_is_asked() -> None:
    """The real sleep checks the stop request before each short slice."""
    real_sleep(lambda: True)(3600)
    real_sleep(lambda: False, slice_seconds=0.001)(0.0)


def test_the_waiting_line_tells_the_next_run_in_words_and_local_time() -> None:
    """'next run in 47 minutes, at 2024-03-31 02:00 BST'; without a next run, the reason."""
    now = datetime(2024, 3, 31, 0, 13, tzinfo=UTC)
    next_check = datetime(2024, 3, 31, 1, tzinfo=UTC)
    decision = ServiceDecision(RunKind.NOTHING, "no scheduled run is due", next_check=next_check)
    assert wait_line(decision, now, LONDON) == "next run in 47 minutes, at 2024-03-31 02:00 BST"
    off = ServiceDecision(RunKind.NOTHING, "the sync is turned off")
    assert wait_line(off, now, LONDON) == "nothing to run: the sync is turned off"


def test_the_clients_lines_say_when_each_client_last_synced() -> None:
    """'last synced 3 hours ago', 'never synced', and a lost connection."""
    source = platform()
    source.failing.add("c2")
    clock = FakeClock(SPRING)
    outcome, _ = serve(InMemoryCrm(), source, clock, max_runs=1)
    lines = clients_lines(outcome.clients, SPRING + timedelta(hours=3))
    assert lines == [
        "client Harbour Books (c1): last synced 3 hours ago",
        "client Thames Cycles (c2): never synced; connection lost",
    ]


def test_run_lines_say_what_ran_and_how_it_ended() -> None:
    """A full run, a failed run and a run with something to look at, each in one line."""
    source = platform()
    clock = FakeClock(SPRING)
    _, ok = serve(InMemoryCrm(), source, clock, max_runs=1)
    source.failing.add("c2")
    _, partial = serve(InMemoryCrm(), source, clock, max_runs=1)
    source.down = True
    _, failed = serve(InMemoryCrm(), source, clock, max_runs=1)

    assert run_line(ok[0], LONDON) == (
        "2024-03-30 22:30 GMT: full sync for the 2024-03-30 22:00 GMT run: "
        "ok, 1 records imported, 0 purged"
    )
    assert "done with something to look at" in run_line(partial[0], LONDON)
    assert run_line(failed[0], LONDON).endswith("retried at the next scheduled run")


@pytest.mark.parametrize(
    ("offset", "phrase"),
    [
        (timedelta(minutes=47), "in 47 minutes"),
        (timedelta(minutes=59, seconds=30), "in 59 minutes"),
        (timedelta(hours=1), "in 1 hour"),
        (-timedelta(hours=3), "3 hours ago"),
        (-timedelta(days=2), "2 days ago"),
        (timedelta(milliseconds=300), "now"),
    ],
)
def test_relative_times_read_as_a_person_says_them(offset: timedelta, phrase: str) -> None:
    """Fixed instants: future 'in ...', past '... ago', under a second 'now'."""
    now = datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert relative(now + offset, now) == phrase


def test_durations_and_local_times_read_as_a_person_says_them() -> None:
    """'7 days' reads '1 week'; local times carry the zone's abbreviation on each side of DST."""
    assert duration(timedelta(days=3)) == "3 days"
    assert duration(timedelta(days=7)) == "1 week"
    assert duration(-timedelta(hours=2)) == "2 hours"
    assert local_time(datetime(2024, 3, 31, 0, 59, tzinfo=UTC), LONDON) == "2024-03-31 00:59 GMT"
    assert local_time(datetime(2024, 3, 31, 1, 0, tzinfo=UTC), LONDON) == "2024-03-31 02:00 BST"
    assert last_synced(None, SPRING) == "never synced"
    assert last_synced(SPRING, SPRING - timedelta(hours=1)) == "last synced at 2024-03-30 22:30 UTC"
    with pytest.raises(TypeError, match="'span' must be a timedelta"):
        duration(3)  # type: ignore[arg-type]


def test_a_store_held_by_another_sync_is_a_busy_run_that_is_recorded_later(
    tmp_path: Path,
) -> None:
    """A sync by hand holds the store when the run is due: a SERVICE-STORE-BUSY run that
    changed nothing; its message is written once the store is free, and the next run syncs."""
    path = tmp_path / "s.db"
    with SqliteCrm(path) as other, SqliteCrm(path, wait=0) as crm:
        other.set_meta("origin", "a test")
        clock = FakeClock(SPRING)
        held = other.sync_lock(wait=0)
        held.__enter__()

        def sleep(seconds: float) -> None:
            clock.sleep(seconds)
            held.__exit__(None, None, None) if len(clock.slept) == 1 else None

        runs: list[ServiceRun] = []
        run_service(
            crm,
            platform(),
            Settings(),
            clock=clock,
            sleep=sleep,
            stop=lambda: False,
            tz=LONDON,
            max_runs=2,
            on_run=runs.append,
        )

        assert runs[0].error == "another sync holds the store"
        assert runs[0].message.code == STORE_BUSY
        assert runs[1].ok
        assert crm.record_count() == 1
        assert [m.code for m in crm.messages()] == [STORE_BUSY, RUN_FINISHED]
