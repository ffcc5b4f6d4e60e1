"""The public path of :mod:`cmsf_core.testing.strategies` (the test kit)."""

from cmsf_core.testing.strategies import *  # noqa: F403
from cmsf_core.testing.strategies import __all__  # noqa: F401
