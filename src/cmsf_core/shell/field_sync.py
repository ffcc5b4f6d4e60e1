"""The shell of the custom field mappings: read through the ports, plan with
:mod:`cmsf_core.domain.field_mappings`, apply, report.

- :func:`create_platform_fields` creates the platform custom fields a list's CRM ->
  platform mappings need (creating a mapping plans its field; this applies the plan).
- :func:`mapped_rows` gives the rows a list add, an import-wizard run or an account change
  sends, with the mapped custom fields read from the CRM.
- :func:`sync_field_mappings` is the platform -> CRM part of the primary sync
  (:func:`~cmsf_core.shell.sync.run_sync` calls it with ``field_mappings=``): mapped platform
  values written to matched contacts and leads, and the new subscriber rule.

:class:`FieldMappingConfig` carries every client's list mappings and the org's time zone
(dates are calendar dates there); it is an argument of its own, independent of
:class:`~cmsf_core.domain.settings.Settings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import cast

import attrs

from cmsf_core.domain import records
from cmsf_core.domain.checks import is_collection
from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings import (
    CrmFieldPlan,
    Direction,
    ListFieldMappings,
    NewSubscriberAction,
    PlatformField,
    PlatformSubscriber,
    mapped_custom_fields,
    plan_crm_fields,
    platform_fields_to_create,
)
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.rules.criteria import FieldValue
from cmsf_core.domain.subscribers import ImportRow, Person, RecordKind
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.ports.crm import CrmStore
from cmsf_core.ports.platform import EmailPlatform
from cmsf_core.shell.people import as_person
from cmsf_core.shell.reports import refusal_messages

__all__ = [
    "FieldMappingConfig",
    "FieldSyncReport",
    "create_platform_fields",
    "mapped_rows",
    "sync_field_mappings",
]


def _to_lists(value: object) -> FrozenMap[str, tuple[ListFieldMappings, ...]]:
    if not isinstance(value, Mapping):
        raise InvalidTypeError("lists", "a mapping of client id to ListFieldMappings", value)
    lists: dict[str, tuple[ListFieldMappings, ...]] = {}
    for client_id, given in value.items():
        items = (given,) if isinstance(given, ListFieldMappings) else given
        if not is_collection(items) or not all(isinstance(x, ListFieldMappings) for x in items):
            raise InvalidTypeError(f"lists[{client_id!r}]", "ListFieldMappings values", given)
        lists[client_id] = tuple(items)
    return FrozenMap(lists)


def _check_zone(_inst: object, _attr: object, value: object) -> None:
    if not isinstance(value, tzinfo):
        raise InvalidTypeError("zone", "the org's time zone (a tzinfo, e.g. ZoneInfo)", value)


@attrs.frozen
class FieldMappingConfig:
    """Every client's list mappings (client id -> its lists' :class:`ListFieldMappings`)
    and the org's time zone, in which dates are read and written."""

    lists: FrozenMap[str, tuple[ListFieldMappings, ...]] = attrs.field(
        factory=FrozenMap, converter=_to_lists
    )
    zone: tzinfo = attrs.field(default=UTC, validator=_check_zone)

    def of_list(self, client_id: str, list_id: str) -> ListFieldMappings | None:
        """The mappings of one list of a client, if it has any."""
        for lists in self.lists.get(client_id, ()):
            if lists.list_id == list_id:
                return lists
        return None


@attrs.frozen
class FieldSyncReport:
    """What the field mappings part of a sync planned, and the CRM's refusals
    (record id or email -> reason) when it was applied."""

    plan: CrmFieldPlan = attrs.field(factory=CrmFieldPlan)
    failures: tuple[tuple[object, str], ...] = ()


def create_platform_fields(
    platform: EmailPlatform, client_id: str, mappings: ListFieldMappings
) -> tuple[PlatformField, ...]:
    """Create the platform custom fields the list's CRM -> platform mappings need and it
    does not have; returns them as the platform created them (with its keys)."""
    existing = platform.custom_fields(client_id, mappings.list_id)
    wanted = platform_fields_to_create(mappings, existing)
    return tuple(platform.create_custom_field(client_id, mappings.list_id, f) for f in wanted)


def _person(value: object) -> Person:
    return as_person(value, "people", "Person values")


def mapped_rows(
    crm: CrmStore,
    rows: Iterable[tuple[ImportRow, Person | records.Person]],
    mappings: ListFieldMappings,
    *,
    zone: tzinfo,
    as_of: datetime,
) -> tuple[tuple[ImportRow, ...], tuple[MaintenanceMessage, ...]]:
    """Each row with its record's mapped custom fields added (a mapped field replaces a
    value the row already had for that key), the CRM fields read in one request per kind;
    and a maintenance message for each value that could not be converted."""
    if not isinstance(mappings, ListFieldMappings):
        raise InvalidTypeError("mappings", "a ListFieldMappings", mappings)
    given = [(row, _person(person)) for row, person in rows]
    values: dict[str, Mapping[str, object]] = {}
    for kind in RecordKind:
        fields = [m.crm_field for m in mappings.of(Direction.TO_PLATFORM, kind)]
        ids = [p.record_id for _row, p in given if p.kind is kind]
        if fields and ids:
            values.update(crm.field_values(kind, ids, fields))
    out: list[ImportRow] = []
    messages: list[MaintenanceMessage] = []
    for row, person in given:
        mapped = mapped_custom_fields(
            person.record_id,
            person.kind,
            cast(Mapping[str, FieldValue], values.get(person.record_id, {})),
            mappings,
            zone=zone,
            as_of=as_of,
        )
        messages.extend(mapped.messages)
        merged = {**row.custom_fields, **mapped.custom_fields}
        out.append(attrs.evolve(row, custom_fields=FrozenMap(merged)))
    return tuple(out), tuple(messages)


def sync_field_mappings(
    crm: CrmStore,
    platform: EmailPlatform,
    config: FieldMappingConfig,
    client_ids: Iterable[str],
    *,
    as_of: datetime,
    dry_run: bool = False,
) -> FieldSyncReport:
    """The platform -> CRM part of the primary sync for these clients' mapped lists.

    Each list with platform -> CRM mappings or a new subscriber rule has its Active
    subscribers read with their values; their contacts and leads are found by email and
    their mapped fields read; then :func:`~cmsf_core.domain.field_mappings.plan_crm_fields`
    plans the updates and creations, which are applied (unless ``dry_run``).  Conversion
    failures, refused records and refused writes go to the maintenance log.
    """
    if not isinstance(config, FieldMappingConfig):
        raise InvalidTypeError("field_mappings", "a FieldMappingConfig", config)
    at = ensure_utc(as_of, "as_of")
    lists: list[ListFieldMappings] = []
    subscribers: list[PlatformSubscriber] = []
    unread: list[MaintenanceMessage] = []
    for client_id in client_ids:
        for mapped in config.lists.get(client_id, ()):
            inbound = any(m.direction is Direction.TO_CRM for m in mapped.mappings)
            if not inbound and mapped.new_subscriber_rule.action is NewSubscriberAction.NONE:
                continue
            try:
                read = platform.subscriber_values(client_id, mapped.list_id)
            except CmsfError as error:  # that list only: the others are synced
                unread.append(_unread(client_id, mapped.list_id, error, at))
                continue
            lists.append(mapped)
            subscribers.extend(read)
    if unread and not dry_run:
        crm.add_messages(unread)
    if not subscribers:
        return FieldSyncReport(CrmFieldPlan(messages=tuple(unread)))
    found = crm.find_people({s.email for s in subscribers})
    people = {email: tuple(_person(p) for p in held) for email, held in found.items()}
    current: dict[str, Mapping[str, object]] = {}
    for kind in RecordKind:
        fields = sorted(
            {m.crm_field for lm in lists for m in lm.of(Direction.TO_CRM, kind)}, key=str.casefold
        )
        ids = sorted({p.record_id for held in people.values() for p in held if p.kind is kind})
        if fields and ids:
            current.update(crm.field_values(kind, ids, fields))
    plan = plan_crm_fields(lists, subscribers, people, current, zone=config.zone, as_of=at)
    if unread:
        plan = attrs.evolve(plan, messages=(*unread, *plan.messages))
    if dry_run:
        return FieldSyncReport(plan)
    failures: list[tuple[object, str]] = []
    messages = list(plan.messages[len(unread) :])  # the unread lists are logged already
    if plan.updates:
        result = crm.update_fields(plan.updates)
        failures += result.failures
        messages += refusal_messages("SYNC-FIELD-UPDATE", result, at)
    if plan.creates:
        result = crm.create_people(plan.creates)
        failures += result.failures
        messages += refusal_messages("SYNC-NEW-SUBSCRIBER", result, at)
    if messages:
        crm.add_messages(messages)
    return FieldSyncReport(plan, tuple(failures))


def _unread(client_id: str, list_id: str, error: Exception, at: datetime) -> MaintenanceMessage:
    return MaintenanceMessage(
        "SYNC-FIELD-LIST",
        Severity.ERROR,
        f"list {list_id} of client {client_id}",
        f"{error}. Its field mappings were skipped at this sync; the other lists synced.",
        at,
    )


def check_as_of(as_of: datetime | None) -> datetime:
    """``as_of`` as UTC; field mappings need it (their messages are dated)."""
    if as_of is None:
        raise InvalidValueError("as_of", "the time of the change when mappings are given", None)
    return ensure_utc(as_of, "as_of")


def list_mappings(mappings: object, field: str = "mappings") -> ListFieldMappings | None:
    """``mappings`` checked: a :class:`ListFieldMappings` or ``None``."""
    if mappings is not None and not isinstance(mappings, ListFieldMappings):
        raise InvalidTypeError(field, "a ListFieldMappings or None", mappings)
    return mappings
