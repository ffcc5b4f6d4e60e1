"""The CRM's campaigns: their member statuses (CampaignMemberStatus) and their link to a
platform campaign."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from cmsf_core.domain.checks import require_text, tuple_of
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.records.platform import CampaignSummary
from cmsf_core.domain.settings import parse_label

__all__ = ["CampaignLink", "CrmCampaign", "MemberStatus"]


def _status_label(value: object) -> str:
    return parse_label(value, "MemberStatus.label")


@attrs.frozen
class MemberStatus:
    """A CampaignMemberStatus: Label, IsDefault, HasResponded, SortOrder."""

    label: str = attrs.field(converter=_status_label)
    is_default: bool = attrs.field(default=False, kw_only=True)
    has_responded: bool = attrs.field(default=False, kw_only=True)
    sort_order: int = attrs.field(default=0, kw_only=True)


def _statuses(value: object) -> tuple[MemberStatus, ...]:
    return tuple_of(
        value,
        MemberStatus,
        "statuses",
        "a collection of MemberStatus",
        "MemberStatus values",
        collection=_iterates,
    )


def _iterates(value: object) -> bool:
    return isinstance(value, Iterable)


@attrs.frozen
class CrmCampaign:
    """A CRM campaign with its member status set (exactly one default status)."""

    campaign_id: str = attrs.field(validator=require_text("campaign_id"))
    name: str = attrs.field(validator=require_text("name"))
    statuses: tuple[MemberStatus, ...] = attrs.field(converter=_statuses)
    created_by_integration: bool = attrs.field(default=False, kw_only=True)
    statistics: CampaignSummary | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        defaults = [s.label for s in self.statuses if s.is_default]
        if len(defaults) != 1:
            raise InvalidValueError(
                "statuses", "exactly one default status", [s.label for s in self.statuses]
            )
        labels = [s.label for s in self.statuses]
        if len(set(labels)) != len(labels):
            raise InvalidValueError("statuses", "distinct labels", labels)

    @classmethod
    def from_labels(
        cls,
        campaign_id: str,
        name: str,
        statuses: Iterable[str | MemberStatus] = ("Sent", "Responded"),
        *,
        default: str | None = None,
        responded: Iterable[str] = ("Responded",),
    ) -> CrmCampaign:
        """A campaign whose plain labels become statuses (the first is the default unless
        ``default`` names another; ``responded`` labels count as responded)."""
        wanted = set(responded)
        labels = list(statuses)
        first = labels[0] if labels else None
        default = default or (first.label if isinstance(first, MemberStatus) else first)
        built = tuple(
            s
            if isinstance(s, MemberStatus)
            else MemberStatus(
                s, is_default=s == default, has_responded=s in wanted, sort_order=i + 1
            )
            for i, s in enumerate(labels)
        )
        return cls(campaign_id, name, built)

    @property
    def default_status(self) -> str:
        """The label new members get."""
        return next(s.label for s in self.statuses if s.is_default)

    def has_status(self, label: str) -> bool:
        """Whether ``label`` is one of this campaign's member statuses."""
        return any(s.label == label for s in self.statuses)


@attrs.frozen
class CampaignLink:
    """A platform campaign linked to a CRM campaign (by hand, or auto-created)."""

    client_id: str = attrs.field(validator=require_text("client_id"))
    platform_campaign_id: str = attrs.field(validator=require_text("platform_campaign_id"))
    crm_campaign_id: str = attrs.field(validator=require_text("crm_campaign_id"))
