"""Plain HTML tables for notebook views (pure string building, values escaped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["html_table"]


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
