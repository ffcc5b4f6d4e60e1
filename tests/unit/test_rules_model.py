"""Subscriber rules, the lists that hold them, and the records they read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, UnknownChoiceError
from cmsf_core.domain.rules import (
    AccountChange,
    Criterion,
    EvaluationTime,
    ListRules,
    RuleChange,
    RuleKind,
    RuleRecord,
    SubscriberRule,
)
from cmsf_core.domain.subscribers import Person, RecordKind

ANN = Person("003A", "Contact", email="ann@example.com", account_id="001A")
VIP = Criterion("Industry", "picklist", "equals", "Banking")
RICH = Criterion("Account.AnnualRevenue", "number", ">=", "1000000")


def record(
    person: Person = ANN, account: dict[str, object] | None = None, **fields: object
) -> RuleRecord:
    """A record of ``person`` with ``fields`` and the account's fields."""
    return RuleRecord(person, fields, account)


def test_rule_kinds_are_read_by_label_or_name() -> None:
    """'Add Contact' and 'REMOVE_LEAD' name kinds; the kind knows its records and action."""
    assert RuleKind.parse("Add Contact") is RuleKind.ADD_CONTACT
    assert RuleKind.parse("REMOVE_LEAD") is RuleKind.REMOVE_LEAD
    assert RuleKind.parse(RuleKind.ADD_LEAD).record_kind is RecordKind.LEAD
    assert RuleKind.REMOVE_CONTACT.record_kind is RecordKind.CONTACT
    assert RuleKind.ADD_LEAD.adds
    assert not RuleKind.REMOVE_LEAD.adds


def test_unknown_rule_kinds_are_refused() -> None:
    """An unknown kind lists the four; a non-string is a type error."""
    with pytest.raises(UnknownChoiceError, match="'add contact'"):
        RuleKind.parse("add account")
    with pytest.raises(InvalidTypeError):
        RuleKind.parse(1)


def test_evaluation_times_are_read_by_label_or_name() -> None:
    """The workflow-rule labels and the enum names are accepted."""
    assert EvaluationTime.parse("created") is EvaluationTime.ON_CREATE
    assert EvaluationTime.parse("on_create_and_every_edit") is (
        EvaluationTime.ON_CREATE_AND_EVERY_EDIT
    )
    assert EvaluationTime.parse(EvaluationTime.ON_CREATE) is EvaluationTime.ON_CREATE
    with pytest.raises(UnknownChoiceError):
        EvaluationTime.parse("hourly")
    with pytest.raises(InvalidTypeError):
        EvaluationTime.parse(2)


def test_an_add_rule_is_evaluated_when_a_record_newly_meets_it_by_default() -> None:
    """The default evaluation time of an add rule is the workflow rule's safest one."""
    rule = SubscriberRule("VIP", "add contact", [VIP])

    assert rule.evaluation_time is EvaluationTime.ON_CREATE_AND_NEWLY_MEETS
    assert rule.active


def test_a_remove_rule_takes_no_evaluation_time() -> None:
    """A remove rule is evaluated on create and every edit; giving it a time is an error."""
    assert SubscriberRule("Gone", "remove contact").evaluation_time is None
    with pytest.raises(InvalidValueError, match="rule 'Gone' evaluation_time"):
        SubscriberRule("Gone", "remove contact", evaluation_time="created")


def test_a_lead_rule_may_not_read_account_fields() -> None:
    """Leads have no account: the error names the rule and the criterion."""
    with pytest.raises(InvalidValueError, match="rule 'Leads' criterion 2 field"):
        SubscriberRule("Leads", "add lead", [VIP, RICH], logic="1 OR 2")


def test_bad_logic_names_the_rule() -> None:
    """A logic error says which rule it belongs to."""
    with pytest.raises(InvalidValueError, match="rule 'VIP' logic"):
        SubscriberRule("VIP", "add contact", [VIP, RICH], logic="1")


def test_rule_fields_are_checked() -> None:
    """Criteria must be Criterion values; active a bool; the name non-empty."""
    with pytest.raises(InvalidTypeError, match="'criteria'"):
        SubscriberRule("VIP", "add contact", VIP)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="'criteria'"):
        SubscriberRule("VIP", "add contact", ["Industry = Banking"])  # type: ignore[list-item]
    with pytest.raises(InvalidTypeError, match="'active'"):
        SubscriberRule("VIP", "add contact", active="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="'name'"):
        SubscriberRule(" ", "add contact")


def test_criteria_are_anded_by_default() -> None:
    """Without logic every criterion must hold."""
    rule = SubscriberRule("VIP", "add contact", [VIP, RICH])

    assert rule.meets(record(Industry="Banking", account={"AnnualRevenue": 2_000_000}))
    assert not rule.meets(record(Industry="Banking", account={"AnnualRevenue": 5}))


def test_rule_logic_combines_the_numbered_criteria() -> None:
    """'1 OR 2' holds when either criterion does."""
    rule = SubscriberRule("VIP", "add contact", [VIP, RICH], logic="1 or 2")

    assert rule.meets(record(Industry="Retail", account={"AnnualRevenue": 2_000_000}))
    assert not rule.meets(record(Industry="Retail", account={"AnnualRevenue": 5}))


def test_a_rule_without_criteria_matches_every_record() -> None:
    """Criteria are optional."""
    assert SubscriberRule("All", "add contact").meets(record())


def test_every_criterion_is_judged_so_a_bad_value_is_never_hidden() -> None:
    """A wrong-typed value is an error even when the logic is decided without it."""
    rule = SubscriberRule("VIP", "add contact", [VIP, RICH], logic="1 OR 2")

    with pytest.raises(InvalidTypeError, match="rule 'VIP' criterion 2, field 'Account"):
        rule.meets(record(Industry="Banking", account={"AnnualRevenue": "lots"}))


def test_meets_takes_a_rule_record() -> None:
    """A Person is not enough: the rule needs its fields."""
    with pytest.raises(InvalidTypeError, match="'record'"):
        SubscriberRule("All", "add contact").meets(ANN)  # type: ignore[arg-type]


def test_a_list_holds_at_most_one_rule_of_each_kind() -> None:
    """A second add-contact rule (a fifth rule) is refused, naming both rules."""
    rules = [
        SubscriberRule("A", "add contact"),
        SubscriberRule("B", "remove contact"),
        SubscriberRule("C", "add lead"),
        SubscriberRule("D", "remove lead"),
    ]
    held = ListRules("L1", rules)

    assert held.rule("add lead") is rules[2]
    with pytest.raises(InvalidValueError, match="at most one 'add contact' rule") as caught:
        ListRules("L1", [*rules, SubscriberRule("E", "add contact")])
    assert "'A'" in str(caught.value)
    assert "'E'" in str(caught.value)


def test_a_list_without_a_rule_of_a_kind_answers_none() -> None:
    """rule(kind) is None when the list has no such rule."""
    assert ListRules("L1").rule(RuleKind.ADD_LEAD) is None


def test_list_rules_are_checked() -> None:
    """Rules must be a sequence of SubscriberRule and the list id non-empty."""
    with pytest.raises(InvalidTypeError, match="'rules'"):
        ListRules("L1", SubscriberRule("A", "add contact"))  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="'rules'"):
        ListRules("L1", ["A"])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match="'list_id'"):
        ListRules("")


def test_field_names_ignore_case() -> None:
    """'industry' in the record answers a criterion on 'Industry'."""
    assert record(industry="Banking").value_of("Industry") == "Banking"


def test_a_field_the_record_lacks_is_an_error_naming_rule_and_record() -> None:
    """Never silently blank: the caller forgot to read the field."""
    rule = SubscriberRule("VIP", "add contact", [VIP])

    with pytest.raises(InvalidValueError, match="rule 'VIP' criterion 1 field 'Industry'") as e:
        rule.meets(record(Name="Ann"))
    assert "003A" in str(e.value)


def test_a_contact_without_an_account_has_blank_account_fields() -> None:
    """Account.X of a contact with no account is blank, as a formula over a null lookup."""
    loner = Person("003B", "Contact", email="bob@example.com")

    assert record(loner).value_of("Account.Industry") is None


def test_a_contact_with_an_account_needs_the_account_fields() -> None:
    """The account exists but its fields were not given: an error, never blank."""
    with pytest.raises(InvalidValueError, match="no account fields were given"):
        record().value_of("Account.Industry")


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ([("Industry", "Banking")], InvalidTypeError, "a mapping"),
        ({"": "x"}, InvalidValueError, "non-empty field names"),
        ({"Industry": "a", "INDUSTRY": "b"}, InvalidValueError, "each field once"),
        ({"Tags": ["a"]}, InvalidTypeError, "fields\\['Tags'\\]"),
        ({"Tags": ("a", 1)}, InvalidTypeError, "a tuple of text"),
        ({"When": datetime(2026, 1, 1)}, InvalidValueError, "timezone-aware"),
    ],
)
def test_record_fields_are_checked(fields: object, error: type[Exception], message: str) -> None:
    """Field maps hold named, typed values; the error names the field."""
    with pytest.raises(error, match=message):
        RuleRecord(ANN, fields)  # type: ignore[arg-type]


def test_a_record_holds_a_person() -> None:
    """The person must be a Person; typed values of every kind are accepted."""
    with pytest.raises(InvalidTypeError, match="'person'"):
        RuleRecord("003A", {})  # type: ignore[arg-type]
    held = RuleRecord(ANN, {"When": datetime(2026, 1, 1, tzinfo=UTC), "Tags": ("a",)})
    assert held.record_id == "003A"


def test_a_change_needs_a_record_and_one_record_id() -> None:
    """Both sides empty, two records, or a non-record are refused."""
    with pytest.raises(InvalidValueError, match="'before'"):
        RuleChange(None, None)
    other = Person("003B", "Contact", email="bob@example.com")
    with pytest.raises(InvalidValueError, match=r"'after\.record_id'"):
        RuleChange(record(), record(other))
    with pytest.raises(InvalidTypeError, match="'after'"):
        RuleChange(None, ANN)  # type: ignore[arg-type]


def test_an_account_change_holds_the_account_fields_before_and_after() -> None:
    """Both sides are field maps keyed without regard to case."""
    change = AccountChange("001A", {"Industry": "Retail"}, {"industry": "Banking"})

    assert change.after == {"industry": "Banking"}
    with pytest.raises(InvalidTypeError, match="'account fields'"):
        AccountChange("001A", {}, None)  # type: ignore[arg-type]
