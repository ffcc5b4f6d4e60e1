"""The public path of :mod:`cmsf_core.app.simulate` (the application: :mod:`cmsf_core.app`)."""

from cmsf_core.app.simulate import *  # noqa: F403
from cmsf_core.app.simulate import __all__  # noqa: F401
