"""Hypothesis strategies for cmsf_core's values, for property tests of your own code.

Install the extra (``pip install 'cmsf_core[hypothesis]'``): this module imports
Hypothesis, which nothing else in the core does.  Every strategy is a function that
returns a ``SearchStrategy``; nothing is generated until Hypothesis draws from it.

The values are aimed where the rules are sharp:

- **instants cluster**: a history draws a few instants and puts several records on each,
  so ties at one instant, records exactly at a retention cutoff and an Activity Date
  equal to a record's time are common;
- **same-minute twins**: identical events of one minute, numbered 0, 1, ... as an import
  numbers them (:func:`~cmsf_core.domain.activity.number_occurrences`), and events at
  other seconds of the same minute;
- **DST edges**: instants within two hours of a daylight-saving change, given in the
  local zone (``fold=1`` in a repeated hour), in zones with unusual changes (Lord Howe's
  half hour, Chatham's +12:45, Santiago's midnight);
- statuses set by hand, by the integration or not at all; status mappings with types
  mapped to nothing and labels shared between types; settings read from the product's
  own names.

Each docstring says what the strategy **shrinks to**: the simplest value, which is what
Hypothesis reports in a failing example.  Those minimal values are the library's
defaults wherever there is one, so a failure shows only what had to differ.

``st.from_type`` knows :class:`~cmsf_core.domain.activity.Activity`,
:class:`~cmsf_core.domain.member.CampaignMember`, :class:`~cmsf_core.domain.settings.Settings`,
:class:`~cmsf_core.domain.settings.StatusMapping`, :class:`~cmsf_core.domain.schedule.Schedule`
and :class:`~cmsf_core.domain.engagement.Engagement` once :func:`register_type_strategies` has run:
Hypothesis runs it through its ``hypothesis`` entry point when it is imported, so in an
installed ``cmsf_core`` this is automatic.

>>> from hypothesis import find
>>> find(members(), lambda member: True)
CampaignMember(campaign_id='cmp-1', member_id='m-1', status=None, activity=None, ...)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from cmsf_core.domain.activity import Activity
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.schedule import Schedule
from cmsf_core.domain.settings import Settings, StatusMapping
from cmsf_core.testing.strategies.campaign_members import (
    PRODUCT_LABELS,
    default_statuses,
    engagements,
    member_histories,
    members,
    status_labels,
)
from cmsf_core.testing.strategies.config import (
    schedules,
    setting_mappings,
    settings,
    status_mappings,
    tracking_settings,
)
from cmsf_core.testing.strategies.instants import (
    DST_ZONES,
    TIME_ZONES,
    activity_times,
    dst_edge_instants,
    dst_transitions,
    time_zones,
    utc_instants,
)
from cmsf_core.testing.strategies.platform import platform_histories, platforms, seeded_platform
from cmsf_core.testing.strategies.records import (
    CAMPAIGN_ID,
    EMAILS,
    MEMBER_ID,
    activities,
    activity_types,
    refresh_causes,
    stored_records,
)

__all__ = [
    "CAMPAIGN_ID",
    "DST_ZONES",
    "EMAILS",
    "MEMBER_ID",
    "PRODUCT_LABELS",
    "TIME_ZONES",
    "activities",
    "activity_times",
    "activity_types",
    "default_statuses",
    "dst_edge_instants",
    "dst_transitions",
    "engagements",
    "member_histories",
    "members",
    "platform_histories",
    "platforms",
    "refresh_causes",
    "register_type_strategies",
    "schedules",
    "seeded_platform",
    "setting_mappings",
    "settings",
    "status_labels",
    "status_mappings",
    "stored_records",
    "strategy_for",
    "time_zones",
    "tracking_settings",
    "utc_instants",
]

# ----------------------------------------------------------------------------- st.from_type

#: The strategy ``st.from_type`` draws each of cmsf_core's value types from.
_FROM_TYPE: dict[type, Callable[[], st.SearchStrategy[Any]]] = {
    Activity: activities,
    CampaignMember: members,
    Settings: settings,
    StatusMapping: status_mappings,
    Schedule: schedules,
    Engagement: engagements,
}


def strategy_for(cls: type) -> st.SearchStrategy[Any]:
    """The strategy of this module that ``st.from_type(cls)`` draws from, for each type
    :func:`register_type_strategies` registers (a ``KeyError`` for any other type)."""
    return _FROM_TYPE[cls]()


def register_type_strategies() -> None:
    """Register these strategies for ``st.from_type`` (and so for ``st.builds`` and
    ``@given`` with inferred arguments): :class:`~cmsf_core.domain.activity.Activity`,
    :class:`~cmsf_core.domain.member.CampaignMember`,
    :class:`~cmsf_core.domain.settings.Settings`,
    :class:`~cmsf_core.domain.settings.StatusMapping`,
    :class:`~cmsf_core.domain.schedule.Schedule` and
    :class:`~cmsf_core.domain.engagement.Engagement`.

    Hypothesis does this itself, through the ``hypothesis`` entry point of an installed
    ``cmsf_core``, when it is imported; call it where plugins are off
    (``HYPOTHESIS_NO_PLUGINS``).  Calling it again is harmless.
    """
    for cls in _FROM_TYPE:
        st.register_type_strategy(cls, functools.partial(_drawn_for, cls))


def _drawn_for(cls: type, _asked: type) -> st.SearchStrategy[Any]:
    return strategy_for(cls)
