"""The public path of :mod:`cmsf_core.shell.sync` (the shells)."""

from cmsf_core.shell.sync import *  # noqa: F403
from cmsf_core.shell.sync import __all__  # noqa: F401
