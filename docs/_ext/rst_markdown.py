"""A Griffe extension for the API reference: cmsf_core's docstrings as Markdown.

The docstrings are written for ``help()`` and doctest, in a light reST: roles such as
``:func:`refresh_member```, ``::`` literal blocks, ``>>>`` examples, simple tables and
``#:`` comments documenting module constants (read as the constant's docstring).
Each becomes its Markdown counterpart before mkdocstrings renders it: a role becomes an
optional cross-reference (a link when the target is documented, plain code otherwise),
an example a ``pycon`` block, a literal block or a table a code block.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from griffe import Attribute, Docstring, Extension, Object

ROLE = re.compile(r":(?:class|func|meth|data|attr|mod|exc|obj|const):`(~?)([^`]+)`")
TABLE_RULE = re.compile(r"^\s*=+(\s+=+)+\s*$")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s")


def _identifier(obj: Object, target: str) -> str:
    target = target.lstrip(".")
    head = target.split(".", 1)[0]
    module = obj.module
    if head in module.members:
        return f"{module.path}.{target}"
    parent = obj.parent
    if obj.is_class and head in obj.members:
        return f"{obj.path}.{target}"
    if parent is not None and parent.is_class and head in parent.members:
        return f"{parent.path}.{target}"
    return target


def _roles(obj: Object, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2)
        shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
        identifier = _identifier(obj, target)
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    return ROLE.sub(link, text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += ["```pycon", *textwrap.dedent("\n".join(block)).splitlines(), "```", ""]
            continue
        if TABLE_RULE.match(line):
            rules = 0
            out.append("```text")
            while i < len(lines) and rules < 3:
                rules += bool(TABLE_RULE.match(lines[i]))
                out.append(lines[i])
                i += 1
            out.append("```")
            continue
        if stripped.endswith("::") and not stripped.endswith(":::"):
            base = _indent(line)
            head = line.rstrip()[:-1]  # "text::" -> "text:"
            if stripped != "::":
                out.append(head)
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            block: list[str] = []
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > base):
                block.append(lines[j])
                j += 1
            while block and not block[-1].strip():
                block.pop()
            if block:
                pad = " " * base
                body = textwrap.dedent("\n".join(block)).splitlines()
                out += [
                    "",
                    f"{pad}```python",
                    *(pad + b if b else b for b in body),
                    f"{pad}```",
                    "",
                ]
                i = j
                continue
            i += 1
            continue
        if (
            LIST_ITEM.match(line)
            and out
            and out[-1].strip()
            and not LIST_ITEM.match(out[-1])
            and _indent(out[-1]) <= _indent(line)
            and not out[-1].startswith(" " * (_indent(line) + 2))
        ):
            out.append("")
        out.append(line)
        i += 1
    return out


def _comment_docstring(obj: Attribute) -> str | None:
    """The ``#:`` comment lines just above an attribute (Sphinx's convention), if any."""
    try:
        lines = obj.module.lines
    except Exception:  # no source: nothing to read
        return None
    if not obj.lineno or obj.lineno > len(lines):
        return None
    found: list[str] = []
    index = obj.lineno - 2
    while index >= 0 and lines[index].lstrip().startswith("#:"):
        found.insert(0, lines[index].lstrip()[2:].strip())
        index -= 1
    return " ".join(found) or None


class RstToMarkdown(Extension):
    """Rewrite every docstring once the object tree is complete."""

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:  # noqa: ARG002 - the hook's API
        if obj.docstring is None and isinstance(obj, Attribute):
            text = _comment_docstring(obj)
            if text:
                obj.docstring = Docstring(text, parent=obj)
        docstring = obj.docstring
        if docstring is None or docstring.value is None:
            return
        text = "\n".join(_blocks(docstring.value.splitlines()))
        docstring.value = _roles(obj, text)
