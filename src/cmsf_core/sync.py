"""The public path of :mod:`cmsf_core.shell.sync` (the shells).

The subscriber shell's names it re-exports load on first use, as they do from the shell's
own module, so that ``from cmsf_core.sync import run_sync`` stays light.
"""

from typing import TYPE_CHECKING, Any

from cmsf_core.shell import sync as _sync
from cmsf_core.shell.sync import (
    CHECKPOINT_REFUSED,
    Progress,
    SyncAbortedError,
    SyncReport,
    delete_records_by_hand,
    run_sync,
)

if TYPE_CHECKING:
    from cmsf_core.shell.subscriber_sync import (
        RecordChangeReport,
        SubscriberSyncReport,
        add_to_list,
        handle_record_changes,
        sync_subscribers,
    )

__all__ = [
    "CHECKPOINT_REFUSED",
    "Progress",
    "RecordChangeReport",
    "SubscriberSyncReport",
    "SyncAbortedError",
    "SyncReport",
    "add_to_list",
    "delete_records_by_hand",
    "handle_record_changes",
    "run_sync",
    "sync_subscribers",
]


def __getattr__(name: str) -> Any:
    """The subscriber shell's names, loaded from the shell's module on first use."""
    return getattr(_sync, name)
