"""The old path of :mod:`cmsf_core.adapters.campaign_monitor.time_zones`: Campaign Monitor's
client time-zone names, mapped to IANA zones."""

from cmsf_core.adapters.campaign_monitor.time_zones import *  # noqa: F403
from cmsf_core.adapters.campaign_monitor.time_zones import __all__  # noqa: F401
