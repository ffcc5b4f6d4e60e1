"""The public path of :mod:`cmsf_core.shell.service` (the shells)."""

from cmsf_core.shell.service import *  # noqa: F403
from cmsf_core.shell.service import __all__  # noqa: F401
