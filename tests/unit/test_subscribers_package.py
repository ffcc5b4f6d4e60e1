"""The subscriber rules' package: one module per idea, every public name importable from
``cmsf_core.domain.subscribers`` as before."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from cmsf_core.domain import subscribers

MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(subscribers.__path__)
    if not info.name.startswith("_")
)


def test_the_package_has_one_module_per_rule() -> None:
    """The rules, their values, the import request and the commands each have a module."""
    assert set(MODULES) == {
        "commands",
        "deletes",
        "import_wizard",
        "imports",
        "list_guards",
        "opt_out",
        "suppression",
        "triggers",
        "values",
    }


@pytest.mark.parametrize("name", MODULES)
def test_every_name_a_module_exports_comes_from_the_package(name: str) -> None:
    """A module's ``__all__`` is in the package's, and the package gives the same object."""
    module = importlib.import_module(f"cmsf_core.domain.subscribers.{name}")

    assert set(module.__all__) <= set(subscribers.__all__)
    for exported in module.__all__:
        assert getattr(subscribers, exported) is getattr(module, exported), exported


def test_the_package_exports_only_what_its_modules_define() -> None:
    """Each name of the package's ``__all__`` is defined in one module (``email_key`` is
    re-exported from :mod:`cmsf_core.domain.emails`, as it always was)."""
    owners: dict[str, list[str]] = {}
    for name in MODULES:
        module = importlib.import_module(f"cmsf_core.domain.subscribers.{name}")
        for exported in module.__all__:
            owners.setdefault(exported, []).append(name)

    assert {n for n in subscribers.__all__ if n not in owners} == {"email_key"}
    assert all(len(found) == 1 for found in owners.values()), owners


@pytest.mark.parametrize("name", ["__init__", *MODULES])
def test_no_module_of_the_package_is_over_600_lines(name: str) -> None:
    """Each module reads as one idea: at most 600 lines."""
    path = Path(subscribers.__path__[0]) / f"{name}.py"

    assert len(path.read_text(encoding="utf-8").splitlines()) <= 600
