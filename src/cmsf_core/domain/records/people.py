"""The CRM's people: contacts and leads (Salesforce Contact/Lead) as the sync sees them."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from cmsf_core.domain.checks import require_instance, require_text
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.timeutil import ensure_utc

__all__ = ["Person", "PersonKind"]


def _last_modified(value: object) -> datetime:
    return ensure_utc(value, "last_modified")


class PersonKind(enum.Enum):
    """The CRM object a person is stored as."""

    CONTACT = "Contact"
    LEAD = "Lead"


def _contacts_only(inst: Person, _attr: object, account_id: str | None) -> None:
    """Leads have no account (the CRM's account belongs to contacts)."""
    if inst.kind is PersonKind.LEAD and account_id is not None:
        raise InvalidValueError("account_id", "None for a lead (leads have no account)", account_id)


@attrs.frozen
class Person:
    """A contact or lead, as far as the integration needs it (``account_id``: a contact's
    account, when the CRM has accounts)."""

    person_id: str = attrs.field(validator=require_text("person_id"))
    kind: PersonKind = attrs.field(validator=require_instance("kind", PersonKind, "a PersonKind"))
    email: str = attrs.field(validator=require_text("email"))
    last_modified: datetime = attrs.field(converter=_last_modified)
    email_opt_out: bool = attrs.field(default=False, kw_only=True)
    account_id: str | None = attrs.field(
        default=None,
        kw_only=True,
        validator=[require_text("account_id", optional=True), _contacts_only],
    )
