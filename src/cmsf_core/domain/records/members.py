"""Campaign members as the CRM keeps them (Salesforce CampaignMember): a member's
identity, :class:`MemberRef`, and what is stored for it, :class:`MemberRecord`."""

from __future__ import annotations

from typing import NamedTuple

import attrs

from cmsf_core.domain.checks import require_instance, require_text
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.member import CampaignMember

__all__ = ["MemberRecord", "MemberRef", "member_ref"]


class MemberRef(NamedTuple):
    """A campaign member's identity: the platform campaign and the subscriber's email."""

    campaign_id: str
    member_id: str


def member_ref(campaign_id: str, email: str) -> MemberRef:
    """The member of ``campaign_id`` for ``email`` (:func:`normalise_email`: trimmed,
    NFC, lower-cased)."""
    return MemberRef(campaign_id, normalise_email(email))


@attrs.frozen
class MemberRecord:
    """A CRM campaign member: its CRM campaign, the matched person (if any) and its state.

    ``member.campaign_id`` is the platform campaign and ``member.member_id`` the normalised
    email (:func:`normalise_email`).  ``person_id`` is ``None`` while no contact or lead
    has that email: the member is kept unmatched and matched at a later sync.
    """

    crm_campaign_id: str = attrs.field(validator=require_text("crm_campaign_id"))
    member: CampaignMember = attrs.field(
        validator=require_instance("member", CampaignMember, "a CampaignMember")
    )
    email: str = attrs.field(validator=require_text("email"))
    person_id: str | None = attrs.field(
        default=None, validator=require_text("person_id", optional=True)
    )

    @property
    def ref(self) -> MemberRef:
        """The member's identity."""
        return MemberRef(self.member.campaign_id, self.member.member_id)
