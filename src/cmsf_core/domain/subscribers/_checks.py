"""The checks and converters the subscriber values and rules share: text, email addresses,
flags, counts, and collections whose every item is of one type."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from cmsf_core.domain.checks import is_collection
from cmsf_core.domain.emails import check_nonempty_email
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.timeutil import ensure_utc

T = TypeVar("T")
Validator = Callable[[Any, Any, Any], None]


def nonblank_text(value: object, field: str) -> str:
    """``value`` if it is a non-empty string, else an error naming ``field``."""
    if not isinstance(value, str):
        raise InvalidTypeError(field, "a string", value)
    if not value.strip():
        raise InvalidValueError(field, "a non-empty string", value)
    return value


def email_converter(field: str) -> Callable[[object], str]:
    """A converter to a non-empty email address; its errors name ``field``."""

    def convert(value: object) -> str:
        return check_nonempty_email(value, field)

    return convert


def to_email(value: object) -> str:
    """The converter of an ``email`` attribute."""
    return email_converter("email")(value)


def optional_email(value: object) -> str | None:
    """The converter of an optional ``email`` attribute: ``None`` or blank text is none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return email_converter("email")(value)


def to_suppressed_at(value: object) -> datetime:
    """The converter of a ``suppressed_at`` attribute: an aware date-time, in UTC."""
    return ensure_utc(value, "suppressed_at")


def check_bool(field: str) -> Validator:
    """A validator for a bool; its error names ``field``."""

    def check(_inst: object, _attr: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidTypeError(field, "a bool", value)

    return check


def check_count(field: str) -> Validator:
    """A validator for a whole number >= 0; its errors name ``field``."""

    def check(_inst: object, _attr: object, value: object) -> None:
        if type(value) is not int:
            raise InvalidTypeError(field, "a whole number", value)
        if value < 0:
            raise InvalidValueError(field, ">= 0", value)

    return check


def items_of(items: Iterable[object], field: str, kind: type[T], expected: str) -> list[T]:
    """``items`` as a list when every one is a ``kind``; else an error naming ``field``
    and ``expected``."""
    found = list(items)
    checked: list[T] = []
    for item in found:
        if not isinstance(item, kind):
            raise InvalidTypeError(field, expected, item)
        checked.append(item)
    return checked


def collection_of(
    value: object, field: str, kind: type[T], *, collection: str, item: str
) -> tuple[T, ...]:
    """``value`` as a tuple when it is a collection (not text, bytes or a mapping) of
    ``kind``; else an error naming ``field`` and ``collection`` (or ``item``)."""
    if not is_collection(value):
        raise InvalidTypeError(field, collection, value)
    return tuple(items_of(value, field, kind, item))


def check_sequence(value: object, field: str, expected: str) -> None:
    """Refuse anything but a sequence (text and bytes are one value, not a sequence)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise InvalidTypeError(field, expected, value)
