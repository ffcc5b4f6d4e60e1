"""A self-contained demonstration: a generated platform history synced day by day.

The same history is synced under each refresh mode with a short retention window,
which reproduces the product FAQ's question ("why is a member Clicked while Clicks is 0?")
and shows what ``diagnose`` says about it.  Everything runs on the in-memory adapters.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import attrs

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.diagnose import FindingCode, diagnose
from cmsf_core.domain.settings import RefreshMode, Settings, StatusMapping
from cmsf_core.sync import run_sync

__all__ = ["DemoResult", "build_platform", "run_demo"]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STATUSES = ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")


def build_platform(
    *, recipients: int = 2000, campaigns: int = 3, seed: int = 7
) -> InMemoryPlatform:
    """A platform with a few weekly campaigns and a realistic spread of engagement.

    About 30% of recipients open (over the first week, most on day one), a third of the
    openers click, 2% bounce and 1% unsubscribe.  The same seed gives the same history.
    """
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
                    clicked = opened + timedelta(minutes=rng.randint(1, 30))
                    platform.add_event(
                        campaign_id,
                        ActivityType.CLICKED,
                        email,
                        clicked,
                        detail="https://example.com/offer",
                    )
                if rng.random() < 0.03:
                    platform.add_event(
                        campaign_id,
                        ActivityType.UNSUBSCRIBED,
                        email,
                        opened + timedelta(hours=1),
                    )
    return platform


def _crm_for(platform: InMemoryPlatform, recipients: int) -> InMemoryCrm:
    crm = InMemoryCrm()
    for campaign in platform.sent_campaigns("client-1"):
        crm_id = "sf-" + campaign.campaign_id
        crm.add_campaign(crm_id, campaign.name, statuses=STATUSES, responded=("Opened", "Clicked"))
        crm.link("client-1", campaign.campaign_id, crm_id)
    for i in range(0, recipients, 2):  # half of the readers are contacts in the CRM
        crm.add_person(f"reader{i:05d}@example.com")
    return crm


def default_variants(days_to_keep: int) -> tuple[tuple[str, Settings], ...]:
    """The settings compared by default: each refresh mode, and Once Only with Sent
    mapped to no status (so that the first interaction, not the send, is captured)."""
    once = Settings(refresh_mode=RefreshMode.ONCE_ONLY, days_to_keep=days_to_keep)
    return (
        ("Always", Settings(refresh_mode=RefreshMode.ALWAYS, days_to_keep=days_to_keep)),
        ("Once Only", once),
        (
            "Once Only, Sent mapped to no status",
            attrs.evolve(once, status_mapping=StatusMapping({ActivityType.SENT: None})),
        ),
        ("Never", Settings(refresh_mode=RefreshMode.NEVER, days_to_keep=days_to_keep)),
    )


@attrs.frozen
class DemoResult:
    """The outcome of one variant of the settings over the whole history."""

    name: str
    syncs: int
    imported: int
    purged: int
    records_left: int
    statuses: Counter[str]
    findings: Counter[str]
    example: str


def run_demo(
    variants: Iterable[tuple[str, Settings]] | None = None,
    *,
    days: int = 20,
    days_to_keep: int = 7,
    recipients: int = 2000,
) -> list[DemoResult]:
    """Sync the generated history once a day under each variant; collect what happened."""
    results = []
    for name, settings in variants or default_variants(days_to_keep):
        platform = build_platform(recipients=recipients)
        crm = _crm_for(platform, recipients)
        imported = purged = 0
        for day in range(1, days + 1):
            report = run_sync(crm, platform, settings, as_of=START + timedelta(days=day))
            imported += len(report.plan.records_to_insert)
            purged += report.plan.purged
        as_of = START + timedelta(days=days)
        statuses: Counter[str] = Counter()
        findings: Counter[str] = Counter()
        example = ""
        for record in crm.all_members():
            statuses[record.member.status or "(none)"] += 1
            stored = crm.records_for([record.ref]).get(record.ref, ())
            for finding in diagnose(
                record.member, stored, settings, as_of=as_of, default_status="Sent"
            ):
                findings[finding.code.value] += 1
                if not example and finding.code is FindingCode.STATUS_WITHOUT_ACTIVITY:
                    example = (
                        finding.message
                        + "\n    remedies:\n"
                        + "\n".join(f"    - {r}" for r in finding.remedies)
                    )
        results.append(
            DemoResult(
                name, days, imported, purged, crm.record_count(), statuses, findings, example
            )
        )
    return results


def format_results(results: Iterable[DemoResult]) -> str:
    """A plain-text report of :func:`run_demo`'s results."""
    lines = []
    for r in results:
        lines.append(f"== {r.name}")
        lines.append(
            f"   {r.syncs} daily syncs: {r.imported:,} records imported, {r.purged:,} purged "
            f"by retention, {r.records_left:,} stored now"
        )
        shown = ", ".join(f"{label} {n:,}" for label, n in r.statuses.most_common())
        lines.append(f"   member statuses: {shown}")
        if r.findings:
            found = ", ".join(f"{code} {n:,}" for code, n in sorted(r.findings.items()))
            lines.append(f"   diagnose flags: {found}")
        else:
            lines.append("   diagnose flags: none (every status is backed by its records)")
        if r.example:
            lines.append("   for example: " + r.example)
        lines.append("")
    return "\n".join(lines)
