"""What the subscriber rules hand the adapters: the platform commands, what the platform
does with one on a list (:func:`run_on_list`), and the CRM changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from cmsf_core.domain.checks import require_text
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.subscribers._checks import check_bool, to_email, to_suppressed_at
from cmsf_core.domain.subscribers.imports import ImportResult, ImportSubscribers
from cmsf_core.domain.subscribers.values import SubscriberState

__all__ = [
    "CommandResult",
    "CreateSuppressionRecord",
    "CrmChange",
    "ListChange",
    "MarkDeleted",
    "OptOutChange",
    "PlatformCommand",
    "RemoveSubscriber",
    "RemoveSuppressionRecord",
    "Unsubscribe",
    "UpdateSuppressionRecord",
    "run_on_list",
]

# ----------------------------------------------------------------------------- platform


@attrs.frozen
class Unsubscribe:
    """Platform command: unsubscribe ``email`` from the list (``Subscriber.unsubscribe``)."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    email: str = attrs.field(converter=to_email)


@attrs.frozen
class MarkDeleted:
    """Platform command: move ``email`` to Deleted on the list (``Subscriber.delete``),
    because its contact or lead was deleted."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    email: str = attrs.field(converter=to_email)


@attrs.frozen
class RemoveSubscriber:
    """Platform command: move ``email`` to Deleted on the list (``Subscriber.delete``),
    because an "Add, Update, Remove" import did not include it."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    email: str = attrs.field(converter=to_email)


#: Everything a platform adapter is asked to execute.
PlatformCommand = Unsubscribe | MarkDeleted | RemoveSubscriber | ImportSubscribers


def _check_command(_inst: Any, _attr: Any, value: Any) -> None:
    if not isinstance(value, Unsubscribe | MarkDeleted | RemoveSubscriber | ImportSubscribers):
        raise InvalidTypeError("command", "a platform command", value)


@attrs.frozen
class CommandResult:
    """What the platform did with one command: ``ok``, or the platform's ``error`` message.

    ``import_result`` is the platform's answer to an :class:`ImportSubscribers` (``None``
    for the other commands, or when the request failed as a whole).
    """

    command: PlatformCommand = attrs.field(validator=_check_command)
    ok: bool = attrs.field(validator=check_bool("ok"))
    error: str | None = attrs.field(default=None, validator=require_text("error", optional=True))
    import_result: ImportResult | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.ok and self.error is not None:
            raise InvalidValueError("error", "None when ok is true", self.error)
        if not self.ok and self.error is None:
            raise InvalidValueError("error", "the platform's message when ok is false", None)


@attrs.frozen
class ListChange:
    """A list subscriber's new state after a command (``key``: :func:`email_key`;
    ``email`` as the command gives it; ``added``: the email was not on the list)."""

    key: str
    email: str
    state: SubscriberState
    added: bool = False


def run_on_list(
    command: PlatformCommand, state_of: Callable[[str], SubscriberState | None]
) -> tuple[CommandResult, tuple[ListChange, ...]]:
    """What the platform does with ``command`` on one list, as a list held in memory plays
    it: the result, and the subscribers whose state changes.

    ``state_of(key)`` is the state of the subscriber whose :func:`email_key` is ``key``
    (``None``: not on the list).  An import adds the new emails as Active and counts the
    others as existing; it reactivates an inactive one only when it resubscribes.
    Unsubscribe and the deletes need the email on the list ("Subscriber not in list"
    otherwise) and move it to Unsubscribed or Deleted.
    """
    if isinstance(command, ImportSubscribers):
        changes: dict[str, ListChange] = {}
        existing = 0
        for row in command.subscribers:  # emails are unique within one import
            key = email_key(row.email)
            found = state_of(key)
            if found is None:
                changes[key] = ListChange(key, row.email, SubscriberState.ACTIVE, added=True)
                continue
            existing += 1
            if command.resubscribe and found is not SubscriberState.ACTIVE:
                changes[key] = ListChange(key, row.email, SubscriberState.ACTIVE)
        total = len(command.subscribers)
        result = ImportResult(total, existing, total - existing)
        return CommandResult(command, True, import_result=result), tuple(changes.values())
    key = email_key(command.email)
    found = state_of(key)
    if found is None:
        return CommandResult(command, False, "Subscriber not in list"), ()
    wanted = (
        SubscriberState.UNSUBSCRIBED
        if isinstance(command, Unsubscribe)
        else SubscriberState.DELETED
    )
    changed = () if found is wanted else (ListChange(key, command.email, wanted),)
    return CommandResult(command, True), changed


# ----------------------------------------------------------------------------- CRM


@attrs.frozen
class OptOutChange:
    """CRM change: set a contact's or lead's Email Opt Out to ``value``."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    email: str = attrs.field(converter=to_email)
    value: bool = attrs.field(validator=check_bool("value"))


@attrs.frozen
class CreateSuppressionRecord:
    """CRM change: create a suppression record."""

    email: str = attrs.field(converter=to_email)
    reason: str = attrs.field(validator=require_text("reason"))
    suppressed_at: datetime = attrs.field(converter=to_suppressed_at)


@attrs.frozen
class UpdateSuppressionRecord:
    """CRM change: set a suppression record's reason and date to the platform's."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    email: str = attrs.field(converter=to_email)
    reason: str = attrs.field(validator=require_text("reason"))
    suppressed_at: datetime = attrs.field(converter=to_suppressed_at)


@attrs.frozen
class RemoveSuppressionRecord:
    """CRM change: delete a suppression record (the platform no longer suppresses it)."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    email: str = attrs.field(converter=to_email)


#: Everything a CRM adapter is asked to apply.
CrmChange = (
    OptOutChange | CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord
)
