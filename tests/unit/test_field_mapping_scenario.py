"""The field mappings end to end, on the in-memory CRM and platform: a contact edited to
meet an add rule is added with its mapped custom fields while a converted or opted-out
lead is not; a subscriber created on the platform becomes a lead at the next sync with
its mapped fields, and a platform custom field change reaches the CRM at the sync after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.field_mappings import (
    FieldMapping,
    ListFieldMappings,
    NewSubscriberRule,
    PlatformField,
)
from cmsf_core.domain.records import PersonKind
from cmsf_core.domain.rules import (
    Criterion,
    ListRules,
    RuleChange,
    RuleOutcome,
    RuleRecord,
    SubscriberRule,
    plan_rule_changes,
)
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import Person, RecordKind, SubscriberState
from cmsf_core.shell.field_sync import FieldMappingConfig, create_platform_fields
from cmsf_core.shell.sync import run_sync

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CLIENT, LIST = "client-1", "list-1"
INDUSTRIES = ("Banking", "Retail")
INTERESTS = PlatformField("Interests", "MultiSelectMany", ("Golf", "Tennis"))


def _mappings() -> ListFieldMappings:
    out = [
        FieldMapping.crm_to_platform(LIST, kind, "Industry", "picklist", options=INDUSTRIES)
        for kind in ("Contact", "Lead")
    ]
    out.append(FieldMapping.crm_to_platform(LIST, "Contact", "Renewal__c", "datetime"))
    out += [
        FieldMapping.platform_to_crm(LIST, INTERESTS, kind, "Interests__c", "multipicklist")
        for kind in ("Contact", "Lead")
    ]
    rule = NewSubscriberRule("create lead", defaults={"Company": "Web signup"})
    return ListFieldMappings(LIST, out, rule)


def _rules() -> ListRules:
    banking = [Criterion("Industry", "picklist", "equals", "Banking")]
    return ListRules(
        LIST,
        [
            SubscriberRule("Bankers", "add contact", banking),
            SubscriberRule("Banking leads", "add lead", banking),
        ],
    )


def _edit(person: Person, before: dict[str, object], after: dict[str, object]) -> RuleChange:
    return RuleChange(RuleRecord(person, before), RuleRecord(person, after))  # type: ignore[arg-type]


def test_rules_add_with_mapped_fields_and_the_sync_creates_and_updates_leads() -> None:
    """Rules send the mapped fields; the sync creates a lead from a new subscriber and
    carries a later platform change to its CRM field."""
    clock = [T0]
    platform = InMemoryPlatform(clock=lambda: clock[0])
    platform.add_client(CLIENT, "Acme", time_zone="Europe/Paris")
    platform.add_list(CLIENT, LIST)
    crm = InMemoryCrm(clock=lambda: clock[0])
    mappings = _mappings()
    platform.create_custom_field(CLIENT, LIST, INTERESTS)
    created = create_platform_fields(platform, CLIENT, mappings)
    assert [(f.key, f.data_type.value) for f in created] == [
        ("[Industry]", "MultiSelectOne"),
        ("[Renewal]", "Date"),
    ]

    # -- a contact edited to meet the add rule is added with its mapped fields ------------
    ann = Person("003A", "Contact", email="ann@example.com")
    renewal = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # 1 February in Paris
    lena = Person("00QL", "Lead", email="lena@example.com")
    otto = Person("00QO", "Lead", email="otto@example.com", email_opt_out=True)
    changes = [
        _edit(
            ann,
            {"Industry": "Retail", "Renewal__c": renewal},
            {"Industry": "Banking", "Renewal__c": renewal},
        ),
        _edit(lena, {"Industry": "Retail"}, {"Industry": "Banking", "IsConverted": True}),
        _edit(otto, {"Industry": "Retail"}, {"Industry": "Banking"}),
    ]
    plan = plan_rule_changes(
        changes,
        [_rules()],
        {},
        as_of=T0,
        zone=PARIS,
        disable_triggers=False,
        disable_bulk_triggers=False,
        prevent_opted_out_list_add=True,
        unsubscribe_on_opt_out=True,
        field_mappings={LIST: mappings},
    )
    assert [(f.record_id, f.outcome) for f in plan.firings] == [
        ("003A", RuleOutcome.ADDED),
        ("00QO", RuleOutcome.REFUSED),
    ]
    assert all(r.ok for r in platform.execute(CLIENT, plan.commands))
    assert platform.state(CLIENT, LIST, "ann@example.com") is SubscriberState.ACTIVE
    assert platform.state(CLIENT, LIST, "lena@example.com") is None
    assert platform.state(CLIENT, LIST, "otto@example.com") is None
    (served,) = platform.subscriber_values(CLIENT, LIST)
    assert dict(served.custom_fields) == {"[Industry]": "Banking", "[Renewal]": "2027-02-01"}

    # -- a subscriber created on the platform becomes a lead at the next sync --------------
    clock[0] = T0 + timedelta(hours=1)
    platform.set_membership(CLIENT, LIST, "nora@example.com", "Active", at=clock[0])
    platform.set_subscriber_values(
        CLIENT, LIST, "nora@example.com", {"[Interests]": ("Golf", "Tennis")}, name="Nora New"
    )
    config = FieldMappingConfig({CLIENT: [mappings]}, zone=PARIS)

    report = run_sync(crm, platform, Settings(), as_of=clock[0], field_mappings=config)

    (lead,) = report.field_changes.creates
    assert lead.kind is RecordKind.LEAD
    (nora,) = crm.find_people(["nora@example.com"])["nora@example.com"]
    assert nora.kind is PersonKind.LEAD
    fields = ["LastName", "Company", "Interests__c"]
    assert dict(crm.field_values(RecordKind.LEAD, [nora.person_id], fields)[nora.person_id]) == {
        "LastName": "Nora New",
        "Company": "Web signup",
        "Interests__c": "Golf;Tennis",
    }

    # -- a platform custom field change reaches the CRM field at the sync after ------------
    clock[0] += timedelta(hours=1)
    platform.set_subscriber_values(CLIENT, LIST, "nora@example.com", {"[Interests]": ("Tennis",)})

    again = run_sync(crm, platform, Settings(), as_of=clock[0], field_mappings=config)

    assert again.field_changes.creates == ()
    assert [dict(u.values) for u in again.field_changes.updates] == [{"Interests__c": "Tennis"}]
    read = crm.field_values(RecordKind.LEAD, [nora.person_id], ["Interests__c"])
    assert read[nora.person_id]["Interests__c"] == "Tennis"
    quiet = run_sync(crm, platform, Settings(), as_of=clock[0], field_mappings=config)
    assert quiet.field_changes.updates == ()  # nothing changed: nothing written
