"""The sync service: run the primary sync on its schedule until stopped.

:func:`run_service` is the shell around the pure decision
:func:`~cmsf_core.domain.service.due`.  Each time it wakes it asks what runs now, runs
that sync with :func:`~cmsf_core.shell.sync.run_sync` (full for the daily full sync), records
the run, and sleeps until the next scheduled run.  The clock, the sleep and the stop
request are arguments, so that a test drives it with a fake clock across a DST change.

- **A served slot never runs twice.**  The scheduled run a sync serves is saved as
  served *before* the sync starts; a service killed during a sync and started again
  goes on with the next scheduled run (which re-reads the window: the watermark only
  moves when a sync commits).
- **A failed run is reported and retried at the next scheduled run**: a
  ``SERVICE-RUN-FAILED`` maintenance message (``SERVICE-STORE-BUSY`` when another sync
  holds the store), the ``on_run`` report, and the loop goes on.
- **Stopping**: ``stop()`` is checked between runs and while sleeping, never inside a
  sync, so the current sync finishes and is recorded before the loop returns.
- **The clients table** (one :class:`~cmsf_core.domain.connection.ConnectedClient` row
  per platform client) is kept with the service's state: a client read by a sync is
  "last synced" at the sync's finish; a client the sync skipped because the platform
  failed for it (``SYNC-CLIENT-SKIPPED``), or every client when the whole run failed on
  a platform error, has its connection marked lost until a sync reads it again.
- **Turning the sync off** is a switch kept in the store (:func:`set_sync_enabled`):
  while it is off the service runs nothing and looks at the switch again every ``poll``
  seconds.

The service's state lives in the store's metadata (``get_meta``/``set_meta``, as
:class:`~cmsf_core.adapters.sqlite.SqliteCrm` offers) under :data:`STATE_KEY` and
:data:`SWITCH_KEY`; a store without metadata keeps it in memory (:class:`MemoryMeta`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from cmsf_core.domain.connection import ConnectedClient
from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.schedule import resolve_zone
from cmsf_core.domain.service import RunKind, ServiceDecision, ServiceState, after_run, due
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.timeutil import ensure_utc

if TYPE_CHECKING:
    from cmsf_core.domain.records.platform import PlatformClient
    from cmsf_core.ports.crm import CrmStore
    from cmsf_core.ports.platform import EmailPlatform
    from cmsf_core.shell.sync import SyncReport

__all__ = [
    "RUN_FAILED",
    "RUN_FINISHED",
    "STATE_KEY",
    "STORE_BUSY",
    "SWITCH_KEY",
    "MemoryMeta",
    "MetaStore",
    "ServiceBusyError",
    "ServiceOutcome",
    "ServiceRun",
    "ServiceStateError",
    "hold_service_lock",
    "is_store_busy",
    "load_service_state",
    "real_sleep",
    "run_service",
    "save_service_state",
    "set_sync_enabled",
    "sync_enabled",
    "system_clock",
]

#: The metadata key of the service's state (served run, last start, clients table).
STATE_KEY = "service.state"
#: The metadata key of the "sync turned on/off" switch (``"on"`` or ``"off"``).
SWITCH_KEY = "service.sync"
#: The support code of a finished run (Info; Warning when the sync left something out).
RUN_FINISHED = "SERVICE-RUN"
#: The support code of a run that raised (Error).
RUN_FAILED = "SERVICE-RUN-FAILED"
#: The support code of a run refused because another sync held the store (Warning).
STORE_BUSY = "SERVICE-STORE-BUSY"

_STATE_VERSION = 1
_RECORD = "sync service"
_CLIENT_SKIPPED = "SYNC-CLIENT-SKIPPED"  # cmsf_core.shell.sync.CLIENT_SKIPPED, without importing it


class ServiceStateError(CmsfError, ValueError):
    """The service state kept in the store cannot be read; the message names the key."""


class ServiceBusyError(CmsfError, RuntimeError):
    """Another service already serves this store."""


class MetaStore(Protocol):
    """Where the service keeps its state: text values by key (a store's metadata)."""

    def get_meta(self, key: str) -> str | None:
        """The value under ``key``, or ``None``."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Set the value under ``key``."""
        ...


@attrs.define
class MemoryMeta:
    """A :class:`MetaStore` in memory, for a store without metadata (nothing persists)."""

    values: dict[str, str] = attrs.field(factory=dict)

    def get_meta(self, key: str) -> str | None:
        """The value under ``key``, or ``None``."""
        return self.values.get(key)

    def set_meta(self, key: str, value: str) -> None:
        """Set the value under ``key``."""
        self.values[key] = value


# ----------------------------------------------------------------------------- values


@attrs.frozen
class ServiceRun:
    """One run of the service: what was decided, when it ran, and how it ended.

    ``report`` is the sync's report (``None`` when the run raised), ``error`` one line
    saying why it failed (``None`` when it finished), ``clients`` the clients table after
    the run, ``message`` the maintenance message recorded for it.
    """

    decision: ServiceDecision
    started: datetime
    finished: datetime
    report: SyncReport | None
    error: str | None
    clients: tuple[ConnectedClient, ...]
    message: MaintenanceMessage

    @property
    def ok(self) -> bool:
        """Whether the sync finished with every client, row and write through."""
        return self.error is None and self.report is not None and self.report.ok


@attrs.frozen
class ServiceOutcome:
    """How :func:`run_service` ended: runs made, of which failed, and the state left."""

    runs: int
    failures: int
    not_ok: int
    stopped: bool
    state: ServiceState
    clients: tuple[ConnectedClient, ...]


# ----------------------------------------------------------------------------- state


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(raw: object, field: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ServiceStateError(f"{STATE_KEY!r}: {field!r} must be an ISO date-time (got {raw!r})")
    try:
        return ensure_utc(datetime.fromisoformat(raw), field)
    except (ValueError, CmsfError):
        raise ServiceStateError(
            f"{STATE_KEY!r}: {field!r} must be an ISO date-time with an offset (got {raw!r})"
        ) from None


def _client_row(raw: object, n: int) -> ConnectedClient:
    if not isinstance(raw, dict):
        raise ServiceStateError(f"{STATE_KEY!r}: clients[{n}] must be an object (got {raw!r})")
    try:
        return ConnectedClient(
            client_id=raw["client_id"],
            name=raw["name"],
            time_zone=raw["time_zone"],
            last_synced=_instant(raw.get("last_synced"), f"clients[{n}].last_synced"),
            connection_active=raw.get("connection_active", True),
        )
    except KeyError as error:
        raise ServiceStateError(f"{STATE_KEY!r}: clients[{n}] has no {error}") from None
    except (CmsfError, TypeError, ValueError) as error:
        if isinstance(error, ServiceStateError):
            raise
        raise ServiceStateError(f"{STATE_KEY!r}: clients[{n}]: {error}") from None


def load_service_state(meta: MetaStore) -> tuple[ServiceState, tuple[ConnectedClient, ...]]:
    """The service's state and clients table as saved in ``meta`` (empty at first).

    The switch (:func:`sync_enabled`) is read into ``ServiceState.sync_enabled``.  A value
    that cannot be read raises :class:`ServiceStateError` naming the key.
    """
    enabled = sync_enabled(meta)
    text = meta.get_meta(STATE_KEY)
    if text is None:
        return ServiceState(sync_enabled=enabled), ()
    try:
        data: Any = json.loads(text)
    except ValueError as error:
        raise ServiceStateError(f"{STATE_KEY!r} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or data.get("version") != _STATE_VERSION:
        raise ServiceStateError(
            f"{STATE_KEY!r} must be an object with version {_STATE_VERSION} "
            f"(got {str(text)[:80]!r})"
        )
    state = ServiceState(
        last_served=_instant(data.get("last_served"), "last_served"),
        last_started=_instant(data.get("last_started"), "last_started"),
        sync_enabled=enabled,
    )
    rows = data.get("clients", [])
    if not isinstance(rows, list):
        raise ServiceStateError(f"{STATE_KEY!r}: 'clients' must be a list (got {rows!r})")
    return state, tuple(_client_row(raw, n) for n, raw in enumerate(rows))


def save_service_state(
    meta: MetaStore, state: ServiceState, clients: Sequence[ConnectedClient]
) -> None:
    """Save the service's state and clients table in ``meta`` (the switch is apart)."""
    data = {
        "version": _STATE_VERSION,
        "last_served": _iso(state.last_served),
        "last_started": _iso(state.last_started),
        "clients": [
            {
                "client_id": row.client_id,
                "name": row.name,
                "time_zone": row.time_zone,
                "last_synced": _iso(row.last_synced),
                "connection_active": row.connection_active,
            }
            for row in clients
        ],
    }
    meta.set_meta(STATE_KEY, json.dumps(data, sort_keys=True))


def sync_enabled(meta: MetaStore) -> bool:
    """Whether the sync is turned on in ``meta`` (on unless turned off)."""
    value = meta.get_meta(SWITCH_KEY)
    if value is None or value == "on":
        return True
    if value == "off":
        return False
    raise ServiceStateError(f"{SWITCH_KEY!r} must be 'on' or 'off' (got {value[:40]!r})")


def set_sync_enabled(meta: MetaStore, enabled: bool) -> None:
    """Turn the sync on or off; a running service sees it at its next look."""
    if not isinstance(enabled, bool):
        raise InvalidTypeError("enabled", "a bool", enabled)
    meta.set_meta(SWITCH_KEY, "on" if enabled else "off")


# ----------------------------------------------------------------------------- clock


def system_clock() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


def real_sleep(stop: Callable[[], bool], *, slice_seconds: float = 0.2) -> Callable[[float], None]:
    """A ``sleep(seconds)`` that sleeps in short slices and returns early once ``stop()``."""

    def sleep(seconds: float) -> None:
        end = time.monotonic() + max(seconds, 0.0)
        while not stop():
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(slice_seconds, left))

    return sleep


# ----------------------------------------------------------------------------- lock


@contextmanager
def hold_service_lock(store: str | Path) -> Iterator[Path]:
    """Hold the lock that lets one service serve ``store``; yields the lock file's path.

    The lock is an OS lock on ``<store>.service-lock`` (released by the OS if the
    process dies; the file itself stays).  A second holder gets
    :class:`ServiceBusyError` at once, naming the process that holds it.
    """
    path = Path(f"{store}.service-lock")
    handle = path.open("a+", encoding="utf-8")
    try:
        if not _try_lock(handle.fileno()):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ServiceBusyError(
                f"another 'cmsf run' ({holder}) is serving {str(store)!r}: stop it first; "
                "two services never sync one store at once"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield path
    finally:
        handle.close()  # closing the file releases the lock


def _try_lock(fd: int) -> bool:
    """Take an exclusive OS lock on ``fd`` without waiting; False when another holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt  # noqa: PLC0415

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl  # noqa: PLC0415 - POSIX

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


# ----------------------------------------------------------------------------- loop


def _refresh_clients(
    rows: Sequence[ConnectedClient], listed: Sequence[PlatformClient]
) -> list[ConnectedClient]:
    """The clients table with a row for each client the platform lists (new ones added,
    names and zones as listed now); rows of clients no longer listed stay as they were."""
    by_id = {row.client_id: row for row in rows}
    for client in listed:
        row = by_id.get(client.client_id)
        if row is None:
            by_id[client.client_id] = ConnectedClient(
                client.client_id, client.name, client.time_zone
            )
        else:
            by_id[client.client_id] = attrs.evolve(
                row, name=client.name, time_zone=client.time_zone
            )
    return list(by_id.values())


def _synced(row: ConnectedClient, at: datetime) -> ConnectedClient:
    """``record_sync``'s rule on one row: last synced moves forward only; the connection
    is active again."""
    last = row.last_synced if row.last_synced is not None and row.last_synced > at else at
    return attrs.evolve(row, last_synced=last, connection_active=True)


def _lost(row: ConnectedClient) -> ConnectedClient:
    """``record_connection_lost``'s rule on one row."""
    return attrs.evolve(row, connection_active=False)


def _skipped_ids(report: SyncReport) -> tuple[set[str], set[str]]:
    """The clients a sync skipped: (for a platform error, for any other reason)."""
    lost: set[str] = set()
    other: set[str] = set()
    for message in report.skipped_clients:
        client_id = (message.record or "").removeprefix("client ").strip()
        (lost if message.code == _CLIENT_SKIPPED else other).add(client_id)
    return lost, other


def _what(decision: ServiceDecision) -> str:
    kind = "full" if decision.kind is RunKind.FULL else "incremental"
    served = decision.serves.isoformat() if decision.serves is not None else "?"
    caught = f", catching up {decision.covers} scheduled runs" if decision.covers > 1 else ""
    return f"the {kind} sync of the scheduled run {served}{caught}"


def _run_once(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    decision: ServiceDecision,
    clients: Sequence[ConnectedClient],
    *,
    clock: Callable[[], datetime],
    started: datetime,
) -> ServiceRun:
    """Run the sync ``decision`` asks for; whatever happens, say how it ended."""
    from cmsf_core.ports.errors import PlatformError  # noqa: PLC0415
    from cmsf_core.shell.sync import run_sync  # noqa: PLC0415

    rows = list(clients)
    what = _what(decision)
    try:
        rows = _refresh_clients(rows, platform.clients())
        report = run_sync(  # the run's message needs the counts only
            crm,
            platform,
            settings,
            as_of=started,
            full=decision.kind is RunKind.FULL,
            keep_changes=False,
        )
    except Exception as error:  # reported and retried at the next scheduled run
        finished = ensure_utc(clock(), "clock()")
        busy = is_store_busy(error)
        if isinstance(error, PlatformError):
            rows = [_lost(row) for row in rows]
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        message = MaintenanceMessage(
            STORE_BUSY if busy else RUN_FAILED,
            Severity.WARNING if busy else Severity.ERROR,
            _RECORD,
            f"{what} started at {started.isoformat()} failed: {reason}. Nothing was "
            "skipped: the next scheduled run retries it (the watermark did not move).",
            finished,
        )
        return ServiceRun(decision, started, finished, None, reason, tuple(rows), message)
    finished = ensure_utc(clock(), "clock()")
    lost, other = _skipped_ids(report)
    rows = [
        _lost(row)
        if row.client_id in lost
        else row
        if row.client_id in other
        else _synced(row, finished)
        for row in rows
    ]
    plan = report.plan
    outcome = "ok" if report.ok else "with something to look at (see the messages above)"
    message = MaintenanceMessage(
        RUN_FINISHED,
        Severity.INFO if report.ok else Severity.WARNING,
        _RECORD,
        f"{what} ran at {started.isoformat()}: {plan.counts()['records inserted']:,} records "
        f"imported, {plan.purged:,} purged, {len(report.skipped_clients):,} clients skipped; "
        f"{outcome}.",
        finished,
    )
    return ServiceRun(decision, started, finished, report, None, tuple(rows), message)


def is_store_busy(error: BaseException) -> bool:
    """Whether ``error`` says another sync holds the store (try again later)."""
    from cmsf_core.ports.crm import StoreBusyError  # noqa: PLC0415

    if isinstance(error, StoreBusyError):
        return True
    text = str(error).lower()
    return type(error).__name__ == "OperationalError" and ("locked" in text or "busy" in text)


def _persist(
    crm: CrmStore,
    meta: MetaStore,
    state: ServiceState,
    clients: Sequence[ConnectedClient],
    pending: list[MaintenanceMessage],
) -> bool:
    """Save the state and the pending messages; False (all kept for later) when another
    sync holds the store."""
    try:
        save_service_state(meta, state, clients)
        if pending:
            crm.add_messages(list(pending))
            pending.clear()
    except Exception as error:
        if not is_store_busy(error):
            raise
        return False
    return True


def _busy_run(
    decision: ServiceDecision,
    clients: Sequence[ConnectedClient],
    *,
    clock: Callable[[], datetime],
    started: datetime,
) -> ServiceRun:
    """A run not started because another sync held the store when it was to begin."""
    finished = ensure_utc(clock(), "clock()")
    reason = "another sync holds the store"
    message = MaintenanceMessage(
        STORE_BUSY,
        Severity.WARNING,
        _RECORD,
        f"{_what(decision)} did not start at {started.isoformat()}: {reason}. The next "
        "scheduled run retries it.",
        finished,
    )
    return ServiceRun(decision, started, finished, None, reason, tuple(clients), message)


def _positive_or_none(value: object, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidTypeError(field, "a whole number or None", value)
    if value < 1:
        raise InvalidValueError(field, ">= 1", value)
    return value


def run_service(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
    stop: Callable[[], bool],
    tz: tzinfo | str,
    meta: MetaStore | None = None,
    max_runs: int | None = None,
    poll: float = 60.0,
    on_run: Callable[[ServiceRun], None] | None = None,
    on_wait: Callable[[ServiceDecision, datetime], None] | None = None,
) -> ServiceOutcome:
    """Run the primary sync on ``settings.import_schedule`` until ``stop()`` or ``max_runs``.

    ``tz`` is the org's time zone (the schedule's hours and the full sync's days).
    ``clock()`` gives the current instant (timezone-aware); ``sleep(seconds)`` waits (it
    may return early; the loop asks again).  ``meta`` keeps the service's state; by
    default the store's own metadata when it has some, else memory.  ``on_run`` is
    called after each run, ``on_wait`` before each sleep with the decision that ran
    nothing.  The service never sleeps longer than ``poll`` seconds at once, so that a
    switch turned off or on, or a clock that jumped, is seen.
    """
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    zone = resolve_zone(tz)
    limit = _positive_or_none(max_runs, "max_runs")
    if isinstance(poll, bool) or not isinstance(poll, int | float) or not poll > 0:
        raise InvalidValueError("poll", "a number of seconds > 0", poll)
    store: MetaStore = meta if meta is not None else _meta_of(crm)
    state, clients = load_service_state(store)
    pending: list[MaintenanceMessage] = []  # messages the store was too busy to take yet
    runs = failures = not_ok = 0
    while not stop():
        state = attrs.evolve(state, sync_enabled=sync_enabled(store))
        now = ensure_utc(clock(), "clock()")
        if state.last_served is not None and now < state.last_served:  # the clock went back
            sleep(min(poll, (state.last_served - now).total_seconds()))
            continue
        decision = due(
            settings.import_schedule,
            state,
            now,
            tz=zone,
            full_daily_sync=settings.perform_full_daily_sync,
        )
        if not decision.runs:
            if on_wait is not None:
                on_wait(decision, now)
            wait = poll
            if decision.next_check is not None:
                wait = min(poll, (decision.next_check - now).total_seconds())
            sleep(max(wait, 0.0))
            continue
        state = after_run(state, decision, started=now)
        if _persist(crm, store, state, clients, pending):  # served before it runs: never twice
            run = _run_once(crm, platform, settings, decision, clients, clock=clock, started=now)
        else:
            run = _busy_run(decision, clients, clock=clock, started=now)
        clients = run.clients
        pending.append(run.message)
        _persist(crm, store, state, clients, pending)
        runs += 1
        failures += run.error is not None
        not_ok += not run.ok
        if on_run is not None:
            on_run(run)
        if limit is not None and runs >= limit:
            break
    stopped = limit is None or runs < limit
    if pending:  # a last try; what the store still refuses is in the ServiceRun reports
        _persist(crm, store, state, clients, pending)
    return ServiceOutcome(runs, failures, not_ok, stopped, state, clients)


def _meta_of(crm: object) -> MetaStore:
    if callable(getattr(crm, "get_meta", None)) and callable(getattr(crm, "set_meta", None)):
        return crm  # type: ignore[return-value]  # checked just above
    return MemoryMeta()
