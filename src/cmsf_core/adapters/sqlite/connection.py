"""A store's connection to its file: opening an existing store (migrating one of an earlier
release), building a new one under a temporary name and moving it into place whole, and the
transaction of each write (a savepoint when a sync holds the store, see ``lock``).  The
database's own errors become the store's (busy, damaged)."""

from __future__ import annotations

import functools
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import attrs

from cmsf_core.adapters.sqlite.columns import P, T
from cmsf_core.adapters.sqlite.identity import _clear_leftovers, _probe, _refuse
from cmsf_core.adapters.sqlite.rows import _Rows
from cmsf_core.adapters.sqlite.schema import (
    _ADDED_COLUMNS,
    _ADDED_INDEX,
    _EMAIL_KEY_FORM,
    _EMAIL_KEY_META,
    SCHEMA_VERSION,
    _columns,
    _compact_records,
    _create,
    _ddl,
    _mark,
    _rebuild_records,
)
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.subscribers import email_key
from cmsf_core.ports.crm import CrmStore, StoreBusyError, StoreCorruptError

#: How long a sync (or any write) waits for another writer by default, in seconds.
DEFAULT_WAIT = 30.0


def _guarded(method: Callable[P, T]) -> Callable[P, T]:
    """Turn the database's own errors into the store's: busy, or damaged."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except sqlite3.OperationalError as error:
            store = args[0]
            assert isinstance(store, _SqliteConnection)
            if "locked" in str(error) or "busy" in str(error):
                raise StoreBusyError(
                    f"store {str(store.path)!r} is busy: another process holds its write "
                    f"lock ({error}); nothing was changed, run again later"
                ) from None
            raise StoreCorruptError(
                f"store {str(store.path)!r} cannot be read as a cmsf store: {error}"
            ) from None
        except sqlite3.DatabaseError as error:
            store = args[0]
            assert isinstance(store, _SqliteConnection)
            if isinstance(error, sqlite3.IntegrityError):
                raise
            raise StoreCorruptError(f"store {str(store.path)!r} is damaged: {error}") from None

    return run


def _seconds(_inst: object, attribute: attrs.Attribute[float], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTypeError(attribute.name, "a number of seconds", value)
    if not 0 <= value < float("inf"):
        raise InvalidValueError(attribute.name, "a number of seconds >= 0", value)


@contextmanager
def _immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One transaction holding the write lock (``BEGIN IMMEDIATE``): committed when the
    block ends, rolled back when it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@attrs.define
class _SqliteConnection(CrmStore):
    """A store's connection: opening, creating and migrating its file, the write lock a
    sync holds, and the transaction (or savepoint) of each write."""

    path: str | Path
    create: bool = attrs.field(default=True, kw_only=True)
    lazy: bool = attrs.field(default=False, kw_only=True)
    origin: str | None = attrs.field(default=None, kw_only=True)
    wait: float = attrs.field(default=DEFAULT_WAIT, kw_only=True, validator=_seconds)
    _db: sqlite3.Connection = attrs.field(init=False)
    _pending: bool = attrs.field(init=False, default=False)
    _held: bool = attrs.field(init=False, default=False)
    _made_here: bool = attrs.field(init=False, default=False)
    _local: threading.Lock = attrs.field(init=False, factory=threading.Lock)

    def __attrs_post_init__(self) -> None:
        if str(self.path) == ":memory:":
            self._db = self._fresh_in_memory()
            return
        path = Path(self.path)
        if not path.parent.is_dir():
            raise _refuse(path, f"is in a folder that does not exist ({str(path.parent)!r})")
        if path.exists() or path.is_symlink():
            self._open_existing(path)
        elif not self.create:
            raise _refuse(path, "does not exist")
        elif self.lazy:
            self._db = self._fresh_in_memory()
            self._pending = True
        else:
            self._materialise(racing_is_busy=False)

    # -- opening and creating ------------------------------------------------------------

    def _connect(self, name: str) -> sqlite3.Connection:
        db = sqlite3.connect(name, isolation_level=None, timeout=self.wait)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        # Settings of this connection (docs/storage.md, "Settings"): a page cache of up to
        # 64 MiB, used as it fills, and temporary sorts in memory.
        db.execute("PRAGMA cache_size=-65536")
        db.execute("PRAGMA temp_store=MEMORY")
        return db

    def _fresh_in_memory(self) -> sqlite3.Connection:
        db = self._connect(":memory:")
        self._build(db)
        return db

    def _build(self, db: sqlite3.Connection) -> None:
        """Create a new store's schema and marks in ``db``, with ``origin`` in its metadata."""
        with _immediate(db):
            _create(db)
            if self.origin is not None:
                db.execute("INSERT INTO meta VALUES ('origin', ?)", (self.origin,))

    def _open_existing(self, path: Path) -> None:
        version = _probe(path)
        self._db = self._connect(str(path))
        try:
            if version < SCHEMA_VERSION or not self._schema_is_current():
                self._migrate()
            self._rekey_people()
            (mode,) = self._db.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        except sqlite3.OperationalError as error:
            self._db.close()
            if "locked" in str(error) or "busy" in str(error):
                raise StoreBusyError(
                    f"store {str(path)!r} is busy: another process holds its write lock "
                    f"({error}); nothing was changed, run again later"
                ) from None
            raise _refuse(path, f"cannot be opened as a cmsf store ({error})") from None
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise _refuse(path, f"cannot be opened as a cmsf store ({error})") from None

    def _materialise(self, *, racing_is_busy: bool) -> None:
        """Build a new store under a temporary name and move it into place whole."""
        path = Path(self.path)
        _clear_leftovers(path)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.creating")
        try:
            db = sqlite3.connect(temporary, isolation_level=None)
            try:
                self._build(db)
            finally:
                db.close()
        except (OSError, sqlite3.DatabaseError) as error:
            temporary.unlink(missing_ok=True)
            raise _refuse(path, f"cannot be created ({error})") from None
        try:
            os.link(temporary, path)  # fails if another process made the store meanwhile
        except FileExistsError:
            temporary.unlink(missing_ok=True)
            if racing_is_busy:
                raise StoreBusyError(
                    f"another process created store {str(path)!r} while this one was "
                    "reading; nothing was written, run again"
                ) from None
            self._open_existing(path)
            return
        except OSError:  # pragma: no cover - a file system without hard links
            if path.exists():
                temporary.unlink(missing_ok=True)
                raise StoreBusyError(
                    f"another process created store {str(path)!r} meanwhile; run again"
                ) from None
            os.replace(temporary, path)
        else:
            temporary.unlink(missing_ok=True)
        self._made_here = True
        self._db = self._connect(str(path))
        self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer

    def _migrate(self) -> None:
        """Bring a store made by an earlier release up to the current schema in one
        transaction, checking again inside it (another process may have just done it)."""
        db = self._db
        with _immediate(db):
            if "key" in _columns(db, "records"):
                _rebuild_records(db)
            if "member" not in _columns(db, "records"):
                _compact_records(db)
            _ddl(db)
            for table, column, declaration in _ADDED_COLUMNS:
                if column not in _columns(db, table):
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            db.execute(_ADDED_INDEX)
            _mark(db)

    def _rekey_people(self) -> None:
        """Re-key the people of a store saved when emails were compared casefolded (before
        DESIGN §8's trimmed, NFC, lower-cased form), once: ``meta.email_key`` records it."""
        db = self._db
        done = db.execute("SELECT value FROM meta WHERE key = ?", (_EMAIL_KEY_META,)).fetchone()
        if done is not None and done[0] == _EMAIL_KEY_FORM:
            return
        with _immediate(db):
            rows = db.execute("SELECT person_id, email, email_key FROM people").fetchall()
            db.executemany(
                "UPDATE people SET email_key = ? WHERE person_id = ?",
                [(email_key(e), pid) for pid, e, key in rows if email_key(e) != key],
            )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", (_EMAIL_KEY_META, _EMAIL_KEY_FORM)
            )

    def _schema_is_current(self) -> bool:
        db = self._db
        if any(column not in _columns(db, table) for table, column, _ in _ADDED_COLUMNS):
            return False
        (indexed,) = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
            ("people_by_account",),
        ).fetchone()
        return bool(indexed)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @property
    def made_here(self) -> bool:
        """Whether this object created the store file (not another process, not earlier)."""
        return self._made_here

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write: its own transaction, or a savepoint of the sync holding the store."""
        if self._pending:
            placeholder = self._db
            self._materialise(racing_is_busy=True)
            placeholder.close()
            self._pending = False
            if self._held:
                self._db.execute("BEGIN IMMEDIATE")
        db = self._db
        if self._held:
            db.execute("SAVEPOINT write")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK TO write")
                db.execute("RELEASE write")
                raise
            db.execute("RELEASE write")
            return
        with _immediate(db):
            yield db

    def _write(self, sql: str, rows: Iterable[Sequence[object]]) -> int:
        """Run one statement over many rows in one transaction; return the rows changed."""
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(sql, rows)
            return db.total_changes - before

    def _rows(self, table: str, **key: object) -> _Rows:
        return _Rows(str(self.path), table, key)
