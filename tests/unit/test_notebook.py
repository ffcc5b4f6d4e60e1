"""Notebook views: reports, plans, members and findings as HTML tables and DataFrames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cmsf_core import ActivityType, CampaignMember, Settings, diagnose
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.app.notebook import finding_rows, html_table, member_rows, to_pandas
from cmsf_core.shell.sync import SyncReport, run_sync

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _report_and_crm() -> tuple[SyncReport, InMemoryCrm]:
    platform = InMemoryPlatform()
    platform.add_client("c1", "Acme")
    platform.add_campaign("c1", "cmp-1", "Spring", sent_at=SENT)
    platform.add_event("cmp-1", ActivityType.SENT, "ann@example.com", SENT)
    crm = InMemoryCrm()
    crm.add_campaign("sf-1", "Spring", statuses=["Sent", "Opened"])
    crm.link("c1", "cmp-1", "sf-1")
    return run_sync(crm, platform, Settings(), as_of=SENT + timedelta(hours=1)), crm


def test_a_sync_report_renders_as_an_html_table_of_its_counts() -> None:
    """In Jupyter a report shows its plan's counts, one row per kind of change."""
    report, _crm = _report_and_crm()

    html = report._repr_html_()

    assert html.startswith("<table><caption>Incremental sync at 2026-03-02 10:00 UTC")
    assert "<td>records inserted</td><td>1</td>" in html


def test_a_report_converts_to_a_dataframe() -> None:
    """report.to_pandas() gives one row per kind of change."""
    report, _crm = _report_and_crm()

    frame = report.to_pandas()

    assert list(frame.columns) == ["change", "count"]
    assert frame.set_index("change").loc["records inserted", "count"] == 1


def test_members_and_findings_become_rows_and_frames() -> None:
    """Members give one row each with every counter; findings one row each."""
    _report, crm = _report_and_crm()
    member = CampaignMember(
        "cmp-1",
        "bob@example.com",
        status="Clicked",
        activity=ActivityType.CLICKED,
        activity_date=SENT,
    )
    findings = diagnose(member, [], Settings(), as_of=SENT)

    members = to_pandas(member_rows(crm.all_members()))
    found = finding_rows(findings)

    assert members.loc[0, "status"] == "Sent"
    assert members.loc[0, "sent"] == 1
    assert [row["code"] for row in found] == ["STATUS_WITHOUT_ACTIVITY"]
    assert "Always Update" in str(found[0]["remedies"])


def test_html_tables_escape_their_values() -> None:
    """A value with markup is shown, never interpreted."""
    html = html_table([{"label": "<b>Clicked & co</b>"}])

    assert "<td>&lt;b&gt;Clicked &amp; co&lt;/b&gt;</td>" in html
