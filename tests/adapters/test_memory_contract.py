"""The in-memory adapters run the ports' contract suites (``cmsf_core.testing``), and
keep their seeding helpers' own rules (a lead has no account)."""

from __future__ import annotations

import sys

import pytest

if "cmsf_core.testing" not in sys.modules:  # pytest's assert messages in the contracts
    pytest.register_assert_rewrite("cmsf_core.testing")

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.records import PersonKind
from cmsf_core.testing import (
    CrmStoreContract,
    EmailPlatformContract,
    PlatformSeed,
)
from cmsf_core.testing.strategies import seeded_platform


class TestInMemoryCrm(CrmStoreContract):
    """InMemoryCrm keeps the CrmStore contract."""

    def make_crm(self) -> InMemoryCrm:
        return InMemoryCrm()


class TestInMemoryPlatform(EmailPlatformContract):
    """InMemoryPlatform keeps the EmailPlatform contract, seeded by its add_* helpers."""

    def make_platform(self, seed: PlatformSeed) -> InMemoryPlatform:
        return seeded_platform(seed)


def test_a_lead_with_an_account_is_refused() -> None:
    """Leads have no account: seeding one with an account names the field."""
    with pytest.raises(InvalidValueError, match="account_id"):
        InMemoryCrm().add_person(
            "ann@example.com", person_id="00QA", kind=PersonKind.LEAD, account_id="001A"
        )


def test_a_contact_moved_to_another_account_is_found_there_only() -> None:
    """Adding a person again replaces it: the contact leaves its old account."""
    crm = InMemoryCrm()
    crm.add_person("ann@example.com", person_id="003A", account_id="001A")

    moved = crm.add_person("ann@example.com", person_id="003A", account_id="001B")

    assert dict(crm.contacts_of_accounts(["001A", "001B"])) == {"001B": (moved,)}


def test_list_subscribers_of_an_unknown_list_names_list_id() -> None:
    """The in-memory platform refuses a list the client lacks, naming list_id."""
    platform = InMemoryPlatform()
    platform.add_client("c1", "Acme")

    with pytest.raises(InvalidValueError, match="list_id"):
        platform.list_subscribers("c1", "list-1")
