"""The HTTP exchanges of one Salesforce connection: timeouts, retries of what is safe to
repeat, the OAuth access token (renewed with a refresh token) and the masking of every
credential it holds.  ``simple_salesforce`` and ``requests`` are imported on first use."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from cmsf_core.adapters.errors import CrmAuthenticationError, CrmUnavailableError
from cmsf_core.adapters.retry import RETRY_STATUSES, default_backoff, retry_after
from cmsf_core.domain.connection import Secret, withheld_type_error
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.sms import MissingDependencyError

__all__: list[str] = []

_log = logging.getLogger("cmsf_core.adapters.salesforce")

#: Salesforce ``errorCode`` values worth another try, whatever the HTTP status (the API
#: answers ``REQUEST_LIMIT_EXCEEDED`` with 403).
TRANSIENT_CODES = frozenset({"SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"})
#: What simple-salesforce holds in place of the access token: the wire sends the real one.
_PLACEHOLDER = "withheld"


def _simple_salesforce() -> ModuleType:
    try:
        import simple_salesforce  # noqa: PLC0415 - optional dependency behind [salesforce]
    except ImportError:
        raise MissingDependencyError(
            "simple-salesforce", "salesforce", "The Salesforce adapter"
        ) from None
    module: ModuleType = simple_salesforce
    return module


def _requests() -> ModuleType:
    try:
        import requests  # noqa: PLC0415 - installed with simple-salesforce ([salesforce])
    except ImportError:
        raise MissingDependencyError("requests", "salesforce", "The Salesforce adapter") from None
    module: ModuleType = requests
    return module


def _secret(value: object, field: str) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise withheld_type_error(field, "a secret string or a Secret", value)
    return Secret(value, field)


def _https_url(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(field, "an https:// URL", value)
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidValueError(field, "an https:// URL (https://yourorg.my.salesforce.com)", value)
    return value.rstrip("/")


def _check_policy(
    *,
    timeout: object,
    retries: object,
    backoff: object,
    sleep: object,
    bulk_wait: object,
) -> None:
    """Refuse a bad timeout, retry count, backoff, sleep or bulk wait, naming the field."""

    def seconds(value: object) -> bool:
        return (
            not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
        )

    if not seconds(timeout) or timeout <= 0:  # type: ignore[operator]  # seconds() checked it
        raise InvalidValueError("timeout", "a number of seconds > 0", timeout)
    if type(retries) is not int or retries < 0:
        raise InvalidValueError("retries", "an int >= 0", retries)
    if not callable(backoff):
        raise InvalidTypeError(
            "backoff", "a callable (retry number 1, 2, ... -> seconds to wait)", backoff
        )
    if not callable(sleep):
        raise InvalidTypeError("sleep", "a callable (seconds -> None)", sleep)
    if not seconds(bulk_wait) or bulk_wait < 0:  # type: ignore[operator]  # seconds() checked it
        raise InvalidValueError("bulk_wait", "a number of seconds >= 0", bulk_wait)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(body: Any) -> str | None:
    """Salesforce's ``errorCode`` (REST and Bulk 2.0 answer a list of errors)."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        code = body[0].get("errorCode")
        return code if isinstance(code, str) else None
    if isinstance(body, dict):
        code = body.get("errorCode")
        return code if isinstance(code, str) else None
    return None


def _transient(response: Any) -> str | None:
    """Why an answer is worth another try (``"HTTP 503 SERVER_UNAVAILABLE"``), or ``None``."""
    status = int(response.status_code)
    code = _error_code(_json(response)) if status >= 400 else None
    if status in RETRY_STATUSES or code in TRANSIENT_CODES:
        return f"HTTP {status}" + (f" {code}" if code else "")
    return None


class _OAuth:
    """What renewing the access token needs: Salesforce's token endpoint, the refresh
    token and the connected app (consumer key, optional consumer secret)."""

    __slots__ = ("client_id", "client_secret", "on_refresh_token", "refresh_token", "token_url")

    def __init__(
        self,
        token_url: str,
        refresh_token: Secret,
        client_id: str,
        client_secret: Secret | None,
        on_refresh_token: Callable[[Secret], object] | None = None,
    ) -> None:
        self.token_url = token_url
        self.refresh_token = refresh_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.on_refresh_token = on_refresh_token

    def __repr__(self) -> str:
        return f"_OAuth({self.token_url!r}, client_id={self.client_id!r}, secrets withheld)"


class _Wire:
    """Every HTTP exchange of one Salesforce connection.

    It stands in for the ``requests.Session`` simple-salesforce is given (``request`` and
    ``proxies`` are all the client uses) and adds what the client lacks:

    - a ``timeout`` on every exchange;
    - the access token, written into the ``Authorization`` header of each request (the
      client holds a placeholder), renewed once with the refresh token when Salesforce
      answers 401;
    - retries of the exchanges that are safe to repeat (GET: queries, query pages, Bulk
      job polls and results; the token request), on a connection failure, a timeout, HTTP
      429/5xx or ``SERVER_UNAVAILABLE`` / ``REQUEST_LIMIT_EXCEEDED``, waiting ``backoff(n)``
      or the ``Retry-After`` asked for (up to
      :data:`~cmsf_core.adapters.retry.MAX_RETRY_AFTER`).  Writes are repeated, when safe,
      by the adapter as whole operations.

    ``spent`` counts the retries of the current operation (the adapter resets it);
    ``handed_over`` is the Bulk ingest job closed (its records handed to Salesforce) during
    the current attempt.
    """

    def __init__(
        self, session: Any, *, token: Secret | None = None, oauth: _OAuth | None = None
    ) -> None:
        self._session = session
        self._token = token
        self._oauth = oauth
        self._refusal: tuple[str, str | None, int | None] | None = None
        self._retired: list[Secret] = []  # replaced tokens: still masked if echoed
        self.timeout = 30.0
        self.retries = 3
        self.backoff: Callable[[int], float] = default_backoff
        self.sleep: Callable[[float], None] = time.sleep
        self.spent = 0
        self.handed_over: str | None = None
        self.retry_after = 0.0

    def __repr__(self) -> str:
        return f"_Wire(timeout={self.timeout}, retries={self.retries}, credentials withheld)"

    def begin_attempt(self) -> None:
        """Forget the previous attempt's closed job and ``Retry-After``."""
        self.handed_over = None
        self.retry_after = 0.0

    @property
    def proxies(self) -> Any:
        """The wrapped session's proxies (simple-salesforce reads them)."""
        return getattr(self._session, "proxies", {})

    def secrets(self) -> list[str]:
        """Every secret the wire holds, to mask them in messages."""
        held: list[Secret | None] = [self._token, *self._retired]
        if self._oauth is not None:
            held += [self._oauth.refresh_token, self._oauth.client_secret]
        return [s.reveal() for s in held if s is not None]

    def mask(self, text: str) -> str:
        """``text`` with every secret the wire holds replaced by ``***``."""
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """One exchange, as ``requests.Session.request``: with the timeout and the access
        token, retried when safe, renewed once after a 401."""
        if self._oauth is not None and self._token is None:
            self.refresh()
        verb = method.upper()
        if (
            verb == "PATCH"
            and "/jobs/ingest/" in url
            and "UploadComplete" in str(kwargs.get("data"))
        ):
            self.handed_over = url.rstrip("/").rsplit("/", 1)[-1]
        response = self._exchange(method, url, kwargs, authorise=True, repeatable=verb == "GET")
        if int(response.status_code) == 401 and self._oauth is not None:
            self.refresh()
            response = self._exchange(method, url, kwargs, authorise=True, repeatable=verb == "GET")
        return response

    def _exchange(
        self,
        method: str,
        url: str,
        kwargs: Mapping[str, Any],
        *,
        authorise: bool,
        repeatable: bool,
    ) -> Any:
        requests = _requests()
        failures = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        )
        path = urlsplit(url).path  # never the query string: SOQL holds email addresses
        attempt = 0
        while True:
            attempt += 1
            sent = dict(kwargs)
            sent.setdefault("timeout", self.timeout)
            if authorise and self._token is not None:
                headers = dict(sent.get("headers") or {})
                headers["Authorization"] = f"Bearer {self._token.reveal()}"
                sent["headers"] = headers
            asked = 0.0
            response: Any = None
            reason: str | None
            try:
                response = self._session.request(method, url, **sent)
            except failures as error:
                response, reason = None, type(error).__name__
            else:
                reason = _transient(response)
                if reason is None:
                    return response
                asked = retry_after(response.headers)
                self.retry_after = asked
            if not repeatable or self.spent >= self.retries:
                if response is not None:
                    return response
                raise CrmUnavailableError(
                    f"{method} {path}: no answer ({reason}) after {attempt} attempt(s)",
                    operation="request",
                )
            self.spent += 1
            wait = max(float(self.backoff(self.spent)), asked)
            _log.warning(
                "Salesforce %s %s: %s; retry %d of %d in %.1fs",
                method,
                path,
                reason,
                self.spent,
                self.retries,
                wait,
            )
            self.sleep(wait)

    def refresh(self) -> None:
        """Renew the access token with the refresh token (Salesforce's OAuth 2.0 refresh
        token flow: a form POST of ``grant_type=refresh_token``, ``refresh_token``,
        ``client_id`` and, when given, ``client_secret`` to ``/services/oauth2/token``,
        answered with ``access_token``, ``instance_url``, ``id``, ``issued_at``,
        ``signature``, ...).  A refused refresh (``invalid_grant``: revoked or expired)
        raises :class:`CrmAuthenticationError`, and every later call raises it again
        without asking."""
        oauth = self._oauth
        if oauth is None:
            raise CrmAuthenticationError(
                "the session was refused and no refresh token was given", operation="refresh"
            )
        if self._refusal is not None:
            message, code, status = self._refusal
            raise CrmAuthenticationError(message, code=code, status=status, operation="refresh")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": oauth.refresh_token.reveal(),
            "client_id": oauth.client_id,
        }
        if oauth.client_secret is not None:
            form["client_secret"] = oauth.client_secret.reveal()
        response = self._exchange(
            "POST",
            oauth.token_url,
            {
                "data": form,
                "headers": {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
            },
            authorise=False,
            repeatable=True,
        )
        status = int(response.status_code)
        body = _json(response)
        body = body if isinstance(body, dict) else {}
        if status != 200:
            error = body.get("error")
            code = error if isinstance(error, str) else None
            description = self.mask(str(body.get("error_description") or "no description"))
            if status in RETRY_STATUSES:
                raise CrmUnavailableError(
                    f"the token endpoint did not answer ({description})",
                    code=code,
                    status=status,
                    operation="refresh",
                )
            message = (
                f"the OAuth refresh token was refused ({code or 'no error code'}: "
                f"{description}); authorise the connected app again and connect with the "
                "new refresh token"
            )
            self._refusal = (message, code, status)
            raise CrmAuthenticationError(message, code=code, status=status, operation="refresh")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise CrmAuthenticationError(
                "the token endpoint answered without an access_token",
                status=status,
                operation="refresh",
            )
        if self._token is not None:
            self._retired.append(self._token)
        self._token = Secret(token, "access_token")
        rotated = body.get("refresh_token")  # refresh token rotation hands out a new one
        if isinstance(rotated, str) and rotated and rotated != oauth.refresh_token.reveal():
            self._retired.append(oauth.refresh_token)
            oauth.refresh_token = Secret(rotated, "refresh_token")
            if oauth.on_refresh_token is not None:  # the caller keeps it for later processes
                oauth.on_refresh_token(oauth.refresh_token)
        _log.info("Salesforce access token renewed (issued_at %s)", body.get("issued_at"))
