"""Strategies for campaign members: rollups, status labels, a member, and a member with
the records stored for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from cmsf_core.domain.activity import Activity
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.member import CampaignMember
from cmsf_core.testing.strategies.instants import activity_times
from cmsf_core.testing.strategies.records import (
    _POOL_SIZE,
    CAMPAIGN_ID,
    MEMBER_ID,
    _build_records,
    _pool,
    _record_specs,
    activity_types,
)

#: The default status labels, and two that campaigns often use, shared between types.
PRODUCT_LABELS = (
    "Sent",
    "Opened",
    "Clicked",
    "Bounced",
    "Unsubscribed",
    "Marked as Spam",
    "Responded",
    "Registered",
)

_DEFAULT_STATUSES = ("Sent", "Planned", "Targeted")


def engagements() -> st.SearchStrategy[Engagement]:
    """Small rollup counters, 0 to 5 each (not necessarily matching any records).

    Shrinks to ``Engagement()`` (every counter 0).
    """
    count = st.integers(min_value=0, max_value=5)
    return st.builds(Engagement, count, count, count, count, count, count)


def status_labels() -> st.SearchStrategy[str]:
    """Valid CRM status labels: one of :data:`PRODUCT_LABELS`, or any printable text of
    1 to 40 characters without surrounding spaces (a picklist value).

    Shrinks to ``"Sent"``.
    """
    text = st.text(
        st.characters(categories=("L", "N", "P", "S"), include_characters=" "),
        min_size=1,
        max_size=40,
    )
    return st.one_of(st.sampled_from(PRODUCT_LABELS), text.map(str.strip).filter(bool))


def default_statuses() -> st.SearchStrategy[str | None]:
    """A campaign's default status, or ``None`` (not known).  Shrinks to ``None``."""
    return st.one_of(st.none(), st.sampled_from(_DEFAULT_STATUSES))


def _member_specs(labels: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(
        st.sampled_from(("fresh", "set by hand", "set by the integration")),
        engagements(),
        labels,
        activity_types(),
        st.integers(min_value=0, max_value=_POOL_SIZE - 1),
    )


def _build_member(
    campaign_id: str, member_id: str, pool: Sequence[datetime], spec: tuple[Any, ...]
) -> CampaignMember:
    kind, engagement, status, activity, at = spec
    if kind == "fresh":
        return CampaignMember(campaign_id, member_id, engagement=engagement)
    if kind == "set by hand":
        return CampaignMember(campaign_id, member_id, status=status, engagement=engagement)
    return CampaignMember(
        campaign_id,
        member_id,
        status=status,
        activity=activity,
        activity_date=pool[at % len(pool)],
        engagement=engagement,
    )


def _labels(labels: st.SearchStrategy[str] | None) -> st.SearchStrategy[str]:
    return st.sampled_from(PRODUCT_LABELS) if labels is None else labels


def members(
    *,
    campaign_id: str = CAMPAIGN_ID,
    member_id: str = MEMBER_ID,
    times: st.SearchStrategy[datetime] | None = None,
    labels: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[CampaignMember]:
    """A campaign member: fresh (no status), with a status set by hand (no activity), or
    with a status, activity and Activity Date set by the integration; small counters.
    ``labels`` defaults to :data:`PRODUCT_LABELS`, ``times`` to :func:`activity_times`.

    Shrinks to ``CampaignMember("cmp-1", "m-1")``: fresh, every counter 0.
    """
    return st.builds(
        lambda at, spec: _build_member(campaign_id, member_id, (at,), spec),
        activity_times() if times is None else times,
        _member_specs(_labels(labels)),
    )


def member_histories(
    *,
    campaign_id: str = CAMPAIGN_ID,
    member_id: str = MEMBER_ID,
    max_records: int = 8,
    times: st.SearchStrategy[datetime] | None = None,
    labels: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[tuple[CampaignMember, tuple[Activity, ...]]]:
    """A member (as :func:`members`) and the records stored for it (as
    :func:`stored_records`), all at up to three shared instants, so that the member's
    Activity Date often equals, precedes or follows a record exactly: the edge of the
    Activity Date guard.

    Shrinks to ``(CampaignMember("cmp-1", "m-1"), ())``.
    """

    def build(
        pool: list[datetime], member: tuple[Any, ...], specs: tuple[list[Any], list[Any]]
    ) -> tuple[CampaignMember, tuple[Activity, ...]]:
        return (
            _build_member(campaign_id, member_id, pool, member),
            _build_records(campaign_id, member_id, pool, specs),
        )

    return st.builds(
        build, _pool(times), _member_specs(_labels(labels)), _record_specs(0, max_records)
    )
