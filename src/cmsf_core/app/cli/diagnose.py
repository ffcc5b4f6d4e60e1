"""``cmsf diagnose`` and ``cmsf check``: what a store holds that needs a look."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from cmsf_core.app.cli.exits import EXIT_ATTENTION, EXIT_OK, UsageError
from cmsf_core.app.cli.options import _parse_as_of, load_settings
from cmsf_core.app.cli.store import _needs_attention, _open_store, _print_findings

if TYPE_CHECKING:
    from cmsf_core.adapters.sqlite import SqliteCrm
    from cmsf_core.domain.settings import Settings


def cmd_diagnose(args: argparse.Namespace, out: TextIO) -> int:
    """List members whose status and rollups disagree, with explanations and remedies."""
    from cmsf_core.app.columnar.stores import diagnose_store  # noqa: PLC0415

    check_engine(args.engine)
    with _open_store(args.store, create=False) as crm:
        settings, as_of, source = _diagnose_inputs(crm, args)
        members = crm.all_members()
        flagged = diagnose_store(crm, settings, as_of=as_of, engine=args.engine, members=members)
        total = len(members)
    attention = _needs_attention(flagged)
    out.write(f"{len(attention):,} of {total:,} campaign members flagged.\n")
    out.write(source)
    _print_findings(flagged, args.limit, out)
    return EXIT_ATTENTION if attention else EXIT_OK


_ENGINE_HELP = (
    "how members are checked: 'rules' (member by member), 'columnar' (over polars frames: "
    "pip install 'cmsf_core[polars]'), or 'auto' (columnar from 50,000 stored records when "
    "polars is installed); the output is the same (default auto)"
)


def add_engine_option(parser: argparse.ArgumentParser) -> None:
    """``--engine auto|rules|columnar`` (``diagnose`` and ``simulate``)."""
    parser.add_argument(
        "--engine", choices=("auto", "rules", "columnar"), default="auto", help=_ENGINE_HELP
    )


def check_engine(engine: str) -> None:
    """Refuse ``--engine columnar`` before any work when polars is not installed."""
    import importlib.util  # noqa: PLC0415

    if engine == "columnar" and importlib.util.find_spec("polars") is None:
        raise UsageError("--engine columnar needs polars: pip install 'cmsf_core[polars]'")


def _ago(instant: datetime) -> str:
    """How long ago ``instant`` was, in words ("3 hours ago"), seen from the real now."""
    from cmsf_core.app.humanize import relative  # noqa: PLC0415 - pendulum only when needed

    return relative(instant, datetime.now(UTC))


def _diagnose_inputs(crm: SqliteCrm, args: argparse.Namespace) -> tuple[Settings, datetime, str]:
    """The settings and as-of to diagnose with: those given, else those of the store's
    last sync or demo run, else the defaults and now; and a line saying which."""
    last = crm.last_run()
    if args.settings is not None or last is None:
        settings, settings_from = load_settings(args.settings), args.settings or "defaults"
    else:
        settings, settings_from = last[0], "the store's last run"
    if args.as_of is not None or last is None:
        as_of, as_of_from = _parse_as_of(args.as_of), "--as-of" if args.as_of else "now"
    else:
        as_of, as_of_from = last[1], "the store's last run"
        as_of_from += f", {_ago(as_of)}"
    source = (
        f"  settings: {settings_from} (Campaign_Member_Refresh = {settings.refresh_mode.value}, "
        f"DaysToKeep_Email = {settings.days_to_keep}); "
        f"as of {as_of:%Y-%m-%d %H:%M} UTC ({as_of_from}).\n"
    )
    return settings, as_of, source


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """Scan a whole store and list every row it cannot read or that disagrees."""
    with _open_store(args.store, create=False) as crm:
        problems = crm.problems()
    if not problems:
        out.write(f"{args.store}: consistent, no problems found.\n")
        return EXIT_OK
    out.write(f"{args.store}: {len(problems):,} problems found.\n")
    out.writelines(f"  {problem}\n" for problem in problems)
    return EXIT_ATTENTION
