"""The product docs' subscriber settings, as examples run through ``run_sync``,
``handle_record_changes``, ``add_to_list``, ``run_import`` and ``handle_account_changes``
with the in-memory adapters.

"Sync email opt out" and "sync suppression list" run with the primary sync; "unsubscribe
on opt-out", "set subscriber status to deleted", the trigger switches and "prevent contacts
or leads being added to lists" act when a CRM record changes; the import wizard's refresh
types, "re-subscribe deleted subscribers", "trigger joins-a-list journeys" and the SMS
settings act on an import; "enable account trigger" fans an account change out to its
contacts.  The tests assert on the CRM's or the platform's resulting state (and, where
only the request can show it, on what was sent).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from cmsf_core import ActivityType, Settings, Severity
from cmsf_core.adapters.campaign_monitor.rows import subscriber_row
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.records import PersonKind
from cmsf_core.domain.subscribers import (
    LIST_ADD_REFUSED,
    CommandResult,
    Consent,
    DuplicateEmail,
    ImportRow,
    ImportStatus,
    ImportSubscribers,
    ListMembership,
    MarkDeleted,
    OptedOutError,
    OptOutChange,
    Person,
    PlatformCommand,
    RecordChange,
    RecordKind,
    SubscriberImport,
    SubscriberState,
    Unsubscribe,
)
from cmsf_core.shell.subscriber_sync import handle_account_changes, run_import
from cmsf_core.shell.sync import add_to_list, handle_record_changes, run_sync

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
    """An in-memory platform that counts the emails whose lists are read, and the lists
    whose subscribers are read."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lists_read: list[str] = []
        self.subscribers_read: list[str] = []

    def lists_for_email(self, client_id: str, email: str) -> Sequence[ListMembership]:
        self.lists_read.append(email)
        return super().lists_for_email(client_id, email)

    def list_subscribers(self, client_id: str, list_id: str) -> Mapping[str, SubscriberState]:
        self.subscribers_read.append(list_id)
        return super().list_subscribers(client_id, list_id)


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


def test_an_added_rows_mobile_number_arrives_in_e164_with_its_consents() -> None:
    """With SMS on, a CRM row's "(555) 555-1234" is sent as +15555551234, with the consents."""
    platform = platform_with_newsletter()
    platform.add_list(CLIENT, NEWS)
    sms = settings(sms_enabled=True, sms_country="United States of America")
    row = ImportRow(
        ANN, mobile_number="(555) 555-1234", consent_to_track=True, consent_to_send_sms="No"
    )

    result = add_to_list(platform, CLIENT, NEWS, contact("003A", ANN), sms, subscriber=row)

    assert result.ok
    (sent,) = imported_rows(platform)
    assert (sent.mobile_number, sent.consent_to_track, sent.consent_to_send_sms) == (
        "+15555551234",
        Consent.YES,
        Consent.NO,
    )


def test_an_added_row_carries_nothing_sms_with_sms_off() -> None:
    """With SMS off, neither the mobile number nor the SMS consent of a ready row is sent."""
    platform = platform_with_newsletter()
    platform.add_list(CLIENT, NEWS)
    row = SubscriberImport(
        ANN, mobile_number="+15555551234", consent_to_track="Yes", consent_to_send_sms="Yes"
    )

    add_to_list(platform, CLIENT, NEWS, contact("003A", ANN), settings(), subscriber=row)

    (sent,) = imported_rows(platform)
    assert subscriber_row(sent) == {
        "EmailAddress": ANN,
        "Name": "",
        "CustomFields": [],
        "ConsentToTrack": "Yes",
    }


def test_a_list_add_row_for_another_email_is_refused_before_anything_is_sent() -> None:
    """The row sent must be the person's: another email is refused, masked."""
    platform = platform_with_newsletter()
    platform.add_list(CLIENT, NEWS)

    with pytest.raises(InvalidValueError, match=r"subscriber\.email") as refused:
        add_to_list(
            platform, CLIENT, NEWS, contact("003A", ANN), settings(), subscriber=ImportRow(BOB)
        )

    assert BOB not in str(refused.value)
    assert platform.executed == []


def test_a_list_add_row_of_the_wrong_type_is_refused() -> None:
    """A row that is neither an ImportRow nor a SubscriberImport names the argument."""
    platform = platform_with_newsletter()
    platform.add_list(CLIENT, NEWS)

    with pytest.raises(InvalidTypeError, match="subscriber"):
        add_to_list(
            platform,
            CLIENT,
            NEWS,
            contact("003A", ANN),
            settings(),
            subscriber={"EmailAddress": ANN},  # type: ignore[arg-type]
        )


# ----------------------------------------------------------------------------- import wizard

CAROL = "carol@example.com"
DAN = "dan@example.com"
EVE = "eve@example.com"
FAY = "fay@example.com"


def imported_rows(platform: InMemoryPlatform) -> list[SubscriberImport]:
    """Every row of every import the platform executed, in order."""
    return [
        row
        for _client, command in platform.executed
        if isinstance(command, ImportSubscribers)
        for row in command.subscribers
    ]


def imports(platform: InMemoryPlatform) -> list[ImportSubscribers]:
    return [c for _client, c in platform.executed if isinstance(c, ImportSubscribers)]


def newsletter_list(**members: SubscriberState) -> CountingPlatform:
    """The newsletter list holding ``members`` (a keyword per local part)."""
    platform = platform_with_newsletter()
    platform.add_list(CLIENT, NEWS, "Newsletter")
    for name, state in members.items():
        platform.set_membership(CLIENT, NEWS, f"{name}@example.com", state, at=SENT_AT)
    return platform


def states(platform: InMemoryPlatform, *emails: str) -> list[SubscriberState | None]:
    return [platform.state(CLIENT, NEWS, email) for email in emails]


def test_resubscribe_deleted_resubscribes_only_the_deleted() -> None:
    """An "Add, Update, Resubscribe Deleted" run with the setting on: the Deleted one is
    Active again; Unsubscribed, Bounced and Suppressed ones stay as they are."""
    platform = newsletter_list(ann=S.DELETED, bob=S.UNSUBSCRIBED, carol=S.BOUNCED, eve=S.DELETED)
    platform.add_suppressed(CLIENT, EVE, "Unsubscribed", SENT_AT)
    rows = [ImportRow(e) for e in (ANN, BOB, CAROL, EVE, FAY)]
    on = settings(resubscribe_deleted_via_import_wizard=True)

    report = run_import(
        platform, CLIENT, NEWS, rows, on, refresh_type="Add, Update, Resubscribe Deleted"
    )

    assert report.ok
    assert states(platform, ANN, BOB, CAROL, EVE, FAY) == [
        S.ACTIVE,
        S.UNSUBSCRIBED,
        S.BOUNCED,
        S.DELETED,
        S.ACTIVE,
    ]
    assert {o.email: o.status for o in report.outcomes} == {
        ANN: ImportStatus.RESUBSCRIBED,
        BOB: ImportStatus.KEPT_INACTIVE,
        CAROL: ImportStatus.KEPT_INACTIVE,
        EVE: ImportStatus.KEPT_INACTIVE,
        FAY: ImportStatus.IMPORTED,
    }
    (revive,) = [c for c in imports(platform) if c.resubscribe]
    assert [r.email for r in revive.subscribers] == [ANN]


def test_resubscribe_deleted_needs_the_setting() -> None:
    """With "re-subscribe deleted subscribers via import wizard" off, Deleted stays Deleted."""
    platform = newsletter_list(ann=S.DELETED)

    report = run_import(
        platform,
        CLIENT,
        NEWS,
        [ImportRow(ANN)],
        settings(),
        refresh_type="Add, Update, Resubscribe Deleted",
    )

    assert states(platform, ANN) == [S.DELETED]
    assert not any(c.resubscribe for c in imports(platform))
    assert [o.status for o in report.outcomes] == [ImportStatus.KEPT_INACTIVE]


def test_add_update_remove_removes_the_receiving_subscribers_the_import_leaves_out() -> None:
    """An "Add, Update, Remove" run: Active and Unconfirmed subscribers it leaves out become
    Deleted; an Unsubscribed one is left as it is."""
    platform = newsletter_list(ann=S.ACTIVE, bob=S.UNCONFIRMED, carol=S.UNSUBSCRIBED, dan=S.ACTIVE)

    report = run_import(
        platform, CLIENT, NEWS, [ImportRow(DAN)], settings(), refresh_type="Add, Update, Remove"
    )

    assert report.ok
    assert set(report.removed) == {ANN, BOB}
    assert states(platform, ANN, BOB, CAROL, DAN) == [
        S.DELETED,
        S.DELETED,
        S.UNSUBSCRIBED,
        S.ACTIVE,
    ]


def test_add_update_leaves_subscribers_missing_from_the_import_alone() -> None:
    """An "Add, Update" run adds and updates; nobody is removed."""
    platform = newsletter_list(ann=S.ACTIVE)

    report = run_import(
        platform, CLIENT, NEWS, [ImportRow(BOB)], settings(), refresh_type="Add, Update"
    )

    assert report.removed == ()
    assert states(platform, ANN, BOB) == [S.ACTIVE, S.ACTIVE]


@pytest.mark.parametrize("journeys", [True, False])
def test_joins_a_list_journeys_follow_the_setting(journeys: bool) -> None:
    """The setting queues journeys on every import and restarts them on the resubscribing one."""
    platform = newsletter_list(ann=S.DELETED)
    on = settings(
        resubscribe_deleted_via_import_wizard=True, trigger_joins_a_list_journeys=journeys
    )

    run_import(
        platform,
        CLIENT,
        NEWS,
        [ImportRow(ANN), ImportRow(BOB)],
        on,
        refresh_type="Add, Update, Resubscribe Deleted",
    )

    flags = {
        (
            c.resubscribe,
            c.queue_subscription_based_autoresponders,
            c.restart_subscription_based_autoresponders,
        )
        for c in imports(platform)
    }
    assert flags == {(False, journeys, False), (True, journeys, journeys)}


def test_an_opted_out_contact_is_refused_with_the_products_message() -> None:
    """With "prevent" on, an opted-out record's row is not sent; the report carries the
    product's message; an "Add, Update, Remove" run does not remove it either."""
    platform = newsletter_list(ann=S.ACTIVE)
    people = [contact("003A", ANN, opted_out=True), contact("003B", BOB)]
    rows = [ImportRow(ANN, record_id="003A"), ImportRow(BOB, record_id="003B")]
    prevent = settings(prevent_opted_out_list_add=True)

    report = run_import(
        platform, CLIENT, NEWS, rows, prevent, refresh_type="Add, Update, Remove", people=people
    )

    (refused,) = report.refused
    assert (refused.record_id, refused.kind, refused.email) == ("003A", RecordKind.CONTACT, ANN)
    assert refused.message == LIST_ADD_REFUSED.format(kind="contact")
    assert ANN not in repr(refused)
    assert [r.email for r in imported_rows(platform)] == [BOB]
    assert report.removed == ()
    assert states(platform, ANN, BOB) == [S.ACTIVE, S.ACTIVE]


def test_an_opted_out_lead_from_the_crm_is_refused_as_a_lead() -> None:
    """The CRM's own records are accepted as ``people``; a lead's message names a lead."""
    platform = newsletter_list()
    crm = InMemoryCrm()
    lead = crm.add_person(ANN, person_id="00QA", kind=PersonKind.LEAD, email_opt_out=True)

    report = run_import(
        platform,
        CLIENT,
        NEWS,
        [ImportRow(ANN, record_id="00QA")],
        settings(prevent_opted_out_list_add=True),
        refresh_type="Add, Update",
        people=[lead],
    )

    assert [r.message for r in report.refused] == [LIST_ADD_REFUSED.format(kind="lead")]
    assert platform.executed == []


def test_opted_out_rows_are_sent_with_the_prevent_setting_off() -> None:
    """The refusal needs the setting: with it off, an opted-out record's row is imported."""
    platform = newsletter_list()

    report = run_import(
        platform,
        CLIENT,
        NEWS,
        [ImportRow(ANN, record_id="003A")],
        settings(),
        refresh_type="Add, Update",
        people=[contact("003A", ANN, opted_out=True)],
    )

    assert report.refused == ()
    assert states(platform, ANN) == [S.ACTIVE]


def test_a_bad_phone_number_refuses_the_whole_run_with_nothing_read_or_sent() -> None:
    """One invalid mobile number: an error naming the row, and the platform untouched."""
    platform = newsletter_list(ann=S.ACTIVE)
    rows = [
        ImportRow(ANN, mobile_number="(555) 555-1234"),
        ImportRow(BOB, mobile_number="555-CALL-NOW"),
    ]
    sms = settings(sms_enabled=True, sms_country="US")

    with pytest.raises(InvalidValueError, match=r"rows\[1\]\.mobile_number"):
        run_import(platform, CLIENT, NEWS, rows, sms, refresh_type="Add, Update")

    assert platform.executed == []
    assert platform.subscribers_read == []
    assert states(platform, ANN, BOB) == [S.ACTIVE, None]


def test_import_numbers_arrive_in_e164_and_consents_as_given() -> None:
    """With SMS on, numbers are sent in E.164 for the SMS country, with both consents."""
    platform = newsletter_list()
    rows = [
        ImportRow(ANN, mobile_number="(555) 555-1234", consent_to_send_sms=True),
        ImportRow(BOB, mobile_number="+44 7700 900123", consent_to_track="No"),
        ImportRow(CAROL),
    ]
    sms = settings(sms_enabled=True, sms_country="United States of America")

    run_import(platform, CLIENT, NEWS, rows, sms, refresh_type="Add, Update")

    sent = {r.email: r for r in imported_rows(platform)}
    assert subscriber_row(sent[ANN])["MobileNumber"] == "+15555551234"
    assert sent[ANN].consent_to_send_sms is Consent.YES
    assert (sent[BOB].mobile_number, sent[BOB].consent_to_track) == ("+447700900123", Consent.NO)
    assert "MobileNumber" not in subscriber_row(sent[CAROL])


def test_an_import_carries_nothing_sms_with_sms_off() -> None:
    """With SMS off, no mobile number and no SMS consent reach the platform."""
    platform = newsletter_list()
    rows = [ImportRow(ANN, mobile_number="not a number", consent_to_send_sms=True)]

    run_import(platform, CLIENT, NEWS, rows, settings(), refresh_type="Add, Update")

    (sent,) = imported_rows(platform)
    assert not {"MobileNumber", "ConsentToSendSms"} & set(subscriber_row(sent))


def test_a_dry_run_plans_the_import_and_sends_nothing() -> None:
    """dry_run reads the list and plans; nothing is executed."""
    platform = newsletter_list(ann=S.DELETED)

    report = run_import(
        platform,
        CLIENT,
        NEWS,
        [ImportRow(ANN), ImportRow(BOB)],
        settings(resubscribe_deleted_via_import_wizard=True),
        refresh_type="Add, Update, Resubscribe Deleted",
        dry_run=True,
    )

    assert [c.resubscribe for c in report.plan.imports] == [False, True]
    assert (report.results, report.outcomes) == ((), ())
    assert platform.executed == []


def test_an_import_into_another_clients_list_is_refused_before_anything_is_sent() -> None:
    """A list the client does not have is an error from the read; no command is sent."""
    platform = newsletter_list()
    platform.add_client("client-other", "Other")
    platform.add_list("client-other", "list-other")

    with pytest.raises(InvalidValueError, match="list_id"):
        run_import(
            platform, CLIENT, "list-other", [ImportRow(ANN)], settings(), refresh_type="Add, Update"
        )

    assert platform.executed == []


class RefusingPlatform(InMemoryPlatform):
    """A platform that refuses every command outright (no import result)."""

    def execute(
        self, client_id: str, commands: Sequence[PlatformCommand]
    ) -> Sequence[CommandResult]:
        self.executed.extend((client_id, c) for c in commands)
        return [CommandResult(c, False, "[101] Invalid ListID") for c in commands]


def test_an_import_refused_as_a_whole_fails_every_row() -> None:
    """A command the platform refuses outright gives each of its rows a FAILED outcome."""
    platform = RefusingPlatform()
    platform.add_client(CLIENT, "Acme")
    platform.add_list(CLIENT, NEWS)

    report = run_import(
        platform,
        CLIENT,
        NEWS,
        [ImportRow(ANN), ImportRow(BOB)],
        settings(),
        refresh_type="Add, Update",
    )

    assert not report.ok
    assert [(f.email, f.status, f.message) for f in report.failures] == [
        (ANN, ImportStatus.FAILED, "[101] Invalid ListID"),
        (BOB, ImportStatus.FAILED, "[101] Invalid ListID"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"client_id": " "}, "client_id"),
        ({"list_id": ""}, "list_id"),
        ({"rows": "ann@example.com"}, "rows"),
        ({"rows": [ANN]}, r"rows\[0\]"),
        ({"people": ["003A"]}, r"people\[0\]"),
        ({"settings": {}}, "settings"),
        ({"refresh_type": "Add, Delete"}, "refresh_type"),
    ],
)
def test_bad_import_arguments_are_refused_naming_the_field(
    kwargs: dict[str, Any], field: str
) -> None:
    """Every argument is checked before the platform is read."""
    platform = newsletter_list()
    arguments: dict[str, Any] = {
        "client_id": CLIENT,
        "list_id": NEWS,
        "rows": [ImportRow(ANN)],
        "settings": settings(),
        "refresh_type": "Add, Update",
        **kwargs,
    }

    with pytest.raises((InvalidValueError, InvalidTypeError), match=field):
        run_import(platform, **arguments)

    assert platform.executed == []


# ----------------------------------------------------------------------------- account trigger

ACME = "001-acme"
GLOBEX = "001-globex"
INDUSTRY = {ACME: "Retail", GLOBEX: "Energy"}


def industry_row(person: Person) -> ImportRow:
    """A field mapping that reads an Account field: the contact's account's industry."""
    assert person.email is not None
    return ImportRow(
        person.email,
        name=person.record_id,
        custom_fields={"Industry": INDUSTRY.get(person.account_id or "", "")},
    )


def accounts_crm() -> InMemoryCrm:
    """Acme has Ann and Bob, Globex has Carol; Dan is a lead, Eve a contact of no account."""
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A", account_id=ACME)
    crm.add_person(BOB, person_id="003B", account_id=ACME)
    crm.add_person(CAROL, person_id="003C", account_id=GLOBEX)
    crm.add_person(DAN, person_id="00QD", kind=PersonKind.LEAD)
    crm.add_person(EVE, person_id="003E")
    return crm


def accounts_platform() -> CountingPlatform:
    """Everyone receives the newsletter (Bob unconfirmed); Ann unsubscribed from offers."""
    platform = newsletter_list(ann=S.ACTIVE, bob=S.UNCONFIRMED, carol=S.ACTIVE, dan=S.ACTIVE)
    platform.set_membership(CLIENT, NEWS, EVE, S.ACTIVE, at=SENT_AT)
    platform.set_membership(CLIENT, OFFERS, ANN, S.UNSUBSCRIBED, at=SENT_AT)
    return platform


ACCOUNT_ON = {"enable_account_trigger": True}


def test_an_account_change_resends_its_contacts_rows_to_the_lists_they_receive_on() -> None:
    """Acme changed: Ann's and Bob's rows, with the Account field mapped, go to the
    newsletter (Active, Unconfirmed); nothing goes to the list Ann unsubscribed from."""
    crm, platform = accounts_crm(), accounts_platform()

    report = handle_account_changes(
        crm, platform, CLIENT, [ACME], settings(**ACCOUNT_ON), subscriber_row=industry_row
    )

    assert report.ok
    assert [p.record_id for p in report.reached] == ["003A", "003B"]
    (command,) = report.commands
    assert (command.list_id, command.resubscribe) == (NEWS, False)
    assert not command.queue_subscription_based_autoresponders
    assert [(r.email, dict(r.custom_fields)) for r in command.subscribers] == [
        (ANN, {"Industry": "Retail"}),
        (BOB, {"Industry": "Retail"}),
    ]
    assert [o.status for o in report.outcomes] == [ImportStatus.IMPORTED] * 2
    assert platform.state(CLIENT, OFFERS, ANN) is S.UNSUBSCRIBED
    assert states(platform, ANN, BOB) == [S.ACTIVE, S.UNCONFIRMED]


def test_the_fan_out_reaches_exactly_the_accounts_contacts() -> None:
    """A batch of two accounts reaches their three contacts: never the lead or Eve."""
    crm, platform = accounts_crm(), accounts_platform()

    report = handle_account_changes(
        crm, platform, CLIENT, [ACME, GLOBEX], settings(**ACCOUNT_ON), subscriber_row=industry_row
    )

    assert [p.record_id for p in report.reached] == ["003A", "003B", "003C"]
    assert {r.email for r in imported_rows(platform)} == {ANN, BOB, CAROL}
    assert report.accounts == (ACME, GLOBEX)
    assert report.skipped == ()


def test_with_bulk_triggers_disabled_only_the_first_account_is_processed() -> None:
    """Bulk triggers disabled: the batch's first account, all of its contacts."""
    crm, platform = accounts_crm(), accounts_platform()
    bulk_off = settings(disable_bulk_triggers=True, **ACCOUNT_ON)

    report = handle_account_changes(
        crm, platform, CLIENT, [GLOBEX, ACME], bulk_off, subscriber_row=industry_row
    )

    assert (report.accounts, report.skipped) == ((GLOBEX,), (ACME,))
    assert [p.record_id for p in report.reached] == ["003C"]
    assert [r.email for r in imported_rows(platform)] == [CAROL]


class CountingCrm(InMemoryCrm):
    """An in-memory CRM that records the accounts whose contacts are read."""

    def __init__(self) -> None:
        super().__init__()
        self.accounts_read: list[str] = []

    def contacts_of_accounts(self, account_ids: Collection[str]) -> Mapping[str, tuple[Any, ...]]:
        self.accounts_read.extend(account_ids)
        return super().contacts_of_accounts(account_ids)


@pytest.mark.parametrize(
    "changes",
    [
        {"enable_account_trigger": False},
        {"enable_account_trigger": True, "disable_triggers": True},
    ],
    ids=["account trigger off", "triggers disabled"],
)
def test_no_contact_is_reached_without_the_account_trigger(changes: dict[str, bool]) -> None:
    """Account trigger off, or triggers disabled: nothing is read, nothing is sent."""
    crm = CountingCrm()
    crm.add_person(ANN, person_id="003A", account_id=ACME)
    platform = accounts_platform()

    report = handle_account_changes(
        crm, platform, CLIENT, [ACME], settings(**changes), subscriber_row=industry_row
    )

    assert (report.accounts, report.skipped, report.reached) == ((), (ACME,), ())
    assert crm.accounts_read == []
    assert platform.lists_read == []
    assert platform.executed == []


def test_an_opted_out_contact_is_not_sent_with_prevent_on() -> None:
    """The account's opted-out contact is reported with the product's message, not sent."""
    crm, platform = accounts_crm(), accounts_platform()
    crm.add_person(BOB, person_id="003B", account_id=ACME, email_opt_out=True)
    prevent = settings(prevent_opted_out_list_add=True, **ACCOUNT_ON)

    report = handle_account_changes(
        crm, platform, CLIENT, [ACME], prevent, subscriber_row=industry_row
    )

    assert [(r.record_id, r.message) for r in report.refused] == [
        ("003B", LIST_ADD_REFUSED.format(kind="contact"))
    ]
    assert [r.email for r in imported_rows(platform)] == [ANN]
    assert platform.lists_read == [ANN]


def test_the_fan_out_never_adds_or_resubscribes() -> None:
    """A contact on no list, or only Deleted or Bounced, is sent nowhere."""
    crm = InMemoryCrm()
    crm.add_person(ANN, person_id="003A", account_id=ACME)
    crm.add_person(BOB, person_id="003B", account_id=ACME)
    crm.add_person(FAY, person_id="003F", account_id=ACME)
    platform = newsletter_list(ann=S.DELETED, bob=S.BOUNCED)

    report = handle_account_changes(
        crm, platform, CLIENT, [ACME], settings(**ACCOUNT_ON), subscriber_row=industry_row
    )

    assert len(report.reached) == 3
    assert report.commands == ()
    assert platform.executed == []
    assert states(platform, ANN, BOB, FAY) == [S.DELETED, S.BOUNCED, None]


def test_the_fan_out_sends_numbers_in_e164_and_the_consents() -> None:
    """With SMS on, each contact's mapped number and consents arrive as for an import."""
    crm, platform = accounts_crm(), accounts_platform()
    sms = settings(sms_enabled=True, sms_country="US", **ACCOUNT_ON)

    def mapped(person: Person) -> ImportRow:
        return ImportRow(
            person.email or "",
            mobile_number="(555) 555-1234",
            consent_to_track=True,
            consent_to_send_sms=person.record_id == "003A",
        )

    handle_account_changes(crm, platform, CLIENT, [ACME], sms, subscriber_row=mapped)

    assert [subscriber_row(r) for r in imported_rows(platform)] == [
        {
            "EmailAddress": ANN,
            "Name": "",
            "CustomFields": [],
            "ConsentToTrack": "Yes",
            "MobileNumber": "+15555551234",
            "ConsentToSendSms": "Yes",
        },
        {
            "EmailAddress": BOB,
            "Name": "",
            "CustomFields": [],
            "ConsentToTrack": "Yes",
            "MobileNumber": "+15555551234",
            "ConsentToSendSms": "No",
        },
    ]


def test_the_fan_out_sends_nothing_sms_with_sms_off() -> None:
    """With SMS off, the mapped number and SMS consent stay in the CRM."""
    crm, platform = accounts_crm(), accounts_platform()

    def mapped(person: Person) -> ImportRow:
        return ImportRow(person.email or "", mobile_number="x", consent_to_send_sms=True)

    handle_account_changes(
        crm, platform, CLIENT, [ACME], settings(**ACCOUNT_ON), subscriber_row=mapped
    )

    for row in imported_rows(platform):
        assert not {"MobileNumber", "ConsentToSendSms"} & set(subscriber_row(row))


def test_a_bad_number_in_one_contacts_row_refuses_the_whole_batch() -> None:
    """One contact's invalid number: an error naming the contact, nothing read or sent."""
    crm, platform = accounts_crm(), accounts_platform()
    sms = settings(sms_enabled=True, sms_country="US", **ACCOUNT_ON)

    def mapped(person: Person) -> ImportRow:
        number = "12" if person.record_id == "003B" else "(555) 555-1234"
        return ImportRow(person.email or "", mobile_number=number)

    with pytest.raises(InvalidValueError, match=r"subscriber_row\('003B'\)\.mobile_number"):
        handle_account_changes(crm, platform, CLIENT, [ACME], sms, subscriber_row=mapped)

    assert platform.lists_read == []
    assert platform.executed == []


def test_without_a_mapping_the_reached_contacts_are_only_reported() -> None:
    """No field mapping, nothing to re-evaluate: the report lists the contacts, no I/O."""
    crm, platform = accounts_crm(), accounts_platform()

    report = handle_account_changes(crm, platform, CLIENT, [ACME], settings(**ACCOUNT_ON))

    assert [p.record_id for p in report.reached] == ["003A", "003B"]
    assert (report.commands, platform.lists_read, platform.executed) == ((), [], [])


def test_a_dry_run_of_an_account_change_plans_and_sends_nothing() -> None:
    """dry_run reads the contacts' lists and returns the commands unsent."""
    crm, platform = accounts_crm(), accounts_platform()

    report = handle_account_changes(
        crm,
        platform,
        CLIENT,
        [ACME],
        settings(**ACCOUNT_ON),
        subscriber_row=industry_row,
        dry_run=True,
    )

    assert len(report.commands) == 1
    assert report.results == ()
    assert platform.executed == []


@pytest.mark.parametrize(
    ("mapping", "error", "field"),
    [
        (lambda p: {"EmailAddress": p.email}, InvalidTypeError, r"subscriber_row\('003A'\)"),
        (lambda _p: ImportRow(FAY), InvalidValueError, r"subscriber_row\('003A'\)\.email"),
    ],
    ids=["not a row", "another email"],
)
def test_a_mapping_that_gives_a_wrong_row_is_refused(
    mapping: Any, error: type[Exception], field: str
) -> None:
    """The mapped row must be an ImportRow for the contact's own email (shown masked)."""
    crm, platform = accounts_crm(), accounts_platform()

    with pytest.raises(error, match=field) as refused:
        handle_account_changes(
            crm, platform, CLIENT, [ACME], settings(**ACCOUNT_ON), subscriber_row=mapping
        )

    assert FAY not in str(refused.value)
    assert platform.executed == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"account_ids": ACME}, "account_ids"),
        ({"account_ids": [ACME, ""]}, r"account_ids\[1\]"),
        ({"client_id": ""}, "client_id"),
        ({"subscriber_row": "Industry"}, "subscriber_row"),
    ],
)
def test_bad_account_change_arguments_are_refused_naming_the_field(
    kwargs: dict[str, Any], field: str
) -> None:
    """Account ids, the client and the mapping are checked before the CRM is read."""
    arguments: dict[str, Any] = {
        "client_id": CLIENT,
        "account_ids": [ACME],
        "settings": settings(**ACCOUNT_ON),
        **kwargs,
    }

    with pytest.raises((InvalidValueError, InvalidTypeError), match=field):
        handle_account_changes(accounts_crm(), accounts_platform(), **arguments)


def test_a_ready_row_keeps_its_e164_number_and_sms_consent_with_sms_on() -> None:
    """With SMS on, a SubscriberImport already in E.164 is sent as it is."""
    platform = platform_with_newsletter()
    platform.add_list(CLIENT, NEWS)
    row = SubscriberImport(ANN, mobile_number="+447700900123", consent_to_send_sms="Yes")

    add_to_list(
        platform,
        CLIENT,
        NEWS,
        contact("003A", ANN),
        settings(sms_enabled=True, sms_country="GB"),
        subscriber=row,
    )

    assert imported_rows(platform) == [row]


@pytest.mark.parametrize(
    ("client_id", "given_settings", "field"),
    [(" ", Settings(), "client_id"), (CLIENT, {}, "settings")],
)
def test_a_trigger_batch_with_a_bad_client_or_settings_is_refused(
    client_id: str, given_settings: Any, field: str
) -> None:
    """handle_record_changes checks the client id and the settings before reading."""
    with pytest.raises((InvalidValueError, InvalidTypeError), match=field):
        handle_record_changes(
            InMemoryCrm(), two_lists(ANN), client_id, [tick_opt_out("003A", ANN)], given_settings
        )
