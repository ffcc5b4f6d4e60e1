"""Email Opt Out, both ways: the CRM checkbox an email's list memberships call for
(platform -> CRM), and the unsubscribes when a record's checkbox becomes checked
(CRM -> platform)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from cmsf_core.domain.emails import email_key
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.subscribers._checks import email_converter
from cmsf_core.domain.subscribers.commands import OptOutChange, Unsubscribe
from cmsf_core.domain.subscribers.values import (
    OPTED_OUT,
    ListMembership,
    Person,
    RecordChange,
    SubscriberState,
    memberships_by_list,
    people_of,
)

__all__ = [
    "DuplicateEmail",
    "OptOutPlan",
    "email_opt_out",
    "opt_out_changes",
    "plan_email_opt_out",
    "unsubscribes_for_opt_out",
]


def _states(memberships: Iterable[SubscriberState | ListMembership]) -> list[SubscriberState]:
    states = []
    for item in memberships:
        if isinstance(item, ListMembership):
            states.append(item.state)
        elif isinstance(item, SubscriberState):
            states.append(item)
        else:
            raise InvalidTypeError("memberships", "ListMembership or SubscriberState", item)
    return states


def email_opt_out(memberships: Iterable[SubscriberState | ListMembership]) -> bool | None:
    """The Email Opt Out an email's list memberships call for, or ``None`` (unchanged).

    ``True`` when there is at least one membership and every one is Unsubscribed or
    Deleted; ``False`` when at least one is Active; otherwise (no membership, or only
    Bounced, Unconfirmed or Suppressed beside opted-out ones) ``None``.

    >>> S = SubscriberState
    >>> email_opt_out([S.UNSUBSCRIBED, S.DELETED]), email_opt_out([S.ACTIVE, S.BOUNCED])
    (True, False)
    >>> email_opt_out([S.BOUNCED]) is None, email_opt_out([]) is None
    (True, True)
    """
    states = _states(memberships)
    if SubscriberState.ACTIVE in states:
        return False
    if states and all(state in OPTED_OUT for state in states):
        return True
    return None


@attrs.frozen
class DuplicateEmail:
    """Several CRM records share one email (reported by the opt-out sync)."""

    email: str
    record_ids: tuple[str, ...]


@attrs.frozen
class OptOutPlan:
    """What the opt-out sync changes in the CRM, and the duplicates it found."""

    changes: tuple[OptOutChange, ...] = ()
    duplicates: tuple[DuplicateEmail, ...] = ()


def opt_out_changes(
    email: str,
    memberships: Iterable[SubscriberState | ListMembership],
    records: Iterable[Person],
    *,
    sync_email_opt_out: bool,
) -> OptOutPlan:
    """The opt-out changes for one email: every contact and lead with that email whose
    Email Opt Out differs from :func:`email_opt_out`; several records are a duplicate.

    With the setting off nothing is changed or reported.  Each record must carry
    ``email`` (compared without regard to case).
    """
    key = email_key(email_converter("email")(email))
    people = people_of(records, "records")
    for person in people:
        if person.email is None or email_key(person.email) != key:
            raise InvalidValueError(
                "records",
                f"records whose email is {email!r}",
                person.email,
                detail=f"record {person.record_id!r}",
            )
    if not sync_email_opt_out:
        return OptOutPlan()
    wanted = email_opt_out(memberships)
    changes: tuple[OptOutChange, ...] = ()
    if wanted is not None:
        changes = tuple(
            OptOutChange(p.record_id, p.email or email, wanted)
            for p in people
            if p.email_opt_out != wanted
        )
    ids = tuple(dict.fromkeys(p.record_id for p in people))
    duplicates = (DuplicateEmail(email, ids),) if len(ids) > 1 else ()
    return OptOutPlan(changes, duplicates)


def plan_email_opt_out(
    memberships: Mapping[str, Iterable[SubscriberState | ListMembership]],
    records: Iterable[Person],
    *,
    sync_email_opt_out: bool,
) -> OptOutPlan:
    """:func:`opt_out_changes` for every email in ``memberships`` (email -> its lists).

    Records whose email is not a key of ``memberships`` (or who have none) are left alone;
    keys that differ only in case are one email.
    """
    if not isinstance(memberships, Mapping):
        raise InvalidTypeError("memberships", "a mapping of email to list memberships", memberships)
    people = people_of(records, "records")
    if not sync_email_opt_out:
        return OptOutPlan()
    by_key: dict[str, tuple[str, list[SubscriberState]]] = {}
    for email, lists in memberships.items():
        shown = email_converter("memberships")(email)
        by_key.setdefault(email_key(shown), (shown, []))[1].extend(_states(lists))
    holders: dict[str, list[Person]] = {}
    for person in people:
        if person.email is not None and email_key(person.email) in by_key:
            holders.setdefault(email_key(person.email), []).append(person)
    changes: list[OptOutChange] = []
    duplicates: list[DuplicateEmail] = []
    for key, (shown, states) in by_key.items():
        plan = opt_out_changes(
            shown, states, holders.get(key, ()), sync_email_opt_out=sync_email_opt_out
        )
        changes.extend(plan.changes)
        duplicates.extend(plan.duplicates)
    return OptOutPlan(tuple(changes), tuple(duplicates))


def unsubscribes_for_opt_out(
    change: RecordChange,
    memberships: Iterable[ListMembership],
    *,
    unsubscribe_on_opt_out: bool,
) -> tuple[Unsubscribe, ...]:
    """Unsubscribe commands when a record's Email Opt Out becomes checked.

    Only on the change to checked (unchecked -> checked, or a record inserted checked),
    never while it stays checked; one command per list of the email that is not already
    Unsubscribed.  Setting off, no email, or a delete: none.
    """
    if not isinstance(change, RecordChange):
        raise InvalidTypeError("change", "a RecordChange", change)
    lists = memberships_by_list(memberships)
    after = change.after
    if not unsubscribe_on_opt_out or after is None or after.email is None:
        return ()
    became_checked = after.email_opt_out and (
        change.before is None or not change.before.email_opt_out
    )
    if not became_checked:
        return ()
    done = (SubscriberState.UNSUBSCRIBED, SubscriberState.SUPPRESSED)
    return tuple(Unsubscribe(m.list_id, after.email) for m in lists if m.state not in done)
