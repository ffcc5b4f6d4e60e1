"""Seeding an embedded store (in memory, SQLite) by hand: the contacts, leads, campaigns and
links a test, demo or notebook starts from.

The public helpers (:meth:`StoreSeeding.add_person`, :meth:`~StoreSeeding.add_campaign`,
:meth:`~StoreSeeding.link`, :meth:`~StoreSeeding.set_fields`) are written here once: each
builds or checks the value and hands it to the store's own hook (``_put_person``,
``_put_campaign``, ``_put_link``, ``_put_fields``), which keeps it its way.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from cmsf_core.adapters._store_rules import check_field_values
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.field_mappings import CrmValue
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign, MemberStatus
from cmsf_core.domain.records.people import Person, PersonKind

#: The last-modified time of a person seeded without one.
SEEDED_MODIFIED = datetime(2000, 1, 1, tzinfo=UTC)


class StoreSeeding:
    """The seeding helpers an embedded store offers, over the store's own hooks."""

    __slots__ = ()

    def add_person(
        self,
        email: str,
        *,
        person_id: str | None = None,
        kind: PersonKind = PersonKind.CONTACT,
        last_modified: datetime | None = None,
        email_opt_out: bool = False,
        account_id: str | None = None,
    ) -> Person:
        """Add (or replace) a contact or lead; ``account_id`` is a contact's account
        (a lead has none).  Without a ``person_id`` it is numbered after the people held
        (``C000001``, ``L000002``, ...); an empty one is refused, as any person's is."""
        if person_id is None:
            person_id = f"{kind.value[0]}{self._person_count() + 1:06d}"
        person = Person(
            person_id,
            kind,
            email,
            last_modified or SEEDED_MODIFIED,
            email_opt_out=email_opt_out,
            account_id=account_id,
        )
        self._put_person(person)
        return person

    def add_campaign(
        self,
        campaign_id: str,
        name: str,
        *,
        statuses: Iterable[str | MemberStatus] = ("Sent", "Responded"),
        default: str | None = None,
        responded: Iterable[str] = ("Responded",),
    ) -> CrmCampaign:
        """Add a CRM campaign; plain labels become statuses (the first is the default)."""
        campaign = CrmCampaign.from_labels(
            campaign_id, name, statuses, default=default, responded=responded
        )
        self._put_campaign(campaign)
        return campaign

    def link(self, client_id: str, platform_campaign_id: str, crm_campaign_id: str) -> None:
        """Link a platform campaign to an existing CRM campaign by hand."""
        if crm_campaign_id not in self.campaigns():
            raise InvalidValueError(
                "crm_campaign_id", "a CRM campaign added first", crm_campaign_id
            )
        self._put_link(CampaignLink(client_id, platform_campaign_id, crm_campaign_id))

    def set_fields(self, person_id: str, values: Mapping[str, CrmValue]) -> None:
        """Set fields of a contact or lead by hand (seeding, or a user's edit)."""
        if not self._holds_person(person_id):
            raise InvalidValueError("person_id", "a contact or lead added first", person_id)
        check_field_values(values)
        self._put_fields(person_id, values)

    # -- the store's hooks -------------------------------------------------------------

    @abstractmethod
    def campaigns(self) -> Mapping[str, CrmCampaign]:
        """Every CRM campaign, by id (the CRM port's read)."""

    @abstractmethod
    def _person_count(self) -> int:
        """How many contacts and leads the store holds."""

    @abstractmethod
    def _holds_person(self, person_id: str) -> bool:
        """Whether the store holds a contact or lead of that id."""

    @abstractmethod
    def _put_person(self, person: Person) -> None:
        """Keep ``person``, replacing the one held under its id."""

    @abstractmethod
    def _put_campaign(self, campaign: CrmCampaign) -> None:
        """Keep ``campaign``, replacing the one held under its id."""

    @abstractmethod
    def _put_link(self, link: CampaignLink) -> None:
        """Keep ``link``, replacing the one held for its platform campaign."""

    @abstractmethod
    def _put_fields(self, person_id: str, values: Mapping[str, CrmValue]) -> None:
        """Keep ``values`` (checked) as fields of the person held under ``person_id``."""
