"""Whole stores through the columnar path: which engine a command takes, and the members
a diagnosis flags, found over polars frames.

``simulate`` and ``diagnose`` take an ``engine``: ``"rules"`` goes member by member
through the pure rules (:func:`~cmsf_core.domain.diagnose.diagnose`); ``"columnar"``
reads the store's records into a polars frame and finds the members whose status or
counters disagree with their records in a few vectorised passes, then explains only
those members with the pure rule, so that the findings are the rule's own words;
``"auto"`` (the default) takes the columnar path when polars is installed and the store
holds at least :data:`COLUMNAR_THRESHOLD` records.  Both engines give the same result: a
test runs them on the same stores and compares.

    >>> use_columnar("rules", records=10**7)
    False
    >>> use_columnar("auto", records=10)
    False
"""

from __future__ import annotations

import importlib.util
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from cmsf_core.app.columnar import (
    _CODE,
    _TYPE_VALUES,
    _US,
    COUNT_COLUMNS,
    ID_COLUMNS,
    _candidate_key,
    _collect,
    _decoded,
    member_records_frame,
)
from cmsf_core.domain.activity import Activity
from cmsf_core.domain.diagnose import Finding, diagnose
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.records.members import MemberRecord
from cmsf_core.domain.settings import RefreshMode, Settings
from cmsf_core.domain.timeutil import UNIX_EPOCH as _EPOCH
from cmsf_core.domain.timeutil import ensure_utc

if TYPE_CHECKING:
    import polars as pl

    from cmsf_core.domain.records.campaigns import CrmCampaign
    from cmsf_core.domain.records.members import MemberRef

__all__ = [
    "COLUMNAR_THRESHOLD",
    "ENGINES",
    "Flagged",
    "StoreFrames",
    "WholeStore",
    "diagnose_store",
    "status_without_activity",
    "store_frames",
    "use_columnar",
]

#: ``engine="auto"`` takes the columnar path from this many stored records on.
COLUMNAR_THRESHOLD = 50_000
#: The engines ``simulate`` and ``diagnose`` accept.
ENGINES = ("auto", "rules", "columnar")

#: Each member with findings, and its findings.
Flagged = list[tuple[MemberRecord, tuple[Finding, ...]]]


class WholeStore(Protocol):
    """What a diagnosis reads of a store (:class:`~cmsf_core.adapters.sqlite.SqliteCrm`
    and :class:`~cmsf_core.adapters.memory.InMemoryCrm` have it)."""

    def record_count(self) -> int:
        """How many tracking records are stored."""

    def all_records(self) -> Sequence[Activity]:
        """Every stored tracking record."""

    def all_members(self) -> Sequence[MemberRecord]:
        """Every campaign member."""

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        """The CRM campaigns by id."""

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        """The records stored for each of ``refs`` that has any."""


_COUNTS = tuple(f"_n{code}" for code in range(len(COUNT_COLUMNS)))


def _has_polars() -> bool:
    return importlib.util.find_spec("polars") is not None


def use_columnar(engine: str, *, records: int) -> bool:
    """Whether ``engine`` takes the columnar path for a store of ``records`` records.

    ``"columnar"`` without polars installed is refused, naming the extra to install;
    ``"auto"`` then takes the pure rules without a word.
    """
    if engine not in ENGINES:
        raise InvalidValueError("engine", "one of " + ", ".join(map(repr, ENGINES)), engine)
    if engine == "rules":
        return False
    if engine == "columnar":
        if not _has_polars():
            raise RuntimeError("engine='columnar' needs polars: pip install 'cmsf_core[polars]'")
        return True
    return records >= COLUMNAR_THRESHOLD and _has_polars()


# ----------------------------------------------------------------------------- frames


_SCHEMA = ("campaign_id", "member_id", "_code", "_at")


def _values_frame(records: Sequence[Activity]) -> pl.DataFrame:
    """The ids, type codes and instants (µs) of record values, column by column."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    code, epoch, us = _CODE, _EPOCH, _US
    return pl.DataFrame(
        {
            "campaign_id": pl.Series([a.campaign_id for a in records], dtype=pl.String),
            "member_id": pl.Series([a.member_id for a in records], dtype=pl.String),
            "_code": pl.Series([code[a.type] for a in records], dtype=pl.Int8),
            "_at": pl.Series([(a.occurred_at - epoch) // us for a in records], dtype=pl.Int64),
        }
    )


def _records_of(crm: WholeStore) -> pl.DataFrame | None:
    """Every stored record's ids, type code (``_code``) and instant in µs (``_at``): read
    as columns from a SQLite store, else from the records the store holds; ``None`` when
    a SQLite row needs the reader's closer look (the rules path then names what is
    wrong)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    from cmsf_core.adapters.sqlite import SqliteCrm  # noqa: PLC0415 - only for this check

    if not isinstance(crm, SqliteCrm):
        return _values_frame(crm.all_records())
    from cmsf_core.adapters.sqlite.frames import record_rows  # noqa: PLC0415

    rows = record_rows(crm)
    if rows is None:
        return None
    schema = dict(zip(_SCHEMA, (pl.String, pl.String, pl.Int8, pl.Int64), strict=True))
    return pl.DataFrame(rows, schema=schema, orient="row")


def _members_frame(
    members: Sequence[MemberRecord], defaults: Mapping[str, str | None]
) -> pl.DataFrame:
    """The members' ids, status, activity code, date (µs), counters and their campaign's
    default status, in the given order."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    values = [r.member for r in members]
    codes = [None if m.activity is None else _CODE[m.activity] for m in values]
    dates = [None if m.activity_date is None else (m.activity_date - _EPOCH) // _US for m in values]
    counters = [m.engagement for m in values]
    return pl.DataFrame(
        {
            "campaign_id": pl.Series([m.campaign_id for m in values], dtype=pl.String),
            "member_id": pl.Series([m.member_id for m in values], dtype=pl.String),
            "status": pl.Series([m.status for m in values], dtype=pl.String),
            "_activity": pl.Series(codes, dtype=pl.Int8),
            "_date": pl.Series(dates, dtype=pl.Int64),
            **{
                name: pl.Series([getattr(e, name) for e in counters], dtype=pl.Int64)
                for name in COUNT_COLUMNS
            },
            "_default": pl.Series(
                [defaults.get(r.crm_campaign_id) for r in members], dtype=pl.String
            ),
        }
    )


@attrs.frozen
class StoreFrames:
    """A whole store as the columnar path's frames (see :mod:`cmsf_core.app.columnar`)."""

    records: Any
    """One row per stored record: ``campaign_id``, ``member_id``, ``type`` (``Enum`` of
    labels) and ``occurred_at`` (``Datetime('us', 'UTC')``)."""
    members: Any
    """One row per campaign member (by CRM campaign, then email): the columns of
    :func:`~cmsf_core.app.columnar.members_frame`, then ``crm_campaign_id``, ``email`` and
    ``person_id`` (carried through :func:`~cmsf_core.app.columnar.refresh`)."""


def store_frames(crm: WholeStore) -> StoreFrames:
    """Every record and every member of ``crm`` as frames, ready for
    :func:`~cmsf_core.app.columnar.recompute` and friends.

    A SQLite store's records are read from its columns, without building a record value
    each; a row the store's reader would look at closely is read the usual way (which
    names what is wrong).
    """
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    frame = _records_of(crm)
    if frame is None:
        frame = _values_frame(crm.all_records())
    types = pl.lit(pl.Series(_TYPE_VALUES, dtype=pl.Enum(_TYPE_VALUES)))
    records = frame.select(
        "campaign_id",
        "member_id",
        types.gather(pl.col("_code")).alias("type"),
        pl.col("_at").cast(pl.Datetime("us", "UTC")).alias("occurred_at"),
    )
    members = sorted(crm.all_members(), key=lambda m: (m.crm_campaign_id, m.email))
    return StoreFrames(records, member_records_frame(members))


# ----------------------------------------------------------------------------- findings


def _flags(members: pl.DataFrame, records: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Per member, in order: ``without`` (the rule would find its status without a record
    behind it) and ``flagged`` (the rule would find anything)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    mapping = settings.status_mapping
    behind_too = settings.refresh_mode is not RefreshMode.ALWAYS
    aggregates = [
        (pl.col("_code") == code).sum().cast(pl.Int64).alias(name)
        for code, name in enumerate(_COUNTS)
    ]
    rows = records.lazy()
    if behind_too:
        rows = rows.with_columns(_candidate_key(settings))
        aggregates.append(pl.col("_key").max())
    grouped = rows.group_by(ID_COLUMNS).agg(aggregates)
    joined = (
        members.lazy()
        .join(grouped, on=ID_COLUMNS, how="left", maintain_order="left")
        .with_columns(pl.col(c).fill_null(0) for c in _COUNTS)
    )
    status, activity = pl.col("status"), pl.col("_activity")
    out_of_date = pl.any_horizontal(
        pl.col(n) != pl.col(c) for n, c in zip(_COUNTS, COUNT_COLUMNS, strict=True)
    )
    present = pl.sum_horizontal(
        (pl.col(n) > 0).cast(pl.Int32) * (1 << code) for code, n in enumerate(_COUNTS)
    )
    labels = {_CODE[t]: label for t, label in mapping.labels.items()}
    label_of_activity = activity.replace_strict(labels, default=None, return_dtype=pl.String)
    masks = {
        label: sum(1 << _CODE[t] for t in mapping.types_for(label))
        for label in {label for label in labels.values() if label is not None}
    }
    implied = (
        pl.when(activity.is_not_null() & label_of_activity.eq_missing(status))
        .then(activity.replace_strict({c: 1 << c for c in labels}, return_dtype=pl.Int32))
        .otherwise(status.replace_strict(masks, default=0, return_dtype=pl.Int32).fill_null(0))
    )
    is_default = activity.is_null() & status.eq_missing(pl.col("_default"))
    without = (implied != 0) & ((implied & present) == 0) & ~is_default
    flagged = out_of_date | without
    if behind_too:
        code, at = _decoded(settings)
        label = code.replace_strict(labels, default=None, return_dtype=pl.String)
        behind = (
            pl.col("_date").is_not_null()
            & pl.col("_key").is_not_null()
            & (at > pl.col("_date"))
            & label.ne_missing(status)
        )
        flagged = flagged | behind.fill_null(False)
    return _collect(joined.select(without.alias("without"), flagged.alias("flagged")))


def _check(settings: object, as_of: object) -> tuple[Settings, datetime]:
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    return settings, ensure_utc(as_of, "as_of")


def status_without_activity(
    crm: WholeStore, members: Sequence[MemberRecord], settings: Settings
) -> list[bool] | None:
    """For each of ``members`` (of ``crm``), whether its status implies an activity of
    which no record is stored (the rule's ``STATUS_WITHOUT_ACTIVITY``), found over
    frames; ``None`` when the store's rows need the rules path."""
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    records = _records_of(crm)
    if records is None:
        return None
    defaults = {key: c.default_status for key, c in crm.campaigns().items()}
    flags = _flags(_members_frame(members, defaults), records, settings)
    return flags["without"].to_list()


def _by_rules(
    crm: WholeStore, members: Sequence[MemberRecord], settings: Settings, as_of: datetime
) -> Flagged:
    campaigns = crm.campaigns()
    flagged: Flagged = []
    for record in members:
        stored = crm.records_for([record.ref]).get(record.ref, ())
        campaign = campaigns.get(record.crm_campaign_id)
        default = campaign.default_status if campaign is not None else None
        found = diagnose(record.member, stored, settings, as_of=as_of, default_status=default)
        if found:
            flagged.append((record, found))
    return flagged


def diagnose_store(
    crm: WholeStore,
    settings: Settings,
    *,
    as_of: datetime,
    engine: str = "auto",
    members: Sequence[MemberRecord] | None = None,
) -> Flagged:
    """Every member of ``crm`` whose status or counters disagree with its stored records,
    with the findings of :func:`~cmsf_core.domain.diagnose.diagnose`, by CRM campaign
    then email (what ``cmsf diagnose`` prints).

    ``engine`` (``"auto"``, ``"rules"`` or ``"columnar"``, see the module) chooses how the
    members to explain are found; the result is the same.  ``members``: every member of
    the store, when the caller has read them already (read here otherwise).
    """
    settings, as_of = _check(settings, as_of)
    columnar = use_columnar(engine, records=crm.record_count())
    everyone = crm.all_members() if members is None else members
    members = sorted(everyone, key=lambda m: (m.crm_campaign_id, m.email))
    records = _records_of(crm) if columnar and members else None
    if records is None:
        return _by_rules(crm, members, settings, as_of)
    campaigns = crm.campaigns()
    defaults = {key: c.default_status for key, c in campaigns.items()}
    flags = _flags(_members_frame(members, defaults), records, settings)
    chosen = [members[i] for i in flags["flagged"].arg_true().to_list()]
    stored = crm.records_for([m.ref for m in chosen])
    flagged: Flagged = []
    for record in chosen:
        campaign = campaigns.get(record.crm_campaign_id)
        default = campaign.default_status if campaign is not None else None
        found = diagnose(
            record.member, stored.get(record.ref, ()), settings, as_of=as_of, default_status=default
        )
        if found:
            flagged.append((record, found))
    return flagged
