"""The values of custom field mappings: platform custom fields, one mapping, a list's
mappings and its new subscriber rule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Self, cast

import attrs

from cmsf_core.domain.checks import is_collection, require_text, text_keyed, tuple_of
from cmsf_core.domain.choices import Choice, read_as, spellings
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, UnknownChoiceError
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.rules.criteria import FieldType, FieldValue, choice_key
from cmsf_core.domain.subscribers import RecordKind

__all__ = [
    "COMPATIBLE_TYPES",
    "DEFAULT_PLATFORM_TYPES",
    "REQUIRED_FIELDS",
    "US_STATES",
    "Direction",
    "FieldMapping",
    "ListFieldMappings",
    "NewSubscriberAction",
    "NewSubscriberRule",
    "PlatformField",
    "PlatformFieldType",
    "generated_name",
    "platform_key",
]

#: The US state option list of a ``USState`` field (the 50 states and the District of
#: Columbia), by two-letter code.
US_STATES: Mapping[str, str] = FrozenMap(
    {
        "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas",
        "CA": "California", "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware",
        "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii",
        "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
        "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
        "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
        "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
        "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
        "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
        "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
        "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah",
        "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
        "WI": "Wisconsin", "WY": "Wyoming",
    }
)  # fmt: skip


class Direction(Choice):
    """Which way a mapping carries values (read by its label or name, in any case, ``_`` or
    ``-`` for a space)."""

    TO_PLATFORM = "CRM -> platform"
    TO_CRM = "platform -> CRM"


read_as(Direction, field="direction", expected="a direction", key=choice_key, names=True)


class PlatformFieldType(Choice):
    """A platform custom field's data type, as Campaign Monitor's ``DataType`` names it.

    :meth:`parse` reads the platform's spelling, the member name or a label such as
    ``"select many"`` or ``"US state"``, in any case.

    >>> PlatformFieldType.parse("select many")
    <PlatformFieldType.SELECT_MANY: 'MultiSelectMany'>
    """

    TEXT = "Text"
    NUMBER = "Number"
    DATE = "Date"
    SELECT_ONE = "MultiSelectOne"
    SELECT_MANY = "MultiSelectMany"
    COUNTRY = "Country"
    US_STATE = "USState"


_PLATFORM_TYPES = spellings(
    PlatformFieldType,
    key=choice_key,
    names=True,
    select_one=PlatformFieldType.SELECT_ONE,
    multi_option_select_one=PlatformFieldType.SELECT_ONE,
    multi_option_select_many=PlatformFieldType.SELECT_MANY,
    us_state=PlatformFieldType.US_STATE,
)
read_as(
    PlatformFieldType,
    field="data_type",
    expected="a custom field data type",
    table=_PLATFORM_TYPES,
    key=choice_key,
)

#: The platform field type a CRM field type gets when a CRM -> platform mapping creates
#: its platform field (a checkbox becomes a select-one field with the options Yes and No).
DEFAULT_PLATFORM_TYPES: Mapping[FieldType, PlatformFieldType] = FrozenMap(
    {
        FieldType.TEXT: PlatformFieldType.TEXT,
        FieldType.NUMBER: PlatformFieldType.NUMBER,
        FieldType.DATE: PlatformFieldType.DATE,
        FieldType.DATETIME: PlatformFieldType.DATE,
        FieldType.BOOLEAN: PlatformFieldType.SELECT_ONE,
        FieldType.PICKLIST: PlatformFieldType.SELECT_ONE,
        FieldType.MULTIPICKLIST: PlatformFieldType.SELECT_MANY,
    }
)

_TEXTUAL = frozenset(
    {
        PlatformFieldType.TEXT,
        PlatformFieldType.SELECT_ONE,
        PlatformFieldType.COUNTRY,
        PlatformFieldType.US_STATE,
    }
)

#: Which platform field types each CRM field type may be mapped to (either way).
COMPATIBLE_TYPES: Mapping[FieldType, frozenset[PlatformFieldType]] = FrozenMap(
    {
        FieldType.TEXT: _TEXTUAL,
        FieldType.PICKLIST: _TEXTUAL,
        FieldType.MULTIPICKLIST: frozenset({PlatformFieldType.SELECT_MANY, PlatformFieldType.TEXT}),
        FieldType.NUMBER: frozenset({PlatformFieldType.NUMBER, PlatformFieldType.TEXT}),
        FieldType.DATE: frozenset({PlatformFieldType.DATE, PlatformFieldType.TEXT}),
        FieldType.DATETIME: frozenset({PlatformFieldType.DATE, PlatformFieldType.TEXT}),
        FieldType.BOOLEAN: frozenset({PlatformFieldType.SELECT_ONE, PlatformFieldType.TEXT}),
    }
)

#: The options of the select-one field a checkbox is mapped to.
BOOLEAN_OPTIONS = ("Yes", "No")

_KEY_DROP = re.compile(r"[^0-9A-Za-z]")


def platform_key(name: str) -> str:
    """The personalisation key the platform gives a field named ``name``: ``[Name]`` with
    everything but ASCII letters and digits left out.

    >>> platform_key("Favourite colour")
    '[Favouritecolour]'
    """
    return f"[{_KEY_DROP.sub('', name)}]"


def generated_name(crm_field: str) -> str:
    """The platform field name a mapping generates from a CRM field's API name: without
    a custom field's ``__c`` and with ``_`` read as spaces (the name can be given instead).

    >>> generated_name("Renewal_Date__c"), generated_name("Industry")
    ('Renewal Date', 'Industry')
    """
    name = crm_field[:-3] if crm_field.casefold().endswith("__c") else crm_field
    return " ".join(name.replace("_", " ").split()) or crm_field


def _to_options(value: object) -> tuple[str, ...]:
    if not is_collection(value):
        raise InvalidTypeError("options", "a sequence of option texts", value)
    options = tuple(value)
    seen: set[str] = set()
    for option in options:
        if not isinstance(option, str) or not option.strip():
            raise InvalidValueError("options", "non-empty option texts", option)
        if choice_key(option) in seen:
            raise InvalidValueError("options", "each option once (ignoring case)", option)
        seen.add(choice_key(option))
    return options


def _to_platform_type(value: object) -> PlatformFieldType:
    return PlatformFieldType.parse(value)


@attrs.frozen
class PlatformField:
    """A custom field of a platform list: ``FieldName``, ``Key``, ``DataType`` and
    ``FieldOptions`` (the options of a select field; empty for the other types, and for a
    country or US state field whose list the platform keeps).

    >>> PlatformField("Favourite colour", "select one", ("Red", "Blue")).key
    '[Favouritecolour]'
    """

    name: str = attrs.field(validator=require_text("name"))
    data_type: PlatformFieldType = attrs.field(converter=_to_platform_type)
    options: tuple[str, ...] = attrs.field(default=(), converter=_to_options)
    key: str = attrs.field(
        default=attrs.Factory(lambda self: platform_key(self.name), takes_self=True),
        validator=require_text("key"),
    )

    def __attrs_post_init__(self) -> None:
        if len(self.key) < 3 or not (self.key.startswith("[") and self.key.endswith("]")):
            raise InvalidValueError("key", "a key like '[FieldName]'", self.key)


def _to_kind(value: object) -> RecordKind:
    return RecordKind.parse(value)


def _to_crm_type(value: object) -> FieldType:
    return FieldType.parse(value, "crm_type")


def _refuse_non_text(kind: type[Choice], value: object, field: str) -> None:
    """A mapping's choice that is neither a member nor text is an unknown choice (not a
    type error, as other choices have it)."""
    if not isinstance(value, kind | str):
        raise UnknownChoiceError(field, tuple(str(m.value) for m in kind), value)


def _to_direction(value: object) -> Direction:
    _refuse_non_text(Direction, value, "direction")
    return Direction.parse(value)


def _check_field(_inst: Any, _attr: Any, value: Any) -> None:
    if not isinstance(value, PlatformField):
        raise InvalidTypeError("platform_field", "a PlatformField", value)


@attrs.frozen
class FieldMapping:
    """One mapping of a list: a contact or lead field and a platform custom field.

    ``direction`` says which side is written; ``crm_type`` is the CRM field's type (it
    decides the conversion) and ``crm_options`` a picklist's values (empty: not checked).
    The two types must be compatible (:data:`COMPATIBLE_TYPES`).
    """

    list_id: str = attrs.field(validator=require_text("list_id"))
    direction: Direction = attrs.field(converter=_to_direction)
    kind: RecordKind = attrs.field(converter=_to_kind)
    crm_field: str = attrs.field(validator=require_text("crm_field"))
    crm_type: FieldType = attrs.field(converter=_to_crm_type)
    platform_field: PlatformField = attrs.field(validator=_check_field)
    crm_options: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_to_options)

    def __attrs_post_init__(self) -> None:
        wanted = COMPATIBLE_TYPES[self.crm_type]
        if self.platform_field.data_type not in wanted:
            raise InvalidValueError(
                f"mapping of {self.crm_field!r}",
                f"a platform field of type {' or '.join(sorted(t.value for t in wanted))} "
                f"for a {self.crm_type.value} CRM field",
                self.platform_field.data_type.value,
            )
        selects = (PlatformFieldType.SELECT_ONE, PlatformFieldType.SELECT_MANY)
        field = self.platform_field
        to_platform = self.direction is Direction.TO_PLATFORM
        if to_platform and field.data_type in selects and not field.options:
            raise InvalidValueError(
                f"options of {field.name!r}", "the options of a select field", ()
            )

    @classmethod
    def crm_to_platform(
        cls,
        list_id: str,
        kind: RecordKind | str,
        crm_field: str,
        crm_type: FieldType | str,
        *,
        platform_name: str | None = None,
        platform_type: PlatformFieldType | str | None = None,
        options: tuple[str, ...] = (),
    ) -> FieldMapping:
        """A CRM -> platform mapping and the platform field it plans: named after the CRM
        field (:func:`generated_name`) or ``platform_name``, of the CRM type's default
        platform type (or ``platform_type``); a checkbox's field gets the options Yes and
        No.

        >>> m = FieldMapping.crm_to_platform("list-1", "Contact", "Industry", "picklist",
        ...     options=("Banking", "Retail"))
        >>> m.platform_field
        PlatformField(name='Industry', data_type=<PlatformFieldType.SELECT_ONE: \
'MultiSelectOne'>, options=('Banking', 'Retail'), key='[Industry]')
        """
        crm = _to_crm_type(crm_type)
        data_type = (
            DEFAULT_PLATFORM_TYPES[crm]
            if platform_type is None
            else PlatformFieldType.parse(platform_type, "platform_type")
        )
        if crm is FieldType.BOOLEAN and data_type is PlatformFieldType.SELECT_ONE and not options:
            options = BOOLEAN_OPTIONS
        field = PlatformField(platform_name or generated_name(crm_field), data_type, options)
        return cls(list_id, Direction.TO_PLATFORM, kind, crm_field, crm, field)

    @classmethod
    def platform_to_crm(
        cls,
        list_id: str,
        platform_field: PlatformField,
        kind: RecordKind | str,
        crm_field: str,
        crm_type: FieldType | str,
        *,
        crm_options: tuple[str, ...] = (),
    ) -> FieldMapping:
        """A platform -> CRM mapping of an existing platform field to a CRM field."""
        return cls(
            list_id,
            Direction.TO_CRM,
            kind,
            crm_field,
            crm_type,
            platform_field,
            crm_options=crm_options,
        )


class NewSubscriberAction(Choice):
    """The list's new subscriber rule: what an unmatched subscriber becomes."""

    NONE = "none"
    CREATE_LEAD = "create lead"
    CREATE_CONTACT = "create contact"

    @classmethod
    def parse(cls, value: object, field: str | None = None) -> Self:
        """Read ``"none"``, ``"create lead"`` or ``"create contact"`` in any case."""
        _refuse_non_text(cls, value, field or "action")
        return super().parse(value, field)

    @property
    def kind(self) -> RecordKind | None:
        """The kind of record created (``None`` for no rule)."""
        return _ACTION_KINDS.get(self)


read_as(
    NewSubscriberAction,
    field="action",
    expected="a new subscriber action",
    key=choice_key,
    names=True,
)

_ACTION_KINDS = {
    NewSubscriberAction.CREATE_LEAD: RecordKind.LEAD,
    NewSubscriberAction.CREATE_CONTACT: RecordKind.CONTACT,
}

#: The fields Salesforce requires to create each kind (besides the email, always set).
REQUIRED_FIELDS: Mapping[RecordKind, tuple[str, ...]] = FrozenMap(
    {RecordKind.LEAD: ("LastName", "Company"), RecordKind.CONTACT: ("LastName",)}
)


def _to_action(value: object) -> NewSubscriberAction:
    return NewSubscriberAction.parse(value)


def _to_defaults(value: object) -> FrozenMap[str, FieldValue]:
    entries = text_keyed(
        value, "defaults", "a mapping of CRM field name to value", "non-empty CRM field names"
    )
    for name, item in entries:
        if item is None or (isinstance(item, str) and not item.strip()):
            raise InvalidValueError(f"defaults[{name!r}]", "a non-blank default", item)
    return FrozenMap(cast("Mapping[str, FieldValue]", value))


def _to_required(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not is_collection(value):
        raise InvalidTypeError("required", "a sequence of CRM field names", value)
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise InvalidValueError("required", "non-empty CRM field names", name)
    return names


@attrs.frozen
class NewSubscriberRule:
    """A list's new subscriber rule (platform -> CRM): none, create lead, create contact.

    A created record gets the subscriber's email (``Email``), its name in ``name_field``
    (``None``: not used), the mapped platform fields, and ``defaults`` for fields that
    are still blank.  ``required`` are the fields the record cannot be created without
    (``None``: :data:`REQUIRED_FIELDS` of its kind).
    """

    action: NewSubscriberAction = attrs.field(
        default=NewSubscriberAction.NONE, converter=_to_action
    )
    defaults: FrozenMap[str, FieldValue] = attrs.field(factory=FrozenMap, converter=_to_defaults)
    required: tuple[str, ...] | None = attrs.field(default=None, converter=_to_required)
    name_field: str | None = attrs.field(
        default="LastName", validator=require_text("name_field", optional=True)
    )

    @property
    def required_fields(self) -> tuple[str, ...]:
        """The fields a created record must have."""
        kind = self.action.kind
        if self.required is not None:
            return self.required
        return REQUIRED_FIELDS[kind] if kind is not None else ()


def _to_mappings(value: object) -> tuple[FieldMapping, ...]:
    return tuple_of(
        value, FieldMapping, "mappings", "a sequence of FieldMapping", "FieldMapping values"
    )


def _check_rule(_inst: Any, _attr: Any, value: Any) -> None:
    if not isinstance(value, NewSubscriberRule):
        raise InvalidTypeError("new_subscriber_rule", "a NewSubscriberRule", value)


@attrs.frozen
class ListFieldMappings:
    """Everything one list maps: its field mappings and its new subscriber rule.

    Each CRM field of a kind is written by at most one platform -> CRM mapping, and each
    platform field by at most one CRM -> platform mapping per kind.
    """

    list_id: str = attrs.field(validator=require_text("list_id"))
    mappings: tuple[FieldMapping, ...] = attrs.field(default=(), converter=_to_mappings)
    new_subscriber_rule: NewSubscriberRule = attrs.field(
        factory=NewSubscriberRule, validator=_check_rule
    )

    def __attrs_post_init__(self) -> None:
        written: set[tuple[Direction, RecordKind, str]] = set()
        for mapping in self.mappings:
            if mapping.list_id != self.list_id:
                raise InvalidValueError(
                    "mappings", f"mappings of list {self.list_id!r}", mapping.list_id
                )
            target = (
                mapping.platform_field.key.casefold()
                if mapping.direction is Direction.TO_PLATFORM
                else mapping.crm_field.casefold()
            )
            slot = (mapping.direction, mapping.kind, target)
            if slot in written:
                raise InvalidValueError(
                    "mappings",
                    f"one {mapping.direction.value} mapping per written field",
                    target,
                    detail=f"{mapping.kind.value} field {mapping.crm_field!r} is mapped twice",
                )
            written.add(slot)

    def of(self, direction: Direction, kind: RecordKind) -> tuple[FieldMapping, ...]:
        """The mappings of one direction for one kind of record."""
        return tuple(m for m in self.mappings if m.direction is direction and m.kind is kind)
