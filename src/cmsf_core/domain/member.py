"""The campaign member: status, the activity that set it, and its rollups."""

from __future__ import annotations

from datetime import datetime

import attrs

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.checks import require_text
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.settings import parse_label
from cmsf_core.domain.timeutil import ensure_utc_or_none

__all__ = ["CampaignMember"]


def _status(value: object) -> str | None:
    return None if value is None else parse_label(value, "status")


def _activity(value: object) -> ActivityType | None:
    return None if value is None else ActivityType.parse(value, "activity")


def _activity_date(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "activity_date")


def _engagement(_inst: object, _attr: object, value: object) -> None:
    if not isinstance(value, Engagement):
        raise InvalidTypeError("engagement", "an Engagement", value)


@attrs.frozen
class CampaignMember:
    """A CRM campaign member as the integration sees it.

    ``status`` is the CRM Status label (a person may set it by hand); ``activity`` and
    ``activity_date`` are the activity that last set it, both empty until the integration
    sets one; ``engagement`` holds the rollups.
    """

    campaign_id: str = attrs.field(validator=require_text("campaign_id"))
    member_id: str = attrs.field(validator=require_text("member_id"))
    status: str | None = attrs.field(default=None, kw_only=True, converter=_status)
    activity: ActivityType | None = attrs.field(default=None, kw_only=True, converter=_activity)
    activity_date: datetime | None = attrs.field(
        default=None, kw_only=True, converter=_activity_date
    )
    engagement: Engagement = attrs.field(factory=Engagement, kw_only=True, validator=_engagement)

    def __attrs_post_init__(self) -> None:
        if (self.activity is None) != (self.activity_date is None):
            raise InvalidValueError(
                "activity_date",
                "set together with 'activity' (both or neither)",
                self.activity_date,
                detail=f"activity is {self.activity!r}",
            )

    @staticmethod
    def _trusted(
        campaign_id: str,
        member_id: str,
        status: str | None,
        activity: ActivityType | None,
        activity_date: datetime | None,
        engagement: Engagement,
    ) -> CampaignMember:
        """Internal: the member built from values its caller has already checked.

        No converter or validator runs: the ids non-empty text, ``status`` ``None`` or a
        label :func:`parse_label` returns unchanged, ``activity`` and ``activity_date``
        both ``None`` or an :class:`ActivityType` and a stdlib datetime whose ``tzinfo``
        is ``UTC``, ``engagement`` an :class:`Engagement`.  For those values the result
        equals ``CampaignMember(...)`` of them.
        """
        self = _new(CampaignMember)
        _campaign_id(self, campaign_id)
        _member_id(self, member_id)
        _status_slot(self, status)
        _activity_slot(self, activity)
        _activity_date_slot(self, activity_date)
        _engagement_slot(self, engagement)
        return self


_new = object.__new__
# The slots' own setters (what the attrs ``__init__`` calls once its checks have passed).
(
    _campaign_id,
    _member_id,
    _status_slot,
    _activity_slot,
    _activity_date_slot,
    _engagement_slot,
) = (vars(CampaignMember)[name].__set__ for name in attrs.fields_dict(CampaignMember))
