"""The columnar path's schema, converters and refusals (its rules: the property tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cmsf_core import Activity, ActivityType, CampaignMember, RefreshCause, Settings
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError

pl = pytest.importorskip("polars")

from cmsf_core.app import columnar  # noqa: E402 - after the skip when polars is missing

AT = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
MINUTE = (AT - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(minutes=1)


def opened(member_id: str = "m-1", at: datetime = AT) -> Activity:
    """An Opened record of a member of cmp-1."""
    return Activity("cmp-1", member_id, ActivityType.OPENED, at)


def test_records_frame_round_trips_every_field_of_an_activity() -> None:
    """records_frame then activities_from gives the same values back."""
    records = [
        Activity(
            "cmp-1",
            "m-1",
            ActivityType.CLICKED,
            AT,
            client_id="client-1",
            email="ann@example.com",
            list_id="list-1",
            detail="https://example.com",
            occurrence=1,
        ),
        opened(),
    ]
    assert columnar.activities_from(columnar.records_frame(records)) == records


def test_members_frame_round_trips_status_activity_date_and_counters() -> None:
    """members_frame then members_from gives the same members back."""
    members = [
        CampaignMember("cmp-1", "m-1"),
        CampaignMember("cmp-1", "m-2", status="Opened", activity="Opened", activity_date=AT),
    ]
    assert columnar.members_from(columnar.members_frame(members)) == members


def test_integer_codes_and_minutes_read_as_types_and_instants() -> None:
    """A type code and whole minutes since the epoch are the same record as the values."""
    records = pl.DataFrame(
        {"campaign_id": ["cmp-1"], "member_id": ["m-1"], "type": [1], "occurred_at": [MINUTE]}
    )
    assert columnar.activities_from(records) == [opened()]


def test_type_names_are_read_in_any_spelling_activity_type_reads() -> None:
    """``"spam"`` and ``"SPAM_COMPLAINT"`` are both the spam complaint."""
    records = pl.DataFrame(
        {
            "campaign_id": ["cmp-1", "cmp-1"],
            "member_id": ["m-1", "m-1"],
            "type": ["spam", "SPAM_COMPLAINT"],
            "occurred_at": [MINUTE, MINUTE + 1],
        }
    )
    assert columnar.rollups(records)["spam_complaints"].to_list() == [2]


def test_integer_ids_are_grouped_and_joined_as_given() -> None:
    """Integer member ids work in both frames (the benchmark's compact rows)."""
    records = pl.DataFrame(
        {
            "campaign_id": [1, 1, 2],
            "member_id": [7, 7, 7],
            "type": [0, 2, 1],
            "occurred_at": [1, 2, 3],
        }
    )
    members = pl.DataFrame(
        {
            "campaign_id": [2, 1],
            "member_id": [7, 7],
            "status": [None, "Sent"],
            "activity": pl.Series([None, None], dtype=pl.Int8),
            "activity_date": pl.Series([None, None], dtype=pl.Int64),
        }
    )
    out = columnar.refresh(members, records, Settings())
    assert out["status"].to_list() == ["Opened", "Clicked"]
    assert out["clicks"].to_list() == [0, 1]


def test_members_keep_their_order_and_extra_columns_and_count_zero_without_records() -> None:
    """Rows come back in the members' order; a member without records has zero counters."""
    members = columnar.members_frame(
        [CampaignMember("cmp-1", "m-2", status="Planned"), CampaignMember("cmp-1", "m-1")]
    ).with_columns(person_id=pl.Series(["003b", "003a"]))
    records = columnar.records_frame([opened("m-1"), opened("m-9")])
    out = columnar.refresh(members, records, Settings())
    assert out["member_id"].to_list() == ["m-2", "m-1"]
    assert out["status"].to_list() == ["Planned", "Opened"]
    assert out["opens"].to_list() == [0, 1]
    assert out["person_id"].to_list() == ["003b", "003a"]


def test_recompute_after_deletion_falls_back_to_the_campaigns_default_status() -> None:
    """Always after a deletion with nothing left: the default status, activity cleared."""
    member = CampaignMember("cmp-1", "m-1", status="Opened", activity="Opened", activity_date=AT)
    out = columnar.recompute(
        columnar.members_frame([member]),
        columnar.records_frame([opened()]),
        Settings(days_to_keep=1),
        as_of=AT + timedelta(days=2),
        cause=RefreshCause.DELETION,
        default_statuses={"cmp-1": "Sent"},
    )
    assert columnar.members_from(out) == [CampaignMember("cmp-1", "m-1", status="Sent")]


def test_a_naive_datetime_column_is_refused_naming_the_column() -> None:
    """occurred_at without a zone is an error; the library never guesses a zone."""
    records = pl.DataFrame(
        {
            "campaign_id": ["cmp-1"],
            "member_id": ["m-1"],
            "type": ["Opened"],
            "occurred_at": [datetime(2024, 5, 1)],
        }
    )
    with pytest.raises(InvalidValueError, match=r"'records\.occurred_at' must be a timezone-aware"):
        columnar.rollups(records)


def test_an_unknown_type_name_is_refused_naming_the_column() -> None:
    """A type no spelling of ActivityType names is an error listing the accepted types."""
    records = pl.DataFrame(
        {"campaign_id": ["c"], "member_id": ["m"], "type": ["Forwarded"], "occurred_at": [1]}
    )
    with pytest.raises(InvalidValueError, match=r"'records\.type' must be one of"):
        columnar.rollups(records)


def test_a_type_code_out_of_range_is_refused() -> None:
    """Codes run from 0 (Sent) to 5 (Spam complaint)."""
    records = pl.DataFrame(
        {"campaign_id": ["c"], "member_id": ["m"], "type": [6], "occurred_at": [1]}
    )
    with pytest.raises(InvalidValueError, match="a type code from 0 to 5"):
        columnar.rollups(records)


def test_a_missing_column_is_refused_naming_it() -> None:
    """A records frame without occurred_at is refused before anything is computed."""
    records = pl.DataFrame({"campaign_id": ["c"], "member_id": ["m"], "type": ["Opened"]})
    with pytest.raises(InvalidValueError, match="'occurred_at'"):
        columnar.rollups(records)


def test_a_member_listed_twice_is_refused() -> None:
    """One row per (campaign_id, member_id)."""
    members = columnar.members_frame([CampaignMember("c", "m"), CampaignMember("c", "m")])
    with pytest.raises(InvalidValueError, match=r"one row per \(campaign_id, member_id\)"):
        columnar.refresh(members, columnar.records_frame([]), Settings())


def test_an_activity_without_an_activity_date_is_refused() -> None:
    """activity and activity_date are set together, as on CampaignMember."""
    members = columnar.members_frame([CampaignMember("c", "m")]).with_columns(
        activity=pl.Series(["Opened"], dtype=pl.String)
    )
    with pytest.raises(InvalidValueError, match="set together with 'activity'"):
        columnar.refresh(members, columnar.records_frame([]), Settings())


def test_an_untrimmed_status_label_is_refused() -> None:
    """Statuses are CRM labels: 1 to 40 characters, no surrounding spaces."""
    members = columnar.members_frame([CampaignMember("c", "m")]).with_columns(
        status=pl.Series([" Sent"])
    )
    with pytest.raises(InvalidValueError, match=r"'members\.status'"):
        columnar.refresh(members, columnar.records_frame([]), Settings())


def test_ids_of_different_dtypes_in_the_two_frames_are_refused() -> None:
    """Text ids in one frame and integer ids in the other never match silently."""
    records = pl.DataFrame({"campaign_id": [1], "member_id": [1], "type": [1], "occurred_at": [1]})
    members = columnar.members_frame([CampaignMember("c", "m")])
    with pytest.raises(InvalidTypeError, match=r"'records\.campaign_id'"):
        columnar.refresh(members, records, Settings())


def test_a_pandas_frame_is_refused_with_the_expected_type() -> None:
    """Only polars frames are read; the error says so."""
    with pytest.raises(InvalidTypeError, match="a polars DataFrame or LazyFrame"):
        columnar.rollups([opened()])  # type: ignore[arg-type]


def test_settings_and_cause_must_be_the_librarys_values() -> None:
    """A settings mapping or a cause string is refused naming the argument."""
    records = columnar.records_frame([])
    members = columnar.members_frame([])
    with pytest.raises(InvalidTypeError, match="'settings'"):
        columnar.refresh(members, records, {})  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="'cause'"):
        columnar.refresh(members, records, Settings(), cause="import")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="'default_statuses'"):
        columnar.refresh(members, records, Settings(), default_statuses=["Sent"])  # type: ignore[arg-type]


def test_to_polars_builds_a_records_or_a_members_frame() -> None:
    """to_polars picks the frame by what it is given; empty or mixed input is refused."""
    assert columnar.to_polars([opened()]).columns[:4] == [
        "campaign_id",
        "member_id",
        "type",
        "occurred_at",
    ]
    assert "status" in columnar.to_polars([CampaignMember("c", "m")]).columns
    with pytest.raises(InvalidValueError, match="at least one"):
        columnar.to_polars([])
    with pytest.raises(InvalidTypeError, match="only Activity values"):
        columnar.to_polars([opened(), CampaignMember("c", "m")])  # type: ignore[list-item]


def test_lazy_frames_are_accepted() -> None:
    """A LazyFrame is collected and read like a DataFrame."""
    lazy = columnar.records_frame([opened()]).lazy()
    assert columnar.rollups(lazy)["opens"].to_list() == [1]


def test_notebook_to_polars_is_the_columnar_converter() -> None:
    """cmsf_core.app.notebook.to_polars gives the frame columnar.to_polars gives."""
    from cmsf_core.app.notebook import to_polars  # noqa: PLC0415 - the notebook entry point

    members = [CampaignMember("cmp-1", "m-1", status="Sent")]
    assert to_polars(members).equals(columnar.to_polars(members))


def test_categorical_ids_and_ids_of_other_integer_widths_match() -> None:
    """Categorical ids compare as their text; Int32 and Int64 ids compare as numbers."""
    records = columnar.records_frame([opened()]).with_columns(
        pl.col("campaign_id").cast(pl.Categorical)
    )
    members = columnar.members_frame([CampaignMember("cmp-1", "m-1")])
    assert columnar.refresh(members, records, Settings())["opens"].to_list() == [1]
    narrow = pl.DataFrame(
        {"campaign_id": [1], "member_id": [2], "type": [1], "occurred_at": [MINUTE]},
        schema_overrides={"campaign_id": pl.Int32, "member_id": pl.Int32},
    )
    wide = pl.DataFrame(
        {"campaign_id": [1], "member_id": [2], "status": [None], "activity": [None]},
        schema_overrides={"status": pl.String},
    ).with_columns(activity_date=pl.lit(None))
    out = columnar.refresh(wide, narrow, Settings())
    assert out.select("status", "opens").row(0) == ("Opened", 1)


def test_columns_of_nulls_read_as_empty_status_activity_and_date() -> None:
    """A members frame whose status, activity and date columns hold only nulls is fresh."""
    members = pl.DataFrame(
        {"campaign_id": ["cmp-1"], "member_id": ["m-1"], "status": [None], "activity": [None]}
    ).with_columns(activity_date=pl.lit(None))
    out = columnar.refresh(members, columnar.records_frame([opened()]), Settings())
    assert columnar.members_from(out)[0].activity is ActivityType.OPENED


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "member_id",
            pl.Series([None], dtype=pl.String),
            r"'records\.member_id' must be set on every row",
        ),
        ("member_id", [1.5], r"'records\.member_id' must be a String or integer column"),
        ("type", [1.0], r"'records\.type' must be activity type names or integer codes"),
        ("occurred_at", [1.0], r"'records\.occurred_at' must be a zoned Datetime or integer"),
    ],
)
def test_records_columns_of_the_wrong_dtype_are_refused(
    column: str, value: object, message: str
) -> None:
    """Each column's dtype is checked and named in the error."""
    frame = {"campaign_id": ["c"], "member_id": ["m"], "type": ["Opened"], "occurred_at": [1]}
    frame[column] = value
    with pytest.raises((InvalidTypeError, InvalidValueError), match=message):
        columnar.rollups(pl.DataFrame(frame))


def test_a_status_column_that_is_not_text_is_refused() -> None:
    """Statuses are labels: a numeric status column is refused."""
    members = columnar.members_frame([CampaignMember("c", "m")]).with_columns(status=pl.lit(1))
    with pytest.raises(InvalidTypeError, match=r"'members\.status'"):
        columnar.refresh(members, columnar.records_frame([]), Settings())


def test_the_converters_refuse_anything_but_the_librarys_values() -> None:
    """records_frame takes Activity values and members_frame CampaignMember values only."""
    with pytest.raises(InvalidTypeError, match="'activities'"):
        columnar.records_frame([CampaignMember("c", "m")])  # type: ignore[list-item]
    with pytest.raises(InvalidTypeError, match="'members'"):
        columnar.members_frame([opened()])  # type: ignore[list-item]


def test_recompute_refuses_a_cause_that_is_not_a_refresh_cause() -> None:
    """recompute checks its arguments as refresh does."""
    with pytest.raises(InvalidTypeError, match="'cause'"):
        columnar.recompute(
            columnar.members_frame([]),
            columnar.records_frame([]),
            Settings(),
            as_of=AT,
            cause="deletion",  # type: ignore[arg-type]
        )


def test_an_empty_default_status_mapping_falls_back_to_no_status() -> None:
    """With no default known, a recompute that finds nothing empties the status."""
    member = CampaignMember("cmp-1", "m-1", status="Opened", activity="Opened", activity_date=AT)
    out = columnar.refresh(
        columnar.members_frame([member]),
        columnar.records_frame([]),
        Settings(),
        cause=RefreshCause.DELETION,
        default_statuses={},
    )
    assert out["status"].to_list() == [None]


@pytest.mark.parametrize("frame", ["members", "records"])
def test_ids_of_a_python_object_column_are_refused_naming_the_column(frame: str) -> None:
    """An Object column of ids is refused as any other wrong dtype, before the data is
    looked at (the checks read each frame's data in one pass)."""
    ids = pl.Series([object()], dtype=pl.Object)
    members = columnar.members_frame([CampaignMember("cmp-1", "m-1")])
    records = columnar.records_frame([opened()])
    if frame == "members":
        members = members.with_columns(member_id=ids)
    else:
        records = records.with_columns(member_id=ids)
    with pytest.raises(InvalidTypeError, match=rf"'{frame}.member_id' must be a String or integer"):
        columnar.refresh(members, records, Settings())
