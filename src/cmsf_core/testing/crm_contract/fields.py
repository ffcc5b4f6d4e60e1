"""The CRM contract on the fields of contacts and leads (field mappings): updated, read
back and created with their types.
"""

from __future__ import annotations

from datetime import date

from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.field_mappings import CreatePerson, CrmValue, FieldUpdate, same_crm_value
from cmsf_core.domain.records.people import PersonKind
from cmsf_core.domain.subscribers import RecordKind
from cmsf_core.testing._support import ANN, BOB, CAROL, T0
from cmsf_core.testing.crm_contract._base import CrmContractBase


class FieldContract(CrmContractBase):
    """The contract on contact and lead fields."""

    # -- contact and lead fields (field mappings) ------------------------------------------

    def test_updated_fields_are_read_back_with_their_types(self) -> None:
        """update_fields then field_values: every value type comes back as written, and
        field names ignore case (as Salesforce's API names do)."""
        crm = self.make_crm()
        ann = self.add_person(crm, ANN, person_id="003000000000001")
        values: dict[str, CrmValue] = {
            "Industry": "Banking",
            "Score__c": 12,
            "Rate__c": 2.5,
            "Active__c": True,
            "Renewal__c": date(2026, 4, 1),
            "Seen__c": T0,
            "Tags__c": "VIP;Gold",
        }
        update = FieldUpdate(ann.person_id, RecordKind.CONTACT, values)

        result = crm.update_fields([update])

        assert result.ok
        assert result.written == 1
        read = crm.field_values(RecordKind.CONTACT, [ann.person_id], [*values, "industry", "X"])
        got = dict(read[ann.person_id])
        assert set(got) == {*values, "industry", "X"}
        assert (got["industry"], got["X"]) == ("Banking", None)
        for name, value in values.items():  # a date may come back as its ISO text
            assert same_crm_value(got[name], value), (name, got[name], value)

    def test_field_values_skip_missing_records_and_the_other_kind(self) -> None:
        """A record that does not exist, or is a lead when contacts are asked, is absent."""
        crm = self.make_crm()
        lead = self.add_person(crm, BOB, person_id="00Q000000000001", kind=PersonKind.LEAD)

        read = crm.field_values(RecordKind.CONTACT, [lead.person_id, "003000000000009"], ["X"])

        assert dict(read) == {}
        assert crm.field_values(RecordKind.LEAD, [lead.person_id], ["Email"]) == {
            lead.person_id: {"Email": BOB}
        }

    def test_a_refused_field_update_fails_per_record_and_changes_none_of_its_fields(
        self,
    ) -> None:
        """A missing record or a field the CRM refuses fails that record only."""
        crm = self.make_crm()
        ann = self.add_person(crm, ANN, person_id="003000000000001")
        bob = self.add_person(crm, BOB, person_id="003000000000002")

        result = crm.update_fields(
            [
                FieldUpdate("003000000000009", RecordKind.CONTACT, {"Industry": "Banking"}),
                FieldUpdate(ann.person_id, RecordKind.CONTACT, {"Industry": "A", "Bad Name": 1}),
                FieldUpdate(bob.person_id, RecordKind.CONTACT, {"Industry": "Retail"}),
            ]
        )

        assert sorted(str(item) for item, _reason in result.failures) == [
            "003000000000001",
            "003000000000009",
        ]
        read = crm.field_values(RecordKind.CONTACT, [ann.person_id, bob.person_id], ["Industry"])
        assert {pid: dict(v) for pid, v in read.items()} == {
            ann.person_id: {"Industry": None},
            bob.person_id: {"Industry": "Retail"},
        }

    def test_created_people_are_found_by_email_with_their_fields(self) -> None:
        """A created lead is found by its email afterwards, with the fields it was given."""
        crm = self.make_crm()
        lead = CreatePerson(
            RecordKind.LEAD,
            CAROL,
            "list-1",
            {"Email": CAROL, "LastName": "Carol", "Company": "Acme", "Score__c": 3},
        )

        result = crm.create_people([lead])

        assert result.ok
        assert result.written == 1
        (person,) = crm.find_people([CAROL])[normalise_email(CAROL)]
        assert person.kind is PersonKind.LEAD
        read = crm.field_values(RecordKind.LEAD, [person.person_id], ["Company", "Score__c"])
        assert read[person.person_id]["Company"] == "Acme"
        assert same_crm_value(read[person.person_id]["Score__c"], 3)

    def test_creating_a_record_without_a_required_field_is_refused_by_email(self) -> None:
        """A lead without Company (or a contact without LastName) is not created."""
        crm = self.make_crm()
        lead = CreatePerson(RecordKind.LEAD, CAROL, "list-1", {"Email": CAROL, "LastName": "C"})
        contact = CreatePerson(RecordKind.CONTACT, BOB, "list-1", {"Email": BOB, "LastName": "B"})

        result = crm.create_people([lead, contact])

        assert result.written == 1
        ((item, reason),) = result.failures
        assert item == CAROL
        assert "Company" in reason
        assert normalise_email(CAROL) not in crm.find_people([CAROL])
