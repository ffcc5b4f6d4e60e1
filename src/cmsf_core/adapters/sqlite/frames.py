"""The store's tracking records as plain rows for the columnar path: the member's ids, the
type's code and the instant, read column by column, without building a record value.

:func:`record_rows` answers only when every stored record passes the checks the store's
reader applies when it builds a record at once; otherwise it answers ``None`` and the
caller reads the records the usual way, which names what is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cmsf_core.adapters.sqlite.columns import _MAX_INT, _MAX_SECOND, _MIN_SECOND, TYPE_CODES
from cmsf_core.adapters.sqlite.schema import _RECORDS_FROM

if TYPE_CHECKING:
    from cmsf_core.adapters.sqlite.store import SqliteCrm

__all__ = ["BLANK", "record_rows"]


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


#: A row the reader builds at once: every value passes its column's check (schema 3: the
#: record's ids come from its ``record_members`` row).
_READABLE = " AND ".join(
    [
        "typeof(r.occurred_at) = 'integer'",
        f"r.occurred_at BETWEEN {_MIN_SECOND} AND {_MAX_SECOND}",
        "typeof(r.micro) = 'integer' AND r.micro BETWEEN 0 AND 999999",
        f"typeof(r.occurrence) = 'integer' AND r.occurrence BETWEEN 0 AND {_MAX_INT}",
        f"typeof(r.type) = 'integer' AND r.type BETWEEN 0 AND {len(TYPE_CODES) - 1}",
        "typeof(m.client_id) = 'text' AND m.client_id != ''",
        _filled("m.campaign_id"),
        _filled("m.member_id"),
        f"(r.email = '' OR {_optional('r.email')})",
        _optional("r.list_id"),
        _optional("r.detail"),
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
        f"SELECT 1 FROM {_RECORDS_FROM} WHERE NOT ({_READABLE}) LIMIT 1", {"blank": BLANK}
    ).fetchone()
    if odd is not None:
        return None
    return db.execute(
        f"SELECT m.campaign_id, m.member_id, r.type, r.occurred_at * 1000000 + r.micro "
        f"FROM {_RECORDS_FROM}"
    ).fetchall()
