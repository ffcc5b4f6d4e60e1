"""The tracking rules over polars frames: rollups, retention and guarded status, vectorised.

Install the extra (``pip install 'cmsf_core[polars]'``); polars is imported when a
function here is called, never at ``import cmsf_core``.  The pure rules
(:func:`~cmsf_core.domain.status.refresh_member`,
:func:`~cmsf_core.domain.engagement.rollup`,
:func:`~cmsf_core.domain.retention.apply_retention`) stay the specification: a property
test holds every function here to their results on random histories and settings.

**Records frame** (one row per stored tracking record):

==================  =====================================================================
column              dtype
==================  =====================================================================
``campaign_id``     ``String`` (or ``Categorical``/``Enum``, or an integer id)
``member_id``       ``String`` (or ``Categorical``/``Enum``, or an integer id)
``type``            ``Enum``/``String`` of the type's label or name (``"Opened"``,
                    ``"SPAM_COMPLAINT"``, any spelling ``ActivityType.parse`` reads), or
                    an integer code: the position in ``ActivityType`` (Sent 0, Opened 1,
                    Clicked 2, Bounced 3, Unsubscribed 4, Spam complaint 5)
``occurred_at``     ``Datetime`` with a time zone (any unit, any zone: compared as UTC
                    instants, to the microsecond), or an integer count of whole minutes
                    since 1970-01-01 00:00 UTC
other columns       kept as they are (``client_id``, ``email``, ``detail``,
                    ``occurrence``, ...): no rule reads them
==================  =====================================================================

**Members frame** (one row per campaign member): ``campaign_id`` and ``member_id`` (the
same dtypes as the records'), ``status`` (``String``, null when empty), ``activity``
(a type as above, null when empty) and ``activity_date`` (an instant as above, null when
empty; set together with ``activity``).  Counter columns (``sent``, ``opens``, ...) may be
present; they are recomputed.  Other columns are carried through.

A campaign's default status (the fallback of a recompute after a deletion in mode
Always) is passed as ``default_statuses``: one label for every campaign, or a mapping of
campaign id to label.

>>> from datetime import datetime, UTC
>>> from cmsf_core import Activity, ActivityType, CampaignMember, Settings
>>> at = datetime(2024, 5, 1, tzinfo=UTC)
>>> records = records_frame([Activity("cmp-1", "m-1", ActivityType.OPENED, at)])
>>> members = members_frame([CampaignMember("cmp-1", "m-1")])
>>> out = refresh(members, records, Settings())
>>> out["status"].to_list(), out["opens"].to_list()
(['Opened'], [1])
>>> members_from(out)[0].activity
<ActivityType.OPENED: 'Opened'>
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records.members import MemberRecord
from cmsf_core.domain.settings import Settings, StatusPolicy, parse_label
from cmsf_core.domain.status import STATUS_RULES, TIE_RANK, RefreshCause, StatusAction
from cmsf_core.domain.timeutil import UNIX_EPOCH as _EPOCH
from cmsf_core.domain.timeutil import ensure_utc

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "COUNT_COLUMNS",
    "ID_COLUMNS",
    "RetentionFrames",
    "activities_from",
    "apply_retention",
    "member_records_frame",
    "members_frame",
    "members_from",
    "recompute",
    "records_frame",
    "refresh",
    "rollups",
    "to_polars",
]

#: The columns that identify a member, in both frames.
ID_COLUMNS = ("campaign_id", "member_id")
#: The rollup counters, one per activity type, in ``ActivityType`` order.
COUNT_COLUMNS = ("sent", "opens", "clicks", "bounces", "unsubscribes", "spam_complaints")

_TYPES = tuple(ActivityType)
_CODE = {t: i for i, t in enumerate(_TYPES)}
_TYPE_VALUES = [t.value for t in _TYPES]
_US = timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000
#: Instants are shifted by this (datetime.min, in microseconds since the epoch) so that
#: they are >= 0 inside the packed candidate keys below.
_AT_MIN = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _US
#: Bits of a shifted instant (year 1 to 9999 in microseconds needs 59).
_AT_BITS = 59
#: Tie ranks fit in 3 bits.
_RANK_SPAN = 8


def _polars() -> None:
    """Refuse clearly when polars is missing (every public function calls this first)."""
    if importlib.util.find_spec("polars") is None:
        raise RuntimeError("cmsf_core.columnar needs polars: pip install 'cmsf_core[polars]'")


def _collect(plan: pl.LazyFrame) -> pl.DataFrame:
    """``plan`` run on polars' in-memory engine: a store's frames fit in memory, and for
    them it is the leaner engine (polars 2 runs the streaming one by default)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    if int(pl.__version__.split(".", 1)[0]) >= 2:
        return plan.collect(engine="in-memory")
    return plan.collect()  # pragma: no cover - polars 1 runs the in-memory engine


def _us(at: datetime) -> int:
    return (at - _EPOCH) // _US


def _at(us: int) -> datetime:
    return _EPOCH + us * _US


# ----------------------------------------------------------------------------- input checks


def _frame(value: object, field: str) -> pl.DataFrame:
    _polars()
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    if isinstance(value, pl.LazyFrame):
        value = _collect(value)
    if not isinstance(value, pl.DataFrame):
        raise InvalidTypeError(field, "a polars DataFrame or LazyFrame", value)
    return value


def _require(frame: pl.DataFrame, field: str, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidValueError(
            field,
            "a frame with the columns " + ", ".join(repr(c) for c in missing),
            sorted(frame.columns),
            detail="see the schema in cmsf_core.app.columnar",
        )


def _first_null(stats: Mapping[str, Any], column: str, field: str) -> None:
    if stats[f"null:{column}"]:
        raise InvalidValueError(f"{field}.{column}", "set on every row", None)


def _stats(frame: pl.DataFrame, columns: Iterable[str], codes: str) -> dict[str, Any]:
    """What the checks need to know of the data, in one pass: the null count of each of
    ``columns`` and, for the type column ``codes``, its range (integer codes) or its
    distinct names (text)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    exprs = {f"null:{c}": pl.col(c).null_count() for c in columns}
    dtype = frame.schema[codes]
    if dtype.is_integer():
        exprs["low"], exprs["high"] = pl.col(codes).min(), pl.col(codes).max()
    elif dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        exprs["names"] = pl.col(codes).cast(pl.String).drop_nulls().unique().implode()
    return frame.select(**exprs).row(0, named=True)


def _ids(frame: pl.DataFrame, field: str, stats: Mapping[str, Any]) -> list[pl.Expr]:
    """The id columns as compared: categoricals as text, text and integers unchanged."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    casts = []
    for column in ID_COLUMNS:
        dtype = frame.schema[column]
        if isinstance(dtype, pl.Categorical | pl.Enum):
            casts.append(pl.col(column).cast(pl.String))
        elif not (dtype == pl.String or dtype.is_integer()):
            raise InvalidTypeError(f"{field}.{column}", "a String or integer column", dtype)
        _first_null(stats, column, field)
    return casts


def _codes(frame: pl.DataFrame, column: str, field: str, stats: Mapping[str, Any]) -> pl.Expr:
    """An ``Int8`` expression of the type codes of ``column`` (nulls stay null)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    dtype = frame.schema[column]
    where = f"{field}.{column}"
    if dtype == pl.Null:
        return pl.lit(None, dtype=pl.Int8)
    if dtype.is_integer():
        for value in (stats["low"], stats["high"]):
            if value is not None and not 0 <= value < len(_TYPES):
                raise InvalidValueError(where, f"a type code from 0 to {len(_TYPES) - 1}", value)
        return pl.col(column).cast(pl.Int8)
    if isinstance(dtype, pl.Enum) and dtype.categories.to_list() == _TYPE_VALUES:
        return pl.col(column).to_physical().cast(pl.Int8)  # as records_frame builds it
    if not (dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)):
        raise InvalidTypeError(where, "activity type names or integer codes", dtype)
    mapping = {name: _CODE[ActivityType.parse(name, where)] for name in stats["names"]}
    return (
        pl.col(column).cast(pl.String).replace_strict(mapping, default=None, return_dtype=pl.Int8)
    )


def _instants(frame: pl.DataFrame, column: str, field: str) -> pl.Expr:
    """An ``Int64`` expression of microseconds since the epoch (nulls stay null)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    dtype = frame.schema[column]
    where = f"{field}.{column}"
    if dtype == pl.Null:
        return pl.lit(None, dtype=pl.Int64)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise InvalidValueError(
                where,
                "a timezone-aware Datetime column (e.g. Datetime('us', 'UTC'))",
                str(dtype),
                detail="the library never guesses a zone",
            )
        return pl.col(column).dt.epoch("us")
    if dtype.is_integer():
        return pl.col(column).cast(pl.Int64) * _US_PER_MINUTE
    raise InvalidTypeError(where, "a zoned Datetime or integer minutes since the epoch", dtype)


def _records_plan(records: object) -> pl.LazyFrame:
    """The records, checked, with ``_code`` (Int8) and ``_at`` (Int64 microseconds) to be
    added: a plan, so that a caller's filter and group-by run in the same pass."""
    frame = _frame(records, "records")
    _require(frame, "records", (*ID_COLUMNS, "type", "occurred_at"))
    stats = _stats(frame, (*ID_COLUMNS, "type", "occurred_at"), "type")
    casts = _ids(frame, "records", stats)
    _first_null(stats, "type", "records")
    _first_null(stats, "occurred_at", "records")
    return frame.lazy().with_columns(
        *casts,
        _codes(frame, "type", "records", stats).alias("_code"),
        _instants(frame, "occurred_at", "records").alias("_at"),
    )


def _prepared_records(records: object) -> pl.DataFrame:
    """The records with ``_code`` (Int8) and ``_at`` (Int64 microseconds) added."""
    return _collect(_records_plan(records))


def _members_plan(members: object) -> pl.LazyFrame:
    """The members, checked, with ``_activity`` (Int8) and ``_date`` (Int64 microseconds)
    to be added (a plan, as :func:`_records_plan`)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    frame = _frame(members, "members")
    _require(frame, "members", (*ID_COLUMNS, "status", "activity", "activity_date"))
    status = frame.schema["status"]
    labels_known = status in (pl.String, pl.Null) or isinstance(status, pl.Categorical)
    ids_known = all(
        frame.schema[c] == pl.String
        or frame.schema[c].is_integer()
        or isinstance(frame.schema[c], pl.Categorical | pl.Enum)
        for c in ID_COLUMNS
    )  # otherwise _ids refuses them before the duplicates are looked at
    stats = _stats(frame, ID_COLUMNS, "activity") | frame.select(
        half=(pl.col("activity").is_null() != pl.col("activity_date").is_null()).any(),
        duplicated=pl.struct(ID_COLUMNS).is_duplicated().any() if ids_known else pl.lit(None),
        labels=(
            pl.col("status").cast(pl.String).drop_nulls().unique().implode()
            if labels_known
            else pl.lit(None)
        ),
    ).row(0, named=True)
    casts = _ids(frame, "members", stats)
    if not labels_known:
        raise InvalidTypeError("members.status", "a String column of status labels", status)
    plan = frame.lazy().with_columns(
        *casts,
        pl.col("status").cast(pl.String),
        _codes(frame, "activity", "members", stats).alias("_activity"),
        _instants(frame, "activity_date", "members").alias("_date"),
    )
    # Each distinct label is checked once, by the rule CampaignMember applies.
    for label in stats["labels"]:
        if parse_label(label, "members.status") != label:
            raise InvalidValueError("members.status", "labels without surrounding spaces", label)
    if stats["half"]:
        half = plan.filter(pl.col("_activity").is_null() != pl.col("_date").is_null()).collect()
        raise InvalidValueError(
            "members.activity_date",
            "set together with 'activity' (both or neither)",
            half.row(0, named=True)["activity_date"],
            detail=f"member {half['member_id'][0]!r} of campaign {half['campaign_id'][0]!r}",
        )
    if stats["duplicated"]:
        duplicated = plan.filter(pl.struct(ID_COLUMNS).is_duplicated()).collect()
        raise InvalidValueError(
            "members",
            "one row per (campaign_id, member_id)",
            duplicated.select(ID_COLUMNS).row(0),
        )
    return plan


def _prepared_members(members: object) -> pl.DataFrame:
    return _collect(_members_plan(members))


def _check_settings(settings: object) -> Settings:
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    return settings


def _same_ids(members: pl.Schema, records: pl.Schema) -> None:
    for column in ID_COLUMNS:
        left, right = members[column], records[column]
        if left != right and not (left.is_integer() and right.is_integer()):
            raise InvalidTypeError(
                f"records.{column}", f"the dtype of members.{column} ({left})", right
            )


# ----------------------------------------------------------------------------- rules


def _count_exprs() -> list[pl.Expr]:
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    return [
        (pl.col("_code") == code).sum().cast(pl.Int64).alias(name)
        for code, name in enumerate(COUNT_COLUMNS)
    ]


def _lookup(values: Mapping[int, int]) -> pl.Expr:
    """``values[_code]`` for every row (a gather from a six-value literal)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    table = pl.Series([values[code] for code in range(len(_TYPES))], dtype=pl.Int64)
    return pl.lit(table).gather(pl.col("_code"))


def _rank() -> pl.Expr:
    return _lookup({_CODE[t]: rank for t, rank in TIE_RANK.items()})


def _candidate_key(settings: Settings) -> pl.Expr:
    """Each record's packed (instant, rank), null for unmapped types: the largest of a
    member's is its candidate.

    Latest wins: ``instant * 8 + rank``; most engaged: ``rank << 59 | instant`` (instants
    shifted to be >= 0), so that one integer max picks the record ``candidate`` picks.
    """
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    at = pl.col("_at") - _AT_MIN
    if settings.status_policy is StatusPolicy.LATEST_WINS:
        key = at * _RANK_SPAN + _rank()
    else:
        key = _rank() * (1 << _AT_BITS) + at
    labels = settings.status_mapping.labels
    mapped = [_CODE[t] for t in _TYPES if labels[t] is not None]
    if len(mapped) == len(_TYPES):
        return key.alias("_key")
    return pl.when(pl.col("_code").is_in(mapped)).then(key).alias("_key")


def _decoded(settings: Settings) -> tuple[pl.Expr, pl.Expr]:
    """The candidate's type code and instant, from ``_key``."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    key = pl.col("_key")
    if settings.status_policy is StatusPolicy.LATEST_WINS:
        rank, at = key % _RANK_SPAN, key // _RANK_SPAN
    else:
        rank, at = key // (1 << _AT_BITS), key % (1 << _AT_BITS)
    code_of_rank = {rank: _CODE[t] for t, rank in TIE_RANK.items()}
    return rank.replace_strict(code_of_rank, return_dtype=pl.Int8), at + _AT_MIN


def _defaults(default_statuses: str | Mapping[Any, str | None] | None) -> pl.Expr:
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    if default_statuses is None:
        return pl.lit(None, dtype=pl.String)
    if isinstance(default_statuses, str):
        return pl.lit(parse_label(default_statuses, "default_statuses"), dtype=pl.String)
    if not isinstance(default_statuses, Mapping):
        raise InvalidTypeError(
            "default_statuses", "a label or a mapping of campaign id to label", default_statuses
        )
    labels = {
        campaign: None if label is None else parse_label(label, f"default_statuses[{campaign!r}]")
        for campaign, label in default_statuses.items()
    }
    if not labels:
        return pl.lit(None, dtype=pl.String)
    return pl.col("campaign_id").replace_strict(labels, default=None, return_dtype=pl.String)


def _refreshed(
    members: pl.LazyFrame,
    records: pl.LazyFrame,
    settings: Settings,
    cause: RefreshCause,
    default_statuses: str | Mapping[Any, str | None] | None,
) -> pl.DataFrame:
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    member_schema, record_schema = members.collect_schema(), records.collect_schema()
    _same_ids(member_schema, record_schema)
    default = _defaults(default_statuses)
    action = STATUS_RULES[(settings.refresh_mode, cause)]
    needs_candidate = action is not StatusAction.KEEP
    aggregates = _count_exprs()
    if needs_candidate:
        aggregates.append(pl.col("_key").max())
    rows = records
    if needs_candidate:
        rows = rows.with_columns(_candidate_key(settings))
    grouped = rows.group_by(ID_COLUMNS).agg(aggregates)
    if any(record_schema[c] != member_schema[c] for c in ID_COLUMNS):
        grouped = grouped.with_columns(pl.col(c).cast(member_schema[c]) for c in ID_COLUMNS)
    stale = [c for c in COUNT_COLUMNS if c in member_schema]
    joined = members.drop(stale).join(grouped, on=ID_COLUMNS, how="left", maintain_order="left")
    joined = joined.with_columns(pl.col(c).fill_null(0) for c in COUNT_COLUMNS)
    status, activity, date = pl.col("status"), pl.col("_activity"), pl.col("_date")
    if needs_candidate:
        code, at = _decoded(settings)
        labels = {
            _CODE[t]: label
            for t, label in settings.status_mapping.labels.items()
            if label is not None
        }
        label = code.replace_strict(labels, default=None, return_dtype=pl.String)
        found = pl.col("_key").is_not_null()
        if action is StatusAction.RECOMPUTE:
            status = pl.when(found).then(label).otherwise(default)
            activity = pl.when(found).then(code).otherwise(pl.lit(None, dtype=pl.Int8))
            date = pl.when(found).then(at).otherwise(pl.lit(None, dtype=pl.Int64))
        else:
            unset = pl.col("_date").is_null()
            sets = found & (
                unset | (at > pl.col("_date"))
                if action is StatusAction.SET_IF_NEWER
                else found & unset
            )
            status = pl.when(sets).then(label).otherwise(status)
            activity = pl.when(sets).then(code).otherwise(activity)
            date = pl.when(sets).then(at).otherwise(date)
    extras = [
        c
        for c in member_schema
        if c not in {*ID_COLUMNS, "status", "activity", "activity_date", *COUNT_COLUMNS}
        and not c.startswith("_")
    ]
    # The type of each code: a gather from the six labels (nulls stay null).
    types = pl.lit(pl.Series(_TYPE_VALUES, dtype=pl.Enum(_TYPE_VALUES)))
    out = joined.select(
        *ID_COLUMNS,
        status.alias("status"),
        types.gather(activity).alias("activity"),
        date.cast(pl.Datetime("us", "UTC")).alias("activity_date"),
        *COUNT_COLUMNS,
        *extras,
    )
    return _collect(out)


# ----------------------------------------------------------------------------- public rules


def rollups(records: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Every member's counters from its stored records
    (:func:`~cmsf_core.domain.engagement.rollup`).

    One row per (``campaign_id``, ``member_id``) that has records, in order of first
    appearance, with the six :data:`COUNT_COLUMNS`.
    """
    plan = _records_plan(records)
    return _collect(plan.group_by(ID_COLUMNS, maintain_order=True).agg(_count_exprs()))


@attrs.frozen
class RetentionFrames:
    """A retention pass over a records frame: the rows kept and the rows purged, each in
    input order and with the input's columns."""

    kept: Any
    purged: Any


def _retention_mask(settings: Settings, as_of: datetime) -> pl.Expr:
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    cutoffs = {_CODE[t]: _us(settings.retention_cutoff(t, as_of)) for t in _TYPES}
    if len(set(cutoffs.values())) == 1:
        return pl.col("_at") < next(iter(cutoffs.values()))
    return pl.col("_at") < _lookup(cutoffs)


def apply_retention(
    records: pl.DataFrame | pl.LazyFrame, settings: Settings, *, as_of: datetime
) -> RetentionFrames:
    """Split a records frame by each type's retention window at ``as_of``
    (:func:`~cmsf_core.domain.retention.apply_retention`): a row is purged when it
    occurred strictly before its type's cutoff; 0 days keeps nothing.
    """
    settings = _check_settings(settings)
    as_of = ensure_utc(as_of, "as_of")
    prepared = _prepared_records(records)
    purged = _retention_mask(settings, as_of)
    columns = [c for c in prepared.columns if c not in {"_code", "_at"}]
    return RetentionFrames(
        prepared.filter(~purged).select(columns), prepared.filter(purged).select(columns)
    )


def refresh(
    members: pl.DataFrame | pl.LazyFrame,
    records: pl.DataFrame | pl.LazyFrame,
    settings: Settings,
    *,
    cause: RefreshCause = RefreshCause.IMPORT,
    default_statuses: str | Mapping[Any, str | None] | None = None,
) -> pl.DataFrame:
    """Every member after a refresh, given every record stored for it now
    (:func:`~cmsf_core.domain.status.refresh_member`, row by row).

    Returns one row per member, in the members' order: the ids, ``status``, ``activity``
    (``Enum`` of type labels), ``activity_date`` (``Datetime('us', 'UTC')``), the six
    :data:`COUNT_COLUMNS` recomputed from ``records``, then the members' other columns.
    Records of members absent from ``members`` are ignored.
    """
    settings = _check_settings(settings)
    if not isinstance(cause, RefreshCause):
        raise InvalidTypeError("cause", "a RefreshCause", cause)
    prepared_members = _members_plan(members)
    prepared_records = _records_plan(records)
    return _refreshed(prepared_members, prepared_records, settings, cause, default_statuses)


def recompute(
    members: pl.DataFrame | pl.LazyFrame,
    records: pl.DataFrame | pl.LazyFrame,
    settings: Settings,
    *,
    as_of: datetime,
    cause: RefreshCause = RefreshCause.IMPORT,
    default_statuses: str | Mapping[Any, str | None] | None = None,
) -> pl.DataFrame:
    """Retention at ``as_of``, then :func:`refresh` of every member from the records kept.

    The full recompute of a store (per member: ``apply_retention`` then
    ``refresh_member``), as :func:`refresh` returns it.
    """
    settings = _check_settings(settings)
    as_of = ensure_utc(as_of, "as_of")
    if not isinstance(cause, RefreshCause):
        raise InvalidTypeError("cause", "a RefreshCause", cause)
    prepared_members = _members_plan(members)
    prepared_records = _records_plan(records)
    kept = prepared_records.filter(~_retention_mask(settings, as_of))
    return _refreshed(prepared_members, kept, settings, cause, default_statuses)


# ----------------------------------------------------------------------------- converters


def records_frame(activities: Iterable[Activity]) -> pl.DataFrame:
    """A records frame of :class:`~cmsf_core.domain.activity.Activity` values.

    Columns: the ids, ``type`` (``Enum`` of labels), ``occurred_at``
    (``Datetime('us', 'UTC')``), ``client_id``, ``email``, ``list_id``, ``detail`` and
    ``occurrence``: everything :func:`activities_from` needs to give the values back.
    """
    _polars()
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    rows = list(activities)
    for row in rows:
        if not isinstance(row, Activity):
            raise InvalidTypeError("activities", "Activity records", row)
    return pl.DataFrame(
        {
            "campaign_id": pl.Series([a.campaign_id for a in rows], dtype=pl.String),
            "member_id": pl.Series([a.member_id for a in rows], dtype=pl.String),
            "type": pl.Series([a.type.value for a in rows], dtype=pl.Enum(_TYPE_VALUES)),
            "occurred_at": pl.Series([_us(a.occurred_at) for a in rows], dtype=pl.Int64).cast(
                pl.Datetime("us", "UTC")
            ),
            "client_id": pl.Series([a.client_id for a in rows], dtype=pl.String),
            "email": pl.Series([a.email for a in rows], dtype=pl.String),
            "list_id": pl.Series([a.list_id for a in rows], dtype=pl.String),
            "detail": pl.Series([a.detail for a in rows], dtype=pl.String),
            "occurrence": pl.Series([a.occurrence for a in rows], dtype=pl.Int64),
        }
    )


def members_frame(members: Iterable[CampaignMember]) -> pl.DataFrame:
    """A members frame of :class:`~cmsf_core.domain.member.CampaignMember` values, with
    their counters (the columns :func:`refresh` returns)."""
    _polars()
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    rows = list(members)
    for row in rows:
        if not isinstance(row, CampaignMember):
            raise InvalidTypeError("members", "CampaignMember values", row)
    dates = [None if m.activity_date is None else _us(m.activity_date) for m in rows]
    counts = {
        name: pl.Series([getattr(m.engagement, name) for m in rows], dtype=pl.Int64)
        for name in COUNT_COLUMNS
    }
    return pl.DataFrame(
        {
            "campaign_id": pl.Series([m.campaign_id for m in rows], dtype=pl.String),
            "member_id": pl.Series([m.member_id for m in rows], dtype=pl.String),
            "status": pl.Series([m.status for m in rows], dtype=pl.String),
            "activity": pl.Series(
                [None if m.activity is None else m.activity.value for m in rows],
                dtype=pl.Enum(_TYPE_VALUES),
            ),
            "activity_date": pl.Series(dates, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            **counts,
        }
    )


def member_records_frame(members: Iterable[MemberRecord]) -> pl.DataFrame:
    """A members frame of CRM campaign members: their members' columns
    (:func:`~cmsf_core.app.columnar.members_frame`), then ``crm_campaign_id``, ``email``
    and ``person_id``."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    members = list(members)
    for row in members:
        if not isinstance(row, MemberRecord):
            raise InvalidTypeError("members", "MemberRecord values", row)
    return members_frame([r.member for r in members]).with_columns(
        pl.Series("crm_campaign_id", [r.crm_campaign_id for r in members], dtype=pl.String),
        pl.Series("email", [r.email for r in members], dtype=pl.String),
        pl.Series("person_id", [r.person_id for r in members], dtype=pl.String),
    )


def activities_from(records: pl.DataFrame | pl.LazyFrame) -> list[Activity]:
    """The :class:`~cmsf_core.domain.activity.Activity` values of a records frame, in row
    order (a missing or null optional column defaults as the constructor does)."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    prepared = _prepared_records(records)
    n = prepared.height

    def column(name: str) -> list[Any]:
        if name in prepared.columns:
            return prepared[name].to_list()
        return [None] * n

    campaigns = prepared["campaign_id"].cast(pl.String).to_list()
    members = prepared["member_id"].cast(pl.String).to_list()
    codes, instants = prepared["_code"].to_list(), prepared["_at"].to_list()
    clients, emails, lists = column("client_id"), column("email"), column("list_id")
    details, occurrences = column("detail"), column("occurrence")
    return [
        Activity(
            campaigns[i],
            members[i],
            _TYPES[codes[i]],
            _at(instants[i]),
            client_id="" if clients[i] is None else clients[i],
            email=emails[i],
            list_id=lists[i],
            detail=details[i],
            occurrence=0 if occurrences[i] is None else int(occurrences[i]),
        )
        for i in range(n)
    ]


def members_from(members: pl.DataFrame | pl.LazyFrame) -> list[CampaignMember]:
    """The :class:`~cmsf_core.domain.member.CampaignMember` values of a members frame (such
    as :func:`refresh` returns), in row order; missing counters count 0."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [polars] extra

    prepared = _prepared_members(members)
    ids = [prepared[c].cast(pl.String).to_list() for c in ID_COLUMNS]
    statuses = prepared["status"].to_list()
    codes = prepared["_activity"].to_list()
    dates = prepared["_date"].to_list()
    counts = [
        prepared[name].to_list() if name in prepared.columns else [0] * prepared.height
        for name in COUNT_COLUMNS
    ]
    return [
        CampaignMember(
            ids[0][i],
            ids[1][i],
            status=statuses[i],
            activity=None if codes[i] is None else _TYPES[codes[i]],
            activity_date=None if dates[i] is None else _at(dates[i]),
            engagement=Engagement(*(int(c[i]) for c in counts)),
        )
        for i in range(prepared.height)
    ]


def to_polars(
    values: Iterable[Activity] | Iterable[CampaignMember] | Iterable[MemberRecord],
) -> pl.DataFrame:
    """A polars frame of tracking records (:func:`records_frame`), of campaign members
    (:func:`members_frame`) or of CRM campaign members (:func:`member_records_frame`),
    whichever ``values`` holds."""
    items = list(values)
    if not items:
        raise InvalidValueError(
            "values",
            "at least one Activity or CampaignMember",
            items,
            detail="call records_frame([]) or members_frame([]) for an empty frame",
        )
    if all(isinstance(v, Activity) for v in items):
        return records_frame(items)  # type: ignore[arg-type]
    if all(isinstance(v, CampaignMember) for v in items):
        return members_frame(items)  # type: ignore[arg-type]
    if all(isinstance(v, MemberRecord) for v in items):
        return member_records_frame(items)  # type: ignore[arg-type]
    odd = next(v for v in items if not isinstance(v, type(items[0])))
    raise InvalidTypeError("values", f"only {type(items[0]).__name__} values", odd)
