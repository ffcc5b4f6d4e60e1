"""The tracking records of :class:`~cmsf_core.adapters.memory.InMemoryCrm`, held as compact
rows: :class:`RecordTable`.

Each distinct string (client, campaign, member, email, list, detail) is held once and
named by an int.  The records of one member (platform campaign and member id) are one
``bytes`` value of fixed-size rows of eight int32, in insertion order::

    minute (since the Unix epoch), type code, client, list, detail, occurrence,
    microseconds within the minute, email          (strings by number, 0 for None)

so that a record costs 32 bytes plus its share of its member's entry, and the store holds
no object the garbage collector tracks per record (ints, ``bytes`` and dicts of them are
untracked).  The first six fields are the record's key within its member: a key is found
by searching the member's bytes for those 24 bytes at a row boundary.
:class:`~cmsf_core.domain.activity.Activity` values are built only when a read asks for
them, with the trusted constructor: their values were checked on the way in; the instant
is rebuilt exactly (to the microsecond).

Expiry needs no per-record entry either: per type and UTC day, an append-only ``array`` of
the members that got a record of that type that day.  Listing expired records reads the
days before the cutoff only, then keeps of each fully expired day just the members still
holding such a record, so the work follows what expired (plus the cutoff's own day).

A record the rows cannot hold exactly (its key's subject is not its member id, its
occurrence does not fit 31 bits, its instant has ``fold=1`` or is after the year 6053) is
kept as it is, by campaign, beside the rows; the sync never makes one.
"""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_right, insort
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.timeutil import UNIX_EPOCH as _EPOCH

__all__ = ["RecordTable"]

_ROW = struct.Struct("=8i")
_WIDTH = _ROW.size
_KEY = struct.Struct("=6i")  # the first six fields of a row
_MICROSECOND = timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000
_US_PER_SECOND = 1_000_000
_MINUTES_PER_DAY = 1440
_MIN_INT32 = -(2**31)
_MAX_INT32 = 2**31 - 1
_TYPES = tuple(ActivityType)
_TYPE_CODE = {t: i for i, t in enumerate(_TYPES)}
_PAIR_SHIFT = 32
#: The expiry index is rebuilt once it holds this many entries more than twice the records.
_REINDEX_SLACK = 4096
_LOW = (1 << _PAIR_SHIFT) - 1
_trusted = Activity._trusted
_unpack_row = _ROW.unpack_from
_pack_key = _KEY.pack
_iter_rows = _ROW.iter_unpack

Row = tuple[int, int, int, int, int, int, int, int]


def _row_offset(rows: bytes, key: bytes) -> int:
    """The byte offset of the row of ``rows`` that starts with ``key``, or -1."""
    offset = rows.find(key)
    while offset > 0 and offset % _WIDTH:
        offset = rows.find(key, offset + 1)
    return offset


class RecordTable:
    """Tracking records as compact rows, indexed by member, campaign, client and expiry.

    The caller checks the records (they are :class:`Activity` values) and decides what
    to write; the table stores, finds and deletes them.  Reads build equal
    :class:`Activity` values (strings come back as plain ``str``).
    """

    __slots__ = (
        "_client_campaigns",
        "_count",
        "_day_order",
        "_days",
        "_ids",
        "_odd",
        "_pairs",
        "_rows",
        "_strings",
    )

    def __init__(self) -> None:
        #: string number -> string; number 0 is None (typed Any: read as str or None).
        self._strings: list[Any] = [None]
        self._ids: dict[str, int] = {}
        #: campaign number -> member number -> that member's rows, in insertion order.
        self._rows: dict[int, dict[int, bytes]] = {}
        #: client number -> campaign numbers that got a row of that client.
        self._client_campaigns: dict[int, set[int]] = {}
        #: per type code: UTC day -> packed (campaign << 32 | member) of rows that day.
        self._days: tuple[dict[int, array[int]], ...] = tuple({} for _ in _TYPES)
        #: per type code: the days of ``_days``, sorted.
        self._day_order: tuple[list[int], ...] = tuple([] for _ in _TYPES)
        self._pairs = 0
        self._count = 0
        #: campaign id -> records the rows cannot hold exactly, by key.
        self._odd: dict[str, dict[ActivityKey, Activity]] = {}

    # -- strings ---------------------------------------------------------------------

    def _intern(self, text: str) -> int:
        number = self._ids.get(text)
        if number is None:
            number = len(self._strings)
            plain = str.__str__(text)  # a str subclass is held as the plain str it equals
            self._strings.append(plain)
            self._ids[plain] = number
        return number

    # -- size ------------------------------------------------------------------------

    def __len__(self) -> int:
        """How many records are stored."""
        return self._count

    # -- building values at the edge ---------------------------------------------------

    def _activity(self, campaign_id: str, member_id: str, row: Row) -> Activity:
        minute, type_code, client, list_id, detail, occurrence, micro, email = row
        strings = self._strings
        return _trusted(
            campaign_id,
            member_id,
            _TYPES[type_code],
            _EPOCH + timedelta(0, minute * 60, micro),
            strings[client],
            strings[email],
            strings[list_id],
            strings[detail],
            occurrence,
        )

    def _member_records(self, campaign: int, member: int, rows: bytes) -> Iterator[Activity]:
        strings = self._strings
        campaign_id = strings[campaign]
        member_id = strings[member]
        for row in _iter_rows(rows):
            yield self._activity(campaign_id, member_id, row)

    # -- finding a key ---------------------------------------------------------------

    def _locate(self, key: ActivityKey) -> tuple[dict[int, bytes], int, bytes, int] | None:
        """Where ``key``'s row is: its campaign's members, the member number, the
        member's rows and the row's byte offset; None when no row has that key."""
        ids = self._ids
        campaign = ids.get(key.campaign_id)
        member = ids.get(key.subject)
        if campaign is None or member is None:
            return None
        members = self._rows.get(campaign)
        if members is None:
            return None
        rows = members.get(member)
        type_code = _TYPE_CODE.get(key.type)
        client = ids.get(key.client_id)
        list_id = 0 if key.list_id is None else ids.get(key.list_id)
        detail = 0 if key.detail is None else ids.get(key.detail)
        if rows is None or None in (type_code, client, list_id, detail):
            return None
        try:
            wanted = _pack_key(key.minute, type_code, client, list_id, detail, key.occurrence)
        except struct.error:  # a minute or occurrence no row can hold
            return None
        offset = _row_offset(rows, wanted)
        return None if offset < 0 else (members, member, rows, offset)

    def _odd_record(self, key: ActivityKey) -> Activity | None:
        held = self._odd.get(key.campaign_id)
        return None if held is None else held.get(key)

    def holds(self, key: ActivityKey) -> bool:
        """Whether a record with this key is stored."""
        if self._odd and self._odd_record(key) is not None:
            return True
        return self._locate(key) is not None

    def get(self, key: ActivityKey) -> Activity | None:
        """The stored record with this key, if any."""
        odd = self._odd_record(key) if self._odd else None
        if odd is not None:
            return odd
        found = self._locate(key)
        if found is None:
            return None
        _members, member, rows, offset = found
        strings = self._strings
        member_id = strings[member]
        return self._activity(key.campaign_id, member_id, _unpack_row(rows, offset))

    # -- writes ------------------------------------------------------------------------

    def insert(self, record: Activity) -> None:
        """Store ``record``; the caller has made sure its key is not stored."""
        key = record.key
        at = record.occurred_at
        occurrence = record.occurrence
        minute = key.minute
        if (
            key.subject != record.member_id
            or at.fold
            or occurrence > _MAX_INT32
            or not _MIN_INT32 <= minute <= _MAX_INT32
        ):
            self._odd.setdefault(record.campaign_id, {})[key] = record
            self._count += 1
            return
        intern = self._intern
        campaign = intern(record.campaign_id)
        member = intern(record.member_id)
        client = intern(record.client_id)
        email = 0 if record.email is None else intern(record.email)
        list_id = 0 if record.list_id is None else intern(record.list_id)
        detail = 0 if record.detail is None else intern(record.detail)
        micro = at.second * _US_PER_SECOND + at.microsecond
        type_code = _TYPE_CODE[record.type]
        row = _ROW.pack(minute, type_code, client, list_id, detail, occurrence, micro, email)

        members = self._rows.get(campaign)
        if members is None:
            members = self._rows[campaign] = {}
        rows = members.get(member)
        members[member] = row if rows is None else rows + row
        campaigns = self._client_campaigns.get(client)
        if campaigns is None:
            campaigns = self._client_campaigns[client] = set()
        campaigns.add(campaign)
        self._count += 1
        self._index_day(type_code, minute // _MINUTES_PER_DAY, campaign << _PAIR_SHIFT | member)
        if self._pairs > 2 * self._count + _REINDEX_SLACK:
            self._reindex_days()

    def _index_day(self, type_code: int, day: int, pair: int) -> None:
        days = self._days[type_code]
        pairs = days.get(day)
        if pairs is None:
            pairs = days[day] = array("q")
            insort(self._day_order[type_code], day)
        elif pairs[-1] == pair:
            return
        pairs.append(pair)
        self._pairs += 1

    def _reindex_days(self) -> None:
        """Rebuild the expiry index from the rows (drops entries of deleted records)."""
        for days in self._days:
            days.clear()
        for order in self._day_order:
            order.clear()
        self._pairs = 0
        for campaign, members in self._rows.items():
            for member, rows in members.items():
                pair = campaign << _PAIR_SHIFT | member
                for minute, type_code, *_rest in _iter_rows(rows):
                    self._index_day(type_code, minute // _MINUTES_PER_DAY, pair)

    def delete(self, key: ActivityKey) -> bool:
        """Remove the record with this key; whether there was one."""
        if self._odd:
            held = self._odd.get(key.campaign_id)
            if held is not None and held.pop(key, None) is not None:
                if not held:
                    del self._odd[key.campaign_id]
                self._count -= 1
                return True
        found = self._locate(key)
        if found is None:
            return False
        members, member, rows, offset = found
        rest = rows[:offset] + rows[offset + _WIDTH :]
        if rest:
            members[member] = rest
        else:
            del members[member]
            if not members:
                campaign = self._ids[key.campaign_id]
                del self._rows[campaign]
        self._count -= 1
        # The expiry index keeps its entry: it is dropped when its day expires or at the
        # next reindex.
        return True

    # -- reads ---------------------------------------------------------------------------

    def of_member(self, campaign_id: str, member_id: str) -> tuple[Activity, ...]:
        """The records of one member (platform campaign and member id), oldest first."""
        ids = self._ids
        campaign = ids.get(campaign_id)
        member = ids.get(member_id)
        found: tuple[Activity, ...] = ()
        if campaign is not None and member is not None:
            members = self._rows.get(campaign)
            rows = None if members is None else members.get(member)
            if rows is not None:
                found = tuple(self._member_records(campaign, member, rows))
        if self._odd:
            held = self._odd.get(campaign_id)
            if held:
                found += tuple(r for r in held.values() if r.member_id == member_id)
        return found

    def of_campaigns(self, campaign_ids: Iterable[str]) -> Iterator[Activity]:
        """The records of these platform campaigns (each named once), member by member."""
        for campaign_id in dict.fromkeys(campaign_ids):
            campaign = self._ids.get(campaign_id)
            members = None if campaign is None else self._rows.get(campaign)
            if campaign is not None and members:
                for member, rows in list(members.items()):
                    yield from self._member_records(campaign, member, rows)
            if self._odd:
                yield from list(self._odd.get(campaign_id, {}).values())

    def of_clients(self, client_ids: Iterable[str]) -> Iterator[Activity]:
        """The records of these clients."""
        for client_id in client_ids:
            client = self._ids.get(client_id)
            campaigns = () if client is None else self._client_campaigns.get(client, ())
            for campaign in list(campaigns):
                members = self._rows.get(campaign)
                if not members:
                    continue
                campaign_id = self._strings[campaign]
                for member, rows in list(members.items()):
                    member_id = self._strings[member]
                    for row in _iter_rows(rows):
                        if row[2] == client:
                            yield self._activity(campaign_id, member_id, row)
            if self._odd:
                yield from [
                    r
                    for held in self._odd.values()
                    for r in held.values()
                    if r.client_id == client_id
                ]

    def __iter__(self) -> Iterator[Activity]:
        """Every stored record."""
        for campaign, members in list(self._rows.items()):
            for member, rows in list(members.items()):
                yield from self._member_records(campaign, member, rows)
        for held in list(self._odd.values()):
            yield from list(held.values())

    def expired(self, cutoffs: Mapping[ActivityType, datetime]) -> list[Activity]:
        """The records that occurred before their type's cutoff (a type absent from
        ``cutoffs`` never expires); each listed once."""
        found: list[Activity] = []
        for activity_type, cutoff in cutoffs.items():
            type_code = _TYPE_CODE[activity_type]
            found.extend(self._expired_of_type(type_code, cutoff))
            if self._odd:
                found.extend(
                    r
                    for held in self._odd.values()
                    for r in held.values()
                    if r.type is _TYPES[type_code] and r.occurred_at < cutoff
                )
        return found

    def _expired_of_type(self, type_code: int, cutoff: datetime) -> list[Activity]:
        # The cutoff as (minute, microseconds within it): a row is expired when its pair
        # is smaller.
        whole = (cutoff - _EPOCH) // _MICROSECOND
        cut = divmod(whole, _US_PER_MINUTE)
        cut_day = cut[0] // _MINUTES_PER_DAY
        days = self._days[type_code]
        order = self._day_order[type_code]
        due = order[: bisect_right(order, cut_day)]
        found: list[Activity] = []
        scanned: set[int] = set()
        #: day -> members with an expired record of this type that day.
        still: dict[int, dict[int, None]] = {}
        strings = self._strings
        for day in due:
            for pair in days[day]:
                if pair in scanned:
                    continue
                scanned.add(pair)
                campaign, member = pair >> _PAIR_SHIFT, pair & _LOW
                members = self._rows.get(campaign)
                rows = None if members is None else members.get(member)
                if rows is None:
                    continue
                campaign_id, member_id = strings[campaign], strings[member]
                for row in _iter_rows(rows):
                    if row[1] == type_code and (row[0], row[6]) < cut:
                        found.append(self._activity(campaign_id, member_id, row))
                        still.setdefault(row[0] // _MINUTES_PER_DAY, {})[pair] = None
        for day in due:
            if day == cut_day:
                continue  # the cutoff's own day: its later records stay listed
            kept = still.get(day)
            self._pairs -= len(days[day])
            if kept:
                days[day] = array("q", kept)
                self._pairs += len(kept)
            else:
                del days[day]
                order.remove(day)
        return found
