"""The public path of :mod:`cmsf_core.shell.service` (the shells), with the service's lines
in words from :mod:`cmsf_core.app.service_lines` (the application)."""

from cmsf_core.app import service_lines as _lines
from cmsf_core.app.service_lines import *  # noqa: F403
from cmsf_core.shell import service as _loop
from cmsf_core.shell.service import *  # noqa: F403

__all__ = _loop.__all__ + _lines.__all__
