"""The in-memory adapters run the ports' contract suites (``cmsf_core.testing``)."""

from __future__ import annotations

import sys

import pytest

if "cmsf_core.testing" not in sys.modules:  # pytest's assert messages in the contracts
    pytest.register_assert_rewrite("cmsf_core.testing")

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.testing import (
    CrmStoreContract,
    EmailPlatformContract,
    PlatformSeed,
)


class TestInMemoryCrm(CrmStoreContract):
    """InMemoryCrm keeps the CrmStore contract."""

    def make_crm(self) -> InMemoryCrm:
        return InMemoryCrm()


class TestInMemoryPlatform(EmailPlatformContract):
    """InMemoryPlatform keeps the EmailPlatform contract, seeded by its add_* helpers."""

    def make_platform(self, seed: PlatformSeed) -> InMemoryPlatform:
        platform = InMemoryPlatform()
        for client in seed.clients:
            platform.add_client(client.client_id, client.name, time_zone=client.time_zone)
        for campaign in seed.campaigns:
            platform.add_campaign(
                campaign.client_id,
                campaign.campaign_id,
                campaign.name,
                sent_at=campaign.sent_at,
                tags=campaign.tags,
            )
        for campaign_id, event in seed.events:
            platform.add_events(campaign_id, [event])
        for campaign_id, summary in seed.summaries:
            platform.set_summary(campaign_id, summary)
        for m in seed.memberships:
            platform.set_membership(m.client_id, m.list_id, m.email, m.state, at=m.changed_at)
        for client_id, entry in seed.suppressed:
            platform.add_suppressed(client_id, entry.email, entry.reason, entry.suppressed_at)
        return platform
