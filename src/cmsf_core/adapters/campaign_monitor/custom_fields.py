"""Campaign Monitor's custom field shapes, read and written at the edge.

``GET lists/{id}/customfields`` rows carry ``FieldName``, ``Key`` (``[FieldName]``),
``DataType`` (``Text``, ``Number``, ``Date``, ``MultiSelectOne``, ``MultiSelectMany``,
``Country``, ``USState``) and ``FieldOptions``; ``POST lists/{id}/customfields`` takes
``FieldName``, ``DataType``, ``Options`` and ``VisibleInPreferenceCenter``.  A
subscriber row carries ``CustomFields: [{Key, Value}]``, a select-many field's key once
per selected option.  Rows may be mappings or the attribute objects createsend returns.
"""

from __future__ import annotations

from collections.abc import Iterable

from cmsf_core.adapters.campaign_monitor.rows import required, value
from cmsf_core.domain.checks import is_collection
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings import (
    PlatformField,
    PlatformFieldType,
    PlatformSubscriber,
    PlatformValue,
)

__all__ = ["field_from_api", "field_to_api", "subscriber_from_api"]


def field_from_api(row: object) -> PlatformField:
    """A ``customfields`` row as a :class:`PlatformField`."""
    options = value(row, "FieldOptions", ()) or ()
    if not is_collection(options):
        raise InvalidTypeError("FieldOptions", "a list of options", options)
    name = required(row, "FieldName")
    key = required(row, "Key")
    if not isinstance(name, str) or not isinstance(key, str):
        raise InvalidTypeError("FieldName", "text (and a text Key)", (name, key))
    return PlatformField(
        name,
        PlatformFieldType.parse(required(row, "DataType"), "DataType"),
        tuple(options),
        key=key,
    )


def field_to_api(field: PlatformField) -> dict[str, object]:
    """The body of ``POST lists/{id}/customfields`` creating ``field``."""
    return {
        "FieldName": field.name,
        "DataType": field.data_type.value,
        "Options": list(field.options),
        "VisibleInPreferenceCenter": True,
    }


def _text(item: object, key: str) -> str:
    if isinstance(item, bool) or not isinstance(item, str | int | float):
        raise InvalidTypeError(f"CustomFields[{key}].Value", "text", item)
    return item if isinstance(item, str) else str(item)


def subscriber_from_api(
    list_id: str, row: object, fields: Iterable[PlatformField]
) -> PlatformSubscriber:
    """An ``active`` subscriber row with its custom field values by key; a select-many
    field's values as a tuple (however many times its key appears)."""
    many = {f.key for f in fields if f.data_type is PlatformFieldType.SELECT_MANY}
    raw = value(row, "CustomFields", ()) or ()
    if not is_collection(raw):
        raise InvalidTypeError("CustomFields", "a list of {Key, Value}", raw)
    values: dict[str, PlatformValue] = {}
    selected: dict[str, list[str]] = {}
    for item in raw:
        key = required(item, "Key")
        if not isinstance(key, str) or not key.strip():
            raise InvalidValueError("CustomFields.Key", "a field key like '[Name]'", key)
        text = _text(value(item, "Value", ""), key)
        if key in many:
            selected.setdefault(key, [])
            if text.strip():
                selected[key].append(text)
        elif text.strip():
            values[key] = text
    values.update({key: tuple(options) for key, options in selected.items() if options})
    name = value(row, "Name", "") or ""
    return PlatformSubscriber(list_id, required(row, "EmailAddress"), str(name), values)
