"""What-if: the same platform history synced under several settings, side by side.

Each variant syncs a freshly generated history (:mod:`cmsf_core.app.demo`) once a day on the
in-memory adapters and records, day by day, how many members hold a status their stored
records do not support (the FAQ's "Clicked but Clicks = 0"), how many records are stored
and the storage they take.  :func:`plot` draws it (matplotlib, behind the ``[plot]``
extra).  ``engine`` chooses how the day's figures are found: member by member through
the pure rules, or over polars frames once the store is large (see
:mod:`cmsf_core.app.columnar.stores`); the figures are the same.

    >>> from cmsf_core import Settings, RefreshMode
    >>> once = Variant("Update Once / 7 days", Settings(refresh_mode=RefreshMode.ONCE_ONLY,
    ...                                                  days_to_keep=7))
    >>> [result] = simulate([once], days=10, recipients=50, campaigns=1)
    >>> result.days[-1].day, result.purged > 0
    (10, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path

import attrs

from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.app.columnar.stores import status_without_activity, use_columnar
from cmsf_core.app.demo import START, build_platform, seed_crm
from cmsf_core.domain.diagnose import FindingCode, diagnose
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.storage import RECORD_SIZE_BYTES, format_size
from cmsf_core.shell.sync import run_sync

__all__ = ["DayFigures", "SimulationResult", "Variant", "format_comparison", "plot", "simulate"]


@attrs.frozen
class Variant:
    """A named set of settings to simulate."""

    name: str
    settings: Settings


@attrs.frozen
class DayFigures:
    """What one variant's store looks like after one day's sync."""

    day: int
    records: int
    members: int
    unsupported: int
    clicked_status: int
    with_clicks: int


@attrs.frozen
class SimulationResult:
    """One variant's outcome over the whole history."""

    variant: Variant
    imported: int
    purged: int
    days: tuple[DayFigures, ...]

    @property
    def final(self) -> DayFigures:
        """The figures after the last sync."""
        return self.days[-1]

    @property
    def storage_bytes(self) -> int:
        """The storage the stored records and members take, about 2 KB each."""
        return (self.final.records + self.final.members) * RECORD_SIZE_BYTES


def _figures(crm: InMemoryCrm, settings: Settings, day: int, engine: str) -> DayFigures:
    members = crm.all_members()
    if use_columnar(engine, records=crm.record_count()):
        without = status_without_activity(crm, members, settings)
        if without is not None:
            return DayFigures(
                day,
                crm.record_count(),
                len(members),
                sum(without),
                sum(r.member.status == "Clicked" for r in members),
                sum(r.member.engagement.clicks > 0 for r in members),
            )
    as_of = START + timedelta(days=day)
    campaigns = crm.campaigns()
    unsupported = clicked = with_clicks = 0
    stored = crm.records_for([m.ref for m in members])
    for record in members:
        member = record.member
        default = campaigns[record.crm_campaign_id].default_status
        found = diagnose(
            member, stored.get(record.ref, ()), settings, as_of=as_of, default_status=default
        )
        if any(f.code is FindingCode.STATUS_WITHOUT_ACTIVITY for f in found):
            unsupported += 1
        clicked += member.status == "Clicked"
        with_clicks += member.engagement.clicks > 0
    return DayFigures(day, crm.record_count(), len(members), unsupported, clicked, with_clicks)


def simulate(
    variants: Iterable[Variant],
    *,
    days: int = 30,
    recipients: int = 1000,
    campaigns: int = 4,
    engine: str = "auto",
) -> list[SimulationResult]:
    """Sync the generated history once a day under each variant; collect the figures.

    ``engine``: ``"rules"``, ``"columnar"`` (needs polars) or ``"auto"`` (columnar once
    the store holds :data:`~cmsf_core.app.columnar.stores.COLUMNAR_THRESHOLD` records and
    polars is installed); the results are the same.
    """
    use_columnar(engine, records=0)  # an unknown engine, or columnar without polars: refused
    results = []
    for variant in variants:
        platform = build_platform(recipients=recipients, campaigns=campaigns)
        crm = InMemoryCrm()
        seed_crm(crm, platform, recipients)
        imported = purged = 0
        figures = []
        for day in range(1, days + 1):
            report = run_sync(crm, platform, variant.settings, as_of=START + timedelta(days=day))
            imported += len(report.plan.records_to_insert)
            purged += report.plan.purged
            figures.append(_figures(crm, variant.settings, day, engine))
        results.append(SimulationResult(variant, imported, purged, tuple(figures)))
    return results


def format_comparison(results: Sequence[SimulationResult]) -> str:
    """The variants side by side, one row per figure."""
    rows = [
        ("", [r.variant.name for r in results]),
        ("records imported", [f"{r.imported:,}" for r in results]),
        ("records purged by retention", [f"{r.purged:,}" for r in results]),
        ("records stored at the end", [f"{r.final.records:,}" for r in results]),
        ("storage used (about 2 KB a record)", [format_size(r.storage_bytes) for r in results]),
        ("campaign members", [f"{r.final.members:,}" for r in results]),
        (
            "members whose status their records don't support",
            [f"{r.final.unsupported:,}" for r in results],
        ),
        ("members with Status Clicked", [f"{r.final.clicked_status:,}" for r in results]),
        ("members with Clicks > 0", [f"{r.final.with_clicks:,}" for r in results]),
    ]
    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(row[1][i]) for row in rows) for i in range(len(results))]
    lines = []
    for label, cells in rows:
        lines.append(
            f"{label:<{label_width}}  "
            + "  ".join(f"{cell:>{w}}" for cell, w in zip(cells, widths, strict=True))
        )
    return "\n".join(lines)


def plot(results: Sequence[SimulationResult], path: str | Path) -> Path:
    """Draw status vs. rollups over time for every variant into a PNG file."""
    try:
        import matplotlib  # noqa: PLC0415 - optional, behind the [plot] extra

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError("plotting needs matplotlib: pip install 'cmsf_core[plot]'") from error
    figure, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4), squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        days = [d.day for d in result.days]
        ax.plot(days, [d.clicked_status for d in result.days], label="Status = Clicked")
        ax.plot(days, [d.with_clicks for d in result.days], label="Clicks > 0")
        ax.plot(days, [d.unsupported for d in result.days], label="status not supported")
        ax.set_title(result.variant.name)
        ax.set_xlabel("day")
        ax.set_ylabel("members")
        ax.legend()
    figure.tight_layout()
    target = Path(path)
    figure.savefig(target, format="png")
    plt.close(figure)
    return target
