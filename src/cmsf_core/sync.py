"""The public path of :mod:`cmsf_core.shell.sync` (the shells).

Every name is read from the shell's module when first asked for, so the subscriber shell's
names load on first use there as well, and ``from cmsf_core.sync import run_sync`` stays
light.
"""

from typing import TYPE_CHECKING, Any

from cmsf_core.shell import sync as _sync

if TYPE_CHECKING:
    from cmsf_core.shell.sync import *  # noqa: F403

__all__ = _sync.__all__


def __getattr__(name: str) -> Any:
    """A name of :mod:`cmsf_core.shell.sync`, looked up there on first use."""
    return getattr(_sync, name)
