"""What every subscriber route shares: the check of a shell's client id and settings, the
opted-out refusal of a list add, and the per-row outcomes of an import (the rows the
platform refused logged, emails masked)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import attrs

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.maintenance import mask_email, mask_emails
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import (
    CommandResult,
    ImportOutcome,
    ImportResult,
    ImportStatus,
    ImportSubscribers,
    Person,
    RecordKind,
    SubscriberState,
    import_outcomes,
    list_add_refusal,
)

_log = logging.getLogger("cmsf_core.shell.subscriber_sync")  # one logger, as before the split


def check_client_and_settings(client_id: object, settings: object) -> None:
    """Refuse a shell call whose settings are not a Settings or whose client id is empty."""
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    if not isinstance(client_id, str) or not client_id.strip():
        raise InvalidValueError("client_id", "a non-empty client id", client_id)


@attrs.frozen
class ListAddRefusal:
    """A contact or lead that was not sent, with the product's message (its Email Opt Out
    is checked and "prevent contacts or leads being added to lists" is on)."""

    record_id: str
    kind: RecordKind
    email: str | None = attrs.field(repr=lambda e: "None" if e is None else mask_email(e))
    message: str


def _refusal(person: Person, settings: Settings) -> ListAddRefusal | None:
    message = list_add_refusal(
        person, prevent_opted_out_list_add=settings.prevent_opted_out_list_add
    )
    if message is None:
        return None
    return ListAddRefusal(person.record_id, person.kind, person.email, message)


def _outcomes(
    results: Iterable[CommandResult], kept_inactive: Mapping[str, SubscriberState]
) -> tuple[ImportOutcome, ...]:
    """Per-email outcomes of the import commands among ``results``: the platform's answer
    for each row, or FAILED with the error for an import refused as a whole."""
    outcomes: list[ImportOutcome] = []
    for result in results:
        command = result.command
        if not isinstance(command, ImportSubscribers):
            continue
        answer = result.import_result
        if answer is None and not result.ok:
            outcomes.extend(
                ImportOutcome(row.email, ImportStatus.FAILED, None, result.error)
                for row in command.subscribers
            )
            continue
        outcomes.extend(
            import_outcomes(command, answer or ImportResult(), kept_inactive=kept_inactive)
        )
    return tuple(outcomes)


def _log_failures(what: str, outcomes: Iterable[ImportOutcome]) -> None:
    """One WARNING line for the rows the platform refused, every email in it masked."""
    failed = [o for o in outcomes if o.status is ImportStatus.FAILED]
    if failed:
        refused = ", ".join(f"{mask_email(o.email)} ({o.message})" for o in failed)
        _log.warning(
            "%s: %d subscriber(s) refused by the platform: %s",
            what,
            len(failed),
            mask_emails(refused),  # the platform's messages may quote an address too
        )
