"""The internal trusted constructor of :class:`TrackingEvent`.

For any valid field values, ``TrackingEvent._trusted`` builds an event indistinguishable
from the validated constructor's: equal, same hash, repr, pickle and ``attrs.evolve``.
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.records.platform import TrackingEvent

_TEXT = st.text(min_size=1, max_size=12).filter(str.strip)
_OPTIONAL = st.none() | _TEXT
_FIELDS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(tuple(ActivityType)),
        "email": _TEXT,
        "occurred_at": st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
        ),
        "list_id": _OPTIONAL,
        "detail": _OPTIONAL,
    }
)


@given(_FIELDS)
def test_trusted_and_validated_events_are_indistinguishable(fields: dict[str, Any]) -> None:
    validated = TrackingEvent(
        fields["type"],
        fields["email"],
        fields["occurred_at"],
        list_id=fields["list_id"],
        detail=fields["detail"],
    )
    trusted = TrackingEvent._trusted(
        fields["type"], fields["email"], fields["occurred_at"], fields["list_id"], fields["detail"]
    )
    assert type(trusted) is TrackingEvent
    assert trusted == validated
    assert hash(trusted) == hash(validated)
    assert repr(trusted) == repr(validated)
    assert attrs.astuple(trusted) == attrs.astuple(validated)
    assert pickle.loads(pickle.dumps(trusted)) == validated
    assert attrs.evolve(trusted, detail="x") == attrs.evolve(validated, detail="x")
    for name in attrs.fields_dict(TrackingEvent):
        assert getattr(trusted, name) is getattr(validated, name)
