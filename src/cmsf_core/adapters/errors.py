"""Errors of the service adapters, at their old path: they live in :mod:`cmsf_core.ports.errors`
(what a platform or CRM port raises), re-exported here."""

from cmsf_core.ports.errors import *  # noqa: F403
from cmsf_core.ports.errors import __all__  # noqa: F401
