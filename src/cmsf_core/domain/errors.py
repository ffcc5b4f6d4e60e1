"""The library's errors: one root, leaves that are also builtins.

Every message names the field, what was expected and what arrived, in the shape
``'days_to_keep' must be >= 0 (got -3)``.  Code that catches builtins keeps working:
an :class:`InvalidValueError` is a ``ValueError``, an :class:`InvalidTypeError` a
``TypeError`` and an :class:`UnknownSettingError` a ``KeyError``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CmsfError",
    "InvalidTypeError",
    "InvalidValueError",
    "NaiveDatetimeError",
    "UnknownChoiceError",
    "UnknownSettingError",
]

_MAX_SHOWN = 80


def shown(value: object) -> str:
    """``repr(value)``, cut short so that a huge input cannot flood a message."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        return f"{text[: _MAX_SHOWN - 15]}... ({len(text)} chars)"
    return text


class CmsfError(Exception):
    """Root of every error raised by :mod:`cmsf_core`."""


class InvalidValueError(CmsfError, ValueError):
    """A value of the right type that breaks a rule (a range, a length, a choice)."""

    def __init__(self, field: str, expected: str, got: Any, *, detail: str = "") -> None:
        self.field = field
        self.expected = expected
        self.got = got
        message = f"{field!r} must be {expected} (got {shown(got)})"
        if detail:
            message = f"{message}; {detail}"
        super().__init__(message)


class InvalidTypeError(CmsfError, TypeError):
    """A value of the wrong type."""

    def __init__(self, field: str, expected: str, got: Any) -> None:
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(f"{field!r} must be {expected} (got {type(got).__name__} {shown(got)})")


class NaiveDatetimeError(InvalidValueError):
    """A datetime without a time zone: the library never guesses one."""

    def __init__(self, field: str, got: Any) -> None:
        super().__init__(
            field,
            "a timezone-aware datetime",
            got,
            detail="attach a zone (e.g. pendulum.instance(value, tz='UTC'))",
        )


class UnknownChoiceError(InvalidValueError):
    """Text that names none of the accepted choices; the message lists them."""

    def __init__(self, field: str, accepted: tuple[str, ...], got: Any) -> None:
        self.accepted = accepted
        super().__init__(field, "one of " + ", ".join(repr(a) for a in accepted), got)


class UnknownSettingError(CmsfError, KeyError):
    """A settings key that the library does not know."""

    def __init__(self, key: str, known: tuple[str, ...], suggestion: str | None = None) -> None:
        self.field = key
        self.known = known
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        self.message = f"unknown setting {shown(key)}{hint} (known: {', '.join(known)})"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
