"""A generated, realistic platform history for the demo and the what-if simulator.

A few weekly campaigns to a few thousand recipients: about 30% open (most on day one),
a third of the openers click, 2% bounce and 1% of openers unsubscribe.  The same seed
gives the same history.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cmsf_core.adapters.memory import InMemoryPlatform
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.records.campaigns import CrmCampaign, MemberStatus
from cmsf_core.domain.records.people import Person

__all__ = ["START", "STATUSES", "build_platform", "seed_crm"]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STATUSES = ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")


def build_platform(
    *, recipients: int = 2000, campaigns: int = 3, seed: int = 7
) -> InMemoryPlatform:
    """A platform with weekly campaigns and a realistic spread of engagement."""
    rng = random.Random(seed)
    platform = InMemoryPlatform()
    platform.add_client("client-1", "Northwind Newsletters", time_zone="Europe/London")
    emails = [f"reader{i:05d}@example.com" for i in range(recipients)]
    for n in range(campaigns):
        sent = START + timedelta(days=7 * n)
        campaign_id = f"cmp-{n + 1}"
        platform.add_campaign("client-1", campaign_id, f"Weekly digest #{n + 1}", sent_at=sent)
        for email in emails:
            platform.add_event(campaign_id, ActivityType.SENT, email, sent)
            roll = rng.random()
            if roll < 0.02:
                platform.add_event(
                    campaign_id,
                    ActivityType.BOUNCED,
                    email,
                    sent + timedelta(minutes=5),
                    detail=rng.choice(("Soft", "Hard")),
                )
                continue
            if roll < 0.32:
                opened = sent + timedelta(hours=rng.expovariate(1 / 20))
                platform.add_event(campaign_id, ActivityType.OPENED, email, opened)
                if rng.random() < 0.33:
                    platform.add_event(
                        campaign_id,
                        ActivityType.CLICKED,
                        email,
                        opened + timedelta(minutes=rng.randint(1, 30)),
                        detail="https://example.com/offer",
                    )
                if rng.random() < 0.03:
                    platform.add_event(
                        campaign_id, ActivityType.UNSUBSCRIBED, email, opened + timedelta(hours=1)
                    )
    return platform


class SeedableCrm(Protocol):
    """The seeding helpers both shipped CRM stores offer."""

    def add_campaign(
        self,
        campaign_id: str,
        name: str,
        *,
        statuses: Iterable[str | MemberStatus] = ...,
        default: str | None = ...,
        responded: Iterable[str] = ...,
    ) -> CrmCampaign: ...

    def link(self, client_id: str, platform_campaign_id: str, crm_campaign_id: str) -> None: ...

    def add_person(self, email: str, *, person_id: str | None = ...) -> Person: ...


def seed_crm(crm: SeedableCrm, platform: InMemoryPlatform, recipients: int) -> None:
    """Link a CRM campaign to every platform campaign; half the readers are contacts."""
    for campaign in platform.sent_campaigns("client-1"):
        crm_id = "sf-" + campaign.campaign_id
        crm.add_campaign(crm_id, campaign.name, statuses=STATUSES, responded=("Opened", "Clicked"))
        crm.link("client-1", campaign.campaign_id, crm_id)
    for i in range(0, recipients, 2):
        crm.add_person(f"reader{i:05d}@example.com", person_id=f"003{i:07d}")
