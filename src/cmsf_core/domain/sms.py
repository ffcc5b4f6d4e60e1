"""Mobile numbers for SMS: the E.164 form the platform needs, or a clear error.

Campaign Monitor only accepts mobile numbers in E.164 (``+15555551234``); a CRM holds them
as people type them (``(555) 555-1234``).  :func:`to_e164` turns one into the other for the
selected country with the `phonenumbers <https://pypi.org/project/phonenumbers/>`_
library, an optional dependency behind the ``[sms]`` extra that is imported only when a
number is converted.

A phone number is never silently wrong.  The text must look like a phone number before it
is parsed (ASCII digits, spaces and ``( ) + - .`` only, so no letters, no extension, no
look-alike digits), and the parsed number must be valid for its country.  phonenumbers
formats an invalid number without complaint, so validity is always checked first.  The one
allowance is a short table of ranges set aside for fiction (the NANP's 555 numbers, which
the product's own example uses, and Ofcom's drama mobiles); ``strict=True`` refuses those
too.  ``docs/subscribers.md`` gives the full rule.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError
from cmsf_core.domain.frozen import FrozenMap

__all__ = [
    "FICTIONAL_RANGES",
    "MissingDependencyError",
    "parse_sms_country",
    "to_e164",
]

#: Longest text accepted as a phone number, spaces and punctuation included.  E.164 holds
#: at most 15 digits; 40 characters leave room for any way of writing them.
MAX_NUMBER_TEXT = 40

_ALLOWED = frozenset("0123456789 ()+-.")
# An extension marker (ext, ext., extn, extension, x, #, ; or ,) followed by digits at the end.
_EXTENSION = re.compile(r"(?i)(?:ext(?:ension|n)?|x|#|;|,)[\s.:=]*\d+\s*$")

#: Ranges set aside for fiction, keyed by country calling code, as patterns of the
#: national significant number.  phonenumbers judges them invalid (they are never
#: assigned), but they are well formed and the product documents one as its example.
FICTIONAL_RANGES: Mapping[int, re.Pattern[str]] = FrozenMap(
    {
        # North American Numbering Plan: area code 555 (the product's "(555) 555-1234") or
        # central office code 555, each followed by a well-formed rest of number.
        1: re.compile(r"555[2-9]\d{6}|[2-9]\d{2}555\d{4}"),
        # Ofcom's numbers for drama: the mobile range 07700 900000-900999.
        44: re.compile(r"7700900\d{3}"),
    }
)

#: Country names people and Campaign Monitor use that phonenumbers' English names lack.
_NAME_ALIASES: Mapping[str, str] = {
    "united states of america": "US",
    "usa": "US",
    "america": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "republic of ireland": "IE",
    "korea, republic of": "KR",
    "republic of korea": "KR",
    "russian federation": "RU",
    "viet nam": "VN",
    "czechia": "CZ",
    "north macedonia": "MK",
    "eswatini": "SZ",
    "turkiye": "TR",
    "vatican city": "VA",
    "ivory coast": "CI",
    "uae": "AE",
}

#: ISO 3166 reserves "UK" for the United Kingdom, whose code is GB.
_CODE_ALIASES: Mapping[str, str] = {"UK": "GB"}

_REASONS = {
    "TOO_SHORT": "it is too short",
    "TOO_LONG": "it is too long",
    "INVALID_LENGTH": "no number of that country has that many digits",
    "IS_POSSIBLE_LOCAL_ONLY": "it is a local number without its area code",
    "INVALID_COUNTRY_CODE": "the country calling code is unknown",
}


class MissingDependencyError(CmsfError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the {package!r} library, which is not installed: "
            f"pip install cmsf_core[{extra}]"
        )


def _phonenumbers(purpose: str) -> ModuleType:
    try:
        import phonenumbers  # noqa: PLC0415 - optional dependency behind the [sms] extra
    except ImportError:
        raise MissingDependencyError("phonenumbers", "sms", purpose) from None
    module: ModuleType = phonenumbers
    return module


# ----------------------------------------------------------------------------- countries


def _fold(text: str) -> str:
    """Casefold, drop accents and dots, collapse spaces and a leading "the"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = plain.replace(".", "").replace("&", " and ").casefold().split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


@functools.cache
def _country_names() -> Mapping[str, str]:
    """Folded English country name -> region code, from phonenumbers' own locale data."""
    pn = _phonenumbers("Reading a country name")
    from phonenumbers.geodata.locale import LOCALE_DATA  # noqa: PLC0415 - heavy, names only

    names: dict[str, str] = {}
    for region in pn.SUPPORTED_REGIONS:
        entry = LOCALE_DATA.get(region, {})
        name = entry.get("en", "")
        if name.startswith("*"):  # the English name is held under another language
            name = entry.get(name[1:], "")
        if name:
            names[_fold(name)] = region
    for alias, region in _NAME_ALIASES.items():
        names.setdefault(_fold(alias), region)
    return names


def parse_sms_country(value: object, field: str = "sms_country") -> str | None:
    """The ISO 3166 alpha-2 region code for a country code or name; ``None`` for none.

    Codes are read in any case (``"us"``, ``"GB"``; ``"UK"`` means GB); names are the
    English names phonenumbers knows plus a few common ones Campaign Monitor uses
    (``"United States of America"``), read without regard to case, accents or dots.
    Anything else is an error naming ``field``.

    >>> parse_sms_country("United States of America")
    'US'
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTypeError(field, "a country code or name (str)", value)
    text = value.strip()
    if not text:
        return None
    pn = _phonenumbers("Reading an SMS country")
    if len(text) == 2 and text.isascii() and text.isalpha():
        code = _CODE_ALIASES.get(text.upper(), text.upper())
        if code in pn.SUPPORTED_REGIONS:
            return code
    else:
        found = _country_names().get(_fold(text))
        if found is not None:
            return found
    raise InvalidValueError(
        field,
        "an ISO 3166 alpha-2 country code (e.g. 'US', 'GB') or a country name",
        value,
    )


# ----------------------------------------------------------------------------- numbers


def _check_text(number: object, field: str) -> str:
    """The number's text, or an error: wrong type, empty, too long, an extension, a
    character that is not an ASCII digit, space or ``( ) + - .``, or a misplaced ``+``."""
    if not isinstance(number, str):
        raise InvalidTypeError(field, "a phone number (str)", number)
    text = number.strip()
    if not text:
        raise InvalidValueError(field, "a phone number", number)
    if len(text) > MAX_NUMBER_TEXT:
        raise InvalidValueError(
            field, f"a phone number of at most {MAX_NUMBER_TEXT} characters", number
        )
    if _EXTENSION.search(text):
        raise InvalidValueError(
            field,
            "a phone number without an extension",
            number,
            detail="the platform takes the number only",
        )
    bad = [c for c in text if c not in _ALLOWED]
    if bad:
        raise InvalidValueError(
            field,
            "a phone number of ASCII digits, spaces and ( ) + - . only",
            number,
            detail=f"found {bad[0]!r}",
        )
    if text.count("+") > 1 or ("+" in text and not text.startswith("+")):
        raise InvalidValueError(field, "a phone number with at most one '+', at its start", number)
    if not any(c.isdigit() for c in text):
        raise InvalidValueError(field, "a phone number", number, detail="it has no digits")
    return text


def _is_fictional(pn: Any, parsed: Any) -> bool:
    pattern = FICTIONAL_RANGES.get(parsed.country_code)
    return pattern is not None and bool(pattern.fullmatch(pn.national_significant_number(parsed)))


def _check_national_prefix(
    pn: Any, parsed: Any, text: str, region: str, number: object, field: str
) -> None:
    """A number written nationally must carry the national prefix its country writes.

    Outside the NANP (where the leading 1 is customarily left out, as in the product's
    example) a national number whose national form starts with a prefix (the 0 of
    ``020 7946 0018``) must be typed with it.  Without it, the digits are most likely a
    number of another country (``(555) 555-1234`` read as British), so it is refused.
    """
    prefix = pn.ndd_prefix_for_region(region, True)
    if not prefix or pn.is_nanpa_country(region):
        return
    national = pn.normalize_digits_only(pn.format_number(parsed, pn.PhoneNumberFormat.NATIONAL))
    if national.startswith(prefix) and not pn.normalize_digits_only(text).startswith(prefix):
        raise InvalidValueError(
            field,
            f"a {region} number written with its national prefix {prefix!r} "
            "or in international form (+ and country code)",
            number,
            detail="without it the number may belong to another country",
        )


def to_e164(
    number: object,
    country: object = None,
    *,
    field: str = "mobile_number",
    strict: bool = False,
) -> str:
    """``number`` in E.164 (``+15555551234``), read as a number of ``country``.

    ``country`` is an ISO 3166 alpha-2 code or a country name (see
    :func:`parse_sms_country`); it may be ``None`` only for a number written
    internationally (``+44 20 7946 0018``), whose own calling code then decides.  The
    number must be valid for its country, or fall in one of :data:`FICTIONAL_RANGES` unless
    ``strict``; letters, extensions, non-ASCII digits, impossible lengths, numbers of
    another country written nationally and non-geographic numbers (``+800``) are refused
    with an :class:`~cmsf_core.InvalidValueError` naming ``field``.

    >>> to_e164("(555) 555-1234", "United States of America")
    '+15555551234'
    """
    text = _check_text(number, field)
    pn = _phonenumbers("Converting a mobile number to E.164")
    region = parse_sms_country(country, "country")
    if region is None and not text.startswith("+"):
        raise InvalidValueError(
            field,
            "a number in international form (+ and country code) when no country is set",
            number,
            detail="set the SMS country to convert national numbers",
        )
    where = f"for {region}" if region is not None else "for its country"
    try:
        parsed = pn.parse(text, region, keep_raw_input=True)
    except pn.NumberParseException as exc:
        raise InvalidValueError(
            field, f"a phone number {where}", number, detail=str(exc).split(") ", 1)[-1]
        ) from None
    if parsed.extension:  # pragma: no cover - the text checks refuse every extension first
        raise InvalidValueError(field, "a phone number without an extension", number)
    if (
        region is not None
        and parsed.country_code_source == pn.CountryCodeSource.FROM_DEFAULT_COUNTRY
    ):
        _check_national_prefix(pn, parsed, text, region, number, field)
    reason = pn.is_possible_number_with_reason(parsed)
    if reason != pn.ValidationResult.IS_POSSIBLE:
        name = next(
            (k for k in _REASONS if getattr(pn.ValidationResult, k) == reason), "INVALID_LENGTH"
        )
        raise InvalidValueError(
            field, f"a possible phone number {where}", number, detail=_REASONS[name]
        )
    if pn.region_code_for_number(parsed) == pn.REGION_CODE_FOR_NON_GEO_ENTITY:
        raise InvalidValueError(
            field,
            "a mobile number of a country",
            number,
            detail="non-geographic numbers (freephone, satellite) cannot receive SMS",
        )
    if not pn.is_valid_number(parsed) and (strict or not _is_fictional(pn, parsed)):
        raise InvalidValueError(
            field,
            f"a valid phone number {where}",
            number,
            detail="no number of that country is written this way",
        )
    e164: str = pn.format_number(parsed, pn.PhoneNumberFormat.E164)
    return e164
