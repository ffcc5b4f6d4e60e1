"""The house keeps its shape: the import graph of ``src/`` has no cycle, and each layer
imports only the layers below it.

The layers, lowest first: ``domain`` (values and pure rules), ``ports`` (the interfaces
the shells need), ``adapters`` (the services and stores behind the ports), ``shell`` (the
sync, the subscriber, rule and field shells, the service loop), ``app`` (the command,
demo, simulator, notebook views, columnar and Dask paths) and ``testing`` (the test kit).
The package's top-level modules that only re-export an older import path stand outside
the layers and are checked to be only that.

Every ``import`` in a file counts, those inside functions too (a lazy import is still a
dependency); an import under ``if TYPE_CHECKING:`` does not, since it never runs. The
files are parsed with :mod:`ast`, never imported.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "cmsf_core"

#: Layer -> the layers (besides itself) whose modules it may import.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "ports": frozenset({"domain"}),
    "adapters": frozenset({"domain", "ports"}),
    "shell": frozenset({"domain", "ports"}),
    "app": frozenset({"domain", "ports", "adapters", "shell"}),
    "testing": frozenset({"domain", "ports", "adapters", "shell"}),
}


def module_name(path: Path) -> str:
    """``src/cmsf_core/domain/status.py`` -> ``cmsf_core.domain.status``."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node``, leaving out the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _statements(other)
            continue
        yield child
        yield from _statements(child)


def _resolve(name: str) -> str | None:
    """The module of ``src/`` that importing ``name`` loads last, or None (not ours)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """The modules of ``src/`` that ``module`` imports (the package ``__init__`` that an
    import of a submodule runs first is left out: it is an edge of the importer's parent,
    not a dependency the importer chose)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _statements(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            targets = [f"{stem}.{alias.name}" for alias in node.names] + [stem]
            # ``from pkg import sub`` names a submodule when one exists, else a name.
            targets = [t for t in targets[:-1] if t in MODULES] or [stem]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved is not None and resolved != module:
                found.add(resolved)
    return found


GRAPH: dict[str, set[str]] = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> str | None:
    """The layer a module belongs to, or None for the package's top-level modules."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in MAY_IMPORT:
        return parts[1]
    return None


def layer_breaches() -> list[str]:
    """Every import of a module from a layer it may not import, as ``a -> b``; a module
    inside a layer never goes through a top-level public path either."""
    found = []
    for module, targets in sorted(GRAPH.items()):
        layer = layer_of(module)
        if layer is None:
            continue
        for target in sorted(targets):
            other = layer_of(target)
            if other != layer and other not in MAY_IMPORT[layer]:
                found.append(f"{module} -> {target}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


if __name__ == "__main__":
    import sys

    sys.stdout.write("".join(" <-> ".join(c) + "\n" for c in cycles(GRAPH)))
    sys.stdout.write("".join(b + "\n" for b in layer_breaches()))

#: The public paths the docs show -> the modules in the layers they re-export.
PUBLIC_PATHS: dict[str, tuple[str, ...]] = {
    **{
        f"cmsf_core.{m}": (f"cmsf_core.shell.{m}",)
        for m in ("sync", "subscriber_sync", "rule_sync", "field_sync")
    },
    "cmsf_core.service": ("cmsf_core.shell.service", "cmsf_core.app.service_lines"),
    **{
        f"cmsf_core.{m}": (f"cmsf_core.app.{m}",)
        for m in ("cli", "demo", "simulate", "notebook", "humanize", "columnar", "distributed")
    },
    **{f"cmsf_core.{m}": (f"cmsf_core.testing.{m}",) for m in ("strategies", "properties")},
}

#: The longest a module of ``src/`` may be: a reader holds one in their head.
MAX_LINES = 1_000


def test_the_import_graph_of_src_has_no_cycle() -> None:
    """No two modules of src/ import each other, directly or around a loop."""
    assert cycles(GRAPH) == []


def test_each_layer_imports_only_the_layers_below_it() -> None:
    """domain imports only itself; ports the domain; adapters and shells domain and ports;
    the app and the test kit everything but each other; nothing goes through a public path."""
    assert layer_breaches() == []


def test_the_cycle_and_layer_checks_see_a_breach() -> None:
    """The checks themselves: a loop is found, and an upward import is reported."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("cmsf_core.domain.status") == "domain"
    assert layer_of("cmsf_core.sync") is None
    assert "cmsf_core.domain.activity" in GRAPH["cmsf_core.domain.member"]


def test_imports_under_type_checking_do_not_count() -> None:
    """An import that never runs is no dependency; one in a function body is."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import cmsf_core.shell.sync\n"
        "def f():\n    import cmsf_core.app.cli\n"
    )
    tree = ast.parse(source)
    found = {
        alias.name
        for node in _statements(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert found == {"cmsf_core.app.cli"}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_longer_than_a_reader_can_hold(module: str) -> None:
    """Every module of src/ is at most MAX_LINES lines."""
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


@pytest.mark.parametrize(("public", "real"), sorted(PUBLIC_PATHS.items()))
def test_each_public_path_gives_the_same_objects_as_its_modules(
    public: str, real: tuple[str, ...]
) -> None:
    """``from cmsf_core.sync import run_sync`` gives the very object the shell defines, and
    every public name of the modules behind a path is there."""
    old = importlib.import_module(public)
    modules = [importlib.import_module(name) for name in real]
    assert sorted(old.__all__) == sorted(name for m in modules for name in m.__all__)
    for module in modules:
        for name in module.__all__:
            assert getattr(old, name) is getattr(module, name), name


def test_the_top_level_modules_only_re_export() -> None:
    """Outside the layers, src/cmsf_core holds the package, ``__main__`` and re-exports."""
    top = {m for m in MODULES if layer_of(m) is None} - {"cmsf_core", "cmsf_core.__main__"}
    assert top == set(PUBLIC_PATHS)
    for module in top:
        body = ast.parse(MODULES[module].read_text(encoding="utf-8")).body
        assert isinstance(body[0], ast.Expr), f"{module} has no docstring"
        for node in body[1:]:
            assert _re_exports(node), f"{module} line {node.lineno} is not a re-export"
        sources = {n.module for n in body[1:] if isinstance(n, ast.ImportFrom)}
        assert sources <= set(PUBLIC_PATHS[module]) | {"cmsf_core.app", "cmsf_core.shell", "typing"}


def _re_exports(node: ast.stmt) -> bool:
    """An import, ``__all__``, an ``if TYPE_CHECKING:`` block of imports, or a module
    ``__getattr__`` that forwards to the real module (for names it loads on first use)."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.Assign):
        return [getattr(target, "id", None) for target in node.targets] == ["__all__"]
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        return all(isinstance(inner, ast.ImportFrom) for inner in node.body)
    if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
        returns = [n for n in node.body if isinstance(n, ast.Return)]
        return len(returns) == 1 and isinstance(returns[0].value, ast.Call)
    return False
