"""The sync's conversion of events into records, against its statement.

``event_records`` numbers identical events of one minute and keeps each record's key as it
builds it.  For any events (repeated addresses in several spellings, identical events in one
minute, seconds within a minute), its records equal the straightforward statement: each
event through the validated constructor, then :func:`number_occurrences`; and every kept key
equals the key computed afresh from the record's fields.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.activity import Activity, ActivityType, number_occurrences
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.planner import event_records
from cmsf_core.domain.records.platform import TrackingEvent

_BASE = datetime(2024, 3, 31, 0, 58, tzinfo=UTC)
_ADDRESSES = ("jane@example.com", " Jane@Example.COM", "jos\u00e9@example.com", "b@x.org ")
_EVENTS = st.builds(
    TrackingEvent,
    st.sampled_from(tuple(ActivityType)),
    st.sampled_from(_ADDRESSES),
    st.integers(min_value=0, max_value=240).map(lambda s: _BASE + timedelta(seconds=s)),
    list_id=st.none() | st.sampled_from(("list-1", "list-2")),
    detail=st.none() | st.sampled_from(("https://example.com/a", "Hard")),
)


def _stated(client_id: str, campaign_id: str, events: list[TrackingEvent]) -> tuple[Activity, ...]:
    records = []
    for event in events:
        email = normalise_email(event.email, "event.email")
        records.append(
            Activity(
                campaign_id,
                email,
                event.type,
                event.occurred_at,
                client_id=client_id,
                email=email,
                list_id=event.list_id,
                detail=event.detail,
            )
        )
    return number_occurrences(records)


@given(st.lists(_EVENTS, max_size=40), st.sampled_from(("", "client-1")))
def test_event_records_are_their_statement_with_their_keys_kept(
    events: list[TrackingEvent], client_id: str
) -> None:
    found = event_records(client_id, "cmp-1", events)
    assert found == _stated(client_id, "cmp-1", events)
    for record in found:
        assert record.key == attrs.evolve(record).key  # a fresh record computes its own
    assert len({record.key for record in found}) == len(found)
