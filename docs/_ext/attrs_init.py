"""A Griffe extension for the API reference: the ``__init__`` that attrs generates.

cmsf_core's values are ``@attrs.frozen`` / ``@attrs.define`` classes, whose ``__init__``
exists only at run time.  Read statically, their signatures would be empty; this rebuilds
them from the annotated fields: ``kw_only=True`` fields are keyword-only, ``init=False``
fields are left out, ``default=`` and ``factory=`` become the default, a leading
underscore is dropped from the parameter name (as attrs does).
"""

from __future__ import annotations

from typing import Any

from griffe import (
    Attribute,
    Class,
    Expr,
    ExprCall,
    Extension,
    Function,
    Module,
    Parameter,
    ParameterKind,
    Parameters,
)

ATTRS_DECORATORS = frozenset(
    {"attrs.frozen", "attrs.define", "attrs.mutable", "attr.s", "attr.attrs", "attr.frozen"}
)
FIELD_CALLS = frozenset({"attrs.field", "attr.ib", "attr.field"})


def _decorator(cls: Class) -> Expr | None:
    for decorator in cls.decorators:
        value = decorator.value
        target = value.function if isinstance(value, ExprCall) else value
        if isinstance(target, Expr) and target.canonical_path in ATTRS_DECORATORS:
            return value if isinstance(value, Expr) else None
    return None


def _arguments(call: object) -> dict[str, Any]:
    if not isinstance(call, ExprCall):
        return {}
    found = {}
    for argument in call.arguments:
        name = getattr(argument, "name", None)
        if name:
            found[name] = argument.value
    return found


def _parameters(cls: Class, class_kw_only: bool) -> list[Parameter]:
    positional: list[Parameter] = []
    keyword: list[Parameter] = []
    for member in cls.members.values():
        if member.is_alias or not isinstance(member, Attribute) or member.annotation is None:
            continue
        if "property" in member.labels or "cached_property" in member.labels:
            continue
        class_only = (
            "class-attribute" in member.labels and "instance-attribute" not in member.labels
        )
        if class_only and member.value is None:
            continue
        value = member.value
        is_field = isinstance(value, ExprCall) and (
            value.function.canonical_path in FIELD_CALLS or str(value.function) == "field"
        )
        field = _arguments(value) if is_field else None
        if field is not None and str(field.get("init", "True")) == "False":
            continue
        if field is None:
            default = value
        elif "default" in field:
            default = field["default"]
        elif "factory" in field:
            default = f"{field['factory']}()"
        else:
            default = None
        kw_only = class_kw_only or (field is not None and str(field.get("kw_only")) == "True")
        parameter = Parameter(
            member.name.lstrip("_"),
            annotation=member.annotation,
            kind=ParameterKind.keyword_only if kw_only else ParameterKind.positional_or_keyword,
            default=default,
            docstring=member.docstring,
        )
        (keyword if kw_only else positional).append(parameter)
    return positional + keyword


def _apply(node: Module | Class, seen: set[str]) -> None:
    if node.path in seen:
        return
    seen.add(node.path)
    for member in list(node.members.values()):
        if member.is_alias:
            continue
        if isinstance(member, Class):
            decorator = _decorator(member)
            if decorator is not None and "__init__" not in member.members:
                kw_only = str(_arguments(decorator).get("kw_only")) == "True"
                init = Function(
                    "__init__",
                    lineno=member.lineno,
                    endlineno=member.lineno,
                    parent=member,
                    parameters=Parameters(
                        Parameter("self", kind=ParameterKind.positional_or_keyword),
                        *_parameters(member, kw_only),
                    ),
                    returns="None",
                )
                member.set_member("__init__", init)
            _apply(member, seen)
        elif isinstance(member, Module):
            _apply(member, seen)


class AttrsInit(Extension):
    """Give every attrs class of a loaded package its generated ``__init__``."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:  # noqa: ARG002 - the hook's API
        _apply(pkg, set())
