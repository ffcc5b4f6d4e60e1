"""Every example in the README, in docs/ and in the docstrings runs and gives what it shows.

The ``pycon`` examples run here; the ``python`` examples, written for live services, run
in ``tests/adapters/test_service_examples.py`` against local fakes of those services.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import cmsf_core

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules() -> list[str]:
    names = [cmsf_core.__name__]
    for info in pkgutil.walk_packages(cmsf_core.__path__, prefix="cmsf_core."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_document_examples_run(path: Path) -> None:
    """The pycon examples of a document run and print what the document shows."""
    result = doctest.testfile(str(path), module_relative=False, optionflags=FLAGS)
    assert result.failed == 0, f"{result.failed} example(s) failed in {path.name}"


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    """The examples in a module's docstrings run and print what they show."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_settings_page_lists_every_setting() -> None:
    """docs/settings.md has a row for every name Settings.from_mapping accepts."""
    from cmsf_core import SETTING_SPECS  # noqa: PLC0415 - kept next to the check

    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [spec.name for spec in SETTING_SPECS if f"| `{spec.name}` |" not in page]
    assert not missing, f"docs/settings.md lacks {missing}"


def _undocumented(module: object) -> list[str]:
    names = getattr(module, "__all__", None) or [n for n in vars(module) if n[0] != "_"]
    missing = []
    for name in names:
        value = getattr(module, name, None)
        if getattr(value, "__module__", None) != getattr(module, "__name__", None):
            continue  # imported from elsewhere: checked where it is defined
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if attribute[0] == "_" or not (
                    inspect.isfunction(member)
                    or isinstance(member, property | staticmethod | classmethod)
                ):
                    continue
                if not inspect.getdoc(getattr(value, attribute)):  # a port's doc counts
                    missing.append(f"{name}.{attribute}")
    return missing


@pytest.mark.parametrize("name", _modules())
def test_every_public_name_has_a_docstring(name: str) -> None:
    """Public classes, functions and methods say what they do (an adapter's port methods
    inherit the port's docstring)."""
    missing = _undocumented(importlib.import_module(name))
    assert not missing, f"{name}: no docstring on {missing}"
