"""Notebook views: reports, plans, members and findings as HTML tables and DataFrames."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from cmsf_core import ActivityType, CampaignMember, Settings, diagnose
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.app.notebook import (
    enable_rich_display,
    finding_html,
    finding_rows,
    html_table,
    load_ipython_extension,
    member_rows,
    plan_html,
    report_html,
    to_pandas,
)
from cmsf_core.domain.diagnose import Finding
from cmsf_core.domain.planner import SyncPlan
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

    html = report_html(report)

    assert html.startswith("<table><caption>Incremental sync at 2026-03-02 10:00 UTC")
    assert "<td>records inserted</td><td>1</td>" in html


def test_a_report_converts_to_a_dataframe() -> None:
    """to_pandas(report) gives one row per kind of change."""
    report, _crm = _report_and_crm()

    frame = to_pandas(report)

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


def test_the_values_themselves_know_no_html() -> None:
    """A report, a plan and a finding have no _repr_html_: the notebook views render them."""
    report, _crm = _report_and_crm()
    (finding,) = diagnose(
        CampaignMember(
            "cmp-1", "m-1", status="Clicked", activity=ActivityType.CLICKED, activity_date=SENT
        ),
        [],
        Settings(),
        as_of=SENT,
    )

    assert not any(hasattr(v, "_repr_html_") for v in (report, report.plan, finding))
    assert plan_html(report.plan).startswith("<table><caption>Incremental sync plan at")
    assert finding_html(finding).startswith(
        "<table><thead><tr><th>code</th><th>message</th><th>remedies</th>"
    )


@attrs.define
class FakeFormatter:
    """IPython's text/html formatter, as far as registration goes: type -> function."""

    views: dict[type, Callable[[Any], str]] = attrs.Factory(dict)

    def for_type(self, typ: type, func: Callable[[Any], str]) -> object:
        """Record ``func`` as the view of ``typ``."""
        self.views[typ] = func
        return None


@attrs.define
class FakeIPython:
    """A running IPython session, as far as display formatters go."""

    html: FakeFormatter = attrs.Factory(FakeFormatter)

    @property
    def display_formatter(self) -> types.SimpleNamespace:
        """The session's formatters, by MIME type."""
        return types.SimpleNamespace(formatters={"text/html": self.html})


def test_loading_the_extension_registers_a_table_view_for_reports_plans_and_findings() -> None:
    """%load_ext cmsf_core.notebook makes a report, a plan and a finding display as tables."""
    ipython = FakeIPython()
    report, _crm = _report_and_crm()

    load_ipython_extension(ipython)

    assert set(ipython.html.views) == {SyncReport, SyncPlan, Finding}
    assert ipython.html.views[SyncReport](report) == report_html(report)
    assert ipython.html.views[SyncPlan](report.plan) == plan_html(report.plan)


def test_the_public_notebook_module_is_the_extension() -> None:
    """`%load_ext cmsf_core.notebook` finds load_ipython_extension at the public path."""
    import cmsf_core.notebook  # noqa: PLC0415 - the path IPython imports

    assert cmsf_core.notebook.load_ipython_extension is load_ipython_extension
    assert cmsf_core.notebook.enable_rich_display is enable_rich_display


def test_rich_display_registers_with_the_running_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """enable_rich_display() registers the views with get_ipython()'s formatter."""
    ipython = FakeIPython()
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: ipython  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)

    assert enable_rich_display() is True
    assert Finding in ipython.html.views


def test_rich_display_outside_a_session_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a running session (or without IPython) enable_rich_display() says False."""
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert enable_rich_display() is False

    monkeypatch.setitem(sys.modules, "IPython", None)
    assert enable_rich_display() is False
