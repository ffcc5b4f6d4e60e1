"""The values the subscriber rules read: a subscriber's state, a record's kind, a consent
and an import refresh type (each read from text by
:class:`~cmsf_core.domain.choices.Choice`), an email's list memberships, and the
CRM's contacts and leads before and after a change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from cmsf_core.domain.checks import check_same_record, optional_instance, require_text
from cmsf_core.domain.choices import Choice, read_as, spellings
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.subscribers._checks import check_bool, items_of, optional_email
from cmsf_core.domain.timeutil import ensure_utc_or_none

__all__ = [
    "Consent",
    "ImportRefreshType",
    "ListMembership",
    "Person",
    "RecordChange",
    "RecordKind",
    "SubscriberState",
]


class SubscriberState(Choice):
    """A subscriber's state on a list, as Campaign Monitor names it.

    ``SUPPRESSED`` is the state of an entry on the client's suppression list, not of a
    list membership; it is here so one type covers everything that keeps an email inactive.
    :meth:`parse` reads Campaign Monitor's spelling in any case, surrounding spaces ignored.

    >>> SubscriberState.parse(" unsubscribed ")
    <SubscriberState.UNSUBSCRIBED: 'Unsubscribed'>
    """

    ACTIVE = "Active"
    UNSUBSCRIBED = "Unsubscribed"
    DELETED = "Deleted"
    BOUNCED = "Bounced"
    UNCONFIRMED = "Unconfirmed"
    SUPPRESSED = "Suppressed"


read_as(SubscriberState, field="state", expected="a subscriber state name")

#: States in which an email counts as opted out of a list.
OPTED_OUT = frozenset({SubscriberState.UNSUBSCRIBED, SubscriberState.DELETED})
#: States a delete or an import-wizard removal may move to Deleted.
RECEIVING = frozenset({SubscriberState.ACTIVE, SubscriberState.UNCONFIRMED})


class RecordKind(Choice):
    """The CRM objects that carry an email: contacts and leads.

    :meth:`parse` reads ``"Contact"`` or ``"Lead"`` in any case.
    """

    CONTACT = "Contact"
    LEAD = "Lead"


read_as(RecordKind, field="kind", expected="'Contact' or 'Lead'")


class Consent(Choice):
    """Consent to track or to send SMS, as the platform takes it: Yes, No or Unchanged.

    ``UNCHANGED`` leaves what the platform holds as it is.
    """

    YES = "Yes"
    NO = "No"
    UNCHANGED = "Unchanged"

    @classmethod
    def parse(cls, value: object, field: str | None = None) -> Consent:
        """Read a CRM value: a checkbox (``True``/``False``), ``None`` (not mapped: unchanged)
        or text (yes/no/unchanged, true/false, in any case).

        >>> Consent.parse(True), Consent.parse(None), Consent.parse(" no ")
        (<Consent.YES: 'Yes'>, <Consent.UNCHANGED: 'Unchanged'>, <Consent.NO: 'No'>)
        """
        if value is None:
            return cls.UNCHANGED
        if isinstance(value, bool):
            return cls.YES if value else cls.NO
        return super().parse(value, field)


read_as(
    Consent,
    field="consent",
    expected="Yes, No or Unchanged (or a bool)",
    table=spellings(Consent, true=Consent.YES, false=Consent.NO),
)


def _words(text: str) -> str:
    """Casefolded, with ``_`` and commas read as spaces and runs of spaces collapsed."""
    return " ".join(text.replace("_", " ").replace(",", " ").split()).casefold()


class ImportRefreshType(Choice):
    """What an import-wizard run does to the list, as the wizard names the choice.

    :meth:`parse` reads the wizard's label or the member's name in any case; spaces, ``_``
    and commas are loose.

    >>> ImportRefreshType.parse("add, update, remove")
    <ImportRefreshType.ADD_UPDATE_REMOVE: 'Add, Update, Remove'>
    """

    ADD_UPDATE = "Add, Update"
    ADD_UPDATE_RESUBSCRIBE_DELETED = "Add, Update, Resubscribe Deleted"
    ADD_UPDATE_REMOVE = "Add, Update, Remove"


read_as(
    ImportRefreshType,
    field="refresh_type",
    expected="an import refresh type",
    key=_words,
    names=True,
)


def to_consent_to_track(value: object) -> Consent:
    """The converter of a ``consent_to_track`` attribute."""
    return Consent.parse(value, "consent_to_track")


def to_consent_to_send_sms(value: object) -> Consent:
    """The converter of a ``consent_to_send_sms`` attribute."""
    return Consent.parse(value, "consent_to_send_sms")


def _to_state(value: object) -> SubscriberState:
    return SubscriberState.parse(value)


def _to_kind(value: object) -> RecordKind:
    return RecordKind.parse(value)


def _to_date_added(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "date_added")


@attrs.frozen
class ListMembership:
    """One list an email is on, and its state there (a row of ``lists_for_email``)."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    list_name: str = attrs.field(validator=require_text("list_name", allow_empty=True))
    state: SubscriberState = attrs.field(converter=_to_state)
    date_added: datetime | None = attrs.field(default=None, converter=_to_date_added)


@attrs.frozen
class Person:
    """A CRM contact or lead as these rules see it.

    ``email`` is ``None`` when the record has none; ``account_id`` is a contact's account.
    """

    record_id: str = attrs.field(validator=require_text("record_id"))
    kind: RecordKind = attrs.field(converter=_to_kind)
    email: str | None = attrs.field(default=None, kw_only=True, converter=optional_email)
    email_opt_out: bool = attrs.field(
        default=False, kw_only=True, validator=check_bool("email_opt_out")
    )
    account_id: str | None = attrs.field(
        default=None, kw_only=True, validator=require_text("account_id", optional=True)
    )


@attrs.frozen
class RecordChange:
    """A contact or lead as a CRM trigger sees it: before and after the change.

    ``before`` is ``None`` for an insert, ``after`` is ``None`` for a delete.
    """

    before: Person | None = attrs.field(
        default=None, validator=optional_instance("before", Person, "a Person or None")
    )
    after: Person | None = attrs.field(
        default=None, validator=optional_instance("after", Person, "a Person or None")
    )

    def __attrs_post_init__(self) -> None:
        check_same_record(self.before, self.after)

    @property
    def record(self) -> Person:
        """The record after the change, or the deleted record."""
        record = self.after or self.before
        if record is None:  # pragma: no cover - __attrs_post_init__ refuses it
            raise InvalidValueError("before", "a record when 'after' is None", None)
        return record

    @property
    def is_delete(self) -> bool:
        """Whether the record was deleted."""
        return self.after is None


def memberships_by_list(memberships: Iterable[ListMembership]) -> list[ListMembership]:
    """The first membership of each list in ``memberships`` (each a :class:`ListMembership`)."""
    seen: dict[str, ListMembership] = {}
    for membership in items_of(memberships, "memberships", ListMembership, "ListMembership values"):
        seen.setdefault(membership.list_id, membership)
    return list(seen.values())


def people_of(records: Iterable[Person], field: str) -> list[Person]:
    """``records`` as a list, each a :class:`Person` (else an error naming ``field``)."""
    return items_of(records, field, Person, "Person records")
