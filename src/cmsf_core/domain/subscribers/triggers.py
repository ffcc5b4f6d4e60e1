"""The CRM triggers: which records of a batch of contact, lead or account changes are
processed under the trigger settings, and the opt-out and delete commands they bring."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import attrs

from cmsf_core.domain.emails import email_key
from cmsf_core.domain.errors import InvalidTypeError
from cmsf_core.domain.subscribers._checks import (
    check_sequence,
    email_converter,
    items_of,
    nonblank_text,
)
from cmsf_core.domain.subscribers.commands import MarkDeleted, Unsubscribe
from cmsf_core.domain.subscribers.deletes import delete_on_record_delete
from cmsf_core.domain.subscribers.opt_out import unsubscribes_for_opt_out
from cmsf_core.domain.subscribers.values import (
    ListMembership,
    Person,
    RecordChange,
    RecordKind,
    people_of,
)

__all__ = [
    "TriggerPlan",
    "contacts_to_process",
    "plan_account_changes",
    "plan_record_changes",
    "records_to_process",
]

T = TypeVar("T")


def records_to_process(
    batch: Sequence[T], *, disable_triggers: bool, disable_bulk_triggers: bool
) -> tuple[T, ...]:
    """The records of one trigger batch that the integration processes.

    Triggers disabled: none.  Bulk triggers disabled: only the first modified record of
    the batch.  Otherwise: all of them, in order.
    """
    check_sequence(batch, "batch", "a sequence of records")
    if disable_triggers:
        return ()
    if disable_bulk_triggers:
        return tuple(batch[:1])
    return tuple(batch)


@attrs.frozen
class TriggerPlan:
    """What a batch of contact or lead changes does.

    ``processed`` are the changes automatic subscription rules and field mappings may act
    on; ``skipped`` the ones the trigger settings leave alone; ``commands`` the opt-out
    and delete commands for the platform.
    """

    processed: tuple[RecordChange, ...] = ()
    skipped: tuple[RecordChange, ...] = ()
    commands: tuple[Unsubscribe | MarkDeleted, ...] = ()


def plan_record_changes(
    changes: Sequence[RecordChange],
    memberships: Mapping[str, Iterable[ListMembership]],
    *,
    disable_triggers: bool,
    disable_bulk_triggers: bool,
    unsubscribe_on_opt_out: bool,
    delete_subscriber_on_record_delete: bool,
    surviving: Iterable[Person] = (),
) -> TriggerPlan:
    """One trigger batch of contact/lead changes: which are processed, and the commands.

    ``memberships`` maps an email to its lists; ``surviving`` are CRM records that still
    exist (a deleted record's email held by one of them is not deleted on the platform).
    """
    check_sequence(changes, "changes", "a sequence of RecordChange")
    items_of(changes, "changes", RecordChange, "RecordChange values")
    if not isinstance(memberships, Mapping):
        raise InvalidTypeError("memberships", "a mapping of email to list memberships", memberships)
    processed = records_to_process(
        changes, disable_triggers=disable_triggers, disable_bulk_triggers=disable_bulk_triggers
    )
    lists_by_key: dict[str, list[ListMembership]] = {}
    for address, held in memberships.items():
        lists_by_key.setdefault(email_key(email_converter("memberships")(address)), []).extend(held)
    deleted = {c.record.record_id for c in processed if c.is_delete}
    holders = [p for p in people_of(surviving, "surviving") if p.record_id not in deleted]
    commands: list[Unsubscribe | MarkDeleted] = []
    for change in processed:
        email = change.record.email
        lists = lists_by_key.get(email_key(email), []) if email is not None else []
        if change.is_delete:
            commands.extend(
                delete_on_record_delete(
                    change.record,
                    lists,
                    delete_subscriber_on_record_delete=delete_subscriber_on_record_delete,
                    still_held_by=holders,
                )
            )
        else:
            commands.extend(
                unsubscribes_for_opt_out(
                    change, lists, unsubscribe_on_opt_out=unsubscribe_on_opt_out
                )
            )
    skipped = tuple(changes[len(processed) :])  # the processed records are a prefix
    return TriggerPlan(processed, skipped, tuple(dict.fromkeys(commands)))


def contacts_to_process(
    account_id: str,
    contacts: Iterable[Person],
    *,
    enable_account_trigger: bool,
    disable_triggers: bool,
) -> tuple[Person, ...]:
    """The contacts an account change reaches: its contacts, when the account trigger is
    enabled and triggers are not disabled; otherwise none."""
    account = nonblank_text(account_id, "account_id")
    people = people_of(contacts, "contacts")
    if disable_triggers or not enable_account_trigger:
        return ()
    return tuple(p for p in people if p.kind is RecordKind.CONTACT and p.account_id == account)


def plan_account_changes(
    account_ids: Sequence[str],
    contacts: Iterable[Person],
    *,
    enable_account_trigger: bool,
    disable_triggers: bool,
    disable_bulk_triggers: bool,
) -> tuple[Person, ...]:
    """The contacts one trigger batch of account changes reaches, each once.

    Bulk triggers disabled: only the batch's first account, all of its contacts.
    """
    people = people_of(contacts, "contacts")
    accounts = records_to_process(
        account_ids, disable_triggers=disable_triggers, disable_bulk_triggers=disable_bulk_triggers
    )
    reached: dict[str, Person] = {}
    for account_id in accounts:
        for person in contacts_to_process(
            account_id,
            people,
            enable_account_trigger=enable_account_trigger,
            disable_triggers=disable_triggers,
        ):
            reached.setdefault(person.record_id, person)
    return tuple(reached.values())
