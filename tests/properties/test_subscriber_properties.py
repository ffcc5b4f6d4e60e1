"""Properties of the subscriber rules, and of the shells that run them (``run_import``,
``handle_account_changes``) over the in-memory adapters, on any input Hypothesis can build."""

from __future__ import annotations

import random
import string
from collections import Counter
from datetime import UTC, datetime, timedelta

import attrs
import phonenumbers
import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.limits import GovernorLimits, Job
from cmsf_core.domain.records import PersonKind
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.sms import to_e164
from cmsf_core.domain.subscribers import (
    ImportRefreshType,
    ImportRow,
    ImportSubscribers,
    ListMembership,
    Person,
    RecordChange,
    RecordKind,
    RemoveSubscriber,
    SubscriberState,
    SuppressedEmail,
    SuppressionRecord,
    email_key,
    email_opt_out,
    opt_out_changes,
    plan_import,
    plan_record_changes,
    plan_suppression_sync,
    records_to_process,
)
from cmsf_core.shell.subscriber_sync import handle_account_changes, run_import

S = SubscriberState
states = st.sampled_from(list(SubscriberState))
state_lists = st.lists(states, max_size=12)

# A small pool of emails, spelled in two cases, so collisions and case folding happen often.
EMAILS = [f"{name}@example.com" for name in ("ann", "bob", "cy", "dee", "eve", "fay", "gus")]
emails = st.sampled_from(EMAILS).flatmap(lambda e: st.sampled_from([e, e.upper(), e.title()]))
people_kinds = st.sampled_from(list(RecordKind))


# ----------------------------------------------------------------------------- opt out


def opt_out_by_counting(given_states: list[SubscriberState]) -> bool | None:
    """The rule restated by counting: an independent formulation to check against."""
    counts = Counter(given_states)
    total = sum(counts.values())
    if counts[S.ACTIVE] > 0:
        return False
    if total > 0 and counts[S.UNSUBSCRIBED] + counts[S.DELETED] == total:
        return True
    return None


@given(state_lists)
def test_the_opt_out_rule_is_the_three_valued_function_of_the_multiset(
    given_states: list[SubscriberState],
) -> None:
    """email_opt_out agrees with a counting formulation on any multiset of states."""
    assert email_opt_out(given_states) == opt_out_by_counting(given_states)


@given(state_lists, st.randoms(use_true_random=False))
def test_the_opt_out_rule_ignores_the_order_of_memberships(
    given_states: list[SubscriberState], rnd: random.Random
) -> None:
    """Any order of the same memberships gives the same answer."""
    shuffled = list(given_states)
    rnd.shuffle(shuffled)
    assert email_opt_out(shuffled) == email_opt_out(given_states)


@given(state_lists)
def test_one_active_list_always_means_not_opted_out(given_states: list[SubscriberState]) -> None:
    """Adding an Active membership to anything gives False."""
    assert email_opt_out([*given_states, S.ACTIVE]) is False


people = st.builds(
    Person,
    record_id=st.text(string.ascii_letters + string.digits, min_size=1, max_size=6),
    kind=people_kinds,
    email=st.just("ann@example.com") | st.just("ANN@example.com"),
    email_opt_out=st.booleans(),
)


@given(state_lists, st.lists(people, max_size=6, unique_by=lambda p: p.record_id), st.booleans())
def test_applying_the_opt_out_changes_reaches_a_fixed_point(
    given_states: list[SubscriberState], records: list[Person], setting: bool
) -> None:
    """Applied once, the changes leave nothing to change: the sync is idempotent."""
    plan = opt_out_changes("ann@example.com", given_states, records, sync_email_opt_out=setting)
    wanted = {c.record_id: c.value for c in plan.changes}
    after = [
        attrs.evolve(r, email_opt_out=wanted.get(r.record_id, r.email_opt_out)) for r in records
    ]
    again = opt_out_changes("ann@example.com", given_states, after, sync_email_opt_out=setting)

    assert again.changes == ()
    assert all(wanted[r.record_id] != r.email_opt_out for r in records if r.record_id in wanted)
    if not setting or email_opt_out(given_states) is None:
        assert plan.changes == ()
    else:
        assert {r.email_opt_out for r in after} == {email_opt_out(given_states)} or not after


# ----------------------------------------------------------------------------- import wizard

import_rows = st.lists(st.builds(ImportRow, email=emails), max_size=15)
current_lists = st.dictionaries(emails, states, max_size=10)


@given(
    import_rows,
    current_lists,
    st.lists(emails, max_size=3),
    st.sampled_from(list(ImportRefreshType)),
    st.booleans(),
    st.booleans(),
    st.integers(min_value=1, max_value=4),
)
def test_a_resubscribe_never_touches_unsubscribed_bounced_or_suppressed_subscribers(
    rows: list[ImportRow],
    current: dict[str, SubscriberState],
    suppressed: list[str],
    refresh: ImportRefreshType,
    resubscribe_setting: bool,
    journeys: bool,
    batch_size: int,
) -> None:
    """Over any import: only Deleted, unsuppressed subscribers are ever resubscribed, only
    when both the refresh type and the setting allow it; every row is sent exactly once;
    removals only take receiving subscribers the import left out."""
    plan = plan_import(
        "L1",
        rows,
        current,
        refresh_type=refresh,
        resubscribe_deleted_via_import_wizard=resubscribe_setting,
        trigger_joins_a_list_journeys=journeys,
        suppressed=suppressed,
        batch_size=batch_size,
    )
    state_of = {email_key(e): s for e, s in current.items()}
    blocked = {email_key(e) for e in suppressed}
    allowed = refresh is ImportRefreshType.ADD_UPDATE_RESUBSCRIBE_DELETED and resubscribe_setting

    for command in plan.imports:
        assert len(command.subscribers) <= batch_size
        assert command.queue_subscription_based_autoresponders is journeys
        assert command.restart_subscription_based_autoresponders is (
            journeys and command.resubscribe
        )
        if command.resubscribe:
            assert allowed
            for row in command.subscribers:
                key = email_key(row.email)
                assert key not in blocked
                assert state_of.get(key) is S.DELETED

    sent = [email_key(s.email) for c in plan.imports for s in c.subscribers]
    assert sorted(sent) == sorted({email_key(r.email) for r in rows})

    for removal in plan.removals:
        key = email_key(removal.email)
        assert refresh is ImportRefreshType.ADD_UPDATE_REMOVE
        assert key not in sent
        assert key not in blocked
        assert state_of[key] in (S.ACTIVE, S.UNCONFIRMED)


# ----------------------------------------------------------------------------- triggers

batches = st.lists(st.integers(), max_size=20)


@given(batches.filter(bool), st.booleans())
def test_bulk_disabled_processes_exactly_one_record_per_batch(
    batch: list[int], disable_triggers: bool
) -> None:
    """Bulk triggers disabled: one record (the first) per non-empty batch, unless all
    triggers are disabled, which processes none."""
    got = records_to_process(batch, disable_triggers=disable_triggers, disable_bulk_triggers=True)
    assert got == (() if disable_triggers else (batch[0],))


@given(batches)
def test_enabled_triggers_process_every_record_and_disabled_ones_none(batch: list[int]) -> None:
    """Triggers on and bulk allowed: the whole batch; triggers off: nothing."""
    assert records_to_process(batch, disable_triggers=False, disable_bulk_triggers=False) == tuple(
        batch
    )
    for bulk in (False, True):
        assert records_to_process(batch, disable_triggers=True, disable_bulk_triggers=bulk) == ()


changes = st.builds(
    lambda record_id, kind, email, before, after, deleted: RecordChange(
        Person(record_id, kind, email=email, email_opt_out=before),
        None if deleted else Person(record_id, kind, email=email, email_opt_out=after),
    ),
    st.text(string.ascii_letters, min_size=1, max_size=4),
    people_kinds,
    emails,
    st.booleans(),
    st.booleans(),
    st.booleans(),
)


@given(st.lists(changes, min_size=1, max_size=8), st.booleans(), st.booleans(), st.booleans())
def test_a_trigger_plan_splits_the_batch_and_bulk_disabled_keeps_one(
    batch: list[RecordChange], bulk_disabled: bool, unsubscribe: bool, delete: bool
) -> None:
    """processed + skipped is the batch; bulk disabled processes exactly the first change,
    and every command comes from a processed change's email."""
    memberships = {e: [ListMembership("L1", "One", S.ACTIVE)] for e in EMAILS}
    plan = plan_record_changes(
        batch,
        memberships,
        disable_triggers=False,
        disable_bulk_triggers=bulk_disabled,
        unsubscribe_on_opt_out=unsubscribe,
        delete_subscriber_on_record_delete=delete,
    )
    assert (*plan.processed, *plan.skipped) == tuple(batch)
    if bulk_disabled:
        assert plan.processed == (batch[0],)
    processed_emails = {email_key(c.record.email or "") for c in plan.processed}
    assert {email_key(c.email) for c in plan.commands} <= processed_emails


# ----------------------------------------------------------------------------- suppression

WHEN = datetime(2024, 1, 1, tzinfo=UTC)
reasons = st.sampled_from(["Unsubscribed", "Bounced", "Spam complaint"])
instants = st.integers(min_value=0, max_value=5).map(lambda d: WHEN + timedelta(days=d))
entries = st.lists(st.builds(SuppressedEmail, emails, reasons, instants), max_size=8)
records = st.lists(
    st.builds(
        SuppressionRecord,
        st.text(string.ascii_letters, min_size=1, max_size=4),
        emails,
        reasons,
        instants,
    ),
    max_size=8,
    unique_by=lambda r: r.record_id,
)


@given(entries, records)
def test_applying_the_suppression_plan_leaves_one_record_per_suppressed_email(
    platform: list[SuppressedEmail], crm: list[SuppressionRecord]
) -> None:
    """After the plan: exactly one record per suppressed email, with its latest reason and
    date, none for others; planning again changes nothing."""
    plan = plan_suppression_sync(platform, crm, sync_suppression_list=True)
    removed = {r.record_id for r in plan.remove}
    updated = {u.record_id: u for u in plan.update}
    result = [
        attrs.evolve(
            r, reason=updated[r.record_id].reason, suppressed_at=updated[r.record_id].suppressed_at
        )
        if r.record_id in updated
        else r
        for r in crm
        if r.record_id not in removed
    ]
    result += [
        SuppressionRecord(f"new{i}", c.email, c.reason, c.suppressed_at)
        for i, c in enumerate(plan.create)
    ]

    latest: dict[str, SuppressedEmail] = {}
    for entry in platform:
        key = email_key(entry.email)
        if key not in latest or entry.suppressed_at > latest[key].suppressed_at:
            latest[key] = entry
    assert Counter(email_key(r.email) for r in result) == Counter(latest.keys())
    for r in result:
        entry = latest[email_key(r.email)]
        assert (r.reason, r.suppressed_at) == (entry.reason, entry.suppressed_at)
    assert plan_suppression_sync(platform, result, sync_suppression_list=True).changes == ()


@given(entries, records)
def test_the_suppression_sync_changes_nothing_when_off(
    platform: list[SuppressedEmail], crm: list[SuppressionRecord]
) -> None:
    """Setting off: an empty plan whatever the lists hold."""
    assert plan_suppression_sync(platform, crm, sync_suppression_list=False).changes == ()


# ----------------------------------------------------------------------------- phone numbers

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


@given(
    st.sampled_from(REGIONS),
    st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]),
)
def test_every_countrys_example_number_converts_from_national_and_international_form(
    region: str, number_type: int
) -> None:
    """phonenumbers' example number of any country, written nationally for that country or
    internationally with no country, converts to the same E.164."""
    example = phonenumbers.example_number_for_type(region, number_type)
    if example is None:
        reject()
    expected = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(
        example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    assert to_e164(national, region) == expected
    assert to_e164(international, None) == expected


ALLOWED = set("0123456789 ()+-.")


@given(
    st.text(string.digits + " ()-.", max_size=12),
    st.characters(exclude_characters=ALLOWED, exclude_categories=["Cs"]),
    st.text(string.digits + " ()-.", max_size=12),
    st.sampled_from(["US", "GB", "AU", None]),
)
def test_any_character_outside_digits_and_punctuation_is_refused(
    before: str, bad: str, after: str, country: str | None
) -> None:
    """Letters, unicode digits, symbols, control characters: always refused, naming the field."""
    text = before + bad + after
    assume(text.strip())
    with pytest.raises(InvalidValueError) as info:
        to_e164(text, country)
    assert info.value.field == "mobile_number"


def converted_or_refused(text: str, country: str) -> str | None:
    """to_e164's answer, or None when it refuses the text naming 'mobile_number'."""
    try:
        return to_e164(text, country)
    except InvalidValueError as exc:
        if exc.field != "mobile_number":
            raise
        return None


@st.composite
def typed_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A country's example mobile number as a person might type it: some digits changed,
    separators swapped or dropped."""
    region = draw(st.sampled_from(["US", "GB", "AU", "DE", "FR", "NZ"]))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    typed = []
    for char in phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL):
        if char.isdigit():
            typed.append(draw(st.sampled_from([char, char, char, *string.digits])))
        else:
            typed.append(draw(st.sampled_from([char, " ", "-", ".", ""])))
    return "".join(typed), region


@given(typed_numbers())
def test_an_accepted_number_is_e164_and_keeps_the_typed_digits(typed: tuple[str, str]) -> None:
    """Whatever digits are typed, a refusal names the field, and an accepted number is
    E.164 whose national number is among the digits typed: nothing invented or dropped."""
    text, country = typed
    got = converted_or_refused(text, country)
    if got is None:
        return
    assert got.startswith("+")
    assert got[1:].isdigit()
    assert len(got) <= 16
    parsed = phonenumbers.parse(got)
    assert str(parsed.national_number) in "".join(c for c in text if c.isdigit())


# ----------------------------------------------------------------------------- shells

T_SHELL = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
LIST_STATES = [s for s in SubscriberState if s is not S.SUPPRESSED]
list_members = st.dictionaries(st.sampled_from(EMAILS), st.sampled_from(LIST_STATES), max_size=7)
opted_rows = st.lists(st.tuples(emails, st.booleans()), max_size=10)


def _platform_with(members: dict[str, SubscriberState], suppressed: list[str]) -> InMemoryPlatform:
    platform = InMemoryPlatform(clock=lambda: T_SHELL)
    platform.add_client("c1", "Acme")
    platform.add_list("c1", "L1")
    for email, state in members.items():
        platform.set_membership("c1", "L1", email, state, at=T_SHELL)
    for email in suppressed:
        platform.add_suppressed("c1", email, "Unsubscribed", T_SHELL)
    return platform


@given(
    opted_rows,
    list_members,
    st.lists(st.sampled_from(EMAILS), max_size=3),
    st.sampled_from(list(ImportRefreshType)),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(min_value=1, max_value=4),
)
def test_run_import_never_resubscribes_unsubscribed_bounced_or_suppressed_subscribers(
    given_rows: list[tuple[str, bool]],
    members: dict[str, SubscriberState],
    suppressed: list[str],
    refresh: ImportRefreshType,
    resubscribe_setting: bool,
    journeys: bool,
    prevent: bool,
    batch_size: int,
) -> None:
    """Over any list state, suppression list, refresh type and settings: run_import sends
    no resubscribing import holding an Unsubscribed, Bounced or Suppressed subscriber (only
    Deleted, unsuppressed ones), leaves every Unsubscribed, Bounced and suppressed one as it
    was, never sends a refused opted-out row, and removes only receiving subscribers."""
    platform = _platform_with(members, suppressed)
    before = {email_key(e): s for e, s in platform.list_subscribers("c1", "L1").items()}
    rows = [ImportRow(e, record_id=f"003{i:03d}") for i, (e, _o) in enumerate(given_rows)]
    people = [
        Person(f"003{i:03d}", "Contact", email=e, email_opt_out=o)
        for i, (e, o) in enumerate(given_rows)
    ]
    settings = Settings(
        resubscribe_deleted_via_import_wizard=resubscribe_setting,
        trigger_joins_a_list_journeys=journeys,
        prevent_opted_out_list_add=prevent,
        governor_limits=GovernorLimits().with_batch_size(Job.SUBSCRIBER_IMPORT, batch_size),
    )

    report = run_import(platform, "c1", "L1", rows, settings, refresh_type=refresh, people=people)

    blocked = {email_key(e) for e in suppressed}
    refused = {email_key(e) for e, opted in given_rows if prevent and opted}
    allowed = {email_key(e) for e, opted in given_rows if not (prevent and opted)}
    for _client, command in platform.executed:
        if isinstance(command, ImportSubscribers):
            assert len(command.subscribers) <= batch_size
            for row in command.subscribers:
                key = email_key(row.email)
                assert key in allowed
                if command.resubscribe:
                    assert key not in blocked
                    assert before.get(key) is S.DELETED
        else:
            assert isinstance(command, RemoveSubscriber)
            assert before[email_key(command.email)] in (S.ACTIVE, S.UNCONFIRMED)
            assert email_key(command.email) not in allowed | refused
    after = {email_key(e): s for e, s in platform.list_subscribers("c1", "L1").items()}
    for key, state in before.items():
        if state in (S.UNSUBSCRIBED, S.BOUNCED) or key in blocked or key in refused - allowed:
            assert after[key] is state, (key, state, after[key])
    assert len(report.refused) == sum(1 for _e, opted in given_rows if prevent and opted)


ACCOUNTS = ("001A", "001B")
contacts = st.lists(
    st.tuples(
        st.sampled_from((*ACCOUNTS, *ACCOUNTS, None)),
        st.sampled_from(EMAILS),
        st.booleans(),
        st.sampled_from((PersonKind.CONTACT, PersonKind.CONTACT, PersonKind.LEAD)),
    ),
    min_size=2,
    max_size=8,
)
# Every email on the list in some state (Active the likeliest), or not on it.
whole_list = st.fixed_dictionaries(
    {e: st.sampled_from((S.ACTIVE, S.ACTIVE, *LIST_STATES, None)) for e in EMAILS}
).map(lambda found: {e: state for e, state in found.items() if state is not None})
# Mostly the account trigger on, so that contacts are reached; sometimes off or disabled.
triggers = st.sampled_from(
    ((True, False), (True, False), (True, False), (False, False), (True, True))
)


@given(
    contacts,
    st.lists(st.sampled_from((*ACCOUNTS, "001Z")), min_size=1, max_size=4),
    whole_list,
    triggers,
    st.booleans(),
    st.booleans(),
)
def test_the_account_fan_out_never_reaches_a_contact_of_another_account(
    people: list[tuple[str | None, str, bool, PersonKind]],
    batch: list[str],
    members: dict[str, SubscriberState],
    trigger: tuple[bool, bool],
    bulk_disabled: bool,
    prevent: bool,
) -> None:
    """For any CRM, batch of accounts and settings: the fan-out reaches exactly the contacts
    of the accounts it processes (the first one only with bulk triggers disabled, none
    without the account trigger or with triggers disabled), never a lead or a contact of
    another account, sends only their rows, and changes no subscriber's state."""
    crm = InMemoryCrm()
    owner: dict[str, str | None] = {}
    for index, (given_account, email, opted, kind) in enumerate(people):
        record_id = f"{kind.value[0]}{index:03d}"
        account = given_account if kind is PersonKind.CONTACT else None  # leads have none
        crm.add_person(
            email, person_id=record_id, kind=kind, email_opt_out=opted, account_id=account
        )
        owner[record_id] = account
    platform = _platform_with(members, [])
    before = {email_key(e): state for e, state in platform.list_subscribers("c1", "L1").items()}
    enable, disable = trigger
    settings = Settings(
        enable_account_trigger=enable,
        disable_triggers=disable,
        disable_bulk_triggers=bulk_disabled,
        prevent_opted_out_list_add=prevent,
    )

    report = handle_account_changes(
        crm,
        platform,
        "c1",
        batch,
        settings,
        subscriber_row=lambda p: ImportRow(p.email or "", name=p.record_id),
    )

    expected_accounts = (
        tuple(dict.fromkeys(batch[:1] if bulk_disabled else batch))
        if enable and not disable
        else ()
    )
    assert report.accounts == expected_accounts
    reached = {p.record_id for p in report.reached}
    assert reached == {rid for rid, acc in owner.items() if acc in expected_accounts}
    for person in report.reached:
        assert person.kind is RecordKind.CONTACT
        assert person.account_id in expected_accounts
    senders = {
        email_key(p.email or "") for p in report.reached if not (prevent and p.email_opt_out)
    }
    for _client, command in platform.executed:
        assert isinstance(command, ImportSubscribers)
        assert not command.resubscribe
        for row in command.subscribers:
            assert email_key(row.email) in senders
            assert before[email_key(row.email)] in (S.ACTIVE, S.UNCONFIRMED)
    after = {email_key(e): state for e, state in platform.list_subscribers("c1", "L1").items()}
    assert after == before
