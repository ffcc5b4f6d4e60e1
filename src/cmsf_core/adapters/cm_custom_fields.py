"""Campaign Monitor's custom field shapes, read and written at the edge.

``GET lists/{id}/customfields`` rows carry ``FieldName``, ``Key`` (``[FieldName]``),
``DataType`` (``Text``, ``Number``, ``Date``, ``MultiSelectOne``, ``MultiSelectMany``,
``Country``, ``USState``) and ``FieldOptions``; ``POST lists/{id}/customfields`` takes
``FieldName``, ``DataType``, ``Options`` and ``VisibleInPreferenceCenter``.  A
subscriber row carries ``CustomFields: [{Key, Value}]``, a select-many field's key once
per selected option.  Rows may be mappings or the attribute objects createsend returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cmsf_core.domain.checks import is_collection
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings import (
    PlatformField,
    PlatformFieldType,
    PlatformSubscriber,
    PlatformValue,
)

__all__ = ["field_from_api", "field_to_api", "subscriber_from_api"]


def _get(row: object, key: str, default: object = ...) -> Any:
    if isinstance(row, Mapping):
        if key in row:
            return row[key]
    elif hasattr(row, key):
        return getattr(row, key)
    if default is ...:
        raise InvalidValueError(key, "present in the row", row)
    return default


def field_from_api(row: object) -> PlatformField:
    """A ``customfields`` row as a :class:`PlatformField`."""
    options = _get(row, "FieldOptions", ()) or ()
    if not is_collection(options):
        raise InvalidTypeError("FieldOptions", "a list of options", options)
    name = _get(row, "FieldName")
    key = _get(row, "Key")
    if not isinstance(name, str) or not isinstance(key, str):
        raise InvalidTypeError("FieldName", "text (and a text Key)", (name, key))
    return PlatformField(
        name, PlatformFieldType.parse(_get(row, "DataType"), "DataType"), tuple(options), key=key
    )


def field_to_api(field: PlatformField) -> dict[str, object]:
    """The body of ``POST lists/{id}/customfields`` creating ``field``."""
    return {
        "FieldName": field.name,
        "DataType": field.data_type.value,
        "Options": list(field.options),
        "VisibleInPreferenceCenter": True,
    }


def _text(value: object, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidTypeError(f"CustomFields[{key}].Value", "text", value)
    return value if isinstance(value, str) else str(value)


def subscriber_from_api(
    list_id: str, row: object, fields: Iterable[PlatformField]
) -> PlatformSubscriber:
    """An ``active`` subscriber row with its custom field values by key; a select-many
    field's values as a tuple (however many times its key appears)."""
    many = {f.key for f in fields if f.data_type is PlatformFieldType.SELECT_MANY}
    raw = _get(row, "CustomFields", ()) or ()
    if not is_collection(raw):
        raise InvalidTypeError("CustomFields", "a list of {Key, Value}", raw)
    values: dict[str, PlatformValue] = {}
    selected: dict[str, list[str]] = {}
    for item in raw:
        key = _get(item, "Key")
        if not isinstance(key, str) or not key.strip():
            raise InvalidValueError("CustomFields.Key", "a field key like '[Name]'", key)
        value = _text(_get(item, "Value", ""), key)
        if key in many:
            selected.setdefault(key, [])
            if value.strip():
                selected[key].append(value)
        elif value.strip():
            values[key] = value
    values.update({key: tuple(options) for key, options in selected.items() if options})
    name = _get(row, "Name", "") or ""
    return PlatformSubscriber(list_id, _get(row, "EmailAddress"), str(name), values)
