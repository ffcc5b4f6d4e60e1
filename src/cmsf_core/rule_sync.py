"""The public path of :mod:`cmsf_core.shell.rule_sync` (the shells)."""

from cmsf_core.shell.rule_sync import *  # noqa: F403
from cmsf_core.shell.rule_sync import __all__  # noqa: F401
