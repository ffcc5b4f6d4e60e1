"""The old path of :mod:`cmsf_core.adapters.campaign_monitor.custom_fields`: Campaign
Monitor's custom field shapes, read and written at the edge."""

from __future__ import annotations

from cmsf_core.adapters.campaign_monitor.custom_fields import (
    field_from_api,
    field_to_api,
    subscriber_from_api,
)

__all__ = ["field_from_api", "field_to_api", "subscriber_from_api"]
