"""The email platform held in memory: :class:`InMemoryPlatform`, a Campaign Monitor account
with its clients, sent campaigns, tracking streams served page by page, subscriber lists,
suppression lists and custom fields, which executes subscriber commands on them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

import attrs

from cmsf_core.adapters.campaign_monitor.paging import serve_page
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings import (
    PlatformField,
    PlatformFieldType,
    PlatformSubscriber,
    platform_key,
)
from cmsf_core.domain.records.platform import (
    CampaignSummary,
    PlatformCampaign,
    PlatformClient,
    TrackingEvent,
    TrackingPage,
)
from cmsf_core.domain.subscribers import (
    CommandResult,
    ImportSubscribers,
    ListMembership,
    PlatformCommand,
    SubscriberState,
    SuppressedEmail,
    email_key,
    run_on_list,
)
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.ports.platform import EmailPlatform


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


@attrs.define
class InMemoryPlatform(EmailPlatform):
    """A Campaign Monitor account held in memory."""

    page_size_limit: int = 1000
    _clients: dict[str, PlatformClient] = attrs.field(factory=dict, init=False)
    _campaigns: dict[str, PlatformCampaign] = attrs.field(factory=dict, init=False)
    _events: defaultdict[tuple[str, ActivityType], list[TrackingEvent]] = attrs.field(
        factory=lambda: defaultdict(list), init=False
    )
    _sorted: set[tuple[str, ActivityType]] = attrs.field(factory=set, init=False)
    _summaries: dict[str, CampaignSummary] = attrs.field(factory=dict, init=False)
    #: (client id, list id) -> email key -> (email, state, when the state last changed)
    _lists: dict[tuple[str, str], dict[str, tuple[str, SubscriberState, datetime]]] = attrs.field(
        factory=dict, init=False
    )
    _list_names: dict[tuple[str, str], str] = attrs.field(factory=dict, init=False)
    _suppressed: defaultdict[str, dict[str, SuppressedEmail]] = attrs.field(
        factory=lambda: defaultdict(dict), init=False
    )
    #: Every executed command with its client id, in order (for tests and notebooks).
    executed: list[tuple[str, PlatformCommand]] = attrs.field(factory=list, init=False)
    #: (client id, list id) -> its custom fields, and each subscriber's values by key.
    _custom_fields: dict[tuple[str, str], list[PlatformField]] = attrs.field(
        factory=dict, init=False
    )
    _values: dict[tuple[str, str], dict[str, tuple[str, dict[str, object]]]] = attrs.field(
        factory=dict, init=False
    )
    #: The clock the executed commands' state changes are stamped with.
    clock: Callable[[], datetime] = attrs.field(default=lambda: datetime.now(UTC), kw_only=True)

    # -- seeding ---------------------------------------------------------------------

    def add_client(self, client_id: str, name: str, *, time_zone: str = "UTC") -> PlatformClient:
        """Add a client (an agency account holds several)."""
        client = PlatformClient(client_id, name, time_zone)
        self._clients[client_id] = client
        return client

    def add_campaign(
        self,
        client_id: str,
        campaign_id: str,
        name: str,
        *,
        sent_at: datetime,
        tags: Iterable[str] = (),
    ) -> PlatformCampaign:
        """Add a sent campaign to a client."""
        if client_id not in self._clients:
            raise InvalidValueError("client_id", "a client added first", client_id)
        campaign = PlatformCampaign(client_id, campaign_id, name, sent_at, frozenset(tags))
        self._campaigns[campaign_id] = campaign
        return campaign

    def remove_campaign(self, campaign_id: str) -> None:
        """Delete a campaign with its events and summary: the platform no longer reports it."""
        self._campaigns.pop(campaign_id, None)
        self._summaries.pop(campaign_id, None)
        for stream in [s for s in self._events if s[0] == campaign_id]:
            del self._events[stream]
            self._sorted.discard(stream)

    def add_event(
        self,
        campaign_id: str,
        activity_type: ActivityType,
        email: str,
        at: datetime,
        *,
        list_id: str | None = None,
        detail: str | None = None,
    ) -> TrackingEvent:
        """Record an event; times are kept to the minute, as the platform reports them."""
        if campaign_id not in self._campaigns:
            raise InvalidValueError("campaign_id", "a campaign added first", campaign_id)
        event = TrackingEvent(
            activity_type, email, _minute(ensure_utc(at, "at")), list_id=list_id, detail=detail
        )
        stream = (campaign_id, event.type)
        self._events[stream].append(event)
        self._sorted.discard(stream)
        return event

    def add_events(self, campaign_id: str, events: Iterable[TrackingEvent]) -> None:
        """Record several events at once."""
        for e in events:
            self.add_event(
                campaign_id, e.type, e.email, e.occurred_at, list_id=e.list_id, detail=e.detail
            )

    def set_summary(self, campaign_id: str, summary: CampaignSummary) -> None:
        """Override the summary computed from the events."""
        self._summaries[campaign_id] = summary

    def add_list(self, client_id: str, list_id: str, name: str | None = None) -> None:
        """Add an empty subscriber list to a client (``set_membership`` adds one too)."""
        if client_id not in self._clients:
            raise InvalidValueError("client_id", "a client added first", client_id)
        self._lists.setdefault((client_id, list_id), {})
        self._list_names[(client_id, list_id)] = name if name is not None else list_id

    def set_membership(
        self,
        client_id: str,
        list_id: str,
        email: str,
        state: SubscriberState | str,
        *,
        at: datetime,
    ) -> None:
        """Put ``email`` on a client's list in ``state``, changed at ``at`` (what
        ``subscriber_changes`` reports); the list is added if needed."""
        if (client_id, list_id) not in self._lists:
            self.add_list(client_id, list_id)
        parsed = SubscriberState.parse(state)
        if parsed is SubscriberState.SUPPRESSED:
            raise InvalidValueError("state", "a list state (use add_suppressed)", parsed.value)
        self._lists[(client_id, list_id)][email_key(email)] = (
            email.strip(),
            parsed,
            ensure_utc(at, "at"),
        )

    def add_suppressed(self, client_id: str, email: str, reason: str, at: datetime) -> None:
        """Put ``email`` on the client's suppression list."""
        if client_id not in self._clients:
            raise InvalidValueError("client_id", "a client added first", client_id)
        self._suppressed[client_id][email_key(email)] = SuppressedEmail(email, reason, at)

    def remove_suppressed(self, client_id: str, email: str) -> None:
        """Take ``email`` off the client's suppression list (unsuppress it)."""
        self._suppressed[client_id].pop(email_key(email), None)

    def state(self, client_id: str, list_id: str, email: str) -> SubscriberState | None:
        """The state of ``email`` on a client's list, if it is on it (for tests)."""
        found = self._lists.get((client_id, list_id), {}).get(email_key(email))
        return found[1] if found else None

    # -- the port ----------------------------------------------------------------------

    def clients(self) -> Sequence[PlatformClient]:
        return tuple(self._clients.values())

    def sent_campaigns(self, client_id: str) -> Sequence[PlatformCampaign]:
        return tuple(
            sorted(
                (c for c in self._campaigns.values() if c.client_id == client_id),
                key=lambda c: (c.sent_at, c.campaign_id),
            )
        )

    def tracking_page(
        self,
        campaign_id: str,
        stream: ActivityType,
        *,
        since: datetime | None,
        page: int,
        page_size: int,
    ) -> TrackingPage:
        if not 1 <= page_size <= self.page_size_limit:
            raise InvalidValueError("page_size", f"between 1 and {self.page_size_limit}", page_size)
        if page < 1:
            raise InvalidValueError("page", ">= 1", page)
        key = (campaign_id, stream)
        events = self._events.get(key, [])
        if key not in self._sorted:
            events.sort(key=lambda e: e.occurred_at)  # stable: arrival order within a minute
            self._sorted.add(key)
        start = None if since is None else ensure_utc(since, "since")
        return serve_page(events, since=start, page=page, page_size=page_size)

    def campaign_summary(self, campaign_id: str) -> CampaignSummary:
        if campaign_id in self._summaries:
            return self._summaries[campaign_id]
        streams = {t: self._events.get((campaign_id, t), []) for t in ActivityType}
        return CampaignSummary(
            recipients=len(streams[ActivityType.SENT]),
            total_opened=len(streams[ActivityType.OPENED]),
            unique_opened=len({email_key(e.email) for e in streams[ActivityType.OPENED]}),
            clicks=len(streams[ActivityType.CLICKED]),
            bounced=len(streams[ActivityType.BOUNCED]),
            unsubscribed=len(streams[ActivityType.UNSUBSCRIBED]),
            spam_complaints=len(streams[ActivityType.SPAM_COMPLAINT]),
        )

    def all_events(self, campaign_id: str) -> tuple[TrackingEvent, ...]:
        """Every event of a campaign, all streams (for tests and notebooks)."""
        return tuple(e for t in ActivityType for e in self._events.get((campaign_id, t), []))

    def subscriber_changes(self, client_id: str, *, since: datetime | None) -> Sequence[str]:
        if since is not None:
            since = ensure_utc(since, "since")
        changed: dict[str, str] = {}
        for (owner, _list_id), subscribers in self._lists.items():
            if owner != client_id:
                continue
            for key, (email, _state, at) in subscribers.items():
                if since is None or at >= since:
                    changed.setdefault(key, email)
        return tuple(changed.values())

    def lists_for_email(self, client_id: str, email: str) -> Sequence[ListMembership]:
        key = email_key(email)
        return tuple(
            ListMembership(list_id, self._list_names[(owner, list_id)], found[1])
            for (owner, list_id), subscribers in self._lists.items()
            if owner == client_id and (found := subscribers.get(key)) is not None
        )

    def list_subscribers(self, client_id: str, list_id: str) -> Mapping[str, SubscriberState]:
        subscribers = self._lists.get((client_id, list_id))
        if subscribers is None:
            raise InvalidValueError("list_id", f"a list of client {client_id!r}", list_id)
        return {email: state for email, state, _at in subscribers.values()}

    def suppression_list(self, client_id: str) -> Sequence[SuppressedEmail]:
        return tuple(self._suppressed.get(client_id, {}).values())

    def execute(
        self, client_id: str, commands: Sequence[PlatformCommand]
    ) -> Sequence[CommandResult]:
        results = []
        for command in commands:
            self.executed.append((client_id, command))
            subscribers = self._lists.get((client_id, command.list_id))
            if subscribers is None:
                results.append(CommandResult(command, False, "Invalid ListID"))
                continue
            results.append(self._run(subscribers, command))
            if isinstance(command, ImportSubscribers):
                self._keep_values(client_id, command)
        return tuple(results)

    def _run(
        self,
        subscribers: dict[str, tuple[str, SubscriberState, datetime]],
        command: PlatformCommand,
    ) -> CommandResult:
        now = ensure_utc(self.clock(), "clock")
        result, changes = run_on_list(
            command, lambda key: None if (found := subscribers.get(key)) is None else found[1]
        )
        for change in changes:
            shown = change.email if change.added else subscribers[change.key][0]
            subscribers[change.key] = (shown, change.state, now)
        return result

    # -- custom fields (field mappings) -----------------------------------------------------

    def _list_of(self, client_id: str, list_id: str) -> tuple[str, str]:
        if (client_id, list_id) not in self._lists:
            raise InvalidValueError("list_id", f"a list of client {client_id!r}", list_id)
        return (client_id, list_id)

    def set_subscriber_values(
        self,
        client_id: str,
        list_id: str,
        email: str,
        values: Mapping[str, str | tuple[str, ...]],
        *,
        name: str = "",
    ) -> None:
        """Set an email's name and custom field values on a list (seeding: as a subscriber
        filling in a form would); keys the list does not have are refused."""
        where = self._list_of(client_id, list_id)
        known = {f.key for f in self._custom_fields.get(where, ())}
        for key in values:
            if key not in known:
                raise InvalidValueError("values", f"keys of the list's fields {sorted(known)}", key)
        held = self._values.setdefault(where, {})
        _old, old_values = held.get(email_key(email), ("", {}))
        held[email_key(email)] = (name, {**old_values, **values})

    def custom_fields(self, client_id: str, list_id: str) -> Sequence[PlatformField]:
        return tuple(self._custom_fields.get(self._list_of(client_id, list_id), ()))

    def create_custom_field(
        self, client_id: str, list_id: str, field: PlatformField
    ) -> PlatformField:
        if not isinstance(field, PlatformField):
            raise InvalidTypeError("field", "a PlatformField", field)
        fields = self._custom_fields.setdefault(self._list_of(client_id, list_id), [])
        created = attrs.evolve(field, key=platform_key(field.name))
        if any(f.key.casefold() == created.key.casefold() for f in fields):
            raise InvalidValueError("field", "a field name the list does not have", field.name)
        selects = (PlatformFieldType.SELECT_ONE, PlatformFieldType.SELECT_MANY)
        if field.data_type in selects and not field.options:
            raise InvalidValueError("field.options", "options for a select field", ())
        fields.append(created)
        return created

    def subscriber_values(self, client_id: str, list_id: str) -> Sequence[PlatformSubscriber]:
        where = self._list_of(client_id, list_id)
        known = {f.key for f in self._custom_fields.get(where, ())}
        held = self._values.get(where, {})
        found = []
        for key, (email, state, _at) in self._lists[where].items():
            if state is not SubscriberState.ACTIVE:
                continue
            name, values = held.get(key, ("", {}))
            shown = {k: v for k, v in values.items() if k in known and v not in ("", ())}
            found.append(PlatformSubscriber(list_id, email, name, shown))
        return tuple(found)

    def _keep_values(self, client_id: str, command: ImportSubscribers) -> None:
        """An import sets the rows' names and the values of fields the list has (the
        platform ignores keys it does not know)."""
        where = (client_id, command.list_id)
        known = {f.key for f in self._custom_fields.get(where, ())}
        held = self._values.setdefault(where, {})
        for row in command.subscribers:
            old_name, old_values = held.get(email_key(row.email), ("", {}))
            sent = {k: v for k, v in row.custom_fields.items() if k in known}
            held[email_key(row.email)] = (row.name or old_name, {**old_values, **sent})
