"""The public path of :mod:`cmsf_core.app.cli` (the application: :mod:`cmsf_core.app`)."""

from cmsf_core.app.cli import *  # noqa: F403
from cmsf_core.app.cli import (
    __all__,  # noqa: F401
    main_exit,  # noqa: F401
)
