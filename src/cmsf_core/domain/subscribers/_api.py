"""Reading Campaign Monitor's rows: a key of a row, and a date-time in the client's zone.

Only the ``from_api`` constructors of :class:`~cmsf_core.domain.subscribers.ListMembership`,
:class:`~cmsf_core.domain.subscribers.SuppressedEmail` and
:class:`~cmsf_core.domain.subscribers.ImportResult` use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.timeutil import ensure_utc


def row_value(row: object, key: str, field: str | None = None) -> Any:
    """A key of an API row: a mapping, or the attribute objects the createsend client returns."""
    field = field or key
    if isinstance(row, Mapping):
        if key not in row:
            raise InvalidValueError(field, "present in the row", row)
        return row[key]
    if not hasattr(row, key):
        raise InvalidValueError(field, "present in the row", row)
    return getattr(row, key)


def api_datetime(value: object, tz: tzinfo, field: str) -> datetime:
    """A platform date-time: text like ``"2012-08-20 22:32:00"`` in the client's zone."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidValueError(
                field, "a date-time like '2012-08-20 22:32:00'", value
            ) from None
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise InvalidTypeError(field, "a date-time", value)
    if parsed.tzinfo is None:
        if not isinstance(tz, tzinfo):
            raise InvalidTypeError("tz", "the client's time zone (a tzinfo)", tz)
        parsed = parsed.replace(tzinfo=tz)
    return ensure_utc(parsed, field)
