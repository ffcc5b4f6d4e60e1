"""The public path of :mod:`cmsf_core.app.humanize` (the application: :mod:`cmsf_core.app`)."""

from cmsf_core.app.humanize import *  # noqa: F403
from cmsf_core.app.humanize import __all__  # noqa: F401
