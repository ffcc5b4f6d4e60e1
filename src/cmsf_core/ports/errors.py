"""Errors a port raises: what a remote service refused or failed to answer.

These belong to the ports (not to one adapter): the shells catch them from whichever
adapter stands behind :class:`~cmsf_core.ports.platform.EmailPlatform` or
:class:`~cmsf_core.ports.crm.CrmStore`.  :mod:`cmsf_core.adapters.errors` and
:mod:`cmsf_core.adapters.cm_time_zones` re-export them from their old paths.

The two service families (:class:`PlatformError`, :class:`CrmError`) are
:class:`~cmsf_core.domain.errors.CmsfError` and ``RuntimeError``: the input was fine, the
service was not.  Each carries the service's own error ``code`` (an
``int`` for Campaign Monitor, an ``errorCode`` string for Salesforce) and the HTTP
``status`` when there was one.  Messages never hold a credential: the adapters build them
from the service's code and message only, with any credential the service echoed masked.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from cmsf_core.domain.errors import CmsfError

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "CrmAuthenticationError",
    "CrmError",
    "CrmUnavailableError",
    "ExpiredTokenError",
    "NotFoundError",
    "PlatformError",
    "PlatformUnavailableError",
    "RateLimitedError",
    "UnmappableTimeZoneError",
]


def _described(message: str, *, code: object, status: int | None, operation: str) -> str:
    """``operation: [code] message (HTTP status)``, each part only when known."""
    parts = [f"{operation}: " if operation else ""]
    if code is not None:
        parts.append(f"[{code}] ")
    parts.append(message)
    if status is not None:
        parts.append(f" (HTTP {status})")
    return "".join(parts)


_Code = TypeVar("_Code", int, str)


class _ServiceError(CmsfError, RuntimeError, Generic[_Code]):
    """A remote service's refusal or failure: its own error ``code``, the HTTP ``status``
    and the ``operation`` the adapter was doing, all in the message when known."""

    def __init__(
        self,
        message: str,
        *,
        code: _Code | None = None,
        status: int | None = None,
        operation: str = "",
    ) -> None:
        self.code: _Code | None = code
        self.status = status
        self.operation = operation
        super().__init__(_described(message, code=code, status=status, operation=operation))


class PlatformError(_ServiceError[int]):
    """The email platform refused a request or could not be reached.

    ``code`` is the platform's error code (Campaign Monitor's ``Code``, e.g. 121 for an
    expired OAuth token), ``status`` the HTTP status, ``operation`` what the adapter was
    doing (``"tracking_page"``, ...).
    """


class AuthenticationError(PlatformError):
    """The credentials were refused (HTTP 401): a wrong API key or a revoked token."""


class ExpiredTokenError(AuthenticationError):
    """The OAuth access token expired (Campaign Monitor code 121): refresh it and retry."""


class BadRequestError(PlatformError):
    """The platform refused the request as invalid (HTTP 400 and other 4xx)."""


class NotFoundError(PlatformError):
    """The resource does not exist (HTTP 404): an unknown client, campaign or list."""


class RateLimitedError(PlatformError):
    """The platform kept answering HTTP 429 after every retry."""


class PlatformUnavailableError(PlatformError):
    """A transient failure that outlasted every retry: HTTP 5xx, a timeout, a reset."""


class UnmappableTimeZoneError(CmsfError, ValueError):
    """A client's time zone names no IANA zone.  ``client_id`` and ``time_zone`` (the
    platform's name for it) say which; only that client fails."""

    def __init__(self, client_id: str, time_zone: object, *, where: str = "") -> None:
        self.client_id = client_id
        self.time_zone = time_zone
        super().__init__(
            f"{where}client {client_id!r} has the time zone {time_zone!r}, which maps to no "
            f"IANA zone; name its zone with --time-zone {client_id}=Area/City "
            f"(e.g. cmsf sync --time-zone {client_id}=Australia/Sydney)"
        )


class CrmError(_ServiceError[str]):
    """The CRM refused a request or could not be reached.

    ``code`` is Salesforce's ``errorCode`` (``"INVALID_FIELD"``, ``"INVALID_SESSION_ID"``,
    ...), ``status`` the HTTP status, ``operation`` what the adapter was doing.
    """


class CrmAuthenticationError(CrmError):
    """The session was refused (HTTP 401, ``INVALID_SESSION_ID``): log in again."""


class CrmUnavailableError(CrmError):
    """A transient failure of the CRM (HTTP 5xx, a timeout) or a bulk job that failed."""
