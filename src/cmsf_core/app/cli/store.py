"""The store the commands work on: opening it, removing one a failed first sync made, the
progress bar, and the findings of diagnose as the command prints them."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cmsf_core.app.cli.exits import UsageError

if TYPE_CHECKING:
    from cmsf_core.adapters.sqlite import SqliteCrm
    from cmsf_core.app.columnar.stores import Flagged


def _progress(stream: TextIO) -> Callable[[str, int, int | None], None] | None:
    """A one-line progress bar on a terminal; nothing when output is not a terminal."""
    if not stream.isatty():
        return None

    def show(stage: str, done: int, total: int | None) -> None:
        if total:
            filled = int(30 * done / total)
            bar = "#" * filled + "-" * (30 - filled)
            stream.write(f"\r{stage[:28]:<28} [{bar}] {done:>7,}/{total:,}")
        else:
            stream.write(f"\r{stage[:28]:<28} {done:,}")
        stream.flush()
        if total and done >= total:
            stream.write("\r" + " " * 80 + "\r")

    return show


def _open_store(path: str, *, create: bool) -> SqliteCrm:
    """Open a store; ``create``: a missing one is made on its first write only (so that a
    dry run or a refused sync leaves no file).  Anything that is not a cmsf store is
    refused untouched.  ``CMSF_LOCK_WAIT`` (seconds) bounds the wait for another sync."""
    from cmsf_core.adapters.sqlite import DEFAULT_WAIT, SqliteCrm  # noqa: PLC0415 - fast --help

    if not create and not Path(path).exists():
        raise UsageError(f"store {path!r} does not exist (run 'cmsf sync' or 'cmsf demo' first)")
    text = os.environ.get("CMSF_LOCK_WAIT", "")
    try:
        wait = float(text) if text else DEFAULT_WAIT
    except ValueError:
        raise UsageError(f"CMSF_LOCK_WAIT must be a number of seconds (got {text!r})") from None
    if not 0 <= wait < float("inf"):
        raise UsageError(f"CMSF_LOCK_WAIT must be a number of seconds >= 0 (got {text!r})")
    return SqliteCrm(path, create=create, lazy=create, wait=wait)


@contextmanager
def _removed_on_failure(crm: SqliteCrm) -> Iterator[None]:
    """Remove the store again if this sync created it and then failed or was interrupted,
    so that exit 2 keeps meaning "nothing changed".  A store another process created
    meanwhile (two first syncs racing) is never this sync's to remove."""
    try:
        yield
    except BrokenPipeError:  # the work went through; only its report was not read
        raise
    except BaseException:
        if crm.made_here:
            crm.close()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{crm.path}{suffix}").unlink(missing_ok=True)
        raise


def _needs_attention(flagged: Flagged) -> Flagged:
    """The members with a real mismatch: an informational finding alone (a status behind a
    later activity under Once Only or Never, as designed) does not flag a member."""
    return [(record, found) for record, found in flagged if any(not f.informational for f in found)]


def _print_findings(flagged: Flagged, limit: int, out: TextIO) -> None:
    """A summary by finding and status, the remedies once, then the members.

    Informational findings are counted apart, as expected behaviour: they flag no member
    and bring no remedy.
    """
    attention = _needs_attention(flagged)
    by_code: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    remedies: dict[str, None] = {}
    for _record, found in flagged:
        for finding in found:
            if finding.informational:
                expected[finding.code.value] += 1
            else:
                by_code[finding.code.value] += 1
                remedies.update(dict.fromkeys(finding.remedies))
    for record, _found in attention:
        by_status[record.member.status or "(none)"] += 1
    for code, n in by_code.most_common():
        out.write(f"  {code:<26} {n:>7,}\n")
    for code, n in expected.most_common():
        out.write(f"  {code:<26} {n:>7,}  (expected under the refresh mode; not flagged)\n")
    if by_status:
        out.write("  by status: " + ", ".join(f"{s} {n:,}" for s, n in by_status.most_common()))
        out.write("\n")
    if remedies:
        out.write("Remedies:\n" + "".join(f"  - {r}\n" for r in remedies))
    shown = attention if limit <= 0 else attention[:limit]
    if shown:
        out.write("Flagged members:\n")
    for record, found in shown:
        for finding in found:
            if not finding.informational:
                out.write(f"  [{finding.code.value}] {record.crm_campaign_id}: {finding.message}\n")
    if len(shown) < len(attention):
        out.write(f"  ... and {len(attention) - len(shown):,} more (--limit 0 shows all)\n")
