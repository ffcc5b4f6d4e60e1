"""``cmsf simulate``: one generated history under several settings, side by side."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cmsf_core.app.cli.diagnose import check_engine
from cmsf_core.app.cli.exits import EXIT_OK, UsageError, _shown
from cmsf_core.app.cli.options import load_settings

if TYPE_CHECKING:
    from cmsf_core.app.simulate import Variant


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    """The same platform history under several settings, side by side."""
    from cmsf_core.app.simulate import format_comparison, simulate  # noqa: PLC0415

    check_engine(args.engine)
    variants = _variants(args.settings, args.refresh, args.days_to_keep)
    plot_path = _plot_target(args.plot) if args.plot else None
    out.write(
        f"Simulating {len(variants)} variant(s): {args.campaigns} weekly campaigns to "
        f"{args.recipients:,} recipients, synced once a day for {args.days} days\n\n"
    )
    out.flush()  # the header shows before the work starts, also through a pipe
    results = simulate(
        variants,
        days=args.days,
        recipients=args.recipients,
        campaigns=args.campaigns,
        engine=args.engine,
    )
    out.write(format_comparison(results) + "\n")
    if plot_path is not None:
        from cmsf_core.app.simulate import plot  # noqa: PLC0415

        plot(results, plot_path)
        out.write(f"plot written to {args.plot}\n")
    return EXIT_OK


_FAQ_PAIRS = (("Update Once", 7), ("Always", 180))


def _variants(
    settings: str | None, refreshes: list[str] | None, days: list[int] | None
) -> list[Variant]:
    """The variants to simulate: ``--refresh`` and ``--days-to-keep`` paired in order.

    Neither given: the FAQ pair (Update Once / 7 days, Always / 180 days).  One given: the
    other comes from ``--settings`` (or the product default) for every variant.  Both
    given: the same number of times each, or refused.
    """
    from cmsf_core.app.simulate import Variant  # noqa: PLC0415

    load_settings(settings)  # the file on its own: a bad value is refused even if overridden
    pairs: list[tuple[str | None, int | None]]
    if refreshes is None and days is None:
        pairs = list(_FAQ_PAIRS)
    elif refreshes is None:
        pairs = [(None, d) for d in days or ()]
    elif days is None:
        pairs = [(r, None) for r in refreshes]
    elif len(refreshes) != len(days):
        raise UsageError(
            f"--refresh is given {len(refreshes)} time(s) and --days-to-keep "
            f"{len(days)} time(s): give them the same number of times (paired in order), "
            "or leave one out to take it from --settings for every variant"
        )
    else:
        pairs = list(zip(refreshes, days, strict=True))
    variants = []
    for refresh, keep in pairs:
        overrides: dict[str, object] = {}
        if refresh is not None:
            overrides["Campaign_Member_Refresh"] = refresh
        if keep is not None:
            overrides["DaysToKeep_Email"] = keep
        chosen = load_settings(settings, overrides)
        name = f"{chosen.refresh_mode.value} / {chosen.days_to_keep} days"
        variants.append(Variant(name, chosen))
    return variants


def _plot_target(text: str) -> Path:
    """The ``--plot`` file, checked before the simulation runs."""
    import importlib.util  # noqa: PLC0415

    target = Path(text)
    if target.suffix.lower() != ".png":
        raise UsageError(f"--plot: expected a file name ending in .png, got {_shown(text)}")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"--plot {_shown(text)}: folder {str(folder)!r} does not exist")
    if target.is_dir():
        raise UsageError(f"--plot {_shown(text)} is a folder")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"--plot {_shown(text)} cannot be written (permission denied)")
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError("--plot needs matplotlib: pip install 'cmsf_core[plot]'")
    return target
