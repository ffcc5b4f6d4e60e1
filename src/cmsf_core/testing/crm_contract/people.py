"""The CRM contract on contacts and leads (found by email and by account, their opt-out)
and on suppression records.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from cmsf_core.domain.records.people import PersonKind
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    OptOutChange,
    RemoveSuppressionRecord,
    UpdateSuppressionRecord,
)
from cmsf_core.testing._support import ANN, BOB, CAROL, T0
from cmsf_core.testing.crm_contract._base import CrmContractBase, _check


class PeopleContract(CrmContractBase):
    """The contract on contacts, leads and suppression records."""

    # -- contacts and leads --------------------------------------------------------------

    def test_people_are_found_by_normalised_email(self) -> None:
        """find_people matches emails case-insensitively, keyed by the normalised email."""
        crm = self.make_crm()
        ann = self.add_person(crm, "Ann@Example.com", person_id="003000000000001")

        found = crm.find_people(["ANN@example.COM", BOB])

        assert tuple(found.get(ANN, ())) == (ann,)
        assert not found.get(BOB)

    def test_every_contact_and_lead_sharing_an_email_is_found_with_last_modified(self) -> None:
        """Several people with one email are all returned, with what matching needs."""
        crm = self.make_crm()
        contact = self.add_person(
            crm, ANN, person_id="003000000000001", last_modified=T0 - timedelta(days=3)
        )
        lead = self.add_person(
            crm,
            "ANN@example.com",
            person_id="00Q000000000001",
            kind=PersonKind.LEAD,
            last_modified=T0,
        )
        self.add_person(crm, BOB, person_id="003000000000002")

        found = crm.find_people([ANN])

        assert Counter(found[ANN]) == Counter([contact, lead])
        latest = max(found[ANN], key=lambda p: p.last_modified)
        assert (latest.person_id, latest.kind, latest.last_modified) == (
            "00Q000000000001",
            PersonKind.LEAD,
            T0,
        )

    def test_set_opt_out_is_read_back_on_every_person_it_names(self) -> None:
        """set_opt_out sets Email Opt Out per record id; the others keep theirs."""
        crm = self.make_crm()
        self.add_person(crm, ANN, person_id="003000000000001")
        self.add_person(crm, ANN, person_id="00Q000000000001", kind=PersonKind.LEAD)
        self.add_person(crm, BOB, person_id="003000000000002")

        result = crm.set_opt_out(
            [
                OptOutChange("003000000000001", ANN, True),
                OptOutChange("00Q000000000001", ANN, True),
            ]
        )

        _check(result, 2)
        found = crm.find_people([ANN, BOB])
        assert {p.person_id: p.email_opt_out for p in found[ANN]} == {
            "003000000000001": True,
            "00Q000000000001": True,
        }
        assert [p.email_opt_out for p in found[BOB]] == [False]
        _check(crm.set_opt_out([OptOutChange("003000000000001", ANN, False)]), 1)
        assert {p.person_id: p.email_opt_out for p in crm.find_people([ANN])[ANN]} == {
            "003000000000001": False,
            "00Q000000000001": True,
        }

    def test_set_opt_out_for_a_missing_record_is_refused_per_item(self) -> None:
        """A record that does not exist is a failure keyed by its id; the rest is written."""
        crm = self.make_crm()
        self.add_person(crm, ANN, person_id="003000000000001")

        result = crm.set_opt_out(
            [
                OptOutChange("003000000000009", BOB, True),
                OptOutChange("003000000000001", ANN, True),
            ]
        )

        assert result.written == 1
        assert [item for item, _reason in result.failures] == ["003000000000009"]
        assert [p.email_opt_out for p in crm.find_people([ANN])[ANN]] == [True]

    def test_contacts_are_found_by_account_sorted_by_person_id(self) -> None:
        """contacts_of_accounts gives each account's contacts, sorted by person id; an
        account without contacts (or unknown), a contact of no account and a lead are not
        in it."""
        crm = self.make_crm()
        second = self.add_person(crm, BOB, person_id="003000000000002", account_id="001A")
        first = self.add_person(crm, ANN, person_id="003000000000001", account_id="001A")
        other = self.add_person(crm, CAROL, person_id="003000000000003", account_id="001B")
        self.add_person(crm, "dan@example.com", person_id="003000000000004")
        self.add_person(crm, "eve@example.com", person_id="00Q000000000001", kind=PersonKind.LEAD)

        found = crm.contacts_of_accounts(["001A", "001B", "001Z"])

        assert dict(found) == {"001A": (first, second), "001B": (other,)}
        assert [p.account_id for p in found["001A"]] == ["001A", "001A"]
        assert dict(crm.contacts_of_accounts(["001B"])) == {"001B": (other,)}
        assert not crm.contacts_of_accounts([])

    def test_a_contacts_opt_out_is_read_back_through_its_account(self) -> None:
        """contacts_of_accounts returns the contact as it is now (its Email Opt Out set)."""
        crm = self.make_crm()
        self.add_person(crm, ANN, person_id="003000000000001", account_id="001A")

        _check(crm.set_opt_out([OptOutChange("003000000000001", ANN, True)]), 1)

        (contact,) = crm.contacts_of_accounts(["001A"])["001A"]
        assert (contact.person_id, contact.email_opt_out) == ("003000000000001", True)

    # -- suppression records -------------------------------------------------------------

    def test_suppression_records_are_created_updated_and_removed(self) -> None:
        """apply_suppression keeps one record per change; suppression_records reads them."""
        crm = self.make_crm()
        assert tuple(crm.suppression_records()) == ()

        _check(
            crm.apply_suppression(
                [
                    CreateSuppressionRecord(ANN, "Unsubscribed", T0),
                    CreateSuppressionRecord(BOB, "Bounced", T0),
                ]
            ),
            2,
        )
        records = {r.email: r for r in crm.suppression_records()}
        assert {(e, r.reason, r.suppressed_at) for e, r in records.items()} == {
            (ANN, "Unsubscribed", T0),
            (BOB, "Bounced", T0),
        }
        ann, bob = records[ANN], records[BOB]
        later = T0 + timedelta(days=1)

        _check(
            crm.apply_suppression(
                [
                    UpdateSuppressionRecord(ann.record_id, ANN, "Spam complaint", later),
                    RemoveSuppressionRecord(bob.record_id, BOB),
                ]
            )
        )

        assert [
            (r.record_id, r.email, r.reason, r.suppressed_at) for r in crm.suppression_records()
        ] == [(ann.record_id, ANN, "Spam complaint", later)]

    def test_removing_a_missing_suppression_record_is_not_an_error(self) -> None:
        """A removal of a record already gone writes nothing and fails nothing."""
        crm = self.make_crm()

        result = crm.apply_suppression([RemoveSuppressionRecord("a0S000000000009", ANN)])

        assert result.ok
        assert result.written == 0

    def test_updating_a_missing_suppression_record_is_refused_per_item(self) -> None:
        """An update of a record that does not exist is a failure keyed by its id."""
        crm = self.make_crm()

        result = crm.apply_suppression(
            [
                UpdateSuppressionRecord("a0S000000000009", ANN, "Bounced", T0),
                CreateSuppressionRecord(BOB, "Bounced", T0),
            ]
        )

        assert [item for item, _reason in result.failures] == ["a0S000000000009"]
        assert [r.email for r in crm.suppression_records()] == [BOB]
