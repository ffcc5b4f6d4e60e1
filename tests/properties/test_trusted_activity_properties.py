"""The internal trusted constructor of :class:`Activity` and its kept key.

For any valid field values, ``Activity._trusted`` builds a record indistinguishable from the
validated constructor's: equal, same hash, repr, key, pickle and ``attrs.evolve``.  The key
is computed once per record and equals a freshly built one.
"""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType, number_occurrences
from cmsf_core.domain.emails import email_key

_TEXT = st.text(min_size=1, max_size=12).filter(str.strip)
_OPTIONAL = st.none() | _TEXT
_FIELDS = st.fixed_dictionaries(
    {
        "campaign_id": _TEXT,
        "member_id": _TEXT,
        "type": st.sampled_from(tuple(ActivityType)),
        "occurred_at": st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
        ),
        "client_id": st.just("") | _TEXT,
        "email": _OPTIONAL,
        "list_id": _OPTIONAL,
        "detail": _OPTIONAL,
        "occurrence": st.integers(min_value=0, max_value=2**31),
    }
)


def _both(fields: dict[str, Any]) -> tuple[Activity, Activity]:
    positional = [fields[name] for name in ("campaign_id", "member_id", "type", "occurred_at")]
    keywords = {
        k: v
        for k, v in fields.items()
        if k not in {"campaign_id", "member_id", "type", "occurred_at"}
    }
    return Activity(*positional, **keywords), Activity._trusted(*positional, **keywords)


def _minute(instant: datetime) -> int:
    delta = instant - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) // 60


def _fresh_key(a: Activity) -> ActivityKey:
    return ActivityKey(
        a.client_id,
        a.campaign_id,
        a.type,
        email_key(a.email) if a.email is not None else a.member_id,
        a.list_id,
        _minute(a.occurred_at),
        a.detail,
        a.occurrence,
    )


@given(_FIELDS)
def test_trusted_and_validated_records_are_indistinguishable(fields: dict[str, Any]) -> None:
    validated, trusted = _both(fields)
    assert type(trusted) is Activity
    assert trusted == validated
    assert hash(trusted) == hash(validated)
    assert repr(trusted) == repr(validated)
    assert trusted.key == validated.key
    assert attrs.astuple(trusted) == attrs.astuple(validated)
    assert pickle.loads(pickle.dumps(trusted)) == validated
    assert pickle.loads(pickle.dumps(validated)) == trusted


@given(_FIELDS, st.integers(min_value=0, max_value=5), _OPTIONAL)
def test_evolve_of_either_is_equal(
    fields: dict[str, Any], occurrence: int, detail: str | None
) -> None:
    validated, trusted = _both(fields)
    assert attrs.evolve(trusted) == attrs.evolve(validated) == validated
    a = attrs.evolve(trusted, occurrence=occurrence, detail=detail)
    b = attrs.evolve(validated, occurrence=occurrence, detail=detail)
    assert a == b
    assert hash(a) == hash(b)
    assert a.key == b.key == _fresh_key(b)


@given(_FIELDS)
def test_key_is_computed_once_and_equals_a_fresh_key(fields: dict[str, Any]) -> None:
    validated, trusted = _both(fields)
    for record in (validated, trusted):
        shown = repr(record)
        first = record.key
        assert record.key is first  # kept, not rebuilt
        assert first == _fresh_key(record)
        # The kept key takes no part in equality, hashing or the repr.
        assert repr(record) == shown
    assert validated == trusted
    assert hash(validated) == hash(trusted)


@given(st.lists(_FIELDS, max_size=6))
def test_numbering_gives_the_same_records_as_evolve(rows: list[dict[str, Any]]) -> None:
    records = [_both(fields)[0] for fields in rows]
    records += records  # identical events of one minute
    numbered = number_occurrences(records)
    seen: dict[ActivityKey, int] = {}
    for before, after in zip(records, numbered, strict=True):
        base = before.key._replace(occurrence=0)
        n = seen.get(base, 0)
        seen[base] = n + 1
        assert after == attrs.evolve(before, occurrence=n)
        assert after.key == _fresh_key(after)
