"""Contacts and leads as the subscriber and field-mapping shells take them: a person the
CRM port returned, seen as the subscriber rules' :class:`~cmsf_core.domain.subscribers.Person`."""

from __future__ import annotations

from collections.abc import Collection

from cmsf_core.domain import records
from cmsf_core.domain.errors import InvalidTypeError
from cmsf_core.domain.records.people import PersonKind
from cmsf_core.domain.subscribers import Person, RecordKind
from cmsf_core.ports.crm import CrmStore

__all__ = ["as_person", "people_with_emails", "to_subscriber_person"]

_KINDS = {PersonKind.CONTACT: RecordKind.CONTACT, PersonKind.LEAD: RecordKind.LEAD}


def to_subscriber_person(person: records.Person) -> Person:
    """The subscriber rules' view of a contact or lead the CRM port returned."""
    if not isinstance(person, records.Person):
        raise InvalidTypeError("person", "a records.Person", person)
    return Person(
        person.person_id,
        _KINDS[person.kind],
        email=person.email,
        email_opt_out=person.email_opt_out,
        account_id=person.account_id,
    )


def people_with_emails(crm: CrmStore, emails: Collection[str]) -> list[Person]:
    """Every contact and lead holding one of ``emails``, once each."""
    if not emails:
        return []
    found = crm.find_people(emails)
    seen: dict[str, Person] = {}
    for people in found.values():
        for person in people:
            seen.setdefault(person.person_id, to_subscriber_person(person))
    return list(seen.values())


def as_person(
    value: object, field: str, expected: str = "a Person (or a records.Person)"
) -> Person:
    """``value`` as a subscriber person (a CRM person is converted); anything else is
    refused as not ``expected``."""
    if isinstance(value, records.Person):
        return to_subscriber_person(value)
    if not isinstance(value, Person):
        raise InvalidTypeError(field, expected, value)
    return value
