"""Reading a choice (an enum member) from the spellings a person or a service writes.

Every enum of the domain that is read from text parses through :func:`parse_choice`, so
each accepts its own member as is, refuses what is not text with the same
:class:`~cmsf_core.domain.errors.InvalidTypeError`, and names the accepted spellings in the
same :class:`~cmsf_core.domain.errors.UnknownChoiceError`.  Such an enum derives from
:class:`Choice` and declares, once, after its body, how it is read (:func:`read_as`): the
field its errors name, what they say is expected, and its table of spellings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import NamedTuple, Self, TypeVar

from cmsf_core.domain.errors import InvalidTypeError, UnknownChoiceError

__all__ = ["Choice", "fold_case", "parse_choice", "read_as", "spellings"]

E = TypeVar("E", bound=Enum)


def fold_case(text: str) -> str:
    """The key a spelling is looked up by: surrounding spaces dropped, case folded."""
    return text.strip().casefold()


def spellings(
    choices: Iterable[E],
    extra: Mapping[str, E] | None = None,
    *,
    key: Callable[[str], str] = fold_case,
    names: bool = False,
    **more: E,
) -> dict[str, E]:
    """``{key(value): member}`` for each member, plus (with ``names``) ``{key(name):
    member}``, plus the ``extra`` and ``more`` spellings; every key made by ``key`` (by
    default :func:`fold_case`).  A later spelling wins over an earlier one.

    >>> from cmsf_core.domain.activity import ActivityType
    >>> sorted(spellings(ActivityType, names=True, spam=ActivityType.SPAM_COMPLAINT))[:3]
    ['bounced', 'clicked', 'opened']
    """
    members = tuple(choices)
    table = {key(str(member.value)): member for member in members}
    if names:
        table.update({key(member.name): member for member in members})
    for text, member in (*(extra or {}).items(), *more.items()):
        table[key(text)] = member
    return table


def parse_choice(
    kind: type[E],
    value: object,
    *,
    field: str,
    expected: str,
    table: Mapping[str, E],
    accepted: tuple[str, ...] | None = None,
    key: Callable[[str], str] = fold_case,
) -> E:
    """The member of ``kind`` that ``value`` names.

    ``value`` is a member (returned as is) or text looked up in ``table`` by ``key(text)``
    (by default: surrounding spaces dropped, case folded).  Anything else is an
    :class:`InvalidTypeError` naming ``field`` and ``expected``; text that names no member
    is an :class:`UnknownChoiceError` listing ``accepted`` (by default every member's
    value).

    >>> from cmsf_core.domain.activity import ActivityType
    >>> parse_choice(ActivityType, " OPENED ", field="type", expected="a type name",
    ...              table=spellings(ActivityType))
    <ActivityType.OPENED: 'Opened'>
    """
    if isinstance(value, kind):
        return value
    if not isinstance(value, str):
        raise InvalidTypeError(field, expected, value)
    found = table.get(key(value))
    if found is None:
        raise UnknownChoiceError(
            field, accepted if accepted is not None else tuple(str(m.value) for m in kind), value
        )
    return found


class _Reading(NamedTuple):
    field: str
    expected: str
    table: Mapping[str, Enum]
    accepted: tuple[str, ...] | None
    key: Callable[[str], str]


#: Each :class:`Choice` enum -> how it is read (its :func:`read_as` declaration).
_READINGS: dict[type[Enum], _Reading] = {}


class Choice(Enum):
    """An enum read from text with :meth:`parse`, as its :func:`read_as` declares."""

    @classmethod
    def parse(cls, value: object, field: str | None = None) -> Self:
        """The member ``value`` names: the member itself, or text in one of the enum's
        spellings (see the enum's own description).  Errors name ``field`` (by default the
        enum's own field name)."""
        reading = _READINGS[cls]
        return parse_choice(  # type: ignore[return-value]
            cls,
            value,
            field=reading.field if field is None else field,
            expected=reading.expected,
            table=reading.table,
            accepted=reading.accepted,
            key=reading.key,
        )


def read_as(
    kind: type[Choice],
    *,
    field: str,
    expected: str,
    table: Mapping[str, Choice] | None = None,
    accepted: tuple[str, ...] | None = None,
    key: Callable[[str], str] = fold_case,
    names: bool = False,
) -> None:
    """Declare how :meth:`Choice.parse` reads ``kind``: the ``field`` its errors name by
    default, the ``expected`` of an :class:`InvalidTypeError`, the ``table`` of spellings
    (looked up by ``key(text)``; by default ``spellings(kind, key=key, names=names)``: the
    members' values, and with ``names`` their names) and the ``accepted`` spellings an
    :class:`UnknownChoiceError` lists (by default every member's value)."""
    if table is None:
        table = spellings(kind, key=key, names=names)
    _READINGS[kind] = _Reading(field, expected, table, accepted, key)
