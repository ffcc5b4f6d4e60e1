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
from collections.abc import Iterator
from pathlib import Path

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
