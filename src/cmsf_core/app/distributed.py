"""The full recompute past one machine: the columnar rules, partitioned by member, on Dask.

Install the extra (``pip install 'cmsf_core[dask]'``: dask's dataframe, distributed,
pyarrow and polars); nothing here is imported by ``import cmsf_core``.

:func:`recompute` takes the tracking records as a Dask DataFrame or as parquet paths, and
the members, and returns a lazy Dask DataFrame of every member after retention and
refresh, the frame :func:`cmsf_core.app.columnar.recompute` returns for one process.  Both
inputs are shuffled on a hash of (``campaign_id``, ``member_id``), so that a member and all
of its records land in the same partition; each partition is then computed by
:mod:`cmsf_core.app.columnar` (polars) on its worker.  A member's result depends only on its
own records, so the partitioned result is the one-process result, row for row (only the
row order differs: sort by the ids to compare).

It runs on whatever scheduler is active: a ``distributed.Client`` connected to an existing
cluster (``Client("tcp://scheduler:8786")``), a ``LocalCluster``, or Dask's threads.  The
columns are those of :mod:`cmsf_core.app.columnar`; see ``docs/scale.md`` for the parquet layout
and memory notes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.status import RefreshCause
from cmsf_core.domain.timeutil import ensure_utc

__all__ = ["BUCKET", "recompute"]

#: The column that carries a row's member bucket while the frames are shuffled.
BUCKET = "_cmsf_bucket"
_IDS = ("campaign_id", "member_id")
_COUNTS = ("sent", "opens", "clicks", "bounces", "unsubscribes", "spam_complaints")
_RULE_COLUMNS = frozenset({*_IDS, "status", "activity", "activity_date", *_COUNTS})


def _require_dask() -> None:
    for name in ("dask", "pandas", "polars", "pyarrow"):
        if importlib.util.find_spec(name) is None:
            raise RuntimeError(f"cmsf_core.distributed needs {name}: pip install 'cmsf_core[dask]'")


def _frame(value: object, field: str, npartitions: int | None) -> Any:
    """A Dask DataFrame of ``value``: one already, parquet paths, or a pandas/polars frame."""
    import dask.dataframe as dd  # noqa: PLC0415 - optional, behind the [dask] extra
    import pandas as pd  # noqa: PLC0415 - optional, behind the [dask] extra
    import polars as pl  # noqa: PLC0415 - optional, behind the [dask] extra

    if isinstance(value, dd.DataFrame):
        return value
    if isinstance(value, str) or (
        isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value)
    ):
        return dd.read_parquet(value, dtype_backend="pyarrow")  # nullable ints stay ints
    if isinstance(value, pl.DataFrame | pl.LazyFrame):
        eager = value.collect() if isinstance(value, pl.LazyFrame) else value
        labels = [c for c, t in eager.schema.items() if isinstance(t, pl.Enum | pl.Categorical)]
        eager = eager.with_columns(pl.col(labels).cast(pl.String))  # shuffles need plain text
        value = eager.to_pandas(use_pyarrow_extension_array=True)  # nullable ints stay ints
    if isinstance(value, pd.DataFrame):
        return dd.from_pandas(value, npartitions=npartitions or 1)
    raise InvalidTypeError(
        field, "a Dask DataFrame, parquet path(s), or a pandas or polars DataFrame", value
    )


def _plain_text(frame: Any) -> Any:
    """Categorical and dictionary-encoded columns as plain text: Dask's shuffles (P2P)
    cannot carry dictionary columns, and the rules compare labels, not codes."""
    import pandas as pd  # noqa: PLC0415 - optional, behind the [dask] extra
    import pyarrow as pa  # noqa: PLC0415 - optional, behind the [dask] extra

    casts = {
        name: pd.ArrowDtype(pa.string())
        for name, dtype in frame.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype)
        or (isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(dtype.pyarrow_dtype))
    }
    return frame.astype(casts) if casts else frame


def _bucketed(frame: Any, buckets: int) -> Any:
    """``frame`` with :data:`BUCKET`: a hash of the ids (text and integers hashed alike in
    both frames), modulo ``buckets``."""
    import pandas as pd  # noqa: PLC0415 - optional, behind the [dask] extra

    def key(column: Any) -> Any:
        if pd.api.types.is_integer_dtype(column.dtype):
            return column.astype("int64")
        return column.astype(str).astype(object)

    def add(part: Any) -> Any:
        ids = pd.DataFrame({c: key(part[c]) for c in _IDS}, index=part.index)
        hashed = pd.util.hash_pandas_object(ids, index=False) % buckets
        return part.assign(**{BUCKET: hashed.astype("int64")})

    meta = frame._meta.assign(**{BUCKET: pd.Series(dtype="int64")})
    return frame.map_partitions(add, meta=meta)


def _output_meta(members_meta: Any) -> Any:
    import pandas as pd  # noqa: PLC0415 - optional, behind the [dask] extra

    columns: dict[str, Any] = {c: members_meta[c] for c in _IDS}
    columns["status"] = pd.Series(dtype="string")
    columns["activity"] = pd.Series(dtype="string")
    columns["activity_date"] = pd.Series(dtype="datetime64[us, UTC]")
    for c in _COUNTS:
        columns[c] = pd.Series(dtype="int64")
    for c in members_meta.columns:
        if c not in _RULE_COLUMNS and c != BUCKET:
            columns[c] = members_meta[c]
    return pd.DataFrame(columns)


def _partition(
    records: Any,
    members: Any,
    *,
    settings: Settings,
    as_of: datetime,
    cause: RefreshCause,
    default_statuses: str | Mapping[Any, str | None] | None,
    out_meta: Any,
) -> Any:
    """One partition: the members of some buckets and all their records, on a worker."""
    import polars as pl  # noqa: PLC0415 - optional, behind the [dask] extra

    from cmsf_core.app import columnar  # noqa: PLC0415 - imports polars

    if not len(members):
        return out_meta.iloc[:0]
    out = columnar.recompute(
        pl.from_pandas(members.drop(columns=[BUCKET])),
        pl.from_pandas(records.drop(columns=[BUCKET])),
        settings,
        as_of=as_of,
        cause=cause,
        default_statuses=default_statuses,
    )
    frame = out.with_columns(pl.col("activity").cast(pl.String)).to_pandas()
    return frame.astype(out_meta.dtypes.to_dict())


def recompute(
    records: Any,
    members: Any,
    settings: Settings,
    *,
    as_of: datetime,
    cause: RefreshCause = RefreshCause.IMPORT,
    default_statuses: str | Mapping[Any, str | None] | None = None,
    npartitions: int | None = None,
) -> Any:
    """Every member after retention at ``as_of`` and refresh, partitioned by member.

    ``records``: a Dask DataFrame of tracking records, or the path (or list of paths,
    globs allowed) of parquet files holding them; ``members``: a Dask, pandas or polars
    DataFrame of members, or parquet path(s).  The columns are
    :mod:`cmsf_core.app.columnar`'s.  ``npartitions`` is the number of member buckets
    (default: the records' partition count).

    Returns a lazy Dask DataFrame (call ``.compute()`` for pandas, or ``.to_parquet``):
    the columns of :func:`cmsf_core.app.columnar.recompute`, ``activity`` as text, one row per
    member, ordered by bucket rather than as given.
    """
    _require_dask()
    import dask.dataframe as dd  # noqa: PLC0415 - optional, behind the [dask] extra

    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    if not isinstance(cause, RefreshCause):
        raise InvalidTypeError("cause", "a RefreshCause", cause)
    as_of = ensure_utc(as_of, "as_of")
    if npartitions is not None and (type(npartitions) is not int or npartitions < 1):
        raise InvalidValueError("npartitions", "a whole number >= 1", npartitions)
    records = _plain_text(_frame(records, "records", None))
    members = _plain_text(_frame(members, "members", records.npartitions))
    for field, frame in (("records", records), ("members", members)):
        missing = [c for c in _IDS if c not in frame.columns]
        if missing:
            raise InvalidValueError(
                field, "a frame with the columns 'campaign_id', 'member_id'", list(frame.columns)
            )
    buckets = npartitions or records.npartitions
    shuffled_records = _bucketed(records, buckets).shuffle(on=BUCKET, npartitions=buckets)
    shuffled_members = _bucketed(members, buckets).shuffle(on=BUCKET, npartitions=buckets)
    meta = _output_meta(members._meta)
    return dd.map_partitions(
        _partition,
        shuffled_records,
        shuffled_members,
        settings=settings,
        as_of=as_of,
        cause=cause,
        default_statuses=default_statuses,
        out_meta=meta,
        meta=meta,
        align_dataframes=False,
        enforce_metadata=False,
    )
