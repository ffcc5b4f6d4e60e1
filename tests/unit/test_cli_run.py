"""`cmsf run` end to end, in a subprocess driven by a fake clock across London's DST change."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.shell.service import RUN_FINISHED, load_service_state

DATA = Path(__file__).resolve().parent.parent / "data"
EXPORT = DATA / "platform"
START = "2024-03-30T22:30:00Z"  # London: 22:30 GMT; the clocks go forward at 01:00 GMT
UNTIL = "2024-03-31T12:00:00Z"  # 13:00 BST
WAITING = "fake clock stopped"


def cmsf(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmsf_core", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def settings(tmp_path: Path) -> Path:
    """The walk-through's settings (auto-create from March) with the daily full sync on."""
    path = tmp_path / "service.toml"
    text = (DATA / "platform-settings.toml").read_text(encoding="utf-8")
    path.write_text(text + "\nPerform_Full_Daily_Sync = true\n", encoding="utf-8")
    return path


def run_args(tmp_path: Path, *more: str) -> list[str]:
    return [
        "run", "--store", "crm.db", "--platform", str(EXPORT), "--settings",
        str(settings(tmp_path)), "--org-time-zone", "Europe/London", *more,
    ]  # fmt: skip


def start_service(tmp_path: Path, *more: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start `cmsf run` with a fake clock; return it once its clock has reached its end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cmsf_core", *run_args(tmp_path, "--fake-clock", START,
         "--fake-until", UNTIL, *more)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(WAITING):
            break
    return process, lines


def stop(process: subprocess.Popen[str], number: signal.Signals) -> tuple[int, str, str]:
    process.send_signal(number)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def test_sigterm_stops_a_service_that_ran_hourly_and_daily_full_syncs_across_dst(
    tmp_path: Path,
) -> None:
    """Hourly runs skip 01:00 on 31 March 2024, the local-midnight run is full, SIGTERM
    exits 0 with one line, and the store is whole and equal to one serial sync."""
    process, lines = start_service(tmp_path)
    status, out, err = stop(process, signal.SIGTERM)

    assert status == 0, err
    assert err == ""
    assert out.splitlines() == [
        "stopped on SIGTERM after 15 run(s), 0 failed; the store is consistent"
    ]
    runs = [line for line in lines if ": full sync" in line or ": incremental sync" in line]
    hours = [line.split(": ", 1)[0][11:] for line in runs]
    assert hours == ["22:30 GMT", "23:00 GMT", "00:00 GMT"] + [
        f"{h:02d}:00 BST" for h in range(2, 14)
    ]
    assert [line.split(": ")[1].split(" for ")[0] for line in runs[:4]] == [
        "full sync", "incremental sync", "full sync", "incremental sync",
    ]  # fmt: skip
    assert "next run in 1 hour, at 2024-03-31 02:00 BST" in lines

    db = sqlite3.connect(tmp_path / "crm.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    serial = cmsf(
        "sync", "--store", "serial.db", "--platform", str(EXPORT), "--settings",
        str(settings(tmp_path)), "--as-of", UNTIL, cwd=tmp_path,
    )  # fmt: skip
    assert serial.returncode == 0, serial.stderr
    with SqliteCrm(tmp_path / "crm.db") as served, SqliteCrm(tmp_path / "serial.db") as once:
        members = sorted(repr(m) for m in served.all_members())
        assert members
        assert members == sorted(repr(m) for m in once.all_members())
        assert sorted(repr(a.key) for a in served.all_records()) == sorted(
            repr(a.key) for a in once.all_records()
        )
        assert sum(m.code == RUN_FINISHED for m in served.messages()) == 15
        state, clients = load_service_state(served)
        assert state.last_served is not None
        assert state.last_served.isoformat() == "2024-03-31T12:00:00+00:00"
        assert [c.last_synced.isoformat() if c.last_synced else None for c in clients] == [
            "2024-03-31T12:00:00+00:00"
        ] * 2


def test_sigint_exits_130_with_one_line_and_a_second_service_is_refused(tmp_path: Path) -> None:
    """While a service serves the store a second one exits 2; Ctrl-C stops the first, 130."""
    process, _ = start_service(tmp_path)
    second = cmsf(*run_args(tmp_path, "--max-runs", "1"), cwd=tmp_path)
    status, _, err = stop(process, signal.SIGINT)

    assert second.returncode == 2
    assert "another 'cmsf run' (pid" in second.stderr
    assert len(second.stderr.splitlines()) == 1
    assert status == 130
    assert err.splitlines() == [
        "cmsf run: interrupted after 15 run(s), 0 failed; the last sync finished first"
    ]


def test_a_restarted_service_carries_on_with_the_next_scheduled_run(tmp_path: Path) -> None:
    """--max-runs stops after its runs (exit 0); started again before the next scheduled
    run, the served runs are not run again and the clients table says when they synced."""
    first = cmsf(*run_args(tmp_path, "--fake-clock", START, "--max-runs", "2"), cwd=tmp_path)
    later = "2024-03-30T23:30:00Z"
    again = cmsf(*run_args(tmp_path, "--fake-clock", later, "--max-runs", "1"), cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "done: 2 run(s), 0 failed"
    assert again.returncode == 0, again.stderr
    assert "last synced 30 minutes ago" in again.stdout
    assert "2024-03-31 00:00 GMT: full sync for the 2024-03-31 00:00 GMT run" in again.stdout


def test_a_turned_off_store_idles_until_stopped(tmp_path: Path) -> None:
    """--turn-off sets the switch; `cmsf run` then runs nothing and says how to turn it on."""
    cmsf(*run_args(tmp_path, "--fake-clock", START, "--max-runs", "1"), cwd=tmp_path)
    off = cmsf("run", "--store", "crm.db", "--turn-off", cwd=tmp_path)
    process, lines = start_service(tmp_path)
    status, out, _ = stop(process, signal.SIGTERM)
    on = cmsf("run", "--store", "crm.db", "--turn-on", cwd=tmp_path)

    assert off.returncode == 0
    assert off.stdout == "the sync of crm.db is turned off\n"
    assert status == 0
    assert (
        "nothing to run: the sync is turned off "
        "(turn it on with 'cmsf run --store crm.db --turn-on')"
    ) in lines
    assert "after 0 run(s)" in out
    assert on.stdout == "the sync of crm.db is turned on\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--org-time-zone", "Mars/Olympus"], "--org-time-zone: expected an IANA time zone"),
        (["--fake-until", UNTIL], "--fake-until needs --fake-clock"),
        (["--fake-clock", UNTIL, "--fake-until", START], "must not be before --fake-clock"),
        (["--max-runs", "0"], "expected a whole number from 1"),
        (["--turn-on"], "--turn-on and --turn-off take no --platform"),
    ],
)
def test_bad_run_options_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], words: str
) -> None:
    """Each bad option is refused before anything runs, in one line on stderr."""
    result = cmsf(*run_args(tmp_path, *args), cwd=tmp_path)

    assert result.returncode == 2
    assert words in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "crm.db").exists()


def test_run_without_a_platform_or_on_a_missing_store_is_refused(tmp_path: Path) -> None:
    """No --platform: exit 2 naming it; --turn-off on a store that does not exist: exit 2."""
    bare = cmsf("run", "--store", "crm.db", cwd=tmp_path)
    off = cmsf("run", "--store", "crm.db", "--turn-off", cwd=tmp_path)

    assert bare.returncode == 2
    assert "--platform FOLDER is required" in bare.stderr
    assert off.returncode == 2
    assert "does not exist" in off.stderr
