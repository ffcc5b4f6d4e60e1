"""``cmsf run``: the sync service on the store until stopped, and its sync switch."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cmsf_core.app.cli.exits import EXIT_ATTENTION, EXIT_OK, UsageError, _fail
from cmsf_core.app.cli.options import _org_zone, _parse_as_of, _time_zones, load_settings
from cmsf_core.app.cli.store import _open_store

if TYPE_CHECKING:
    from cmsf_core.ports.platform import EmailPlatform


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    """Run the primary sync on its schedule until stopped (SIGTERM: 0, SIGINT: 130)."""
    from cmsf_core.app import service_lines  # noqa: PLC0415 - keep --help fast
    from cmsf_core.domain.service import ServiceDecision  # noqa: PLC0415
    from cmsf_core.shell import service  # noqa: PLC0415 - keep --help fast

    if args.turn_on or args.turn_off:
        return _turn_sync(args, out)
    if args.platform is None:
        raise UsageError("--platform FOLDER is required (or --turn-on / --turn-off)")
    settings = load_settings(args.settings)
    zone = _org_zone(args.org_time_zone)
    folder = Path(args.platform)
    if not folder.is_dir():
        raise UsageError(f"platform folder {args.platform!r} does not exist or is not a folder")
    from cmsf_core.adapters.files import FilePlatform  # noqa: PLC0415

    platform: EmailPlatform = FilePlatform(folder, time_zones=_time_zones(args.time_zone))
    fake = _fake_clock(args.fake_clock, args.fake_until, out)
    signals = _StopSignals()
    clock = fake.now if fake else service.system_clock
    sleep = fake.sleeper(signals.stopped) if fake else service.real_sleep(signals.stopped)
    shown: list[object] = [None]

    def on_wait(decision: ServiceDecision, now: datetime) -> None:
        key = (decision.next_check, decision.reason)
        if key != shown[0]:
            shown[0] = key
            hint = ""
            if not decision.runs and decision.reason == "the sync is turned off":
                hint = f" (turn it on with 'cmsf run --store {args.store} --turn-on')"
            _say(out, service_lines.wait_line(decision, now, zone) + hint)

    def on_run(run: service.ServiceRun) -> None:
        shown[0] = None
        if run.report is not None:  # 'cmsf diagnose' takes its defaults from the last run
            try:
                crm.remember_run(settings, run.started)
            except Exception as error:
                if not service.is_store_busy(error):
                    raise
        _say(out, service_lines.run_line(run, zone))

    with service.hold_service_lock(args.store), _open_store(args.store, create=True) as crm:
        _, clients = service.load_service_state(crm)
        schedule = settings.import_schedule
        full = ", full daily sync on" if settings.perform_full_daily_sync else ""
        _say(
            out,
            f"serving {args.store} from {args.platform}: {schedule} in {zone}{full}; "
            "stop with Ctrl-C or SIGTERM",
        )
        for line in service_lines.clients_lines(clients, clock()):
            _say(out, f"  {line}")
        with signals:
            outcome = service.run_service(
                crm,
                platform,
                settings,
                clock=clock,
                sleep=sleep,
                stop=signals.stopped,
                tz=zone,
                max_runs=args.max_runs,
                on_run=on_run,
                on_wait=on_wait,
            )
    runs = f"{outcome.runs:,} run(s), {outcome.failures:,} failed"
    if signals.received == "SIGINT":
        return _fail("cmsf run", f"interrupted after {runs}; the last sync finished first", 130)
    if signals.received is not None:
        _say(out, f"stopped on {signals.received} after {runs}; the store is consistent")
        return EXIT_OK
    _say(out, f"done: {runs}")
    return EXIT_ATTENTION if outcome.not_ok else EXIT_OK


def _turn_sync(args: argparse.Namespace, out: TextIO) -> int:
    """``cmsf run --turn-on`` / ``--turn-off``: set the store's sync switch."""
    from cmsf_core.shell import service  # noqa: PLC0415

    if args.platform is not None:
        raise UsageError("--turn-on and --turn-off take no --platform: they only set the switch")
    with _open_store(args.store, create=False) as crm:
        service.set_sync_enabled(crm, bool(args.turn_on))
    state = "on" if args.turn_on else "off"
    out.write(f"the sync of {args.store} is turned {state}\n")
    return EXIT_OK


def _say(out: TextIO, line: str) -> None:
    out.write(line + "\n")
    out.flush()


class _StopSignals:
    """While entered, SIGTERM and SIGINT ask the service to stop (after the current sync)."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, object] = {}

    def stopped(self) -> bool:
        return self.received is not None

    def _handle(self, number: int, _frame: object) -> None:
        import signal  # noqa: PLC0415

        self.received = signal.Signals(number).name

    def __enter__(self) -> _StopSignals:
        import signal  # noqa: PLC0415

        for number in (signal.SIGTERM, signal.SIGINT):
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        import signal  # noqa: PLC0415

        for number, handler in self._previous.items():
            signal.signal(number, handler)  # type: ignore[arg-type]  # as signal() gave it


class _FakeClock:
    """For tests only: a clock that a sleep moves forward at once, up to ``until``; there
    it stops, and sleeping waits for real (in short slices) until a stop is asked."""

    def __init__(self, start: datetime, until: datetime | None, out: TextIO) -> None:
        self.current = start
        self.until = until
        self._out = out
        self._told = False

    def now(self) -> datetime:
        return self.current

    def sleeper(self, stop: Callable[[], bool]) -> Callable[[float], None]:
        import time  # noqa: PLC0415

        def sleep(seconds: float) -> None:
            if self.until is not None and self.current >= self.until:
                if not self._told:
                    self._told = True
                    _say(self._out, f"fake clock stopped at {self.until.isoformat()}; waiting")
                time.sleep(0.05)
                return
            step = timedelta(seconds=max(seconds, 0.0))
            if self.until is not None:
                step = min(step, self.until - self.current)
            self.current += step
            if stop():
                return

        return sleep


def _fake_clock(start: str | None, until: str | None, out: TextIO) -> _FakeClock | None:
    if start is None:
        if until is not None:
            raise UsageError("--fake-until needs --fake-clock")
        return None
    begin = _parse_as_of(start)
    end = _parse_as_of(until) if until is not None else None
    if end is not None and end < begin:
        raise UsageError("--fake-until must not be before --fake-clock")
    return _FakeClock(begin, end, out)
