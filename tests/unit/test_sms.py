"""SMS: mobile numbers become E.164 for the selected country, or a clear error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError
from cmsf_core.domain.sms import MissingDependencyError, parse_sms_country, to_e164

# ----------------------------------------------------------------------------- good numbers

GOOD = [
    # The product's own example, by the country name Campaign Monitor shows and by code.
    ("(555) 555-1234", "United States of America", "+15555551234"),
    ("(555) 555-1234", "US", "+15555551234"),
    ("(201) 555-0123", "us", "+12015550123"),
    ("1 (201) 555-0123", "United States", "+12015550123"),
    ("201.555.0123", "US", "+12015550123"),
    ("(416) 555-0199", "CA", "+14165550199"),
    ("020 7946 0018", "GB", "+442079460018"),
    ("07700 900123", "United Kingdom", "+447700900123"),
    ("020 7946 0018", "UK", "+442079460018"),
    ("0412 345 678", "AU", "+61412345678"),
    ("(02) 9876 5432", "Australia", "+61298765432"),
    ("030 123456", "DE", "+4930123456"),
    ("0151 23456789", "Germany", "+4915123456789"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("01 23 45 67 89", "France", "+33123456789"),
    ("021 123 4567", "NZ", "+64211234567"),
    ("09 300 1234", "New Zealand", "+6493001234"),
    ("087 123 4567", "IE", "+353871234567"),
    ("098765 43210", "IN", "+919876543210"),
    ("090-1234-5678", "JP", "+819012345678"),
    ("612 345 678", "ES", "+34612345678"),
    ("(11) 91234-5678", "BR", "+5511912345678"),
]


@pytest.mark.parametrize(("number", "country", "expected"), GOOD)
def test_mobile_numbers_from_several_countries_become_e164(
    number: str, country: str, expected: str
) -> None:
    """A national number of the selected country converts to its E.164 form."""
    assert to_e164(number, country) == expected


def test_the_products_example_imports_as_plus_1_555_555_1234() -> None:
    """With the United States of America selected, (555) 555-1234 imports as +15555551234."""
    assert to_e164("(555) 555-1234", "United States of America") == "+15555551234"


def test_an_international_number_needs_no_country() -> None:
    """A number written with + and its country code converts without a country."""
    assert to_e164("+44 (0) 20 7946 0018", None) == "+442079460018"


def test_an_international_number_keeps_its_own_country_whatever_is_selected() -> None:
    """An explicit +61 number stays Australian when the selected country is the US."""
    assert to_e164("+61 412 345 678", "US") == "+61412345678"


def test_an_international_dialling_prefix_is_understood_for_the_selected_country() -> None:
    """011 from the US and 00 from the UK dial abroad."""
    assert to_e164("011 44 20 7946 0018", "US") == "+442079460018"
    assert to_e164("00 49 30 123456", "GB") == "+4930123456"


def test_surrounding_spaces_are_ignored() -> None:
    """Spaces around the number do not matter."""
    assert to_e164("  (555) 555-1234  ", "US") == "+15555551234"


def test_strict_refuses_the_ranges_set_aside_for_fiction() -> None:
    """strict=True accepts only numbers phonenumbers judges valid."""
    with pytest.raises(InvalidValueError, match="valid phone number"):
        to_e164("(555) 555-1234", "US", strict=True)
    assert to_e164("(201) 555-0123", "US", strict=True) == "+12015550123"


def test_a_fictional_range_is_accepted_only_for_its_own_country() -> None:
    """The NANP 555 allowance does not make (555) 555-1234 British."""
    with pytest.raises(InvalidValueError) as info:
        to_e164("(555) 555-1234", "GB")
    assert info.value.field == "mobile_number"


# ----------------------------------------------------------------------------- bad numbers

BAD = [
    # letters
    ("555-FLOWERS", "US"),
    ("CALL ME", "US"),
    ("abc", "US"),
    ("1-800-FLOWERS", "US"),
    ("five five five", "US"),
    ("555 555 I234", "US"),
    ("O20 7946 0018", "GB"),
    ("+1 555 555 l234", None),
    ("tel:+15555551234", None),
    ("N/A", "US"),
    # too short
    ("1", "US"),
    ("12", "US"),
    ("555", "US"),
    ("555-12", "US"),
    ("555-1234", "US"),
    ("020 794", "GB"),
    ("+1 555", None),
    ("+44 20", None),
    ("0412 345", "AU"),
    ("030 1", "DE"),
    ("911", "US"),
    # too long
    ("(555) 555-12345", "US"),
    ("5555 5555 5555 5555", "US"),
    ("+1 555 555 1234 5", None),
    ("020 7946 0018 99", "GB"),
    ("+44 7700 900123 456", None),
    ("1234567890123456789", "US"),
    ("5" * 41, "US"),
    # invalid, or a number of another country written nationally
    ("020 7946 0018", "US"),
    ("0412 345 678", "US"),
    ("(212) 012-3456", "US"),
    ("(000) 000-0000", "US"),
    ("+999 123 4567", None),
    ("(555) 555-1234", "GB"),
    ("7700 900123", "GB"),
    ("07700 900123", "AU"),
    ("021 123 4567", "US"),
    ("00 44 20 7946 0018", "US"),
    ("+800 1234 5678", None),
    # empty
    ("", "US"),
    (" ", "US"),
    ("\t", "US"),
    ("()", "US"),
    ("--", "US"),
    ("+", None),
    ("+ ", None),
    (". . .", "US"),
    # unicode digits and look-alikes
    ("\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10", "US"),
    ("٥٥٥٥٥٥١٢٣٤", "US"),
    ("\uff15\uff15\uff15-\uff15\uff15\uff15-\uff11\uff12\uff13\uff14", "US"),
    ("५५५५५५१२३४", "US"),
    ("\U0001d7d3\U0001d7d3\U0001d7d3 555 1234", "US"),
    ("555\u00a0555\u00a01234", "US"),
    ("555\u2013555\u20131234", "US"),
    ("555 555 1234\u200b", "US"),
    # extensions
    ("(555) 555-1234 ext. 12", "US"),
    ("555-555-1234 x12", "US"),
    ("5555551234#12", "US"),
    ("+1 555 555 1234;ext=12", None),
    ("555-555-1234,12", "US"),
    ("(555) 555-1234 extension 5", "US"),
    ("555 555 1234 x 7", "US"),
    ("+44 20 7946 0018 ext 3", None),
    # a misplaced +
    ("1+5555551234", "US"),
    ("++15555551234", None),
    ("555+5551234", "US"),
    # a national number with no country to read it in
    ("(555) 555-1234", None),
    ("020 7946 0018", None),
]


def test_the_bad_corpus_has_at_least_fifty_inputs() -> None:
    """The corpus below covers at least 50 distinct bad inputs."""
    assert len(set(BAD)) == len(BAD) >= 50


@pytest.mark.parametrize(("number", "country"), BAD)
def test_a_bad_mobile_number_is_refused_naming_the_field_and_value(
    number: str, country: str | None
) -> None:
    """Every bad input is an InvalidValueError naming 'mobile_number' and showing the input."""
    with pytest.raises(InvalidValueError) as info:
        to_e164(number, country)
    assert info.value.field == "mobile_number"
    assert info.value.got == number
    assert str(info.value).startswith("'mobile_number' must be ")
    assert repr(number)[:20] in str(info.value)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("555-FLOWERS", "found 'F'"),
        ("\uff11\uff12\uff13", "found '\uff11'"),
        ("(555) 555-1234 ext. 12", "without an extension"),
        ("(555) 555-12345", "too long"),
        ("555-12", "too short"),
        ("555-1234", "without its area code"),
        ("(212) 012-3456", "valid phone number"),
        ("", "a phone number"),
    ],
)
def test_the_error_says_what_is_wrong(number: str, reason: str) -> None:
    """The message explains the refusal, not just that it happened."""
    with pytest.raises(InvalidValueError, match=reason.replace("(", r"\(")):
        to_e164(number, "US")


def test_a_missing_country_for_a_national_number_says_how_to_fix_it() -> None:
    """Without a country a national number cannot be read; the message says so."""
    with pytest.raises(InvalidValueError, match="set the SMS country"):
        to_e164("(555) 555-1234", None)


def test_a_number_without_its_national_prefix_is_refused() -> None:
    """Outside the NANP a nationally written number must keep its trunk prefix."""
    with pytest.raises(InvalidValueError, match="national prefix '0'"):
        to_e164("7700 900123", "GB")


def test_the_error_names_the_field_the_caller_gives() -> None:
    """field= names the CRM field in the message."""
    with pytest.raises(InvalidValueError, match=r"^'MobilePhone' must be"):
        to_e164("abc", "US", field="MobilePhone")


@pytest.mark.parametrize("number", [5555551234, None, b"5555551234", 5.5])
def test_a_number_that_is_not_text_is_a_type_error(number: object) -> None:
    """An int would lose leading zeros, so only text is read."""
    with pytest.raises(InvalidTypeError) as info:
        to_e164(number, "US")
    assert info.value.field == "mobile_number"


# ----------------------------------------------------------------------------- countries


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("US", "US"),
        ("us", "US"),
        (" gb ", "GB"),
        ("UK", "GB"),
        ("United States of America", "US"),
        ("united states", "US"),
        ("U.S.A.", "US"),
        ("United Kingdom", "GB"),
        ("Great Britain", "GB"),
        ("Australia", "AU"),
        ("germany", "DE"),
        ("France", "FR"),
        ("New Zealand", "NZ"),
        ("The Netherlands", "NL"),
        ("Cote d'Ivoire", "CI"),
        ("Côte d\u2019Ivoire", "CI"),
    ],
)
def test_a_country_is_read_from_its_code_or_its_name(given: str, code: str) -> None:
    """ISO alpha-2 codes in any case, and English names with or without accents."""
    assert parse_sms_country(given) == code


@pytest.mark.parametrize("given", ["XX", "ZZ", "Atlantis", "U S", "1", "USA!"])
def test_an_unknown_country_is_refused_naming_the_field(given: str) -> None:
    """A code or name nobody knows is an error naming the field."""
    with pytest.raises(InvalidValueError, match=r"^'SMS_Country' must be an ISO 3166"):
        parse_sms_country(given, "SMS_Country")


def test_an_unknown_country_in_to_e164_names_the_country() -> None:
    """to_e164 names 'country' when the country is the problem."""
    with pytest.raises(InvalidValueError) as info:
        to_e164("(555) 555-1234", "Atlantis")
    assert info.value.field == "country"


@pytest.mark.parametrize("given", [None, "", "  "])
def test_no_country_reads_as_none(given: str | None) -> None:
    """An empty setting means no country is selected."""
    assert parse_sms_country(given) is None


def test_a_country_that_is_not_text_is_a_type_error() -> None:
    """Only text names a country."""
    with pytest.raises(InvalidTypeError):
        parse_sms_country(1)


# ----------------------------------------------------------------------------- dependency


def test_without_phonenumbers_the_error_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missing optional dependency says: pip install cmsf_core[sms]."""
    monkeypatch.setitem(sys.modules, "phonenumbers", None)
    with pytest.raises(MissingDependencyError, match=r"pip install cmsf_core\[sms\]") as info:
        to_e164("(555) 555-1234", "US")
    assert isinstance(info.value, ImportError)
    assert isinstance(info.value, CmsfError)


def test_importing_the_library_does_not_import_phonenumbers() -> None:
    """phonenumbers is imported only when a number is converted."""
    code = (
        "import sys, cmsf_core.domain.sms, cmsf_core.domain.subscribers; "
        "sys.exit('phonenumbers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
