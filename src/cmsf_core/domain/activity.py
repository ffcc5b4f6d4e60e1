"""Email tracking records: the six activity types and the stored :class:`Activity`.

Campaign Monitor gives its tracking events no id, so an activity's identity is derived
(see :class:`ActivityKey`): two identical clicks in one minute are two records, and
reading the same minute again yields the same keys, which makes an import idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cached_property
from typing import NamedTuple

import attrs

from cmsf_core.domain.checks import check_count, require_text
from cmsf_core.domain.choices import Choice, read_as, spellings
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.timeutil import UNIX_EPOCH as _EPOCH
from cmsf_core.domain.timeutil import ensure_utc

__all__ = ["Activity", "ActivityKey", "ActivityType", "number_occurrences"]


class ActivityType(Choice):
    """The kinds of email tracking record, in the order of Campaign Monitor's streams.

    :meth:`parse` reads a type from its member, its name (``"SPAM_COMPLAINT"``) or its
    label.

    Case and surrounding spaces are ignored; ``"spam"`` is accepted for the spam complaint,
    as Campaign Monitor names that stream.

    >>> ActivityType.parse(" clicked ")
    <ActivityType.CLICKED: 'Clicked'>
    """

    SENT = "Sent"
    OPENED = "Opened"
    CLICKED = "Clicked"
    BOUNCED = "Bounced"
    UNSUBSCRIBED = "Unsubscribed"
    SPAM_COMPLAINT = "Spam complaint"

    # Members are singletons and equal only to themselves, so the identity hash is sound;
    # it runs in C, where ``Enum.__hash__`` (``hash(self._name_)``) is Python code paid by
    # every dict or set keyed by a type.
    __hash__ = object.__hash__


def _type_key(text: str) -> str:
    return " ".join(text.split()).casefold()


_TYPE_NAMES: dict[str, ActivityType] = spellings(
    ActivityType,
    {t.name.replace("_", " "): t for t in ActivityType},
    key=_type_key,
    names=True,
)
_TYPE_NAMES |= {
    "spam": ActivityType.SPAM_COMPLAINT,
    "marked as spam": ActivityType.SPAM_COMPLAINT,
    "bounce": ActivityType.BOUNCED,
    "open": ActivityType.OPENED,
    "click": ActivityType.CLICKED,
    "unsubscribe": ActivityType.UNSUBSCRIBED,
    "recipient": ActivityType.SENT,
    "recipients": ActivityType.SENT,
}
read_as(
    ActivityType, field="type", expected="an activity type name", table=_TYPE_NAMES, key=_type_key
)


_MINUTE = timedelta(minutes=1)


class ActivityKey(NamedTuple):
    """The stable identity of a tracking record (DESIGN §4).

    ``subject`` is the email's comparison key (trimmed, NFC, lower-cased), or the
    member id when the record carries no email; ``minute`` counts whole minutes since
    the Unix epoch (UTC), the precision Campaign Monitor reports.
    """

    client_id: str
    campaign_id: str
    type: ActivityType
    subject: str
    list_id: str | None
    minute: int
    detail: str | None
    occurrence: int


def _to_type(value: object) -> ActivityType:
    return ActivityType.parse(value)


def _to_utc(value: object) -> datetime:
    return ensure_utc(value, "occurred_at")


@attrs.frozen(cache_hash=True)
class Activity:
    """One stored email tracking record.

    ``occurred_at`` must be timezone-aware and is held in UTC.  ``detail`` is the URL of a
    click or the bounce type ("Soft"/"Hard") of a bounce.  ``occurrence`` numbers identical
    events of the same minute (see :func:`number_occurrences`).

    >>> from datetime import datetime, UTC
    >>> a = Activity("cmp-1", "m-1", ActivityType.OPENED, datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
    >>> a.key.minute == int(a.occurred_at.timestamp()) // 60
    True
    """

    campaign_id: str = attrs.field(validator=require_text("campaign_id"))
    member_id: str = attrs.field(validator=require_text("member_id"))
    type: ActivityType = attrs.field(converter=_to_type)
    occurred_at: datetime = attrs.field(converter=_to_utc)
    client_id: str = attrs.field(
        default="", kw_only=True, validator=require_text("client_id", allow_empty=True)
    )
    email: str | None = attrs.field(
        default=None, kw_only=True, validator=require_text("email", optional=True)
    )
    list_id: str | None = attrs.field(
        default=None, kw_only=True, validator=require_text("list_id", optional=True)
    )
    detail: str | None = attrs.field(
        default=None, kw_only=True, validator=require_text("detail", optional=True)
    )
    occurrence: int = attrs.field(default=0, kw_only=True, validator=check_count)

    @staticmethod
    def _trusted(
        campaign_id: str,
        member_id: str,
        type: ActivityType,
        occurred_at: datetime,
        client_id: str = "",
        email: str | None = None,
        list_id: str | None = None,
        detail: str | None = None,
        occurrence: int = 0,
    ) -> Activity:
        """Internal: the record built from values its caller has already checked.

        No validator or converter runs: ``type`` must be an :class:`ActivityType` member,
        ``occurred_at`` a stdlib datetime whose ``tzinfo`` is ``UTC``, the ids non-empty
        text (``client_id`` may be ``""``), the optional fields ``None`` or non-empty
        text, ``occurrence`` an ``int >= 0``.  For those values the result equals (and
        hashes, prints, pickles and evolves like) ``Activity(...)`` of the same values.
        Anything else must use the public, validated constructor.
        """
        self = _new(Activity)
        _campaign_id(self, campaign_id)
        _member_id(self, member_id)
        _type(self, type)
        _occurred_at(self, occurred_at)
        _client_id(self, client_id)
        _email(self, email)
        _list_id(self, list_id)
        _detail(self, detail)
        _occurrence(self, occurrence)
        _cached_hash(self, None)
        return self

    @cached_property
    def key(self) -> ActivityKey:
        """The record's stable identity: equal keys are the same platform event.

        Computed on first use and kept (the record is immutable); the kept key takes no
        part in equality, hashing or the repr.
        """
        email = self.email
        # What ActivityKey(...) does, without its Python-level __new__.
        return _tuple_new(
            ActivityKey,
            (
                self.client_id,
                self.campaign_id,
                self.type,
                email_key(email) if email is not None else self.member_id,
                self.list_id,
                (self.occurred_at - _EPOCH) // _MINUTE,
                self.detail,
                self.occurrence,
            ),
        )


_new = object.__new__
_tuple_new = tuple.__new__
# The slots' own setters (what the attrs ``__init__`` calls once its checks have passed).
(
    _campaign_id,
    _member_id,
    _type,
    _occurred_at,
    _client_id,
    _email,
    _list_id,
    _detail,
    _occurrence,
    _cached_hash,
) = (vars(Activity)[name].__set__ for name in (*attrs.fields_dict(Activity), "_attrs_cached_hash"))


#: Fill the record's kept key (the slot ``key`` computes into on first use).
_keep_key = vars(Activity)["key"].__set__


def _numbered(
    client_id: str,
    campaign_id: str,
    rows: Iterable[tuple[str, ActivityType, datetime, str | None, str | None]],
) -> tuple[Activity, ...]:
    """Internal: the records of a campaign's events, numbered as :func:`number_occurrences`
    numbers them, each with its key already kept.

    A row is ``(address key, type, instant, list id, detail)`` of an event whose values are
    checked (the address is its comparison key, so it is the record's member id, email and
    key subject at once).  The first record goes through the validated constructor, which
    checks the two ids; the others are built trusted.
    """
    seen: dict[tuple[object, ...], int] = {}
    minutes: dict[datetime, int] = {}
    numbered = []
    build: Callable[..., Activity] = Activity
    for email, activity_type, at, list_id, detail in rows:
        minute = minutes.get(at)
        if minute is None:
            minute = minutes[at] = (at - _EPOCH) // _MINUTE
        base = (client_id, campaign_id, activity_type, email, list_id, minute, detail)
        n = seen.get(base, 0)
        seen[base] = n + 1
        record = build(
            campaign_id,
            email,
            activity_type,
            at,
            client_id=client_id,
            email=email,
            list_id=list_id,
            detail=detail,
            occurrence=n,
        )
        _keep_key(record, _tuple_new(ActivityKey, (*base, n)))
        numbered.append(record)
        build = Activity._trusted
    return tuple(numbered)


def number_occurrences(activities: Iterable[Activity]) -> tuple[Activity, ...]:
    """Number identical events of the same minute 0, 1, 2, ... in the order given.

    Campaign Monitor reports two identical clicks in one minute as two rows with nothing
    to tell them apart.  Numbering them in read order gives each its own key, and reading
    the same minute again gives the same keys.  Incoming ``occurrence`` values are replaced.
    """
    seen: dict[tuple[object, ...], int] = {}
    numbered = []
    for activity in activities:
        base = activity.key[:-1]  # every field of the key but the occurrence, its last
        n = seen.get(base, 0)
        seen[base] = n + 1
        numbered.append(activity if activity.occurrence == n else _renumbered(activity, n))
    return tuple(numbered)


def _renumbered(activity: Activity, occurrence: int) -> Activity:
    """``attrs.evolve(activity, occurrence=occurrence)`` of a record already checked."""
    return Activity._trusted(
        activity.campaign_id,
        activity.member_id,
        activity.type,
        activity.occurred_at,
        client_id=activity.client_id,
        email=activity.email,
        list_id=activity.list_id,
        detail=activity.detail,
        occurrence=occurrence,
    )
