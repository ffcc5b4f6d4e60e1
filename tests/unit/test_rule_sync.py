"""The subscriber rules as a shell: a trigger batch evaluated and executed on the platform
(in-memory adapters), under the trigger settings, and an administrator's retrospective run."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.errors import CmsfError
from cmsf_core.domain.rules import (
    Criterion,
    ListRules,
    RuleChange,
    RuleOutcome,
    RuleRecord,
    SubscriberRule,
)
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import Person, SubscriberState
from cmsf_core.shell.rule_sync import handle_rule_changes, run_retrospective

SYDNEY = ZoneInfo("Australia/Sydney")
AS_OF = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLIENT, LIST = "client-1", "list-vip"
VIP = [Criterion("Tier", "picklist", "equals", "Gold")]
LAPSED = [Criterion("Tier", "picklist", "equals", "None")]
RULES = [
    ListRules(
        LIST,
        [
            SubscriberRule("Gold contacts", "add contact", VIP),
            SubscriberRule(
                "Lapsed contacts",
                "remove contact",
                [Criterion("Tier", "picklist", "equals", "None")],
            ),
        ],
    )
]


class CountingPlatform(InMemoryPlatform):
    """The in-memory platform, counting the list reads the shell makes."""

    reads = 0

    def lists_for_email(self, client_id: str, email: str):  # type: ignore[no-untyped-def]
        """Count, then read as the in-memory platform does."""
        self.reads += 1
        return super().lists_for_email(client_id, email)


def _platform() -> CountingPlatform:
    platform = CountingPlatform()
    platform.add_client(CLIENT, "Acme", time_zone="Australia/Sydney")
    platform.add_list(CLIENT, LIST)
    return platform


def _contact(record_id: str, email: str, **kw: object) -> Person:
    return Person(record_id, "Contact", email=email, **kw)  # type: ignore[arg-type]


def _edit(person: Person, before: str, after: str) -> RuleChange:
    return RuleChange(RuleRecord(person, {"Tier": before}), RuleRecord(person, {"Tier": after}))


def _run(platform: CountingPlatform, changes: list[RuleChange], settings: Settings):  # type: ignore[no-untyped-def]
    return handle_rule_changes(
        InMemoryCrm(), platform, CLIENT, changes, RULES, settings, as_of=AS_OF, zone=SYDNEY
    )


def test_a_contact_edited_to_meet_an_add_rule_is_added_to_the_list() -> None:
    """Silver -> Gold fires "Gold contacts": the contact is Active on the list."""
    platform = _platform()
    ann = _contact("003A", "ann@example.com")
    report = _run(platform, [_edit(ann, "Silver", "Gold")], Settings())
    assert report.ok
    assert [(f.record_id, f.outcome) for f in report.plan.firings] == [("003A", RuleOutcome.ADDED)]
    assert platform.state(CLIENT, LIST, "ann@example.com") is SubscriberState.ACTIVE


def test_a_contact_that_meets_a_remove_rule_is_removed_from_the_list() -> None:
    """Gold -> None fires "Lapsed contacts": the Active subscriber is Deleted."""
    platform = _platform()
    platform.set_membership(CLIENT, LIST, "bob@example.com", "Active", at=AS_OF)
    bob = _contact("003B", "bob@example.com")
    report = _run(platform, [_edit(bob, "Gold", "None")], Settings())
    assert report.ok
    assert platform.state(CLIENT, LIST, "bob@example.com") is SubscriberState.DELETED


def test_an_opted_out_contact_is_refused_when_prevention_is_on() -> None:
    """With "prevent adding opted-out records" on, the rule's add is refused, nothing sent."""
    platform = _platform()
    olga = _contact("003O", "olga@example.com", email_opt_out=True)
    report = _run(
        platform, [_edit(olga, "Silver", "Gold")], Settings(prevent_opted_out_list_add=True)
    )
    assert [f.outcome for f in report.plan.firings] == [RuleOutcome.REFUSED]
    assert report.results == ()
    assert platform.state(CLIENT, LIST, "olga@example.com") is None


def test_disabled_triggers_read_and_send_nothing() -> None:
    """ "Disable triggers" stops the rules: no list is read, no command is sent."""
    platform = _platform()
    ann = _contact("003A", "ann@example.com")
    report = _run(platform, [_edit(ann, "Silver", "Gold")], Settings(disable_triggers=True))
    assert report.plan.commands == ()
    assert platform.reads == 0
    assert platform.state(CLIENT, LIST, "ann@example.com") is None


def test_disabled_bulk_triggers_process_only_the_first_change() -> None:
    """ "Disable bulk triggers": the batch's first change only, and only its lists are read."""
    platform = _platform()
    ann = _contact("003A", "ann@example.com")
    cid = _contact("003C", "cid@example.com")
    changes = [_edit(ann, "Silver", "Gold"), _edit(cid, "Silver", "Gold")]
    _run(platform, changes, Settings(disable_bulk_triggers=True))
    assert platform.reads == 1
    assert platform.state(CLIENT, LIST, "ann@example.com") is SubscriberState.ACTIVE
    assert platform.state(CLIENT, LIST, "cid@example.com") is None


def test_a_retrospective_run_adds_records_that_already_met_the_rule() -> None:
    """Rules are not retrospective; the explicit run is, even with triggers disabled."""
    platform = _platform()
    dan = RuleRecord(_contact("003D", "dan@example.com"), {"Tier": "Gold"})
    eve = RuleRecord(_contact("003E", "eve@example.com"), {"Tier": "Silver"})
    report = run_retrospective(
        InMemoryCrm(),
        platform,
        CLIENT,
        [dan, eve],
        RULES,
        Settings(disable_triggers=True),
        as_of=AS_OF,
        zone=SYDNEY,
    )
    assert report.ok
    assert platform.state(CLIENT, LIST, "dan@example.com") is SubscriberState.ACTIVE
    assert platform.state(CLIENT, LIST, "eve@example.com") is None


@pytest.mark.parametrize(
    ("client_id", "settings", "field"),
    [("", Settings(), "'client_id'"), (CLIENT, {"Disable_Triggers": True}, "'settings'")],
)
def test_bad_arguments_are_refused_before_any_read(
    client_id: str, settings: object, field: str
) -> None:
    """A bad client id or settings value is one clear error; nothing is read or sent."""
    platform = _platform()
    ann = _contact("003A", "ann@example.com")
    with pytest.raises(CmsfError, match=field):
        handle_rule_changes(
            InMemoryCrm(),
            platform,
            client_id,
            [_edit(ann, "Silver", "Gold")],
            RULES,
            settings,  # type: ignore[arg-type]
            as_of=AS_OF,
            zone=SYDNEY,
        )
    assert platform.reads == 0
