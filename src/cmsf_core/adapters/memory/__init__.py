"""In-memory implementations of both ports: complete, fast, and shipped for users' tests.

:class:`InMemoryCrm` behaves like the CRM where it matters to the sync: a member's Status
must be one of its campaign's statuses (Salesforce refuses anything else), writes are
bulk and report per-item failures, and a crash can be injected after a number of writes
(``fail_after``) to test recovery.  :class:`InMemoryPlatform` serves tracking streams page
by page with the ``since`` filter, like Campaign Monitor, holds subscriber lists and a
suppression list per client, and executes subscriber commands on them (logged in
``executed``).

Seeding helpers keep a notebook or a test short::

    platform = InMemoryPlatform()
    platform.add_client("client-1", "Acme", time_zone="Europe/London")
    platform.add_campaign("client-1", "cmp-1", "Spring sale", sent_at=sent)
    platform.add_event("cmp-1", ActivityType.OPENED, "ann@example.com", at)
"""

from cmsf_core.adapters.memory.crm import InMemoryCrm, SimulatedCrashError
from cmsf_core.adapters.memory.crm import RefusalRule as RefusalRule
from cmsf_core.adapters.memory.platform import InMemoryPlatform

__all__ = ["InMemoryCrm", "InMemoryPlatform", "SimulatedCrashError"]
