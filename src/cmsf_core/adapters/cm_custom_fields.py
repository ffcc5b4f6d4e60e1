"""The old path of :mod:`cmsf_core.adapters.campaign_monitor.custom_fields`: Campaign
Monitor's custom field shapes, read and written at the edge."""

from cmsf_core.adapters.campaign_monitor.custom_fields import *  # noqa: F403
from cmsf_core.adapters.campaign_monitor.custom_fields import __all__  # noqa: F401
