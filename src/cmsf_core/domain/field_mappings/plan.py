"""Planning with field mappings: the platform fields a mapping creates, the custom fields a
contact or lead sends, the CRM field updates a subscriber's values give, and the records
the new subscriber rule creates.  Every function is pure; time is ``as_of``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import cast

import attrs

from cmsf_core.domain.checks import is_collection, require_text, text_keyed
from cmsf_core.domain.emails import email_key
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings.convert import (
    CrmValue,
    FieldConversionError,
    PlatformValue,
    to_crm_value,
    to_platform_value,
)
from cmsf_core.domain.field_mappings.values import (
    Direction,
    FieldMapping,
    ListFieldMappings,
    NewSubscriberAction,
    PlatformField,
)
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.rules.criteria import FieldValue
from cmsf_core.domain.subscribers import Person, RecordKind
from cmsf_core.domain.timeutil import ensure_utc

__all__ = [
    "FIELD_VALUE_NOT_CONVERTED",
    "NEW_SUBSCRIBER_REFUSED",
    "CreatePerson",
    "CrmFieldPlan",
    "FieldUpdate",
    "MappedFields",
    "PlatformSubscriber",
    "conversion_message",
    "mapped_custom_fields",
    "plan_crm_fields",
    "platform_fields_to_create",
    "same_crm_value",
]

#: Support code of a mapped value that could not be converted (the field is left alone).
FIELD_VALUE_NOT_CONVERTED = "FIELD-MAPPING-VALUE"
#: Support code of a new subscriber the rule could not create (a required field is blank).
NEW_SUBSCRIBER_REFUSED = "NEW-SUBSCRIBER-MISSING-FIELD"


def _to_platform_values(value: object) -> FrozenMap[str, PlatformValue]:
    entries = text_keyed(
        value, "custom_fields", "a mapping of field key to value", "non-empty field keys"
    )
    for key, item in entries:
        ok = isinstance(item, str) or (
            isinstance(item, tuple) and all(isinstance(p, str) for p in item)
        )
        if not ok:
            raise InvalidTypeError(f"custom_fields[{key}]", "text or a tuple of text", item)
    return FrozenMap(cast("Mapping[str, PlatformValue]", value))


def _to_email(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError("email", "a non-empty email address", value)
    return value.strip()


@attrs.frozen
class PlatformSubscriber:
    """A subscriber of a list as the platform serves it: email, name and custom field
    values by key (``[FieldName]``; a select-many field's options as a tuple)."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    email: str = attrs.field(converter=_to_email)
    name: str = attrs.field(default="", validator=require_text("name", allow_empty=True))
    custom_fields: FrozenMap[str, PlatformValue] = attrs.field(
        factory=FrozenMap, converter=_to_platform_values
    )


def _to_crm_values(value: Mapping[str, CrmValue]) -> FrozenMap[str, CrmValue]:
    if not isinstance(value, Mapping):
        raise InvalidTypeError("values", "a mapping of CRM field name to value", value)
    return FrozenMap(value)


@attrs.frozen
class FieldUpdate:
    """CRM change: set mapped fields of a contact or lead (field name -> value; a
    multi-select picklist as a ``;`` list; ``None`` clears the field)."""

    record_id: str = attrs.field(validator=require_text("record_id"))
    kind: RecordKind
    values: FrozenMap[str, CrmValue] = attrs.field(converter=_to_crm_values)


@attrs.frozen
class CreatePerson:
    """CRM change: create a lead or contact for a new subscriber of ``list_id``
    (``values`` holds ``Email`` and every other field set)."""

    kind: RecordKind
    email: str = attrs.field(converter=_to_email)
    list_id: str = attrs.field(validator=require_text("list_id"))
    values: FrozenMap[str, CrmValue] = attrs.field(converter=_to_crm_values)


@attrs.frozen
class MappedFields:
    """The custom fields a record sends, and a message for each value left out."""

    custom_fields: FrozenMap[str, PlatformValue] = attrs.field(factory=FrozenMap)
    messages: tuple[MaintenanceMessage, ...] = ()


@attrs.frozen
class CrmFieldPlan:
    """What the primary sync writes to the CRM from the platform's values."""

    updates: tuple[FieldUpdate, ...] = ()
    creates: tuple[CreatePerson, ...] = ()
    messages: tuple[MaintenanceMessage, ...] = ()


def conversion_message(
    record: str, error: FieldConversionError, at: datetime
) -> MaintenanceMessage:
    """The maintenance message of a value that could not be converted: the record, the
    field and the value, and that the field was left unchanged."""
    return MaintenanceMessage(
        FIELD_VALUE_NOT_CONVERTED,
        Severity.WARNING,
        record,
        f"field {error.field!r}: the value {error.value!r} cannot be converted "
        f"({error.field!r} takes {error.expected}); the field was left unchanged.",
        at,
    )


def _check_mappings(value: object, field: str = "mappings") -> ListFieldMappings:
    if not isinstance(value, ListFieldMappings):
        raise InvalidTypeError(field, "a ListFieldMappings", value)
    return value


def platform_fields_to_create(
    mappings: ListFieldMappings, existing: Iterable[PlatformField]
) -> tuple[PlatformField, ...]:
    """The platform custom fields the list's CRM -> platform mappings need that it does
    not have yet (compared by key, ignoring case), each once.

    A field that exists with another data type is an error naming it: the mapping would
    write values the field does not take.
    """
    lists = _check_mappings(mappings)
    have: dict[str, PlatformField] = {}
    for field in existing:
        if not isinstance(field, PlatformField):
            raise InvalidTypeError("existing", "PlatformField values", field)
        have[field.key.casefold()] = field
    wanted: dict[str, PlatformField] = {}
    for mapping in lists.mappings:
        if mapping.direction is not Direction.TO_PLATFORM:
            continue
        field = mapping.platform_field
        held = have.get(field.key.casefold())
        if held is None:
            wanted.setdefault(field.key.casefold(), field)
        elif held.data_type is not field.data_type:
            raise InvalidValueError(
                f"platform field {field.key}",
                f"of type {field.data_type.value} for the mapping of {mapping.crm_field!r}",
                held.data_type.value,
                detail="the list already has this field with another type",
            )
    return tuple(wanted.values())


def _value(values: Mapping[str, object], name: str) -> object:
    for key, item in values.items():
        if key.casefold() == name.casefold():
            return item
    return None


def mapped_custom_fields(
    record_id: str,
    kind: RecordKind,
    values: Mapping[str, FieldValue],
    mappings: ListFieldMappings,
    *,
    zone: tzinfo,
    as_of: datetime,
) -> MappedFields:
    """The custom fields a contact or lead sends to the list: each CRM -> platform mapping
    of its kind, converted (field names ignore case; a blank or absent field is not sent).

    A value that cannot be converted is left out with a maintenance message naming the
    record, the field and the value.
    """
    lists = _check_mappings(mappings)
    if not isinstance(values, Mapping):
        raise InvalidTypeError("values", "a mapping of CRM field name to value", values)
    at = ensure_utc(as_of, "as_of")
    sent: dict[str, PlatformValue] = {}
    messages: list[MaintenanceMessage] = []
    parsed = RecordKind.parse(kind)
    for mapping in lists.of(Direction.TO_PLATFORM, parsed):
        raw = _value(values, mapping.crm_field)
        try:
            converted = to_platform_value(cast(FieldValue, raw), mapping, zone=zone)
        except FieldConversionError as error:
            messages.append(conversion_message(f"{parsed.value} {record_id}", error, at))
            continue
        if converted is not None:
            sent[mapping.platform_field.key] = converted
    return MappedFields(FrozenMap(sent), tuple(messages))


def _convert_all(
    subscriber: PlatformSubscriber,
    mappings: Sequence[FieldMapping],
    record: str,
    zone: tzinfo,
    at: datetime,
    messages: list[MaintenanceMessage],
) -> dict[str, CrmValue]:
    values: dict[str, CrmValue] = {}
    for mapping in mappings:
        raw = cast(
            PlatformValue | None, _value(subscriber.custom_fields, mapping.platform_field.key)
        )
        try:
            values[mapping.crm_field] = to_crm_value(raw, mapping, zone=zone)
        except FieldConversionError as error:
            messages.append(conversion_message(record, error, at))
    return values


def same_crm_value(held: object, value: CrmValue) -> bool:
    """Whether a CRM field holding ``held`` (as a store reads it) already holds ``value``:
    blank text is blank, a multi-select read as a tuple is its ``;`` list, a date or
    date-time read as ISO text is that date or instant, and numbers compare by value
    (Salesforce answers ``3.0`` for a whole number).

    >>> same_crm_value("2026-04-01", date(2026, 4, 1)), same_crm_value(3.0, 3)
    (True, True)
    """
    if isinstance(held, tuple):
        held = ";".join(held) or None
    if isinstance(held, str) and not held.strip():
        held = None
    if isinstance(held, str) and isinstance(value, datetime):
        return _instant(held) == value
    if isinstance(held, str) and isinstance(value, date):
        return held[:10] == value.isoformat() and len(held) == 10
    numbers = (int, float)
    if (
        isinstance(held, numbers)
        and isinstance(value, numbers)
        and not isinstance(held, bool)
        and not isinstance(value, bool)
    ):
        return held == value
    return held == value and type(held) is type(value)


def _instant(text: str) -> datetime | None:
    """ISO text of an instant (``+0000`` and ``Z`` offsets too), or ``None``."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def _new_record(
    subscriber: PlatformSubscriber,
    lists: ListFieldMappings,
    zone: tzinfo,
    at: datetime,
    messages: list[MaintenanceMessage],
) -> CreatePerson | None:
    rule = lists.new_subscriber_rule
    kind = rule.action.kind
    if kind is None:  # pragma: no cover - the caller checks the action first
        return None
    values: dict[str, CrmValue] = {"Email": subscriber.email}
    if rule.name_field is not None and subscriber.name.strip():
        values[rule.name_field] = subscriber.name.strip()
    mapped = _convert_all(
        subscriber, lists.of(Direction.TO_CRM, kind), subscriber.email, zone, at, messages
    )
    values.update({k: v for k, v in mapped.items() if v is not None})
    for name, default in rule.defaults.items():
        if _value(values, name) is None:
            values[name] = (
                ";".join(default) if isinstance(default, tuple) else cast(CrmValue, default)
            )
    missing = [name for name in rule.required_fields if _value(values, name) is None]
    if missing:
        messages.append(
            MaintenanceMessage(
                NEW_SUBSCRIBER_REFUSED,
                Severity.ERROR,
                subscriber.email,
                f"the new subscriber rule of list {lists.list_id} cannot create a "
                f"{kind.value.lower()}: the required field {', '.join(missing)} is neither "
                "mapped nor defaulted (or is blank). Map it or give it a default.",
                at,
            )
        )
        return None
    return CreatePerson(kind, subscriber.email, lists.list_id, FrozenMap(values))


def plan_crm_fields(
    mappings: Iterable[ListFieldMappings],
    subscribers: Iterable[PlatformSubscriber],
    people: Mapping[str, Sequence[Person]],
    current: Mapping[str, Mapping[str, object]] = FrozenMap(),
    *,
    zone: tzinfo,
    as_of: datetime,
) -> CrmFieldPlan:
    """The platform -> CRM part of the primary sync for the lists' subscribers.

    ``people`` maps an email (any case) to its contacts and leads; ``current`` a record id
    to its mapped fields' values now (a record absent from it has every mapped field
    written).  A matched contact or lead gets each platform -> CRM mapping of its kind
    whose value differs; an unmatched subscriber becomes a lead or contact under its
    list's new subscriber rule, or a maintenance message naming the required field that
    is missing.  A value that cannot be converted is a maintenance message and the field
    is left alone.  A subscriber of several lists is handled by the first list given.
    """
    if not is_collection(mappings):
        raise InvalidTypeError("mappings", "a sequence of ListFieldMappings", mappings)
    by_list = {m.list_id: m for m in (_check_mappings(x) for x in mappings)}
    if not isinstance(people, Mapping):
        raise InvalidTypeError("people", "a mapping of email to contacts and leads", people)
    holders = {email_key(e): tuple(p) for e, p in people.items()}
    at = ensure_utc(as_of, "as_of")
    messages: list[MaintenanceMessage] = []
    updates: dict[str, tuple[RecordKind, dict[str, CrmValue]]] = {}
    creates: dict[str, CreatePerson] = {}
    for subscriber in subscribers:
        if not isinstance(subscriber, PlatformSubscriber):
            raise InvalidTypeError("subscribers", "PlatformSubscriber values", subscriber)
        lists = by_list.get(subscriber.list_id)
        if lists is None:
            continue
        key = email_key(subscriber.email)
        matched = holders.get(key, ())
        if not matched:
            if lists.new_subscriber_rule.action is not NewSubscriberAction.NONE and (
                key not in creates
            ):
                created = _new_record(subscriber, lists, zone, at, messages)
                if created is not None:
                    creates[key] = created
            continue
        for person in matched:
            record = f"{person.kind.value} {person.record_id}"
            mapped = _convert_all(
                subscriber, lists.of(Direction.TO_CRM, person.kind), record, zone, at, messages
            )
            held = current.get(person.record_id)
            for name, value in mapped.items():
                if held is not None and same_crm_value(_value(held, name), value):
                    continue
                updates.setdefault(person.record_id, (person.kind, {}))[1].setdefault(name, value)
    return CrmFieldPlan(
        tuple(FieldUpdate(rid, kind, FrozenMap(v)) for rid, (kind, v) in updates.items()),
        tuple(creates.values()),
        tuple(messages),
    )
