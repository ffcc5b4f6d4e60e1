"""cmsf_core: the sync semantics of Campaign Monitor for Salesforce as a pure Python library.

Email tracking records (sent, opened, clicked, bounced, unsubscribed, spam complaint) become
activity records, roll up onto campaign members, set their Status by the Always / Once Only /
Never refresh rules and are purged by a retention window.  The core is pure; the CRM and the
email platform are reached through small ports with pluggable adapters.
"""

from cmsf_core.domain import (
    SETTING_SPECS,
    STATUS_RULES,
    TIE_RANK,
    Activity,
    ActivityKey,
    ActivityType,
    CampaignMember,
    CmsfError,
    Engagement,
    Finding,
    FindingCode,
    InvalidTypeError,
    InvalidValueError,
    NaiveDatetimeError,
    RefreshCause,
    RefreshMode,
    Retention,
    Settings,
    SettingSpec,
    StatusAction,
    StatusMapping,
    StatusPolicy,
    UnknownChoiceError,
    UnknownSettingError,
    apply_retention,
    candidate,
    diagnose,
    number_occurrences,
    refresh_member,
    retention_cutoffs,
    rollup,
)

__version__ = "0.1.0"

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
    "__version__",
    "apply_retention",
    "candidate",
    "diagnose",
    "number_occurrences",
    "refresh_member",
    "retention_cutoffs",
    "rollup",
]
