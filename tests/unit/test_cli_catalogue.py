"""A catalogue of hostile inputs to the real ``cmsf`` command, each run in a subprocess.

For every case: the documented exit status, exactly one line on stderr (none for a closed
pipe), never a traceback, and the case's folder (settings files, exports, stores) byte for
byte as it was: nothing half-written, no store left behind.  The cases run in parallel
threads, once, in a module fixture; each test checks one case.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.app import cli

EXPORT = Path(__file__).resolve().parent.parent / "data" / "platform"
SAMPLE_SETTINGS = EXPORT.parent / "platform-settings.toml"
STORE = "store.db"  # a synced store, copied into the cases that need one
SMALL = ["--recipients", "20", "--campaigns", "1", "--days", "3"]
BIG = ["--recipients", "20000", "--campaigns", "4", "--days", "200"]

Setup = Callable[[Path], None]


def _nothing(_folder: Path) -> None:
    return None


def _write(name: str, data: bytes | str) -> Setup:
    def setup(folder: Path) -> None:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        (folder / name).write_bytes(raw)

    return setup


def _mkdir(name: str) -> Setup:
    def setup(folder: Path) -> None:
        (folder / name).mkdir()

    return setup


def _export(change: Callable[[Path], None] | None = None) -> Setup:
    def setup(folder: Path) -> None:
        shutil.copytree(EXPORT, folder / "export")
        if change is not None:
            change(folder / "export")

    return setup


def _truncate_opens(export: Path) -> None:
    target = next(export.glob("campaigns/*/opens*.json"))
    target.write_text(target.read_text(encoding="utf-8")[:40], encoding="utf-8")


def _clients_not_a_list(export: Path) -> None:
    (export / "clients.json").write_text("{}", encoding="utf-8")


@dataclass(frozen=True)
class Case:
    """One hostile invocation and what ``cmsf`` must answer."""

    name: str
    args: Sequence[str]
    status: int = 2
    says: str = ""
    setup: Sequence[Setup] = ()
    store: bool = False
    interrupt: bool = False
    closed_pipe: bool = False
    changes_folder: bool = False
    env: dict[str, str] = field(default_factory=dict)

    @property
    def prog(self) -> str:
        """How the command names itself at the start of its error line."""
        if self.args and self.args[0] in {"demo", "sync", "simulate", "diagnose"}:
            return f"cmsf {self.args[0]}"
        return "cmsf"


DEEP_JSON = "[" * 10_000 + "]" * 10_000
DEEP_TOML = "a = " + "[" * 10_000 + "]" * 10_000 + "\n"
HUGE = "9" * 5_000

CASES = [
    # numbers, checked when the options are read
    Case("demo-negative-recipients", ["demo", "--recipients", "-5"], says="--recipients"),
    Case("demo-zero-days", ["demo", "--days", "0"], says="--days"),
    Case("demo-zero-campaigns", ["demo", "--campaigns", "0"], says="--campaigns"),
    Case("demo-negative-limit", ["demo", "--limit", "-1"], says="--limit"),
    Case("demo-recipients-not-a-number", ["demo", "--recipients", "many"], says="'many'"),
    Case("demo-days-too-many", ["demo", "--days", "99999999999999999999"], says="--days"),
    Case("demo-days-5000-digits", ["demo", "--days", HUGE], says="5,000 characters"),
    Case("demo-days-to-keep-too-big", ["demo", "--days-to-keep", "36501"], says="36,500"),
    Case("simulate-zero-days", ["simulate", "--days", "0"], says="got 0"),
    Case("simulate-negative-days-to-keep", ["simulate", "--days-to-keep", "-1"], says="got -1"),
    Case("simulate-fractional-recipients", ["simulate", "--recipients", "1.5"], says="'1.5'"),
    Case(
        "diagnose-negative-limit",
        ["diagnose", "--store", STORE, "--limit", "-1"],
        says="--limit",
        store=True,
    ),
    # settings files
    Case(
        "settings-not-utf8-toml",
        ["demo", *SMALL, "--settings", "s.toml"],
        says="not UTF-8",
        setup=[_write("s.toml", b"DaysToKeep_Email = 7 # \xff\xfe\n")],
    ),
    Case(
        "settings-not-utf8-json",
        ["sync", "--store", "new.db", "--platform", "export", "--settings", "s.json"],
        says="not UTF-8",
        setup=[_export(), _write("s.json", b'{"DaysToKeep_Email": "\xe9"}')],
    ),
    Case(
        "settings-nested-10000-deep-json",
        ["demo", *SMALL, "--settings", "s.json"],
        says="nested too deep",
        setup=[_write("s.json", DEEP_JSON)],
    ),
    Case(
        "settings-nested-10000-deep-toml",
        ["demo", *SMALL, "--settings", "s.toml"],
        says="nested too deep",
        setup=[_write("s.toml", DEEP_TOML)],
    ),
    Case(
        "settings-5000-digit-number-json",
        ["demo", *SMALL, "--settings", "s.json"],
        says="digits",
        setup=[_write("s.json", '{"DaysToKeep_Email": ' + HUGE + "}")],
    ),
    Case(
        "settings-5000-digit-number-toml",
        ["diagnose", "--store", STORE, "--settings", "s.toml"],
        says="digits",
        store=True,
        setup=[_write("s.toml", "DaysToKeep_Email = " + HUGE + "\n")],
    ),
    Case(
        "settings-too-big",
        ["demo", *SMALL, "--settings", "s.toml"],
        says="too big",
        setup=[_write("s.toml", "# " + "x" * 1_100_000 + "\n")],
    ),
    Case(
        "settings-is-a-folder",
        ["demo", *SMALL, "--settings", "folder"],
        says="not a regular file",
        setup=[_mkdir("folder")],
    ),
    Case("settings-missing", ["demo", *SMALL, "--settings", "none.toml"], says="does not exist"),
    Case(
        "settings-json-array",
        ["demo", *SMALL, "--settings", "s.json"],
        says="table of setting names",
        setup=[_write("s.json", "[1, 2]")],
    ),
    Case(
        "settings-unknown-name",
        ["demo", *SMALL, "--settings", "s.toml"],
        says="DaysToKep_Email",
        setup=[_write("s.toml", "DaysToKep_Email = 7\n")],
    ),
    Case(
        "settings-negative-days",
        ["simulate", *SMALL, "--settings", "s.toml"],
        says="DaysToKeep_Email",
        setup=[_write("s.toml", "DaysToKeep_Email = -3\n")],
    ),
    Case(
        "settings-truncated-toml",
        ["demo", *SMALL, "--settings", "s.toml"],
        says="not valid TOML",
        setup=[_write("s.toml", 'Campaign_Member_Refresh = "Upd')],
    ),
    # --as-of
    Case(
        "as-of-naive-date-time",
        ["sync", "--store", "new.db", "--platform", "export", "--as-of", "2024-04-09T10:00"],
        says="--as-of 2024-04-09T10:00:00+00:00",
        setup=[_export()],
    ),
    Case(
        "as-of-not-a-date",
        ["sync", "--store", "new.db", "--platform", "export", "--as-of", "yesterday"],
        says="'yesterday'",
        setup=[_export()],
    ),
    Case(
        "as-of-impossible-date",
        ["sync", "--store", "new.db", "--platform", "export", "--as-of", "2024-02-30"],
        says="'2024-02-30'",
        setup=[_export()],
    ),
    Case(
        "as-of-year-one-with-offset",
        ["sync", "--store", "new.db", "--platform", "export", "--as-of", "0001-01-01T00:00+01:00"],
        says="year",
        setup=[_export()],
    ),
    Case(
        "as-of-date-with-z",
        ["diagnose", "--store", STORE, "--as-of", "2024-04-09Z"],
        says="'2024-04-09Z'",
        store=True,
    ),
    # --plot, checked before the simulation
    Case("plot-into-a-missing-folder", ["simulate", *BIG, "--plot", "no/out.png"], says="'no'"),
    Case("plot-not-a-png", ["simulate", *BIG, "--plot", "out.pdf"], says=".png"),
    Case(
        "plot-onto-a-folder",
        ["simulate", *BIG, "--plot", "pic.png"],
        says="is a folder",
        setup=[_mkdir("pic.png")],
    ),
    # repeated options
    Case(
        "refresh-twice-days-to-keep-once",
        ["simulate", *BIG, "--refresh", "Always", "--refresh", "Never", "--days-to-keep", "7"],
        says="2 time(s)",
    ),
    Case(
        "refresh-once-days-to-keep-twice",
        ["simulate", *BIG, "--refresh", "Always", "--days-to-keep", "7", "--days-to-keep", "9"],
        says="same number of times",
    ),
    Case("refresh-unknown", ["simulate", *BIG, "--refresh", "Sometimes"], says="Sometimes"),
    # unknown and missing options
    Case("no-command", [], says="required"),
    Case("unknown-command", ["bogus"], says="'bogus'"),
    Case("unknown-option", ["demo", "--bogus"], says="--bogus"),
    Case("sync-without-platform", ["sync", "--store", "new.db"], says="--platform"),
    Case("store-without-value", ["diagnose", "--store"], says="--store"),
    # platform folders
    Case(
        "platform-is-a-file",
        ["sync", "--store", "new.db", "--platform", "afile"],
        says="not a folder",
        setup=[_write("afile", "{}")],
    ),
    Case(
        "platform-missing",
        ["sync", "--store", "new.db", "--platform", "missing"],
        says="does not exist",
    ),
    Case(
        "platform-empty",
        ["sync", "--store", "new.db", "--platform", "empty"],
        says="clients.json",
        setup=[_mkdir("empty")],
    ),
    Case(
        "platform-corrupt-json",
        ["sync", "--store", "new.db", "--platform", "export", "--as-of", "2024-04-10"],
        says="opens",
        setup=[_export(_truncate_opens)],
    ),
    Case(
        "platform-clients-not-a-list",
        ["sync", "--store", "new.db", "--platform", "export", "--as-of", "2024-04-10"],
        says="clients.json",
        setup=[_export(_clients_not_a_list)],
    ),
    # stores
    Case("store-in-a-missing-folder", ["demo", *SMALL, "--store", "no/x.db"], says="'no'"),
    Case(
        "store-is-a-folder",
        ["demo", *SMALL, "--store", "folder"],
        says="is a folder",
        setup=[_mkdir("folder")],
    ),
    Case("diagnose-missing-store", ["diagnose", "--store", "none.db"], says="does not exist"),
    # Ctrl-C and a closed pipe
    Case(
        "ctrl-c-during-demo",
        ["demo", *BIG, "--store", "demo.db"],
        status=130,
        says="interrupted",
        interrupt=True,
        changes_folder=True,
    ),
    Case(
        "ctrl-c-during-simulate",
        ["simulate", *BIG],
        status=130,
        says="interrupted",
        interrupt=True,
    ),
    Case(
        "output-closed-early",
        ["diagnose", "--store", STORE, "--limit", "0"],
        status=141,
        store=True,
        closed_pipe=True,
    ),
]


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        )
        for path in sorted(folder.rglob("*"))
    }


@dataclass(frozen=True)
class Outcome:
    """What one case did."""

    status: int
    stderr: str
    before: dict[str, str]
    after: dict[str, str]
    folder: Path


def _command(case: Case) -> list[str]:
    return [sys.executable, "-m", "cmsf_core", *case.args]


def _env(case: Case) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("CMSF_DEBUG", None)
    env.update(case.env)
    return env


def _run(case: Case, folder: Path, store: Path) -> Outcome:
    if case.store:
        shutil.copy(store, folder / STORE)
    for setup in case.setup:
        setup(folder)
    before = _snapshot(folder)
    if case.interrupt:
        status, stderr = _interrupted(case, folder)
    elif case.closed_pipe:
        status, stderr = _into_closed_pipe(case, folder)
    else:
        done = subprocess.run(
            _command(case),
            cwd=folder,
            env=_env(case),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        status, stderr = done.returncode, done.stderr
    return Outcome(status, stderr, before, _snapshot(folder), folder)


def _interrupted(case: Case, folder: Path) -> tuple[int, str]:
    """Send SIGINT once the command has printed its first line, as Ctrl-C would."""
    with subprocess.Popen(
        _command(case),
        cwd=folder,
        env=_env(case),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        process.stdout.readline()  # the header: the work has begun
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=300)
        return process.returncode, err


def _into_closed_pipe(case: Case, folder: Path) -> tuple[int, str]:
    """Standard output is a pipe whose reader has gone, as with ``| head -2``."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            _command(case),
            cwd=folder,
            env=_env(case),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Every case, run once, in parallel threads."""
    base = tmp_path_factory.mktemp("catalogue")
    store = base / STORE
    sync = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmsf_core",
            "sync",
            "--store",
            str(store),
            "--platform",
            str(EXPORT),
            "--settings",
            str(SAMPLE_SETTINGS),
            "--as-of",
            "2024-04-10",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert sync.returncode == 0, sync.stderr
    folders = {case.name: base / case.name for case in CASES}
    for folder in folders.values():
        folder.mkdir()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.name: pool.submit(_run, case, folders[case.name], store) for case in CASES}
        yield {name: future.result() for name, future in futures.items()}


def test_the_catalogue_holds_at_least_40_distinct_cases() -> None:
    """At least 40 hostile inputs, each with its own name."""
    names = [case.name for case in CASES]

    assert len(names) >= 40
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_hostile_input_gets_one_line_and_its_exit_status(
    case: Case, outcomes: dict[str, Outcome]
) -> None:
    """The documented status, one line on stderr naming the problem, no traceback, and
    every file of the case byte for byte as it was."""
    outcome = outcomes[case.name]

    assert outcome.status == case.status, outcome.stderr
    assert "Traceback" not in outcome.stderr
    lines = outcome.stderr.splitlines()
    if case.closed_pipe:
        assert lines == []
    else:
        assert len(lines) == 1, outcome.stderr
        assert lines[0].startswith(case.prog + ": "), lines[0]
        assert case.says in lines[0]
    if not case.changes_folder:
        assert outcome.after == outcome.before


def test_an_interrupted_demo_leaves_a_store_that_opens_and_checks_ok(
    outcomes: dict[str, Outcome],
) -> None:
    """After Ctrl-C the demo's store (begun before its first line is printed) passes
    SQLite's integrity check and reads back as a store."""
    store = outcomes["ctrl-c-during-demo"].folder / "demo.db"

    with sqlite3.connect(store) as db:
        (verdict,) = db.execute("PRAGMA integrity_check").fetchone()
    db.close()
    with SqliteCrm(store) as crm:
        members = crm.all_members()

    assert verdict == "ok"
    assert all(record.member.campaign_id for record in members)


def test_an_unexpected_error_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug (an exception the command does not expect) is one line naming it, exit 3, and
    a hint to set CMSF_DEBUG=1."""

    def broken(_args: object, _out: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli.parser, "cmd_demo", broken)
    monkeypatch.delenv("CMSF_DEBUG", raising=False)

    status = cli.main(["demo"], out=io.StringIO())

    err = capsys.readouterr().err
    assert status == 3
    assert err == (
        "cmsf demo: internal error: RuntimeError: boom (set CMSF_DEBUG=1 for the traceback)\n"
    )


def test_cmsf_debug_lets_an_unexpected_error_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """With CMSF_DEBUG=1 the unexpected error propagates, traceback and all."""

    def broken(_args: object, _out: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli.parser, "cmd_demo", broken)
    monkeypatch.setenv("CMSF_DEBUG", "1")

    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["demo"], out=io.StringIO())


@pytest.mark.parametrize(
    ("error", "status", "stderr"),
    [
        (
            PermissionError(13, "Permission denied", "out.db"),
            2,
            "cmsf demo: Permission denied: 'out.db'\n",
        ),
        (RecursionError("too deep"), 2, "cmsf demo: input nested too deep: too deep\n"),
        (KeyboardInterrupt(), 130, "cmsf demo: interrupted\n"),
        (BrokenPipeError(32, "Broken pipe"), 141, ""),
    ],
    ids=["os-error", "recursion-error", "keyboard-interrupt", "broken-pipe"],
)
def test_each_kind_of_failure_inside_a_command_has_its_status(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: BaseException,
    status: int,
    stderr: str,
) -> None:
    """An operating-system error or input nested too deep is exit 2, Ctrl-C 130, a closed
    pipe 141 and silent: each one line at most."""

    def failing(_args: object, _out: object) -> int:
        raise error

    monkeypatch.setattr(cli.parser, "cmd_demo", failing)
    monkeypatch.delenv("CMSF_DEBUG", raising=False)

    assert cli.main(["demo"], out=io.StringIO()) == status
    assert capsys.readouterr().err == stderr


def test_a_sync_into_a_new_store_keeps_it_when_only_the_output_is_lost(tmp_path: Path) -> None:
    """`cmsf sync --store new.db ... | head -1`: exit 141, silent, and the new store holds
    the sync (only the report was lost)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [
                sys.executable, "-m", "cmsf_core", "sync", "--store", "new.db",
                "--platform", str(EXPORT), "--settings", str(SAMPLE_SETTINGS),
                "--as-of", "2024-04-10",
            ],
            cwd=tmp_path,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)

    assert done.returncode == 141
    assert done.stderr == ""
    with SqliteCrm(tmp_path / "new.db") as crm:
        assert len(crm.all_members()) == 6
