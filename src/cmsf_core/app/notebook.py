"""Notebook views: HTML tables for Jupyter and conversion to pandas.

The values themselves know no HTML.  A sync report, a plan and a finding display as tables
once their views are registered with IPython: ``%load_ext cmsf_core.notebook`` (or
:func:`enable_rich_display` in a running notebook) registers :func:`report_html`,
:func:`plan_html` and :func:`finding_html` as ``text/html`` formatters.  Plans, members and
findings turn into rows with :func:`plan_rows`, :func:`member_rows` and
:func:`finding_rows`, into HTML with :func:`html_table`, and into a ``pandas.DataFrame``
with :func:`to_pandas` (pandas is optional: ``pip install 'cmsf_core[pandas]'``; it is
imported only when called).

    >>> from cmsf_core import CampaignMember
    >>> rows = member_rows([CampaignMember("cmp-1", "ann@example.com", status="Sent")])
    >>> rows[0]["status"], rows[0]["opens"]
    ('Sent', 0)
    >>> "<td>ann@example.com</td>" in html_table(rows)
    True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from cmsf_core.domain.activity import Activity
from cmsf_core.domain.diagnose import Finding
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.planner import SyncPlan
from cmsf_core.domain.records.members import MemberRecord
from cmsf_core.shell.sync import SyncReport

if TYPE_CHECKING:
    from cmsf_core.app.columnar.stores import WholeStore

__all__ = [
    "HTML_VIEWS",
    "HtmlFormatter",
    "enable_rich_display",
    "finding_html",
    "finding_rows",
    "html_table",
    "load_ipython_extension",
    "member_rows",
    "plan_html",
    "plan_rows",
    "register_html_views",
    "report_html",
    "to_pandas",
    "to_polars",
]

Row = dict[str, object]


def _escape(value: object) -> str:
    text = "" if value is None else str(value)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def html_table(rows: Sequence[Mapping[str, object]], *, caption: str = "") -> str:
    """An HTML table of ``rows`` (dicts with the same keys), values escaped."""
    columns = list(rows[0]) if rows else []
    head = "".join(f"<th>{_escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_escape(row.get(c))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    title = f"<caption>{_escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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


def plan_html(plan: SyncPlan) -> str:
    """The HTML of a sync plan: one row per kind of change, captioned with its kind and time."""
    kind = "Full" if plan.full else "Incremental"
    return html_table(
        plan_rows(plan), caption=f"{kind} sync plan at {plan.as_of:%Y-%m-%d %H:%M} UTC"
    )


def finding_html(finding: Finding) -> str:
    """The HTML of a finding: its code, message and remedies (joined by `` | ``)."""
    (row,) = finding_rows([finding])
    return html_table([{key: row[key] for key in ("code", "message", "remedies")}])


class HtmlFormatter(Protocol):
    """What :func:`register_html_views` needs of IPython's ``text/html`` formatter."""

    def for_type(self, typ: type, func: Callable[[Any], str]) -> object:
        """Show values of ``typ`` with ``func``."""


#: Each type a notebook shows as a table, with its view.
HTML_VIEWS: Mapping[type, Callable[[Any], str]] = {
    SyncReport: report_html,
    SyncPlan: plan_html,
    Finding: finding_html,
}


def register_html_views(formatter: HtmlFormatter) -> None:
    """Register the HTML view of a report, a plan and a finding with ``formatter``
    (IPython's ``get_ipython().display_formatter.formatters["text/html"]``)."""
    for typ, view in HTML_VIEWS.items():
        formatter.for_type(typ, view)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext cmsf_core.notebook``: reports, plans and findings display as tables."""
    register_html_views(ipython.display_formatter.formatters["text/html"])


def enable_rich_display() -> bool:
    """In a running IPython or Jupyter session, display reports, plans and findings as
    tables (as ``%load_ext cmsf_core.notebook`` does); False, and nothing done, outside one."""
    try:
        ipython_module = importlib.import_module("IPython")  # only in a notebook
    except ImportError:
        return False
    ipython = ipython_module.get_ipython()
    if ipython is None:
        return False
    load_ipython_extension(ipython)
    return True


def to_pandas(rows: Sequence[Mapping[str, object]] | SyncReport) -> Any:
    """A ``pandas.DataFrame`` of ``rows``, or of a sync report's counts (one row per kind
    of change); pandas is imported here, on first use."""
    if isinstance(rows, SyncReport):
        rows = plan_rows(rows.plan)
    try:
        import pandas as pd  # noqa: PLC0415 - optional, behind the [pandas] extra
    except ImportError as error:
        raise RuntimeError("to_pandas needs pandas: pip install 'cmsf_core[pandas]'") from error
    return pd.DataFrame(list(rows))


def to_polars(
    values: Iterable[Activity] | Iterable[CampaignMember] | Iterable[MemberRecord] | WholeStore,
) -> Any:
    """The columnar path's frames (:mod:`cmsf_core.app.columnar`): a ``polars.DataFrame``
    of tracking records, of campaign members or of CRM campaign members; or, given a whole
    store (:class:`~cmsf_core.adapters.sqlite.SqliteCrm`,
    :class:`~cmsf_core.adapters.memory.InMemoryCrm`), its records and members as
    :class:`~cmsf_core.app.columnar.stores.StoreFrames` (a SQLite store's records read
    from its columns).  polars is imported on first use: ``pip install
    'cmsf_core[polars]'``."""
    if not isinstance(values, Iterable):
        from cmsf_core.app.columnar.stores import store_frames  # noqa: PLC0415 - polars

        return store_frames(values)
    from cmsf_core.app.columnar import to_polars as convert  # noqa: PLC0415 - imports polars

    return convert(values)
