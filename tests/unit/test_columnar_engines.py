"""``simulate`` and ``diagnose`` give the same output through either engine: the pure
rules member by member, or the columnar path over polars frames."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from cmsf_core import RefreshMode, Settings
from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.app.cli import main
from cmsf_core.app.columnar import stores
from cmsf_core.app.columnar.stores import (
    COLUMNAR_THRESHOLD,
    diagnose_store,
    status_without_activity,
    use_columnar,
)
from cmsf_core.app.simulate import Variant, format_comparison, simulate
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.ports.crm import StoreCorruptError

pytest.importorskip("polars")

EXPORT = Path(__file__).resolve().parent.parent / "data" / "platform"
ENGINES = ("rules", "columnar", "auto")


def cmsf(*args: str) -> tuple[int, str]:
    """``cmsf ARGS`` in this process: the exit status and what it printed."""
    out = io.StringIO()
    return main(list(args), out), out.getvalue()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The FAQ demo (Update Once, 7 days kept), small."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    status, _ = cmsf(
        "demo", "--store", str(path), "--recipients", "80", "--campaigns", "2", "--days", "12"
    )
    assert status == 0
    return path


@pytest.fixture(scope="module")
def export_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/data/platform synced into a store."""
    path = tmp_path_factory.mktemp("export") / "export.db"
    status, _ = cmsf(
        "sync", "--store", str(path), "--platform", str(EXPORT), "--as-of", "2024-04-10"
    )
    assert status == 0
    return path


@pytest.mark.parametrize("extra", [(), ("--refresh", "Always")], ids=["last-run", "always"])
def test_diagnose_of_the_demo_store_prints_the_same_through_every_engine(
    demo_store: Path, extra: tuple[str, ...], tmp_path: Path
) -> None:
    """The same report, word for word, and the same exit status, whichever engine."""
    settings = tmp_path / "s.toml"
    settings.write_text('Campaign_Member_Refresh = "Always"\n', encoding="utf-8")
    more = ("--settings", str(settings)) if extra else ()
    runs = {
        engine: cmsf(
            "diagnose",
            "--store",
            str(demo_store),
            "--limit",
            "0",
            "--engine",
            engine,
            *more,
            "--as-of",
            "2026-03-14",
        )
        for engine in ENGINES
    }
    assert runs["rules"][0] == 1
    assert "STATUS_WITHOUT_ACTIVITY" in runs["rules"][1] or extra
    assert runs["columnar"] == runs["rules"]
    assert runs["auto"] == runs["rules"]


def test_diagnose_of_a_synced_export_is_the_same_through_every_engine(export_store: Path) -> None:
    """The export in tests/data/platform, synced, then diagnosed at several instants."""
    for as_of in ("2024-04-10", "2025-04-10"):
        runs = {
            engine: cmsf(
                "diagnose",
                "--store",
                str(export_store),
                "--as-of",
                as_of,
                "--limit",
                "0",
                "--engine",
                engine,
            )
            for engine in ENGINES
        }
        assert runs["columnar"] == runs["rules"] == runs["auto"]


def test_the_store_api_gives_the_same_members_and_findings(demo_store: Path) -> None:
    """diagnose_store: the same pairs of member and findings, in the same order."""
    with SqliteCrm(demo_store, create=False) as crm:
        last = crm.last_run()
        assert last is not None
        settings, as_of = last
        rules = diagnose_store(crm, settings, as_of=as_of, engine="rules")
        assert rules
        assert diagnose_store(crm, settings, as_of=as_of, engine="columnar") == rules


def test_simulate_gives_the_same_results_through_every_engine() -> None:
    """Every day's figures of both FAQ variants agree; so does the printed comparison."""
    variants = [
        Variant("once", Settings(refresh_mode=RefreshMode.ONCE_ONLY, days_to_keep=7)),
        Variant("always", Settings(days_to_keep=180)),
    ]
    results = {
        engine: simulate(variants, days=10, recipients=60, campaigns=2, engine=engine)
        for engine in ("rules", "columnar")
    }
    assert results["columnar"] == results["rules"]
    assert results["rules"][0].final.unsupported > 0
    assert format_comparison(results["columnar"]) == format_comparison(results["rules"])


def test_the_simulate_command_prints_the_same_through_every_engine() -> None:
    """``cmsf simulate --engine``: the same text."""
    size = ("--recipients", "40", "--campaigns", "1", "--days", "9")
    runs = {engine: cmsf("simulate", *size, "--engine", engine) for engine in ENGINES}
    assert runs["rules"][0] == 0
    assert runs["columnar"] == runs["rules"] == runs["auto"]


def test_record_rows_read_the_records_the_store_holds(demo_store: Path) -> None:
    """The SQLite store's rows as columns: the same ids, type codes and instants as its
    records, in storage order."""
    from cmsf_core.adapters.sqlite.frames import record_rows  # noqa: PLC0415
    from cmsf_core.app.columnar import _CODE, _us  # noqa: PLC0415

    with SqliteCrm(demo_store, create=False) as crm:
        expected = [
            (a.campaign_id, a.member_id, _CODE[a.type], _us(a.occurred_at))
            for a in crm.all_records()
        ]
        assert record_rows(crm) == expected


def test_the_blank_characters_are_those_str_strip_removes() -> None:
    """The SQL check of an id strips exactly what Python's ``str.strip`` does."""
    from cmsf_core.adapters.sqlite.frames import BLANK  # noqa: PLC0415

    assert "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) == BLANK


#: The row of each damaged column (schema 3: a record's ids are its member row's).
_FIRST_RECORD = "(SELECT min(id) FROM records)"
_ROW_OF = {
    "type": f"records WHERE id = {_FIRST_RECORD}",
    "occurred_at": f"records WHERE id = {_FIRST_RECORD}",
    "member_id": "record_members WHERE id = "
    f"(SELECT member FROM records WHERE id = {_FIRST_RECORD})",
}


@pytest.mark.parametrize(
    ("column", "value"),
    [("type", "'NOT_A_TYPE'"), ("member_id", "char(12288)"), ("occurred_at", "'noon'")],
)
def test_a_damaged_record_gets_the_rules_error_through_every_engine(
    demo_store: Path, tmp_path: Path, column: str, value: str
) -> None:
    """A row the reader refuses: the columnar path reads the store the usual way, so the
    error (and its wording) is the rules path's."""
    path = tmp_path / "damaged.db"
    path.write_bytes(demo_store.read_bytes())
    with sqlite3.connect(path) as db:
        table, where = _ROW_OF[column].split(" WHERE ", 1)
        db.execute(f"UPDATE {table} SET {column} = {value} WHERE {where}")
    db.close()
    errors = {}
    with SqliteCrm(path, create=False) as crm:
        from cmsf_core.adapters.sqlite.frames import record_rows  # noqa: PLC0415

        assert record_rows(crm) is None
        settings, as_of = Settings(), crm.last_run()[1]  # type: ignore[index]
        for engine in ("rules", "columnar"):
            try:
                diagnose_store(crm, settings, as_of=as_of, engine=engine)
            except StoreCorruptError as error:
                errors[engine] = str(error)
    assert errors.get("columnar") == errors.get("rules")
    # A blank member id belongs to no member: neither path reads it, neither fails.
    assert ("rules" in errors) is (column != "member_id")


def test_auto_takes_the_columnar_path_from_the_threshold_on() -> None:
    """``auto``: the rules below COLUMNAR_THRESHOLD records, columnar from it on."""
    assert COLUMNAR_THRESHOLD == 50_000
    assert not use_columnar("auto", records=COLUMNAR_THRESHOLD - 1)
    assert use_columnar("auto", records=COLUMNAR_THRESHOLD)
    assert use_columnar("columnar", records=0)
    assert not use_columnar("rules", records=10**9)


def test_an_unknown_engine_is_refused_naming_the_field() -> None:
    """One clear error naming ``engine`` and the choices."""
    with pytest.raises(InvalidValueError, match="'engine' must be one of 'auto', 'rules'"):
        use_columnar("fast", records=0)
    with pytest.raises(InvalidValueError, match="'engine'"):
        simulate([], engine="fast")


def test_without_polars_columnar_is_refused_and_auto_falls_back(
    monkeypatch: pytest.MonkeyPatch, demo_store: Path
) -> None:
    """No polars: ``columnar`` names the extra to install; ``auto`` takes the rules."""
    monkeypatch.setattr(stores, "_has_polars", lambda: False)
    with pytest.raises(RuntimeError, match=r"pip install 'cmsf_core\[polars\]'"):
        use_columnar("columnar", records=0)
    assert not use_columnar("auto", records=10**9)
    monkeypatch.setattr(stores, "COLUMNAR_THRESHOLD", 0)
    with SqliteCrm(demo_store, create=False) as crm:
        settings, as_of = crm.last_run()  # type: ignore[misc]
        assert diagnose_store(crm, settings, as_of=as_of) == diagnose_store(
            crm, settings, as_of=as_of, engine="rules"
        )


def test_the_commands_refuse_columnar_without_polars(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], demo_store: Path
) -> None:
    """``--engine columnar`` without polars: exit 2 before any work, naming the extra."""
    import importlib.util  # noqa: PLC0415

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "polars" else real(name, *a)
    )
    for args in (("diagnose", "--store", str(demo_store)), ("simulate", "--days", "1")):
        status, printed = cmsf(*args, "--engine", "columnar")
        assert status == 2
        assert printed == ""
        assert "--engine columnar needs polars: pip install 'cmsf_core[polars]'" in (
            capsys.readouterr().err
        )


def test_status_without_activity_answers_none_for_a_damaged_store(
    demo_store: Path, tmp_path: Path
) -> None:
    """simulate's figure falls back to the rules when a SQLite row needs a closer look."""
    path = tmp_path / "damaged.db"
    path.write_bytes(demo_store.read_bytes())
    with sqlite3.connect(path) as db:
        db.execute("UPDATE records SET type = 'NOPE' WHERE id = (SELECT min(id) FROM records)")
    db.close()
    with SqliteCrm(path, create=False) as crm:
        assert status_without_activity(crm, [], Settings()) is None


def test_a_notebook_turns_a_whole_store_into_the_columnar_frames(demo_store: Path) -> None:
    """to_polars(store): its records (read from the SQLite columns) and members as the
    columnar path's frames, the same as those built from the store's values."""
    from cmsf_core.app import columnar  # noqa: PLC0415
    from cmsf_core.app.columnar.stores import StoreFrames  # noqa: PLC0415
    from cmsf_core.app.notebook import to_polars  # noqa: PLC0415

    with SqliteCrm(demo_store, create=False) as crm:
        frames = to_polars(crm)
        records, members = crm.all_records(), crm.all_members()
    assert isinstance(frames, StoreFrames)
    assert frames.records.equals(columnar.records_frame(records).select(frames.records.columns))
    ordered = sorted(members, key=lambda m: (m.crm_campaign_id, m.email))
    assert frames.members.equals(to_polars(ordered))
    assert columnar.members_from(frames.members) == [m.member for m in ordered]
    assert frames.members.columns[-3:] == ["crm_campaign_id", "email", "person_id"]
    out = columnar.refresh(frames.members, frames.records, Settings())
    assert out.columns[-3:] == ["crm_campaign_id", "email", "person_id"]


def test_member_records_frame_refuses_other_values() -> None:
    """Only MemberRecord values: anything else is named."""
    from cmsf_core.app import columnar  # noqa: PLC0415
    from cmsf_core.domain.errors import InvalidTypeError  # noqa: PLC0415

    with pytest.raises(InvalidTypeError, match="'members' must be MemberRecord values"):
        columnar.member_records_frame(["x"])  # type: ignore[list-item]
