"""The store's tracking records as plain rows for the columnar path: the member's ids, the
type's code and the instant, read column by column, without building a record value.

:func:`record_rows` answers only when every stored record passes the checks the store's
reader applies when it builds a record at once; otherwise it answers ``None`` and the
caller reads the records the usual way, which names what is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmsf_core.adapters.sqlite.columns import _MAX_INSTANT, _MAX_INT, _MIN_INSTANT
from cmsf_core.domain.activity import ActivityType

if TYPE_CHECKING:
    from cmsf_core.adapters.sqlite.store import SqliteCrm

__all__ = ["BLANK", "record_rows"]

#: A type name's code: its position in ``ActivityType``.
_CODES = " ".join(
    f"WHEN '{name}' THEN {code}" for code, name in enumerate(ActivityType.__members__)
)
_NAMES = ", ".join(f"'{name}'" for name in ActivityType.__members__)


#: Every character ``str.strip`` removes (``str.isspace``), bound as ``:blank``.
BLANK = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _filled(column: str) -> str:
    """SQL: a text value that is not blank (the reader's check of an id)."""
    return f"(typeof({column}) = 'text' AND trim({column}, :blank) != '')"


def _optional(column: str) -> str:
    return f"({column} IS NULL OR {_filled(column)})"


#: A row the reader builds at once: every value passes its column's check.
_READABLE = " AND ".join(
    [
        "typeof(occurred_at) = 'integer'",
        f"occurred_at BETWEEN {_MIN_INSTANT} AND {_MAX_INSTANT}",
        f"typeof(occurrence) = 'integer' AND occurrence BETWEEN 0 AND {_MAX_INT}",
        f"typeof(type) = 'text' AND type IN ({_NAMES})",
        "typeof(client_id) = 'text' AND client_id != ''",
        _filled("campaign_id"),
        _filled("member_id"),
        _optional("email"),
        _optional("list_id"),
        _optional("detail"),
    ]
)


def record_rows(crm: SqliteCrm) -> list[tuple[str, str, int, int]] | None:
    """Every stored record as ``(campaign_id, member_id, type code, instant in µs since the
    epoch)``, in storage order; ``None`` when any row needs the reader's closer look.

    The type code is the type's position in :class:`~cmsf_core.domain.activity.ActivityType`
    (Sent 0 ... Spam complaint 5).
    """
    db = crm._db
    odd = db.execute(
        f"SELECT 1 FROM records WHERE NOT ({_READABLE}) LIMIT 1", {"blank": BLANK}
    ).fetchone()
    if odd is not None:
        return None
    return db.execute(
        f"SELECT campaign_id, member_id, CASE type {_CODES} END, occurred_at FROM records"
    ).fetchall()
