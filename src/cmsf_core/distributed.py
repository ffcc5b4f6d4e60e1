"""The public path of :mod:`cmsf_core.app.distributed` (the application: :mod:`cmsf_core.app`)."""

from cmsf_core.app.distributed import *  # noqa: F403
from cmsf_core.app.distributed import __all__  # noqa: F401
