"""The public path of :mod:`cmsf_core.app.demo` (the application: :mod:`cmsf_core.app`)."""

from cmsf_core.app.demo import *  # noqa: F403
from cmsf_core.app.demo import __all__  # noqa: F401
