"""The public path of :mod:`cmsf_core.testing.properties` (the test kit)."""

from cmsf_core.testing.properties import *  # noqa: F403
from cmsf_core.testing.properties import __all__  # noqa: F401
