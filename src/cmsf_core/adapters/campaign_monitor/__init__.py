"""The email-platform port over Campaign Monitor's official ``createsend`` client.

:class:`CampaignMonitorPlatform` implements :class:`~cmsf_core.ports.platform.EmailPlatform`
with the ``createsend`` classes (``CreateSend``, ``Client``, ``Campaign``, ``List``,
``Subscriber``): their URLs, parameters and response parsing are the client's own.  Only the
HTTP exchange is the adapter's: every request goes through a *transport* with a timeout
(the client sets none) and is retried with backoff on transient failures.  Install the
``[campaignmonitor]`` extra; ``createsend`` is imported on first use, never at
``import cmsf_core``.

Time: Campaign Monitor gives naive local times of the client's time zone
(``Client.details().BasicDetails.TimeZone``, a display name such as ``"(GMT+10:00) Canberra,
Melbourne, Sydney"``). The zone is mapped to IANA by
:func:`~cmsf_core.adapters.campaign_monitor.time_zones.zone_for_time_zone` (the platform's
97 names by the table of :mod:`~cmsf_core.adapters.campaign_monitor.time_zones`) and every
time is localised once, here, by
:func:`~cmsf_core.adapters.campaign_monitor.local_times.localise` (a time in a DST gap moves
forward by the gap's length; a time in a fold is its first occurrence). A client whose zone
maps to no IANA zone fails alone: its reads raise
:class:`~cmsf_core.adapters.campaign_monitor.time_zones.UnmappableTimeZoneError`. A
``since`` filter is sent as the client's local wall time ``"YYYY-MM-DD HH:MM"``, rounded up
to the whole minute (the platform's precision, so no event before ``since`` is served).

Errors become :class:`~cmsf_core.adapters.errors.PlatformError` subclasses carrying the
HTTP status and the API's ``Code`` (121 -> :class:`~cmsf_core.adapters.errors.ExpiredTokenError`,
after one refresh of OAuth tokens with createsend's refresh grant).  The credentials are
:class:`~cmsf_core.domain.connection.Credentials`: the secret is revealed only into the
``Authorization`` header of a request (and the form of a token refresh), never kept by the
``createsend`` objects, and never shown in a repr, an error (nor anything chained to it)
or a log record, in any form it travels in.  ``docs/adapters.md`` has the details.

The package, one idea a module: :mod:`.transport` (one HTTP exchange), :mod:`.client` (the
session: retries, errors, OAuth refresh, masking), :mod:`.platform` (the port),
:mod:`.rows` (the API's row shapes read into domain values), :mod:`.custom_fields`,
:mod:`.time_zones` (the platform's zone names) and :mod:`.local_times` (its naive local
times).  The names below load on first use, so that the file platform and the sync can read
the time-zone table without loading the HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_BASE_URI",
    "PAGE_SIZE_LIMIT",
    "CampaignMonitorPlatform",
    "Response",
    "Transport",
    "default_backoff",
    "http_transport",
    "import_request",
    "subscriber_row",
]

_EXPORTS: dict[str, str] = {
    "DEFAULT_BASE_URI": "cmsf_core.adapters.campaign_monitor.client",
    "PAGE_SIZE_LIMIT": "cmsf_core.adapters.campaign_monitor.platform",
    "CampaignMonitorPlatform": "cmsf_core.adapters.campaign_monitor.platform",
    "LIST_STATE_METHODS": "cmsf_core.adapters.campaign_monitor.platform",
    "STREAM_METHODS": "cmsf_core.adapters.campaign_monitor.platform",
    "Response": "cmsf_core.adapters.campaign_monitor.transport",
    "Transport": "cmsf_core.adapters.campaign_monitor.transport",
    "http_transport": "cmsf_core.adapters.campaign_monitor.transport",
    "default_backoff": "cmsf_core.adapters.retry",
    "import_request": "cmsf_core.adapters.campaign_monitor.rows",
    "subscriber_row": "cmsf_core.adapters.campaign_monitor.rows",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    found = getattr(importlib.import_module(module), name)
    globals()[name] = found
    return found


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from cmsf_core.adapters.campaign_monitor.client import DEFAULT_BASE_URI
    from cmsf_core.adapters.campaign_monitor.platform import (
        PAGE_SIZE_LIMIT,
        CampaignMonitorPlatform,
    )
    from cmsf_core.adapters.campaign_monitor.rows import import_request, subscriber_row
    from cmsf_core.adapters.campaign_monitor.transport import Response, Transport, http_transport
    from cmsf_core.adapters.retry import default_backoff
