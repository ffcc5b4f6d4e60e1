"""The subscriber part of the primary sync: Email Opt Out from the lists' states, and the
suppression records from the clients' suppression lists."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import attrs

from cmsf_core.domain.errors import InvalidTypeError
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import (
    DuplicateEmail,
    ListMembership,
    OptOutPlan,
    SuppressionPlan,
    email_key,
    plan_email_opt_out,
    plan_suppression_sync,
)
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.ports.crm import CrmStore
from cmsf_core.ports.platform import EmailPlatform
from cmsf_core.shell.people import people_with_emails
from cmsf_core.shell.reports import refusal_messages


@attrs.frozen
class SubscriberSyncReport:
    """What the subscriber part of a sync changed (or, on a dry run, would change).

    ``failures`` are the CRM's per-item refusals (record id or email -> reason).
    """

    opt_out: OptOutPlan = attrs.field(factory=OptOutPlan)
    suppression: SuppressionPlan = attrs.field(factory=SuppressionPlan)
    failures: tuple[tuple[object, str], ...] = ()
    messages: tuple[MaintenanceMessage, ...] = ()


def _duplicate_message(duplicate: DuplicateEmail, at: datetime) -> MaintenanceMessage:
    ids = ", ".join(duplicate.record_ids)
    return MaintenanceMessage(
        "SYNC-DUPLICATE-EMAIL",
        Severity.WARNING,
        duplicate.email,
        f"{len(duplicate.record_ids)} contacts and leads share this email ({ids}); "
        "Email Opt Out is kept the same on all of them.",
        at,
    )


def sync_subscribers(
    crm: CrmStore,
    platform: EmailPlatform,
    settings: Settings,
    since: Mapping[str, datetime | None],
    *,
    as_of: datetime,
    dry_run: bool = False,
    full: bool = False,
) -> SubscriberSyncReport:
    """The subscriber part of the primary sync, for the clients in ``since``.

    ``since`` maps each client id to the start of the window the sync read for it
    (``None``: everything).  With "sync email opt out" on, the emails whose list state
    changed since then are read again (their lists in every client of ``since``), and
    every contact and lead with that email gets the Email Opt Out the rule calls for;
    duplicates are reported as warnings.  With "sync suppression list" on, the CRM's
    suppression records follow the clients' suppression lists; with it off, a ``full``
    sync removes them (the integration loaded them).  A dry run only plans.
    """
    if not isinstance(settings, Settings):
        raise InvalidTypeError("settings", "a Settings", settings)
    as_of = ensure_utc(as_of, "as_of")
    opt_out = OptOutPlan()
    if settings.sync_email_opt_out:
        changed: dict[str, str] = {}
        for client_id, start in since.items():
            for email in platform.subscriber_changes(client_id, since=start):
                changed.setdefault(email_key(email), email)
        memberships: dict[str, list[ListMembership]] = {}
        for email in changed.values():
            memberships[email] = [m for c in since for m in platform.lists_for_email(c, email)]
        opt_out = plan_email_opt_out(
            memberships, people_with_emails(crm, list(changed.values())), sync_email_opt_out=True
        )
    suppression = SuppressionPlan()
    if settings.sync_suppression_list or full:
        on = settings.sync_suppression_list
        entries = (
            [e for client_id in since for e in platform.suppression_list(client_id)] if on else []
        )
        suppression = plan_suppression_sync(
            entries, crm.suppression_records(), sync_suppression_list=on, full=full
        )
    messages = [_duplicate_message(d, as_of) for d in opt_out.duplicates]
    if dry_run:
        return SubscriberSyncReport(opt_out, suppression, messages=tuple(messages))
    failures: list[tuple[object, str]] = []
    if opt_out.changes:
        result = crm.set_opt_out(opt_out.changes)
        failures += result.failures
        messages += refusal_messages("SYNC-EMAIL-OPT-OUT", result, as_of)
    if suppression.changes:
        result = crm.apply_suppression(
            [*suppression.create, *suppression.update, *suppression.remove]
        )
        failures += result.failures
        messages += refusal_messages("SYNC-SUPPRESSION", result, as_of)
    if messages:
        crm.add_messages(messages)
    return SubscriberSyncReport(opt_out, suppression, tuple(failures), tuple(messages))
