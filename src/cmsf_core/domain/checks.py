"""attrs validators shared by the domain's values; each error names its field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeGuard, TypeVar, cast

import attrs

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "check_bool",
    "check_count",
    "check_same_record",
    "is_collection",
    "is_iterable_not_text",
    "of_type",
    "optional_instance",
    "require_instance",
    "require_text",
    "text_keyed",
    "tuple_of",
]

T = TypeVar("T")

Validator = Callable[[Any, Any, Any], None]


def is_collection(value: object) -> TypeGuard[Iterable[Any]]:
    """Whether ``value`` is a collection of items: iterable, but not a string, bytes or a
    mapping (each of which iterates, but is one value, or keys, where items are meant)."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def is_iterable_not_text(value: object) -> TypeGuard[Iterable[Any]]:
    """Whether ``value`` iterates and is not a string (bytes and mappings pass: their items
    are then checked one by one)."""
    return isinstance(value, Iterable) and not isinstance(value, str)


def tuple_of(
    value: object,
    cls: type[T],
    field: str,
    expected: str,
    each: str | None = None,
    *,
    collection: Callable[[object], bool] = is_collection,
) -> tuple[T, ...]:
    """``value``'s items as a tuple, each an instance of ``cls``.

    ``value`` must pass ``collection`` (by default :func:`is_collection`), else an
    :class:`InvalidTypeError` names ``field`` and ``expected``; an item that is not a
    ``cls`` is one naming ``field``, ``each`` (by default ``expected``) and the item.
    """
    if not collection(value):
        raise InvalidTypeError(field, expected, value)
    items = tuple(cast("Iterable[Any]", value))
    for item in items:
        if not isinstance(item, cls):
            raise InvalidTypeError(field, expected if each is None else each, item)
    return items


def check_bool(_inst: object, attribute: attrs.Attribute[bool], value: object) -> None:
    """An attrs validator for a bool (text such as ``"true"`` is read before, never here);
    the error names the attribute."""
    if not isinstance(value, bool):
        raise InvalidTypeError(attribute.name, "a bool", value)


def text_keyed(value: object, field: str, expected: str, keys: str) -> Iterator[tuple[str, Any]]:
    """The entries of a mapping keyed by non-blank text, one at a time.

    ``value`` not a mapping is an :class:`InvalidTypeError` naming ``field`` and
    ``expected`` (raised at once); a key that is not non-blank text is an
    :class:`InvalidValueError` naming ``field``, ``keys`` and the key, raised when its
    entry is reached (so a caller's check of each value keeps its place in between).
    """
    if not isinstance(value, Mapping):
        raise InvalidTypeError(field, expected, value)
    return _text_keyed(value, field, keys)


def _text_keyed(value: Mapping[Any, Any], field: str, keys: str) -> Iterator[tuple[str, Any]]:
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidValueError(field, keys, key)
        yield key, item


def check_count(_inst: object, attribute: attrs.Attribute[int], value: object) -> None:
    """An attrs validator for a count: an ``int`` (not a bool) ``>= 0``; the error names
    the attribute."""
    if type(value) is not int:
        raise InvalidTypeError(attribute.name, "an int", value)
    if value < 0:
        raise InvalidValueError(attribute.name, ">= 0", value)


def require_text(field: str, *, optional: bool = False, allow_empty: bool = False) -> Validator:
    """A validator for a non-empty string (or ``None`` when ``optional``, ``""`` when
    ``allow_empty``)."""

    def check(_inst: object, _attr: object, value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise InvalidTypeError(field, "a string" + (" or None" if optional else ""), value)
        if not allow_empty and not value.strip():
            raise InvalidValueError(field, "a non-empty string", value)

    return check


def of_type(value: object, cls: type[T], field: str, expected: str) -> T:
    """``value``, if it is an instance of ``cls``; else an :class:`InvalidTypeError` naming
    ``field`` and ``expected``."""
    if not isinstance(value, cls):
        raise InvalidTypeError(field, expected, value)
    return value


def require_instance(field: str, cls: type, expected: str) -> Validator:
    """A validator for an instance of ``cls``; the error names ``field`` and ``expected``."""

    def check(_inst: object, _attr: object, value: object) -> None:
        of_type(value, cls, field, expected)

    return check


def optional_instance(field: str, cls: type, expected: str) -> Validator:
    """A validator for an instance of ``cls`` or ``None``; the error names ``field``."""

    def check(_inst: object, _attr: object, value: object) -> None:
        if value is not None and not isinstance(value, cls):
            raise InvalidTypeError(field, expected, value)

    return check


def check_same_record(before: Any, after: Any) -> None:
    """A change's two sides: at least one record, and the same ``record_id`` on both."""
    if before is None and after is None:
        raise InvalidValueError("before", "a record when 'after' is None", None)
    if before is not None and after is not None and before.record_id != after.record_id:
        raise InvalidValueError(
            "after.record_id", f"the record id of 'before' ({before.record_id!r})", after.record_id
        )
