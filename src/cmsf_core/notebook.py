"""The public path of :mod:`cmsf_core.app.notebook` (the application: :mod:`cmsf_core.app`)."""

from cmsf_core.app.notebook import *  # noqa: F403
from cmsf_core.app.notebook import __all__  # noqa: F401
