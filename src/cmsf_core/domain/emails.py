"""Email addresses as the library compares them (DESIGN §8).

Two addresses are the same subscriber when their :func:`email_key` is equal: the text
with surrounding spaces trimmed, in Unicode NFC, lower-cased.  Lower-casing, not
casefolding: ``straße@example.com`` and ``strasse@example.com`` are different addresses
(casefolding would merge them), while the composed and decomposed spellings of ``é``
are one (NFC makes them equal).

An address holding a control character (Unicode category ``Cc``: NUL, tab, newline...),
a format character (``Cf``: zero-width space and joiner, byte-order mark, bidi marks...),
a surrogate (``Cs``) or a line or paragraph separator (``Zl``, ``Zp``) is invalid,
wherever the character stands: such an address cannot be typed, and two that look the
same would not compare equal.  :func:`normalise_email` is the one gate every route uses
(tracking events, members, people, subscribers, suppression, CRM look-ups).

An address a person types into a setting (the maintenance notification address) is held
to the stricter shape of :func:`is_email` by :func:`parse_email`, whose errors show it
masked.
"""

from __future__ import annotations

import re
import unicodedata

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.masking import mask_email

__all__ = [
    "MAX_EMAIL_KEY_LENGTH",
    "MAX_EMAIL_LENGTH",
    "check_email_text",
    "check_nonempty_email",
    "email_key",
    "email_problem",
    "is_email",
    "normalise_email",
    "parse_email",
    "parse_notification_email",
]

#: The longest address accepted (RFC 5321's forward path).
MAX_EMAIL_KEY_LENGTH = 254
#: The longest address :func:`is_email` accepts (the same forward path).
MAX_EMAIL_LENGTH = MAX_EMAIL_KEY_LENGTH
_MAX_LOCAL_LENGTH = 64

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")

#: Unicode categories that make an address invalid wherever they stand.
_FORBIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: What is trimmed from both ends: ordinary and other Unicode space separators (``Zs``).
_EXPECTED = "an email address like name@example.com"


def _trim(text: str) -> str:
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start]) == "Zs":
        start += 1
    while end > start and unicodedata.category(text[end - 1]) == "Zs":
        end -= 1
    return text[start:end]


def email_key(email: str) -> str:
    """The form addresses are compared in: trimmed, NFC, lower-cased (never casefolded).

    The key is idempotent (``email_key(email_key(x)) == email_key(x)``); it does not
    validate (see :func:`normalise_email`).

    >>> email_key("  Jane.Doe@Example.COM ")
    'jane.doe@example.com'
    >>> email_key("Stra\u00dfe@example.com") == email_key("strasse@example.com")
    False
    """
    if email.isascii():
        # The common case, with the same result: the only ASCII space separator (Zs) is
        # " ", ASCII text is already NFC, and lower-casing keeps it ASCII.
        return email.strip(" ").lower()
    text = unicodedata.normalize("NFC", _trim(email))
    return unicodedata.normalize("NFC", text.lower())


def email_problem(email: str) -> str | None:
    """Why ``email`` (as given) is not a usable address because of the characters in it,
    or ``None``: the first control, format, surrogate or separator character, named.

    >>> email_problem("jane\u200b@example.com")
    'contains U+200B ZERO WIDTH SPACE at position 4'
    """
    if email.isascii() and email.isprintable():
        return None  # the only forbidden ASCII characters are the controls (Cc)
    for position, char in enumerate(email):
        if unicodedata.category(char) in _FORBIDDEN:
            name = unicodedata.name(char, "a control character")
            return f"contains U+{ord(char):04X} {name} at position {position}"
    return None


def check_email_text(value: object, field: str = "email") -> str:
    """``value`` trimmed, if it is text free of control and zero-width characters.

    For values that keep an address as written (a subscriber row, a person); the
    comparison form is :func:`email_key`.
    """
    if not isinstance(value, str):
        raise InvalidTypeError(field, "an email address (str)", value)
    problem = email_problem(value)
    if problem is not None:
        raise InvalidValueError(field, _EXPECTED, value, detail=problem)
    # The only ASCII space separator (Zs) is " ": ASCII text is trimmed of it alone.
    return value.strip(" ") if value.isascii() else _trim(value)


def check_nonempty_email(value: object, field: str = "email") -> str:
    """:func:`check_email_text` of ``value``, which must not be empty once trimmed: an
    address as a subscriber row or a platform's answer holds it."""
    address = check_email_text(value, field)
    if not address:
        raise InvalidValueError(field, "a non-empty email address", value)
    return address


def normalise_email(email: object, field: str = "email") -> str:
    """The address used as a subscriber's identity: :func:`email_key` of a valid address.

    Refused (naming ``field``): a non-string; a control or zero-width character anywhere
    (:func:`email_problem`); no ``@`` or nothing before or after it; a space inside; more
    than 254 characters.

    >>> normalise_email(" Jos\u0065\u0301@Example.com ") == normalise_email("jos\u00e9@example.com")
    True
    """
    text = check_email_text(email, field)
    key = email_key(text)
    local, at, domain = key.partition("@")
    # Printable ASCII (what passed email_problem) holds one space character: " ".
    spaced = " " in key if key.isascii() else any(c.isspace() for c in key)
    if not at or not local or not domain or spaced:
        raise InvalidValueError(field, _EXPECTED, email)
    if len(key) > MAX_EMAIL_KEY_LENGTH:
        raise InvalidValueError(
            field, f"{_EXPECTED} of at most {MAX_EMAIL_KEY_LENGTH} characters", email
        )
    return key


# ----------------------------------------------------------------------------- strict shape


def is_email(text: object) -> bool:
    """Whether ``text`` has the shape of an email address (``name@example.com``).

    >>> is_email("jane.doe@example.com"), is_email("jane.doe@localhost")
    (True, False)
    """
    return (
        isinstance(text, str)
        and len(text) <= MAX_EMAIL_LENGTH
        and _EMAIL.fullmatch(text) is not None
        and len(text.rpartition("@")[0]) <= _MAX_LOCAL_LENGTH
    )


def parse_email(value: object, field: str = "email") -> str:
    """An email address, surrounding spaces removed; errors show it masked.

    >>> parse_email(" ops@example.com ")
    'ops@example.com'
    """
    if not isinstance(value, str):
        raise InvalidTypeError(field, "an email address", value)
    address = value.strip()
    if not is_email(address):
        raise InvalidValueError(
            field, "an email address such as name@example.com", mask_email(address)
        )
    return address


def parse_notification_email(value: object, field: str = "Notification_Email") -> str | None:
    """The maintenance notification address: an email address, or none (``None`` or ``""``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_email(value, field)
