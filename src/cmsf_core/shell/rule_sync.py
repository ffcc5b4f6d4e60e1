"""The subscriber rules as a shell: a trigger batch of contact and lead changes, or an
administrator's retrospective run, evaluated against each list's rules, and the platform
commands executed.

The decisions are :mod:`cmsf_core.domain.rules`' (:func:`~cmsf_core.domain.rules.
plan_rule_changes`, :func:`~cmsf_core.domain.rules.plan_retrospective_run`); this module
only reads what they need (the lists each email is on), executes the commands and keeps
the messages.  The trigger settings, the opted-out refusal and the SMS settings come from
:class:`~cmsf_core.domain.settings.Settings`, as on every other route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TypedDict

import attrs

from cmsf_core.domain.checks import is_collection
from cmsf_core.domain.field_mappings import ListFieldMappings
from cmsf_core.domain.rules import (
    ListRules,
    RuleChange,
    RulePlan,
    RuleRecord,
    plan_retrospective_run,
    plan_rule_changes,
)
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import CommandResult, ListMembership
from cmsf_core.ports.crm import CrmStore
from cmsf_core.ports.platform import EmailPlatform
from cmsf_core.shell.reports import PlatformAnswers
from cmsf_core.shell.subscriber_sync.shared import check_client_and_settings

__all__ = ["RuleRunReport", "handle_rule_changes", "run_retrospective"]


@attrs.frozen
class RuleRunReport(PlatformAnswers):
    """What a rule run planned (every firing with its outcome) and what the platform
    answered to each command."""

    plan: RulePlan
    results: tuple[CommandResult, ...] = ()


def _memberships(
    platform: EmailPlatform, client_id: str, records: Iterable[RuleRecord]
) -> dict[str, Sequence[ListMembership]]:
    """The lists of each record's email (an email read once), as the planners take them."""
    emails = {r.person.email for r in records if r.person.email is not None}
    return {email: platform.lists_for_email(client_id, email) for email in sorted(emails)}


class _RouteOptions(TypedDict):
    """What both rule planners take from the settings and the caller, on every route."""

    as_of: datetime
    zone: tzinfo
    prevent_opted_out_list_add: bool
    sms_enabled: bool
    sms_country: str | None
    queue_journeys: bool
    field_mappings: Mapping[str, ListFieldMappings] | None


def _checked_options(
    client_id: str,
    settings: Settings,
    as_of: datetime,
    zone: tzinfo,
    queue_journeys: bool,
    field_mappings: Mapping[str, ListFieldMappings] | None,
) -> _RouteOptions:
    """The planners' keyword arguments that every route (trigger or retrospective) shares,
    once the client id and the settings are checked."""
    check_client_and_settings(client_id, settings)
    return _RouteOptions(
        as_of=as_of,
        zone=zone,
        prevent_opted_out_list_add=settings.prevent_opted_out_list_add,
        sms_enabled=settings.sms_enabled,
        sms_country=settings.sms_country,
        queue_journeys=queue_journeys,
        field_mappings=field_mappings,
    )


def _run(crm: CrmStore, platform: EmailPlatform, client_id: str, plan: RulePlan) -> RuleRunReport:
    results = tuple(platform.execute(client_id, plan.commands)) if plan.commands else ()
    if plan.messages:
        crm.add_messages(plan.messages)
    return RuleRunReport(plan, results)


def handle_rule_changes(
    crm: CrmStore,
    platform: EmailPlatform,
    client_id: str,
    changes: Sequence[RuleChange],
    rules: Iterable[ListRules],
    settings: Settings,
    *,
    as_of: datetime,
    zone: tzinfo,
    field_mappings: Mapping[str, ListFieldMappings] | None = None,
    queue_journeys: bool = True,
) -> RuleRunReport:
    """Evaluate one trigger batch of contact and lead changes against ``rules`` and
    execute what fires on ``client_id``'s lists.

    The settings decide as for every trigger: triggers disabled, nothing is read or sent;
    bulk triggers disabled, only the batch's first change; an opted-out record is refused
    when "prevent" is on, and a change that ticks Email Opt Out adds to no list when
    "unsubscribe on opt-out" is on.  Lists are read only for the records that may fire.
    ``field_mappings`` (list id -> its mappings) adds the mapped custom fields to what an
    add sends; a value that cannot be converted is left out and kept as a maintenance
    message.  ``as_of`` and ``zone`` (the org's) evaluate date literals such as ``TODAY``.
    """
    options = _checked_options(client_id, settings, as_of, zone, queue_journeys, field_mappings)
    batch = list(changes) if is_collection(changes) else changes
    if settings.disable_triggers:
        reading: list[RuleRecord] = []
    else:
        acting = batch[:1] if settings.disable_bulk_triggers else batch
        reading = [c.after for c in acting if isinstance(c, RuleChange) and c.after is not None]
    plan = plan_rule_changes(
        batch,
        rules,
        _memberships(platform, client_id, reading),
        disable_triggers=settings.disable_triggers,
        disable_bulk_triggers=settings.disable_bulk_triggers,
        unsubscribe_on_opt_out=settings.unsubscribe_on_opt_out,
        **options,
    )
    return _run(crm, platform, client_id, plan)


def run_retrospective(
    crm: CrmStore,
    platform: EmailPlatform,
    client_id: str,
    records: Iterable[RuleRecord],
    rules: Iterable[ListRules],
    settings: Settings,
    *,
    as_of: datetime,
    zone: tzinfo,
    field_mappings: Mapping[str, ListFieldMappings] | None = None,
    queue_journeys: bool = True,
) -> RuleRunReport:
    """An administrator's retrospective run: every active rule over ``records`` as they are
    now, whatever its evaluation time, executed on ``client_id``'s lists.

    Rules are not retrospective by themselves; this is the explicit run that makes them
    so.  It is not a trigger, so the trigger settings do not gate it; the opted-out
    refusal and the SMS settings apply as on every route.
    """
    options = _checked_options(client_id, settings, as_of, zone, queue_journeys, field_mappings)
    given = list(records) if is_collection(records) else records
    readable = [r for r in given if isinstance(r, RuleRecord)] if isinstance(given, list) else []
    plan = plan_retrospective_run(
        given, rules, _memberships(platform, client_id, readable), **options
    )
    return _run(crm, platform, client_id, plan)
