"""Typed conversions of mapped field values, both ways.

CRM -> platform (:func:`to_platform_value`) follows the platform field's type; platform ->
CRM (:func:`to_crm_value`) follows the CRM field's type.  Dates are calendar dates in the
org's zone; numbers are plain decimal text on the platform; multi-select picklists are
Salesforce ``;`` lists on the CRM side and repeated values on the platform.  A value that
cannot be converted raises :class:`FieldConversionError`: never a wrong value.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, tzinfo

from cmsf_core.domain.errors import CmsfError, shown
from cmsf_core.domain.field_mappings.values import (
    BOOLEAN_OPTIONS,
    US_STATES,
    FieldMapping,
    PlatformFieldType,
)
from cmsf_core.domain.rules.criteria import ExactNumber, FieldType, FieldValue, choice_key

__all__ = [
    "CrmValue",
    "FieldConversionError",
    "PlatformValue",
    "to_crm_value",
    "to_platform_value",
]

#: A platform custom field value: text, or the selected options of a select-many field.
PlatformValue = str | tuple[str, ...]
#: A value written to a CRM field (a multi-select picklist as a ``;`` list).
CrmValue = str | int | float | bool | date | datetime | None

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_TRUE = frozenset({"yes", "true", "1", "y", "on", "checked"})
_FALSE = frozenset({"no", "false", "0", "n", "off", "unchecked"})
_STATE_NAMES = {choice_key(name): name for name in US_STATES.values()}
_STATE_CODES = {code.casefold(): name for code, name in US_STATES.items()}


class FieldConversionError(CmsfError, ValueError):
    """A mapped value that cannot be converted to the other side's type.

    ``field`` names the field written, ``value`` the value read and ``expected`` what the
    field takes.
    """

    def __init__(self, field: str, expected: str, value: object) -> None:
        self.field = field
        self.expected = expected
        self.value = value
        super().__init__(f"{field!r} takes {expected}; {shown(value)} cannot be converted")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == ()


def _pick(option: str, options: tuple[str, ...], field: str) -> str:
    wanted = choice_key(option)
    for known in options:
        if choice_key(known) == wanted:
            return known
    raise FieldConversionError(field, "one of " + ", ".join(repr(o) for o in options), option)


def _number_text(value: object, field: str) -> str:
    if isinstance(value, bool):
        raise FieldConversionError(field, "a number", value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FieldConversionError(field, "a finite number", value)
        return repr(value)
    if isinstance(value, ExactNumber):
        if not value.is_finite():
            raise FieldConversionError(field, "a finite number", value)
        return format(value, "f")
    if isinstance(value, str):
        return _number_text(_parse_number(value, field), field)
    raise FieldConversionError(field, "a number", value)


def _parse_number(text: str, field: str) -> int | float:
    stripped = text.strip()
    if _INTEGER.fullmatch(stripped):
        return int(stripped)
    if _DECIMAL.fullmatch(stripped):
        number = float(stripped)
        if math.isfinite(number):
            return number
    raise FieldConversionError(field, "a number such as 1234 or -12.5", text)


def _as_date(value: object, zone: tzinfo, field: str) -> date:
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise FieldConversionError(field, "a timezone-aware date-time", value)
        return value.astimezone(zone).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return _parse_datetime(text, zone, field).astimezone(zone).date()
        except ValueError:
            pass
    raise FieldConversionError(field, "a date such as 2026-03-31", value)


def _parse_datetime(text: str, zone: tzinfo, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FieldConversionError(field, "a date such as 2026-03-31", text) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _selected(value: object, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(";")]
    elif isinstance(value, tuple) and all(isinstance(p, str) for p in value):
        parts = [p.strip() for p in value]
        if any(";" in p for p in parts):
            raise FieldConversionError(field, "options without ';'", value)
    else:
        raise FieldConversionError(field, "the selected options (text or a tuple of text)", value)
    return tuple(dict.fromkeys(p for p in parts if p))


def _text(value: object, field: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return BOOLEAN_OPTIONS[0] if value else BOOLEAN_OPTIONS[1]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ";".join(_selected(value, field))
    return _number_text(value, field)


def to_platform_value(
    value: FieldValue, mapping: FieldMapping, *, zone: tzinfo
) -> PlatformValue | None:
    """A CRM field value as the mapping's platform field takes it (``None``: blank, not
    sent).

    >>> from cmsf_core.domain.field_mappings.values import FieldMapping
    >>> from zoneinfo import ZoneInfo
    >>> m = FieldMapping.crm_to_platform("l", "Lead", "Renewal", "datetime")
    >>> to_platform_value(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), m,
    ...     zone=ZoneInfo("Australia/Sydney"))
    '2026-04-01'
    """
    if _blank(value):
        return None
    target = mapping.platform_field
    field = target.name
    kind = target.data_type
    if kind is PlatformFieldType.NUMBER:
        return _number_text(value, field)
    if kind is PlatformFieldType.DATE:
        return _as_date(value, zone, field).isoformat()
    if kind is PlatformFieldType.SELECT_MANY:
        return tuple(_pick(o, target.options, field) for o in _selected(value, field))
    text = _text(value, field)
    if kind is PlatformFieldType.SELECT_ONE:
        return _pick(text, target.options, field)
    if kind is PlatformFieldType.US_STATE:
        return _us_state(text, target.options, field)
    if kind is PlatformFieldType.COUNTRY and target.options:
        return _pick(text, target.options, field)
    return text


def _us_state(text: str, options: tuple[str, ...], field: str) -> str:
    name = _STATE_NAMES.get(choice_key(text)) or _STATE_CODES.get(text.strip().casefold())
    if name is None:
        raise FieldConversionError(field, "a US state name or two-letter code", text)
    return _pick(name, options, field) if options else name


def _one(value: PlatformValue, field: str) -> str:
    if isinstance(value, str):
        return value
    if len(value) == 1:
        return value[0]
    raise FieldConversionError(field, "one value", value)


def to_crm_value(value: PlatformValue | None, mapping: FieldMapping, *, zone: tzinfo) -> CrmValue:
    """A platform custom field value as the mapping's CRM field takes it.

    A blank platform value is a blank CRM value (``None``; ``False`` for a checkbox).  A
    date becomes midnight in the org's ``zone`` for a date-time field.

    >>> from cmsf_core.domain.field_mappings.values import FieldMapping, PlatformField
    >>> m = FieldMapping.platform_to_crm("l", PlatformField("Tags", "select many",
    ...     ("VIP", "Gold")), "Contact", "Tags__c", "multipicklist")
    >>> to_crm_value(("VIP", "Gold"), m, zone=UTC)
    'VIP;Gold'
    """
    crm = mapping.crm_type
    field = mapping.crm_field
    if value is not None and not isinstance(value, str | tuple):
        raise FieldConversionError(field, "a platform value (text or options)", value)
    if value is None or _blank(value):
        return False if crm is FieldType.BOOLEAN else None
    if crm is FieldType.MULTIPICKLIST:
        options = _selected(value, field)
        if mapping.crm_options:
            options = tuple(_pick(o, mapping.crm_options, field) for o in options)
        return ";".join(options) or None
    text = _one(value, field)
    if crm is FieldType.NUMBER:
        return _parse_number(text, field)
    if crm is FieldType.DATE:
        return _as_date(text, zone, field)
    if crm is FieldType.DATETIME:
        day = _as_date(text, zone, field)
        local = (
            datetime.combine(day, time(), tzinfo=zone)
            if len(text.strip()) == 10
            else _parse_datetime(text, zone, field)
        )
        return local.astimezone(UTC)
    if crm is FieldType.BOOLEAN:
        key = text.strip().casefold()
        if key in _TRUE or key in _FALSE:
            return key in _TRUE
        raise FieldConversionError(field, "Yes or No (a checkbox)", text)
    if crm is FieldType.PICKLIST and mapping.crm_options:
        return _pick(text, mapping.crm_options, field)
    return text
