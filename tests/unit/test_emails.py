"""Emails as DESIGN §8 compares them: trimmed, NFC, lower-cased (not casefolded); control
and zero-width characters make an address invalid, on every route that keys by email."""

from __future__ import annotations

import sqlite3
import unicodedata
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.emails import (
    check_email_text,
    email_key,
    email_problem,
    normalise_email,
)
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.records import PersonKind, member_ref
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import Unsubscribe
from cmsf_core.domain.subscribers import email_key as subscriber_email_key
from cmsf_core.shell.sync import run_sync

AT = datetime(2024, 5, 1, 9, tzinfo=UTC)
NFC_E = "jos\u00e9@example.com"
NFD_E = "jose\u0301@example.com"

#: Characters that make an address invalid wherever they stand.
INVISIBLE = [
    "\x00",  # NUL
    "\t",
    "\n",
    "\r",
    "\x7f",  # DEL
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u200e",  # left-to-right mark
    "\u202e",  # right-to-left override
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
]

FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}
forbidden_chars = st.characters(categories=tuple(FORBIDDEN_CATEGORIES))
local_parts = st.text(
    st.characters(categories=("L", "N"), include_characters="._+-"), min_size=1, max_size=20
)
addresses = st.builds(lambda local, host: f"{local}@{host}.example", local_parts, local_parts)


# ----------------------------------------------------------------------------- properties


@given(st.text(max_size=40))
def test_the_email_key_is_idempotent(text: str) -> None:
    """Keying a key changes nothing, for any text at all."""
    assert email_key(email_key(text)) == email_key(text)


@given(addresses)
def test_normalising_an_address_is_idempotent(address: str) -> None:
    """A normalised address normalises to itself."""
    key = normalise_email(address)
    assert normalise_email(key) == key


@given(addresses)
def test_composed_and_decomposed_spellings_are_one_address(address: str) -> None:
    """The NFC and NFD forms of any address have the same key."""
    nfc = unicodedata.normalize("NFC", address)
    nfd = unicodedata.normalize("NFD", address)
    assert normalise_email(nfc) == normalise_email(nfd)


@given(addresses, st.integers(min_value=0), forbidden_chars)
def test_any_control_or_zero_width_character_makes_an_address_invalid(
    address: str, where: int, char: str
) -> None:
    """An address holding a Cc, Cf, Cs, Zl or Zp character anywhere is refused."""
    position = where % (len(address) + 1)
    spoiled = address[:position] + char + address[position:]

    with pytest.raises(InvalidValueError, match=f"U\\+{ord(char):04X}"):
        normalise_email(spoiled)
    assert email_problem(spoiled) is not None


@given(addresses)
def test_a_valid_address_has_no_problem_and_is_lower_case_nfc(address: str) -> None:
    """A valid address's key is its lower-cased NFC form."""
    key = normalise_email(address)
    assert email_problem(address) is None
    assert key == unicodedata.normalize("NFC", key)
    assert key == unicodedata.normalize("NFC", key.lower())


# ----------------------------------------------------------------------------- examples


def test_sharp_s_and_double_s_are_different_addresses() -> None:
    """Lower-casing, not casefolding: 'straße' and 'strasse' stay two subscribers."""
    assert normalise_email("Straße@Example.com") == "straße@example.com"
    assert normalise_email("straße@example.com") != normalise_email("strasse@example.com")


def test_nfc_and_nfd_e_acute_are_one_address() -> None:
    """The composed and the decomposed 'é' give one key."""
    assert NFC_E != NFD_E
    assert normalise_email(NFD_E) == normalise_email(NFC_E) == NFC_E


def test_case_and_surrounding_spaces_are_ignored() -> None:
    """Upper case and surrounding spaces (including no-break spaces) do not make a new address."""
    assert normalise_email("\u00a0 Jane.Doe@EXAMPLE.com  ") == "jane.doe@example.com"


@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_each_invisible_character_is_refused_naming_it(char: str) -> None:
    """NUL, tab, newline, zero-width and bidi characters are refused, even at the ends."""
    for spoiled in (
        f"jane{char}@example.com",
        f"{char}jane@example.com",
        f"jane@example.com{char}",
    ):
        with pytest.raises(InvalidValueError) as caught:
            normalise_email(spoiled, "EmailAddress")
        assert "'EmailAddress'" in str(caught.value)
        assert f"U+{ord(char):04X}" in str(caught.value)


@pytest.mark.parametrize(
    "bad",
    ["ann.example.com", "@example.com", "ann@", "ann smith@example.com", "a" * 250 + "@e.com"],
)
def test_a_shapeless_address_is_refused(bad: str) -> None:
    """No '@', nothing on one side, a space inside or more than 254 characters: refused."""
    with pytest.raises(InvalidValueError, match="'email'"):
        normalise_email(bad)


def test_a_non_string_is_refused_naming_the_field() -> None:
    """A number where an address belongs is a type error naming the field."""
    with pytest.raises(InvalidTypeError, match="'Email'"):
        normalise_email(42, "Email")
    with pytest.raises(InvalidTypeError, match="'Email'"):
        check_email_text(None, "Email")


def test_an_address_kept_as_written_is_only_trimmed() -> None:
    """check_email_text keeps case and form, trims spaces, refuses invisible characters."""
    assert check_email_text("  Jane@Example.com ") == "Jane@Example.com"
    with pytest.raises(InvalidValueError, match="ZERO WIDTH SPACE"):
        check_email_text("jane\u200b@example.com")


# ----------------------------------------------------------------------------- routes


def test_every_route_keys_an_address_the_same_way() -> None:
    """Tracking records, members and subscribers all use the one key."""
    activity = Activity(
        "cmp-1", NFC_E, ActivityType.OPENED, AT, client_id="c1", email=NFD_E.upper()
    )
    assert activity.key.subject == NFC_E
    assert member_ref("cmp-1", NFD_E).member_id == NFC_E
    assert subscriber_email_key(NFD_E) == NFC_E


def test_people_are_found_by_nfc_lower_key_and_sharp_s_stays_apart() -> None:
    """find_people matches NFD to NFC and case, and never 'strasse' for 'straße'."""
    crm = InMemoryCrm()
    crm.add_person(NFD_E.upper(), person_id="p1", kind=PersonKind.CONTACT)
    crm.add_person("straße@example.com", person_id="p2", kind=PersonKind.CONTACT)

    found = crm.find_people([NFC_E, "strasse@example.com", "STRAßE@example.com"])

    assert [p.person_id for p in found[NFC_E]] == ["p1"]
    assert "strasse@example.com" not in found
    assert [p.person_id for p in found["straße@example.com"]] == ["p2"]


def test_a_subscriber_command_with_a_zero_width_address_is_refused() -> None:
    """A subscriber command carrying a zero-width space is refused naming its field."""
    with pytest.raises(InvalidValueError, match="U\\+200B"):
        Unsubscribe("list-1", "jane\u200b@example.com")


def test_a_sync_keeps_sharp_s_and_double_s_members_apart() -> None:
    """Two platform events for 'straße' and 'strasse' become two members, not one."""
    platform = InMemoryPlatform()
    platform.add_client("c1", "Client")
    platform.add_campaign("c1", "cmp-1", "Spring", sent_at=AT)
    platform.add_event("cmp-1", ActivityType.SENT, "straße@example.com", AT)
    platform.add_event("cmp-1", ActivityType.SENT, "strasse@example.com", AT)
    platform.add_event("cmp-1", ActivityType.SENT, NFD_E, AT)
    platform.add_event("cmp-1", ActivityType.OPENED, NFC_E.upper(), AT)
    crm = InMemoryCrm()
    crm.add_campaign("sf-1", "Spring", statuses=["Sent", "Opened"])
    crm.link("c1", "cmp-1", "sf-1")

    run_sync(crm, platform, Settings(), as_of=AT.replace(hour=10))

    members = {m.member.member_id: m for m in crm.members_of(["cmp-1"])}
    assert set(members) == {"straße@example.com", "strasse@example.com", NFC_E}
    assert members[NFC_E].member.engagement.opens == 1


def test_a_store_keyed_by_casefold_is_rekeyed_once_when_opened(tmp_path: Path) -> None:
    """People saved with casefolded keys are found by the new key after opening; once only."""
    path = tmp_path / "old.db"
    with SqliteCrm(path) as crm:
        crm.add_person("Straße@Example.com", person_id="p1")
        crm.add_person(NFD_E, person_id="p2")
    with closing(sqlite3.connect(path)) as db:  # as an earlier release saved them
        db.execute("UPDATE people SET email_key = lower(email)")
        db.execute("UPDATE people SET email_key = 'strasse@example.com' WHERE person_id = 'p1'")
        db.execute("DELETE FROM meta WHERE key = 'email_key'")
        db.commit()

    with SqliteCrm(path) as crm:
        found = crm.find_people(["straße@example.com", "strasse@example.com", NFC_E])
        assert {k: [p.person_id for p in v] for k, v in found.items()} == {
            "straße@example.com": ["p1"],
            NFC_E: ["p2"],
        }
        assert crm.get_meta("email_key") == "nfc-lower"  # not re-keyed at the next open
    with closing(sqlite3.connect(path)) as db:
        keys = dict(db.execute("SELECT person_id, email_key FROM people").fetchall())
    assert keys == {"p1": "straße@example.com", "p2": NFC_E}
