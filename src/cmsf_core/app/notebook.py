"""Notebook views: HTML tables for Jupyter and conversion to pandas.

:class:`~cmsf_core.shell.sync.SyncReport` renders itself through :func:`report_html`; plans,
members and findings turn into rows with :func:`plan_rows`, :func:`member_rows` and
:func:`finding_rows`, into HTML with :func:`html_table`, and into a
``pandas.DataFrame`` with :func:`to_pandas` (pandas is optional: ``pip install
'cmsf_core[pandas]'``; it is imported only when called).

    >>> from cmsf_core import CampaignMember
    >>> rows = member_rows([CampaignMember("cmp-1", "ann@example.com", status="Sent")])
    >>> rows[0]["status"], rows[0]["opens"]
    ('Sent', 0)
    >>> "<td>ann@example.com</td>" in html_table(rows)
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cmsf_core.domain.activity import Activity
from cmsf_core.domain.diagnose import Finding
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.planner import SyncPlan
from cmsf_core.domain.records import MemberRecord
from cmsf_core.domain.tables import html_table

if TYPE_CHECKING:
    from cmsf_core.shell.sync import SyncReport

__all__ = [
    "finding_rows",
    "html_table",
    "member_rows",
    "plan_rows",
    "report_html",
    "to_pandas",
    "to_polars",
]

Row = dict[str, object]


def plan_rows(plan: SyncPlan) -> list[Row]:
    """One row per kind of change: what the plan holds."""
    return [{"change": name, "count": n} for name, n in plan.counts().items()]


def member_rows(members: Iterable[CampaignMember | MemberRecord]) -> list[Row]:
    """One row per member: ids, status, activity and every rollup counter."""
    rows: list[Row] = []
    for item in members:
        record = item if isinstance(item, MemberRecord) else None
        member = item.member if isinstance(item, MemberRecord) else item
        e = member.engagement
        rows.append(
            {
                "campaign_id": member.campaign_id,
                "member_id": member.member_id,
                "crm_campaign_id": record.crm_campaign_id if record else None,
                "person_id": record.person_id if record else None,
                "status": member.status,
                "activity": member.activity.value if member.activity else None,
                "activity_date": member.activity_date,
                "sent": e.sent,
                "opens": e.opens,
                "clicks": e.clicks,
                "bounces": e.bounces,
                "unsubscribes": e.unsubscribes,
                "spam_complaints": e.spam_complaints,
            }
        )
    return rows


def finding_rows(findings: Iterable[Finding | tuple[MemberRecord, Sequence[Finding]]]) -> list[Row]:
    """One row per finding (optionally paired with the member it concerns)."""
    rows: list[Row] = []
    for item in findings:
        if isinstance(item, Finding):
            pairs: list[tuple[MemberRecord | None, Finding]] = [(None, item)]
        else:
            pairs = [(item[0], f) for f in item[1]]
        for record, finding in pairs:
            rows.append(
                {
                    "member_id": record.member.member_id if record else None,
                    "crm_campaign_id": record.crm_campaign_id if record else None,
                    "code": finding.code.value,
                    "message": finding.message,
                    "remedies": " | ".join(finding.remedies),
                }
            )
    return rows


def report_html(report: SyncReport) -> str:
    """The HTML of a sync report: the plan's counts and any refused writes."""
    state = "applied" if report.applied else "dry run: nothing applied"
    kind = "Full" if report.plan.full else "Incremental"
    parts = [
        html_table(
            plan_rows(report.plan),
            caption=f"{kind} sync at {report.plan.as_of:%Y-%m-%d %H:%M} UTC ({state})",
        )
    ]
    if report.plan.refusals:
        parts.append(
            html_table(
                [
                    {"kind": r.kind.value, "record": r.record, "reason": r.reason}
                    for r in report.plan.refusals
                ],
                caption="Refused writes (retried at the next sync)",
            )
        )
    return "".join(parts)


def to_pandas(rows: Sequence[Mapping[str, object]]) -> Any:
    """A ``pandas.DataFrame`` of ``rows`` (pandas is imported here, on first use)."""
    try:
        import pandas as pd  # noqa: PLC0415 - optional, behind the [pandas] extra
    except ImportError as error:
        raise RuntimeError("to_pandas needs pandas: pip install 'cmsf_core[pandas]'") from error
    return pd.DataFrame(list(rows))


def to_polars(values: Iterable[Activity] | Iterable[CampaignMember]) -> Any:
    """A ``polars.DataFrame`` of tracking records or of campaign members, in the schema of
    :mod:`cmsf_core.app.columnar` (polars is imported on first use: ``pip install
    'cmsf_core[polars]'``)."""
    from cmsf_core.app.columnar import to_polars as convert  # noqa: PLC0415 - imports polars

    return convert(values)
