"""Whether a file is a cmsf store, read without writing a byte of it (anything else is
refused with :class:`~cmsf_core.ports.crm.NotAStoreError`), and the clean-up of stores
half-built by killed processes."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path

from cmsf_core.adapters.sqlite.schema import _FIRST_RELEASE, APPLICATION_ID, SCHEMA_VERSION
from cmsf_core.ports.crm import NotAStoreError

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _refuse(path: Path, why: str) -> NotAStoreError:
    return NotAStoreError(f"store {str(path)!r} {why}; nothing was written to it")


def _probe(path: Path) -> int:
    """The schema version of the store at ``path`` (0: an unmarked store of an earlier
    release), reading without writing a byte; refuse anything that is not a store."""
    if path.is_dir():
        raise _refuse(path, "is a folder, not a store file")
    try:
        with path.open("rb") as file:
            header = file.read(100)
        size = path.stat().st_size
    except OSError as error:
        raise _refuse(path, f"cannot be read ({error.strerror})") from None
    if size == 0:
        raise _refuse(path, "is an empty file (0 bytes), not a cmsf store")
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise _refuse(path, "is not a SQLite database (no SQLite header), not a cmsf store")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    wal = header[18] == 2  # the write-ahead-log file format
    # A checkpoint (or a transaction) cut short may write the header before the pages it
    # grows the file by; the log or journal beside the file recovers them, so a short
    # file is only truncated when there is neither.
    logged = Path(f"{path}-wal").exists() or Path(f"{path}-journal").exists()
    if header[24:28] == header[92:96] and pages and size < page_size * pages and not logged:
        raise _refuse(path, f"is truncated ({size:,} bytes of {page_size * pages:,})")
    application_id = int.from_bytes(header[68:72], "big")
    version = int.from_bytes(header[60:64], "big")
    if application_id not in (0, APPLICATION_ID):
        raise _refuse(path, f"belongs to another application (application_id {application_id:#x})")
    if application_id == 0 or wal:
        # The header may be behind a write-ahead log: look inside without writing.
        application_id, version, tables = _look_inside(path, wal=wal)
        if application_id == 0 and not _is_first_release(tables):
            names = ", ".join(sorted(tables)[:6]) or "none"
            raise _refuse(path, f"is another application's SQLite database (tables: {names})")
        if application_id not in (0, APPLICATION_ID):
            raise _refuse(
                path, f"belongs to another application (application_id {application_id:#x})"
            )
    if version > SCHEMA_VERSION:
        raise _refuse(
            path,
            f"has schema version {version}, newer than this release knows ({SCHEMA_VERSION}); "
            "upgrade cmsf_core",
        )
    return version


def _look_inside(path: Path, *, wal: bool) -> tuple[int, int, dict[str, set[str]]]:
    has_log = Path(f"{path}-wal").exists()
    # Without a log the file is the whole database: open it immutable, so that SQLite
    # creates no -shm/-wal beside it.  With one, a read-only open reads the log too.
    mode = "mode=ro" if wal and has_log else "immutable=1"
    uri = f"{path.resolve().as_uri()}?{mode}"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            (application_id,) = db.execute("PRAGMA application_id").fetchone()
            (version,) = db.execute("PRAGMA user_version").fetchone()
            names = [
                str(row[0])
                for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            tables = {
                name: {str(row[1]) for row in db.execute(f"PRAGMA table_info('{name}')")}
                for name in names
                if "'" not in name
            }
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        raise _refuse(path, f"is not a readable SQLite database ({error})") from None
    return int(application_id), int(version), tables


def _is_first_release(tables: Mapping[str, set[str]]) -> bool:
    return all(columns <= tables.get(table, set()) for table, columns in _FIRST_RELEASE.items())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # pragma: no cover - another user's process: alive
        return True
    return True


def _clear_leftovers(path: Path) -> None:
    """Remove half-built stores of killed processes (``.<name>.<pid>.<token>.creating``)."""
    for leftover in path.parent.glob(f".{path.name}.*.creating"):
        pid = leftover.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            leftover.unlink(missing_ok=True)
