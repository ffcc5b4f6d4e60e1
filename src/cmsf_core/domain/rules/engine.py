"""Subscriber rules: which contacts and leads a list's rules add or remove, and the
platform commands that follow.

A list holds at most one rule of each :class:`RuleKind` (add contact, remove contact, add
lead, remove lead).  A :class:`SubscriberRule` is a predicate over a :class:`RuleRecord`
(a :class:`~cmsf_core.domain.subscribers.Person` with its typed fields and its account's)
built from :class:`~cmsf_core.domain.rules.criteria.Criterion` lines, combined by AND or
by custom rule logic.  :func:`plan_rule_changes` evaluates a trigger batch of changes,
:func:`plan_account_rule_changes` an account batch (its contacts, with the account's new
fields) and :func:`plan_retrospective_run` the records an administrator names.  Each goes
through the same guards as every other route: the trigger settings
(:func:`~cmsf_core.domain.subscribers.records_to_process`,
:func:`~cmsf_core.domain.subscribers.plan_account_changes`), the opted-out list-add
refusal (:func:`~cmsf_core.domain.subscribers.list_add_refusal`) and the SMS conversion
(:func:`~cmsf_core.domain.subscribers.to_subscriber_import`).  Everything is pure: time is
``as_of``, the org's zone is ``zone``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, NotRequired, TypedDict, Unpack

import attrs

from cmsf_core.domain.checks import is_collection, text_keyed
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, NaiveDatetimeError
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.rules.records import AccountChange, RuleChange, RuleRecord
from cmsf_core.domain.rules.rules import EvaluationTime, ListRules, SubscriberRule
from cmsf_core.domain.subscribers import (
    IMPORT_BATCH_SIZE,
    ImportRow,
    ImportSubscribers,
    ListMembership,
    RemoveSubscriber,
    SubscriberImport,
    SubscriberState,
    email_key,
    list_add_refusal,
    plan_account_changes,
    records_to_process,
    to_subscriber_import,
)

if TYPE_CHECKING:  # field_mappings reads the rules' field types: imported when used
    from cmsf_core.domain.field_mappings import ListFieldMappings

__all__ = [
    "OPTED_OUT_BY_CHANGE",
    "RuleAction",
    "RuleFiring",
    "RuleOutcome",
    "RulePlan",
    "RulePlanOptions",
    "plan_account_rule_changes",
    "plan_retrospective_run",
    "plan_rule_changes",
]

# ----------------------------------------------------------------------------- plans


class RuleAction(enum.Enum):
    """What a fired rule asks for."""

    ADD = "add"
    REMOVE = "remove"


class RuleOutcome(enum.Enum):
    """What became of one fired rule."""

    ADDED = "added"
    REMOVED = "removed"
    REFUSED = "refused"
    OVERRIDDEN = "overridden by the remove rule"
    KEPT_INACTIVE = "kept inactive"
    NOT_ON_LIST = "not on the list"
    NO_EMAIL = "no email"


@attrs.frozen
class RuleFiring:
    """One rule that fired for one record, and what came of it (``message``: the product's
    refusal message, or the subscriber's state when it was kept inactive)."""

    record_id: str
    list_id: str
    rule: str
    action: RuleAction
    outcome: RuleOutcome
    message: str | None = None


@attrs.frozen
class RulePlan:
    """What a batch of rule evaluations does: the platform commands, every firing with its
    outcome, and the changes the trigger settings left alone."""

    commands: tuple[ImportSubscribers | RemoveSubscriber, ...] = ()
    firings: tuple[RuleFiring, ...] = ()
    skipped: tuple[RuleChange, ...] = ()
    #: A mapped field value that could not be converted (left out of the row it was for).
    messages: tuple[MaintenanceMessage, ...] = ()

    @property
    def refused(self) -> tuple[RuleFiring, ...]:
        """The adds refused because the record is opted out."""
        return tuple(f for f in self.firings if f.outcome is RuleOutcome.REFUSED)


#: Why an add is refused when the change itself checks Email Opt Out.
OPTED_OUT_BY_CHANGE = (
    "Email Opt Out was checked by this change: the record is unsubscribed from every list, "
    "not added to one."
)


class RulePlanOptions(TypedDict):
    """The keyword options every rule planner takes (:func:`plan_rule_changes`,
    :func:`plan_account_rule_changes`, :func:`plan_retrospective_run`).

    ``as_of`` (timezone-aware) and ``zone`` (the org's) evaluate date literals such as
    ``TODAY``, weeks starting on ``week_start`` (0 Monday to 6 Sunday, the default);
    ``prevent_opted_out_list_add`` refuses an add for a record whose Email Opt Out is
    checked; ``sms_enabled`` and ``sms_country`` (default off, no country) convert mobile
    numbers; ``queue_journeys`` (default true) queues journeys as for an individual add;
    ``subscriber_row(record)`` builds the row an add sends (default: the email alone);
    ``field_mappings`` maps a list id to its
    :class:`~cmsf_core.domain.field_mappings.ListFieldMappings` (default: none).
    """

    as_of: datetime
    zone: tzinfo
    prevent_opted_out_list_add: bool
    sms_enabled: NotRequired[bool]
    sms_country: NotRequired[str | None]
    queue_journeys: NotRequired[bool]
    week_start: NotRequired[int]
    subscriber_row: NotRequired[Callable[[RuleRecord], ImportRow] | None]
    field_mappings: NotRequired[Mapping[str, ListFieldMappings] | None]


_RECEIVING = frozenset({SubscriberState.ACTIVE, SubscriberState.UNCONFIRMED})


def _check_rules(rules: Iterable[ListRules]) -> list[ListRules]:
    lists = list(rules) if is_collection(rules) else None
    if lists is None:
        raise InvalidTypeError("rules", "a sequence of ListRules", rules)
    seen: set[str] = set()
    for item in lists:
        if not isinstance(item, ListRules):
            raise InvalidTypeError("rules", "ListRules values", item)
        if item.list_id in seen:
            raise InvalidValueError("rules", "one ListRules per list", item.list_id)
        seen.add(item.list_id)
    return lists


def _rule_records(value: object, field: str) -> list[RuleRecord]:
    """``value`` as a list, if it is a sequence of RuleRecord; else the error names the
    whole of it."""
    given = list(value) if is_collection(value) else None
    if given is None or not all(isinstance(r, RuleRecord) for r in given):
        raise InvalidTypeError(field, "a sequence of RuleRecord", value)
    return given


def _states(
    memberships: Mapping[str, Iterable[ListMembership]],
) -> dict[str, dict[str, SubscriberState]]:
    entries = text_keyed(
        memberships, "memberships", "a mapping of email to list memberships", "email keys"
    )
    states: dict[str, dict[str, SubscriberState]] = {}
    for address, held in entries:
        for membership in held:
            if not isinstance(membership, ListMembership):
                raise InvalidTypeError("memberships", "ListMembership values", membership)
            states.setdefault(email_key(address), {}).setdefault(
                membership.list_id, membership.state
            )
    return states


def _default_row(record: RuleRecord) -> ImportRow:
    return ImportRow(record.person.email or "", record_id=record.record_id)


@attrs.frozen
class _Context:
    """Everything one evaluation needs besides the changes."""

    lists: list[ListRules]
    states: dict[str, dict[str, SubscriberState]]
    as_of: datetime
    zone: tzinfo
    week_start: int
    prevent: bool
    sms_enabled: bool
    sms_country: str | None
    queue_journeys: bool
    row: Callable[[RuleRecord], ImportRow]
    mappings: Mapping[str, ListFieldMappings] = FrozenMap()


def _meets(rule: SubscriberRule, record: RuleRecord, ctx: _Context) -> bool:
    return rule.meets(record, as_of=ctx.as_of, zone=ctx.zone, week_start=ctx.week_start)


def _fires(rule: SubscriberRule, change: RuleChange, ctx: _Context, *, retrospective: bool) -> bool:
    after = change.after
    if after is None or not rule.active or after.person.kind is not rule.kind.record_kind:
        return False
    if after.fields.get("isconverted") is True:  # a converted lead: its contact is the person
        return False
    if not _meets(rule, after, ctx):
        return False
    if retrospective or change.before is None or not rule.kind.adds:
        return True
    if rule.evaluation_time is EvaluationTime.ON_CREATE:
        return False
    if rule.evaluation_time is EvaluationTime.ON_CREATE_AND_EVERY_EDIT:
        return True
    return not _meets(rule, change.before, ctx)


def _add_row(
    record: RuleRecord,
    email: str,
    ctx: _Context,
    list_id: str,
    messages: list[MaintenanceMessage],
) -> SubscriberImport:
    row = to_subscriber_import(
        ctx.row(record),
        sms_enabled=ctx.sms_enabled,
        sms_country=ctx.sms_country,
        field=f"record {record.record_id!r}",
    )
    mappings = ctx.mappings.get(list_id)
    if mappings is not None:  # the list's mapped fields, converted from the record's
        from cmsf_core.domain.field_mappings import mapped_custom_fields  # noqa: PLC0415

        mapped = mapped_custom_fields(
            record.record_id,
            record.person.kind,
            record.fields,
            mappings,
            zone=ctx.zone,
            as_of=ctx.as_of,
        )
        messages.extend(mapped.messages)
        row = attrs.evolve(row, custom_fields={**row.custom_fields, **mapped.custom_fields})
    if email_key(row.email) != email_key(email):
        raise InvalidValueError(
            "subscriber_row",
            f"a row for the record's email (record {record.record_id!r})",
            row.email,
        )
    return row


def _outcome(
    record: RuleRecord,
    add: bool,
    state: SubscriberState | None,
    removing: bool,
    ticked: bool,
    ctx: _Context,
) -> tuple[RuleOutcome, str | None]:
    """What one fired rule comes to, before any command is built."""
    if record.person.email is None:
        return RuleOutcome.NO_EMAIL, None
    if not add:
        if state in _RECEIVING:
            return RuleOutcome.REMOVED, None
        return RuleOutcome.NOT_ON_LIST, None if state is None else state.value
    if removing:
        return RuleOutcome.OVERRIDDEN, None
    refusal = list_add_refusal(record.person, prevent_opted_out_list_add=ctx.prevent)
    if refusal is not None:
        return RuleOutcome.REFUSED, refusal
    if ticked:
        return RuleOutcome.REFUSED, OPTED_OUT_BY_CHANGE
    if state is not None and state not in _RECEIVING:
        return RuleOutcome.KEPT_INACTIVE, state.value
    return RuleOutcome.ADDED, None


def _ticks_opt_out(change: RuleChange) -> bool:
    """Whether the change checks Email Opt Out (a record created checked counts)."""
    after = change.after
    return (
        after is not None
        and after.person.email_opt_out
        and (change.before is None or not change.before.person.email_opt_out)
    )


def _plan(
    changes: Iterable[RuleChange],
    ctx: _Context,
    *,
    retrospective: bool,
    unsubscribe_on_opt_out: bool = False,
) -> RulePlan:
    firings: list[RuleFiring] = []
    messages: list[MaintenanceMessage] = []
    adds: dict[str, dict[str, SubscriberImport]] = {}
    removes: dict[tuple[str, str], RemoveSubscriber] = {}
    for change in changes:
        record = change.after
        if record is None:
            continue
        email = record.person.email or ""
        lists_of_email = ctx.states.get(email_key(email), {})
        ticked = unsubscribe_on_opt_out and _ticks_opt_out(change)
        for held in ctx.lists:
            fired = [r for r in held.rules if _fires(r, change, ctx, retrospective=retrospective)]
            removing = any(not r.kind.adds for r in fired)
            for rule in fired:
                state = lists_of_email.get(held.list_id)
                outcome, message = _outcome(record, rule.kind.adds, state, removing, ticked, ctx)
                if outcome is RuleOutcome.REMOVED:
                    key = (held.list_id, email_key(email))
                    removes.setdefault(key, RemoveSubscriber(held.list_id, email))
                elif outcome is RuleOutcome.ADDED:
                    added = email_key(email)
                    if added not in adds.get(held.list_id, {}):
                        row = _add_row(record, email, ctx, held.list_id, messages)
                        adds.setdefault(held.list_id, {})[added] = row
                action = RuleAction.ADD if rule.kind.adds else RuleAction.REMOVE
                firings.append(
                    RuleFiring(record.record_id, held.list_id, rule.name, action, outcome, message)
                )
    commands: list[ImportSubscribers | RemoveSubscriber] = []
    for list_id, rows in adds.items():
        ordered = list(rows.values())
        commands.extend(
            ImportSubscribers(
                list_id, ordered[i : i + IMPORT_BATCH_SIZE], False, ctx.queue_journeys
            )
            for i in range(0, len(ordered), IMPORT_BATCH_SIZE)
        )
    commands.extend(removes.values())
    return RulePlan(tuple(commands), tuple(firings), messages=tuple(messages))


def _context(
    rules: Iterable[ListRules],
    memberships: Mapping[str, Iterable[ListMembership]],
    *,
    as_of: datetime,
    zone: tzinfo,
    prevent_opted_out_list_add: bool,
    sms_enabled: bool = False,
    sms_country: str | None = None,
    queue_journeys: bool = True,
    week_start: int = 6,
    subscriber_row: Callable[[RuleRecord], ImportRow] | None = None,
    field_mappings: Mapping[str, ListFieldMappings] | None = None,
) -> _Context:
    """The checked context of one evaluation, from the planners' shared options."""
    if not isinstance(as_of, datetime):
        raise InvalidTypeError("as_of", "a timezone-aware datetime", as_of)
    if as_of.utcoffset() is None:
        raise NaiveDatetimeError("as_of", as_of)
    if not isinstance(zone, tzinfo):
        raise InvalidTypeError("zone", "the org's time zone (a tzinfo, e.g. ZoneInfo)", zone)
    if type(week_start) is not int or not 0 <= week_start <= 6:
        raise InvalidValueError("week_start", "0 (Monday) to 6 (Sunday)", week_start)
    if subscriber_row is not None and not callable(subscriber_row):
        raise InvalidTypeError("subscriber_row", "a function of a RuleRecord", subscriber_row)
    mappings = _check_mappings(field_mappings)
    return _Context(
        _check_rules(rules),
        _states(memberships),
        as_of,
        zone,
        week_start,
        prevent_opted_out_list_add,
        sms_enabled,
        sms_country,
        queue_journeys,
        subscriber_row or _default_row,
        mappings,
    )


def _check_mappings(value: object) -> FrozenMap[str, ListFieldMappings]:
    """``field_mappings``: list id -> its :class:`ListFieldMappings` (``None``: none)."""
    from cmsf_core.domain.field_mappings import ListFieldMappings  # noqa: PLC0415

    if value is None:
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise InvalidTypeError("field_mappings", "a mapping of list id to ListFieldMappings", value)
    for list_id, mappings in value.items():
        if not isinstance(mappings, ListFieldMappings) or mappings.list_id != list_id:
            raise InvalidValueError(
                f"field_mappings[{list_id!r}]", "the ListFieldMappings of that list", mappings
            )
    return FrozenMap(value)


def _check_changes(changes: Sequence[RuleChange]) -> None:
    given: object = changes
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise InvalidTypeError("changes", "a sequence of RuleChange", changes)
    for change in changes:
        if not isinstance(change, RuleChange):
            raise InvalidTypeError("changes", "RuleChange values", change)


def plan_rule_changes(
    changes: Sequence[RuleChange],
    rules: Iterable[ListRules],
    memberships: Mapping[str, Iterable[ListMembership]],
    *,
    disable_triggers: bool,
    disable_bulk_triggers: bool,
    unsubscribe_on_opt_out: bool,
    **options: Unpack[RulePlanOptions],
) -> RulePlan:
    """Evaluate every list's rules for one trigger batch of contact and lead changes.

    ``memberships`` maps an email to its lists (as :func:`plan_record_changes` takes it).
    Triggers disabled: nothing fires; bulk triggers disabled: only the batch's first
    change.  An add rule fires by its evaluation time, a remove rule whenever the record
    meets it after a create or an edit; a deleted record fires nothing.  Adds become one
    :class:`ImportSubscribers` per list (``Resubscribe`` false, so a rule never
    reactivates an inactive subscriber; journeys queued as for an individual add unless
    ``queue_journeys`` is false), removals a :class:`RemoveSubscriber` for an Active or
    Unconfirmed subscriber.  ``subscriber_row(record)`` builds what is sent (default: the
    email alone); mobile numbers go through the SMS settings.  The plan is built whole or
    an error is raised.

    Opted-out records: with ``prevent_opted_out_list_add`` an add for a record whose
    Email Opt Out is checked is refused with the product's message; with
    ``unsubscribe_on_opt_out`` an add for a record whose box this change checks is refused
    too (the record is being unsubscribed from every list: those Unsubscribe commands come
    from :func:`plan_record_changes` for the same batch).

    ``field_mappings`` (list id -> its
    :class:`~cmsf_core.domain.field_mappings.ListFieldMappings`; the other planners take it
    too) adds each list's mapped custom fields, converted from the record's fields, to the
    rows an add sends; a value that cannot be converted is left out and reported in the
    plan's ``messages``.
    """
    _check_changes(changes)
    ctx = _context(rules, memberships, **options)
    processed = records_to_process(
        changes, disable_triggers=disable_triggers, disable_bulk_triggers=disable_bulk_triggers
    )
    plan = _plan(processed, ctx, retrospective=False, unsubscribe_on_opt_out=unsubscribe_on_opt_out)
    return attrs.evolve(plan, skipped=tuple(changes[len(processed) :]))


def plan_account_rule_changes(
    changes: Sequence[AccountChange],
    contacts: Iterable[RuleRecord],
    rules: Iterable[ListRules],
    memberships: Mapping[str, Iterable[ListMembership]],
    *,
    enable_account_trigger: bool,
    disable_triggers: bool,
    disable_bulk_triggers: bool,
    **options: Unpack[RulePlanOptions],
) -> RulePlan:
    """Re-evaluate the contacts' rules for one trigger batch of account changes.

    The contacts reached are :func:`plan_account_changes`'s (account trigger enabled,
    triggers not disabled, only the first account when bulk triggers are disabled).  Each
    is evaluated as an edit from its account's old fields to the new ones, with its own
    fields unchanged; ``skipped`` stays empty (it holds contact changes).
    """
    given: object = changes
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise InvalidTypeError("changes", "a sequence of AccountChange", changes)
    by_account: dict[str, AccountChange] = {}
    for change in changes:
        if not isinstance(change, AccountChange):
            raise InvalidTypeError("changes", "AccountChange values", change)
        by_account.setdefault(change.account_id, change)
    records = _rule_records(contacts, "contacts")
    ctx = _context(rules, memberships, **options)
    reached = plan_account_changes(
        [c.account_id for c in changes],
        [r.person for r in records],
        enable_account_trigger=enable_account_trigger,
        disable_triggers=disable_triggers,
        disable_bulk_triggers=disable_bulk_triggers,
    )
    by_id: dict[str, RuleRecord] = {}
    for contact in records:
        by_id.setdefault(contact.record_id, contact)
    edits = []
    for person in reached:
        record = by_id[person.record_id]
        change = by_account[person.account_id or ""]
        edits.append(
            RuleChange(
                attrs.evolve(record, account=change.before),
                attrs.evolve(record, account=change.after),
            )
        )
    return _plan(edits, ctx, retrospective=False)


def plan_retrospective_run(
    records: Iterable[RuleRecord],
    rules: Iterable[ListRules],
    memberships: Mapping[str, Iterable[ListMembership]],
    **options: Unpack[RulePlanOptions],
) -> RulePlan:
    """An administrator's retrospective run: every active rule over ``records`` as they
    are now, whatever the evaluation time.

    It is an explicit run, not a trigger, so the trigger settings do not gate it; the
    opted-out refusal and the SMS settings apply as on every route.
    """
    given = _rule_records(records, "records")
    ctx = _context(rules, memberships, **options)
    return _plan([RuleChange(None, r) for r in given], ctx, retrospective=True)
