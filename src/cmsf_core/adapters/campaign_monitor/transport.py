"""The HTTP exchange under the Campaign Monitor adapter: one request, one answer.

A :class:`Transport` sends one request with a timeout and returns a :class:`Response`;
:func:`http_transport` is the default, over ``createsend``'s certificate-verifying HTTPS
connection.  :func:`load_createsend` imports the optional ``createsend`` client on first
use (the ``[campaignmonitor]`` extra), never at ``import cmsf_core``.
"""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Mapping
from types import ModuleType
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from cmsf_core.domain.sms import MissingDependencyError

__all__ = ["Response", "Transport", "http_transport", "load_createsend"]


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
        connection = load_createsend().VerifiedHTTPSConnection(parts.netloc, timeout=timeout)
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


def load_createsend() -> ModuleType:
    """The ``createsend`` module; :class:`MissingDependencyError` naming the extra if absent."""
    try:
        import createsend  # noqa: PLC0415 - optional dependency behind [campaignmonitor]
    except ImportError:
        raise MissingDependencyError(
            "createsend", "campaignmonitor", "The Campaign Monitor adapter"
        ) from None
    module: ModuleType = createsend
    return module
