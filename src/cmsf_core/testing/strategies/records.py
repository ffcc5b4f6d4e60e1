"""Strategies for tracking records: activity types, one record, and every record stored
for a member (shared instants, same-minute twins).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs
from hypothesis import strategies as st

from cmsf_core.domain.activity import Activity, ActivityType, number_occurrences
from cmsf_core.domain.status import RefreshCause
from cmsf_core.testing.strategies.instants import activity_times

#: The campaign every generated record and member belongs to (by default).
CAMPAIGN_ID = "cmp-1"
#: The member every generated record belongs to (by default).
MEMBER_ID = "m-1"

#: Spellings of two addresses: the platform reports an address as it was typed.
EMAILS = ("ann@example.com", "Ann@Example.com", "bob@example.com", "carol@example.org")

_URLS = ("https://example.com/sale", "https://example.com/unsubscribe-help")
_BOUNCE_TYPES = ("Soft", "Hard")
_LISTS = ("list-1", "list-2")


def activity_types() -> st.SearchStrategy[ActivityType]:
    """One of the six activity types.  Shrinks to ``ActivityType.SENT``."""
    return st.sampled_from(tuple(ActivityType))


def refresh_causes() -> st.SearchStrategy[RefreshCause]:
    """Why a member is refreshed.  Shrinks to ``RefreshCause.IMPORT``."""
    return st.sampled_from(tuple(RefreshCause))


_DETAILS = {ActivityType.CLICKED: _URLS, ActivityType.BOUNCED: _BOUNCE_TYPES}
#: Up to this many instants are shared by the records of one history.
_POOL_SIZE = 3


def _activity_specs() -> st.SearchStrategy[
    tuple[ActivityType, int, str, str | None, str | None, int]
]:
    """What varies between records, with the instant as an index into a pool."""
    return st.tuples(
        activity_types(),
        st.integers(min_value=0, max_value=_POOL_SIZE - 1),
        st.sampled_from(("", "client-1")),
        st.sampled_from((None, *EMAILS[:2])),
        st.sampled_from((None, _LISTS[0])),
        st.integers(min_value=0, max_value=1),
    )


def _build_activity(
    campaign_id: str,
    member_id: str,
    pool: Sequence[datetime],
    spec: tuple[ActivityType, int, str, str | None, str | None, int],
) -> Activity:
    activity_type, at, client_id, email, list_id, detail = spec
    details = _DETAILS.get(activity_type)
    return Activity(
        campaign_id,
        member_id,
        activity_type,
        pool[at % len(pool)],
        client_id=client_id,
        email=email,
        list_id=list_id,
        detail=details[detail] if details else None,
    )


def activities(
    *,
    campaign_id: str = CAMPAIGN_ID,
    member_id: str = MEMBER_ID,
    times: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[Activity]:
    """One tracking record of a member, with a URL for a click and a bounce type for a
    bounce; ``times`` defaults to :func:`activity_times`.

    Shrinks to ``Activity("cmp-1", "m-1", ActivityType.SENT, <2024-01-01 00:00 UTC>)``.
    """
    return st.builds(
        lambda at, spec: _build_activity(campaign_id, member_id, (at,), spec),
        activity_times() if times is None else times,
        _activity_specs(),
    )


def _twin(record: Activity, second: int | None) -> Activity:
    """An identical event of the same minute: at the same second, or at another one."""
    if second is None:
        return record
    return attrs.evolve(record, occurred_at=record.occurred_at.replace(second=second))


def _pool(times: st.SearchStrategy[datetime] | None) -> st.SearchStrategy[list[datetime]]:
    return st.lists(activity_times() if times is None else times, min_size=1, max_size=_POOL_SIZE)


def _record_specs(min_size: int, max_size: int) -> st.SearchStrategy[tuple[list[Any], list[Any]]]:
    """Records as specs, and twins as (index of the record, second or ``None``)."""
    twins = st.tuples(st.integers(min_value=0, max_value=64), st.sampled_from((None, 0, 59)))
    return st.tuples(
        st.lists(_activity_specs(), min_size=min_size, max_size=max_size),
        st.lists(twins, max_size=3),
    )


def _build_records(
    campaign_id: str,
    member_id: str,
    pool: Sequence[datetime],
    specs: tuple[list[Any], list[Any]],
) -> tuple[Activity, ...]:
    records = [_build_activity(campaign_id, member_id, pool, spec) for spec in specs[0]]
    if records:
        records += [_twin(records[index % len(records)], second) for index, second in specs[1]]
    return number_occurrences(records)


def stored_records(
    *,
    campaign_id: str = CAMPAIGN_ID,
    member_id: str = MEMBER_ID,
    min_size: int = 0,
    max_size: int = 8,
    times: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[tuple[Activity, ...]]:
    """Every tracking record stored for one member, as an import stores them: up to three
    instants shared by the records (ties), same-minute twins numbered 0, 1, ... (up to
    three, at the same second or another), distinct keys.  ``times`` defaults to
    :func:`activity_times`.

    Shrinks to ``()`` (with ``min_size``: that many Sent records at 2024-01-01 00:00 UTC,
    numbered 0, 1, ...).
    """
    return st.builds(
        lambda pool, specs: _build_records(campaign_id, member_id, pool, specs),
        _pool(times),
        _record_specs(min_size, max_size),
    )
