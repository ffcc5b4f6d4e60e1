"""The adapters' field-mapping reads and writes beyond the contract: the file platform's
``customfields.json`` and ``CustomFields`` rows, the wire shapes of Campaign Monitor, the
SQLite store across a reopen, and Salesforce's describe-free statements."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from salesforce_fake import INSTANCE, SESSION_ID, FakeSalesforce

from cmsf_core.adapters.cm_custom_fields import field_from_api, field_to_api, subscriber_from_api
from cmsf_core.adapters.files import FilePlatform, PlatformFileError
from cmsf_core.adapters.salesforce import SalesforceCrm
from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.domain.connection import Secret
from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings import (
    CreatePerson,
    FieldUpdate,
    PlatformField,
    same_crm_value,
)
from cmsf_core.domain.records import PersonKind
from cmsf_core.domain.subscribers import ImportSubscribers, RecordKind, SubscriberImport

CLIENT, LIST = "c1", "l1"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _export(folder: Path, fields: object) -> FilePlatform:
    _write(folder / "clients.json", [{"ClientID": CLIENT, "Name": "Acme"}])
    _write(folder / "clients" / CLIENT / "lists.json", [{"ListID": LIST, "Name": "News"}])
    _write(folder / "lists" / LIST / "customfields.json", fields)
    row = {
        "EmailAddress": "ann@example.com",
        "Name": "Ann",
        "Date": "2026-12-01 09:00:00",
        "State": "Active",
        "CustomFields": [
            {"Key": "[Tags]", "Value": "VIP"},
            {"Key": "[Tags]", "Value": "Gold"},
            {"Key": "[City]", "Value": "Paris"},
            {"Key": "[Score]", "Value": 12},
        ],
    }
    envelope = {"Results": [row], "PageNumber": 1, "NumberOfPages": 1, "PageSize": 1000,
                "RecordsOnThisPage": 1, "TotalNumberOfRecords": 1}  # fmt: skip
    _write(folder / "lists" / LIST / "active.json", envelope)
    return FilePlatform(folder, time_zones={CLIENT: "Europe/Paris"})


FIELDS = [
    {"FieldName": "Tags", "Key": "[Tags]", "DataType": "MultiSelectMany",
     "FieldOptions": ["VIP", "Gold"], "VisibleInPreferenceCenter": True},
    {"FieldName": "City", "Key": "[City]", "DataType": "Text", "FieldOptions": []},
    {"FieldName": "Score", "Key": "[Score]", "DataType": "Number"},
]  # fmt: skip


def test_the_file_platform_reads_custom_fields_and_repeated_keys(tmp_path: Path) -> None:
    """customfields.json gives the fields; a select-many key repeated is one tuple."""
    platform = _export(tmp_path, FIELDS)
    assert [f.key for f in platform.custom_fields(CLIENT, LIST)] == ["[Tags]", "[City]", "[Score]"]
    (ann,) = platform.subscriber_values(CLIENT, LIST)
    assert (ann.name, dict(ann.custom_fields)) == (
        "Ann",
        {"[Tags]": ("VIP", "Gold"), "[City]": "Paris", "[Score]": "12"},
    )
    row = SubscriberImport("ann@example.com", "", {"[City]": "Lyon", "[Nope]": "x"})
    platform.execute(CLIENT, [ImportSubscribers(LIST, (row,), False)])
    (ann,) = platform.subscriber_values(CLIENT, LIST)
    assert dict(ann.custom_fields)["[City]"] == "Lyon"
    assert "[Nope]" not in ann.custom_fields
    assert ann.name == "Ann"


def test_a_bad_custom_fields_file_names_the_file_the_record_and_the_field(tmp_path: Path) -> None:
    """A file that is not a list, or a row without its data type, is refused by name."""
    with pytest.raises(PlatformFileError, match=r"customfields\.json"):
        _export(tmp_path / "a", {"FieldName": "x"}).custom_fields(CLIENT, LIST)
    with pytest.raises(PlatformFileError, match=r"\[0\].*DataType"):
        _export(tmp_path / "b", [{"FieldName": "x", "Key": "[x]"}]).custom_fields(CLIENT, LIST)
    bad_row = _export(tmp_path / "c", [{"FieldName": "x", "Key": "[x]", "DataType": "Text"}])
    path = tmp_path / "c" / "lists" / LIST / "active.json"
    body = json.loads(path.read_text())
    body["Results"][0]["CustomFields"] = [{"Key": "[x]", "Value": ["a"]}]
    path.write_text(json.dumps(body))
    with pytest.raises(PlatformFileError, match=r"CustomFields\[\[x\]\]\.Value"):
        bad_row.subscriber_values(CLIENT, LIST)
    with pytest.raises(CmsfError):
        bad_row.custom_fields(CLIENT, "not-a-list")
    with pytest.raises(InvalidTypeError, match="field"):
        bad_row.create_custom_field(CLIENT, LIST, "x")  # type: ignore[arg-type]


def test_campaign_monitor_shapes_are_read_and_written_at_the_edge() -> None:
    """Rows may be mappings or attribute objects; bad shapes are refused by name."""
    field = field_from_api(FIELDS[0])
    assert field == PlatformField("Tags", "MultiSelectMany", ("VIP", "Gold"), key="[Tags]")
    assert field_to_api(field) == {
        "FieldName": "Tags",
        "DataType": "MultiSelectMany",
        "Options": ["VIP", "Gold"],
        "VisibleInPreferenceCenter": True,
    }

    class Row:
        def __init__(self) -> None:
            self.EmailAddress = "ann@example.com"
            self.Name = None
            self.CustomFields = [type("Item", (), {"Key": "[Tags]", "Value": ""})()]

    ann = subscriber_from_api(LIST, Row(), [field])
    assert (ann.name, dict(ann.custom_fields)) == ("", {})
    with pytest.raises(InvalidTypeError, match="FieldOptions"):
        field_from_api({**FIELDS[0], "FieldOptions": "VIP"})
    with pytest.raises(InvalidTypeError, match="FieldName"):
        field_from_api({**FIELDS[0], "FieldName": 3})
    with pytest.raises(InvalidValueError, match="DataType"):
        field_from_api({"FieldName": "x", "Key": "[x]"})
    with pytest.raises(InvalidTypeError, match="CustomFields"):
        subscriber_from_api(LIST, {"EmailAddress": "a@example.com", "CustomFields": "x"}, [])
    with pytest.raises(InvalidValueError, match=r"CustomFields\.Key"):
        subscriber_from_api(
            LIST, {"EmailAddress": "a@example.com", "CustomFields": [{"Key": ""}]}, []
        )
    with pytest.raises(InvalidTypeError, match="Value"):
        subscriber_from_api(
            LIST,
            {"EmailAddress": "a@example.com", "CustomFields": [{"Key": "[x]", "Value": True}]},
            [],
        )


def test_sqlite_keeps_fields_and_created_people_across_a_reopen(tmp_path: Path) -> None:
    """Values keep their types on disk; a refused update or creation writes nothing."""
    path = tmp_path / "crm.sqlite"
    with SqliteCrm(path) as crm:
        crm.add_person("ann@example.com", person_id="003A")
        crm.set_fields("003A", {"Renewal__c": date(2026, 4, 1), "Seen__c": T0})
        result = crm.update_fields([FieldUpdate("003A", RecordKind.CONTACT, {"Id": "x"})])
        assert [item for item, _ in result.failures] == ["003A"]
        values = {"Email": "lena@example.com", "LastName": "L", "Company": "Acme"}
        lead = CreatePerson(RecordKind.LEAD, "lena@example.com", LIST, values)
        assert crm.create_people([lead, lead]).written == 2
        with pytest.raises(InvalidValueError, match="person_id"):
            crm.set_fields("003Z", {"X": 1})
        with pytest.raises(InvalidValueError, match=r"values\['Bad Name'\]"):
            crm.set_fields("003A", {"Bad Name": 1})
    with SqliteCrm(path) as crm:
        got = crm.field_values(RecordKind.CONTACT, ["003A"], ["Renewal__c", "seen__c", "Email"])
        assert dict(got["003A"]) == {
            "Renewal__c": date(2026, 4, 1),
            "seen__c": T0,
            "Email": "ann@example.com",
        }
        assert len(crm.find_people(["lena@example.com"])["lena@example.com"]) == 2


def _salesforce() -> tuple[FakeSalesforce, SalesforceCrm]:
    fake = FakeSalesforce()
    fake.page_size = 3
    crm = SalesforceCrm.connect(INSTANCE, Secret(SESSION_ID), session=fake, bulk_wait=0)
    return fake, crm


def test_salesforce_field_names_must_be_api_names_before_any_query() -> None:
    """A field name that could change the statement is refused; nothing is sent."""
    fake, crm = _salesforce()
    sent = len(fake.calls)
    with pytest.raises(InvalidValueError, match="fields"):
        crm.field_values(RecordKind.CONTACT, ["003000000000001"], ["Name FROM User --"])
    assert len(fake.calls) == sent


def test_salesforce_reads_by_id_across_pages_and_writes_one_job_per_field_set() -> None:
    """Many ids are read in full (15-character ids answered too); updates of different
    field sets go in separate Bulk jobs, and refused values fail their record only."""
    fake, crm = _salesforce()
    ids = [f"003{n:012d}AAA" for n in range(1, 8)]  # 18-character ids
    for n, sf_id in enumerate(ids):
        fake.add_person(PersonKind.CONTACT, sf_id, f"p{n}@example.com", T0)
    result = crm.update_fields(
        [
            FieldUpdate(ids[0], RecordKind.CONTACT, {"Tier__c": "Gold"}),
            FieldUpdate(ids[1], RecordKind.CONTACT, {"Tier__c": "Silver", "Score__c": 3}),
            FieldUpdate(ids[2], RecordKind.CONTACT, {"Score__c": float("nan")}),
            FieldUpdate(
                ids[3], RecordKind.CONTACT, {"Seen__c": T0, "Renewal__c": date(2026, 4, 1)}
            ),
        ]
    )
    assert [item for item, _ in result.failures] == [ids[2]]
    assert result.written == 3
    updates = [j for j in fake.jobs.values() if j["operation"] == "update"]
    assert len(updates) == 3
    got = crm.field_values(RecordKind.CONTACT, [*ids, ids[0][:15]], ["Tier__c", "Score__c"])
    assert got[ids[0][:15]] == got[ids[0]] == {"Tier__c": "Gold", "Score__c": None}
    assert len(got) == 8
    seen = crm.field_values(RecordKind.CONTACT, [ids[3]], ["Seen__c", "Renewal__c", "Id"])[ids[3]]
    assert same_crm_value(seen["Seen__c"], T0)
    assert same_crm_value(seen["Renewal__c"], date(2026, 4, 1))
    bad = CreatePerson(
        RecordKind.CONTACT, "x@example.com", LIST, {"Email": "x@example.com", "Id": "1"}
    )
    assert [item for item, _ in crm.create_people([bad]).failures] == ["x@example.com"]
