"""What the contract suites share: the data they are built around (clients, campaigns,
emails, the instant T0, the CRM status set) and how they skip or cap their tests.

pytest and Hypothesis are imported only inside the tests, so importing the suites costs
nothing; the property tests are skipped when Hypothesis is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import NoReturn, TypeVar

from cmsf_core.domain.records.campaigns import MemberStatus

F = TypeVar("F", bound=Callable[..., None])

#: The instant most contract data is built around (a Monday morning, UTC).
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)

CLIENT = "client-contract-1"
OTHER_CLIENT = "client-contract-2"
CAMPAIGN = "cmp-contract-1"
OTHER_CAMPAIGN = "cmp-contract-2"
CRM_CAMPAIGN = "701-contract-1"
OTHER_CRM_CAMPAIGN = "701-contract-2"

ANN = "ann@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"

#: The status set of the contract's CRM campaigns: Sent (default), Opened, Clicked.
STATUSES = (
    MemberStatus("Sent", is_default=True, sort_order=1),
    MemberStatus("Opened", has_responded=True, sort_order=2),
    MemberStatus("Clicked", has_responded=True, sort_order=3),
)


def _skip(reason: str) -> NoReturn:
    import pytest  # noqa: PLC0415 - pytest is imported only when a contract test runs

    pytest.skip(reason)


def _hypothesis_or_skip() -> None:
    import pytest  # noqa: PLC0415 - see _skip

    pytest.importorskip("hypothesis", reason="the property contracts need Hypothesis")


def _limited(examples: int | None, test: F) -> F:
    """``test`` with at most ``examples`` Hypothesis examples (``None``: the profile's)."""
    if examples is None:
        return test
    from hypothesis import settings  # noqa: PLC0415 - see the module docstring

    return settings(max_examples=examples)(test)
