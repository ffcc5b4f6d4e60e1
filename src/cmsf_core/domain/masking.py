"""Personal data masked wherever it is shown: email addresses cut to ``j***@example.com``.

Email addresses are personal data: a ``repr``, a ``str``, an error message or an audit
entry that would show one shows it masked, and a secret shows :data:`REDACTED`.
"""

from __future__ import annotations

import re

from cmsf_core.domain.errors import InvalidTypeError

__all__ = ["REDACTED", "mask_email", "mask_emails", "masked_repr"]

#: What is shown instead of a secret value (and of text too short to mask).
REDACTED = "***"

# Looser than an address's shape, to find addresses inside free text (masking too much
# is the safe mistake).
_EMAIL_IN_TEXT = re.compile(
    r"(?P<quote>['`]*)(?P<address>[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+)"
)


def mask_email(address: str) -> str:
    """The address with its local part cut to its first character: ``j***@example.com``.

    Text without an ``@`` is masked whole.

    >>> mask_email("jane.doe@example.com")
    'j***@example.com'
    """
    if not isinstance(address, str):
        raise InvalidTypeError("address", "a string", address)
    local, at, domain = address.rpartition("@")
    if not at:
        return REDACTED
    return f"{local[:1]}***@{domain}"


def mask_emails(text: str) -> str:
    """``text`` with every email address in it masked (see :func:`mask_email`).

    >>> mask_emails("bounced: jane.doe@example.com, bob@example.org")
    'bounced: j***@example.com, b***@example.org'
    """
    if not isinstance(text, str):
        raise InvalidTypeError("text", "a string", text)
    return _EMAIL_IN_TEXT.sub(lambda m: m["quote"] + mask_email(m["address"]), text)


def masked_repr(value: object) -> str:
    """``repr(value)`` with email addresses masked: an attrs ``repr=`` for personal fields.

    >>> masked_repr("jane.doe@example.com")
    "'j***@example.com'"
    """
    return mask_emails(repr(value))
