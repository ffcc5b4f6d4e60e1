"""The public path of :mod:`cmsf_core.app.columnar` (the application: :mod:`cmsf_core.app`)."""

from cmsf_core.app.columnar import *  # noqa: F403
from cmsf_core.app.columnar import __all__  # noqa: F401
