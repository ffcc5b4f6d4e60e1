"""Maintenance messages, the notification address, and the audit log of settings changes.

The sync keeps a log of messages (a support code, a severity, the record concerned,
guidance and the time) on the product's maintenance page; "Delete messages" clears it.
When a notification email address is set, every new message is addressed to it.  The
audit log lists settings changes, one entry per changed setting, with secret values
redacted.

Email addresses are personal data: wherever this module shows one (a ``repr``, a
``str``, an error message, an audit entry) it is masked as ``j***@example.com``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

# The address rules and the masker live in emails and masking; they stay importable from
# here, where they were first published.
from cmsf_core.domain.checks import is_iterable_not_text, tuple_of
from cmsf_core.domain.choices import Choice, read_as, spellings
from cmsf_core.domain.emails import is_email, parse_email, parse_notification_email
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.masking import REDACTED, mask_email, mask_emails, masked_repr
from cmsf_core.domain.settings import SETTING_SPECS, Settings, SettingSpec
from cmsf_core.domain.timeutil import ensure_utc

__all__ = [
    "REDACTED",
    "AuditEntry",
    "MaintenanceLog",
    "MaintenanceMessage",
    "Notification",
    "Severity",
    "diff_settings",
    "is_email",
    "mask_email",
    "mask_emails",
    "masked_repr",
    "parse_email",
    "parse_notification_email",
]

# ----------------------------------------------------------------------------- messages


class Severity(Choice):
    """How serious a maintenance message is.

    :meth:`parse` reads ``Info``/``Information``, ``Warning``/``Warn`` or ``Error`` in any
    case.

    >>> Severity.parse("warn")
    <Severity.WARNING: 'Warning'>
    """

    INFO = "Info"
    WARNING = "Warning"
    ERROR = "Error"


_SEVERITY_NAMES = spellings(Severity, information=Severity.INFO, warn=Severity.WARNING)
read_as(Severity, field="severity", expected="a severity name", table=_SEVERITY_NAMES)

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}")


def _check_code(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidTypeError("code", "a support code (str)", value)
    if _CODE.fullmatch(value) is None:
        raise InvalidValueError(
            "code", "a support code of 1 to 40 letters, digits, '-', '_', '.' or ':'", value
        )


def _check_record(_inst: object, _attr: attrs.Attribute[str | None], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidTypeError("record", "a record reference (str) or None", value)
    if not value.strip():
        raise InvalidValueError("record", "a non-empty record reference or None", value)


def _check_guidance(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidTypeError("guidance", "a string", value)


def _to_severity(value: object) -> Severity:
    return Severity.parse(value)


def _to_occurred_at(value: object) -> datetime:
    return ensure_utc(value, "occurred_at")


@attrs.frozen
class MaintenanceMessage:
    """One message of the maintenance log.

    ``code`` is the support code (the product links it to a help page), ``record`` the
    record concerned (an id or a short description; ``None`` for a general message) and
    ``guidance`` what to do.  ``occurred_at`` must be timezone-aware and is held in UTC.
    Email addresses in ``record`` and ``guidance`` are kept as given (the shell may need
    them) but masked in ``repr`` and ``str``.

    >>> from datetime import datetime, UTC
    >>> m = MaintenanceMessage("CM-0042", "Error", "jane.doe@example.com",
    ...     "Country is a restricted picklist.", datetime(2024, 5, 1, 9, tzinfo=UTC))
    >>> print(m)
    2024-05-01 09:00 UTC [Error] CM-0042 j***@example.com: Country is a restricted picklist.
    """

    code: str = attrs.field(validator=_check_code)
    severity: Severity = attrs.field(converter=_to_severity)
    record: str | None = attrs.field(validator=_check_record, repr=masked_repr)
    guidance: str = attrs.field(validator=_check_guidance, repr=masked_repr)
    occurred_at: datetime = attrs.field(converter=_to_occurred_at)

    def __str__(self) -> str:
        """One masked line: time, severity, code, record and guidance."""
        when = self.occurred_at.strftime("%Y-%m-%d %H:%M UTC")
        about = f" {self.record}" if self.record is not None else ""
        text = f"{when} [{self.severity.value}] {self.code}{about}"
        if self.guidance:
            text = f"{text}: {self.guidance}"
        return mask_emails(text)


@attrs.frozen
class Notification:
    """An email to send about a new maintenance message; its text has addresses masked.

    ``to`` is the full address (the shell needs it to send) but is masked in ``repr``.
    """

    to: str = attrs.field(repr=masked_repr)
    subject: str
    body: str


def _to_messages(value: object) -> tuple[MaintenanceMessage, ...]:
    return tuple_of(
        value,
        MaintenanceMessage,
        "messages",
        "MaintenanceMessage values",
        collection=is_iterable_not_text,
    )


def _to_audit(value: object) -> tuple[AuditEntry, ...]:
    return tuple_of(
        value, AuditEntry, "audit", "AuditEntry values", collection=is_iterable_not_text
    )


def _to_notification_email(value: object) -> str | None:
    return parse_notification_email(value, "notification_email")


@attrs.frozen
class MaintenanceLog:
    """The maintenance page: messages (oldest first), notification address and audit log.

    Every change returns a new log.  "Delete messages" clears the messages only; the
    audit log of settings changes and the notification address stay.

    >>> from datetime import datetime, UTC
    >>> log = MaintenanceLog(notification_email="ops@example.com")
    >>> m = MaintenanceMessage("CM-1", "Warning", None, "", datetime(2024, 5, 1, tzinfo=UTC))
    >>> log.add(m).messages == (m,), log.notification_for(m).to
    (True, 'ops@example.com')
    >>> log.add(m).delete_messages().messages
    ()
    """

    messages: tuple[MaintenanceMessage, ...] = attrs.field(default=(), converter=_to_messages)
    notification_email: str | None = attrs.field(
        default=None, converter=_to_notification_email, repr=masked_repr
    )
    audit: tuple[AuditEntry, ...] = attrs.field(default=(), converter=_to_audit)

    def add(self, message: MaintenanceMessage) -> MaintenanceLog:
        """The log with ``message`` appended."""
        if not isinstance(message, MaintenanceMessage):
            raise InvalidTypeError("message", "a MaintenanceMessage", message)
        return attrs.evolve(self, messages=(*self.messages, message))

    def notification_for(self, message: MaintenanceMessage) -> Notification | None:
        """The email a new ``message`` sends to the notification address, if one is set."""
        if not isinstance(message, MaintenanceMessage):
            raise InvalidTypeError("message", "a MaintenanceMessage", message)
        if self.notification_email is None:
            return None
        return Notification(
            to=self.notification_email,
            subject=f"Maintenance message {message.code} ({message.severity.value})",
            body=str(message),
        )

    def delete_messages(self) -> MaintenanceLog:
        """The log with no messages ("Delete messages")."""
        return attrs.evolve(self, messages=())

    def with_notification_email(self, address: str | None) -> MaintenanceLog:
        """The log with a new notification address (``None`` or ``""``: no notifications)."""
        return attrs.evolve(self, notification_email=address)

    def record_changes(self, entries: Iterable[AuditEntry]) -> MaintenanceLog:
        """The log with ``entries`` (see :func:`diff_settings`) added to the audit log."""
        return attrs.evolve(self, audit=(*self.audit, *_to_audit(entries)))


# ----------------------------------------------------------------------------- audit log


def _freeze(value: object) -> object:
    """A settings value made immutable and with email addresses masked."""
    if isinstance(value, str):
        return mask_emails(value)
    if isinstance(value, Mapping):
        return FrozenMap({_freeze(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(_freeze(v) for v in value)
    return value


def _check_user(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidTypeError("user", "a user name or id (str)", value)
    if not value.strip():
        raise InvalidValueError("user", "a non-empty user name or id", value)


def _check_setting(_inst: object, _attr: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidTypeError("setting", "a setting name (str)", value)


def _to_at(value: object) -> datetime:
    return ensure_utc(value, "at")


def _show(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in value.items()) + "}"
    return repr(value)


@attrs.frozen
class AuditEntry:
    """One settings change: when, by whom, which setting (product name), old and new value.

    Values are the product-format values of :meth:`Settings.to_mapping` (``None`` when
    unset), made immutable, with email addresses masked and secrets shown as ``"***"``.
    """

    at: datetime = attrs.field(converter=_to_at)
    user: str = attrs.field(validator=_check_user, repr=masked_repr)
    setting: str = attrs.field(validator=_check_setting)
    old: object
    new: object

    def __str__(self) -> str:
        """``2024-05-01 09:00 UTC j***@example.com changed DaysToKeep_Email: 180 -> 90``."""
        when = self.at.strftime("%Y-%m-%d %H:%M UTC")
        return mask_emails(
            f"{when} {self.user} changed {self.setting}: {_show(self.old)} -> {_show(self.new)}"
        )


_MISSING = object()


def diff_settings(
    old: Settings,
    new: Settings,
    *,
    at: datetime,
    user: str,
    specs: Iterable[SettingSpec] | None = None,
) -> tuple[AuditEntry, ...]:
    """One audit entry per setting whose value differs between ``old`` and ``new``.

    Settings are compared by their product names and values (:meth:`Settings.to_mapping`),
    in the order of ``specs`` (default :data:`SETTING_SPECS`).  A spec marked ``secret`` shows
    ``"***"`` for both values: the entry says that it changed, never to what.  Email
    addresses in values are masked.  ``at`` must be timezone-aware.

    >>> from datetime import datetime, UTC
    >>> from cmsf_core.domain.settings import Settings
    >>> entries = diff_settings(Settings(), Settings(days_to_keep=90),
    ...                         at=datetime(2024, 5, 1, 9, tzinfo=UTC), user="admin")
    >>> [(e.setting, e.old, e.new) for e in entries]
    [('DaysToKeep_Email', 180, 90)]
    """
    if specs is None:
        specs = SETTING_SPECS
    if not isinstance(old, Settings):
        raise InvalidTypeError("old", "a Settings", old)
    if not isinstance(new, Settings):
        raise InvalidTypeError("new", "a Settings", new)
    before, after = old.to_mapping(), new.to_mapping()
    entries = []
    for spec in specs:
        if not isinstance(spec, SettingSpec):
            raise InvalidTypeError("specs", "SettingSpec rows", spec)
        was, now = before.get(spec.name, _MISSING), after.get(spec.name, _MISSING)
        if was == now:
            continue
        if spec.secret:
            shown_old: object = REDACTED
            shown_new: object = REDACTED
        else:
            shown_old = None if was is _MISSING else _freeze(was)
            shown_new = None if now is _MISSING else _freeze(now)
        entries.append(AuditEntry(at, user, spec.name, shown_old, shown_new))
    return tuple(entries)
