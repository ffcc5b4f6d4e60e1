"""SOQL date literals (``TODAY``, ``LAST_N_DAYS:30``, ``THIS_QUARTER``, ...) as ranges of
whole days around today in the org's zone.

Only the literals that need nothing but a calendar are supported: the fiscal ones depend
on the org's fiscal-year settings and are refused with a message saying so.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import attrs

from cmsf_core.domain.errors import InvalidValueError

__all__ = ["DateLiteral"]


_UNITS = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR")
_FIXED = {
    "YESTERDAY": ("DAY", -1, -1),
    "TODAY": ("DAY", 0, 0),
    "TOMORROW": ("DAY", 1, 1),
    "LAST_90_DAYS": ("DAY", -90, 0),
    "NEXT_90_DAYS": ("DAY", 1, 90),
    **{f"LAST_{u}": (u, -1, -1) for u in _UNITS[1:]},
    **{f"THIS_{u}": (u, 0, 0) for u in _UNITS[1:]},
    **{f"NEXT_{u}": (u, 1, 1) for u in _UNITS[1:]},
}
_LITERAL = re.compile(r"(LAST|NEXT)_N_([A-Z]+)S|N_([A-Z]+)S_AGO")
_MAX_N = 100_000


@attrs.frozen
class DateLiteral:
    """A SOQL date literal such as ``TODAY`` or ``LAST_N_DAYS:30``: a range of whole days,
    relative to today in the org's zone.

    ``unit`` is DAY, WEEK, MONTH, QUARTER or YEAR; the range runs from period ``first`` to
    period ``last`` counted from the current one (0), both included.  ``LAST_N_DAYS:n``
    includes today, as Salesforce's does; ``NEXT_N_DAYS:n`` starts tomorrow.
    """

    text: str
    unit: str
    first: int
    last: int

    @classmethod
    def parse(cls, value: str, field: str = "value") -> DateLiteral:
        """Read a literal in any case.

        >>> DateLiteral.parse("last_n_days:7")
        DateLiteral(text='LAST_N_DAYS:7', unit='DAY', first=-7, last=0)
        """
        text = value.strip().upper()
        name, colon, number = text.partition(":")
        if name in _FIXED and not colon:
            unit, first, last = _FIXED[name]
            return cls(text, unit, first, last)
        if "FISCAL" in name:
            raise InvalidValueError(
                field,
                "a date, or a date literal that needs no fiscal year settings",
                value,
                detail="fiscal literals depend on the org's fiscal year and are not supported",
            )
        match = _LITERAL.fullmatch(name)
        found = (match.group(2) or match.group(3)) if match else None
        if match is None or found not in _UNITS:
            raise InvalidValueError(
                field, "a date (YYYY-MM-DD) or a SOQL date literal such as TODAY", value
            )
        if not (colon and number.isascii() and number.isdigit()):
            raise InvalidValueError(field, f"{name}:n with a whole number n", value)
        unit, n = str(found), int(number)
        if not 1 <= n <= _MAX_N:
            raise InvalidValueError(field, f"{name}:n with 1 <= n <= {_MAX_N}", value)
        text = f"{name}:{n}"
        if match.group(1) == "NEXT":
            return cls(text, unit, 1, n)
        if match.group(1) == "LAST":
            return cls(text, unit, -n, 0 if unit == "DAY" else -1)
        return cls(text, unit, -n, -n)

    def bounds(self, today: date, *, week_start: int = 6) -> tuple[date, date]:
        """The first and last day of the range, for ``today`` in the org's zone; weeks
        start on ``week_start`` (0 Monday ... 6 Sunday, the US locale's default)."""
        try:
            return _period(self.unit, self.first, today, week_start)[0], _period(
                self.unit, self.last, today, week_start
            )[1]
        except (OverflowError, ValueError):
            raise InvalidValueError(
                "as_of", f"a day from which {self.text} stays within years 1 to 9999", today
            ) from None


def _month_start(year: int, month: int, offset: int) -> date:
    index = year * 12 + (month - 1) + offset
    return date(index // 12, index % 12 + 1, 1)


def _period(unit: str, k: int, today: date, week_start: int) -> tuple[date, date]:
    """The first and last day of the ``k``-th ``unit`` from the one holding ``today``."""
    if unit == "DAY":
        day = today + timedelta(days=k)
        return day, day
    if unit == "WEEK":
        start = today - timedelta(days=(today.weekday() - week_start) % 7) + timedelta(weeks=k)
        return start, start + timedelta(days=6)
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
    current = (today.month - 1) // months * months + 1
    start = _month_start(today.year, current, k * months)
    end = _month_start(start.year, start.month, months) - timedelta(days=1)
    return start, end
