"""What every shell's report shares: ``ok`` over the platform's answers to its commands,
and the CRM's refused writes turned into maintenance messages."""

from __future__ import annotations

from datetime import datetime

from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.records.sync_state import WriteResult
from cmsf_core.domain.subscribers import CommandResult

__all__ = ["PlatformAnswers", "refusal_messages"]


class PlatformAnswers:
    """A report holding the platform's answer to each command it sent (``results``): it is
    ``ok`` when the platform took every one.  Mixed into the shells' frozen reports."""

    __slots__ = ()

    results: tuple[CommandResult, ...]

    @property
    def ok(self) -> bool:
        """True when the platform accepted every command."""
        return all(result.ok for result in self.results)


def refusal_messages(code: str, result: WriteResult, at: datetime) -> list[MaintenanceMessage]:
    """An Error maintenance message ``code`` for each item the CRM refused in ``result``."""
    return [
        MaintenanceMessage(code, Severity.ERROR, str(item) or None, reason, at)
        for item, reason in result.failures
    ]
