"""The public path of :mod:`cmsf_core.shell.subscriber_sync` (the shells)."""

from cmsf_core.shell.subscriber_sync import *  # noqa: F403
from cmsf_core.shell.subscriber_sync import __all__  # noqa: F401
