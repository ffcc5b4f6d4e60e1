"""What the sync service says to people: the line while it waits, a line per run, the
clients table.  The command's ``cmsf service`` prints these; the service loop itself
(:mod:`cmsf_core.shell.service`) returns data and says nothing in words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from cmsf_core.app.humanize import last_synced, local_time, relative
from cmsf_core.domain.service import RunKind, ServiceDecision

if TYPE_CHECKING:
    from cmsf_core.domain.connection import ConnectedClient
    from cmsf_core.shell.service import ServiceRun

__all__ = ["clients_lines", "run_line", "wait_line"]


def wait_line(decision: ServiceDecision, now: datetime, tz: tzinfo | str) -> str:
    """What a waiting service says: ``next run in 47 minutes, at 2024-03-31 02:00 BST``."""
    if decision.next_check is None:
        return f"nothing to run: {decision.reason}"
    return (
        f"next run {relative(decision.next_check, now)}, at {local_time(decision.next_check, tz)}"
    )


def run_line(run: ServiceRun, tz: tzinfo | str) -> str:
    """One line for a run: when, what, and how it ended."""
    decision = run.decision
    kind = "full sync" if decision.kind is RunKind.FULL else "incremental sync"
    serves = decision.serves if decision.serves is not None else run.started
    caught = f", catching up {decision.covers} runs" if decision.covers > 1 else ""
    head = f"{local_time(run.started, tz)}: {kind} for the {local_time(serves, tz)} run{caught}"
    if run.report is None:
        return f"{head}: FAILED: {run.error}; retried at the next scheduled run"
    plan = run.report.plan
    counts = f"{plan.counts()['records inserted']:,} records imported, {plan.purged:,} purged"
    if run.report.ok:
        return f"{head}: ok, {counts}"
    return f"{head}: done with something to look at, {counts} (see the maintenance messages)"


def clients_lines(clients: Sequence[ConnectedClient], now: datetime) -> list[str]:
    """The clients table as lines: name, last synced (relative) and connection."""
    lines = []
    for row in clients:
        connection = "" if row.connection_active else "; connection lost"
        lines.append(
            f"client {row.name} ({row.client_id}): {last_synced(row.last_synced, now)}{connection}"
        )
    return lines
