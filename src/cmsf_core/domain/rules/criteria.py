"""Criteria of subscriber rules: typed fields, the operators a Salesforce admin expects, and
SOQL-style date literals.

A :class:`Criterion` reads one field of a contact or lead (``Industry``) or of its account
(``Account.Industry``), with a :class:`FieldType`, an :class:`Operator` and a value written
as an admin types it (``"Banking, Retail"``, ``"1000"``, ``"LAST_N_DAYS:30"``) or as a
typed Python value.  The value is parsed and checked when the criterion is built;
:meth:`Criterion.matches` then judges one field value, typed, against an explicit ``as_of``
in the org's zone.  Nothing here reads a clock.  ``docs/rules.md`` describes every rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from functools import total_ordering
from math import gcd
from typing import Any, Protocol, runtime_checkable

import attrs

from cmsf_core.domain.choices import Choice, read_as, spellings
from cmsf_core.domain.errors import (
    InvalidTypeError,
    InvalidValueError,
    NaiveDatetimeError,
)
from cmsf_core.domain.rules.dates import DateLiteral

__all__ = [
    "OPERATORS_BY_TYPE",
    "Criterion",
    "ExactNumber",
    "FieldType",
    "FieldValue",
    "NumberValue",
    "Operator",
    "criterion_text",
    "is_blank",
]


@runtime_checkable
class ExactNumber(Protocol):
    """A decimal number such as :class:`decimal.Decimal`: finite or not, and exactly a ratio
    of integers.  (The domain does not import :mod:`decimal`; any such number works.)"""

    def is_finite(self) -> bool:
        """Whether the number is neither infinite nor NaN."""

    def as_integer_ratio(self) -> tuple[int, int]:
        """The number as an exact fraction."""


#: What a record's field may hold: text, a number (int, float, Decimal), a date, an aware
#: datetime, a bool, ``None`` (blank) or the selected values of a multi-select picklist.
FieldValue = str | int | float | ExactNumber | date | datetime | bool | tuple[str, ...] | None


def choice_key(text: str) -> str:
    """How choices are compared: casefolded, ``_`` and ``-`` read as spaces, runs of
    spaces collapsed."""
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


class FieldType(Choice):
    """The type of a CRM field, which decides how values are compared.

    :meth:`parse` reads a type by its name or label, in any case (``"multipicklist"`` too).

    >>> FieldType.parse("Multi-select picklist")
    <FieldType.MULTIPICKLIST: 'multi-select picklist'>
    """

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    PICKLIST = "picklist"
    MULTIPICKLIST = "multi-select picklist"


_FIELD_TYPES = spellings(
    FieldType,
    key=choice_key,
    names=True,
    checkbox=FieldType.BOOLEAN,
    date_time=FieldType.DATETIME,
)
read_as(
    FieldType, field="field_type", expected="a field type name", table=_FIELD_TYPES, key=choice_key
)


class Operator(Choice):
    """A criterion's operator, labelled as Salesforce's filter criteria label it.

    :meth:`parse` reads an operator by its label, its name or its symbol (``=``, ``!=``,
    ``<>``, ``<``, ``>``, ``<=``, ``>=``), in any case.

    >>> Operator.parse("<>"), Operator.parse("Not Equals")
    (<Operator.NOT_EQUALS: 'not equal to'>, <Operator.NOT_EQUALS: 'not equal to'>)
    """

    EQUALS = "equals"
    NOT_EQUALS = "not equal to"
    CONTAINS = "contains"
    DOES_NOT_CONTAIN = "does not contain"
    STARTS_WITH = "starts with"
    LESS_THAN = "less than"
    GREATER_THAN = "greater than"
    LESS_OR_EQUAL = "less or equal"
    GREATER_OR_EQUAL = "greater or equal"
    INCLUDES = "includes"
    EXCLUDES = "excludes"
    IS_BLANK = "is blank"
    IS_NOT_BLANK = "is not blank"


_OPERATORS = spellings(Operator, key=choice_key, names=True)
_OPERATORS |= {
    "=": Operator.EQUALS,
    "==": Operator.EQUALS,
    "!=": Operator.NOT_EQUALS,
    "<>": Operator.NOT_EQUALS,
    "<": Operator.LESS_THAN,
    ">": Operator.GREATER_THAN,
    "<=": Operator.LESS_OR_EQUAL,
    ">=": Operator.GREATER_OR_EQUAL,
}
read_as(Operator, field="operator", expected="an operator name", table=_OPERATORS, key=choice_key)

Op = Operator
_BLANKS = frozenset({Op.IS_BLANK, Op.IS_NOT_BLANK})
_ORDER = frozenset({Op.LESS_THAN, Op.GREATER_THAN, Op.LESS_OR_EQUAL, Op.GREATER_OR_EQUAL})
_TEXTUAL = frozenset({Op.EQUALS, Op.NOT_EQUALS, Op.CONTAINS, Op.DOES_NOT_CONTAIN, Op.STARTS_WITH})

#: The operators each field type accepts.
OPERATORS_BY_TYPE: Mapping[FieldType, frozenset[Operator]] = {
    FieldType.TEXT: _TEXTUAL | _ORDER | _BLANKS,
    FieldType.NUMBER: frozenset({Op.EQUALS, Op.NOT_EQUALS}) | _ORDER | _BLANKS,
    FieldType.DATE: frozenset({Op.EQUALS, Op.NOT_EQUALS}) | _ORDER | _BLANKS,
    FieldType.DATETIME: frozenset({Op.EQUALS, Op.NOT_EQUALS}) | _ORDER | _BLANKS,
    FieldType.BOOLEAN: frozenset({Op.EQUALS, Op.NOT_EQUALS}),
    FieldType.PICKLIST: _TEXTUAL | _BLANKS,
    FieldType.MULTIPICKLIST: frozenset({Op.EQUALS, Op.NOT_EQUALS, Op.INCLUDES, Op.EXCLUDES})
    | _BLANKS,
}

#: Operators that take a comma-separated list of values (any one may match).
_LISTED = frozenset({*_TEXTUAL, Op.INCLUDES, Op.EXCLUDES})
#: Operators true exactly when their positive twin is false.
_NEGATED = {
    Op.NOT_EQUALS: Op.EQUALS,
    Op.DOES_NOT_CONTAIN: Op.CONTAINS,
    Op.EXCLUDES: Op.INCLUDES,
}

# ----------------------------------------------------------------------------- values


def is_blank(value: object) -> bool:
    """Whether a field value counts as blank: ``None``, text of spaces only, or no
    selected value."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == ()


_EXPECTED = {
    FieldType.TEXT: "text (str)",
    FieldType.PICKLIST: "a picklist value (str)",
    FieldType.NUMBER: "a number (int, float or Decimal)",
    FieldType.DATE: "a date",
    FieldType.DATETIME: "a timezone-aware datetime",
    FieldType.BOOLEAN: "a bool",
    FieldType.MULTIPICKLIST: "the selected values (tuple of str)",
}


_NUMBER_TEXT = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?")
_MAX_EXPONENT = 1000


@total_ordering
class NumberValue:
    """An exact number, ``numerator / denominator`` in lowest terms (``denominator > 0``),
    so that ``0.1`` written in a criterion equals a record's ``Decimal("0.1")`` or ``0.1``.
    """

    __slots__ = ("denominator", "numerator")

    def __init__(self, numerator: int, denominator: int = 1) -> None:
        common = gcd(numerator, denominator)
        self.numerator = numerator // common
        self.denominator = denominator // common

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumberValue):
            return NotImplemented
        return (self.numerator, self.denominator) == (other.numerator, other.denominator)

    def __hash__(self) -> int:
        return hash((self.numerator, self.denominator))

    def __lt__(self, other: NumberValue) -> bool:
        return self.numerator * other.denominator < other.numerator * self.denominator

    def __repr__(self) -> str:
        return f"NumberValue({self.numerator}, {self.denominator})"

    @classmethod
    def parse(cls, text: str, field: str, given: object = None) -> NumberValue:
        """Read ``1000``, ``-2.5``, ``1,000,000`` or ``1.5e3`` exactly."""
        match = _NUMBER_TEXT.fullmatch(text.strip().replace(",", ""))
        if match is None or not (match.group(2) or match.group(3)):
            raise InvalidValueError(
                field, "a finite number such as 1000 or 2.5", text if given is None else given
            )
        sign, whole, fraction, exponent = match.groups()
        fraction = fraction or ""
        power = int(exponent or 0) - len(fraction)
        if abs(power) > _MAX_EXPONENT:
            raise InvalidValueError(field, f"a number of at most {_MAX_EXPONENT} digits", text)
        numerator = int(whole + fraction or "0") * (-1 if sign == "-" else 1)
        if power >= 0:
            return cls(numerator * 10**power)
        return cls(numerator, 10**-power)


def _number(value: object, field: str) -> NumberValue:
    if isinstance(value, str):
        return NumberValue.parse(value, field)
    if isinstance(value, bool):
        raise InvalidTypeError(field, _EXPECTED[FieldType.NUMBER], value)
    if isinstance(value, int):
        return NumberValue(value)
    if isinstance(value, float):  # its shortest repr is what the user typed: 0.1, not 0.1000..0055
        return NumberValue.parse(repr(value), field, value)
    if isinstance(value, ExactNumber):
        return NumberValue.parse(str(value), field, value)
    raise InvalidTypeError(field, _EXPECTED[FieldType.NUMBER], value)


def _field_value(field_type: FieldType, value: object, field: str) -> Any:
    """A record's value, checked against the criterion's type and made comparable;
    ``None`` when it is blank."""
    if value is None:
        return None
    if field_type in (FieldType.TEXT, FieldType.PICKLIST):
        if not isinstance(value, str):
            raise InvalidTypeError(field, _EXPECTED[field_type], value)
        return value.casefold() if value.strip() else None
    if field_type is FieldType.NUMBER:
        if isinstance(value, str):
            raise InvalidTypeError(field, _EXPECTED[field_type], value)
        return _number(value, field)
    if field_type is FieldType.DATE:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidTypeError(field, _EXPECTED[field_type], value)
        return value
    if field_type is FieldType.DATETIME:
        if not isinstance(value, datetime):
            raise InvalidTypeError(field, _EXPECTED[field_type], value)
        if value.utcoffset() is None:
            raise NaiveDatetimeError(field, value)
        return value
    if field_type is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise InvalidTypeError(field, _EXPECTED[field_type], value)
        return value
    if not isinstance(value, tuple) or not all(isinstance(item, str) for item in value):
        raise InvalidTypeError(field, _EXPECTED[field_type], value)
    selected = frozenset(item.strip().casefold() for item in value if item.strip())
    return selected or None


def _parse_date(value: object, field_type: FieldType, field: str) -> date | DateLiteral:
    """A date or datetime criterion's value: a date, an instant (datetime fields only) or
    a :class:`DateLiteral`."""
    if isinstance(value, datetime):
        if field_type is FieldType.DATE:
            raise InvalidTypeError(field, "a date or a date literal for a date field", value)
        if value.utcoffset() is None:
            raise NaiveDatetimeError(field, value)
        return value
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InvalidTypeError(field, "a date, a datetime or a date literal", value)
    text = value.strip()
    if text[:1].isdigit():
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidValueError(
                field, "a date (YYYY-MM-DD) or a datetime with its offset", value
            ) from None
        return _parse_date(parsed, field_type, field)
    return DateLiteral.parse(text, field)


def _parse_bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().casefold() in ("true", "false"):
        return value.strip().casefold() == "true"
    raise InvalidValueError(field, "true or false", value)


def _split(value: object, field: str, *, listed: bool) -> tuple[str, ...]:
    if not isinstance(value, str):
        raise InvalidTypeError(field, "text", value)
    items = tuple(item.strip() for item in value.split(",")) if listed else (value.strip(),)
    if not all(items):
        raise InvalidValueError(field, "a value (or comma-separated values, none empty)", value)
    return items


def _to_text(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def _to_field_type(value: object) -> FieldType:
    return FieldType.parse(value)


def _to_operator(value: object) -> Operator:
    return Operator.parse(value)


@attrs.frozen
class Criterion:
    """One numbered line of a rule's criteria: ``field`` ``operator`` ``value``.

    ``field`` names a contact or lead field (``"Industry"``) or, with the ``Account.``
    prefix, a field of the contact's account.  Text and picklist values may list several
    values separated by commas (any one matches; ``not equal to`` and ``does not contain``
    then mean none of them); a multi-select value ``"a;b"`` means both ``a`` and ``b``.

    >>> c = Criterion("Industry", "picklist", "equals", "Banking, Retail")
    >>> c.matches("retail"), c.matches(None)
    (True, False)
    """

    field: str = attrs.field()
    field_type: FieldType = attrs.field(converter=_to_field_type)
    operator: Operator = attrs.field(converter=_to_operator)
    value: object = attrs.field(default=None)
    _parsed: tuple[Any, ...] = attrs.field(init=False, repr=False, eq=False, default=())

    @field.validator
    def _check_field(self, _attr: object, value: object) -> None:
        if not isinstance(value, str):
            raise InvalidTypeError("field", "a field name (str)", value)
        if not re.fullmatch(r"(?:Account\.)?[A-Za-z][A-Za-z0-9_]*", value):
            raise InvalidValueError(
                "field", "a field API name such as 'Industry' or 'Account.Industry'", value
            )

    def __attrs_post_init__(self) -> None:
        where = f"criterion {self.field!r} value"
        op, kind = self.operator, self.field_type
        if op not in OPERATORS_BY_TYPE[kind]:
            allowed = sorted(o.value for o in OPERATORS_BY_TYPE[kind])
            raise InvalidValueError(
                "operator",
                f"one of {', '.join(map(repr, allowed))} for a {kind.value} field",
                op.value,
            )
        parsed: tuple[Any, ...]
        if op in _BLANKS:
            if self.value is not None:
                raise InvalidValueError(where, f"None with {op.value!r}", self.value)
            parsed = ()
        elif self.value is None:
            raise InvalidValueError(where, f"a value to compare with {op.value!r}", None)
        elif kind in (FieldType.TEXT, FieldType.PICKLIST):
            parsed = tuple(s.casefold() for s in _split(self.value, where, listed=op in _LISTED))
        elif kind is FieldType.MULTIPICKLIST:
            parsed = tuple(
                frozenset(p.strip().casefold() for p in item.split(";") if p.strip())
                for item in _split(self.value, where, listed=True)
            )
        elif kind is FieldType.NUMBER:
            parsed = (_number(self.value, where),)
        elif kind is FieldType.BOOLEAN:
            parsed = (_parse_bool(self.value, where),)
        else:
            parsed = (_parse_date(self.value, kind, where),)
        object.__setattr__(self, "_parsed", parsed)

    @property
    def account_field(self) -> str | None:
        """The account field's name when the criterion reads the account, else ``None``."""
        prefix, _, name = self.field.partition(".")
        return name if prefix == "Account" and name else None

    def matches(
        self,
        value: object,
        *,
        as_of: datetime | None = None,
        zone: tzinfo | None = None,
        week_start: int = 6,
        where: str | None = None,
    ) -> bool:
        """Whether the field value ``value`` meets the criterion.

        ``as_of`` (aware) and ``zone`` (the org's zone) are needed by date literals and by
        comparing a datetime field with a date; weeks start on ``week_start`` (0 Monday,
        6 Sunday).  A value of the wrong type raises an error naming ``where`` (the rule
        and criterion), the field, what was expected and what arrived.
        """
        label = where or f"criterion {self.field!r}"
        field = f"{label}, field {self.field!r}"
        got = _field_value(self.field_type, value, field)
        op = self.operator
        if op is Op.IS_BLANK:
            return got is None
        if op is Op.IS_NOT_BLANK:
            return got is not None
        if op in _NEGATED:
            return not self._positive(_NEGATED[op], got, as_of, zone, week_start)
        return self._positive(op, got, as_of, zone, week_start)

    def _positive(
        self, op: Operator, got: Any, as_of: datetime | None, zone: tzinfo | None, ws: int
    ) -> bool:
        if got is None:
            return False
        kind = self.field_type
        if kind is FieldType.MULTIPICKLIST:
            if op is Op.INCLUDES:
                return any(group <= got for group in self._parsed)
            return any(group == got for group in self._parsed)
        if kind in (FieldType.TEXT, FieldType.PICKLIST) and op in _TEXT_TESTS:
            test = _TEXT_TESTS[op]
            return any(test(got, wanted) for wanted in self._parsed)
        wanted = self._parsed[0]
        if kind in (FieldType.DATE, FieldType.DATETIME):
            return _compare_dates(op, got, wanted, as_of, zone, ws)
        return _COMPARE[op](got, wanted)


_TEXT_TESTS: dict[Operator, Callable[[str, str], bool]] = {
    Op.EQUALS: lambda got, wanted: got == wanted,
    Op.CONTAINS: lambda got, wanted: wanted in got,
    Op.STARTS_WITH: lambda got, wanted: got.startswith(wanted),
}
_COMPARE: dict[Operator, Callable[[Any, Any], bool]] = {
    Op.EQUALS: lambda a, b: a == b,
    Op.LESS_THAN: lambda a, b: a < b,
    Op.GREATER_THAN: lambda a, b: a > b,
    Op.LESS_OR_EQUAL: lambda a, b: a <= b,
    Op.GREATER_OR_EQUAL: lambda a, b: a >= b,
}
#: How a value compares with a range [first, last]: a function of the value and the bounds.
_IN_RANGE: dict[Operator, Callable[[Any, Any, Any], bool]] = {
    Op.EQUALS: lambda v, first, last: first <= v <= last,
    Op.LESS_THAN: lambda v, first, _last: v < first,
    Op.GREATER_THAN: lambda v, _first, last: v > last,
    Op.LESS_OR_EQUAL: lambda v, _first, last: v <= last,
    Op.GREATER_OR_EQUAL: lambda v, first, _last: v >= first,
}


def _zone(zone: tzinfo | None, why: str) -> tzinfo:
    if not isinstance(zone, tzinfo):
        raise InvalidTypeError("zone", f"the org's time zone (a tzinfo) to compare {why}", zone)
    return zone


def _today(as_of: datetime | None, zone: tzinfo | None, why: str) -> date:
    tz = _zone(zone, why)
    if not isinstance(as_of, datetime):
        raise InvalidTypeError("as_of", f"a timezone-aware datetime to compare {why}", as_of)
    if as_of.utcoffset() is None:
        raise NaiveDatetimeError("as_of", as_of)
    return as_of.astimezone(tz).date()


def _compare_dates(
    op: Operator,
    got: date,
    wanted: date | DateLiteral,
    as_of: datetime | None,
    zone: tzinfo | None,
    ws: int,
) -> bool:
    if isinstance(wanted, datetime):  # an instant: only a datetime field gets one
        return _COMPARE[op](got, wanted)
    if isinstance(wanted, DateLiteral):
        first, last = wanted.bounds(_today(as_of, zone, wanted.text), week_start=ws)
    else:
        first = last = wanted
    if isinstance(got, datetime):
        got = got.astimezone(_zone(zone, "a datetime field with a date")).date()
    return _IN_RANGE[op](got, first, last)


def criterion_text(criterion: Criterion) -> str:
    """``Industry equals 'Banking, Retail'``: how a plan or an error shows a criterion."""
    value = _to_text(criterion.value)
    shown = "" if value is None else f" {value!r}"
    return f"{criterion.field} {criterion.operator.value}{shown}"
