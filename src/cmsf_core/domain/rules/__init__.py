"""Automatic subscription rules: criteria, rule logic and the planner that turns them into
platform commands.  ``docs/rules.md`` walks through every feature."""

from __future__ import annotations

from cmsf_core.domain.rules.criteria import (
    OPERATORS_BY_TYPE,
    Criterion,
    ExactNumber,
    FieldType,
    FieldValue,
    NumberValue,
    Operator,
    criterion_text,
    is_blank,
)
from cmsf_core.domain.rules.dates import DateLiteral
from cmsf_core.domain.rules.engine import (
    OPTED_OUT_BY_CHANGE,
    RuleAction,
    RuleFiring,
    RuleOutcome,
    RulePlan,
    RulePlanOptions,
    plan_account_rule_changes,
    plan_retrospective_run,
    plan_rule_changes,
)
from cmsf_core.domain.rules.logic import And, Logic, Not, Number, Or, evaluate, parse_logic
from cmsf_core.domain.rules.records import AccountChange, RuleChange, RuleRecord
from cmsf_core.domain.rules.rules import EvaluationTime, ListRules, RuleKind, SubscriberRule

__all__ = [
    "OPERATORS_BY_TYPE",
    "OPTED_OUT_BY_CHANGE",
    "AccountChange",
    "And",
    "Criterion",
    "DateLiteral",
    "EvaluationTime",
    "ExactNumber",
    "FieldType",
    "FieldValue",
    "ListRules",
    "Logic",
    "Not",
    "Number",
    "NumberValue",
    "Operator",
    "Or",
    "RuleAction",
    "RuleChange",
    "RuleFiring",
    "RuleKind",
    "RuleOutcome",
    "RulePlan",
    "RulePlanOptions",
    "RuleRecord",
    "SubscriberRule",
    "criterion_text",
    "evaluate",
    "is_blank",
    "parse_logic",
    "plan_account_rule_changes",
    "plan_retrospective_run",
    "plan_rule_changes",
]
