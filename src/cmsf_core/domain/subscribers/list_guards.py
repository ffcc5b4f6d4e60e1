"""Prevent adding opted-out people: the product's refusal when a contact or lead whose
Email Opt Out is checked is added to a subscriber list."""

from __future__ import annotations

from cmsf_core.domain.errors import CmsfError, InvalidTypeError
from cmsf_core.domain.subscribers.values import Person, RecordKind

__all__ = ["LIST_ADD_REFUSED", "OptedOutError", "check_list_add", "list_add_refusal"]

#: The product's message when an opted-out contact or lead is added to a list.
LIST_ADD_REFUSED = (
    "This {kind} cannot be added to a subscriber list because Email Opt Out is checked."
)


class OptedOutError(CmsfError, ValueError):
    """An opted-out contact or lead may not be added to a subscriber list."""

    def __init__(self, record_id: str, kind: RecordKind) -> None:
        self.record_id = record_id
        self.kind = kind
        super().__init__(f"{LIST_ADD_REFUSED.format(kind=kind.value.lower())} (record {record_id})")


def list_add_refusal(person: Person, *, prevent_opted_out_list_add: bool) -> str | None:
    """The product's message if ``person`` may not be added to a list, else ``None``.

    Refused only when the setting is on and the record's Email Opt Out is checked.  The
    rule is not retrospective: it judges an add, never a membership that already exists.
    """
    if not isinstance(person, Person):
        raise InvalidTypeError("person", "a Person", person)
    if prevent_opted_out_list_add and person.email_opt_out:
        return LIST_ADD_REFUSED.format(kind=person.kind.value.lower())
    return None


def check_list_add(person: Person, *, prevent_opted_out_list_add: bool) -> None:
    """Raise :class:`OptedOutError` if :func:`list_add_refusal` refuses the add."""
    if list_add_refusal(person, prevent_opted_out_list_add=prevent_opted_out_list_add):
        raise OptedOutError(person.record_id, person.kind)
