"""Custom rule logic: parsing, validation with clear errors, and evaluation."""

from __future__ import annotations

import pytest

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.rules import And, Not, Number, Or, evaluate, parse_logic


def test_logic_parses_and_or_not_and_parentheses_in_any_case() -> None:
    """'1 and (2 OR not 3)' is 1 AND (2 OR (NOT 3))."""
    tree = parse_logic("1 and (2 OR not 3)", 3)

    assert tree == And((Number(1), Or((Number(2), Not(Number(3))))))


def test_not_binds_tighter_than_and() -> None:
    """'NOT 1 AND 2' is (NOT 1) AND 2."""
    assert parse_logic("NOT 1 AND 2", 2) == And((Not(Number(1)), Number(2)))


def test_a_single_number_and_redundant_parentheses_are_accepted() -> None:
    """'((1))' is criterion 1."""
    assert parse_logic("((1))", 1) == Number(1)


def test_evaluation_follows_the_tree() -> None:
    """The value of 1 AND (2 OR NOT 3) for a few assignments."""
    tree = parse_logic("1 AND (2 OR NOT 3)", 3)

    assert evaluate(tree, {1: True, 2: False, 3: False})
    assert not evaluate(tree, {1: True, 2: False, 3: True})
    assert not evaluate(tree, {1: False, 2: True, 3: False})


@pytest.mark.parametrize(
    ("text", "expected", "got"),
    [
        ("1 AND 2 OR 3", "parentheses to mix AND with OR", "'OR'"),
        ("1 AND", "a criterion number, NOT or '('", "the end"),
        ("(1 AND 2", "')', AND or OR", "the end"),
        ("1 2", "AND, OR or the end", "number 2"),
        ("1 AND 4", "a criterion number from 1 to 3", "4"),
        ("0 AND 1", "a criterion number from 1 to 3", "0"),
        ("1 & 2", "a criterion number, AND, OR, NOT or a parenthesis", "'&'"),
        ("1 XOR 2", "a criterion number, AND, OR, NOT or a parenthesis", "'XOR'"),
        ("1 AND )", "a criterion number, NOT or '('", "')'"),
        ("", "rule logic such as", "''"),
        ("   ", "rule logic such as", "'   '"),
    ],
)
def test_bad_logic_says_what_was_expected_and_what_arrived(
    text: str, expected: str, got: str
) -> None:
    """Each syntax error names the rule, the expectation and what was found."""
    with pytest.raises(InvalidValueError) as caught:
        parse_logic(text, 3, field="rule 'VIP' logic")

    message = str(caught.value)
    assert "rule 'VIP' logic" in message
    assert expected in message
    assert got in message


def test_an_unused_criterion_is_an_error_naming_it() -> None:
    """Every criterion must appear in the logic."""
    with pytest.raises(InvalidValueError, match="criteria 2, 4 unused"):
        parse_logic("1 AND 3", 4)


def test_logic_for_a_rule_without_criteria_is_refused() -> None:
    """There is nothing to combine."""
    with pytest.raises(InvalidValueError, match="without criteria"):
        parse_logic("1", 0)


def test_logic_must_be_text_of_bounded_length_and_depth() -> None:
    """A non-string, an enormous text or deep nesting is refused, never a crash."""
    with pytest.raises(InvalidTypeError):
        parse_logic(1, 1)
    with pytest.raises(InvalidValueError, match="at most 1000 characters"):
        parse_logic("1 AND " * 200 + "1", 1)
    with pytest.raises(InvalidValueError, match="nested parentheses"):
        parse_logic("(" * 60 + "1" + ")" * 60, 1)


def test_evaluating_without_a_criterion_value_is_a_clear_error() -> None:
    """A truth assignment missing a criterion names it."""
    with pytest.raises(InvalidValueError, match="a value for criterion 2"):
        evaluate(parse_logic("1 OR 2", 2), {1: False})
