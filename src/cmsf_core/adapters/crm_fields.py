"""What Salesforce checks when contact and lead fields are written, shared by the local CRM
stores (in memory and SQLite) so that they refuse what the real CRM refuses.

- a field's API name is a letter followed by letters, digits and underscores (at most 40
  characters before a ``__c`` suffix); ``Id`` is never written;
- a value is text, a number, a bool, a date, an aware date-time or blank;
- a contact needs ``LastName`` and ``Email`` (the integration always sets it), a lead
  ``LastName`` and ``Company`` too (``REQUIRED_FIELD_MISSING``).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime

from cmsf_core.domain.field_mappings import REQUIRED_FIELDS, CreatePerson, CrmValue

__all__ = ["creation_problem", "decode_value", "encode_value", "field_problem"]

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}(__c)?")


def field_problem(name: str, value: object) -> str | None:
    """Why Salesforce would refuse writing ``value`` to field ``name``, or ``None``."""
    if not isinstance(name, str) or _API_NAME.fullmatch(name) is None or "___" in name:
        return f"INVALID_FIELD: no such field {name!r}"
    if name.casefold() == "id":
        return "INVALID_FIELD_FOR_INSERT_UPDATE: Id cannot be written"
    if value is None or isinstance(value, str | bool | int | date):
        if isinstance(value, datetime) and value.utcoffset() is None:
            return f"INVALID_TYPE_ON_FIELD_IN_RECORD: {name}: a date-time without a zone"
        return None
    if isinstance(value, float) and math.isfinite(value):
        return None
    return f"INVALID_TYPE_ON_FIELD_IN_RECORD: {name}: {type(value).__name__} {value!r}"


def creation_problem(person: CreatePerson) -> str | None:
    """Why Salesforce would refuse creating ``person``, or ``None``."""
    for name, value in person.values.items():
        problem = field_problem(name, value)
        if problem is not None:
            return problem
    present = {k.casefold() for k, v in person.values.items() if v is not None and v != ""}
    needed = ("Email", *REQUIRED_FIELDS[person.kind])
    missing = [n for n in needed if n.casefold() not in present]
    if missing:
        return f"REQUIRED_FIELD_MISSING: Required fields are missing: [{', '.join(missing)}]"
    return None


def encode_value(value: CrmValue) -> str:
    """A field value as JSON text that keeps its type (for a store's text column)."""
    if isinstance(value, datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, date):
        return json.dumps({"date": value.isoformat()})
    return json.dumps(value)


def decode_value(text: str) -> CrmValue:
    """The value :func:`encode_value` wrote."""
    value = json.loads(text)
    if isinstance(value, dict):
        if "datetime" in value:
            return datetime.fromisoformat(value["datetime"])
        return date.fromisoformat(value["date"])
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise ValueError(f"not a stored field value: {text!r}")  # pragma: no cover - own writes
