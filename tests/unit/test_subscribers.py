"""Subscribers and consent: the product's general options, one example at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from cmsf_core.adapters.campaign_monitor.rows import import_request, subscriber_row
from cmsf_core.domain import subscribers
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, UnknownChoiceError
from cmsf_core.domain.subscribers import (
    IMPORT_BATCH_SIZE,
    Consent,
    CreateSuppressionRecord,
    DuplicateEmail,
    ImportFailure,
    ImportOutcome,
    ImportRefreshType,
    ImportResult,
    ImportRow,
    ImportStatus,
    ImportSubscribers,
    ListChange,
    ListMembership,
    MarkDeleted,
    OptedOutError,
    OptOutChange,
    Person,
    RecordChange,
    RecordKind,
    RemoveSubscriber,
    RemoveSuppressionRecord,
    SubscriberImport,
    SubscriberState,
    SuppressedEmail,
    SuppressionRecord,
    Unsubscribe,
    UpdateSuppressionRecord,
    check_list_add,
    contacts_to_process,
    delete_on_record_delete,
    email_opt_out,
    import_outcomes,
    list_add_refusal,
    opt_out_changes,
    plan_account_changes,
    plan_email_opt_out,
    plan_import,
    plan_record_changes,
    plan_suppression_sync,
    records_to_process,
    run_on_list,
    to_subscriber_import,
    unsubscribes_for_opt_out,
)

S = SubscriberState
WHEN = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


def lists(*states: SubscriberState) -> list[ListMembership]:
    """Memberships of one email on lists L1, L2, ... in the given states."""
    return [ListMembership(f"L{i}", f"List {i}", s) for i, s in enumerate(states, 1)]


def contact(record_id: str = "003A", email: str | None = "ann@example.com", **kw: object) -> Person:
    """A contact."""
    return Person(record_id, RecordKind.CONTACT, email=email, **kw)  # type: ignore[arg-type]


def lead(record_id: str = "00QA", email: str | None = "ann@example.com", **kw: object) -> Person:
    """A lead."""
    return Person(record_id, RecordKind.LEAD, email=email, **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- states


@pytest.mark.parametrize("state", list(SubscriberState))
def test_subscriber_states_read_campaign_monitors_spellings_in_any_case(
    state: SubscriberState,
) -> None:
    """Active, Unsubscribed, Deleted, Bounced, Unconfirmed and Suppressed are read loosely."""
    assert SubscriberState.parse(state.value) is state
    assert SubscriberState.parse(f"  {state.value.upper()} ") is state


def test_an_unknown_subscriber_state_is_refused_listing_the_states() -> None:
    """An unknown state names the field and lists the accepted ones."""
    with pytest.raises(UnknownChoiceError, match="'state' must be one of 'Active'"):
        SubscriberState.parse("Paused")


def test_a_membership_refuses_a_naive_date() -> None:
    """Dates must carry a zone: the library never guesses one."""
    with pytest.raises(InvalidValueError, match="'date_added'"):
        ListMembership("L1", "N", S.ACTIVE, datetime(2024, 1, 1))


# ----------------------------------------------------------------------------- 1. opt out


def test_email_opt_out_is_true_when_unsubscribed_from_all_lists() -> None:
    """Unsubscribed from ALL Campaign Monitor lists -> Email Opt Out true."""
    assert email_opt_out(lists(S.UNSUBSCRIBED, S.UNSUBSCRIBED)) is True


def test_deleted_counts_as_unsubscribed_for_email_opt_out() -> None:
    """Every membership Unsubscribed or Deleted -> true."""
    assert email_opt_out(lists(S.UNSUBSCRIBED, S.DELETED)) is True
    assert email_opt_out([S.DELETED]) is True


def test_email_opt_out_is_false_when_active_on_at_least_one_list() -> None:
    """Active on at least one list -> Email Opt Out false, whatever the others are."""
    assert email_opt_out(lists(S.UNSUBSCRIBED, S.ACTIVE, S.BOUNCED)) is False


@pytest.mark.parametrize(
    "states",
    [(), (S.BOUNCED,), (S.UNCONFIRMED,), (S.UNSUBSCRIBED, S.BOUNCED), (S.DELETED, S.UNCONFIRMED)],
)
def test_email_opt_out_is_unchanged_otherwise(states: tuple[SubscriberState, ...]) -> None:
    """No list, or Bounced/Unconfirmed without any Active -> unchanged (None)."""
    assert email_opt_out(states) is None


def test_opt_out_sync_updates_every_contact_and_lead_with_the_email() -> None:
    """A contact and a lead sharing the email are both set to opted out."""
    plan = opt_out_changes(
        "ann@example.com",
        lists(S.UNSUBSCRIBED),
        [contact(), lead()],
        sync_email_opt_out=True,
    )
    assert plan.changes == (
        OptOutChange("003A", "ann@example.com", True),
        OptOutChange("00QA", "ann@example.com", True),
    )


def test_opt_out_sync_changes_only_records_whose_value_differs() -> None:
    """A record already opted out is not written again."""
    plan = opt_out_changes(
        "ann@example.com",
        lists(S.ACTIVE),
        [contact(email_opt_out=True), lead(email_opt_out=False)],
        sync_email_opt_out=True,
    )
    assert plan.changes == (OptOutChange("003A", "ann@example.com", False),)


def test_opt_out_sync_leaves_records_alone_when_the_rule_says_unchanged() -> None:
    """Only Bounced: neither value is written."""
    plan = opt_out_changes(
        "ann@example.com", lists(S.BOUNCED), [contact(email_opt_out=True)], sync_email_opt_out=True
    )
    assert plan.changes == ()


def test_opt_out_sync_reports_several_records_with_one_email_as_duplicates() -> None:
    """Duplicates (several records, one email) are reported with their record ids."""
    plan = opt_out_changes(
        "ann@example.com", lists(S.ACTIVE), [contact(), lead()], sync_email_opt_out=True
    )
    assert plan.duplicates == (DuplicateEmail("ann@example.com", ("003A", "00QA")),)


def test_opt_out_sync_changes_nothing_when_the_setting_is_off() -> None:
    """Setting off: the Email Opt Out field is never changed."""
    plan = opt_out_changes(
        "ann@example.com", lists(S.UNSUBSCRIBED), [contact(), lead()], sync_email_opt_out=False
    )
    assert plan.changes == ()
    assert plan.duplicates == ()


def test_opt_out_sync_compares_emails_without_regard_to_case() -> None:
    """Ann@Example.com and ann@example.com are one email."""
    plan = opt_out_changes(
        "ANN@example.com",
        lists(S.DELETED),
        [contact(email="Ann@Example.com ")],
        sync_email_opt_out=True,
    )
    assert plan.changes == (OptOutChange("003A", "Ann@Example.com", True),)


def test_opt_out_sync_refuses_a_record_with_another_email() -> None:
    """A record whose email is not the one synced is a caller error."""
    with pytest.raises(InvalidValueError, match="'records'"):
        opt_out_changes(
            "ann@example.com", [], [contact(email="bob@example.com")], sync_email_opt_out=True
        )


def test_the_opt_out_plan_covers_every_email_and_leaves_others_alone() -> None:
    """Emails are planned one by one; records with other emails are untouched."""
    plan = plan_email_opt_out(
        {"ann@example.com": lists(S.UNSUBSCRIBED), "BOB@example.com": lists(S.ACTIVE)},
        [
            contact("003A"),
            contact("003B", "bob@example.com", email_opt_out=True),
            contact("003C", "cy@example.com", email_opt_out=True),
            contact("003D", None),
        ],
        sync_email_opt_out=True,
    )
    assert plan.changes == (
        OptOutChange("003A", "ann@example.com", True),
        OptOutChange("003B", "bob@example.com", False),
    )


def test_the_opt_out_plan_merges_emails_that_differ_only_in_case() -> None:
    """Two keys for one email are one email with all their lists."""
    plan = plan_email_opt_out(
        {"ann@example.com": lists(S.UNSUBSCRIBED), "Ann@Example.com": [S.ACTIVE]},
        [contact(email_opt_out=True)],
        sync_email_opt_out=True,
    )
    assert plan.changes == (OptOutChange("003A", "ann@example.com", False),)


def test_the_opt_out_plan_is_empty_when_the_setting_is_off() -> None:
    """Setting off: no changes, no report."""
    plan = plan_email_opt_out(
        {"ann@example.com": lists(S.UNSUBSCRIBED)}, [contact(), lead()], sync_email_opt_out=False
    )
    assert plan.changes == () == plan.duplicates


# ----------------------------------------------------------------------------- 2. list adds


def test_an_opted_out_contact_cannot_be_added_to_a_subscriber_list() -> None:
    """The user sees that the contact cannot be added to a subscriber list."""
    message = list_add_refusal(contact(email_opt_out=True), prevent_opted_out_list_add=True)
    assert message is not None
    assert "contact cannot be added to a subscriber list" in message


def test_adding_an_opted_out_lead_raises_the_products_message() -> None:
    """check_list_add raises OptedOutError (a ValueError) naming the lead."""
    with pytest.raises(OptedOutError, match="lead cannot be added to a subscriber list") as info:
        check_list_add(lead(email_opt_out=True), prevent_opted_out_list_add=True)
    assert isinstance(info.value, ValueError)
    assert info.value.record_id == "00QA"
    assert "ann@example.com" not in str(info.value)


def test_a_contact_without_email_opt_out_can_be_added() -> None:
    """Opt-out unchecked: the add goes ahead."""
    assert list_add_refusal(contact(), prevent_opted_out_list_add=True) is None
    check_list_add(contact(), prevent_opted_out_list_add=True)


def test_opted_out_records_can_be_added_when_the_setting_is_off() -> None:
    """Setting off: opt-out does not block adds."""
    assert list_add_refusal(contact(email_opt_out=True), prevent_opted_out_list_add=False) is None


def test_preventing_list_adds_is_not_retrospective() -> None:
    """Ticking opt-out with only the prevent setting on removes nobody from a list."""
    change = RecordChange(contact(), contact(email_opt_out=True))
    plan = plan_record_changes(
        [change],
        {"ann@example.com": lists(S.ACTIVE, S.ACTIVE)},
        disable_triggers=False,
        disable_bulk_triggers=False,
        unsubscribe_on_opt_out=False,
        delete_subscriber_on_record_delete=False,
    )
    assert plan.commands == ()
    assert list_add_refusal(change.record, prevent_opted_out_list_add=True) is not None


# ----------------------------------------------------------------------------- 3. unsubscribe


def test_ticking_email_opt_out_unsubscribes_from_all_associated_lists() -> None:
    """Unchecked -> checked: one Unsubscribe per list of the email."""
    change = RecordChange(contact(), contact(email_opt_out=True))
    commands = unsubscribes_for_opt_out(
        change, lists(S.ACTIVE, S.UNCONFIRMED, S.BOUNCED, S.DELETED), unsubscribe_on_opt_out=True
    )
    assert commands == tuple(Unsubscribe(f"L{i}", "ann@example.com") for i in range(1, 5))


def test_lists_already_unsubscribed_are_skipped() -> None:
    """No command for a list the email is already unsubscribed from."""
    change = RecordChange(contact(), contact(email_opt_out=True))
    commands = unsubscribes_for_opt_out(
        change, lists(S.UNSUBSCRIBED, S.ACTIVE), unsubscribe_on_opt_out=True
    )
    assert commands == (Unsubscribe("L2", "ann@example.com"),)


def test_an_opt_out_that_stays_checked_unsubscribes_nothing() -> None:
    """Only the change to checked acts, not every later edit."""
    change = RecordChange(contact(email_opt_out=True), contact(email_opt_out=True))
    assert unsubscribes_for_opt_out(change, lists(S.ACTIVE), unsubscribe_on_opt_out=True) == ()


def test_unticking_email_opt_out_unsubscribes_nothing() -> None:
    """Checked -> unchecked is not an opt-out."""
    change = RecordChange(contact(email_opt_out=True), contact())
    assert unsubscribes_for_opt_out(change, lists(S.ACTIVE), unsubscribe_on_opt_out=True) == ()


def test_a_record_inserted_with_opt_out_checked_is_unsubscribed() -> None:
    """An insert with the box ticked counts as ticking it."""
    change = RecordChange(None, lead(email_opt_out=True))
    commands = unsubscribes_for_opt_out(change, lists(S.ACTIVE), unsubscribe_on_opt_out=True)
    assert commands == (Unsubscribe("L1", "ann@example.com"),)


def test_no_unsubscribe_when_the_setting_is_off() -> None:
    """Setting off: ticking the box sends nothing to the platform."""
    change = RecordChange(contact(), contact(email_opt_out=True))
    assert unsubscribes_for_opt_out(change, lists(S.ACTIVE), unsubscribe_on_opt_out=False) == ()


def test_a_record_without_email_is_unsubscribed_from_nothing() -> None:
    """No email, no subscriber."""
    change = RecordChange(contact(email=None), contact(email=None, email_opt_out=True))
    assert unsubscribes_for_opt_out(change, lists(S.ACTIVE), unsubscribe_on_opt_out=True) == ()


# ----------------------------------------------------------------------------- 4. delete


def test_deleting_a_contact_sets_the_subscriber_deleted_on_all_lists() -> None:
    """A deleted contact's subscriber becomes Deleted on every list it receives on."""
    commands = delete_on_record_delete(
        contact(), lists(S.ACTIVE, S.UNCONFIRMED), delete_subscriber_on_record_delete=True
    )
    assert commands == (MarkDeleted("L1", "ann@example.com"), MarkDeleted("L2", "ann@example.com"))


def test_deleting_leaves_unsubscribed_and_bounced_subscribers_as_they_are() -> None:
    """Unsubscribed, Bounced and Deleted memberships are not moved to Deleted."""
    commands = delete_on_record_delete(
        lead(),
        lists(S.UNSUBSCRIBED, S.BOUNCED, S.DELETED, S.ACTIVE),
        delete_subscriber_on_record_delete=True,
    )
    assert commands == (MarkDeleted("L4", "ann@example.com"),)


def test_deleting_does_nothing_when_the_setting_is_off() -> None:
    """Setting off: the platform is untouched."""
    assert (
        delete_on_record_delete(
            contact(), lists(S.ACTIVE), delete_subscriber_on_record_delete=False
        )
        == ()
    )


def test_deleting_does_nothing_while_another_record_holds_the_email() -> None:
    """A lead with the same email still exists: its subscriber stays."""
    commands = delete_on_record_delete(
        contact(),
        lists(S.ACTIVE),
        delete_subscriber_on_record_delete=True,
        still_held_by=[contact(), lead(email="ANN@example.com")],
    )
    assert commands == ()


# ----------------------------------------------------------------------------- 6. triggers


def test_disabled_triggers_process_no_record() -> None:
    """Disabling triggers stops the application's work on the batch."""
    assert records_to_process([1, 2, 3], disable_triggers=True, disable_bulk_triggers=False) == ()


def test_disabled_bulk_triggers_process_only_the_first_modified_record() -> None:
    """Bulk triggers disabled: only the first modified record of the batch."""
    got = records_to_process(["a", "b", "c"], disable_triggers=False, disable_bulk_triggers=True)
    assert got == ("a",)


def test_enabled_triggers_process_the_whole_batch_in_order() -> None:
    """Triggers on: every record, in the order modified."""
    got = records_to_process(["a", "b"], disable_triggers=False, disable_bulk_triggers=False)
    assert got == ("a", "b")


def test_a_batch_must_be_a_sequence() -> None:
    """A string is not a batch of records."""
    with pytest.raises(InvalidTypeError, match="'batch'"):
        records_to_process("abc", disable_triggers=False, disable_bulk_triggers=False)


def _batch() -> list[RecordChange]:
    return [
        RecordChange(contact("003A"), contact("003A", email_opt_out=True)),
        RecordChange(contact("003B", "bob@example.com"), None),
    ]


def _memberships() -> dict[str, list[ListMembership]]:
    return {"ann@example.com": lists(S.ACTIVE), "bob@example.com": lists(S.ACTIVE)}


def test_disabled_triggers_stop_opt_out_handling_and_deletes() -> None:
    """Triggers disabled: no subscription rules, field mappings or opt-out handling."""
    plan = plan_record_changes(
        _batch(),
        _memberships(),
        disable_triggers=True,
        disable_bulk_triggers=False,
        unsubscribe_on_opt_out=True,
        delete_subscriber_on_record_delete=True,
    )
    assert plan.processed == ()
    assert plan.skipped == tuple(_batch())
    assert plan.commands == ()


def test_a_trigger_batch_unsubscribes_and_deletes() -> None:
    """Triggers on: the opt-out unsubscribes, the delete marks Deleted."""
    plan = plan_record_changes(
        _batch(),
        _memberships(),
        disable_triggers=False,
        disable_bulk_triggers=False,
        unsubscribe_on_opt_out=True,
        delete_subscriber_on_record_delete=True,
    )
    assert plan.processed == tuple(_batch())
    assert plan.commands == (
        Unsubscribe("L1", "ann@example.com"),
        MarkDeleted("L1", "bob@example.com"),
    )


def test_bulk_disabled_handles_only_the_first_change_of_the_batch() -> None:
    """Bulk triggers disabled: the second change is skipped, with its delete."""
    plan = plan_record_changes(
        _batch(),
        _memberships(),
        disable_triggers=False,
        disable_bulk_triggers=True,
        unsubscribe_on_opt_out=True,
        delete_subscriber_on_record_delete=True,
    )
    assert plan.processed == tuple(_batch()[:1])
    assert plan.skipped == tuple(_batch()[1:])
    assert plan.commands == (Unsubscribe("L1", "ann@example.com"),)


def test_a_deleted_records_email_held_by_a_surviving_record_is_kept() -> None:
    """A surviving lead with the deleted contact's email keeps the subscriber."""
    plan = plan_record_changes(
        _batch()[1:],
        _memberships(),
        disable_triggers=False,
        disable_bulk_triggers=False,
        unsubscribe_on_opt_out=True,
        delete_subscriber_on_record_delete=True,
        surviving=[lead("00QB", "bob@example.com")],
    )
    assert plan.commands == ()


def test_a_change_needs_a_record_and_one_record_id() -> None:
    """A change is of one record: before and after share its id."""
    with pytest.raises(InvalidValueError, match="'before'"):
        RecordChange(None, None)
    with pytest.raises(InvalidValueError, match=r"'after.record_id'"):
        RecordChange(contact("003A"), contact("003B"))


def test_an_account_change_fans_out_to_its_contacts() -> None:
    """Account trigger enabled: the account's contacts are processed, not others or leads."""
    people = [
        contact("003A", account_id="001X"),
        contact("003B", "bob@example.com", account_id="001Y"),
        contact("003C", "cy@example.com", account_id="001X"),
        lead("00QA"),
    ]
    got = contacts_to_process("001X", people, enable_account_trigger=True, disable_triggers=False)
    assert [p.record_id for p in got] == ["003A", "003C"]


def test_an_account_change_reaches_no_one_when_the_account_trigger_is_off() -> None:
    """Account trigger disabled (the default): an account edit does nothing."""
    people = [contact(account_id="001X")]
    assert (
        contacts_to_process("001X", people, enable_account_trigger=False, disable_triggers=False)
        == ()
    )


def test_disabled_triggers_stop_the_account_trigger_too() -> None:
    """Disabling all triggers wins over the account trigger."""
    people = [contact(account_id="001X")]
    assert (
        contacts_to_process("001X", people, enable_account_trigger=True, disable_triggers=True)
        == ()
    )


def test_an_account_batch_reaches_each_contact_once() -> None:
    """Several accounts in a batch: their contacts, each once, in order."""
    people = [contact("003A", account_id="001X"), contact("003B", account_id="001Y")]
    got = plan_account_changes(
        ["001X", "001Y", "001X"],
        people,
        enable_account_trigger=True,
        disable_triggers=False,
        disable_bulk_triggers=False,
    )
    assert [p.record_id for p in got] == ["003A", "003B"]


def test_bulk_disabled_account_batch_reaches_only_the_first_accounts_contacts() -> None:
    """Bulk triggers disabled: only the first modified account, all of its contacts."""
    people = [
        contact("003A", account_id="001X"),
        contact("003C", account_id="001X"),
        contact("003B", account_id="001Y"),
    ]
    got = plan_account_changes(
        ["001X", "001Y"],
        people,
        enable_account_trigger=True,
        disable_triggers=False,
        disable_bulk_triggers=True,
    )
    assert [p.record_id for p in got] == ["003A", "003C"]


# ----------------------------------------------------------------------------- 5. import wizard


@pytest.mark.parametrize(
    ("label", "refresh"),
    [
        ("Add, Update", ImportRefreshType.ADD_UPDATE),
        ("add,update", ImportRefreshType.ADD_UPDATE),
        ("Add, Update, Resubscribe Deleted", ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED),
        ("ADD_UPDATE_REMOVE", ImportRefreshType.ADD_UPDATE_REMOVE),
        (" add, update, remove ", ImportRefreshType.ADD_UPDATE_REMOVE),
    ],
)
def test_refresh_types_read_the_wizards_labels(label: str, refresh: ImportRefreshType) -> None:
    """The three refresh types are read by their labels or names."""
    assert ImportRefreshType.parse(label) is refresh


def test_an_unknown_refresh_type_is_refused() -> None:
    """Anything else lists the three choices."""
    with pytest.raises(UnknownChoiceError, match="'Add, Update, Remove'"):
        ImportRefreshType.parse("Replace")


def rows(*emails: str) -> list[ImportRow]:
    """Import rows for these emails."""
    return [ImportRow(e, name=e.split("@")[0].title()) for e in emails]


CURRENT = {
    "active@example.com": S.ACTIVE,
    "deleted@example.com": S.DELETED,
    "unsub@example.com": S.UNSUBSCRIBED,
    "bounced@example.com": S.BOUNCED,
    "pending@example.com": S.UNCONFIRMED,
}
EVERYONE = ("new@example.com", *CURRENT)


def test_add_update_imports_every_row_without_resubscribing() -> None:
    """Add, Update: one import with Resubscribe false; inactive subscribers stay inactive."""
    plan = plan_import(
        "L1",
        rows(*EVERYONE),
        CURRENT,
        refresh_type="Add, Update",
        resubscribe_deleted_via_import_wizard=True,
        trigger_joins_a_list_journeys=False,
    )
    (command,) = plan.imports
    assert command.resubscribe is False
    assert [s.email for s in command.subscribers] == list(EVERYONE)
    assert plan.kept_inactive == {
        "deleted@example.com": S.DELETED,
        "unsub@example.com": S.UNSUBSCRIBED,
        "bounced@example.com": S.BOUNCED,
    }
    assert plan.removals == ()


def test_resubscribe_deleted_resubscribes_only_deleted_subscribers() -> None:
    """Add, Update, Resubscribe Deleted + the setting: Deleted ones in their own import."""
    plan = plan_import(
        "L1",
        rows(*EVERYONE),
        CURRENT,
        refresh_type=ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED,
        resubscribe_deleted_via_import_wizard=True,
        trigger_joins_a_list_journeys=False,
    )
    plain, revive = plan.imports
    assert plain.resubscribe is False
    assert revive.resubscribe is True
    assert [s.email for s in revive.subscribers] == ["deleted@example.com"]
    assert "deleted@example.com" not in [s.email for s in plain.subscribers]


def test_resubscribing_deleted_needs_the_setting_as_well() -> None:
    """The refresh type alone does not resubscribe: the setting gates it."""
    plan = plan_import(
        "L1",
        rows(*EVERYONE),
        CURRENT,
        refresh_type=ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED,
        resubscribe_deleted_via_import_wizard=False,
        trigger_joins_a_list_journeys=False,
    )
    assert [c.resubscribe for c in plan.imports] == [False]
    assert plan.kept_inactive["deleted@example.com"] is S.DELETED


def test_unsubscribed_bounced_and_suppressed_are_never_resubscribed() -> None:
    """It does not re-enable unsubscribed subscribers, nor bounced or suppressed ones."""
    plan = plan_import(
        "L1",
        rows(*EVERYONE, "gone@example.com"),
        {**CURRENT, "gone@example.com": S.SUPPRESSED},
        refresh_type=ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED,
        resubscribe_deleted_via_import_wizard=True,
        trigger_joins_a_list_journeys=True,
    )
    resubscribed = {s.email for c in plan.imports if c.resubscribe for s in c.subscribers}
    assert resubscribed == {"deleted@example.com"}


def test_a_deleted_subscriber_on_the_suppression_list_is_not_resubscribed() -> None:
    """Deleted on the list but suppressed for the client: suppression wins."""
    plan = plan_import(
        "L1",
        rows("deleted@example.com"),
        CURRENT,
        refresh_type=ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED,
        resubscribe_deleted_via_import_wizard=True,
        trigger_joins_a_list_journeys=False,
        suppressed=["DELETED@example.com"],
    )
    assert [c.resubscribe for c in plan.imports] == [False]
    assert plan.kept_inactive == {"deleted@example.com": S.SUPPRESSED}


def test_add_update_remove_removes_receiving_subscribers_missing_from_the_import() -> None:
    """Add, Update, Remove: Active and Unconfirmed subscribers not imported are removed."""
    plan = plan_import(
        "L1",
        rows("new@example.com"),
        CURRENT,
        refresh_type=ImportRefreshType.ADD_UPDATE_REMOVE,
        resubscribe_deleted_via_import_wizard=True,
        trigger_joins_a_list_journeys=False,
    )
    assert plan.removals == (
        RemoveSubscriber("L1", "active@example.com"),
        RemoveSubscriber("L1", "pending@example.com"),
    )
    assert plan.commands == (*plan.imports, *plan.removals)


def test_add_update_remove_keeps_imported_subscribers_and_never_resubscribes() -> None:
    """Subscribers in the import stay; Remove does not resubscribe Deleted ones."""
    plan = plan_import(
        "L1",
        rows("ACTIVE@example.com", "deleted@example.com"),
        CURRENT,
        refresh_type=ImportRefreshType.ADD_UPDATE_REMOVE,
        resubscribe_deleted_via_import_wizard=True,
        trigger_joins_a_list_journeys=False,
    )
    assert plan.removals == (RemoveSubscriber("L1", "pending@example.com"),)
    assert [c.resubscribe for c in plan.imports] == [False]


def test_trigger_journeys_queues_autoresponders_and_restarts_them_on_resubscribe() -> None:
    """Journeys on: Queue... on every import, Restart... on the resubscribing one only."""
    plan = plan_import(
        "L1",
        rows(*EVERYONE),
        CURRENT,
        refresh_type=ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED,
        resubscribe_deleted_via_import_wizard=True,
        trigger_joins_a_list_journeys=True,
    )
    flags = [
        (
            c.resubscribe,
            c.queue_subscription_based_autoresponders,
            c.restart_subscription_based_autoresponders,
        )
        for c in plan.imports
    ]
    assert flags == [(False, True, False), (True, True, True)]


def test_journeys_are_not_triggered_when_the_setting_is_off() -> None:
    """Journeys off: neither autoresponder flag is set."""
    plan = plan_import(
        "L1",
        rows(*EVERYONE),
        CURRENT,
        refresh_type=ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED,
        resubscribe_deleted_via_import_wizard=True,
        trigger_joins_a_list_journeys=False,
    )
    assert not any(
        c.queue_subscription_based_autoresponders or c.restart_subscription_based_autoresponders
        for c in plan.imports
    )


def test_the_import_request_uses_campaign_monitors_field_names() -> None:
    """The body is keyed Subscribers, Resubscribe, QueueSubscriptionBasedAutoresponders, ..."""
    command = ImportSubscribers(
        "L1",
        [
            SubscriberImport(
                "ann@example.com",
                "Ann",
                {"City": "Sydney"},
                "+61412345678",
                Consent.YES,
                Consent.NO,
            )
        ],
        resubscribe=False,
        queue_subscription_based_autoresponders=True,
    )
    assert import_request(command) == {
        "Subscribers": [
            {
                "EmailAddress": "ann@example.com",
                "Name": "Ann",
                "CustomFields": [{"Key": "City", "Value": "Sydney"}],
                "MobileNumber": "+61412345678",
                "ConsentToTrack": "Yes",
                "ConsentToSendSms": "No",
            }
        ],
        "Resubscribe": False,
        "QueueSubscriptionBasedAutoresponders": True,
        "RestartSubscriptionBasedAutoresponders": False,
    }


def test_a_row_without_a_mobile_number_leaves_the_platforms_number_alone() -> None:
    """No MobileNumber key is sent when there is no number."""
    assert "MobileNumber" not in subscriber_row(SubscriberImport("ann@example.com"))


def test_an_unchanged_sms_consent_is_left_out_of_the_request() -> None:
    """ConsentToSendSms Unchanged is the same as leaving it out: no key is sent."""
    row = SubscriberImport("ann@example.com", consent_to_track=Consent.NO)

    assert subscriber_row(row) == {
        "EmailAddress": "ann@example.com",
        "Name": "",
        "CustomFields": [],
        "ConsentToTrack": "No",
    }


def test_a_crm_row_becomes_the_platform_row_in_e164_with_sms_on() -> None:
    """With SMS on: the number in E.164 for the country, both consents kept."""
    row = ImportRow(
        "ann@example.com",
        name="Ann",
        custom_fields={"City": "Austin"},
        mobile_number="(555) 555-1234",
        consent_to_track=True,
        consent_to_send_sms=False,
    )

    sent = to_subscriber_import(row, sms_enabled=True, sms_country="United States of America")

    assert sent == SubscriberImport(
        "ann@example.com", "Ann", {"City": "Austin"}, "+15555551234", Consent.YES, Consent.NO
    )


def test_a_crm_row_sends_nothing_sms_with_sms_off() -> None:
    """With SMS off: no number (not even checked) and no SMS consent; track consent kept."""
    row = ImportRow(
        "ann@example.com",
        mobile_number="not a number",
        consent_to_track="No",
        consent_to_send_sms=True,
    )

    sent = to_subscriber_import(row, sms_enabled=False, sms_country="Atlantis")

    assert (sent.mobile_number, sent.consent_to_send_sms) == (None, Consent.UNCHANGED)
    assert sent.consent_to_track is Consent.NO


def test_a_crm_rows_bad_number_or_type_is_refused_naming_the_field() -> None:
    """A bad number names ``{field}.mobile_number``; a bad country names sms_country."""
    with pytest.raises(InvalidValueError, match=r"rows\['003A'\]\.mobile_number"):
        to_subscriber_import(
            ImportRow("ann@example.com", mobile_number="12"),
            sms_enabled=True,
            sms_country="US",
            field="rows['003A']",
        )
    with pytest.raises(InvalidValueError, match="sms_country"):
        to_subscriber_import(ImportRow("ann@example.com"), sms_enabled=True, sms_country="Atlantis")
    with pytest.raises(InvalidTypeError, match="row"):
        to_subscriber_import("ann@example.com", sms_enabled=False)  # type: ignore[arg-type]


def test_imports_are_split_into_batches_the_platform_accepts() -> None:
    """At most 1000 subscribers per request; batch_size lowers it."""
    emails = [f"p{i}@example.com" for i in range(25)]
    plan = plan_import(
        "L1",
        rows(*emails),
        {},
        refresh_type="Add, Update",
        resubscribe_deleted_via_import_wizard=False,
        trigger_joins_a_list_journeys=False,
        batch_size=10,
    )
    assert [len(c.subscribers) for c in plan.imports] == [10, 10, 5]
    assert [s.email for c in plan.imports for s in c.subscribers] == emails


def test_an_email_given_twice_is_sent_once_and_reported() -> None:
    """The first row for an email is sent; later ones are listed as duplicates."""
    plan = plan_import(
        "L1",
        [ImportRow("ann@example.com", "First"), ImportRow("ANN@example.com", "Second")],
        {},
        refresh_type="Add, Update",
        resubscribe_deleted_via_import_wizard=False,
        trigger_joins_a_list_journeys=False,
    )
    assert [s.name for s in plan.imports[0].subscribers] == ["First"]
    assert plan.duplicates == ("ANN@example.com",)


def test_an_empty_import_plans_nothing() -> None:
    """No rows: no command."""
    plan = plan_import(
        "L1",
        [],
        {},
        refresh_type="Add, Update",
        resubscribe_deleted_via_import_wizard=False,
        trigger_joins_a_list_journeys=False,
    )
    assert plan.commands == ()


def test_with_sms_on_mobile_numbers_go_in_e164_with_sms_consent() -> None:
    """SMS enabled: (555) 555-1234 in the US imports as +15555551234, with its consent."""
    plan = plan_import(
        "L1",
        [ImportRow("ann@example.com", mobile_number="(555) 555-1234", consent_to_send_sms=True)],
        {},
        refresh_type="Add, Update",
        resubscribe_deleted_via_import_wizard=False,
        trigger_joins_a_list_journeys=False,
        sms_enabled=True,
        sms_country="United States of America",
    )
    (row,) = plan.imports[0].subscribers
    assert row.mobile_number == "+15555551234"
    assert row.consent_to_send_sms is Consent.YES


def test_with_sms_off_no_mobile_number_or_sms_consent_is_sent() -> None:
    """SMS disabled: the number and SMS consent stay out of the import."""
    plan = plan_import(
        "L1",
        [ImportRow("ann@example.com", mobile_number="(555) 555-1234", consent_to_send_sms=True)],
        {},
        refresh_type="Add, Update",
        resubscribe_deleted_via_import_wizard=False,
        trigger_joins_a_list_journeys=False,
    )
    (row,) = plan.imports[0].subscribers
    assert row.mobile_number is None
    assert row.consent_to_send_sms is Consent.UNCHANGED


def test_consent_to_track_is_carried_to_the_platform() -> None:
    """Consent to track goes with the row whether or not SMS is on."""
    plan = plan_import(
        "L1",
        [ImportRow("ann@example.com", consent_to_track=False)],
        {},
        refresh_type="Add, Update",
        resubscribe_deleted_via_import_wizard=False,
        trigger_joins_a_list_journeys=False,
    )
    assert import_request(plan.imports[0])["Subscribers"][0]["ConsentToTrack"] == "No"  # type: ignore[index]


def test_a_bad_mobile_number_refuses_the_whole_plan_naming_the_row() -> None:
    """A plan is built whole or not at all; the error names the row and the value."""
    with pytest.raises(InvalidValueError, match=r"^'rows\[1\].mobile_number' must be"):
        plan_import(
            "L1",
            [ImportRow("a@example.com"), ImportRow("b@example.com", mobile_number="555-FLOWERS")],
            {},
            refresh_type="Add, Update",
            resubscribe_deleted_via_import_wizard=False,
            trigger_joins_a_list_journeys=False,
            sms_enabled=True,
            sms_country="US",
        )


@pytest.mark.parametrize(
    ("given", "consent"),
    [
        (True, Consent.YES),
        (False, Consent.NO),
        (None, Consent.UNCHANGED),
        ("Yes", Consent.YES),
        (" no ", Consent.NO),
        ("UNCHANGED", Consent.UNCHANGED),
        ("true", Consent.YES),
    ],
)
def test_consent_is_yes_no_or_unchanged(given: object, consent: Consent) -> None:
    """A checkbox, an unmapped field (None) or the platform's words."""
    assert Consent.parse(given) is consent


def test_an_unknown_consent_is_refused() -> None:
    """Maybe is not an answer."""
    with pytest.raises(UnknownChoiceError, match="'consent_to_track'"):
        ImportRow("ann@example.com", consent_to_track="maybe")


def test_an_import_command_holds_one_to_1000_distinct_rows() -> None:
    """The platform's limit and one row per email are checked on the command."""
    with pytest.raises(InvalidValueError, match="'subscribers' must be 1 to 1000 rows"):
        ImportSubscribers("L1", [], resubscribe=False)
    too_many = [SubscriberImport(f"p{i}@example.com") for i in range(IMPORT_BATCH_SIZE + 1)]
    with pytest.raises(InvalidValueError, match="1 to 1000 rows"):
        ImportSubscribers("L1", too_many, resubscribe=False)
    twice = [SubscriberImport("a@example.com"), SubscriberImport("A@example.com")]
    with pytest.raises(InvalidValueError, match="one row per email"):
        ImportSubscribers("L1", twice, resubscribe=False)


@pytest.mark.parametrize(
    "number", ["(555) 555-1234", "5555551234", "+0123", "+1", "+1234567890123456"]
)
def test_an_import_row_takes_only_an_e164_mobile_number(number: str) -> None:
    """Numbers reach the platform only after to_e164."""
    with pytest.raises(InvalidValueError, match=r"'mobile_number' must be an E.164 number"):
        SubscriberImport("ann@example.com", mobile_number=number)


def test_plan_import_refuses_an_unknown_state_naming_the_email() -> None:
    """The list's current states are read strictly."""
    with pytest.raises(UnknownChoiceError, match="current"):
        plan_import(
            "L1",
            [],
            {"ann@example.com": "Sleeping"},
            refresh_type="Add, Update",
            resubscribe_deleted_via_import_wizard=False,
            trigger_joins_a_list_journeys=False,
        )


@pytest.mark.parametrize("size", [0, 1001, True, "10"])
def test_plan_import_refuses_a_batch_size_the_platform_would_refuse(size: object) -> None:
    """batch_size is a whole number from 1 to 1000."""
    with pytest.raises(InvalidValueError, match="'batch_size'"):
        plan_import(
            "L1",
            [],
            {},
            refresh_type="Add, Update",
            resubscribe_deleted_via_import_wizard=False,
            trigger_joins_a_list_journeys=False,
            batch_size=size,  # type: ignore[arg-type]
        )


def test_import_outcomes_give_each_email_its_fate() -> None:
    """Failed with the platform's code and message, kept inactive, or imported."""
    command = ImportSubscribers(
        "L1",
        [
            SubscriberImport("ok@example.com"),
            SubscriberImport("Example+1@example"),
            SubscriberImport("unsub@example.com"),
        ],
        resubscribe=False,
    )
    outcomes = import_outcomes(
        command,
        ImportResult(
            3, 2, 0, (), (ImportFailure("example+1@example", 1, "Invalid Email Address"),)
        ),
        kept_inactive={"unsub@example.com": S.UNSUBSCRIBED},
    )
    assert outcomes == (
        ImportOutcome("ok@example.com", ImportStatus.IMPORTED),
        ImportOutcome("Example+1@example", ImportStatus.FAILED, 1, "Invalid Email Address"),
        ImportOutcome("unsub@example.com", ImportStatus.KEPT_INACTIVE),
    )


def test_import_outcomes_of_a_resubscribing_import_say_resubscribed() -> None:
    """Rows of a Resubscribe import that did not fail were resubscribed."""
    command = ImportSubscribers("L1", [SubscriberImport("d@example.com")], resubscribe=True)
    assert import_outcomes(command, ImportResult()) == (
        ImportOutcome("d@example.com", ImportStatus.RESUBSCRIBED),
    )


def test_import_outcomes_keep_a_failure_for_an_email_not_sent() -> None:
    """A failure the command did not hold is still reported, last."""
    command = ImportSubscribers("L1", [SubscriberImport("a@example.com")], resubscribe=False)
    result = ImportResult(failure_details=(ImportFailure("z@example.com", 1, "Invalid"),))
    assert import_outcomes(command, result)[-1] == ImportOutcome(
        "z@example.com", ImportStatus.FAILED, 1, "Invalid"
    )


# ----------------------------------------------------------------------------- 7. suppression


def suppressed(email: str, reason: str = "Unsubscribed", days: int = 0) -> SuppressedEmail:
    """A platform suppression-list entry."""
    return SuppressedEmail(email, reason, WHEN + timedelta(days=days))


def record(
    record_id: str, email: str, reason: str = "Unsubscribed", days: int = 0
) -> SuppressionRecord:
    """A CRM suppression record."""
    return SuppressionRecord(record_id, email, reason, WHEN + timedelta(days=days))


def test_each_suppressed_email_gets_one_record_with_its_reason_and_date() -> None:
    """A suppression record is created for every suppressed email."""
    plan = plan_suppression_sync(
        [suppressed("a@example.com"), suppressed("b@example.com", "Bounced", 1)],
        [],
        sync_suppression_list=True,
    )
    assert plan.create == (
        CreateSuppressionRecord("a@example.com", "Unsubscribed", WHEN),
        CreateSuppressionRecord("b@example.com", "Bounced", WHEN + timedelta(days=1)),
    )


def test_a_record_is_removed_when_the_platform_unsuppresses_the_email() -> None:
    """An email no longer on the suppression list loses its record."""
    plan = plan_suppression_sync([], [record("a0X1", "a@example.com")], sync_suppression_list=True)
    assert plan.remove == (RemoveSuppressionRecord("a0X1", "a@example.com"),)


def test_a_new_reason_or_date_updates_the_record() -> None:
    """The record follows the platform's reason and date."""
    plan = plan_suppression_sync(
        [suppressed("a@example.com", "Spam complaint", 2)],
        [record("a0X1", "A@example.com")],
        sync_suppression_list=True,
    )
    assert plan.update == (
        UpdateSuppressionRecord(
            "a0X1", "a@example.com", "Spam complaint", WHEN + timedelta(days=2)
        ),
    )
    assert plan.create == () == plan.remove


def test_a_second_record_for_one_email_is_removed() -> None:
    """One record per suppressed email: the one matching the platform is kept."""
    plan = plan_suppression_sync(
        [suppressed("a@example.com", days=1)],
        [record("a0X1", "a@example.com"), record("a0X2", "a@example.com", days=1)],
        sync_suppression_list=True,
    )
    assert plan.remove == (RemoveSuppressionRecord("a0X1", "a@example.com"),)
    assert plan.update == ()


def test_an_email_listed_twice_by_the_platform_keeps_its_latest_entry() -> None:
    """Overlapping pages: the latest entry wins."""
    plan = plan_suppression_sync(
        [suppressed("a@example.com", "Bounced", 3), suppressed("a@example.com", "Unsubscribed")],
        [],
        sync_suppression_list=True,
    )
    assert plan.create == (
        CreateSuppressionRecord("a@example.com", "Bounced", WHEN + timedelta(days=3)),
    )


def test_records_in_step_with_the_platform_are_left_alone() -> None:
    """Nothing to do is an empty plan."""
    plan = plan_suppression_sync(
        [suppressed("a@example.com")], [record("a0X1", "a@example.com")], sync_suppression_list=True
    )
    assert plan.changes == ()


def test_the_suppression_list_is_not_synced_when_the_setting_is_off() -> None:
    """Setting off (the default): no record is created or removed."""
    plan = plan_suppression_sync(
        [suppressed("a@example.com")],
        [record("a0X9", "z@example.com")],
        sync_suppression_list=False,
    )
    assert plan.changes == ()


# ----------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Person("", RecordKind.CONTACT), "record_id"),
        (lambda: Person("003A", "Account"), "kind"),
        (lambda: Person("003A", "Contact", email_opt_out="yes"), "email_opt_out"),  # type: ignore[arg-type]
        (lambda: Unsubscribe("L1", "  "), "email"),
        (lambda: Unsubscribe("L1", None), "email"),
        (lambda: MarkDeleted("", "a@example.com"), "list_id"),
        (lambda: OptOutChange("003A", "a@example.com", 1), "value"),  # type: ignore[arg-type]
        (lambda: ImportRow("a@example.com", custom_fields={"City": 3}), "custom_fields[City]"),
        (lambda: ImportRow("a@example.com", mobile_number=5555551234), "mobile_number"),
        (lambda: ImportSubscribers("L1", "a@example.com", resubscribe=False), "subscribers"),
        (lambda: ImportResult(-1), "TotalUniqueEmailsSubmitted"),
        (lambda: SuppressionRecord("a0X1", "a@b.c", "x", datetime(2024, 1, 1)), "suppressed_at"),
        (lambda: ListMembership("L1", "N", "Paused"), "state"),
        (lambda: RecordChange(contact(), "after"), "after"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_value_is_refused_naming_its_field(build: object, field: str) -> None:
    """Values check their fields when built; the error names the field."""
    with pytest.raises((InvalidValueError, InvalidTypeError)) as info:
        build()  # type: ignore[operator]
    assert isinstance(info.value, InvalidValueError | InvalidTypeError)
    assert info.value.field == field


def test_values_are_frozen() -> None:
    """Commands and records cannot be changed once built."""
    command = Unsubscribe("L1", "a@example.com")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        command.email = "b@example.com"  # type: ignore[misc]


def _plan_import(**kw: object) -> object:
    """plan_import with the settings off and the given arguments replaced."""
    args: dict[str, Any] = {"list_id": "L1", "rows": [], "current": {}}
    args.update(kw)
    return loose.plan_import(
        args.pop("list_id"),
        args.pop("rows"),
        args.pop("current"),
        refresh_type="Add, Update",
        resubscribe_deleted_via_import_wizard=False,
        trigger_joins_a_list_journeys=False,
        **args,
    )


def _plan_changes(changes: object, memberships: object = None) -> object:
    """plan_record_changes with every setting on."""
    return loose.plan_record_changes(
        changes,
        {} if memberships is None else memberships,
        disable_triggers=False,
        disable_bulk_triggers=False,
        unsubscribe_on_opt_out=True,
        delete_subscriber_on_record_delete=True,
    )


#: The module called through an untyped name: these calls pass wrong types on purpose.
loose: Any = subscribers

ANY_COMMAND = ImportSubscribers("L1", [SubscriberImport("a@example.com")], resubscribe=False)

WRONG_TYPES = [
    (lambda: loose.SubscriberState.parse(1), "state"),
    (lambda: loose.RecordKind.parse(None), "kind"),
    (lambda: loose.Consent.parse(1), "consent"),
    (lambda: loose.ImportRefreshType.parse(None), "refresh_type"),
    (lambda: loose.ImportRow("a@example.com", custom_fields=["City"]), "custom_fields"),
    (lambda: loose.ImportRow("a@example.com", custom_fields={" ": "x"}), "custom_fields"),
    (lambda: loose.SubscriberImport("a@example.com", mobile_number=15555551234), "mobile_number"),
    (lambda: loose.ImportSubscribers("L1", ["a@example.com"], resubscribe=False), "subscribers"),
    (lambda: loose.email_opt_out(["Active"]), "memberships"),
    (
        lambda: loose.opt_out_changes("a@example.com", [], ["003A"], sync_email_opt_out=True),
        "records",
    ),
    (lambda: loose.plan_email_opt_out([], [], sync_email_opt_out=True), "memberships"),
    (lambda: loose.list_add_refusal("003A", prevent_opted_out_list_add=True), "person"),
    (lambda: loose.unsubscribes_for_opt_out("x", [], unsubscribe_on_opt_out=True), "change"),
    (
        lambda: loose.unsubscribes_for_opt_out(
            RecordChange(None, contact()), [S.ACTIVE], unsubscribe_on_opt_out=True
        ),
        "memberships",
    ),
    (
        lambda: loose.delete_on_record_delete("x", [], delete_subscriber_on_record_delete=True),
        "person",
    ),
    (lambda: _plan_changes("changes"), "changes"),
    (lambda: _plan_changes(["change"]), "changes"),
    (lambda: _plan_changes([], []), "memberships"),
    (
        lambda: loose.contacts_to_process(
            7, [], enable_account_trigger=True, disable_triggers=False
        ),
        "account_id",
    ),
    (
        lambda: loose.contacts_to_process(
            " ", [], enable_account_trigger=True, disable_triggers=False
        ),
        "account_id",
    ),
    (lambda: _plan_import(current=[]), "current"),
    (lambda: _plan_import(rows=["a@example.com"]), "rows[0]"),
    (lambda: _plan_import(list_id=""), "list_id"),
    (lambda: loose.ImportResult(failure_details="x"), "failure_details"),
    (lambda: loose.ImportResult(failure_details=["x"]), "failure_details"),
    (
        lambda: loose.ImportResult(duplicate_emails_in_submission="a@example.com"),
        "duplicate_emails_in_submission",
    ),
    (lambda: loose.ImportResult(total_new_subscribers="3"), "TotalNewSubscribers"),
    (lambda: loose.import_outcomes("command", loose.ImportResult()), "command"),
    (lambda: loose.import_outcomes(ANY_COMMAND, {}), "result"),
    (
        lambda: loose.plan_suppression_sync(["a@example.com"], [], sync_suppression_list=True),
        "platform",
    ),
    (lambda: loose.plan_suppression_sync([], ["a0X1"], sync_suppression_list=True), "crm"),
]


@pytest.mark.parametrize(("call", "field"), WRONG_TYPES)
def test_a_wrong_argument_is_refused_before_anything_is_planned(call: object, field: str) -> None:
    """Every rule checks what it is given; the error names the argument or key."""
    with pytest.raises((InvalidValueError, InvalidTypeError)) as info:
        call()  # type: ignore[operator]
    assert isinstance(info.value, InvalidValueError | InvalidTypeError)
    assert info.value.field == field


def test_an_unknown_sms_country_refuses_the_plan_naming_the_setting() -> None:
    """The SMS country is read once, before any row, and named when it is wrong."""
    with pytest.raises(InvalidValueError, match=r"^'sms_country' must be"):
        plan_import(
            "L1",
            [ImportRow("a@example.com", mobile_number="(555) 555-1234")],
            {},
            refresh_type="Add, Update",
            resubscribe_deleted_via_import_wizard=False,
            trigger_joins_a_list_journeys=False,
            sms_enabled=True,
            sms_country="Atlantis",
        )


# ----------------------------------------------------------------------------- a list's commands


def test_a_command_on_a_list_changes_exactly_the_states_the_platform_would() -> None:
    """An import adds the new emails as Active and counts the others; it reactivates an
    inactive one only when it resubscribes; unsubscribe and delete move one subscriber."""
    held = {"ann@example.com": SubscriberState.DELETED, "bo@example.com": SubscriberState.ACTIVE}
    rows = (SubscriberImport("Ann@Example.com"), SubscriberImport("cy@example.com"))

    plain, added = run_on_list(ImportSubscribers("list-1", rows, False), held.get)
    assert plain.import_result == ImportResult(2, 1, 1)
    assert added == (ListChange("cy@example.com", "cy@example.com", SubscriberState.ACTIVE, True),)

    _result, revived = run_on_list(ImportSubscribers("list-1", rows, True), held.get)
    assert [(c.key, c.email, c.state, c.added) for c in revived] == [
        ("ann@example.com", "Ann@Example.com", SubscriberState.ACTIVE, False),
        ("cy@example.com", "cy@example.com", SubscriberState.ACTIVE, True),
    ]

    gone, changes = run_on_list(Unsubscribe("list-1", "BO@example.com"), held.get)
    assert gone.ok
    assert changes == (
        ListChange("bo@example.com", "BO@example.com", SubscriberState.UNSUBSCRIBED),
    )
    assert run_on_list(MarkDeleted("list-1", "ann@example.com"), held.get)[1] == ()


def test_a_command_for_an_email_not_on_the_list_fails_with_the_platforms_message() -> None:
    """Unsubscribing or deleting an email the list does not hold changes nothing."""
    for command in (Unsubscribe("list-1", "zed@example.com"), RemoveSubscriber("list-1", "z@x.io")):
        result, changes = run_on_list(command, {}.get)
        assert (result.ok, result.error, changes) == (False, "Subscriber not in list", ())
