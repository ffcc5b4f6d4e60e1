"""The ``cmsf`` command end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
