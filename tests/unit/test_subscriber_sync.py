"""The product docs' subscriber settings, as examples run through ``run_sync`` and
``handle_record_changes`` with the in-memory adapters.

"Sync email opt out" and "sync suppression list" run with the primary sync; "unsubscribe
on opt-out", "set subscriber status to deleted", the trigger switches and "prevent contacts
or leads being added to lists" act when a CRM record changes.  Every test asserts on the
CRM's or the platform's resulting state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from cmsf_core import ActivityType, Settings, Severity
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.records import PersonKind
from cmsf_core.domain.subscribers import (
    LIST_ADD_REFUSED,
    DuplicateEmail,
    ListMembership,
    MarkDeleted,
    OptedOutError,
    OptOutChange,
    Person,
    RecordChange,
    SubscriberState,
    Unsubscribe,
)
from cmsf_core.sync import add_to_list, handle_record_changes, run_sync

CLIENT = "client-acme"
NEWS = "list-news"
OFFERS = "list-offers"
ANN = "ann@example.com"
BOB = "bob@example.com"

#: The newsletter went out; the first sync runs an hour later.
SENT_AT = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
FIRST_SYNC = SENT_AT + timedelta(hours=1)

S = SubscriberState


class CountingPlatform(InMemoryPlatform):
    """An in-memory platform that counts the emails whose lists are read."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lists_read: list[str] = []

    def lists_for_email(self, client_id: str, email: str) -> Sequence[ListMembership]:
        self.lists_read.append(email)
        return super().lists_for_email(client_id, email)


def platform_with_newsletter() -> CountingPlatform:
    """A client with one sent campaign (so the sync's watermark advances)."""
    platform = CountingPlatform(clock=lambda: FIRST_SYNC)
    platform.add_client(CLIENT, "Acme")
    platform.add_campaign(CLIENT, "cmp-1", "May newsletter", sent_at=SENT_AT)
    platform.add_event("cmp-1", ActivityType.SENT, ANN, SENT_AT)
    return platform


def settings(**changes: Any) -> Settings:
    """The default settings with ``changes``."""
    return attrs.evolve(Settings(), **changes)


def opt_out(crm: InMemoryCrm, person_id: str) -> bool:
    person = crm.person(person_id)
    assert person is not None
    return person.email_opt_out


# ----------------------------------------------------------------------------- email opt out


def test_opt_out_is_checked_when_the_email_is_unsubscribed_from_all_lists() -> None:
    platform = platform_with_newsletter()
    platform.set_membership(CLIENT, NEWS, ANN, S.UNSUBSCRIBED, at=SENT_AT)
    platform.set_membership(CLIENT, OFFERS, ANN, S.DELETED, at=SENT_AT)
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A")

    report = run_sync(crm, platform, settings(), as_of=FIRST_SYNC)

    assert opt_out(crm, "003A") is True
    assert report.opt_out_changes == (OptOutChange("003A", ANN, True),)


def test_opt_out_is_unchecked_when_the_email_is_active_on_one_list() -> None:
    platform = platform_with_newsletter()
    platform.set_membership(CLIENT, NEWS, ANN, S.UNSUBSCRIBED, at=SENT_AT)
    platform.set_membership(CLIENT, OFFERS, ANN, S.ACTIVE, at=SENT_AT)
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A", email_opt_out=True)

    run_sync(crm, platform, settings(), as_of=FIRST_SYNC)

    assert opt_out(crm, "003A") is False


@pytest.mark.parametrize("ticked", [True, False])
def test_opt_out_is_unchanged_when_the_email_is_only_bounced(ticked: bool) -> None:
    platform = platform_with_newsletter()
    platform.set_membership(CLIENT, NEWS, ANN, S.BOUNCED, at=SENT_AT)
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A", email_opt_out=ticked)

    report = run_sync(crm, platform, settings(), as_of=FIRST_SYNC)

    assert opt_out(crm, "003A") is ticked
    assert report.opt_out_changes == ()


def test_every_contact_and_lead_with_the_email_is_updated_and_the_duplicate_reported() -> None:
    platform = platform_with_newsletter()
    platform.set_membership(CLIENT, NEWS, ANN, S.UNSUBSCRIBED, at=SENT_AT)
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A")
    crm.add_person("Ann@Example.com", person_id="00QA", kind=PersonKind.LEAD)
    crm.add_person(BOB, person_id="003B")

    report = run_sync(crm, platform, settings(), as_of=FIRST_SYNC)

    assert (opt_out(crm, "003A"), opt_out(crm, "00QA"), opt_out(crm, "003B")) == (
        True,
        True,
        False,
    )
    assert report.duplicates == (DuplicateEmail(ANN, ("003A", "00QA")),)
    (message,) = [m for m in crm.messages() if m.code == "SYNC-DUPLICATE-EMAIL"]
    assert message.severity is Severity.WARNING
    assert "003A" in message.guidance
    assert ANN not in str(message)  # the email is masked
    assert ANN not in repr(message)


def test_with_the_setting_off_opt_out_is_never_changed() -> None:
    platform = platform_with_newsletter()
    platform.set_membership(CLIENT, NEWS, ANN, S.UNSUBSCRIBED, at=SENT_AT)
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A")
    crm.add_person(ANN, person_id="00QA", kind=PersonKind.LEAD)

    report = run_sync(crm, platform, settings(sync_email_opt_out=False), as_of=FIRST_SYNC)

    assert opt_out(crm, "003A") is False
    assert platform.lists_read == []
    assert (report.opt_out_changes, report.duplicates) == ((), ())
    assert not crm.messages()


def test_a_dry_run_plans_the_opt_out_changes_but_writes_nothing() -> None:
    platform = platform_with_newsletter()
    platform.set_membership(CLIENT, NEWS, ANN, S.UNSUBSCRIBED, at=SENT_AT)
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A")

    report = run_sync(crm, platform, settings(), as_of=FIRST_SYNC, dry_run=True)

    assert report.opt_out_changes == (OptOutChange("003A", ANN, True),)
    assert opt_out(crm, "003A") is False


def test_only_emails_changed_since_the_last_sync_are_read_again() -> None:
    platform = platform_with_newsletter()
    platform.set_membership(CLIENT, NEWS, ANN, S.UNSUBSCRIBED, at=SENT_AT - timedelta(days=2))
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A")
    crm.add_person(BOB, person_id="003B", email_opt_out=True)

    run_sync(crm, platform, settings(), as_of=FIRST_SYNC)
    assert platform.lists_read == [ANN]  # the first sync reads every email
    platform.lists_read.clear()

    run_sync(crm, platform, settings(), as_of=FIRST_SYNC + timedelta(hours=1))
    assert platform.lists_read == []  # nothing changed since

    platform.set_membership(CLIENT, NEWS, BOB, S.ACTIVE, at=SENT_AT + timedelta(minutes=30))
    run_sync(crm, platform, settings(), as_of=FIRST_SYNC + timedelta(hours=2))
    assert platform.lists_read == [BOB]
    assert opt_out(crm, "003B") is False


# ----------------------------------------------------------------------------- suppression


def test_suppression_records_follow_the_suppression_list() -> None:
    platform = platform_with_newsletter()
    platform.add_suppressed(CLIENT, ANN, "Unsubscribed", SENT_AT)
    platform.add_suppressed(CLIENT, BOB, "Bounced", SENT_AT)
    crm = InMemoryCrm()
    on = settings(sync_suppression_list=True)

    run_sync(crm, platform, on, as_of=FIRST_SYNC)
    kept = {(r.email, r.reason, r.suppressed_at) for r in crm.suppression_records()}
    assert kept == {(ANN, "Unsubscribed", SENT_AT), (BOB, "Bounced", SENT_AT)}

    platform.remove_suppressed(CLIENT, BOB)  # the platform unsuppresses Bob
    report = run_sync(crm, platform, on, as_of=FIRST_SYNC + timedelta(hours=1))
    assert [r.email for r in crm.suppression_records()] == [ANN]
    assert len(report.suppression_changes) == 1


def test_suppression_records_are_not_kept_with_the_setting_off() -> None:
    platform = platform_with_newsletter()
    platform.add_suppressed(CLIENT, ANN, "Unsubscribed", SENT_AT)
    crm = InMemoryCrm()

    run_sync(crm, platform, settings(), as_of=FIRST_SYNC)

    assert crm.suppression_records() == ()


# ----------------------------------------------------------------------------- triggers


def contact(record_id: str, email: str, *, opted_out: bool = False) -> Person:
    return Person(record_id, "Contact", email=email, email_opt_out=opted_out)


def tick_opt_out(record_id: str, email: str) -> RecordChange:
    return RecordChange(contact(record_id, email), contact(record_id, email, opted_out=True))


def two_lists(*emails: str) -> CountingPlatform:
    platform = platform_with_newsletter()
    for email in emails:
        platform.set_membership(CLIENT, NEWS, email, S.ACTIVE, at=SENT_AT)
        platform.set_membership(CLIENT, OFFERS, email, S.ACTIVE, at=SENT_AT)
    return platform


def test_ticking_opt_out_unsubscribes_from_every_list_when_the_setting_is_on() -> None:
    platform = two_lists(ANN)
    on = settings(unsubscribe_on_opt_out=True)

    report = handle_record_changes(InMemoryCrm(), platform, CLIENT, [tick_opt_out("003A", ANN)], on)

    assert report.ok
    assert set(report.plan.commands) == {Unsubscribe(NEWS, ANN), Unsubscribe(OFFERS, ANN)}
    assert platform.state(CLIENT, NEWS, ANN) is S.UNSUBSCRIBED
    assert platform.state(CLIENT, OFFERS, ANN) is S.UNSUBSCRIBED


def test_ticking_opt_out_sends_nothing_with_the_setting_off() -> None:
    platform = two_lists(ANN)

    report = handle_record_changes(
        InMemoryCrm(), platform, CLIENT, [tick_opt_out("003A", ANN)], settings()
    )

    assert report.plan.commands == ()
    assert platform.executed == []
    assert platform.state(CLIENT, NEWS, ANN) is S.ACTIVE


def test_a_deleted_contact_is_deleted_on_every_list() -> None:
    platform = two_lists(ANN)
    on = settings(delete_subscriber_on_record_delete=True)
    deleted = RecordChange(contact("003A", ANN), None)

    report = handle_record_changes(InMemoryCrm(), platform, CLIENT, [deleted], on)

    assert set(report.plan.commands) == {MarkDeleted(NEWS, ANN), MarkDeleted(OFFERS, ANN)}
    assert platform.state(CLIENT, NEWS, ANN) is S.DELETED
    assert platform.state(CLIENT, OFFERS, ANN) is S.DELETED


def test_a_deleted_contact_whose_email_a_lead_still_holds_is_not_deleted() -> None:
    platform = two_lists(ANN)
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="00QA", kind=PersonKind.LEAD)
    on = settings(delete_subscriber_on_record_delete=True)

    report = handle_record_changes(
        crm, platform, CLIENT, [RecordChange(contact("003A", ANN), None)], on
    )

    assert report.plan.commands == ()
    assert platform.state(CLIENT, NEWS, ANN) is S.ACTIVE


def test_disabled_triggers_send_no_command() -> None:
    platform = two_lists(ANN)
    off = settings(
        disable_triggers=True, unsubscribe_on_opt_out=True, delete_subscriber_on_record_delete=True
    )

    report = handle_record_changes(
        InMemoryCrm(), platform, CLIENT, [tick_opt_out("003A", ANN)], off
    )

    assert report.plan.processed == ()
    assert platform.executed == []
    assert platform.lists_read == []


def test_disabled_bulk_triggers_process_only_the_first_record() -> None:
    platform = two_lists(ANN, BOB)
    bulk_off = settings(disable_bulk_triggers=True, unsubscribe_on_opt_out=True)
    batch = [tick_opt_out("003A", ANN), tick_opt_out("003B", BOB)]

    report = handle_record_changes(InMemoryCrm(), platform, CLIENT, batch, bulk_off)

    assert report.plan.processed == (batch[0],)
    assert report.plan.skipped == (batch[1],)
    assert {c.email for _client, c in platform.executed} == {ANN}
    assert platform.state(CLIENT, NEWS, BOB) is S.ACTIVE


# ----------------------------------------------------------------------------- list adds


def test_adding_an_opted_out_contact_to_a_list_is_refused_with_the_products_message() -> None:
    platform = platform_with_newsletter()
    platform.add_list(CLIENT, NEWS)
    prevent = settings(prevent_opted_out_list_add=True)

    with pytest.raises(OptedOutError) as refused:
        add_to_list(platform, CLIENT, NEWS, contact("003A", ANN, opted_out=True), prevent)

    assert LIST_ADD_REFUSED.format(kind="contact") in str(refused.value)
    assert ANN not in str(refused.value)
    assert platform.executed == []


def test_an_opted_out_contact_is_added_when_the_setting_is_off() -> None:
    platform = platform_with_newsletter()
    platform.add_list(CLIENT, NEWS)

    result = add_to_list(platform, CLIENT, NEWS, contact("003A", ANN, opted_out=True), settings())

    assert result.ok
    assert platform.state(CLIENT, NEWS, ANN) is S.ACTIVE


def test_preventing_list_adds_removes_nobody_already_on_a_list() -> None:
    platform = two_lists(ANN)
    prevent = settings(prevent_opted_out_list_add=True)

    handle_record_changes(InMemoryCrm(), platform, CLIENT, [tick_opt_out("003A", ANN)], prevent)

    assert platform.state(CLIENT, NEWS, ANN) is S.ACTIVE
    assert platform.executed == []
