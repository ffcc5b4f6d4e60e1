"""The write lock a sync holds for its whole read-plan-apply (``BEGIN IMMEDIATE``): another
process's sync waits (bounded) and is then refused, a dry run holds a read snapshot only,
and the sync's writes become savepoints of the one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cmsf_core.adapters.sqlite.identity import _clear_leftovers
from cmsf_core.adapters.sqlite.integrity import _Integrity
from cmsf_core.ports.crm import StoreBusyError


class _SyncLock(_Integrity):
    """The store's write lock."""

    __slots__ = ()

    # -- the writer lock -------------------------------------------------------------------

    @contextmanager
    def sync_lock(
        self, *, wait: float | None = None, dry_run: bool = False, full: bool = False
    ) -> Iterator[None]:
        """Hold the store's write lock (``BEGIN IMMEDIATE``) for one whole sync.

        Another process's sync waits up to ``wait`` seconds (``self.wait`` when None)
        and then raises :class:`~cmsf_core.ports.crm.StoreBusyError`.  The sync's steps
        become savepoints of this one transaction, committed when the sync ends, also
        when it ends in an error (each step stays as durable as its own transaction
        was); a killed process leaves the store as it was before the sync.  A dry run
        holds a read snapshot only.  A full sync first drops the rows of the
        integration's own tables that cannot be read (the sync reloads them).
        """
        limit = max(0.0, self.wait if wait is None else wait)
        if not self._local.acquire(timeout=limit):
            raise StoreBusyError(f"another sync in this process holds store {str(self.path)!r}")
        try:
            if self._held:  # pragma: no cover - guarded by the thread lock
                raise StoreBusyError(f"store {str(self.path)!r} is already held by a sync")
            self._begin(limit, dry_run=dry_run)
            if not dry_run and str(self.path) != ":memory:":
                _clear_leftovers(Path(self.path))
            self._held = True
            try:
                if full and not dry_run:
                    self._drop_unreadable_loaded_rows()
                yield
            finally:
                self._held = False
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK" if dry_run else "COMMIT")
        finally:
            self._local.release()

    def _begin(self, wait: float, *, dry_run: bool) -> None:
        db = self._db
        started = datetime.now(UTC)
        db.execute(f"PRAGMA busy_timeout = {max(0, int(wait * 1000))}")
        try:
            db.execute("BEGIN" if dry_run else "BEGIN IMMEDIATE")
            if dry_run:
                db.execute("SELECT count(*) FROM meta").fetchone()  # take the snapshot now
        except sqlite3.OperationalError as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            raise StoreBusyError(
                f"another sync holds store {str(self.path)!r} since before "
                f"{started:%Y-%m-%d %H:%M:%S} UTC (waited {wait:g} s); nothing was changed, "
                "run again when it has finished"
            ) from None
        finally:
            db.execute(f"PRAGMA busy_timeout = {max(0, int(self.wait * 1000))}")
