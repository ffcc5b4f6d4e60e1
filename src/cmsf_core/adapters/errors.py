"""Errors of the service adapters, at their old path: they live in :mod:`cmsf_core.ports.errors`
(what a platform or CRM port raises), re-exported here."""

from cmsf_core.ports.errors import (
    AuthenticationError,
    BadRequestError,
    CrmAuthenticationError,
    CrmError,
    CrmUnavailableError,
    ExpiredTokenError,
    NotFoundError,
    PlatformError,
    PlatformUnavailableError,
    RateLimitedError,
)

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
]
