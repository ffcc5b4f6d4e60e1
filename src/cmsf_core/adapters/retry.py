"""The retry policy the service adapters share: which HTTP answers are worth another
try, how long to wait before it, and how much of a ``Retry-After`` to obey."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["MAX_RETRY_AFTER", "RETRY_STATUSES", "default_backoff", "retry_after"]

#: HTTP statuses worth another try: rate limiting and the server's own failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: The longest a ``Retry-After`` header is obeyed for, in seconds.
MAX_RETRY_AFTER = 60.0


def default_backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): 0.5, 1, 2, 4, ... up to 30."""
    return float(min(30.0, 0.5 * 2 ** (attempt - 1)))


def retry_after(headers: Mapping[str, str]) -> float:
    """The seconds a ``Retry-After`` header asks for (the name in any case), between 0 and
    :data:`MAX_RETRY_AFTER`; 0 without one, or with one that is no number of seconds."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "")
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        return 0.0
