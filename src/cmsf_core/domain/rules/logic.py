"""Custom rule logic: ``1 AND (2 OR NOT 3)`` over a rule's numbered criteria.

The grammar is Salesforce's filter logic: criterion numbers, ``AND``, ``OR``, ``NOT`` (in
any case) and parentheses.  ``NOT`` binds tightest; ``AND`` and ``OR`` may not be mixed at
one level without parentheses (``1 AND 2 OR 3`` is ambiguous and refused, as Salesforce
refuses it).  Every criterion must be used and only existing numbers may appear; each
error names the rule and says what was expected and what arrived, and where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NoReturn

import attrs

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError

__all__ = ["And", "Logic", "Not", "Number", "Or", "evaluate", "parse_logic"]

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z]+)|(\()|(\))|(\S))")
_MAX_LENGTH = 1000
_MAX_DEPTH = 50


@attrs.frozen
class Number:
    """A reference to criterion ``n`` (1-based)."""

    n: int


@attrs.frozen
class Not:
    """``NOT operand``."""

    operand: Logic


@attrs.frozen
class And:
    """All of ``operands``."""

    operands: tuple[Logic, ...]


@attrs.frozen
class Or:
    """Any of ``operands``."""

    operands: tuple[Logic, ...]


#: A parsed rule logic expression.
Logic = Number | Not | And | Or


def _describe(token: tuple[str, str, int] | None) -> str:
    if token is None:
        return "the end"
    kind, text, _ = token
    return f"{text!r}" if kind != "number" else f"number {text}"


class _Parser:
    def __init__(self, text: str, field: str, count: int) -> None:
        self.text, self.field, self.count = text, field, count
        self.tokens: list[tuple[str, str, int]] = []
        for match in _TOKEN.finditer(text):
            number, word, opening, closing, other = match.groups()
            position = match.start(match.lastindex or 0) + 1
            if number is not None:
                self.tokens.append(("number", number, position))
            elif word is not None and word.upper() in ("AND", "OR", "NOT"):
                self.tokens.append((word.upper(), word, position))
            elif opening or closing:
                self.tokens.append((opening or closing, opening or closing, position))
            else:
                self.fail(
                    "a criterion number, AND, OR, NOT or a parenthesis", word or other, position
                )
        self.index = 0
        self.used: set[int] = set()
        self.depth = 0

    def fail(self, expected: str, got: object, position: int) -> NoReturn:
        raise InvalidValueError(
            self.field, expected, got, detail=f"at character {position} of {self.text!r}"
        )

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def position(self) -> int:
        token = self.peek()
        return token[2] if token else len(self.text) + 1

    def expression(self) -> Logic:
        first = self.unary()
        token = self.peek()
        if token is None or token[0] not in ("AND", "OR"):
            return first
        joiner = token[0]
        operands = [first]
        while (token := self.peek()) is not None and token[0] in ("AND", "OR"):
            if token[0] != joiner:
                self.fail(
                    f"{joiner} again, or parentheses to mix AND with OR",
                    token[1],
                    token[2],
                )
            self.index += 1
            operands.append(self.unary())
        return And(tuple(operands)) if joiner == "AND" else Or(tuple(operands))

    def unary(self) -> Logic:
        token = self.peek()
        if token is not None and token[0] == "NOT":
            self.index += 1
            return Not(self.unary())
        if token is not None and token[0] == "(":
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                self.fail(f"at most {_MAX_DEPTH} nested parentheses", "more", token[2])
            self.index += 1
            inner = self.expression()
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing[0] != ")":
                self.fail("')', AND or OR", _describe(closing), self.position())
            self.index += 1
            return inner
        if token is None or token[0] != "number":
            self.fail("a criterion number, NOT or '('", _describe(token), self.position())
        self.index += 1
        n = int(token[1])
        if not 1 <= n <= self.count:
            self.fail(f"a criterion number from 1 to {self.count}", n, token[2])
        self.used.add(n)
        return Number(n)


def parse_logic(text: object, count: int, *, field: str = "logic") -> Logic:
    """Parse rule logic over criteria numbered 1 to ``count``.

    ``field`` names the logic in errors (a rule passes ``rule 'name' logic``).

    >>> parse_logic("1 and (2 or not 3)", 3)
    And(operands=(Number(n=1), Or(operands=(Number(n=2), Not(operand=Number(n=3))))))
    """
    if not isinstance(text, str):
        raise InvalidTypeError(field, "rule logic text such as '1 AND (2 OR 3)'", text)
    if len(text) > _MAX_LENGTH:
        raise InvalidValueError(field, f"at most {_MAX_LENGTH} characters", text)
    if count < 1:
        raise InvalidValueError(field, "no logic for a rule without criteria", text)
    parser = _Parser(text, field, count)
    if not parser.tokens:
        raise InvalidValueError(field, "rule logic such as '1 AND (2 OR 3)'", text)
    tree = parser.expression()
    rest = parser.peek()
    if rest is not None:
        parser.fail("AND, OR or the end", _describe(rest), rest[2])
    unused = sorted(set(range(1, count + 1)) - parser.used)
    if unused:
        raise InvalidValueError(
            field,
            f"using every criterion 1 to {count}",
            text,
            detail=f"criteria {', '.join(map(str, unused))} unused",
        )
    return tree


def evaluate(logic: Logic, truth: Mapping[int, bool]) -> bool:
    """The value of ``logic`` when criterion ``n`` is ``truth[n]``."""
    if isinstance(logic, Number):
        if logic.n not in truth:
            raise InvalidValueError("truth", f"a value for criterion {logic.n}", sorted(truth))
        return truth[logic.n]
    if isinstance(logic, Not):
        return not evaluate(logic.operand, truth)
    if isinstance(logic, And):
        return all(evaluate(operand, truth) for operand in logic.operands)
    return any(evaluate(operand, truth) for operand in logic.operands)
