"""Properties of subscriber rules on any input Hypothesis can build: the rule logic parser
against an independent evaluation, the operator laws, the opt-out guard and idempotence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.rules import (
    OPERATORS_BY_TYPE,
    Criterion,
    EvaluationTime,
    FieldType,
    ListRules,
    Operator,
    RuleChange,
    RuleKind,
    RuleRecord,
    SubscriberRule,
    evaluate,
    parse_logic,
    plan_retrospective_run,
    plan_rule_changes,
)
from cmsf_core.domain.subscribers import (
    ImportSubscribers,
    ListMembership,
    Person,
    SubscriberState,
)

AS_OF = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")

# ----------------------------------------------------------------------------- rule logic

# A tree is ("n", k) | ("not", tree) | ("and", [trees]) | ("or", [trees]).
trees = st.recursive(
    st.integers(1, 6).map(lambda k: ("n", k)),
    lambda inner: st.one_of(
        inner.map(lambda t: ("not", t)),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=12,
)


def numbers_in(tree: Any) -> set[int]:
    """The criterion numbers a tree uses."""
    if tree[0] == "n":
        return {tree[1]}
    if tree[0] == "not":
        return numbers_in(tree[1])
    return set().union(*(numbers_in(t) for t in tree[1]))


def renumber(tree: Any, mapping: dict[int, int]) -> Any:
    """The tree with its numbers renamed, so that 1..m are all used."""
    if tree[0] == "n":
        return ("n", mapping[tree[1]])
    if tree[0] == "not":
        return ("not", renumber(tree[1], mapping))
    return (tree[0], [renumber(t, mapping) for t in tree[1]])


def render(tree: Any, draw: Any) -> str:
    """Salesforce rule logic for the tree: random keyword case, spacing and extra parentheses."""
    if tree[0] == "n":
        text = str(tree[1])
    elif tree[0] == "not":
        operand = render(tree[1], draw)
        if tree[1][0] in ("and", "or"):
            operand = f"({operand})"
        text = f"{draw(st.sampled_from(['NOT', 'not', 'Not']))} {operand}"
    else:
        word = draw(st.sampled_from([tree[0].upper(), tree[0], tree[0].capitalize()]))
        parts = []
        for child in tree[1]:
            part = render(child, draw)
            parts.append(f"({part})" if child[0] in ("and", "or") else part)
        text = f" {word} ".join(parts)
    if draw(st.integers(0, 4)) == 0:
        text = f"({text})"
    return text


def python(tree: Any) -> str:
    """The same expression in Python, evaluated by Python's own parser as the reference."""
    if tree[0] == "n":
        return f"t[{tree[1]}]"
    if tree[0] == "not":
        return f"(not {python(tree[1])})"
    return "(" + f" {tree[0]} ".join(python(t) for t in tree[1]) + ")"


@given(st.data(), trees)
def test_rule_logic_evaluates_as_python_evaluates_the_same_expression(
    data: st.DataObject, tree: Any
) -> None:
    """For any expression and truth assignment, the parser and evaluator agree with eval()."""
    used = sorted(numbers_in(tree))
    tree = renumber(tree, {k: i for i, k in enumerate(used, 1)})
    text = render(tree, data.draw)
    truth = {k: data.draw(st.booleans()) for k in range(1, len(used) + 1)}

    parsed = parse_logic(text, len(used))

    assert evaluate(parsed, truth) is eval(python(tree), {"t": truth})


@given(trees, st.integers(1, 3))
def test_unused_or_unknown_criterion_numbers_are_always_refused(tree: Any, extra: int) -> None:
    """Logic that leaves a criterion out, or names one that does not exist, is an error."""
    used = sorted(numbers_in(tree))
    tree = renumber(tree, {k: i for i, k in enumerate(used, 1)})
    text = python(tree).replace("t[", "").replace("]", "")

    with pytest.raises(InvalidValueError, match="unused"):
        parse_logic(text, len(used) + extra)
    if len(used) > 1:
        with pytest.raises(InvalidValueError, match="a criterion number from 1 to"):
            parse_logic(text, len(used) - 1)


@given(st.sampled_from(["AND", "OR"]), st.integers(1, 3))
def test_mixing_and_with_or_without_parentheses_is_always_refused(first: str, n: int) -> None:
    """'1 AND 2 OR 3' is ambiguous at any length: refused, never read one way."""
    other = "OR" if first == "AND" else "AND"
    numbers = list(range(1, n + 3))
    text = f" {first} ".join(map(str, numbers[:-1])) + f" {other} {numbers[-1]}"

    with pytest.raises(InvalidValueError, match="parentheses to mix AND with OR"):
        parse_logic(text, len(numbers))


# ----------------------------------------------------------------------------- operators

WORDS = ["a", "B", "ab", "Ba", "abc"]
CHOICES = ["Golf", "Tennis", "Chess"]
DAY = st.dates(date(2026, 1, 1), date(2027, 12, 31))
LITERALS = [
    "TODAY",
    "YESTERDAY",
    "THIS_WEEK",
    "LAST_MONTH",
    "NEXT_N_DAYS:10",
    "LAST_N_DAYS:30",
    "THIS_QUARTER",
    "N_YEARS_AGO:1",
]

#: For each field type: record values, and criterion values written as an admin would.
VALUES: dict[FieldType, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    FieldType.TEXT: (
        st.none() | st.text(st.sampled_from("abAB "), max_size=4),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(", ".join),
    ),
    FieldType.NUMBER: (
        st.none()
        | st.integers(-3, 3)
        | st.decimals(-3, 3, places=1)
        | st.sampled_from([0.5, -1.5, 2.0]),
        st.sampled_from(["0", "-1.5", "2", "0.5", "1,000"]),
    ),
    FieldType.DATE: (st.none() | DAY, st.sampled_from(LITERALS) | DAY.map(str)),
    FieldType.DATETIME: (
        st.none()
        | st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
        st.sampled_from([*LITERALS, "2026-12-07", "2026-12-07T10:00:00+01:00"]),
    ),
    FieldType.BOOLEAN: (st.none() | st.booleans(), st.sampled_from(["true", "False"])),
    FieldType.PICKLIST: (
        st.none() | st.sampled_from(CHOICES),
        st.lists(st.sampled_from(CHOICES), min_size=1, max_size=2).map(", ".join),
    ),
    FieldType.MULTIPICKLIST: (
        st.none() | st.lists(st.sampled_from(CHOICES), unique=True).map(tuple),
        st.lists(
            st.lists(st.sampled_from(CHOICES), min_size=1, max_size=2).map(";".join),
            min_size=1,
            max_size=2,
        ).map(", ".join),
    ),
}

as_ofs = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))


@st.composite
def criteria_and_values(draw: Any) -> tuple[Criterion, Any]:
    """A criterion with a comparing operator, and a record value of its type."""
    kind = draw(st.sampled_from(list(FieldType)))
    record_values, criterion_values = VALUES[kind]
    operator = draw(st.sampled_from(sorted(OPERATORS_BY_TYPE[kind], key=lambda o: o.value)))
    wanted = (
        None if operator in (Operator.IS_BLANK, Operator.IS_NOT_BLANK) else draw(criterion_values)
    )
    return Criterion("F", kind, operator, wanted), draw(record_values)


def twin(criterion: Criterion, operator: Operator) -> Criterion:
    """The same criterion with another operator."""
    return Criterion(criterion.field, criterion.field_type, operator, criterion.value)


NEGATIONS = [
    (Operator.EQUALS, Operator.NOT_EQUALS),
    (Operator.CONTAINS, Operator.DOES_NOT_CONTAIN),
    (Operator.INCLUDES, Operator.EXCLUDES),
]


@given(criteria_and_values(), as_ofs)
def test_negative_operators_are_the_negation_of_their_twins(
    pair: tuple[Criterion, Any], as_of: datetime
) -> None:
    """not equal to == not equals, does not contain == not contains, excludes == not
    includes: for every type and every value, blank or not."""
    criterion, value = pair
    for positive, negative in NEGATIONS:
        if criterion.operator is not positive:
            continue
        kw: dict[str, Any] = {"as_of": as_of, "zone": PARIS}
        yes = criterion.matches(value, **kw)
        assert twin(criterion, negative).matches(value, **kw) is (not yes)


@given(st.sampled_from([k for k in FieldType if k is not FieldType.BOOLEAN]), st.data())
def test_is_blank_and_is_not_blank_are_exclusive(kind: FieldType, data: st.DataObject) -> None:
    """Every value is exactly one of blank or not blank."""
    value = data.draw(VALUES[kind][0])
    blank = Criterion("F", kind, "is blank").matches(value)

    assert Criterion("F", kind, "is not blank").matches(value) is (not blank)


@given(
    st.lists(st.sampled_from(CHOICES), min_size=1, unique=True).map(tuple),
    VALUES[FieldType.MULTIPICKLIST][1],
)
def test_includes_and_excludes_are_complementary_on_a_selection(
    selected: tuple[str, ...], wanted: str
) -> None:
    """On a non-blank selection exactly one of includes and excludes holds."""
    includes = Criterion("F", "multipicklist", "includes", wanted).matches(selected)
    excludes = Criterion("F", "multipicklist", "excludes", wanted).matches(selected)

    assert includes is not excludes


@given(st.sampled_from(["-1.5", "0", "2"]), st.decimals(-3, 3, places=2), as_ofs)
def test_number_order_operators_agree_with_decimal_arithmetic(
    wanted: str, value: Decimal, as_of: datetime
) -> None:
    """<, <=, >, >= and = on numbers are exactly Decimal's comparisons."""
    limit = Decimal(wanted)
    expected = {
        "<": value < limit,
        "<=": value <= limit,
        ">": value > limit,
        ">=": value >= limit,
        "=": value == limit,
    }
    for operator, holds in expected.items():
        assert Criterion("F", "number", operator, wanted).matches(value, as_of=as_of) is holds


@given(st.sampled_from(LITERALS), DAY, as_ofs)
def test_a_day_is_in_a_literal_range_or_before_it_or_after_it(
    literal: str, day: date, as_of: datetime
) -> None:
    """Exactly one of <, =, > holds for a day and a literal; <= is < or =, >= is > or =."""

    def holds(operator: str) -> bool:
        return Criterion("F", "date", operator, literal).matches(day, as_of=as_of, zone=PARIS)

    assert [holds("<"), holds("="), holds(">")].count(True) == 1
    assert holds("<=") is (holds("<") or holds("="))
    assert holds(">=") is (holds(">") or holds("="))


# ----------------------------------------------------------------------------- planning

FIELDS = {
    "Industry": (FieldType.PICKLIST, VALUES[FieldType.PICKLIST]),
    "Score": (FieldType.NUMBER, VALUES[FieldType.NUMBER]),
    "Since": (FieldType.DATE, VALUES[FieldType.DATE]),
    "Interests": (FieldType.MULTIPICKLIST, VALUES[FieldType.MULTIPICKLIST]),
}


@st.composite
def criteria(draw: Any) -> list[Criterion]:
    """Zero to three criteria over the record fields of FIELDS."""
    chosen = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(FIELDS)))
        kind, (_, wanted) = FIELDS[name]
        operator = draw(st.sampled_from(sorted(OPERATORS_BY_TYPE[kind], key=lambda o: o.value)))
        blank = operator in (Operator.IS_BLANK, Operator.IS_NOT_BLANK)
        chosen.append(Criterion(name, kind, operator, None if blank else draw(wanted)))
    return chosen


@st.composite
def records(draw: Any, index: int) -> RuleRecord:
    """A contact with random fields and a random opt-out."""
    person = Person(
        f"003{index:03}",
        "Contact",
        email=f"p{index}@example.com",
        email_opt_out=draw(st.booleans()),
    )
    fields = {name: draw(values) for name, (_, (values, _)) in FIELDS.items()}
    return RuleRecord(person, fields)


@st.composite
def rule_sets(draw: Any) -> list[ListRules]:
    """One or two lists, each with some of the four rule kinds."""
    lists = []
    for list_id in ("L1", "L2")[: draw(st.integers(1, 2))]:
        rules = []
        for kind in draw(st.lists(st.sampled_from(list(RuleKind)), unique=True)):
            crit = draw(criteria())
            time = draw(st.sampled_from(list(EvaluationTime))) if kind.adds else None
            rules.append(SubscriberRule(f"{kind.value}", kind, crit, evaluation_time=time))
        lists.append(ListRules(list_id, rules))
    return lists


@st.composite
def batches(draw: Any) -> tuple[list[RuleChange], dict[str, list[ListMembership]]]:
    """Up to five changes (creations and edits) and the emails' list memberships."""
    changes = []
    memberships = {}
    for index in range(draw(st.integers(1, 5))):
        after = draw(records(index))
        before = draw(st.none() | records(index))
        changes.append(RuleChange(before, after))
        states = draw(
            st.dictionaries(
                st.sampled_from(["L1", "L2"]), st.sampled_from(list(SubscriberState)[:5])
            )
        )
        memberships[f"p{index}@example.com"] = [
            ListMembership(list_id, "List", state) for list_id, state in states.items()
        ]
    return changes, memberships


def run(
    changes: list[RuleChange],
    lists: list[ListRules],
    memberships: dict[str, list[ListMembership]],
    **kw: Any,
) -> Any:
    """plan_rule_changes with triggers on."""
    settings: dict[str, Any] = {
        "as_of": AS_OF,
        "zone": PARIS,
        "disable_triggers": False,
        "disable_bulk_triggers": False,
        "prevent_opted_out_list_add": False,
        "unsubscribe_on_opt_out": False,
        **kw,
    }
    return plan_rule_changes(changes, lists, memberships, **settings)


@given(batches(), rule_sets())
def test_a_rule_never_adds_an_opted_out_record_when_prevention_is_on(
    batch: tuple[list[RuleChange], dict[str, list[ListMembership]]], lists: list[ListRules]
) -> None:
    """No import row ever carries the email of a record with Email Opt Out checked."""
    changes, memberships = batch
    opted_out = {c.after.person.email for c in changes if c.after and c.after.person.email_opt_out}

    plan = run(changes, lists, memberships, prevent_opted_out_list_add=True)

    sent = {
        row.email
        for c in plan.commands
        if isinstance(c, ImportSubscribers)
        for row in c.subscribers
    }
    assert not sent & opted_out


@given(batches(), rule_sets())
def test_a_change_that_checks_the_opt_out_never_adds_when_it_unsubscribes(
    batch: tuple[list[RuleChange], dict[str, list[ListMembership]]], lists: list[ListRules]
) -> None:
    """With unsubscribe-on-opt-out, no import carries a record whose box the change ticks."""
    changes, memberships = batch
    ticking = {
        c.after.person.email
        for c in changes
        if c.after
        and c.after.person.email_opt_out
        and (c.before is None or not c.before.person.email_opt_out)
    }

    plan = run(changes, lists, memberships, unsubscribe_on_opt_out=True)

    sent = {
        row.email
        for c in plan.commands
        if isinstance(c, ImportSubscribers)
        for row in c.subscribers
    }
    assert not sent & ticking


@given(batches(), rule_sets())
def test_a_rule_never_reactivates_an_inactive_subscriber(
    batch: tuple[list[RuleChange], dict[str, list[ListMembership]]], lists: list[ListRules]
) -> None:
    """Imports never resubscribe, and never carry an email inactive on that list."""
    changes, memberships = batch
    plan = run(changes, lists, memberships)

    for command in plan.commands:
        if isinstance(command, ImportSubscribers):
            assert not command.resubscribe
            for row in command.subscribers:
                states = {m.list_id: m.state for m in memberships[row.email]}
                assert states.get(command.list_id, SubscriberState.ACTIVE) in (
                    SubscriberState.ACTIVE,
                    SubscriberState.UNCONFIRMED,
                )


@given(batches(), rule_sets())
def test_re_evaluating_an_unchanged_record_adds_nothing_under_newly_meets(
    batch: tuple[list[RuleChange], dict[str, list[ListMembership]]], lists: list[ListRules]
) -> None:
    """An edit that changes nothing never makes a record newly meet a rule."""
    changes, memberships = batch
    newly = [
        ListRules(
            held.list_id,
            [
                r
                for r in held.rules
                if r.kind.adds and r.evaluation_time is EvaluationTime.ON_CREATE_AND_NEWLY_MEETS
            ],
        )
        for held in lists
    ]
    unchanged = [RuleChange(c.after, c.after) for c in changes]

    assert run(unchanged, newly, memberships).commands == ()


@given(batches(), rule_sets())
def test_a_retrospective_run_equals_creating_every_record_afresh(
    batch: tuple[list[RuleChange], dict[str, list[ListMembership]]], lists: list[ListRules]
) -> None:
    """The run is the plan of creating the records now: every evaluation time fires on create."""
    changes, memberships = batch
    records_now = [c.after for c in changes if c.after is not None]

    retro = plan_retrospective_run(
        records_now, lists, memberships, as_of=AS_OF, zone=PARIS, prevent_opted_out_list_add=True
    )
    created = run(
        [RuleChange(None, r) for r in records_now],
        lists,
        memberships,
        prevent_opted_out_list_add=True,
    )

    assert retro == created


@given(batches(), rule_sets(), st.integers(0, 6))
def test_a_plan_depends_on_as_of_only_through_the_org_days(
    batch: tuple[list[RuleChange], dict[str, list[ListMembership]]],
    lists: list[ListRules],
    hours: int,
) -> None:
    """Moving as_of within the same Paris day (here 01:00-07:00 local) changes nothing."""
    changes, memberships = batch
    morning = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)

    first = run(changes, lists, memberships, as_of=morning)
    later = run(changes, lists, memberships, as_of=morning + timedelta(hours=hours))

    assert first == later
