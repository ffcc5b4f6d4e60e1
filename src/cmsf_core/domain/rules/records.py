"""The records rules read: a contact or lead with its typed fields and its account's,
and the changes that trigger an evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import cast

import attrs

from cmsf_core.domain.checks import check_same_record, optional_instance, require_text
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.rules.criteria import ExactNumber, FieldValue
from cmsf_core.domain.subscribers import Person

__all__ = ["AccountChange", "RuleChange", "RuleRecord"]


def _to_fields(field: str) -> Callable[[object], FrozenMap[str, FieldValue]]:
    def convert(value: object) -> FrozenMap[str, FieldValue]:
        if not isinstance(value, Mapping):
            raise InvalidTypeError(field, "a mapping of field name to value", value)
        fields: dict[str, FieldValue] = {}
        for name, item in value.items():
            if not isinstance(name, str) or not name.strip():
                raise InvalidValueError(field, "non-empty field names", name)
            key = name.strip().casefold()
            if key in fields:
                raise InvalidValueError(field, "each field once (names ignore case)", name)
            ok = item is None or isinstance(item, str | int | float | ExactNumber | date)
            if isinstance(item, tuple):
                ok = all(isinstance(part, str) for part in item)
            if not ok:
                raise InvalidTypeError(
                    f"{field}[{name!r}]",
                    "text, a number, a date, a datetime, a bool, None or a tuple of text",
                    item,
                )
            if isinstance(item, datetime) and item.utcoffset() is None:
                raise InvalidValueError(f"{field}[{name!r}]", "a timezone-aware datetime", item)
            fields[key] = cast(FieldValue, item)
        return FrozenMap(fields)

    return convert


def _to_record_fields(value: object) -> FrozenMap[str, FieldValue]:
    return _to_fields("fields")(value)


def _to_account(value: object) -> FrozenMap[str, FieldValue] | None:
    return None if value is None else _to_fields("account")(value)


@attrs.frozen
class RuleRecord:
    """A contact or lead as rules read it: the :class:`Person`, its fields and, for a
    contact with an account, the account's fields.

    Field names ignore case, as Salesforce's API names do.  A criterion on ``Account.X``
    reads ``account``; a contact without an account (``person.account_id`` ``None``)
    reads blank account fields.
    """

    person: Person = attrs.field()
    fields: FrozenMap[str, FieldValue] = attrs.field(factory=FrozenMap, converter=_to_record_fields)
    account: FrozenMap[str, FieldValue] | None = attrs.field(default=None, converter=_to_account)

    @person.validator
    def _check_person(self, _attr: object, value: object) -> None:
        if not isinstance(value, Person):
            raise InvalidTypeError("person", "a Person", value)

    @property
    def record_id(self) -> str:
        """The CRM record's id."""
        return self.person.record_id

    def value_of(self, field: str, where: str = "criterion") -> FieldValue:
        """The value of ``field`` (``Account.X`` for the account's); a field the record
        does not carry is an error naming ``where`` and the record."""
        prefix, dot, name = field.partition(".")
        values: Mapping[str, FieldValue] = self.fields
        if dot and prefix == "Account":
            if self.person.account_id is None:
                return None
            if self.account is None:
                raise InvalidValueError(
                    f"{where} field {field!r}",
                    "read from the account's fields",
                    None,
                    detail=f"record {self.record_id!r} has account "
                    f"{self.person.account_id!r} but no account fields were given",
                )
            values, field = self.account, name
        key = field.casefold()
        if key not in values:
            raise InvalidValueError(
                f"{where} field {field!r}",
                "a field the record carries",
                sorted(values),
                detail=f"record {self.record_id!r}",
            )
        return values[key]


@attrs.frozen
class RuleChange:
    """A contact or lead before and after a change (``before`` ``None``: created;
    ``after`` ``None``: deleted, which no rule acts on)."""

    before: RuleRecord | None = attrs.field(
        default=None, validator=optional_instance("before", RuleRecord, "a RuleRecord or None")
    )
    after: RuleRecord | None = attrs.field(
        default=None, validator=optional_instance("after", RuleRecord, "a RuleRecord or None")
    )

    def __attrs_post_init__(self) -> None:
        check_same_record(self.before, self.after)


def _to_account_fields(value: object) -> FrozenMap[str, FieldValue]:
    return _to_fields("account fields")(value)


@attrs.frozen
class AccountChange:
    """An account's fields before and after a change."""

    account_id: str = attrs.field(validator=require_text("account_id"))
    before: FrozenMap[str, FieldValue] = attrs.field(converter=_to_account_fields)
    after: FrozenMap[str, FieldValue] = attrs.field(converter=_to_account_fields)
