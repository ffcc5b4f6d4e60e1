"""parse_choice: one way every domain enum is read from text."""

from __future__ import annotations

import pytest

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.choices import fold_case, parse_choice, spellings
from cmsf_core.domain.errors import InvalidTypeError, UnknownChoiceError

TABLE = spellings(ActivityType, spam=ActivityType.SPAM_COMPLAINT)


def parse(value: object, **options: object) -> ActivityType:
    return parse_choice(
        ActivityType,
        value,
        field="type",
        expected="an activity type name",
        table=TABLE,
        **options,  # type: ignore[arg-type]
    )


def test_a_member_is_returned_as_is() -> None:
    assert parse(ActivityType.CLICKED) is ActivityType.CLICKED


@pytest.mark.parametrize("text", ["Opened", " opened ", "OPENED\t"])
def test_text_is_read_in_any_case_with_surrounding_spaces(text: str) -> None:
    assert parse(text) is ActivityType.OPENED


def test_extra_spellings_are_folded_too() -> None:
    assert parse(" SPAM ") is ActivityType.SPAM_COMPLAINT
    assert fold_case("  Marked As Spam ") == "marked as spam"


def test_what_is_not_text_names_the_field_and_what_was_expected() -> None:
    with pytest.raises(
        InvalidTypeError, match=r"'type' must be an activity type name \(got int 3\)"
    ):
        parse(3)


def test_an_unknown_spelling_lists_every_member_by_default() -> None:
    with pytest.raises(UnknownChoiceError) as caught:
        parse("viewed")
    assert caught.value.accepted == tuple(t.value for t in ActivityType)


def test_an_unknown_spelling_lists_the_accepted_ones_given() -> None:
    with pytest.raises(UnknownChoiceError) as caught:
        parse("viewed", accepted=("Opened", "Clicked"))
    assert caught.value.accepted == ("Opened", "Clicked")


def test_a_custom_key_decides_the_lookup() -> None:
    table = {"spamcomplaint": ActivityType.SPAM_COMPLAINT}
    found = parse_choice(
        ActivityType,
        "Spam_Complaint",
        field="type",
        expected="a name",
        table=table,
        key=lambda text: text.replace("_", "").casefold(),
    )
    assert found is ActivityType.SPAM_COMPLAINT


def test_spellings_add_the_names_and_an_extra_table_under_the_same_key() -> None:
    """``names`` adds each member's name, ``extra`` more spellings, all keyed by ``key``."""
    table = spellings(
        ActivityType,
        {"Spam-Report": ActivityType.SPAM_COMPLAINT},
        key=lambda text: text.replace("_", " ").replace("-", " ").casefold(),
        names=True,
    )
    assert table["spam complaint"] is ActivityType.SPAM_COMPLAINT
    assert table["spam report"] is ActivityType.SPAM_COMPLAINT
    assert table["opened"] is ActivityType.OPENED


def test_a_choice_enum_reads_as_its_declaration_says() -> None:
    """A Choice enum's parse names its declared field, unless the caller names another."""
    from cmsf_core.domain.maintenance import Severity  # noqa: PLC0415 - a Choice enum

    assert Severity.parse(" WARN ") is Severity.WARNING
    with pytest.raises(UnknownChoiceError, match="'severity'"):
        Severity.parse("fatal")
    with pytest.raises(InvalidTypeError, match=r"'level' must be a severity name"):
        Severity.parse(3, "level")
