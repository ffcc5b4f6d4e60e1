"""Deleted contact or lead: the commands that move its email to Deleted on the lists
where it still receives."""

from __future__ import annotations

from collections.abc import Iterable

from cmsf_core.domain.emails import email_key
from cmsf_core.domain.errors import InvalidTypeError
from cmsf_core.domain.subscribers.commands import MarkDeleted
from cmsf_core.domain.subscribers.values import (
    RECEIVING,
    ListMembership,
    Person,
    memberships_by_list,
    people_of,
)

__all__ = ["delete_on_record_delete"]


def delete_on_record_delete(
    person: Person,
    memberships: Iterable[ListMembership],
    *,
    delete_subscriber_on_record_delete: bool,
    still_held_by: Iterable[Person] = (),
) -> tuple[MarkDeleted, ...]:
    """Commands setting the deleted record's email to Deleted on every list it receives on.

    Only Active and Unconfirmed memberships are moved: an Unsubscribed or Bounced
    subscriber stays as it is (as Deleted it could be resubscribed by the import wizard).
    No command when the setting is off, the record has no email, or another record in
    ``still_held_by`` still holds the email.
    """
    if not isinstance(person, Person):
        raise InvalidTypeError("person", "a Person", person)
    lists = memberships_by_list(memberships)
    others = people_of(still_held_by, "still_held_by")
    if not delete_subscriber_on_record_delete or person.email is None:
        return ()
    key = email_key(person.email)
    if any(
        o.record_id != person.record_id and o.email is not None and email_key(o.email) == key
        for o in others
    ):
        return ()
    return tuple(MarkDeleted(m.list_id, person.email) for m in lists if m.state in RECEIVING)
