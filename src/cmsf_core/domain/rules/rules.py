"""Subscriber rules and the lists that hold them.

A list holds at most one rule of each :class:`RuleKind` (add contact, remove contact, add
lead, remove lead).  A :class:`SubscriberRule` is a predicate over a
:class:`~cmsf_core.domain.rules.records.RuleRecord`, built from
:class:`~cmsf_core.domain.rules.criteria.Criterion` lines combined by AND or by custom rule
logic, with an :class:`EvaluationTime` for add rules and an active flag.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

import attrs

from cmsf_core.domain.checks import check_bool, is_collection, require_text, tuple_of
from cmsf_core.domain.choices import Choice, read_as
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.rules.criteria import Criterion, choice_key
from cmsf_core.domain.rules.logic import Logic, evaluate, parse_logic
from cmsf_core.domain.rules.records import RuleRecord
from cmsf_core.domain.subscribers import RecordKind

__all__ = ["EvaluationTime", "ListRules", "RuleKind", "SubscriberRule"]


class RuleKind(Choice):
    """The four rules a list may hold, one of each.

    :meth:`parse` reads a kind by its label or name, in any case (``"Add Contact"``,
    ``"ADD_LEAD"``).
    """

    ADD_CONTACT = "add contact"
    REMOVE_CONTACT = "remove contact"
    ADD_LEAD = "add lead"
    REMOVE_LEAD = "remove lead"

    @property
    def record_kind(self) -> RecordKind:
        """Contacts or leads."""
        return RecordKind.CONTACT if "contact" in self.value else RecordKind.LEAD

    @property
    def adds(self) -> bool:
        """Whether the rule adds (else it removes)."""
        return self.value.startswith("add")


class EvaluationTime(Choice):
    """When an add rule is evaluated, in the words of Salesforce workflow rules.

    :meth:`parse` reads the label or the name, in any case.
    """

    ON_CREATE = "created"
    ON_CREATE_AND_EVERY_EDIT = "created, and every time it's edited"
    ON_CREATE_AND_NEWLY_MEETS = "created, and any time it's edited to subsequently meet criteria"


read_as(
    RuleKind,
    field="kind",
    expected="a rule kind such as 'add contact'",
    key=choice_key,
    names=True,
)
read_as(
    EvaluationTime,
    field="evaluation_time",
    expected="an evaluation time",
    key=choice_key,
    names=True,
)


def _to_criteria(value: object) -> tuple[Criterion, ...]:
    return tuple_of(value, Criterion, "criteria", "a sequence of Criterion", "Criterion values")


def _to_kind(value: object) -> RuleKind:
    return RuleKind.parse(value)


def _to_time(value: object) -> EvaluationTime | None:
    return None if value is None else EvaluationTime.parse(value)


@attrs.frozen
class SubscriberRule:
    """One automatic subscription rule: its name, kind, criteria and rule logic.

    No criteria: the rule matches every record.  ``logic`` ``None``: the criteria are
    ANDed.  ``evaluation_time`` is for add rules (default: on create and any edit that
    makes the record newly meet the criteria); a remove rule has none and is evaluated on
    create and every edit.  An inactive rule never fires.
    """

    name: str = attrs.field(validator=require_text("name"))
    kind: RuleKind = attrs.field(converter=_to_kind)
    criteria: tuple[Criterion, ...] = attrs.field(default=(), converter=_to_criteria)
    logic: str | None = attrs.field(default=None, kw_only=True)
    evaluation_time: EvaluationTime | None = attrs.field(
        default=None, kw_only=True, converter=_to_time
    )
    active: bool = attrs.field(default=True, kw_only=True, validator=check_bool)
    description: str = attrs.field(
        default="", kw_only=True, validator=require_text("description", allow_empty=True)
    )
    tree: Logic | None = attrs.field(init=False, repr=False, eq=False, default=None)

    def __attrs_post_init__(self) -> None:
        label = f"rule {self.name!r}"
        if self.kind.adds and self.evaluation_time is None:
            object.__setattr__(self, "evaluation_time", EvaluationTime.ON_CREATE_AND_NEWLY_MEETS)
        if not self.kind.adds and self.evaluation_time is not None:
            raise InvalidValueError(
                f"{label} evaluation_time",
                "None for a remove rule (it is evaluated on create and every edit)",
                self.evaluation_time.value,
            )
        if self.kind.record_kind is RecordKind.LEAD:
            for number, criterion in enumerate(self.criteria, 1):
                if criterion.account_field is not None:
                    raise InvalidValueError(
                        f"{label} criterion {number} field",
                        "a lead field (leads have no account)",
                        criterion.field,
                    )
        if self.logic is not None:
            tree = parse_logic(self.logic, len(self.criteria), field=f"{label} logic")
            object.__setattr__(self, "tree", tree)

    def meets(
        self,
        record: RuleRecord,
        *,
        as_of: datetime | None = None,
        zone: tzinfo | None = None,
        week_start: int = 6,
    ) -> bool:
        """Whether ``record`` meets the criteria (every criterion is judged, so a value of
        the wrong type is an error even where the logic would not need it)."""
        if not isinstance(record, RuleRecord):
            raise InvalidTypeError("record", "a RuleRecord", record)
        truth = {
            number: criterion.matches(
                record.value_of(criterion.field, f"rule {self.name!r} criterion {number}"),
                as_of=as_of,
                zone=zone,
                week_start=week_start,
                where=f"rule {self.name!r} criterion {number}",
            )
            for number, criterion in enumerate(self.criteria, 1)
        }
        if self.tree is not None:
            return evaluate(self.tree, truth)
        return all(truth.values())


def _to_rules(value: object) -> tuple[SubscriberRule, ...]:
    if not is_collection(value):
        raise InvalidTypeError("rules", "a sequence of SubscriberRule", value)
    rules = tuple(value)
    seen: dict[RuleKind, str] = {}
    for rule in rules:
        if not isinstance(rule, SubscriberRule):
            raise InvalidTypeError("rules", "SubscriberRule values", rule)
        if rule.kind in seen:
            raise InvalidValueError(
                "rules",
                f"at most one {rule.kind.value!r} rule per list",
                rule.name,
                detail=f"the list already has {seen[rule.kind]!r}",
            )
        seen[rule.kind] = rule.name
    return rules


@attrs.frozen
class ListRules:
    """A subscriber list's rules: at most one of each kind, so at most four."""

    list_id: str = attrs.field(validator=require_text("list_id"))
    rules: tuple[SubscriberRule, ...] = attrs.field(default=(), converter=_to_rules)

    def rule(self, kind: RuleKind | str) -> SubscriberRule | None:
        """The list's rule of ``kind``, or ``None``."""
        wanted = RuleKind.parse(kind)
        return next((r for r in self.rules if r.kind is wanted), None)
