"""SOQL reads cut to Salesforce's request limits.

A REST query is a GET whose SOQL travels in the URL (``/query/?q=...``).  Salesforce refuses
a request whose request line and headers exceed :data:`MAX_REQUEST_BYTES` (HTTP 414), and a
SOQL statement longer than :data:`MAX_SOQL_CHARS` characters.  The reads that look up many
values (``WHERE Email IN (...)``) are therefore cut by size, not by count: each statement
takes values while its URL-encoded request line stays within the budget
(:data:`MAX_REQUEST_BYTES` less :data:`HEADER_ALLOWANCE` for the headers), so no request can
exceed the limit whatever the emails, URLs or keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote_plus

from cmsf_core.domain.errors import InvalidValueError

__all__ = [
    "HEADER_ALLOWANCE",
    "MAX_REQUEST_BYTES",
    "MAX_SOQL_CHARS",
    "batches",
    "request_line_bytes",
    "soql_statements",
]

#: The most Salesforce accepts for a REST request's request line plus headers (HTTP 414 past it).
MAX_REQUEST_BYTES = 16_384
#: What the adapter leaves for the headers (``Authorization``, ``Cookie``, ``User-Agent``, ...).
HEADER_ALLOWANCE = 4_096
#: The longest SOQL statement Salesforce accepts, in characters.
MAX_SOQL_CHARS = 100_000

_SEPARATOR = len(quote_plus(","))  # format_soql joins a list's items with ","


def request_line_bytes(path: str, soql: str) -> int:
    """The bytes of ``GET {path}?q={soql} HTTP/1.1\\r\\n`` as ``requests`` encodes it."""
    return len(f"GET {path}?q= HTTP/1.1\r\n".encode()) + len(quote_plus(soql))


def soql_statements(
    template: str,
    values: Iterable[str],
    *,
    format_soql: Callable[..., str],
    path: str,
    field: str,
    budget: int = MAX_REQUEST_BYTES - HEADER_ALLOWANCE,
    **params: object,
) -> Iterator[str]:
    """The statements of ``template`` (its ``{values}`` list filled) that together look up
    every distinct value once, each as large as ``budget`` bytes of request line allows (and
    at most :data:`MAX_SOQL_CHARS` characters).  ``params`` fill the template's other
    placeholders.  A value that cannot fit a request even alone is refused, naming
    ``field``."""
    items = list(dict.fromkeys(values))
    if not items:
        return
    empty = format_soql(template, values=[], **params)
    room = budget - request_line_bytes(path, empty)
    chars = MAX_SOQL_CHARS - len(empty)
    chunk: list[str] = []
    used = used_chars = 0
    for value in items:
        quoted = format_soql("{}", value)
        size = len(quote_plus(quoted)) + (_SEPARATOR if chunk else 0)
        width = len(quoted) + (1 if chunk else 0)
        if chunk and (used + size > room or used_chars + width > chars):
            yield format_soql(template, values=chunk, **params)
            chunk, used, used_chars = [], 0, 0
            size, width = len(quote_plus(quoted)), len(quoted)
        if size > room or width > chars:
            raise InvalidValueError(
                field,
                f"values that fit one SOQL request of {budget} bytes",
                f"a value of {len(quote_plus(quoted))} URL-encoded bytes",
            )
        chunk.append(value)
        used, used_chars = used + size, used_chars + width
    yield format_soql(template, values=chunk, **params)


def batches(
    values: Iterable[str], *, format_soql: Callable[..., str], limit: int
) -> Iterator[list[str]]:
    """The distinct ``values`` in lists whose quoted, URL-encoded ``IN`` list is at most
    ``limit`` bytes (for a statement with two lists, each given part of the budget)."""
    chunk: list[str] = []
    used = 0
    for value in dict.fromkeys(values):
        size = len(quote_plus(format_soql("{}", value))) + _SEPARATOR
        if chunk and used + size > limit:
            yield chunk
            chunk, used = [], 0
        chunk.append(value)
        used += size
    if chunk:
        yield chunk
