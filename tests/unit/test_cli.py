"""The ``cmsf`` command end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cmsf_core.adapters.sqlite import SqliteCrm

SMALL = ["--recipients", "60", "--campaigns", "2", "--days", "10"]


def cmsf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmsf_core", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_help_explains_every_command(tmp_path: Path) -> None:
    """`cmsf --help` names the four commands and the exit codes."""
    result = cmsf("--help", cwd=tmp_path)

    assert result.returncode == 0
    for word in ("demo", "sync", "simulate", "diagnose", "Exit codes"):
        assert word in result.stdout


def test_demo_syncs_into_a_store_and_reports(tmp_path: Path) -> None:
    """`cmsf demo` creates ./cmsf.db and reports imports, statuses, rollups and flags;
    running it again replaces its own store."""
    first = cmsf("demo", *SMALL, cwd=tmp_path)
    again = cmsf("demo", *SMALL, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert (tmp_path / "cmsf.db").is_file()
    for phrase in ("Imported", "purged", "Statuses:", "Rollups:", "diagnose flags"):
        assert phrase in first.stdout
    assert "DaysToKeep_Email = 7 (records purged after 1 week)" in first.stdout
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout


def test_demo_refuses_to_overwrite_a_store_it_did_not_make(tmp_path: Path) -> None:
    """A ./cmsf.db that is not the demo's is left alone, with exit code 2."""
    SqliteCrm(tmp_path / "cmsf.db").close()  # an empty store of someone's

    result = cmsf("demo", *SMALL, cwd=tmp_path)

    assert result.returncode == 2
    assert "was not made by 'cmsf demo'" in result.stderr


def test_diagnose_exits_1_when_members_are_flagged(tmp_path: Path) -> None:
    """After the FAQ demo (Update Once, 7 days) diagnose lists flagged members, exit 1;
    under Always with 180 days nothing is flagged, exit 0."""
    cmsf("demo", *SMALL, cwd=tmp_path)
    flagged = cmsf(
        "diagnose", "--store", "cmsf.db", "--as-of", "2026-03-12T09:00:00+00:00", cwd=tmp_path
    )
    cmsf("demo", *SMALL, "--refresh", "Always", "--days-to-keep", "180", cwd=tmp_path)
    clean_settings = tmp_path / "always.toml"
    clean_settings.write_text('Campaign_Member_Refresh = "Always"\n', encoding="utf-8")
    clean = cmsf(
        "diagnose",
        "--store",
        "cmsf.db",
        "--settings",
        str(clean_settings),
        "--as-of",
        "2026-03-12T09:00:00+00:00",
        cwd=tmp_path,
    )

    assert flagged.returncode == 1, flagged.stderr
    assert "STATUS_WITHOUT_ACTIVITY" in flagged.stdout
    assert "Always Update" in flagged.stdout
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.startswith("0 of ")


def test_a_bad_settings_file_is_refused_naming_the_key(tmp_path: Path) -> None:
    """An unknown setting in the file: exit 2, the key named, no store created."""
    bad = tmp_path / "settings.toml"
    bad.write_text("DaysToKep_Email = 7\n", encoding="utf-8")

    result = cmsf("demo", *SMALL, "--settings", str(bad), cwd=tmp_path)

    assert result.returncode == 2
    assert "DaysToKep_Email" in result.stderr
    assert "DaysToKeep_Email" in result.stderr  # the suggestion
    assert not (tmp_path / "cmsf.db").exists()


def test_a_settings_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    """A truncated TOML file: exit 2 with the file named."""
    bad = tmp_path / "settings.toml"
    bad.write_text('Campaign_Member_Refresh = "Upd', encoding="utf-8")

    result = cmsf("demo", *SMALL, "--settings", str(bad), cwd=tmp_path)

    assert result.returncode == 2
    assert "settings.toml" in result.stderr


def test_diagnose_of_a_missing_store_is_refused(tmp_path: Path) -> None:
    """diagnose never creates a store: a missing one is exit 2."""
    result = cmsf("diagnose", "--store", "nothing.db", cwd=tmp_path)

    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert not (tmp_path / "nothing.db").exists()


def test_sync_of_a_missing_folder_is_refused(tmp_path: Path) -> None:
    """sync with a platform folder that is not there: exit 2, nothing written."""
    result = cmsf("sync", "--store", "s.db", "--platform", "missing", cwd=tmp_path)

    assert result.returncode == 2
    assert "missing" in result.stderr
    assert not (tmp_path / "s.db").exists()


def test_simulate_compares_settings_and_plots_a_png(tmp_path: Path) -> None:
    """Two variants side by side; the Update Once / 7 days one leaves unsupported
    statuses, Always / 180 none; --plot writes a PNG."""
    result = cmsf(
        "simulate",
        "--refresh", "Update Once", "--days-to-keep", "7",
        "--refresh", "Always", "--days-to-keep", "180",
        "--recipients", "80", "--campaigns", "2", "--days", "16",
        "--plot", "out.png",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    row = next(
        line for line in result.stdout.splitlines() if line.startswith("members whose status")
    )
    once, always = row.split()[-2:]
    assert int(once.replace(",", "")) > 0
    assert always == "0"
    png = (tmp_path / "out.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


EXPORT = Path(__file__).resolve().parent.parent / "data" / "platform"
AS_OF = "2024-04-10T00:00:00+00:00"


def _store_state(path: Path) -> tuple[object, ...]:
    with SqliteCrm(path) as crm:
        return (
            sorted(repr(a.key) for a in crm.all_records()),
            sorted(repr(m) for m in crm.all_members()),
        )


def test_sync_of_an_export_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    """`cmsf sync` imports the exported data; the same sync again inserts nothing."""
    args = ("sync", "--store", "crm.db", "--platform", str(EXPORT), "--as-of", AS_OF)
    first = cmsf(*args, cwd=tmp_path)
    state = _store_state(tmp_path / "crm.db")
    second = cmsf(*args, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert "records inserted" in first.stdout
    inserted = next(
        line for line in first.stdout.splitlines() if "records inserted" in line
    ).split()[-1]
    assert int(inserted) > 0
    assert second.returncode == 0, second.stderr
    assert "records inserted                       0" in second.stdout
    assert _store_state(tmp_path / "crm.db") == state


def test_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    """--dry-run plans and reports, and the store stays empty."""
    result = cmsf(
        "sync", "--store", "crm.db", "--platform", str(EXPORT), "--as-of", AS_OF, "--dry-run",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "dry run: nothing applied" in result.stdout
    assert _store_state(tmp_path / "crm.db") == ([], [])


def test_a_corrupt_export_file_is_refused_naming_it(tmp_path: Path) -> None:
    """A truncated JSON file in the export: exit 2, the file named, nothing stored."""
    export = tmp_path / "export"
    shutil.copytree(EXPORT, export)
    target = next(export.glob("campaigns/*/opens*.json"))
    target.write_text(target.read_text(encoding="utf-8")[:40], encoding="utf-8")

    result = cmsf(
        "sync", "--store", "crm.db", "--platform", str(export), "--as-of", AS_OF, cwd=tmp_path
    )

    assert result.returncode == 2
    assert target.name in result.stderr
    assert _store_state(tmp_path / "crm.db") == ([], [])


DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "cli.md"


def _walk_through() -> list[tuple[str, int, list[str]]]:
    """The walk-through's commands: (command line, exit status, expected output lines)."""
    text = DOCS.read_text(encoding="utf-8").split("## Walk-through", 1)[1]
    steps: list[tuple[str, int, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                command, status = line[2:].rsplit("# exit ", 1)
                steps.append((command.strip(), int(status), []))
            else:
                steps[-1][2].append(line)
    return steps


def _shows(expected: list[str], actual: str) -> bool:
    """Each expected line matches an output line, in order; '...' stands for any text."""
    lines = iter(" ".join(line.split()) for line in actual.splitlines())
    for want in expected:
        pattern = ".*".join(re.escape(part) for part in " ".join(want.split()).split("..."))
        if not any(re.fullmatch(pattern, line) for line in lines):
            return False
    return True


def test_the_documented_walk_through_syncs_the_sample_export(tmp_path: Path) -> None:
    """docs/cli.md's walk-through, run as written from a copy of the repository's test
    data: each command gives its documented exit status and the output lines shown."""
    steps = _walk_through()
    shutil.copytree(EXPORT.parent, tmp_path / "tests" / "data")

    assert len(steps) >= 6
    for command, status, expected in steps:
        program, *args = shlex.split(command)
        assert program == "cmsf"
        result = cmsf(*args, cwd=tmp_path)
        assert result.returncode == status, (command, result.stderr)
        assert _shows(expected, result.stdout), (command, result.stdout)
    with SqliteCrm(tmp_path / "crm.db") as crm:
        assert len(crm.all_members()) == 6


def test_the_as_of_hint_for_a_naive_date_time_works_as_given(tmp_path: Path) -> None:
    """A date-time without offset is refused with a suggestion; the suggestion is accepted."""
    args = ("sync", "--store", "crm.db", "--platform", str(EXPORT), "--dry-run")
    refused = cmsf(*args, "--as-of", "2024-04-09 10:00", cwd=tmp_path)
    hint = refused.stderr.split("e.g. --as-of ", 1)[1].strip()
    accepted = cmsf(*args, "--as-of", hint, cwd=tmp_path)

    assert refused.returncode == 2
    assert hint == "2024-04-09T10:00:00+00:00"
    assert accepted.returncode == 0, accepted.stderr
    assert "sync plan at 2024-04-09 10:00 UTC" in accepted.stdout


def test_an_as_of_date_is_midnight_utc_and_z_is_utc(tmp_path: Path) -> None:
    """--as-of 2024-04-09 is midnight UTC, said in the report; ...Z is accepted as UTC."""
    args = ("sync", "--store", "crm.db", "--platform", str(EXPORT), "--dry-run")
    day = cmsf(*args, "--as-of", "2024-04-09", cwd=tmp_path)
    zulu = cmsf(*args, "--as-of", "2024-04-09T12:30:00Z", cwd=tmp_path)

    assert day.returncode == 0, day.stderr
    assert "sync plan at 2024-04-09 00:00 UTC" in day.stdout
    assert "--as-of 2024-04-09 is read as 2024-04-09 00:00 UTC" in day.stdout
    assert zulu.returncode == 0, zulu.stderr
    assert "sync plan at 2024-04-09 12:30 UTC" in zulu.stdout


def test_simulate_takes_an_option_given_alone_from_the_settings_for_every_variant(
    tmp_path: Path,
) -> None:
    """--refresh twice without --days-to-keep: two variants, both with the file's days."""
    settings = tmp_path / "s.toml"
    settings.write_text("DaysToKeep_Email = 9\n", encoding="utf-8")

    result = cmsf(
        "simulate", "--refresh", "Always", "--refresh", "Never", "--settings", str(settings),
        "--recipients", "10", "--campaigns", "1", "--days", "2",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "/" in line)
    assert header.split() == ["Always", "/", "9", "days", "Never", "/", "9", "days"]


def test_a_sync_without_links_says_auto_create_is_off(tmp_path: Path) -> None:
    """Records imported but no campaign member: the report says no campaign is linked and
    Auto_Create_Campaigns is off."""
    result = cmsf(
        "sync", "--store", "crm.db", "--platform", str(EXPORT), "--as-of", AS_OF, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "note: no campaign members" in result.stdout
    assert "Auto_Create_Campaigns is off" in result.stdout


@pytest.mark.parametrize(
    ("settings", "as_of", "note"),
    [
        (
            'Auto_Create_Campaigns = true\nAuto_Create_Campaigns_Since = "2025-01-01T00:00:00Z"\n',
            AS_OF,
            "Auto_Create_Campaigns_Since (2025-01-01 00:00 UTC) is after their send dates",
        ),
        (
            'Campaign_Filter_Start_Date = "2025-01-01T00:00:00Z"\n',
            AS_OF,
            "2 campaign(s) left out by the campaign filter",
        ),
        ("", "2024-03-01", "are after the sync's instant 2024-03-01 00:00 UTC"),
        ("Import_Email_Tracking = false\n", AS_OF, "Import_Email_Tracking is off"),
        (
            'Email_Types_To_Import = ["Spam complaint"]\n',
            AS_OF,
            "Email_Types_To_Import: Spam complaint",
        ),
    ],
    ids=["auto-create-too-late", "campaign-filter", "as-of-too-early", "tracking-off", "types"],
)
def test_a_sync_that_imports_nothing_says_why(
    tmp_path: Path, settings: str, as_of: str, note: str
) -> None:
    """Each reason a sync imports nothing is named in a note of its report."""
    file = tmp_path / "s.toml"
    file.write_text(settings, encoding="utf-8")

    result = cmsf(
        "sync", "--store", "crm.db", "--platform", str(EXPORT), "--settings", str(file),
        "--as-of", as_of, "--dry-run",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert note in result.stdout, result.stdout


def test_simulate_with_days_to_keep_alone_keeps_the_default_refresh(tmp_path: Path) -> None:
    """--days-to-keep twice without --refresh: two variants under the default Always."""
    result = cmsf(
        "simulate", "--days-to-keep", "7", "--days-to-keep", "30",
        "--recipients", "10", "--campaigns", "1", "--days", "2",
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "/" in line)
    assert header.split() == ["Always", "/", "7", "days", "Always", "/", "30", "days"]


def _documented_section(page: str, command: str) -> str:
    start = page.index(f"## `cmsf {command}`")
    end = page.find("\n## ", start + 1)
    return page[start : end if end != -1 else len(page)]


def test_docs_cli_page_documents_every_command_and_option() -> None:
    """docs/cli.md has a section for every command, naming each of its options."""
    import argparse  # noqa: PLC0415 - only this test reads the parser's inside

    from cmsf_core.app.cli import build_parser  # noqa: PLC0415

    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, sub in commands.choices.items():
        if f"## `cmsf {name}`" not in page:
            missing.append(f"section for {name}")
            continue
        section = _documented_section(page, name)
        for action in sub._actions:
            options = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
            if options and not any(f"`{o}" in section for o in options):
                missing.append(f"{name} {options[0]}")
    assert not missing, f"docs/cli.md lacks: {missing}"
