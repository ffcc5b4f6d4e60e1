"""The Campaign Monitor adapter's session with the API: requests, retries, errors, secrets.

:class:`ApiClient` sends the ``createsend`` client's requests through a
:class:`~cmsf_core.adapters.campaign_monitor.transport.Transport` with a timeout, retries
transient failures with backoff, renews expired OAuth tokens once, maps every failure to a
:class:`~cmsf_core.adapters.errors.PlatformError` of the operation under way, and masks
every credential it holds (or held) in any form it travels in.  It also learns each
client's time zone, once.  :class:`~cmsf_core.adapters.campaign_monitor.platform.
CampaignMonitorPlatform` reads the port's values over it.
"""

from __future__ import annotations

import base64
import http
import http.client
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, quote, quote_plus, urlencode, urlsplit
from zoneinfo import ZoneInfo

import attrs

from cmsf_core.adapters.campaign_monitor.rows import value
from cmsf_core.adapters.campaign_monitor.time_zones import (
    UnmappableTimeZoneError,
    check_time_zones,
    zone_for_time_zone,
)
from cmsf_core.adapters.campaign_monitor.transport import (
    Response,
    Transport,
    http_transport,
    load_createsend,
)
from cmsf_core.adapters.errors import (
    AuthenticationError,
    BadRequestError,
    ExpiredTokenError,
    NotFoundError,
    PlatformError,
    PlatformUnavailableError,
    RateLimitedError,
)
from cmsf_core.adapters.retry import RETRY_STATUSES, default_backoff, retry_after
from cmsf_core.domain.connection import (
    CredentialKind,
    Credentials,
    Secret,
    withheld_type_error,
)
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError

__all__ = ["DEFAULT_BASE_URI", "ApiClient"]

_log = logging.getLogger("cmsf_core.adapters.campaign_monitor")

#: The API root the official client uses.
DEFAULT_BASE_URI = "https://api.createsend.com/api/v3.3"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: Campaign Monitor's code for "Expired OAuth Token" (HTTP 401).
_EXPIRED = 121
_UNREADABLE = "no readable error body"


def _checked_uri(field: str, uri: str, given: object) -> SplitResult:
    """``uri``, split, if it is https:// (or http:// to a loopback address); else an error
    naming ``field`` and showing the value ``given``."""
    parts = urlsplit(uri)
    if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
        raise InvalidValueError(
            field, "an https:// URL (http:// only to a loopback address)", given
        )
    return parts


@attrs.define
class CampaignInfo:
    """What the adapter keeps of a sent campaign: its client and when it was sent."""

    client_id: str
    sent_at: datetime


class ApiClient:
    """The session with Campaign Monitor's API that
    :class:`~cmsf_core.adapters.campaign_monitor.platform.CampaignMonitorPlatform` reads
    through; its arguments are the platform's.
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
        on_refresh_token: Callable[[Credentials], object] | None = None,
        oauth_token_uri: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise withheld_type_error("credentials", "a Credentials value", credentials)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise InvalidValueError("timeout", "a number of seconds > 0", timeout)
        if type(retries) is not int or retries < 0:
            raise InvalidValueError("retries", "an int >= 0", retries)
        parts = _checked_uri("base_uri", base_uri, base_uri)
        if on_refresh_token is not None and not callable(on_refresh_token):
            raise InvalidTypeError(
                "on_refresh_token", "a function of the new Credentials", on_refresh_token
            )
        token_uri = oauth_token_uri or f"{parts.scheme}://{parts.netloc}/oauth/token"
        _checked_uri("oauth_token_uri", token_uri, oauth_token_uri)
        self._credentials = credentials
        self._retired: list[Secret] = []  # replaced tokens: still masked if echoed
        self._refusal: str | None = None  # a refused refresh: not asked again
        self.on_refresh_token = on_refresh_token
        self.oauth_token_uri = token_uri
        self._clock = clock
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = backoff
        self.base_uri = base_uri.rstrip("/")
        self._transport = transport
        self._sleep = sleep
        self._time_zones = check_time_zones(time_zones)
        #: client id -> (the zone's name, the zone or None when no IANA zone fits)
        self._zones: dict[str, tuple[str, ZoneInfo | None]] = {}
        self._campaigns: dict[str, CampaignInfo] = {}

    def __repr__(self) -> str:
        kind = "API key" if self._credentials.kind is CredentialKind.API_KEY else "OAuth"
        return f"CampaignMonitorPlatform({self.base_uri!r}, {kind} credentials withheld)"

    # -- the wire ----------------------------------------------------------------------

    def _api(self, name: str, *args: Any) -> Any:
        """A ``createsend`` object (``"Client"``, ...) whose requests go through the
        adapter's transport; it holds no credentials (``auth=None``)."""
        obj = getattr(load_createsend(), name)(None, *args)
        obj.make_request = lambda **kw: self._request(obj, **kw)
        return obj

    def _authorization(self) -> str:
        secret = self._credentials.token.reveal()
        if self._credentials.kind is CredentialKind.API_KEY:
            return "Basic " + base64.b64encode(f"{secret}:x".encode()).decode()
        return f"Bearer {secret}"

    def _headers(self, content_type: str | None, *, authorise: bool) -> dict[str, str]:
        """The request headers; built in the call to the transport, never kept in a local
        variable (a traceback's frames would hold the credentials)."""
        headers = {
            "User-Agent": load_createsend().CreateSend.user_agent,
            "Content-Type": content_type or "application/json; charset=utf-8",
            "Accept-Encoding": "gzip",
        }
        if authorise:
            headers["Authorization"] = self._authorization()
        return headers

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
        """``CreateSendBase.make_request`` over the transport, with timeout and retries,
        renewing an expired OAuth token once.  A 2xx or 400 answer goes through the
        client's own ``handle_response`` (a partial import is a 400 whose ``ResultData``
        the client reads); any other status raises the error of that status."""
        del username, password  # the apikey route is not used
        root = base_uri or self.base_uri
        url = root + path + (f"?{urlencode(params)}" if params else "")
        payload = body.encode() if isinstance(body, str) else bytes(body)
        oauth = self._credentials.kind is CredentialKind.OAUTH
        expires_at = self._credentials.expires_at
        if oauth and expires_at is not None and self._clock() >= expires_at:
            self._refresh()
        answer, attempts = self._exchange(method, url, payload, content_type, authorise=True)
        if oauth and answer.status == 401 and _code_and_message(answer.body)[0] == _EXPIRED:
            self._refresh()
            answer, attempts = self._exchange(method, url, payload, content_type, authorise=True)
        if 200 <= answer.status < 300 or answer.status == 400:
            return obj.handle_response(answer.status, answer.body)
        raise self._failure(method, url, answer, attempts)

    def _exchange(
        self, method: str, url: str, payload: bytes, content_type: str | None, *, authorise: bool
    ) -> tuple[Response, int]:
        """One answer, retried on a transient failure (HTTP 429/5xx, no answer); returns
        the last answer and the attempts made.  No answer after every retry raises
        :class:`_ExchangeError` (unavailable)."""
        shown_path = urlsplit(url).path  # the query may hold an email address
        attempt = 0
        while True:
            reason = ""
            answer: Response | None = None
            try:
                answer = self._transport(
                    method,
                    url,
                    self._headers(content_type, authorise=authorise),
                    payload,
                    self.timeout,
                )
            except (OSError, http.client.HTTPException) as error:
                reason = type(error).__name__
            if answer is not None and answer.status not in RETRY_STATUSES:
                return answer, attempt + 1
            if attempt >= self.retries:
                if answer is not None:
                    return answer, attempt + 1
                # Raised here, outside the handler: nothing chains the transport's error.
                raise _ExchangeError(
                    PlatformUnavailableError,
                    f"{method} {shown_path} failed after {attempt + 1} attempts: {reason}",
                )
            if answer is not None:
                wait = max(self.backoff(attempt + 1), retry_after(answer.headers))
                reason = f"HTTP {answer.status}"
            else:
                wait = self.backoff(attempt + 1)
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

    def _failure(self, method: str, url: str, answer: Response, attempts: int) -> _ExchangeError:
        """The error of an answer that is neither 2xx nor 400: every status has one, and
        it carries the status, the platform's ``Code`` and its (masked) ``Message``."""
        status = answer.status
        code, message = _code_and_message(answer.body)
        message = "" if message == _UNREADABLE else self._mask(message)
        text = message or _status_phrase(status)
        kind: type[PlatformError]
        if status == 401:
            kind = ExpiredTokenError if code == _EXPIRED else AuthenticationError
        elif status == 404:
            kind = NotFoundError
        elif status == 429:
            kind = RateLimitedError
        elif 400 <= status < 500:
            kind = BadRequestError
        elif status >= 500:
            kind = PlatformUnavailableError
        else:  # 1xx, 3xx: an answer the API never gives
            kind = PlatformError
            text = f"unexpected answer {_status_phrase(status)}" + (
                f": {message}" if message else ""
            )
        if status in RETRY_STATUSES:
            text = f"{method} {urlsplit(url).path}: {text} (after {attempts} attempts)"
        return _ExchangeError(kind, text, code=code, status=status)

    def _refresh(self) -> None:
        """Renew the OAuth tokens as createsend's ``refresh_token()`` does: a form POST of
        ``grant_type=refresh_token`` and ``refresh_token`` to ``oauth/token``, answered with
        ``access_token``, ``expires_in`` and ``refresh_token``.  A refused refresh (e.g.
        ``invalid_grant``) raises an authentication error, and so does every later request
        without asking again."""
        if self._refusal is not None:
            raise _ExchangeError(AuthenticationError, self._refusal)
        answer, _attempts = self._exchange(
            "POST",
            self.oauth_token_uri,
            self._refresh_form(),
            "application/x-www-form-urlencoded",
            authorise=False,
        )
        try:
            data = json.loads(answer.body.decode("utf-8", "replace"))
        except ValueError:
            data = None
        data = data if isinstance(data, dict) else {}
        if answer.status != 200:
            error = data.get("error")
            description = self._mask(str(data.get("error_description") or "no description"))
            if answer.status in RETRY_STATUSES:
                raise _ExchangeError(
                    PlatformUnavailableError,
                    f"the OAuth token endpoint did not answer ({description})",
                    status=answer.status,
                )
            self._refusal = (
                f"the OAuth refresh token was refused ({self._mask(str(error or 'no error'))}: "
                f"{description}); authorise the application again and connect with the new "
                "tokens"
            )
            raise _ExchangeError(AuthenticationError, self._refusal, status=answer.status)
        access, refresh = data.get("access_token"), data.get("refresh_token")
        expires_in = data.get("expires_in")
        if not isinstance(access, str) or not access:
            raise _ExchangeError(
                AuthenticationError,
                "the OAuth token endpoint answered without an access_token",
                status=answer.status,
            )
        old = self._credentials
        self._retired += [old.token] + ([old.refresh_token] if old.refresh_token else [])
        expires_at = None
        if type(expires_in) is int and expires_in > 0:
            expires_at = self._clock() + timedelta(seconds=expires_in)
        self._credentials = Credentials.oauth(
            Secret(access, "access_token"),
            Secret(refresh, "refresh_token")
            if isinstance(refresh, str) and refresh
            else old.refresh_token or Secret(access, "refresh_token"),
            expires_at=expires_at,
        )
        _log.info("Campaign Monitor access token renewed (expires in %s s)", expires_in)
        if self.on_refresh_token is not None:  # the caller keeps them for later processes
            self.on_refresh_token(self._credentials)

    def _refresh_form(self) -> bytes:
        refresh = self._credentials.refresh_token
        if refresh is None:  # pragma: no cover - Credentials refuses OAuth without one
            raise _ExchangeError(AuthenticationError, "no refresh token to renew the access token")
        return urlencode(
            [("grant_type", "refresh_token"), ("refresh_token", refresh.reveal())]
        ).encode()

    def _secrets(self) -> list[str]:
        """Every credential held or held before, in every form it travels in: as it is,
        URL-encoded, JSON-escaped, and (the API key) as the base64 of ``key:x``."""
        held = [self._credentials.token, self._credentials.refresh_token, *self._retired]
        forms: set[str] = set()
        for secret in held:
            if secret is None:
                continue
            raw = secret.reveal()
            forms.update({raw, quote(raw, safe=""), quote_plus(raw), json.dumps(raw)[1:-1]})
            for derived in (f"{raw}:x", raw):
                forms.add(base64.b64encode(derived.encode()).decode())
                forms.add(base64.b64encode(derived.encode()).decode().rstrip("="))
        return sorted(forms, key=len, reverse=True)  # the longest first

    def _mask(self, text: str) -> str:
        for form in self._secrets():
            text = text.replace(form, "***")
        return text

    def _call(self, operation: str, action: Callable[[], Any]) -> Any:
        """Run a client call, mapping every failure to a :class:`PlatformError` of
        ``operation``.  The error is raised outside the handler, so that neither its
        ``__cause__`` nor its ``__context__`` holds the original (which may quote a
        credential the platform echoed)."""
        error: PlatformError
        try:
            return action()
        except _ExchangeError as failure:
            error = failure.kind(
                self._mask(failure.message),
                code=failure.code,
                status=failure.status,
                operation=operation,
            )
        except PlatformError as raised:
            error = raised
        except Exception as other:
            error = self._translate(other, operation)
        raise error

    def _translate(self, error: Exception, operation: str) -> PlatformError:
        cs = load_createsend()
        data = getattr(error, "data", None)
        code = value(data, "Code") if data is not None else None
        message = self._mask(str(value(data, "Message") or "")) if data is not None else ""
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
                display = value(value(details, "BasicDetails"), "TimeZone")
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


def _code_and_message(body: bytes) -> tuple[int | None, str]:
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None, _UNREADABLE
    if not isinstance(data, dict):
        return None, _UNREADABLE
    code = data.get("Code")
    return (code if type(code) is int else None), str(data.get("Message") or "")


def _status_phrase(status: int) -> str:
    """``"HTTP 418 I'm a Teapot"``, or ``"HTTP 599"`` for a status without a name."""
    try:
        return f"HTTP {status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


class _ExchangeError(Exception):
    """A failed exchange on its way to :meth:`CampaignMonitorPlatform._call`, which turns
    it into the ``kind`` of :class:`PlatformError` for the operation under way."""

    def __init__(
        self,
        kind: type[PlatformError],
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.status = status
