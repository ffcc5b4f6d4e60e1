"""The values that cross the ports: what the platform reports and what the CRM holds.

They are shaped on the services' own objects: Campaign Monitor API v3.3 (clients,
campaigns, tracking streams, summaries) and the Salesforce objects (Contact/Lead,
Campaign, CampaignMemberStatus, CampaignMember).  Adapters translate to and from them at
the boundary; the planner only ever sees these.
"""

from __future__ import annotations

from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign, MemberStatus
from cmsf_core.domain.records.members import MemberRecord, MemberRef, member_ref
from cmsf_core.domain.records.people import Person, PersonKind
from cmsf_core.domain.records.platform import (
    SKIPPED_ROW_CODE,
    CampaignSummary,
    PlatformCampaign,
    PlatformClient,
    SkippedRow,
    TrackingEvent,
    TrackingPage,
    check_page_request,
)
from cmsf_core.domain.records.sync_state import Checkpoint, WriteResult

__all__ = [
    "SKIPPED_ROW_CODE",
    "CampaignLink",
    "CampaignSummary",
    "Checkpoint",
    "CrmCampaign",
    "MemberRecord",
    "MemberRef",
    "MemberStatus",
    "Person",
    "PersonKind",
    "PlatformCampaign",
    "PlatformClient",
    "SkippedRow",
    "TrackingEvent",
    "TrackingPage",
    "WriteResult",
    "check_page_request",
    "member_ref",
    "normalise_email",
]
