"""The email-platform port over Campaign Monitor's official ``createsend`` client.

:class:`CampaignMonitorPlatform` implements :class:`~cmsf_core.ports.platform.EmailPlatform`
with the ``createsend`` classes (``CreateSend``, ``Client``, ``Campaign``, ``List``,
``Subscriber``): their URLs, parameters and response parsing are the client's own.  Only the
HTTP exchange is the adapter's: every request goes through a *transport* with a timeout
(the client sets none) and is retried with backoff on transient failures.  Install the
``[campaignmonitor]`` extra; ``createsend`` is imported on first use, never at
``import cmsf_core``.

Time: Campaign Monitor gives naive local times of the client's time zone
(``Client.details().BasicDetails.TimeZone``, a display name such as
``"(GMT+10:00) Canberra, Melbourne, Sydney"``).  The zone is mapped to IANA by
:func:`cmsf_core.adapters.files.zone_for_time_zone` and every time is localised once, here,
by :func:`cmsf_core.adapters.files.localise` (a time in a DST gap moves forward by the
gap's length; a time in a fold is its first occurrence).  A ``since`` filter is sent as the
client's local wall time ``"YYYY-MM-DD HH:MM"``, rounded up to the whole minute (the
platform's precision, so no event before ``since`` is served).

Errors become :class:`~cmsf_core.adapters.errors.PlatformError` subclasses carrying the
API's ``Code`` (121 -> :class:`~cmsf_core.adapters.errors.ExpiredTokenError`).  The
credentials are :class:`~cmsf_core.domain.connection.Credentials`: the secret is revealed
only into the ``Authorization`` header of a request, never kept by the ``createsend``
objects, and never shown in a repr, an error or a log record.  ``docs/adapters.md`` has
the details.
"""

from __future__ import annotations

import functools
import gzip
import http.client
import json
import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from types import ModuleType
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import attrs

from cmsf_core.adapters.cm_time_zones import UnmappableTimeZoneError, check_time_zones
from cmsf_core.adapters.errors import (
    AuthenticationError,
    BadRequestError,
    ExpiredTokenError,
    NotFoundError,
    PlatformError,
    PlatformUnavailableError,
    RateLimitedError,
)
from cmsf_core.adapters.files import localise, parse_local_datetime, zone_for_time_zone
from cmsf_core.adapters.retry import RETRY_STATUSES, default_backoff, retry_after
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.connection import CredentialKind, Credentials, withheld_type_error
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.records import (
    CampaignSummary,
    PlatformCampaign,
    PlatformClient,
    TrackingEvent,
    TrackingPage,
    check_page_request,
)
from cmsf_core.domain.sms import MissingDependencyError
from cmsf_core.domain.subscribers import (
    CommandResult,
    ImportResult,
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

__all__ = [
    "DEFAULT_BASE_URI",
    "PAGE_SIZE_LIMIT",
    "CampaignMonitorPlatform",
    "Response",
    "Transport",
    "default_backoff",
    "http_transport",
]

_log = logging.getLogger(__name__)

#: The API root the official client uses.
DEFAULT_BASE_URI = "https://api.createsend.com/api/v3.3"
#: The largest page the API serves.
PAGE_SIZE_LIMIT = 1000

#: The ``Campaign`` method serving each tracking stream.
STREAM_METHODS: Mapping[ActivityType, str] = {
    ActivityType.SENT: "recipients",
    ActivityType.OPENED: "opens",
    ActivityType.CLICKED: "clicks",
    ActivityType.BOUNCED: "bounces",
    ActivityType.UNSUBSCRIBED: "unsubscribes",
    ActivityType.SPAM_COMPLAINT: "spam",
}
#: The state each ``List`` method serves.
_LIST_METHOD_STATES: Mapping[str, SubscriberState] = {
    "active": SubscriberState.ACTIVE,
    "unconfirmed": SubscriberState.UNCONFIRMED,
    "unsubscribed": SubscriberState.UNSUBSCRIBED,
    "bounced": SubscriberState.BOUNCED,
    "deleted": SubscriberState.DELETED,
}
#: The ``List`` methods serving each subscriber state (``subscriber_changes`` and
#: ``list_subscribers`` read them all, in this order).
LIST_STATE_METHODS = tuple(_LIST_METHOD_STATES)
_BOUNCE_TYPES = {"soft": "Soft", "hard": "Hard"}
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Campaign Monitor's code for "Invalid ListID".
_INVALID_LIST = 101


# ----------------------------------------------------------------------------- transport


class Response(NamedTuple):
    """What a transport returns: the HTTP status, the headers (lower-case names), the body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """Sends one HTTP request; raises ``OSError`` (or ``http.client.HTTPException``) when
    no answer arrives.  Inject one to test, record or proxy the adapter's traffic."""

    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float
    ) -> Response: ...


def http_transport(
    method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float
) -> Response:
    """The default transport: ``createsend``'s certificate-verifying HTTPS connection, with
    a timeout; plain HTTP only to a loopback address (a local test server)."""
    parts = urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _createsend().VerifiedHTTPSConnection(parts.netloc, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=dict(headers))
        answer = connection.getresponse()
        data = answer.read()
        found = {k.lower(): v for k, v in answer.getheaders()}
    finally:
        connection.close()
    if found.get("content-encoding", "") == "gzip":
        data = gzip.decompress(data)
    return Response(answer.status, found, data)


def _createsend() -> ModuleType:
    try:
        import createsend  # noqa: PLC0415 - optional dependency behind [campaignmonitor]
    except ImportError:
        raise MissingDependencyError(
            "createsend", "campaignmonitor", "The Campaign Monitor adapter"
        ) from None
    module: ModuleType = createsend
    return module


# ----------------------------------------------------------------------------- helpers


def _attr(row: Any, name: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def _required(row: Any, name: str, operation: str) -> Any:
    value = _attr(row, name)
    if value is None:
        raise PlatformError(f"the response has no {name!r}", operation=operation)
    return value


def _api_since(since: datetime, zone: tzinfo) -> str:
    """``since`` as the client's local wall time, rounded up to the whole minute."""
    instant = ensure_utc(since, "since")
    minute = instant.replace(second=0, microsecond=0)
    if minute < instant:
        minute += timedelta(minutes=1)
    return minute.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _local(text: object, zone: tzinfo, field: str) -> datetime:
    return localise(parse_local_datetime(text, field), zone)


def _paged(fetch: Callable[[int], Any]) -> Iterator[Any]:
    """Every row of a paged endpoint, page 1 to the last."""
    number = 1
    while True:
        envelope = fetch(number)
        yield from _attr(envelope, "Results", None) or ()
        if number >= int(_attr(envelope, "NumberOfPages", 0) or 0):
            return
        number += 1


def _rows(answer: Any) -> Sequence[Any]:
    """A list answer, or the ``Results`` of a paging envelope (API versions differ)."""
    if isinstance(answer, list | tuple):
        return answer
    results = _attr(answer, "Results", None)
    return results or ()


# ----------------------------------------------------------------------------- adapter


@attrs.define
class _CampaignInfo:
    client_id: str
    sent_at: datetime


class CampaignMonitorPlatform(EmailPlatform):
    """Campaign Monitor as an :class:`~cmsf_core.ports.platform.EmailPlatform`.

    ``credentials``: an API key (``Credentials.api_key``) or OAuth tokens
    (``Credentials.oauth``).  ``timeout``: seconds for each HTTP exchange.  ``retries``:
    further attempts after a transient failure (HTTP 429/5xx, a timeout, a reset), waiting
    ``backoff(attempt)`` seconds (or the ``Retry-After`` the platform asks for, up to 60)
    before each.  ``time_zones``: IANA zones by client id, for clients whose time-zone
    name cannot be mapped.  ``base_uri``, ``transport`` and ``sleep`` exist for tests.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout: float = 30,
        retries: int = 3,
        backoff: Callable[[int], float] = default_backoff,
        time_zones: Mapping[str, str] | None = None,
        base_uri: str = DEFAULT_BASE_URI,
        transport: Transport = http_transport,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise withheld_type_error("credentials", "a Credentials value", credentials)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidValueError("timeout", "a number of seconds > 0", timeout)
        if type(retries) is not int or retries < 0:
            raise InvalidValueError("retries", "an int >= 0", retries)
        parts = urlsplit(base_uri)
        if not (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
        ):
            raise InvalidValueError(
                "base_uri", "an https:// URL (http:// only to a loopback address)", base_uri
            )
        self._credentials = credentials
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = backoff
        self.base_uri = base_uri.rstrip("/")
        self._transport = transport
        self._sleep = sleep
        self._time_zones = check_time_zones(time_zones)
        #: client id -> (the zone's name, the zone or None when no IANA zone fits)
        self._zones: dict[str, tuple[str, ZoneInfo | None]] = {}
        self._campaigns: dict[str, _CampaignInfo] = {}

    def __repr__(self) -> str:
        kind = "API key" if self._credentials.kind is CredentialKind.API_KEY else "OAuth"
        return f"CampaignMonitorPlatform({self.base_uri!r}, {kind} credentials withheld)"

    # -- the wire ----------------------------------------------------------------------

    def _api(self, name: str, *args: Any) -> Any:
        """A ``createsend`` object (``"Client"``, ...) whose requests go through the
        adapter's transport; it holds no credentials (``auth=None``)."""
        obj = getattr(_createsend(), name)(None, *args)
        obj.make_request = lambda **kw: self._request(obj, **kw)
        return obj

    def _authorization(self) -> str:
        secret = self._credentials.token.reveal()
        if self._credentials.kind is CredentialKind.API_KEY:
            import base64  # noqa: PLC0415 - only here

            return "Basic " + base64.b64encode(f"{secret}:x".encode()).decode()
        return f"Bearer {secret}"

    def _request(
        self,
        obj: Any,
        *,
        method: str,
        path: str,
        params: Mapping[str, object] | None = None,
        body: str = "",
        username: object = None,
        password: object = None,
        base_uri: str | None = None,
        content_type: str | None = None,
    ) -> Any:
        """``CreateSendBase.make_request`` over the transport, with timeout and retries;
        the answer goes through the client's own ``handle_response``."""
        del username, password  # the apikey route is not used
        root = base_uri or self.base_uri
        url = root + path + (f"?{urlencode(params)}" if params else "")
        headers = {
            "User-Agent": _createsend().CreateSend.user_agent,
            "Content-Type": content_type or "application/json; charset=utf-8",
            "Accept-Encoding": "gzip",
            "Authorization": self._authorization(),
        }
        payload = body.encode() if isinstance(body, str) else bytes(body)
        shown_path = urlsplit(url).path  # the query may hold an email address
        attempt = 0
        while True:
            try:
                answer = self._transport(method, url, headers, payload, self.timeout)
            except (OSError, http.client.HTTPException) as error:
                if attempt >= self.retries:
                    raise PlatformUnavailableError(
                        f"{method} {shown_path} failed after {attempt + 1} attempts: "
                        f"{type(error).__name__}",
                        operation="request",
                    ) from None
                wait = self.backoff(attempt + 1)
                reason = type(error).__name__
            else:
                if answer.status not in RETRY_STATUSES:
                    return obj.handle_response(answer.status, answer.body)
                if attempt >= self.retries:
                    code, message = _code_and_message(answer.body)
                    kind = RateLimitedError if answer.status == 429 else PlatformUnavailableError
                    raise kind(
                        f"{method} {shown_path}: {self._mask(message)} "
                        f"(after {attempt + 1} attempts)",
                        code=code,
                        status=answer.status,
                        operation="request",
                    )
                wait = max(self.backoff(attempt + 1), retry_after(answer.headers))
                reason = f"HTTP {answer.status}"
            attempt += 1
            _log.warning(
                "Campaign Monitor %s %s: %s; retry %d of %d in %.1fs",
                method,
                shown_path,
                reason,
                attempt,
                self.retries,
                wait,
            )
            self._sleep(wait)

    def _mask(self, text: str) -> str:
        for secret in (self._credentials.token, self._credentials.refresh_token):
            if secret is not None:
                text = text.replace(secret.reveal(), "***")
        return text

    def _call(self, operation: str, action: Callable[[], Any]) -> Any:
        """Run a client call, mapping the client's errors to :class:`PlatformError`."""
        try:
            return action()
        except PlatformError:
            raise
        except Exception as error:
            raise self._translate(error, operation) from None

    def _translate(self, error: Exception, operation: str) -> PlatformError:
        cs = _createsend()
        data = getattr(error, "data", None)
        code = _attr(data, "Code") if data is not None else None
        message = self._mask(str(_attr(data, "Message") or "")) if data is not None else ""
        code = code if type(code) is int else None
        if isinstance(error, cs.ExpiredOAuthToken):
            return ExpiredTokenError(
                message or "Expired OAuth Token", code=code, status=401, operation=operation
            )
        if isinstance(error, cs.Unauthorized):
            return AuthenticationError(
                message or "credentials refused", code=code, status=401, operation=operation
            )
        if isinstance(error, cs.BadRequest):
            return BadRequestError(
                message or "bad request", code=code, status=400, operation=operation
            )
        if isinstance(error, cs.NotFound):
            return NotFoundError("not found", status=404, operation=operation)
        if isinstance(error, cs.ClientError):  # other 4xx: "Code: 123 Message"
            parsed, text = _parse_code_text(self._mask(str(error)))
            return BadRequestError(text, code=parsed, operation=operation)
        if isinstance(error, cs.ServerError):
            parsed, text = _parse_code_text(self._mask(str(error)))
            return PlatformUnavailableError(text, code=parsed, operation=operation)
        if isinstance(error, ValueError | AttributeError | TypeError):
            return PlatformError(f"unreadable answer ({type(error).__name__})", operation=operation)
        return PlatformError(f"unexpected failure ({type(error).__name__})", operation=operation)

    # -- time zones and campaigns ------------------------------------------------------

    def _zone_entry(self, client_id: str) -> tuple[str, ZoneInfo | None]:
        """The client's zone: its name, and the zone (``None`` when no IANA zone fits the
        platform's name, which is then the name kept)."""
        if client_id not in self._zones:
            if client_id in self._time_zones:
                name = self._time_zones[client_id]
                self._zones[client_id] = (name, ZoneInfo(name))
            else:
                details = self._call(
                    "client_details", lambda: self._api("Client", client_id).details()
                )
                display = _attr(_attr(details, "BasicDetails"), "TimeZone")
                found = zone_for_time_zone(display) if isinstance(display, str) else None
                if found is not None:
                    self._zones[client_id] = (found, ZoneInfo(found))
                else:
                    shown_name = display if isinstance(display, str) and display else "(none)"
                    self._zones[client_id] = (shown_name, None)
        return self._zones[client_id]

    def _zone(self, client_id: str) -> ZoneInfo:
        """The client's zone; :class:`UnmappableTimeZoneError` when none fits."""
        name, zone = self._zone_entry(client_id)
        if zone is None:
            raise UnmappableTimeZoneError(client_id, name)
        return zone

    def _campaign(self, campaign_id: str) -> _CampaignInfo:
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
        for row in _rows(rows):
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
            else list(_paged(lambda n: first if n == 1 else fetch(n)))
        )
        campaigns = []
        for row in rows:
            campaign = PlatformCampaign(
                client_id,
                str(_required(row, "CampaignID", "sent_campaigns")),
                str(_required(row, "Name", "sent_campaigns")),
                _local(_required(row, "SentDate", "sent_campaigns"), zone, "SentDate"),
                frozenset(_tag_names(_attr(row, "Tags", None) or ())),
                subject=str(_attr(row, "Subject", "") or ""),
            )
            self._campaigns[campaign.campaign_id] = _CampaignInfo(client_id, campaign.sent_at)
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
        check_page_request(page, page_size, PAGE_SIZE_LIMIT)
        stream = ActivityType.parse(stream, "stream")
        start = None if since is None else ensure_utc(since, "since")
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
            filter_ = "" if start is None else _api_since(start, zone)
            envelope = self._call(
                "tracking_page", lambda: method(filter_, page, page_size, "date", "asc")
            )
        events = tuple(
            self._event(row, stream, info, zone) for row in _attr(envelope, "Results", ()) or ()
        )
        return TrackingPage(
            events,
            page_number=int(_attr(envelope, "PageNumber", page)),
            page_size=int(_attr(envelope, "PageSize", page_size)),
            number_of_pages=int(_attr(envelope, "NumberOfPages", 0)),
            total_number_of_records=int(_attr(envelope, "TotalNumberOfRecords", len(events))),
        )

    def _event(
        self, row: Any, stream: ActivityType, info: _CampaignInfo, zone: tzinfo
    ) -> TrackingEvent:
        email = str(_required(row, "EmailAddress", "tracking_page"))
        raw_date = _attr(row, "Date")
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
            detail = _attr(row, "BounceType" if stream is ActivityType.BOUNCED else "URL") or None
        if detail is not None:
            detail = str(detail)
            if stream is ActivityType.BOUNCED:
                detail = _BOUNCE_TYPES.get(detail.casefold(), detail)
        list_id = _attr(row, "ListID")
        return TrackingEvent(
            stream, email, occurred_at, list_id=str(list_id) if list_id else None, detail=detail
        )

    def campaign_summary(self, campaign_id: str) -> CampaignSummary:
        answer = self._call(
            "campaign_summary", lambda: self._api("Campaign", campaign_id).summary()
        )
        return CampaignSummary(
            **{
                ours: int(_attr(answer, theirs, 0) or 0)
                for ours, theirs in CampaignSummary.API_FIELDS
            }
        )

    def _list_ids(self, client_id: str) -> list[str]:
        rows = self._call("lists", lambda: self._api("Client", client_id).lists())
        return [str(_required(row, "ListID", "lists")) for row in _rows(rows)]

    def subscriber_changes(self, client_id: str, *, since: datetime | None) -> Sequence[str]:
        zone = self._zone(client_id)
        start = None if since is None else ensure_utc(since, "since")
        filter_ = "" if start is None else _api_since(start, zone)[:10]  # the API's day filter
        changed: dict[str, str] = {}
        for list_id in self._list_ids(client_id):
            api = self._api("List", list_id)
            for state in LIST_STATE_METHODS:
                rows = _paged(
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
        if list_id not in self._list_ids(client_id):
            raise NotFoundError(
                f"Invalid ListID: {list_id!r} is not a list of client {client_id!r}",
                code=_INVALID_LIST,
                operation="list_subscribers",
            )
        api = self._api("List", list_id)
        found: dict[str, tuple[str, SubscriberState]] = {}
        for method_name in LIST_STATE_METHODS:
            state = _LIST_METHOD_STATES[method_name]
            fetch = functools.partial(
                self._list_page, "list_subscribers", getattr(api, method_name), "", "email"
            )
            for row in _paged(fetch):
                email = str(_required(row, "EmailAddress", "list_subscribers"))
                found[email_key(email)] = (email, state)
        return dict(found.values())

    def lists_for_email(self, client_id: str, email: str) -> Sequence[ListMembership]:
        zone = self._zone(client_id)
        rows = self._call(
            "lists_for_email", lambda: self._api("Client", client_id).lists_for_email(email)
        )
        found = []
        for row in _rows(rows):
            added = _attr(row, "DateSubscriberAdded")
            found.append(
                ListMembership.from_api(
                    {
                        "ListID": _attr(row, "ListID"),
                        "ListName": _attr(row, "ListName"),
                        "SubscriberState": _attr(row, "SubscriberState"),
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
        rows = _paged(
            lambda n: self._call(
                "suppression_list", lambda: api.suppressionlist(n, PAGE_SIZE_LIMIT, "date", "asc")
            )
        )
        return tuple(
            SuppressedEmail.from_api(
                {
                    "EmailAddress": _attr(row, "EmailAddress"),
                    "SuppressionReason": _attr(row, "SuppressionReason"),
                    "State": _attr(row, "State") or "Suppressed",
                    "Date": _local(_attr(row, "Date"), zone, "Date"),
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
            body = command.to_api()
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
            result = ImportResult.from_api(answer)
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


def _tag_names(tags: Any) -> list[str]:
    names = []
    for tag in tags:
        name = tag if isinstance(tag, str) else _attr(tag, "Name")
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _state_changed(row: Any, zone: tzinfo) -> datetime:
    """When a list subscriber's state last changed: ``StateChangedDate`` in the answers of
    the current API (as createsend's own fixtures show), ``Date`` in older ones."""
    for field in ("StateChangedDate", "Date"):
        value = _attr(row, field)
        if value not in (None, ""):
            return _local(value, zone, field)
    raise PlatformError(
        "the response has no 'StateChangedDate' (nor 'Date')", operation="subscriber_changes"
    )


def _code_and_message(body: bytes) -> tuple[int | None, str]:
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None, "no readable error body"
    if not isinstance(data, dict):
        return None, "no readable error body"
    code = data.get("Code")
    return (code if type(code) is int else None), str(data.get("Message") or "")


def _parse_code_text(text: str) -> tuple[int | None, str]:
    """``"Code: 123 Some message"`` (the client's ClientError/ServerError text)."""
    if text.startswith("Code: "):
        head, _sep, rest = text[6:].partition(" ")
        if head.lstrip("-").isdigit():
            return int(head), rest
    return None, text
