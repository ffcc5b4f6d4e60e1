"""The functional core: immutable values and pure rules. No I/O, no clock, no globals.

Time is always an argument (``as_of``); nothing here imports the ports, the adapters,
Hypothesis or an I/O module (``tests/unit/test_architecture.py`` checks it).
"""

from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType, number_occurrences
from cmsf_core.domain.diagnose import Finding, FindingCode, diagnose
from cmsf_core.domain.engagement import Engagement, rollup
from cmsf_core.domain.errors import (
    CmsfError,
    InvalidTypeError,
    InvalidValueError,
    NaiveDatetimeError,
    UnknownChoiceError,
    UnknownSettingError,
)
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.retention import Retention, apply_retention, retention_cutoffs
from cmsf_core.domain.settings import (
    SETTING_SPECS,
    RefreshMode,
    Settings,
    SettingSpec,
    StatusMapping,
    StatusPolicy,
)
from cmsf_core.domain.status import (
    STATUS_RULES,
    TIE_RANK,
    RefreshCause,
    StatusAction,
    candidate,
    refresh_member,
)

__all__ = [
    "SETTING_SPECS",
    "STATUS_RULES",
    "TIE_RANK",
    "Activity",
    "ActivityKey",
    "ActivityType",
    "CampaignMember",
    "CmsfError",
    "Engagement",
    "Finding",
    "FindingCode",
    "InvalidTypeError",
    "InvalidValueError",
    "NaiveDatetimeError",
    "RefreshCause",
    "RefreshMode",
    "Retention",
    "SettingSpec",
    "Settings",
    "StatusAction",
    "StatusMapping",
    "StatusPolicy",
    "UnknownChoiceError",
    "UnknownSettingError",
    "apply_retention",
    "candidate",
    "diagnose",
    "number_occurrences",
    "refresh_member",
    "retention_cutoffs",
    "rollup",
]
