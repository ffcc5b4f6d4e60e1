"""The embedded default store: the CRM port on a SQLite file (stdlib ``sqlite3``).

Every write method is one transaction, so a crash (or a killed process) leaves each
bulk write either wholly applied or not at all; the sync's journal covers the gaps
between writes.  A sync holds the store's write lock (:meth:`SqliteCrm.sync_lock`) for
its whole read-plan-apply, so two syncs never interleave and a killed sync leaves the
store as it was before it.  Instants are stored as integer microseconds since the Unix
epoch (UTC); a tracking record's as seconds and microseconds.  A tracking record's id is
a 64-bit digest of its key (every part of the key is stored with it, so a lookup by key
checks the record it finds); the records are clustered by member, whose ids are interned
(``record_members``), and the indexes follow the port's reads: by id, by (type, time) for
the retention purge, and the members' by campaign and by client.

The file marks itself as a cmsf store (``PRAGMA application_id``) with its schema version
(``PRAGMA user_version``); any other file is refused before a byte of it is written
(:class:`~cmsf_core.ports.crm.NotAStoreError`).  Every value read is checked: a row the
library cannot read raises :class:`~cmsf_core.ports.crm.StoreCorruptError` naming the
table, the row and the column, and :meth:`SqliteCrm.problems` lists them all.

The package holds one idea a module: ``schema`` (the tables and their migrations),
``identity`` (is this file a cmsf store?), ``connection`` (opening, the write lock,
transactions), ``columns`` and ``rows`` (values in columns, rows read back and checked),
``keys`` (a record's row id), ``people`` (contacts and leads, their fields, suppression
records), ``integrity`` (:meth:`SqliteCrm.problems`) and ``store`` (:class:`SqliteCrm`).

    >>> from cmsf_core.adapters.sqlite import SqliteCrm
    >>> crm = SqliteCrm(":memory:")
    >>> crm.record_count()
    0
"""

from cmsf_core.adapters.sqlite.connection import DEFAULT_WAIT as DEFAULT_WAIT
from cmsf_core.adapters.sqlite.rows import StoreProblem
from cmsf_core.adapters.sqlite.schema import APPLICATION_ID, SCHEMA_VERSION
from cmsf_core.adapters.sqlite.store import SqliteCrm
from cmsf_core.ports.crm import NotAStoreError, StoreBusyError, StoreCorruptError, StoreError

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "NotAStoreError",
    "SqliteCrm",
    "StoreBusyError",
    "StoreCorruptError",
    "StoreError",
    "StoreProblem",
]
