"""The recompute partitioned by member on Dask equals one process (and the pure rules).

The cluster is a ``distributed.LocalCluster`` of two single-threaded worker processes on
the loopback interface, started once for this module and shut down after it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    RefreshCause,
    RefreshMode,
    Settings,
    StatusMapping,
    StatusPolicy,
    apply_retention,
    refresh_member,
)
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError

pl = pytest.importorskip("polars")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from cmsf_core.app import columnar  # noqa: E402 - after the skips
from cmsf_core.app import distributed as cmsf_distributed  # noqa: E402 - after the skips

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
#: Types mapped to nothing and a label shared by two types, a per-type window, 0 days for
#: spam complaints: the sharp parts of the rules, in one settings value.
SETTINGS = Settings(
    refresh_mode=RefreshMode.ALWAYS,
    days_to_keep=30,
    days_to_keep_by_type={ActivityType.SENT: 10, ActivityType.SPAM_COMPLAINT: 0},
    status_mapping=StatusMapping(
        {ActivityType.OPENED: "Responded", ActivityType.CLICKED: "Responded", "Bounced": None}
    ),
    status_policy=StatusPolicy.LATEST_WINS,
)


def history(seed: int) -> tuple[list[CampaignMember], list[Activity]]:
    """A small random store: 60 members of 3 campaigns, 400 records over 40 days, ties."""
    rng = random.Random(seed)
    members = []
    for m in range(60):
        kind = rng.randrange(3)
        at = AS_OF - timedelta(days=rng.randrange(40))
        members.append(
            CampaignMember(
                f"cmp-{m % 3}",
                f"m-{m}",
                status=None if kind == 0 else "Planned",
                activity=ActivityType.SENT if kind == 2 else None,
                activity_date=at if kind == 2 else None,
            )
        )
    records = []
    for _ in range(400):
        member = members[rng.randrange(len(members))]
        records.append(
            Activity(
                member.campaign_id,
                member.member_id,
                rng.choice(tuple(ActivityType)),
                AS_OF - timedelta(days=rng.randrange(40), hours=rng.choice((0, 12))),
            )
        )
    return members, records


def pure(
    members: list[CampaignMember], records: list[Activity], cause: RefreshCause
) -> list[CampaignMember]:
    """The specification: retention, then refresh_member, member by member."""
    out = []
    for member in members:
        own = [
            r
            for r in records
            if (r.campaign_id, r.member_id) == (member.campaign_id, member.member_id)
        ]
        kept = apply_retention(own, SETTINGS, as_of=AS_OF).kept
        out.append(refresh_member(member, kept, SETTINGS, cause=cause, default_status="Sent"))
    return out


def by_member(values: list[CampaignMember]) -> list[CampaignMember]:
    """Members in id order, to compare results that come back in another order."""
    return sorted(values, key=lambda m: (m.campaign_id, m.member_id))


def from_pandas(frame: Any) -> list[CampaignMember]:
    """The members of a computed (pandas) result."""
    return by_member(columnar.members_from(pl.from_pandas(frame)))


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A two-worker LocalCluster on the loopback interface, shut down after the module."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port, not 8787 (another cluster may hold it)
            scheduler_port=0,
        ) as cluster,
        distributed.Client(cluster) as connected,
    ):
        yield connected


@pytest.mark.parametrize("cause", list(RefreshCause))
def test_two_workers_give_the_one_process_result_and_the_pure_rules(
    client: Any, cause: RefreshCause
) -> None:
    """Partitioned by member over two workers: identical to columnar and to refresh_member."""
    members, records = history(seed=7)
    members_frame = columnar.members_frame(members)
    records_frame = columnar.records_frame(records)
    one_process = columnar.recompute(
        members_frame, records_frame, SETTINGS, as_of=AS_OF, cause=cause, default_statuses="Sent"
    )
    ddf = dd.from_pandas(records_frame.to_pandas(), npartitions=4)
    result = cmsf_distributed.recompute(
        ddf, members_frame, SETTINGS, as_of=AS_OF, cause=cause, default_statuses="Sent"
    )
    found = from_pandas(client.compute(result).result())
    assert found == by_member(columnar.members_from(one_process))
    assert found == by_member(pure(members, records, cause))


def test_records_are_read_from_parquet_paths(client: Any, tmp_path: Path) -> None:
    """Parquet files of records (one per campaign here) give the same result as a frame."""
    members, records = history(seed=11)
    frame = columnar.records_frame(records)
    paths = []
    for (campaign,), part in frame.partition_by("campaign_id", as_dict=True).items():
        path = tmp_path / f"records-{campaign}.parquet"
        part.write_parquet(path)
        paths.append(str(path))
    members_pd = columnar.members_frame(members).to_pandas()
    result = cmsf_distributed.recompute(
        paths, members_pd, SETTINGS, as_of=AS_OF, default_statuses="Sent", npartitions=3
    )
    found = from_pandas(client.compute(result).result())
    assert found == by_member(pure(members, records, RefreshCause.IMPORT))


def test_bad_arguments_are_refused_before_anything_is_scheduled() -> None:
    """Wrong settings, cause or inputs are named in the error, with nothing computed."""
    _members, records = history(seed=3)
    frame = columnar.records_frame(records)
    with pytest.raises(InvalidTypeError, match="'settings'"):
        cmsf_distributed.recompute(frame, frame, {}, as_of=AS_OF)
    with pytest.raises(InvalidTypeError, match="'records'"):
        cmsf_distributed.recompute(42, frame, SETTINGS, as_of=AS_OF)


def test_integer_ids_and_extra_member_columns_come_back_as_in_one_process(client: Any) -> None:
    """Integer ids are bucketed like text ids; a member's other columns come back with it."""
    members, records = history(seed=5)
    number = {m.member_id: i for i, m in enumerate(members)}

    def as_ints(frame: Any) -> Any:
        return frame.with_columns(
            pl.col("campaign_id").str.slice(4).cast(pl.Int64),
            pl.col("member_id").replace_strict(number, return_dtype=pl.Int64),
        )

    member_frame = as_ints(columnar.members_frame(members)).with_columns(
        person_id=pl.col("member_id").cast(pl.String)
    )
    record_frame = as_ints(columnar.records_frame(records))
    expected = columnar.recompute(member_frame, record_frame, SETTINGS, as_of=AS_OF)
    result = cmsf_distributed.recompute(
        dd.from_pandas(record_frame.to_pandas(), npartitions=3),
        member_frame,
        SETTINGS,
        as_of=AS_OF,
    )
    found = pl.from_pandas(client.compute(result).result()).sort("campaign_id", "member_id")
    assert found.select("member_id", "person_id", "status", "opens").rows() == (
        expected.sort("campaign_id", "member_id")
        .select("member_id", "person_id", "status", "opens")
        .rows()
    )


def test_npartitions_and_cause_are_checked() -> None:
    """npartitions is a whole number >= 1; cause a RefreshCause."""
    _members, records = history(seed=3)
    frame = columnar.records_frame(records)
    with pytest.raises(InvalidValueError, match="'npartitions'"):
        cmsf_distributed.recompute(frame, frame, SETTINGS, as_of=AS_OF, npartitions=0)
    with pytest.raises(InvalidTypeError, match="'cause'"):
        cmsf_distributed.recompute(frame, frame, SETTINGS, as_of=AS_OF, cause="import")
