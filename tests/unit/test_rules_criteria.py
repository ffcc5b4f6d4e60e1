"""Criteria of subscriber rules: field types, operators, typed comparisons and date literals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cmsf_core.domain.errors import (
    InvalidTypeError,
    InvalidValueError,
    NaiveDatetimeError,
    UnknownChoiceError,
)
from cmsf_core.domain.rules import (
    OPERATORS_BY_TYPE,
    Criterion,
    DateLiteral,
    FieldType,
    NumberValue,
    Operator,
    criterion_text,
    is_blank,
)

PARIS = ZoneInfo("Europe/Paris")
LA = ZoneInfo("America/Los_Angeles")
# Monday 7 December 2026, 10:00 in Paris.
AS_OF = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 7)


def test_field_types_are_read_by_label_name_or_alias() -> None:
    """Field types parse from their label, their name, or 'checkbox', in any case."""
    assert FieldType.parse("Multi-select picklist") is FieldType.MULTIPICKLIST
    assert FieldType.parse("multipicklist") is FieldType.MULTIPICKLIST
    assert FieldType.parse("Checkbox") is FieldType.BOOLEAN
    assert FieldType.parse(FieldType.DATE) is FieldType.DATE


def test_unknown_field_types_are_refused_with_the_choices() -> None:
    """An unknown type lists the accepted ones; a non-string is a type error."""
    with pytest.raises(UnknownChoiceError, match="'text'"):
        FieldType.parse("currency")
    with pytest.raises(InvalidTypeError):
        FieldType.parse(3)


def test_operators_are_read_by_label_name_or_symbol() -> None:
    """Operators parse from Salesforce's labels, enum names and comparison symbols."""
    assert Operator.parse("not equal to") is Operator.NOT_EQUALS
    assert Operator.parse("NOT_EQUALS") is Operator.NOT_EQUALS
    assert Operator.parse("<>") is Operator.NOT_EQUALS
    assert Operator.parse(">=") is Operator.GREATER_OR_EQUAL
    assert Operator.parse(Operator.INCLUDES) is Operator.INCLUDES


def test_unknown_operators_are_refused() -> None:
    """An unknown operator lists the accepted ones; a non-string is a type error."""
    with pytest.raises(UnknownChoiceError, match="'equals'"):
        Operator.parse("like")
    with pytest.raises(InvalidTypeError):
        Operator.parse(None)


def test_every_field_type_accepts_the_blank_tests_except_booleans() -> None:
    """A checkbox is never blank; every other type can be tested for blank."""
    for kind, operators in OPERATORS_BY_TYPE.items():
        assert (Operator.IS_BLANK in operators) is (kind is not FieldType.BOOLEAN)


def test_an_operator_the_type_does_not_take_is_refused() -> None:
    """'includes' on a text field is an error naming the allowed operators."""
    with pytest.raises(InvalidValueError, match="for a text field"):
        Criterion("Name", "text", "includes", "a")


def test_a_field_name_must_be_an_api_name() -> None:
    """Field names are API names, optionally prefixed with 'Account.'."""
    Criterion("Account.Industry", "text", "is blank")
    with pytest.raises(InvalidValueError, match="'field'"):
        Criterion("Owner.Name", "text", "is blank")
    with pytest.raises(InvalidTypeError, match="'field'"):
        Criterion(3, "text", "is blank")  # type: ignore[arg-type]


def test_blank_tests_take_no_value_and_the_others_need_one() -> None:
    """'is blank' with a value, or 'equals' without one, is refused."""
    with pytest.raises(InvalidValueError, match="None with 'is blank'"):
        Criterion("Name", "text", "is blank", "x")
    with pytest.raises(InvalidValueError, match="a value to compare"):
        Criterion("Name", "text", "equals")


def test_text_comparisons_ignore_case() -> None:
    """Text equals, contains and starts with compare without regard to case."""
    assert Criterion("Name", "text", "equals", "ANN").matches("ann")
    assert Criterion("Name", "text", "contains", "NN").matches("Ann")
    assert Criterion("Name", "text", "starts with", "an").matches("ANNE")
    assert not Criterion("Name", "text", "starts with", "nn").matches("Ann")


def test_comma_separated_values_match_any_and_negations_match_none() -> None:
    """'equals a, b' matches either; 'not equal to a, b' matches neither."""
    equals = Criterion("Industry", "picklist", "equals", "Banking, Retail")
    differs = Criterion("Industry", "picklist", "not equal to", "Banking, Retail")

    assert equals.matches("banking")
    assert equals.matches("Retail")
    assert not differs.matches("retail")
    assert differs.matches("Energy")


def test_an_empty_item_in_a_value_list_is_refused() -> None:
    """'a,,b' has an empty value: refused, naming the criterion."""
    with pytest.raises(InvalidValueError, match="criterion 'Industry' value"):
        Criterion("Industry", "picklist", "equals", "a,,b")
    with pytest.raises(InvalidTypeError, match="text"):
        Criterion("Industry", "picklist", "equals", 3)


def test_text_order_is_case_insensitive_and_takes_one_value() -> None:
    """'less than' on text compares casefolded text; a comma is part of the value."""
    assert Criterion("Name", "text", "<", "b").matches("Alpha")
    assert Criterion("Name", "text", ">=", "a,b").matches("b")


def test_blank_values_fail_positive_tests_and_pass_negative_ones() -> None:
    """A blank field never equals, contains or starts with; it always differs."""
    for value in (None, "", "   "):
        assert not Criterion("Name", "text", "equals", "a").matches(value)
        assert not Criterion("Name", "text", "contains", "a").matches(value)
        assert not Criterion("Name", "text", "<", "z").matches(value)
        assert Criterion("Name", "text", "not equal to", "a").matches(value)
        assert Criterion("Name", "text", "does not contain", "a").matches(value)
        assert Criterion("Name", "text", "is blank").matches(value)
        assert not Criterion("Name", "text", "is not blank").matches(value)


def test_is_blank_covers_none_spaces_and_no_selection() -> None:
    """None, whitespace and an empty selection are blank; zero and False are not."""
    assert is_blank(None)
    assert is_blank(" ")
    assert is_blank(())
    assert not is_blank(0)
    assert not is_blank(False)
    assert not is_blank("x")


def test_numbers_compare_as_decimals_across_python_number_types() -> None:
    """int, float and Decimal values compare exactly with the criterion's number."""
    big = Criterion("AnnualRevenue", "number", ">=", "1,000,000")

    assert big.matches(1_000_000)
    assert big.matches(Decimal("1000000.00"))
    assert not big.matches(999_999.99)
    assert Criterion("Score", "number", "=", 0.1).matches(Decimal("0.1"))
    assert Criterion("Score", "number", "!=", Decimal(2)).matches(3)
    assert Criterion("Score", "number", "<", 2).matches(1)
    assert Criterion("Score", "number", ">", 2).matches(3)
    assert Criterion("Score", "number", "<=", 2).matches(2)


@pytest.mark.parametrize("value", ["ten", "NaN", "inf"])
def test_a_criterion_number_that_is_not_a_finite_number_is_refused(value: str) -> None:
    """'ten', NaN and infinity are not numbers a criterion can compare with."""
    with pytest.raises(InvalidValueError, match="criterion 'Score' value"):
        Criterion("Score", "number", "equals", value)


def test_a_criterion_number_of_another_type_is_refused() -> None:
    """A bool, a list or an absurdly long exponent is not a number a criterion takes."""
    with pytest.raises(InvalidTypeError, match="a number"):
        Criterion("Score", "number", "equals", True)
    with pytest.raises(InvalidTypeError, match="a number"):
        Criterion("Score", "number", "equals", [1])
    with pytest.raises(InvalidValueError, match="at most 1000 digits"):
        Criterion("Score", "number", "equals", "1e9999")


def test_numbers_are_exact_fractions_in_lowest_terms() -> None:
    """2.50 is 5/2; numbers compare, hash and show as fractions."""
    value = NumberValue.parse("2.50", "x")

    assert value == NumberValue(5, 2)
    assert hash(value) == hash(NumberValue(10, 4))
    assert repr(value) == "NumberValue(5, 2)"
    assert value != 2.5
    assert NumberValue.parse("-1.5e3", "x") == NumberValue(-1500)
    assert NumberValue.parse(".5", "x") < NumberValue(1)


def test_a_decimal_fraction_in_a_criterion_equals_the_same_float_or_decimal() -> None:
    """'0.1' equals the float 0.1 (as typed) and Decimal('0.1'), but not 0.1000001."""
    tenth = Criterion("Score", "number", "equals", "0.1")

    assert tenth.matches(0.1)
    assert tenth.matches(Decimal("0.1"))
    assert tenth.matches(Decimal("1E-1"))
    assert not tenth.matches(0.1000001)


@pytest.mark.parametrize(
    ("kind", "operator", "wanted", "value", "expected"),
    [
        ("number", "equals", "1", "1", "a number"),
        ("number", "equals", "1", True, "a number"),
        ("number", "equals", "1", float("nan"), "a finite number"),
        ("text", "equals", "a", 1, "text"),
        ("picklist", "equals", "a", ("a",), "a picklist value"),
        ("date", "equals", "2026-01-01", datetime(2026, 1, 1, tzinfo=UTC), "a date"),
        ("date", "equals", "2026-01-01", "2026-01-01", "a date"),
        ("datetime", "equals", "TODAY", date(2026, 1, 1), "aware datetime"),
        ("boolean", "equals", "true", "true", "a bool"),
        ("boolean", "equals", "true", 1, "a bool"),
        ("multi-select picklist", "includes", "a", "a;b", "tuple of str"),
        ("multi-select picklist", "includes", "a", ("a", 1), "tuple of str"),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error_never_false(
    kind: str, operator: str, wanted: str, value: object, expected: str
) -> None:
    """The error names where (rule and criterion), the field, the expected type and the value."""
    criterion = Criterion("F", kind, operator, wanted)

    with pytest.raises((InvalidTypeError, InvalidValueError), match=expected) as caught:
        criterion.matches(value, as_of=AS_OF, zone=PARIS, where="rule 'VIP' criterion 2")
    assert "rule 'VIP' criterion 2, field 'F'" in str(caught.value)


def test_a_naive_datetime_value_is_refused() -> None:
    """A naive datetime in a record is refused, never guessed."""
    criterion = Criterion("CreatedDate", "datetime", "is blank")

    with pytest.raises(NaiveDatetimeError, match="CreatedDate"):
        criterion.matches(datetime(2026, 1, 1))


def test_booleans_compare_with_true_or_false() -> None:
    """A checkbox criterion takes true/false in any case, or a bool."""
    assert Criterion("HasOptedOutOfFax", "boolean", "equals", "TRUE").matches(True)
    assert Criterion("HasOptedOutOfFax", "boolean", "not equal to", False).matches(True)
    assert not Criterion("HasOptedOutOfFax", "boolean", "equals", "false").matches(None)
    with pytest.raises(InvalidValueError, match="true or false"):
        Criterion("HasOptedOutOfFax", "boolean", "equals", "yes")


def test_multi_select_includes_any_group_and_a_group_needs_all_its_values() -> None:
    """'includes a;b, c' matches a selection holding both a and b, or holding c."""
    includes = Criterion("Interests__c", "multi-select picklist", "includes", "Golf;Tennis, Chess")
    excludes = Criterion("Interests__c", "multi-select picklist", "excludes", "Golf;Tennis, Chess")

    assert includes.matches(("tennis", "Golf", "Opera"))
    assert includes.matches(("Chess",))
    assert not includes.matches(("Golf",))
    assert excludes.matches(("Golf",))
    assert not includes.matches(())
    assert excludes.matches(None)


def test_multi_select_equals_is_the_exact_selection_in_any_order() -> None:
    """'equals a;b' matches exactly {a, b}, whatever the order and case."""
    equals = Criterion("Interests__c", "multipicklist", "equals", "Golf;Tennis")

    assert equals.matches(("tennis", "golf"))
    assert not equals.matches(("tennis", "golf", "chess"))
    assert Criterion("Interests__c", "multipicklist", "!=", "Golf").matches(("Chess",))


def test_date_fields_compare_with_dates() -> None:
    """A date criterion compares whole days."""
    after = Criterion("Birthdate", "date", ">", "2000-01-01")

    assert after.matches(date(2000, 1, 2))
    assert not after.matches(date(2000, 1, 1))
    assert Criterion("Birthdate", "date", "=", date(2000, 1, 1)).matches(date(2000, 1, 1))


def test_a_datetime_field_compared_with_a_date_uses_the_org_zone() -> None:
    """23:30 UTC on 6 December is 7 December in Paris: it equals 2026-12-07 there."""
    criterion = Criterion("LastModifiedDate", "datetime", "equals", "2026-12-07")
    late = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)

    assert criterion.matches(late, zone=PARIS)
    assert not criterion.matches(late, zone=UTC)


def test_a_datetime_field_compared_with_a_date_needs_the_zone() -> None:
    """Without the org's zone the day of an instant is unknown: an error, not a guess."""
    criterion = Criterion("LastModifiedDate", "datetime", "equals", "2026-12-07")

    with pytest.raises(InvalidTypeError, match="'zone'"):
        criterion.matches(AS_OF)


def test_a_datetime_field_compared_with_an_instant_compares_instants() -> None:
    """An ISO datetime with an offset is an instant, whatever the zones involved."""
    criterion = Criterion("CreatedDate", "datetime", "<", "2026-12-07T10:00:00+01:00")

    assert criterion.matches(datetime(2026, 12, 7, 8, 59, tzinfo=UTC))
    assert not criterion.matches(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))


def test_date_criterion_values_are_checked_when_the_criterion_is_built() -> None:
    """Bad dates, naive datetimes and instants on date fields are refused at once."""
    with pytest.raises(InvalidValueError, match="YYYY-MM-DD"):
        Criterion("Birthdate", "date", "=", "2026-13-01")
    with pytest.raises(NaiveDatetimeError):
        Criterion("CreatedDate", "datetime", "=", "2026-12-07T10:00:00")
    with pytest.raises(InvalidTypeError, match="for a date field"):
        Criterion("Birthdate", "date", "=", "2026-12-07T10:00:00+00:00")
    with pytest.raises(InvalidTypeError, match="a date literal"):
        Criterion("Birthdate", "date", "=", 20261207)


@pytest.mark.parametrize(
    ("literal", "first", "last"),
    [
        ("TODAY", date(2026, 12, 7), date(2026, 12, 7)),
        ("yesterday", date(2026, 12, 6), date(2026, 12, 6)),
        ("TOMORROW", date(2026, 12, 8), date(2026, 12, 8)),
        ("LAST_N_DAYS:1", date(2026, 12, 6), date(2026, 12, 7)),
        ("NEXT_N_DAYS:2", date(2026, 12, 8), date(2026, 12, 9)),
        ("LAST_90_DAYS", date(2026, 9, 8), date(2026, 12, 7)),
        ("NEXT_90_DAYS", date(2026, 12, 8), date(2027, 3, 7)),
        ("N_DAYS_AGO:3", date(2026, 12, 4), date(2026, 12, 4)),
        ("THIS_WEEK", date(2026, 12, 6), date(2026, 12, 12)),
        ("LAST_WEEK", date(2026, 11, 29), date(2026, 12, 5)),
        ("NEXT_WEEK", date(2026, 12, 13), date(2026, 12, 19)),
        ("LAST_N_WEEKS:2", date(2026, 11, 22), date(2026, 12, 5)),
        ("NEXT_N_WEEKS:1", date(2026, 12, 13), date(2026, 12, 19)),
        ("N_WEEKS_AGO:1", date(2026, 11, 29), date(2026, 12, 5)),
        ("THIS_MONTH", date(2026, 12, 1), date(2026, 12, 31)),
        ("LAST_MONTH", date(2026, 11, 1), date(2026, 11, 30)),
        ("NEXT_MONTH", date(2027, 1, 1), date(2027, 1, 31)),
        ("LAST_N_MONTHS:2", date(2026, 10, 1), date(2026, 11, 30)),
        ("NEXT_N_MONTHS:2", date(2027, 1, 1), date(2027, 2, 28)),
        ("N_MONTHS_AGO:10", date(2026, 2, 1), date(2026, 2, 28)),
        ("THIS_QUARTER", date(2026, 10, 1), date(2026, 12, 31)),
        ("LAST_QUARTER", date(2026, 7, 1), date(2026, 9, 30)),
        ("NEXT_QUARTER", date(2027, 1, 1), date(2027, 3, 31)),
        ("LAST_N_QUARTERS:2", date(2026, 4, 1), date(2026, 9, 30)),
        ("NEXT_N_QUARTERS:1", date(2027, 1, 1), date(2027, 3, 31)),
        ("N_QUARTERS_AGO:4", date(2025, 10, 1), date(2025, 12, 31)),
        ("THIS_YEAR", date(2026, 1, 1), date(2026, 12, 31)),
        ("LAST_YEAR", date(2025, 1, 1), date(2025, 12, 31)),
        ("NEXT_YEAR", date(2027, 1, 1), date(2027, 12, 31)),
        ("LAST_N_YEARS:2", date(2024, 1, 1), date(2025, 12, 31)),
        ("NEXT_N_YEARS:1", date(2027, 1, 1), date(2027, 12, 31)),
        ("N_YEARS_AGO:2", date(2024, 1, 1), date(2024, 12, 31)),
    ],
)
def test_date_literals_cover_salesforce_ranges(literal: str, first: date, last: date) -> None:
    """Each literal's range for Monday 7 December 2026, weeks starting on Sunday."""
    assert DateLiteral.parse(literal).bounds(TODAY) == (first, last)


def test_weeks_may_start_on_monday() -> None:
    """With week_start=0 (Monday) THIS_WEEK runs Monday to Sunday."""
    bounds = DateLiteral.parse("THIS_WEEK").bounds(TODAY, week_start=0)

    assert bounds == (date(2026, 12, 7), date(2026, 12, 13))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("THIS_FISCAL_YEAR", "fiscal"),
        ("LAST_N_FISCAL_QUARTERS:2", "fiscal"),
        ("SOMEDAY", "SOQL date literal"),
        ("LAST_N_FORTNIGHTS:2", "SOQL date literal"),
        ("LAST_N_DAYS", "whole number"),
        ("LAST_N_DAYS:x", "whole number"),
        ("LAST_N_DAYS:0", "1 <= n"),
        ("TODAY:3", "SOQL date literal"),
    ],
)
def test_unsupported_date_literals_are_refused_clearly(text: str, message: str) -> None:
    """Fiscal literals, unknown names and bad or missing n are errors naming the value."""
    with pytest.raises(InvalidValueError, match=message):
        Criterion("CloseDate", "date", "=", text)


def test_a_literal_range_beyond_the_calendar_is_an_error() -> None:
    """NEXT_YEAR from 9999 has no range: an error naming as_of, not an overflow."""
    criterion = Criterion("CloseDate", "date", "=", "NEXT_YEAR")

    with pytest.raises(InvalidValueError, match="'as_of'"):
        criterion.matches(date(9999, 1, 1), as_of=datetime(9999, 6, 1, tzinfo=UTC), zone=UTC)


def test_date_literals_are_evaluated_in_the_org_zone() -> None:
    """At 01:00 UTC on 7 December it is still 6 December in Los Angeles."""
    today = Criterion("CloseDate", "date", "equals", "TODAY")
    as_of = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)

    assert today.matches(date(2026, 12, 6), as_of=as_of, zone=LA)
    assert today.matches(date(2026, 12, 7), as_of=as_of, zone=PARIS)


def test_comparisons_with_a_literal_use_its_range() -> None:
    """'<' is before the range, '>' after it, '<=' up to its end, '>=' from its start."""
    as_of = AS_OF
    inside, before, after = date(2026, 12, 15), date(2026, 11, 30), date(2027, 1, 1)

    def check(operator: str, value: date) -> bool:
        criterion = Criterion("CloseDate", "date", operator, "THIS_MONTH")
        return criterion.matches(value, as_of=as_of, zone=PARIS)

    assert check("=", inside)
    assert not check("=", before)
    assert check("!=", after)
    assert check("<", before)
    assert not check("<", inside)
    assert check(">", after)
    assert not check(">", inside)
    assert check("<=", inside)
    assert not check("<=", after)
    assert check(">=", inside)
    assert not check(">=", before)


def test_a_datetime_field_with_a_literal_takes_its_day_in_the_org_zone() -> None:
    """An instant late on 6 December UTC is 'TODAY' (7 December) in Paris."""
    criterion = Criterion("CreatedDate", "datetime", "=", "TODAY")

    assert criterion.matches(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), as_of=AS_OF, zone=PARIS)


def test_a_literal_needs_an_aware_as_of_and_a_zone() -> None:
    """Without as_of, with a naive one, or without a zone, a literal is an error."""
    criterion = Criterion("CloseDate", "date", "=", "TODAY")

    with pytest.raises(InvalidTypeError, match="'as_of'"):
        criterion.matches(TODAY, zone=PARIS)
    with pytest.raises(NaiveDatetimeError, match="'as_of'"):
        criterion.matches(TODAY, as_of=datetime(2026, 12, 7), zone=PARIS)
    with pytest.raises(InvalidTypeError, match="'zone'"):
        criterion.matches(TODAY, as_of=AS_OF, zone="Europe/Paris")  # type: ignore[arg-type]


def test_as_of_in_any_zone_names_the_same_instant() -> None:
    """as_of given at +14:00 or in UTC gives the same local day."""
    criterion = Criterion("CloseDate", "date", "=", "TODAY")
    shifted = AS_OF.astimezone(timezone(timedelta(hours=14)))

    assert criterion.matches(TODAY, as_of=shifted, zone=PARIS)


def test_criterion_text_shows_field_operator_and_value() -> None:
    """Plans and errors show a criterion as the admin wrote it."""
    assert criterion_text(Criterion("Score", "number", ">", 3)) == "Score greater than '3'"
    assert criterion_text(Criterion("Name", "text", "is blank")) == "Name is blank"


def test_account_field_names_the_account_field() -> None:
    """'Account.Industry' reads the account's Industry; 'Industry' reads the record."""
    assert Criterion("Account.Industry", "text", "is blank").account_field == "Industry"
    assert Criterion("Industry", "text", "is blank").account_field is None


def test_local_days_follow_daylight_saving_changes() -> None:
    """Around Paris's spring change, an instant's day and 'today' are read in local time."""
    spring = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # 00:30 CEST on 30 March
    criterion = Criterion("CreatedDate", "datetime", "=", "TODAY")

    assert criterion.matches(spring, as_of=spring, zone=PARIS)
    assert Criterion("CreatedDate", "datetime", "=", "2026-03-30").matches(spring, zone=PARIS)
    assert criterion.matches(spring, as_of=datetime(2026, 3, 30, 21, 59, tzinfo=UTC), zone=PARIS)
    assert not criterion.matches(spring, as_of=datetime(2026, 3, 30, 22, 0, tzinfo=UTC), zone=PARIS)
