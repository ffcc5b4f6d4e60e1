"""The functional core stays pure: ``cmsf_core.domain`` imports only an allow-list of pure
modules and never reads a clock; ``import cmsf_core`` stays light.

The domain's files are parsed with :mod:`ast`, never imported, so a forbidden import is
reported even when it would fail or have side effects.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
DOMAIN = SRC / "cmsf_core" / "domain"
DOMAIN_FILES = sorted(DOMAIN.rglob("*.py"))

#: Pure standard-library modules, attrs, and the domain itself.
ALLOWED = frozenset(
    {
        "__future__",
        "bisect",
        "collections",
        "collections.abc",
        "dataclasses",
        "datetime",
        "difflib",
        "enum",
        "functools",
        "heapq",
        "itertools",
        "math",
        "operator",
        "re",
        "statistics",
        "string",
        "types",
        "typing",
        "unicodedata",
        "zoneinfo",
        "attr",
        "attrs",
        "cmsf_core.domain",
    }
)
#: Allowed only inside a function body (a lazy import behind an extra).
ALLOWED_LAZILY = frozenset({"phonenumbers"})

#: Calls that import a module by name: checked like import statements.
DYNAMIC_IMPORTS = frozenset({"__import__", "importlib.import_module"})

#: Calls that read a clock, by the dotted text of the called expression.
CLOCK_CALLS = frozenset(
    {"time.time", "time.monotonic", "time.perf_counter", "pendulum.now", "date.today"}
)
CLOCK_METHODS = frozenset({"now", "utcnow", "today"})


def relative(path: Path) -> str:
    """The file's path from ``src/``, as a failure message names it."""
    return path.relative_to(SRC).as_posix()


def module_name(path: Path) -> str:
    """``src/cmsf_core/domain/status.py`` -> ``cmsf_core.domain.status``."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, module: str) -> list[tuple[int, str, bool]]:
    """Every module the file of ``module`` imports: (line, absolute name, inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                name = child.module or ""
                if child.level:
                    parts = package.split(".")
                    anchor = parts[: len(parts) - (child.level - 1)]
                    name = ".".join([*anchor, name] if name else anchor)
                found.append((child.lineno, name, in_function))
            elif isinstance(child, ast.Call) and dotted(child.func) in DYNAMIC_IMPORTS:
                target = child.args[0] if child.args else None
                literal = isinstance(target, ast.Constant) and isinstance(target.value, str)
                name = target.value if literal else "<dynamic>"  # type: ignore[union-attr]
                found.append((child.lineno, name, in_function))
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, in_function or nested)

    visit(tree, in_function=False)
    return found


def is_allowed(module: str, in_function: bool) -> bool:
    """Whether the domain may import ``module`` (lazily when ``in_function``)."""
    if module in ALLOWED or module.startswith("cmsf_core.domain."):
        return True
    top = module.partition(".")[0]
    return in_function and (module in ALLOWED_LAZILY or top in ALLOWED_LAZILY)


def dotted(node: ast.expr) -> str:
    """``a.b.c`` for an attribute chain on a name, else ``""``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else f"?.{node.attr}"
    return ""


def clock_calls(path: Path) -> list[tuple[int, str]]:
    """Every call in the file that reads a clock: (line, the called expression)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if name in CLOCK_CALLS or method in CLOCK_METHODS:
            calls.append((node.lineno, name or f"?.{method}"))
    return calls


def test_the_domain_package_has_modules_to_check() -> None:
    """The scan below sees the domain's modules (a moved package would make it vacuous)."""
    names = {path.name for path in DOMAIN_FILES}

    assert {"activity.py", "status.py", "settings.py", "retention.py", "diagnose.py"} <= names


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=relative)
def test_domain_modules_import_only_pure_modules(path: Path) -> None:
    """No ports, adapters, sync, Hypothesis, I/O or clock module: only the allow-list."""
    offending = [
        f"{relative(path)}:{line}: imports {module!r}"
        + (" inside a function" if in_function else "")
        for line, module, in_function in imported_modules(path, module_name(path))
        if not is_allowed(module, in_function)
    ]

    assert not offending, "forbidden imports in the domain:\n" + "\n".join(offending)


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=relative)
def test_domain_modules_never_read_a_clock(path: Path) -> None:
    """No .now(), .utcnow(), .today(), time.time() or pendulum.now() in the domain."""
    offending = [f"{relative(path)}:{line}: calls {name}()" for line, name in clock_calls(path)]

    assert not offending, "clock reads in the domain:\n" + "\n".join(offending)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os\n", ["os"]),
        ("from cmsf_core.ports import CrmPort\n", ["cmsf_core.ports"]),
        ("from cmsf_core import sync\n", ["cmsf_core"]),
        ("from .. import adapters\n", ["cmsf_core"]),
        ("from ..adapters import memory\n", ["cmsf_core.adapters"]),
        ("import hypothesis.strategies\n", ["hypothesis.strategies"]),
        ("import phonenumbers\n", ["phonenumbers"]),
        ("import pendulum\n", ["pendulum"]),
        ("def f():\n    import logging\n", ["logging"]),
        ("def f():\n    import phonenumbers\n", []),
        ("m = __import__('socket')\n", ["socket"]),
        ("def f(name):\n    return __import__(name)\n", ["<dynamic>"]),
        ("from . import status\nimport attrs\nfrom datetime import UTC\n", []),
    ],
)
def test_the_import_check_catches_forbidden_imports(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    """The checker itself flags I/O, ports, adapters, Hypothesis and eager optional imports."""
    fake = tmp_path / "fake.py"
    fake.write_text(source, encoding="utf-8")

    found = [
        module
        for _, module, in_function in imported_modules(fake, "cmsf_core.domain.fake")
        if not is_allowed(module, in_function)
    ]

    assert found == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from datetime import datetime\nx = datetime.now()\n", ["datetime.now"]),
        ("import datetime\nx = datetime.datetime.utcnow()\n", ["datetime.datetime.utcnow"]),
        ("from datetime import date\nx = date.today()\n", ["date.today"]),
        ("import time\nx = time.time()\n", ["time.time"]),
        ("import pendulum\nx = pendulum.now('UTC')\n", ["pendulum.now"]),
        ("x = f().now()\n", ["?.now"]),
        ("x = as_of - delta\ny = now_value\n", []),
    ],
)
def test_the_clock_check_catches_clock_reads(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    """The checker itself flags every way of reading the clock it promises to catch."""
    fake = tmp_path / "fake.py"
    fake.write_text(source, encoding="utf-8")

    assert [name for _, name in clock_calls(fake)] == expected


LIGHT_IMPORT_PROBE = """
import json, sys
import cmsf_core
print(json.dumps(sorted(sys.modules)))
"""

#: Optional or heavy modules that ``import cmsf_core`` must not pull in.
NOT_AT_IMPORT = ("pendulum", "phonenumbers", "hypothesis", "sqlite3", "_sqlite3", "pandas")


def test_importing_cmsf_core_loads_no_optional_or_heavy_module() -> None:
    """A fresh ``import cmsf_core`` leaves pendulum, phonenumbers, Hypothesis, sqlite3 out."""
    # Without coverage's variables: its own imports (sqlite3) are not the library's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    result = subprocess.run(
        [sys.executable, "-c", LIGHT_IMPORT_PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    loaded = set(json.loads(result.stdout))

    assert "cmsf_core" in loaded
    offending = sorted(name for name in loaded if name.partition(".")[0] in NOT_AT_IMPORT)
    assert not offending, f"import cmsf_core loaded: {offending}"


def test_every_public_name_is_exported_and_loads() -> None:
    """Each name of cmsf_core.__all__ is in the lazy table and loads from its module."""
    import cmsf_core  # noqa: PLC0415 - the import under test

    table = cmsf_core._EXPORTS
    assert set(cmsf_core.__all__) == {*table, "__version__"}
    for name in table:
        assert getattr(cmsf_core, name) is not None, name


MODULES_PROBE = """
import json, sys
{statement}
print(json.dumps(sorted(sys.modules)))
"""


def modules_loaded_by(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    # Without coverage's variables: its own imports (sqlite3) are not the library's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    result = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return set(json.loads(result.stdout))


#: The status and retention rules need neither the schedule, the governor limits, the
#: maintenance log, SMS numbers, subscribers nor field mappings (nor difflib, which only
#: suggests a setting's name in an error).
NOT_FOR_THE_RULES = (
    "cmsf_core.domain.schedule",
    "cmsf_core.domain.limits",
    "cmsf_core.domain.maintenance",
    "cmsf_core.domain.sms",
    "cmsf_core.domain.subscribers",
    "cmsf_core.domain.field_mappings",
    "cmsf_core.domain.rules",
    "cmsf_core.domain.planner",
    "cmsf_core.shell.sync",
    "difflib",
    "zoneinfo",
)

#: The sync shell loads the subscriber, field-mapping and rule modules when a sync first
#: needs them, not when it is imported; and never the optional or notebook modules.
NOT_FOR_THE_SYNC_IMPORT = (
    "cmsf_core.domain.schedule",
    "cmsf_core.domain.limits",
    "cmsf_core.domain.sms",
    "cmsf_core.domain.subscribers",
    "cmsf_core.domain.field_mappings",
    "cmsf_core.domain.rules",
    "cmsf_core.shell.subscriber_sync",
    "cmsf_core.shell.field_sync",
    "cmsf_core.ports",
    "cmsf_core.app.notebook",
    "cmsf_core.app.humanize",
    "cmsf_core.app.columnar",
    "cmsf_core.adapters.memory",
    "cmsf_core.adapters.sqlite",
    "logging",
    *NOT_AT_IMPORT,
    "polars",
)


def loaded_from(loaded: set[str], forbidden: tuple[str, ...]) -> list[str]:
    """The loaded modules that are one of ``forbidden`` or inside one of them."""
    return sorted(
        name
        for name in loaded
        if any(name == f or name.startswith(f + ".") for f in forbidden)
        or name.partition(".")[0] in forbidden
    )


def test_importing_the_status_and_retention_rules_loads_only_what_they_use() -> None:
    """``from cmsf_core import refresh_member, apply_retention`` loads no schedule, limits,
    maintenance, SMS, subscriber or field-mapping module."""
    loaded = modules_loaded_by("from cmsf_core import refresh_member, apply_retention")

    assert {"cmsf_core.domain.status", "cmsf_core.domain.retention"} <= loaded
    offending = loaded_from(loaded, NOT_FOR_THE_RULES)
    assert not offending, f"the status and retention rules loaded: {offending}"


@pytest.mark.parametrize("path", ["cmsf_core.sync", "cmsf_core.shell.sync"])
def test_importing_run_sync_defers_the_subscriber_and_field_mapping_modules(path: str) -> None:
    """``from cmsf_core.sync import run_sync`` (and from the shell's own module) loads the
    planner, not the subscriber sync, field mappings, rules, ports, notebook helpers or any
    optional dependency."""
    loaded = modules_loaded_by(f"from {path} import run_sync")

    assert {"cmsf_core.shell.sync", "cmsf_core.domain.planner"} <= loaded
    offending = loaded_from(loaded, NOT_FOR_THE_SYNC_IMPORT)
    assert not offending, f"from {path} import run_sync loaded: {offending}"


def test_building_default_settings_loads_the_schedule_and_limits_on_demand() -> None:
    """``Settings()`` works from a light import: its schedule and limits load when built."""
    loaded = modules_loaded_by(
        "from cmsf_core import Settings; s = Settings(notification_email='a@b.example'); "
        "assert 'a***@b.example' in repr(s); assert str(s.import_schedule) == 'Hourly'"
    )

    assert {"cmsf_core.domain.schedule", "cmsf_core.domain.limits"} <= loaded
    assert "cmsf_core.domain.sms" not in loaded


@pytest.mark.parametrize(
    "name",
    [
        "RecordChangeReport",
        "SubscriberSyncReport",
        "add_to_list",
        "handle_record_changes",
        "sync_subscribers",
    ],
)
def test_the_sync_module_still_exports_the_subscriber_sync_names(name: str) -> None:
    """Each name ``cmsf_core.shell.sync`` re-exports from the subscriber sync loads on first use."""
    import cmsf_core.shell.subscriber_sync  # noqa: PLC0415 - the module the names come from
    import cmsf_core.shell.sync  # noqa: PLC0415 - the module under test

    assert getattr(cmsf_core.shell.sync, name) is getattr(cmsf_core.shell.subscriber_sync, name)


def test_the_sync_module_refuses_an_unknown_attribute() -> None:
    """A name ``cmsf_core.shell.sync`` does not have raises AttributeError naming it."""
    import cmsf_core.shell.sync  # noqa: PLC0415 - the module under test

    with pytest.raises(AttributeError, match="no_such_name"):
        cmsf_core.shell.sync.no_such_name  # noqa: B018 - the lookup under test


def test_settings_repr_masks_the_notification_address_through_the_lazy_masker() -> None:
    """The repr of Settings masks the notification address with the maintenance masker."""
    from cmsf_core import Settings  # noqa: PLC0415 - the class under test

    shown = repr(Settings(notification_email="jane.doe@example.com"))

    assert "notification_email='j***@example.com'" in shown
    assert "jane.doe" not in shown
