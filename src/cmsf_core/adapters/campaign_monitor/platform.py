"""Campaign Monitor as an email platform: the port's reads and commands over the API.

:class:`CampaignMonitorPlatform` implements :class:`~cmsf_core.ports.platform.EmailPlatform`
with the ``createsend`` classes (``CreateSend``, ``Client``, ``Campaign``, ``List``,
``Subscriber``) sent over its :class:`~cmsf_core.adapters.campaign_monitor.client.ApiClient`
session: clients, sent campaigns, tracking pages, summaries, list states, the suppression
list, subscriber commands and custom fields, with every time localised in the client's zone.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from cmsf_core.adapters.campaign_monitor.client import ApiClient, CampaignInfo
from cmsf_core.adapters.campaign_monitor.custom_fields import (
    field_from_api,
    field_to_api,
    subscriber_from_api,
)
from cmsf_core.adapters.campaign_monitor.local_times import (
    localise,
    parse_local_datetime,
    wall_minute,
)
from cmsf_core.adapters.campaign_monitor.paging import every_row, rows_of, tracking_request
from cmsf_core.adapters.campaign_monitor.rows import (
    BOUNCE_TYPES,
    LIST_STATES,
    PAGE_SIZE_LIMIT,
    STREAMS,
    import_request,
    read_import_result,
    read_list_membership,
    read_suppressed_email,
    value,
)
from cmsf_core.adapters.errors import BadRequestError, NotFoundError, PlatformError
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import InvalidTypeError
from cmsf_core.domain.field_mappings import PlatformField, PlatformSubscriber, platform_key
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
    Unsubscribe,
    email_key,
)
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.ports.platform import EmailPlatform

__all__ = ["LIST_STATE_METHODS", "PAGE_SIZE_LIMIT", "STREAM_METHODS", "CampaignMonitorPlatform"]

#: The ``Campaign`` method serving each tracking stream.
STREAM_METHODS = STREAMS
#: The ``List`` methods serving each subscriber state (``subscriber_changes`` and
#: ``list_subscribers`` read them all, in this order).
LIST_STATE_METHODS = tuple(LIST_STATES)
#: Campaign Monitor's code for "Invalid ListID".
_INVALID_LIST = 101


def _required(row: Any, name: str, operation: str) -> Any:
    found = value(row, name)
    if found is None:
        raise PlatformError(f"the response has no {name!r}", operation=operation)
    return found


def _local(text: object, zone: tzinfo, field: str) -> datetime:
    return localise(parse_local_datetime(text, field), zone)


class CampaignMonitorPlatform(ApiClient, EmailPlatform):
    """Campaign Monitor as an :class:`~cmsf_core.ports.platform.EmailPlatform`.

    ``credentials``: an API key (``Credentials.api_key``) or OAuth tokens
    (``Credentials.oauth``).  ``timeout``: seconds for each HTTP exchange.  ``retries``:
    further attempts after a transient failure (HTTP 429/5xx, a timeout, a reset), waiting
    ``backoff(attempt)`` seconds (or the ``Retry-After`` the platform asks for, up to 60)
    before each.  ``time_zones``: IANA zones by client id, for clients whose time-zone
    name cannot be mapped.

    OAuth: when the platform answers 401 with code 121 ("Expired OAuth Token"), or before
    a request once ``credentials.expires_at`` has passed, the tokens are renewed with
    createsend's refresh flow (``POST oauth/token`` with ``grant_type=refresh_token``) and
    the request is sent again, once.  ``on_refresh_token`` is then called with the new
    :class:`~cmsf_core.domain.connection.Credentials` (the new access and refresh tokens
    and their ``expires_at``): keep them for the next process, as the old refresh token may
    no longer work.  ``oauth_token_uri`` defaults to ``/oauth/token`` on the API's host.

    ``base_uri``, ``oauth_token_uri``, ``transport``, ``sleep`` and ``clock`` exist for
    tests.
    """

    def _campaign(self, campaign_id: str) -> CampaignInfo:
        if campaign_id not in self._campaigns:
            for client in self.clients():
                if self._zone_entry(client.client_id)[1] is None:
                    continue  # its campaigns cannot be read (that client fails alone)
                self.sent_campaigns(client.client_id)
                if campaign_id in self._campaigns:
                    break
            else:
                raise NotFoundError(
                    f"no sent campaign {campaign_id!r} in any client", operation="tracking_page"
                )
        return self._campaigns[campaign_id]

    # -- the port ----------------------------------------------------------------------

    def clients(self) -> Sequence[PlatformClient]:
        """Every client with its IANA zone.  A client whose time zone maps to no IANA zone
        (and has no ``time_zones`` override) is listed with the platform's name for it;
        reading that client raises
        :class:`~cmsf_core.adapters.cm_time_zones.UnmappableTimeZoneError`, the others
        are read as usual."""
        rows = self._call("clients", lambda: self._api("CreateSend").clients())
        found = []
        for row in rows_of(rows):
            client_id = str(_required(row, "ClientID", "clients"))
            name, _zone = self._zone_entry(client_id)  # unmapped: the platform's name
            found.append(PlatformClient(client_id, str(_required(row, "Name", "clients")), name))
        return tuple(found)

    def sent_campaigns(
        self,
        client_id: str,
        *,
        sent_from: date | None = None,
        tags: Collection[str] = (),
    ) -> Sequence[PlatformCampaign]:
        """The client's sent campaigns, oldest first; ``sent_from`` (a local date) and
        ``tags`` (any of them) are the API's own filters."""
        zone = self._zone(client_id)
        api = self._api("Client", client_id)
        since = "" if sent_from is None else sent_from.isoformat()
        wanted = ",".join(sorted(tags))

        def fetch(number: int) -> Any:
            return self._call(
                "sent_campaigns",
                lambda: api.campaigns(
                    sent_from_date=since,
                    tags=wanted,
                    page=number,
                    page_size=PAGE_SIZE_LIMIT,
                    order_direction="asc",
                ),
            )

        first = fetch(1)
        rows = (
            list(first)
            if isinstance(first, list | tuple)  # API versions before paging: a plain list
            else list(every_row(lambda n: first if n == 1 else fetch(n)))
        )
        campaigns = []
        for row in rows:
            campaign = PlatformCampaign(
                client_id,
                str(_required(row, "CampaignID", "sent_campaigns")),
                str(_required(row, "Name", "sent_campaigns")),
                _local(_required(row, "SentDate", "sent_campaigns"), zone, "SentDate"),
                frozenset(_tag_names(value(row, "Tags", None) or ())),
                subject=str(value(row, "Subject", "") or ""),
            )
            self._campaigns[campaign.campaign_id] = CampaignInfo(client_id, campaign.sent_at)
            campaigns.append(campaign)
        campaigns.sort(key=lambda c: (c.sent_at, c.campaign_id))
        return tuple(campaigns)

    def tracking_page(
        self,
        campaign_id: str,
        stream: ActivityType,
        *,
        since: datetime | None,
        page: int,
        page_size: int,
    ) -> TrackingPage:
        stream, start = tracking_request(stream, since, page, page_size, PAGE_SIZE_LIMIT)
        info = self._campaign(campaign_id)
        zone = self._zone(info.client_id)
        api = self._api("Campaign", campaign_id)
        if stream is ActivityType.SENT:
            # Recipients carry no date: every one was sent at the campaign's SentDate.
            if start is not None and info.sent_at < start:
                return TrackingPage((), page, page_size, 1, 0)
            envelope = self._call(
                "tracking_page", lambda: api.recipients(page, page_size, "email", "asc")
            )
        else:
            method = getattr(api, STREAM_METHODS[stream])
            filter_ = "" if start is None else wall_minute(start, zone)
            envelope = self._call(
                "tracking_page", lambda: method(filter_, page, page_size, "date", "asc")
            )
        events = tuple(
            self._event(row, stream, info, zone) for row in value(envelope, "Results", ()) or ()
        )
        return TrackingPage(
            events,
            page_number=int(value(envelope, "PageNumber", page)),
            page_size=int(value(envelope, "PageSize", page_size)),
            number_of_pages=int(value(envelope, "NumberOfPages", 0)),
            total_number_of_records=int(value(envelope, "TotalNumberOfRecords", len(events))),
        )

    def _event(
        self, row: Any, stream: ActivityType, info: CampaignInfo, zone: tzinfo
    ) -> TrackingEvent:
        email = str(_required(row, "EmailAddress", "tracking_page"))
        raw_date = value(row, "Date")
        occurred_at = (
            info.sent_at
            if stream is ActivityType.SENT and raw_date is None
            else _local(raw_date, zone, "Date")
        )
        # The clicked URL, the bounce type; read leniently (a row without one has none).  An
        # unsubscribes row's URL is the unsubscribe link, not part of the event (as the file
        # adapter reads it: the same unsubscribe gets the same key from either).
        detail = None
        if stream is not ActivityType.UNSUBSCRIBED:
            detail = value(row, "BounceType" if stream is ActivityType.BOUNCED else "URL") or None
        if detail is not None:
            detail = str(detail)
            if stream is ActivityType.BOUNCED:
                detail = BOUNCE_TYPES.get(detail.casefold(), detail)
        list_id = value(row, "ListID")
        return TrackingEvent(
            stream, email, occurred_at, list_id=str(list_id) if list_id else None, detail=detail
        )

    def campaign_summary(self, campaign_id: str) -> CampaignSummary:
        answer = self._call(
            "campaign_summary", lambda: self._api("Campaign", campaign_id).summary()
        )
        return CampaignSummary(
            **{
                ours: int(value(answer, theirs, 0) or 0)
                for ours, theirs in CampaignSummary.API_FIELDS
            }
        )

    def _list_ids(self, client_id: str) -> list[str]:
        rows = self._call("lists", lambda: self._api("Client", client_id).lists())
        return [str(_required(row, "ListID", "lists")) for row in rows_of(rows)]

    def subscriber_changes(self, client_id: str, *, since: datetime | None) -> Sequence[str]:
        zone = self._zone(client_id)
        start = None if since is None else ensure_utc(since, "since")
        filter_ = "" if start is None else wall_minute(start, zone)[:10]  # the API's day filter
        changed: dict[str, str] = {}
        for list_id in self._list_ids(client_id):
            api = self._api("List", list_id)
            for state in LIST_STATE_METHODS:
                rows = every_row(
                    functools.partial(
                        self._list_page, "subscriber_changes", getattr(api, state), filter_, "date"
                    )
                )
                for row in rows:
                    email = str(_required(row, "EmailAddress", "subscriber_changes"))
                    if start is not None and _state_changed(row, zone) < start:
                        continue
                    changed.setdefault(email_key(email), email)
        return tuple(changed.values())

    def _list_page(
        self, operation: str, method: Any, filter_: str, order_field: str, number: int
    ) -> Any:
        """Page ``number`` of a ``List`` state method (``List.active``, ...)."""
        return self._call(
            operation, lambda: method(filter_, number, PAGE_SIZE_LIMIT, order_field, "asc")
        )

    def list_subscribers(self, client_id: str, list_id: str) -> Mapping[str, SubscriberState]:
        """Every page of ``lists/{id}/active.json``, ``unconfirmed.json``,
        ``unsubscribed.json``, ``bounced.json`` and ``deleted.json`` (no date filter).  An
        email served in two states (it changed state while the pages were read) takes the
        state read last.  A list that is not the client's raises
        :class:`~cmsf_core.adapters.errors.NotFoundError` (code 101) without reading it."""
        self._owned_list(client_id, list_id, "list_subscribers")
        api = self._api("List", list_id)
        found: dict[str, tuple[str, SubscriberState]] = {}
        for method_name in LIST_STATE_METHODS:
            state = LIST_STATES[method_name]
            fetch = functools.partial(
                self._list_page, "list_subscribers", getattr(api, method_name), "", "email"
            )
            for row in every_row(fetch):
                email = str(_required(row, "EmailAddress", "list_subscribers"))
                found[email_key(email)] = (email, state)
        return dict(found.values())

    def lists_for_email(self, client_id: str, email: str) -> Sequence[ListMembership]:
        zone = self._zone(client_id)
        rows = self._call(
            "lists_for_email", lambda: self._api("Client", client_id).lists_for_email(email)
        )
        found = []
        for row in rows_of(rows):
            added = value(row, "DateSubscriberAdded")
            found.append(
                read_list_membership(
                    {
                        "ListID": value(row, "ListID"),
                        "ListName": value(row, "ListName"),
                        "SubscriberState": value(row, "SubscriberState"),
                        "DateSubscriberAdded": (
                            None if not added else _local(added, zone, "DateSubscriberAdded")
                        ),
                    },
                    zone,
                )
            )
        return tuple(found)

    def suppression_list(self, client_id: str) -> Sequence[SuppressedEmail]:
        zone = self._zone(client_id)
        api = self._api("Client", client_id)
        rows = every_row(
            lambda n: self._call(
                "suppression_list", lambda: api.suppressionlist(n, PAGE_SIZE_LIMIT, "date", "asc")
            )
        )
        return tuple(
            read_suppressed_email(
                {
                    "EmailAddress": value(row, "EmailAddress"),
                    "SuppressionReason": value(row, "SuppressionReason"),
                    "State": value(row, "State") or "Suppressed",
                    "Date": _local(value(row, "Date"), zone, "Date"),
                },
                zone,
            )
            for row in rows
        )

    def execute(
        self, client_id: str, commands: Sequence[PlatformCommand]
    ) -> Sequence[CommandResult]:
        """Run the commands in order.  A command the platform refuses (HTTP 400/404, or a
        list that is not the client's) gets a failed result and the next one runs; an
        authentication or transient failure raises, leaving the rest unsent."""
        owned = set(self._list_ids(client_id))
        results = []
        for command in commands:
            if command.list_id not in owned:
                results.append(CommandResult(command, False, f"[{_INVALID_LIST}] Invalid ListID"))
                continue
            try:
                results.append(self._run(command))
            except (BadRequestError, NotFoundError) as refused:
                results.append(CommandResult(command, False, str(refused)))
        return tuple(results)

    def _run(self, command: PlatformCommand) -> CommandResult:
        if isinstance(command, ImportSubscribers):
            api = self._api("Subscriber", command.list_id)
            body = import_request(command)
            answer = self._call(
                "import",
                lambda: api.import_subscribers(
                    command.list_id,
                    body["Subscribers"],
                    command.resubscribe,
                    command.queue_subscription_based_autoresponders,
                    command.restart_subscription_based_autoresponders,
                ),
            )
            result = read_import_result(answer)
            if result.failure_details:
                return CommandResult(
                    command,
                    False,
                    f"Subscriber Import had some failures: {len(result.failure_details)} of "
                    f"{len(command.subscribers)} rows refused",
                    import_result=result,
                )
            return CommandResult(command, True, import_result=result)
        api = self._api("Subscriber", command.list_id, command.email)
        if isinstance(command, Unsubscribe):
            self._call("unsubscribe", api.unsubscribe)
        else:  # MarkDeleted, RemoveSubscriber: the subscriber moves to Deleted
            self._call("delete", api.delete)
        return CommandResult(command, True)

    # -- custom fields (field mappings) -------------------------------------------------------

    def _owned_list(self, client_id: str, list_id: str, operation: str) -> None:
        if list_id not in self._list_ids(client_id):
            raise NotFoundError(
                f"Invalid ListID: {list_id!r} is not a list of client {client_id!r}",
                code=_INVALID_LIST,
                operation=operation,
            )

    def custom_fields(self, client_id: str, list_id: str) -> Sequence[PlatformField]:
        """``List.custom_fields`` (``GET lists/{id}/customfields``)."""
        self._owned_list(client_id, list_id, "custom_fields")
        rows = self._call("custom_fields", lambda: self._api("List", list_id).custom_fields())
        return tuple(field_from_api(row) for row in rows_of(rows))

    def create_custom_field(
        self, client_id: str, list_id: str, field: PlatformField
    ) -> PlatformField:
        """``List.create_custom_field`` (``POST lists/{id}/customfields``); the platform
        answers with the new field's key."""
        if not isinstance(field, PlatformField):
            raise InvalidTypeError("field", "a PlatformField", field)
        self._owned_list(client_id, list_id, "create_custom_field")
        body = field_to_api(field)
        key = self._call(
            "create_custom_field",
            lambda: self._api("List", list_id).create_custom_field(
                body["FieldName"], body["DataType"], body["Options"], True
            ),
        )
        if not isinstance(key, str) or not key.strip():
            key = platform_key(field.name)
        return PlatformField(field.name, field.data_type, field.options, key=key)

    def subscriber_values(self, client_id: str, list_id: str) -> Sequence[PlatformSubscriber]:
        """Every page of ``List.active`` with each row's ``Name`` and ``CustomFields``."""
        fields = self.custom_fields(client_id, list_id)
        fetch = functools.partial(
            self._list_page, "subscriber_values", self._api("List", list_id).active, "", "email"
        )
        found: dict[str, PlatformSubscriber] = {}
        for row in every_row(fetch):
            subscriber = subscriber_from_api(list_id, row, fields)
            found[email_key(subscriber.email)] = subscriber
        return tuple(found.values())


def _tag_names(tags: Any) -> list[str]:
    names = []
    for tag in tags:
        name = tag if isinstance(tag, str) else value(tag, "Name")
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _state_changed(row: Any, zone: tzinfo) -> datetime:
    """When a list subscriber's state last changed: ``StateChangedDate`` in the answers of
    the current API (as createsend's own fixtures show), ``Date`` in older ones."""
    for field in ("StateChangedDate", "Date"):
        found = value(row, field)
        if found not in (None, ""):
            return _local(found, zone, field)
    raise PlatformError(
        "the response has no 'StateChangedDate' (nor 'Date')", operation="subscriber_changes"
    )
