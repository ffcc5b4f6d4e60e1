"""Planning rule evaluations: evaluation times, the guards every route shares, removals,
account fan-out and retrospective runs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, NaiveDatetimeError
from cmsf_core.domain.rules import (
    OPTED_OUT_BY_CHANGE,
    AccountChange,
    Criterion,
    EvaluationTime,
    ListRules,
    RuleAction,
    RuleChange,
    RuleFiring,
    RuleOutcome,
    RulePlan,
    RuleRecord,
    SubscriberRule,
    plan_account_rule_changes,
    plan_retrospective_run,
    plan_rule_changes,
)
from cmsf_core.domain.subscribers import (
    LIST_ADD_REFUSED,
    ImportRow,
    ImportSubscribers,
    ListMembership,
    Person,
    RemoveSubscriber,
)

AS_OF = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
ANN = Person("003A", "Contact", email="ann@example.com", account_id="001A")
BANKING = Criterion("Industry", "picklist", "equals", "Banking")
INACTIVE = Criterion("Status__c", "picklist", "equals", "Inactive")


def rec(
    person: Person = ANN,
    industry: str | None = "Banking",
    status: str | None = None,
    account: dict[str, Any] | None = None,
) -> RuleRecord:
    """Ann (or ``person``) with an Industry and a Status."""
    return RuleRecord(person, {"Industry": industry, "Status__c": status}, account)


def add_rule(time: str = "on_create_and_newly_meets", **kw: Any) -> SubscriberRule:
    """An add-contact rule: Industry equals Banking."""
    return SubscriberRule("Bankers", "add contact", [BANKING], evaluation_time=time, **kw)


REMOVE = SubscriberRule("Leavers", "remove contact", [INACTIVE])


def plan(
    changes: Sequence[RuleChange],
    rules: Iterable[SubscriberRule] = (),
    memberships: dict[str, list[ListMembership]] | None = None,
    **kw: Any,
) -> RulePlan:
    """plan_rule_changes for list L1 with every setting off unless given."""
    settings: dict[str, Any] = {
        "as_of": AS_OF,
        "zone": PARIS,
        "disable_triggers": False,
        "disable_bulk_triggers": False,
        "prevent_opted_out_list_add": False,
        "unsubscribe_on_opt_out": False,
        **kw,
    }
    return plan_rule_changes(changes, [ListRules("L1", list(rules))], memberships or {}, **settings)


def on(state: str) -> dict[str, list[ListMembership]]:
    """Ann's email on L1 in ``state``."""
    return {"ann@example.com": [ListMembership("L1", "Newsletter", state)]}


def outcomes(result: RulePlan) -> list[tuple[str, RuleOutcome]]:
    """(rule, outcome) of every firing."""
    return [(f.rule, f.outcome) for f in result.firings]


def test_a_created_record_that_meets_an_add_rule_is_added() -> None:
    """One import on the rule's list, never resubscribing, journeys queued like an add."""
    result = plan([RuleChange(None, rec())], [add_rule()])

    (command,) = result.commands
    assert isinstance(command, ImportSubscribers)
    assert command.list_id == "L1"
    assert [row.email for row in command.subscribers] == ["ann@example.com"]
    assert not command.resubscribe
    assert command.queue_subscription_based_autoresponders
    assert result.firings == (
        RuleFiring("003A", "L1", "Bankers", RuleAction.ADD, RuleOutcome.ADDED),
    )


def test_journeys_are_not_queued_when_asked() -> None:
    """queue_journeys=False sends the import without the journey flag."""
    result = plan([RuleChange(None, rec())], [add_rule()], queue_journeys=False)

    assert not result.commands[0].queue_subscription_based_autoresponders  # type: ignore[union-attr]


def test_a_record_that_does_not_meet_the_rule_is_not_added() -> None:
    """Industry Retail does not meet 'Industry equals Banking'."""
    assert plan([RuleChange(None, rec(industry="Retail"))], [add_rule()]) == RulePlan()


@pytest.mark.parametrize(
    ("time", "before", "fires"),
    [
        ("on_create", "Retail", False),
        ("on_create", "Banking", False),
        ("on_create_and_every_edit", "Retail", True),
        ("on_create_and_every_edit", "Banking", True),
        ("on_create_and_newly_meets", "Retail", True),
        ("on_create_and_newly_meets", "Banking", False),
    ],
)
def test_an_edit_fires_an_add_rule_by_its_evaluation_time(
    time: str, before: str, fires: bool
) -> None:
    """An edit ending in Banking fires 'every edit' always, 'newly meets' only from another
    industry, and 'on create' never."""
    result = plan([RuleChange(rec(industry=before), rec())], [add_rule(time)])

    assert bool(result.commands) is fires


def test_every_evaluation_time_fires_on_create() -> None:
    """A created record meeting the rule is added whatever the evaluation time."""
    for time in EvaluationTime:
        assert plan([RuleChange(None, rec())], [add_rule(time.name)]).commands


def test_inactive_rules_never_fire() -> None:
    """An inactive rule is kept but ignored."""
    assert plan([RuleChange(None, rec())], [add_rule(active=False)]) == RulePlan()


def test_a_contact_rule_ignores_leads() -> None:
    """Add-contact rules judge contacts only."""
    lead = Person("00QA", "Lead", email="lee@example.com")

    assert plan([RuleChange(None, rec(lead))], [add_rule()]) == RulePlan()


def test_a_deleted_record_fires_no_rule() -> None:
    """Deletions are handled by delete_on_record_delete, not by rules."""
    assert plan([RuleChange(rec(), None)], [add_rule(), REMOVE]) == RulePlan()


def test_a_record_meeting_a_remove_rule_is_removed_from_the_list() -> None:
    """Active on the list: RemoveSubscriber (Deleted), the product's 'remove (delete)'."""
    result = plan([RuleChange(rec(), rec(status="Inactive"))], [REMOVE], on("Active"))

    assert result.commands == (RemoveSubscriber("L1", "ann@example.com"),)
    assert outcomes(result) == [("Leavers", RuleOutcome.REMOVED)]


def test_a_remove_rule_fires_on_every_edit() -> None:
    """Still meeting the remove rule after an edit removes again (if back on the list)."""
    result = plan(
        [RuleChange(rec(status="Inactive"), rec(status="Inactive"))], [REMOVE], on("Unconfirmed")
    )

    assert result.commands == (RemoveSubscriber("L1", "ann@example.com"),)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (None, None),
        ("Unsubscribed", "Unsubscribed"),
        ("Bounced", "Bounced"),
        ("Deleted", "Deleted"),
    ],
)
def test_a_remove_rule_leaves_subscribers_that_are_not_receiving(
    state: str | None, message: str | None
) -> None:
    """Not on the list, or Unsubscribed/Bounced/Deleted: no command; the state is reported."""
    result = plan([RuleChange(None, rec(status="Inactive"))], [REMOVE], on(state) if state else {})

    assert result.commands == ()
    assert result.firings[0].outcome is RuleOutcome.NOT_ON_LIST
    assert result.firings[0].message == message


def test_when_add_and_remove_rules_both_match_the_remove_wins() -> None:
    """The add is reported as overridden and only the removal is sent."""
    result = plan([RuleChange(None, rec(status="Inactive"))], [add_rule(), REMOVE], on("Active"))

    assert result.commands == (RemoveSubscriber("L1", "ann@example.com"),)
    assert sorted(outcomes(result)) == [
        ("Bankers", RuleOutcome.OVERRIDDEN),
        ("Leavers", RuleOutcome.REMOVED),
    ]


def test_an_opted_out_record_is_refused_when_prevention_is_on() -> None:
    """The product's message, no command; with prevention off it is added."""
    opted = attrs.evolve(ANN, email_opt_out=True)

    refused = plan([RuleChange(None, rec(opted))], [add_rule()], prevent_opted_out_list_add=True)
    allowed = plan([RuleChange(None, rec(opted))], [add_rule()])

    assert refused.commands == ()
    assert refused.refused == (
        RuleFiring(
            "003A",
            "L1",
            "Bankers",
            RuleAction.ADD,
            RuleOutcome.REFUSED,
            LIST_ADD_REFUSED.format(kind="contact"),
        ),
    )
    assert allowed.commands


def test_a_change_that_checks_the_opt_out_adds_nothing_when_it_unsubscribes() -> None:
    """With unsubscribe-on-opt-out, the change ticking the box refuses every add."""
    opted = attrs.evolve(ANN, email_opt_out=True)
    ticking = RuleChange(rec(), rec(opted))

    result = plan([ticking], [add_rule("on_create_and_every_edit")], unsubscribe_on_opt_out=True)

    assert result.commands == ()
    assert result.refused[0].message == OPTED_OUT_BY_CHANGE


def test_a_record_created_opted_out_counts_as_ticking_the_box() -> None:
    """A record inserted with the box checked is treated as checking it."""
    opted = attrs.evolve(ANN, email_opt_out=True)

    result = plan([RuleChange(None, rec(opted))], [add_rule()], unsubscribe_on_opt_out=True)

    assert result.refused[0].message == OPTED_OUT_BY_CHANGE


def test_an_opt_out_checked_earlier_does_not_refuse_without_prevention() -> None:
    """Only the change that ticks the box refuses; later edits follow 'prevent'."""
    opted = attrs.evolve(ANN, email_opt_out=True)
    later = RuleChange(rec(opted), rec(opted))

    result = plan([later], [add_rule("on_create_and_every_edit")], unsubscribe_on_opt_out=True)

    assert [f.outcome for f in result.firings] == [RuleOutcome.ADDED]


@pytest.mark.parametrize("state", ["Unsubscribed", "Bounced", "Deleted"])
def test_a_rule_never_reactivates_an_inactive_subscriber(state: str) -> None:
    """Unsubscribed, Bounced and Deleted subscribers are kept as they are."""
    result = plan([RuleChange(None, rec())], [add_rule()], on(state))

    assert result.commands == ()
    assert result.firings[0].outcome is RuleOutcome.KEPT_INACTIVE
    assert result.firings[0].message == state


def test_an_active_subscriber_meeting_the_add_rule_is_sent_again() -> None:
    """The import updates an Active subscriber (its mapped fields), never duplicates it."""
    result = plan([RuleChange(rec(industry="Retail"), rec())], [add_rule()], on("Active"))

    assert outcomes(result) == [("Bankers", RuleOutcome.ADDED)]


def test_a_record_without_an_email_fires_but_sends_nothing() -> None:
    """No email, no subscriber: reported for both add and remove rules."""
    nobody = Person("003N", "Contact")

    result = plan([RuleChange(None, rec(nobody, status="Inactive"))], [add_rule(), REMOVE])

    assert result.commands == ()
    assert sorted(outcomes(result)) == [
        ("Bankers", RuleOutcome.NO_EMAIL),
        ("Leavers", RuleOutcome.NO_EMAIL),
    ]


def test_triggers_disabled_fire_nothing_and_skip_everything() -> None:
    """With triggers disabled no rule runs; every change is reported as skipped."""
    changes = [RuleChange(None, rec())]

    result = plan(changes, [add_rule()], disable_triggers=True)

    assert result.commands == ()
    assert result.skipped == tuple(changes)


def test_bulk_triggers_disabled_process_only_the_first_change() -> None:
    """The second record of the batch is skipped."""
    bob = Person("003B", "Contact", email="bob@example.com")
    changes = [RuleChange(None, rec()), RuleChange(None, rec(bob))]

    result = plan(changes, [add_rule()], disable_bulk_triggers=True)

    assert [f.record_id for f in result.firings] == ["003A"]
    assert result.skipped == (changes[1],)


def test_sms_settings_apply_to_rule_adds() -> None:
    """With SMS on the mobile number goes in E.164; with SMS off it is not sent."""

    def row(record: RuleRecord) -> ImportRow:
        return ImportRow(
            record.person.email or "", mobile_number="(555) 555-1234", consent_to_send_sms=True
        )

    on_ = plan(
        [RuleChange(None, rec())],
        [add_rule()],
        sms_enabled=True,
        sms_country="US",
        subscriber_row=row,
    )
    off = plan([RuleChange(None, rec())], [add_rule()], subscriber_row=row)

    sent = on_.commands[0].subscribers[0]  # type: ignore[union-attr]
    assert sent.mobile_number == "+15555551234"
    assert off.commands[0].subscribers[0].mobile_number is None  # type: ignore[union-attr]


def test_a_bad_mobile_number_refuses_the_whole_plan() -> None:
    """Nothing half-planned: the error names the record."""

    def row(record: RuleRecord) -> ImportRow:
        return ImportRow(record.person.email or "", mobile_number="12")

    with pytest.raises(InvalidValueError, match="record '003A'"):
        plan(
            [RuleChange(None, rec())],
            [add_rule()],
            sms_enabled=True,
            sms_country="US",
            subscriber_row=row,
        )


def test_a_row_for_another_email_is_refused() -> None:
    """subscriber_row must describe the record's own email."""

    def row(_record: RuleRecord) -> ImportRow:
        return ImportRow("someone@example.com")

    with pytest.raises(InvalidValueError, match="'subscriber_row'"):
        plan([RuleChange(None, rec())], [add_rule()], subscriber_row=row)


def test_adds_are_batched_by_the_import_limit_and_deduplicated() -> None:
    """1001 records make two imports; one email twice in a batch is sent once."""
    people = [Person(f"003{i:04}", "Contact", email=f"p{i}@example.com") for i in range(1001)]
    twin = Person("003X", "Contact", email="P0@example.com")
    changes = [RuleChange(None, rec(p)) for p in [*people, twin]]

    result = plan(changes, [add_rule()])

    assert [len(c.subscribers) for c in result.commands] == [1000, 1]  # type: ignore[union-attr]


def test_rules_of_several_lists_are_evaluated_each_on_its_list() -> None:
    """Two lists with an add rule each get one import each."""
    result = plan_rule_changes(
        [RuleChange(None, rec())],
        [ListRules("L1", [add_rule()]), ListRules("L2", [add_rule()])],
        {},
        as_of=AS_OF,
        zone=PARIS,
        disable_triggers=False,
        disable_bulk_triggers=False,
        prevent_opted_out_list_add=False,
        unsubscribe_on_opt_out=False,
    )

    assert [c.list_id for c in result.commands] == ["L1", "L2"]


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"as_of": "today"}, InvalidTypeError, "'as_of'"),
        ({"as_of": datetime(2026, 12, 7)}, NaiveDatetimeError, "'as_of'"),
        ({"zone": "Europe/Paris"}, InvalidTypeError, "'zone'"),
        ({"week_start": 7}, InvalidValueError, "'week_start'"),
        ({"week_start": True}, InvalidValueError, "'week_start'"),
        ({"subscriber_row": "name"}, InvalidTypeError, "'subscriber_row'"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_planned(
    kw: dict[str, Any], error: type[Exception], field: str
) -> None:
    """Each bad argument is named."""
    with pytest.raises(error, match=field):
        plan([RuleChange(None, rec())], [add_rule()], **kw)


def test_bad_rules_memberships_and_changes_are_refused() -> None:
    """Wrong containers and values are named, and one list may not have two rule sets."""
    base: dict[str, Any] = {
        "as_of": AS_OF,
        "zone": PARIS,
        "disable_triggers": False,
        "disable_bulk_triggers": False,
        "prevent_opted_out_list_add": False,
        "unsubscribe_on_opt_out": False,
    }
    change = [RuleChange(None, rec())]
    cases: list[tuple[tuple[Any, Any, Any], type[Exception], str]] = [
        ((change, ListRules("L1"), {}), InvalidTypeError, "'rules'"),
        ((change, ["L1"], {}), InvalidTypeError, "'rules'"),
        ((change, [ListRules("L1"), ListRules("L1")], {}), InvalidValueError, "'rules'"),
        ((change, [], [("a@example.com", [])]), InvalidTypeError, "'memberships'"),
        ((change, [], {"": []}), InvalidValueError, "'memberships'"),
        ((change, [], {"a@example.com": ["Active"]}), InvalidTypeError, "'memberships'"),
        ((change[0], [], {}), InvalidTypeError, "'changes'"),
        (("changes", [], {}), InvalidTypeError, "'changes'"),
        (([rec()], [], {}), InvalidTypeError, "'changes'"),
    ]
    for args, error, field in cases:
        with pytest.raises(error, match=field):
            plan_rule_changes(*args, **base)


# ----------------------------------------------------------------------------- accounts

BIG = SubscriberRule(
    "Big accounts",
    "add contact",
    [Criterion("Account.AnnualRevenue", "number", ">=", "1000000")],
    evaluation_time="on_create_and_newly_meets",
)


def plan_accounts(
    changes: Sequence[AccountChange], contacts: Sequence[RuleRecord], **kw: Any
) -> RulePlan:
    """plan_account_rule_changes on L1 with the account trigger on."""
    settings: dict[str, Any] = {
        "as_of": AS_OF,
        "zone": PARIS,
        "enable_account_trigger": True,
        "disable_triggers": False,
        "disable_bulk_triggers": False,
        "prevent_opted_out_list_add": False,
        **kw,
    }
    return plan_account_rule_changes(changes, contacts, [ListRules("L1", [BIG])], {}, **settings)


GROWTH = AccountChange("001A", {"AnnualRevenue": 10}, {"AnnualRevenue": 2_000_000})


def test_an_account_change_re_evaluates_its_contacts_with_the_new_account_fields() -> None:
    """Revenue crossing the threshold makes Ann newly meet the rule: she is added."""
    result = plan_accounts([GROWTH], [rec(account={"AnnualRevenue": 10})])

    assert outcomes(result) == [("Big accounts", RuleOutcome.ADDED)]


def test_an_account_change_that_changes_nothing_relevant_adds_nobody() -> None:
    """Already meeting before the change: 'newly meets' does not fire."""
    same = AccountChange("001A", {"AnnualRevenue": 3_000_000}, {"AnnualRevenue": 2_000_000})

    assert plan_accounts([same], [rec()]) == RulePlan()


def test_account_changes_follow_the_account_trigger_settings() -> None:
    """Account trigger off or triggers disabled: no contact is re-evaluated."""
    assert plan_accounts([GROWTH], [rec()], enable_account_trigger=False) == RulePlan()
    assert plan_accounts([GROWTH], [rec()], disable_triggers=True) == RulePlan()


def test_bulk_disabled_reaches_only_the_first_accounts_contacts() -> None:
    """The second account of the batch is not processed."""
    bob = Person("003B", "Contact", email="bob@example.com", account_id="001B")
    other = AccountChange("001B", {"AnnualRevenue": 10}, {"AnnualRevenue": 2_000_000})

    result = plan_accounts([GROWTH, other], [rec(), rec(bob)], disable_bulk_triggers=True)

    assert [f.record_id for f in result.firings] == ["003A"]


def test_bad_account_batches_are_refused() -> None:
    """Changes must be a sequence of AccountChange; contacts RuleRecords."""
    with pytest.raises(InvalidTypeError, match="'changes'"):
        plan_accounts(GROWTH, [rec()])  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="'changes'"):
        plan_accounts(["001A"], [rec()])  # type: ignore[list-item]
    with pytest.raises(InvalidTypeError, match="'contacts'"):
        plan_accounts([GROWTH], [ANN])  # type: ignore[list-item]
    with pytest.raises(InvalidTypeError, match="'contacts'"):
        plan_accounts([GROWTH], rec())  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- retrospective


def retro(records: Any, rules: Iterable[SubscriberRule], **kw: Any) -> RulePlan:
    """plan_retrospective_run over L1."""
    settings: dict[str, Any] = {
        "as_of": AS_OF,
        "zone": PARIS,
        "prevent_opted_out_list_add": False,
        **kw,
    }
    return plan_retrospective_run(records, [ListRules("L1", list(rules))], {}, **settings)


def test_a_retrospective_run_adds_records_that_already_meet_the_rule() -> None:
    """Even an 'on create' rule adds existing records when the run is asked for."""
    result = retro(
        [rec(), rec(Person("003B", "Contact", email="b@example.com"), "Retail")],
        [add_rule("on_create")],
    )

    assert outcomes(result) == [("Bankers", RuleOutcome.ADDED)]


def test_a_retrospective_run_keeps_the_guards() -> None:
    """Opted-out records are refused; inactive rules stay silent."""
    opted = rec(attrs.evolve(ANN, email_opt_out=True))

    refused = retro([opted], [add_rule()], prevent_opted_out_list_add=True)

    assert refused.commands == ()
    assert len(refused.refused) == 1
    assert retro([rec()], [add_rule(active=False)]) == RulePlan()


def test_a_retrospective_run_takes_rule_records() -> None:
    """Persons without fields are refused."""
    with pytest.raises(InvalidTypeError, match="'records'"):
        retro([ANN], [add_rule()])
    with pytest.raises(InvalidTypeError, match="'records'"):
        retro(rec(), [add_rule()])
