"""The shared checks of the domain's values: each error names its field."""

from __future__ import annotations

import pytest

from cmsf_core.domain.checks import check_count, of_type, text_keyed, tuple_of
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError


class _Attribute:
    name = "opens"


def test_tuple_of_keeps_the_items_in_order() -> None:
    """A collection of the class comes back as a tuple, in order."""
    assert tuple_of([3, 1, 2], int, "ids", "a sequence of int") == (3, 1, 2)


def test_tuple_of_refuses_text_and_names_a_stray_item() -> None:
    """Text is not a collection; an item of another class is named with ``each``."""
    with pytest.raises(InvalidTypeError, match="'ids' must be a sequence of int"):
        tuple_of("12", int, "ids", "a sequence of int")
    with pytest.raises(InvalidTypeError, match=r"'ids' must be int values \(got str 'x'\)"):
        tuple_of([1, "x"], int, "ids", "a sequence of int", "int values")


def test_text_keyed_checks_each_key_as_its_entry_is_reached() -> None:
    """Not a mapping fails at once; a blank key fails when its entry is reached."""
    with pytest.raises(InvalidTypeError, match="'fields' must be a mapping"):
        text_keyed([1], "fields", "a mapping", "field names")
    entries = text_keyed({"a": 1, " ": 2}, "fields", "a mapping", "field names")
    assert next(entries) == ("a", 1)
    with pytest.raises(InvalidValueError, match="'fields' must be field names"):
        next(entries)


def test_of_type_returns_the_value_or_names_the_field() -> None:
    """An instance comes back as is; anything else names the field and what was expected."""
    assert of_type(5, int, "count", "an int") == 5
    with pytest.raises(InvalidTypeError, match="'count' must be an int"):
        of_type("5", int, "count", "an int")


@pytest.mark.parametrize(
    ("value", "error"), [(True, InvalidTypeError), (1.0, InvalidTypeError), (-1, InvalidValueError)]
)
def test_a_count_is_an_int_not_below_zero(value: object, error: type[Exception]) -> None:
    """A bool, a float and a negative number are refused, naming the attribute."""
    with pytest.raises(error, match="'opens'"):
        check_count(None, _Attribute(), value)  # type: ignore[arg-type]
