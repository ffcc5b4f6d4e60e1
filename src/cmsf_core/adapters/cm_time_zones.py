"""The old path of :mod:`cmsf_core.adapters.campaign_monitor.time_zones`: Campaign Monitor's
client time-zone names, mapped to IANA zones."""

from __future__ import annotations

from cmsf_core.adapters.campaign_monitor.time_zones import (
    STALE_OFFSETS,
    TIME_ZONES,
    UnmappableTimeZoneError,
    check_time_zones,
    lookup,
)

__all__ = [
    "STALE_OFFSETS",
    "TIME_ZONES",
    "UnmappableTimeZoneError",
    "check_time_zones",
    "lookup",
]
