"""Real ``cmsf`` processes on one store: concurrent syncs end in the serial state, and a
process killed (SIGKILL) at a random moment leaves a store that opens, checks clean and
converges on a rerun.

``CMSF_STRESS_REPEAT=N`` repeats each scenario N times (default 1) for a deeper run; the
kill moments come from a seeded generator, so a failing run can be repeated.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmsf_core.adapters.sqlite import SqliteCrm

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "platform"
AS_OF = "2024-04-10T00:00:00+00:00"
REPEAT = int(os.environ.get("CMSF_STRESS_REPEAT", "1"))
SETTINGS = (
    'Auto_Create_Campaigns = true\nAuto_Create_Campaigns_Since = "2020-01-01T00:00:00+00:00"\n'
)
DEMO = ["--recipients", "150", "--campaigns", "2", "--days", "8"]
_LIST = "e2b4d6f8a0c24e6a8c0e2a4c6e8a0c25"


def _page(rows: list[dict[str, str]], ordered_by: str) -> str:
    return json.dumps(
        {
            "Results": rows,
            "ResultsOrderedBy": ordered_by,
            "OrderDirection": "asc",
            "PageNumber": 1,
            "PageSize": max(1000, len(rows)),
            "RecordsOnThisPage": len(rows),
            "TotalNumberOfRecords": len(rows),
            "NumberOfPages": 1,
        }
    )


def _generated_export(folder: Path, *, later: bool, recipients: int = 500, seed: int = 3) -> Path:
    """The sample export with one campaign grown to ``recipients`` recipients, 40% of
    them opening in the two days after it was sent and a third of those clicking; with
    ``later``, the platform has moved on: as many opens and clicks again, in April."""
    shutil.copytree(SAMPLE, folder)
    rng = random.Random(seed)
    campaign = folder / "campaigns" / "5d2e8f1a3b4c4d6e9f0a1b2c3d4e5f60"
    emails = [f"rider{i:05d}@example.co.uk" for i in range(recipients)]
    opens: list[dict[str, str]] = []
    clicks: list[dict[str, str]] = []
    days = ("2024-03-29", "2024-03-30") + (("2024-04-01", "2024-04-02") if later else ())
    for day in days:
        for email in emails:
            if rng.random() < 0.2:
                minute = rng.randint(0, 1439)
                at = f"{day} {minute // 60:02d}:{minute % 60:02d}:00"
                opens.append({"EmailAddress": email, "ListID": _LIST, "Date": at})
                if rng.random() < 0.3:
                    url = "https://thamescycles.example/service"
                    clicks.append({"EmailAddress": email, "URL": url, "ListID": _LIST, "Date": at})
    opens.sort(key=lambda row: row["Date"])
    clicks.sort(key=lambda row: row["Date"])
    recipients_page = [{"EmailAddress": e, "ListID": _LIST} for e in emails]
    (campaign / "recipients.json").write_text(_page(recipients_page, "email"), encoding="utf-8")
    (campaign / "opens.json").write_text(_page(opens, "date"), encoding="utf-8")
    (campaign / "clicks.json").write_text(_page(clicks, "date"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The generated export before and after the platform moved on, with the settings
    file next to them."""
    folder = tmp_path_factory.mktemp("export")
    (folder / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    return (
        _generated_export(folder / "before", later=False),
        _generated_export(folder / "after", later=True),
    )


def _command(kind: str, store: Path, export: Path) -> list[str]:
    if kind == "demo":
        return ["demo", "--store", str(store), *DEMO]
    full = ["--full"] if kind == "full" else []
    settings = str(export.parent / "settings.toml")
    return [
        "sync", "--store", str(store), "--platform", str(export), "--as-of", AS_OF,
        "--settings", settings, *full,
    ]  # fmt: skip


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CMSF_LOCK_WAIT": "120"}
    return subprocess.Popen(
        [sys.executable, "-m", "cmsf_core", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    process = _start(args, cwd)
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _differences(got: tuple[object, ...], expected: tuple[object, ...]) -> str:
    """Which parts of two states differ, and by how many entries (not the states)."""
    names = ("records", "members", "campaigns", "links", "platform campaigns", "checkpoints")
    return "; ".join(
        f"{name}: {len(set(map(repr, a)) ^ set(map(repr, b)))} entries differ"  # type: ignore[call-overload]
        for name, a, b in zip(names, got, expected, strict=True)
        if a != b
    )


def _same_state(store: Path, expected: tuple[object, ...]) -> None:
    got = _state(store)
    if got != expected:
        pytest.fail(f"the store differs from the serial run: {_differences(got, expected)}")


def _state(store: Path) -> tuple[object, ...]:
    """Everything a sync decides: records, members with their rollups, campaigns,
    links, platform campaigns and checkpoints (not the maintenance log)."""
    with SqliteCrm(store, create=False) as crm:
        clients = sorted({link.client_id for link in crm.links().values()})
        return (
            sorted(repr(a) for a in crm.all_records()),
            sorted(repr(m) for m in crm.all_members()),
            sorted(repr(c) for c in crm.campaigns().values()),
            sorted(repr(k) for k in crm.links().values()),
            sorted(repr(p) for p in crm.platform_campaigns().values()),
            [crm.checkpoint(c) for c in clients],
        )


@pytest.fixture(scope="module")
def serial(
    exports: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """The states serial syncs reach: of the later export alone, and of the earlier
    export then the later one."""
    before, after = exports
    folder = tmp_path_factory.mktemp("serial")
    assert _run(_command("incremental", folder / "a.db", after), folder).returncode == 0
    assert _run(_command("incremental", folder / "b.db", before), folder).returncode == 0
    assert _run(_command("incremental", folder / "b.db", after), folder).returncode == 0
    return _state(folder / "a.db"), _state(folder / "b.db")


def _refused_cleanly(result: subprocess.CompletedProcess[str]) -> bool:
    lines = result.stderr.strip().splitlines()
    return result.returncode == 2 and len(lines) == 1 and "another" in lines[0]


@pytest.mark.parametrize(
    ("start", "kinds"),
    [
        ("missing store", ("full", "incremental", "incremental")),
        ("store synced before", ("incremental", "full")),
        ("store synced before", ("full", "incremental", "incremental")),
    ],
)
def test_concurrent_syncs_end_in_the_state_of_a_serial_run(
    kinds: tuple[str, ...],
    start: str,
    exports: tuple[Path, Path],
    serial: tuple[tuple[object, ...], tuple[object, ...]],
    tmp_path: Path,
) -> None:
    """Two or three `cmsf sync` processes (incremental and --full mixed, one --as-of) on
    one store, from nothing or after the platform moved on, each succeed or are refused
    cleanly (never the watermark error), and the store ends as serial syncs leave it."""
    before, after = exports
    for n in range(REPEAT):
        store = tmp_path / f"{n}.db"
        if start == "store synced before":
            assert _run(_command("incremental", store, before), tmp_path).returncode == 0
        processes = [_start(_command(kind, store, after), tmp_path) for kind in kinds]
        results = []
        for process in processes:
            out, err = process.communicate(timeout=300)
            results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))

        for result in results:
            assert result.returncode == 0 or _refused_cleanly(result), result.stderr
            assert "watermark" not in result.stderr
        assert any(result.returncode == 0 for result in results)
        if start == "store synced before":  # nothing to race for: every sync waits its turn
            assert all(result.returncode == 0 for result in results), results
        _same_state(store, serial[start != "missing store"])
        with SqliteCrm(store, create=False) as crm:
            assert crm.problems() == []


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    while not path.exists() and process.poll() is None:
        time.sleep(0.001)


@pytest.mark.parametrize("kind", ["incremental", "full", "demo"])
def test_a_killed_run_leaves_a_consistent_store_and_a_rerun_converges(
    kind: str, exports: tuple[Path, Path], tmp_path: Path
) -> None:
    """SIGKILL at seeded random moments of `cmsf sync`, `sync --full` and `cmsf demo`
    (and, for the demo, right after its file appears): the store opens, `cmsf check`
    finds it consistent, and the same command again ends in the uninterrupted state."""
    rng = random.Random(f"kill-{kind}")
    export = exports[1]
    reference = tmp_path / "reference"
    reference.mkdir()
    started = time.monotonic()
    assert _run(_command(kind, reference / "crm.db", export), reference).returncode == 0
    duration = time.monotonic() - started
    expected = _state(reference / "crm.db")

    first = 1 if kind == "full" else 0  # a full sync's store exists before it starts
    for n in range(first, REPEAT + 1):
        folder = tmp_path / f"run-{n}"
        folder.mkdir()
        store = folder / "crm.db"
        if kind == "full":
            assert _run(_command("incremental", store, export), folder).returncode == 0
        process = _start(_command(kind, store, export), folder)
        if n == 0:
            _wait_for(store, process)  # right after the file appears
        else:
            time.sleep(rng.uniform(0.05, duration))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)

        if store.exists():
            with SqliteCrm(store, create=False) as crm:
                assert crm.problems() == []
            check = _run(["check", "--store", str(store)], folder)
            assert check.returncode == 0, check.stdout + check.stderr
        rerun = _run(_command(kind, store, export), folder)
        assert rerun.returncode == 0, rerun.stderr
        _same_state(store, expected)
        assert not list(folder.glob(".*.creating"))
