"""Field mappings on every route: list adds, the import wizard, the account trigger, rules
and the primary sync send or write the mapped fields, and report what cannot convert."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.field_mappings import (
    FIELD_VALUE_NOT_CONVERTED,
    NEW_SUBSCRIBER_REFUSED,
    FieldMapping,
    ListFieldMappings,
    NewSubscriberRule,
    PlatformField,
    generated_name,
)
from cmsf_core.domain.records import PersonKind
from cmsf_core.domain.rules import (
    AccountChange,
    Criterion,
    ListRules,
    RuleChange,
    RuleRecord,
    SubscriberRule,
    plan_account_rule_changes,
    plan_retrospective_run,
    plan_rule_changes,
)
from cmsf_core.domain.settings import Settings
from cmsf_core.domain.subscribers import ImportRow, Person, RecordKind
from cmsf_core.shell.field_sync import (
    FieldMappingConfig,
    create_platform_fields,
    mapped_rows,
    sync_field_mappings,
)
from cmsf_core.shell.subscriber_sync import add_to_list, handle_account_changes, run_import

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
C, L = "client-1", "list-1"
SCORE = FieldMapping.crm_to_platform(L, "Contact", "Score__c", "number")
TIER = PlatformField("Tier", "Text")


def _setup() -> tuple[InMemoryCrm, InMemoryPlatform, ListFieldMappings]:
    platform = InMemoryPlatform(clock=lambda: T0)
    platform.add_client(C, "Acme")
    platform.add_list(C, L)
    crm = InMemoryCrm(clock=lambda: T0)
    mappings = ListFieldMappings(L, [SCORE])
    create_platform_fields(platform, C, mappings)
    crm.add_person("ann@example.com", person_id="003A", account_id="001X")
    crm.add_person("bob@example.com", person_id="003B", account_id="001X")
    crm.set_fields("003A", {"Score__c": 12})
    crm.set_fields("003B", {"Score__c": "lots"})
    return crm, platform, mappings


def _values(platform: InMemoryPlatform) -> dict[str, dict[str, object]]:
    return {s.email: dict(s.custom_fields) for s in platform.subscriber_values(C, L)}


def test_a_list_add_sends_the_mapped_fields_and_logs_what_cannot_convert() -> None:
    """add_to_list reads the mapped fields from the CRM; a bad value is logged, not sent."""
    crm, platform, mappings = _setup()
    ann = Person("003A", "Contact", email="ann@example.com")
    bob = Person("003B", "Contact", email="bob@example.com")
    for person in (ann, bob):
        result = add_to_list(
            platform, C, L, person, Settings(), mappings=mappings, crm=crm, as_of=T0
        )
        assert result.ok
    assert _values(platform) == {"ann@example.com": {"[Score]": "12"}, "bob@example.com": {}}
    (message,) = crm.messages()
    assert message.code == FIELD_VALUE_NOT_CONVERTED
    assert message.record == "Contact 003B"
    with pytest.raises(InvalidValueError, match="'crm'"):
        add_to_list(platform, C, L, ann, Settings(), mappings=mappings, as_of=T0)
    with pytest.raises(InvalidValueError, match="'as_of'"):
        add_to_list(platform, C, L, ann, Settings(), mappings=mappings, crm=crm)
    with pytest.raises(InvalidTypeError, match="mappings"):
        add_to_list(platform, C, L, ann, Settings(), mappings=[SCORE], crm=crm, as_of=T0)  # type: ignore[arg-type]


def test_the_import_wizard_sends_the_mapped_fields_of_the_rows_records() -> None:
    """A row whose record is known gets its mapped fields; others are sent as given."""
    crm, platform, mappings = _setup()
    rows = [
        ImportRow("ann@example.com", record_id="003A"),
        ImportRow("bob@example.com", record_id="003B"),
        ImportRow("cy@example.com", custom_fields={"[Score]": "1"}),
    ]
    people = [crm.person("003A"), crm.person("003B")]
    kw = {"refresh_type": "Add, Update", "people": people, "mappings": mappings, "crm": crm}
    dry = run_import(platform, C, L, rows, Settings(), dry_run=True, as_of=T0, **kw)  # type: ignore[arg-type]
    assert [m.record for m in dry.messages] == ["Contact 003B"]
    assert not crm.messages()
    report = run_import(platform, C, L, rows, Settings(), as_of=T0, **kw)  # type: ignore[arg-type]
    assert report.ok
    assert _values(platform) == {
        "ann@example.com": {"[Score]": "12"},
        "bob@example.com": {},
        "cy@example.com": {"[Score]": "1"},
    }
    assert len(crm.messages()) == 1
    with pytest.raises(InvalidValueError, match="'crm'"):
        run_import(platform, C, L, rows, Settings(), refresh_type="Add, Update", mappings=mappings)


def test_an_account_change_resends_mapped_fields_without_a_row_function() -> None:
    """With field mappings the account trigger sends each contact's mapped fields."""
    crm, platform, mappings = _setup()
    platform.set_membership(C, L, "ann@example.com", "Active", at=T0)
    platform.set_membership(C, "list-2", "ann@example.com", "Active", at=T0)
    crm.set_fields("003A", {"Score__c": 40})
    settings = Settings(enable_account_trigger=True)
    config = FieldMappingConfig({C: mappings})
    report = handle_account_changes(
        crm, platform, C, ["001X"], settings, field_mappings=config, as_of=T0
    )
    assert report.ok
    assert _values(platform)["ann@example.com"] == {"[Score]": "40"}
    assert [c.list_id for c in report.commands] == [L, "list-2"]
    assert not crm.messages()  # bob is on no list: nothing read, nothing logged
    only = handle_account_changes(crm, platform, C, ["001X"], settings)
    assert only.commands == ()
    with pytest.raises(InvalidTypeError, match="field_mappings"):
        handle_account_changes(
            crm,
            platform,
            C,
            ["001X"],
            settings,
            field_mappings={C: mappings},
            as_of=T0,  # type: ignore[arg-type]
        )


def test_rules_send_each_lists_mapped_fields_and_report_what_cannot_convert() -> None:
    """Every rule planner takes field_mappings; a bad value is a message in the plan."""
    rules = [ListRules(L, [SubscriberRule("All", "add contact", [])])]
    ann = RuleRecord(Person("003A", "Contact", email="ann@example.com"), {"Score__c": "x"})
    kw = {"as_of": T0, "zone": UTC, "prevent_opted_out_list_add": True}
    retro = plan_retrospective_run(
        [ann], rules, {}, field_mappings={L: ListFieldMappings(L, [SCORE])}, **kw
    )  # type: ignore[arg-type]
    assert [m.code for m in retro.messages] == [FIELD_VALUE_NOT_CONVERTED]
    (command,) = retro.commands
    assert dict(command.subscribers[0].custom_fields) == {}  # type: ignore[union-attr]
    with pytest.raises(InvalidTypeError, match="field_mappings"):
        plan_retrospective_run([ann], rules, {}, field_mappings=[SCORE], **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"field_mappings\['list-2'\]"):
        plan_retrospective_run(
            [ann],
            rules,
            {},
            field_mappings={"list-2": ListFieldMappings(L)},
            **kw,  # type: ignore[arg-type]
        )
    contact = RuleRecord(
        Person("003A", "Contact", email="ann@example.com", account_id="001X"),
        {"Score__c": 7},
        account={"Industry": "Banking"},
    )
    change = AccountChange("001X", {"Industry": "Retail"}, {"Industry": "Banking"})
    banking = [Criterion("Account.Industry", "picklist", "equals", "Banking")]
    account_rules = [ListRules(L, [SubscriberRule("Banks", "add contact", banking)])]
    plan = plan_account_rule_changes(
        [change],
        [contact],
        account_rules,
        {},
        as_of=T0,
        zone=UTC,
        enable_account_trigger=True,
        disable_triggers=False,
        disable_bulk_triggers=False,
        prevent_opted_out_list_add=False,
        field_mappings={L: ListFieldMappings(L, [SCORE])},
    )
    assert dict(plan.commands[0].subscribers[0].custom_fields) == {"[Score]": "7"}  # type: ignore[union-attr]


def test_a_converted_lead_fires_no_rule() -> None:
    """A lead whose IsConverted is true is left to its contact."""
    rules = [ListRules(L, [SubscriberRule("Leads", "add lead", [])])]
    lead = Person("00QA", "Lead", email="lena@example.com")
    change = RuleChange(None, RuleRecord(lead, {"IsConverted": True}))
    plan = plan_rule_changes(
        [change],
        rules,
        {},
        as_of=T0,
        zone=UTC,
        disable_triggers=False,
        disable_bulk_triggers=False,
        prevent_opted_out_list_add=False,
        unsubscribe_on_opt_out=False,
    )
    assert plan.firings == ()


def test_the_sync_part_writes_changed_values_and_reports_refusals() -> None:
    """Dry runs plan only; a refused write and a refused new subscriber are logged."""
    crm, platform, _ = _setup()
    inbound = FieldMapping.platform_to_crm(L, TIER, "Contact", "Tier__c", "text")
    rule = NewSubscriberRule("create contact", name_field=None)
    mappings = ListFieldMappings(L, [inbound], rule)
    platform.create_custom_field(C, L, TIER)
    platform.set_membership(C, L, "ann@example.com", "Active", at=T0)
    platform.set_membership(C, L, "dan@example.com", "Active", at=T0)
    platform.set_subscriber_values(C, L, "ann@example.com", {"[Tier]": "Gold"})
    config = FieldMappingConfig({C: [mappings], "client-2": mappings}, zone=UTC)
    dry = sync_field_mappings(crm, platform, config, [C], as_of=T0, dry_run=True)
    assert [u.record_id for u in dry.plan.updates] == ["003A"]
    assert not crm.messages()
    crm.refuse = lambda kind, _item: (
        "FIELD_CUSTOM_VALIDATION_EXCEPTION" if kind == "field update" else None
    )
    done = sync_field_mappings(crm, platform, config, [C], as_of=T0)
    assert [item for item, _ in done.failures] == ["003A"]
    assert sorted(m.code for m in crm.messages()) == [NEW_SUBSCRIBER_REFUSED, "SYNC-FIELD-UPDATE"]
    other = sync_field_mappings(crm, platform, config, ["client-2"], as_of=T0)
    assert [m.code for m in other.plan.messages] == ["SYNC-FIELD-LIST"]
    assert crm.messages()[-1].record == "list list-1 of client client-2"
    platform.set_subscriber_values(C, L, "ann@example.com", {"[Tier]": "Silver"})
    config = FieldMappingConfig({C: [mappings, ListFieldMappings("list-9", [], rule)]})
    again = sync_field_mappings(crm, platform, config, [C], as_of=T0, dry_run=True)
    assert next(m.code for m in again.plan.messages) == "SYNC-FIELD-LIST"
    assert [u.record_id for u in again.plan.updates] == ["003A"]
    with pytest.raises(InvalidTypeError, match="field_mappings"):
        sync_field_mappings(crm, platform, {C: [mappings]}, [C], as_of=T0)  # type: ignore[arg-type]


def test_a_refused_new_subscriber_is_logged_with_the_crms_reason() -> None:
    """A creation the CRM refuses is a failure by email and a maintenance message."""
    crm, platform, _ = _setup()
    rule = NewSubscriberRule("create lead", required=["LastName"])
    mappings = ListFieldMappings(L, [], rule)
    platform.set_membership(C, L, "dan@example.com", "Active", at=T0)
    platform.set_subscriber_values(C, L, "dan@example.com", {}, name="Dan")
    done = sync_field_mappings(crm, platform, FieldMappingConfig({C: mappings}), [C], as_of=T0)
    assert [item for item, _ in done.failures] == ["dan@example.com"]
    assert "Company" in done.failures[0][1]
    assert [m.code for m in crm.messages()] == ["SYNC-NEW-SUBSCRIBER"]


def test_field_mapping_config_and_helpers_check_their_arguments() -> None:
    """Bad configuration is refused by name."""
    with pytest.raises(InvalidTypeError, match="lists"):
        FieldMappingConfig([])  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match=r"lists\['c'\]"):
        FieldMappingConfig({"c": ["x"]})  # type: ignore[dict-item]
    with pytest.raises(InvalidTypeError, match="zone"):
        FieldMappingConfig({}, zone="UTC")  # type: ignore[arg-type]
    assert FieldMappingConfig({}).of_list("c", "l") is None
    crm = InMemoryCrm()
    with pytest.raises(InvalidTypeError, match="mappings"):
        mapped_rows(crm, [], [SCORE], zone=UTC, as_of=T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="people"):
        mapped_rows(
            crm, [(ImportRow("a@example.com"), "x")], ListFieldMappings(L), zone=UTC, as_of=T0
        )  # type: ignore[list-item]
    rows, messages = mapped_rows(
        crm,
        [(ImportRow("a@example.com"), crm.add_person("a@example.com", kind=PersonKind.LEAD))],
        ListFieldMappings(L, [SCORE]),
        zone=UTC,
        as_of=T0,
    )
    assert (rows[0].custom_fields, messages) == ({}, ())
    assert generated_name("__c") == "__c"


def test_in_memory_stores_refuse_what_salesforce_refuses() -> None:
    """Seeding a field of an unknown record or a bad value is refused by name."""
    crm = InMemoryCrm()
    with pytest.raises(InvalidValueError, match="person_id"):
        crm.set_fields("003Z", {"X": 1})
    crm.add_person("a@example.com", person_id="003A")
    with pytest.raises(InvalidValueError, match=r"values\['Bad Name'\]"):
        crm.set_fields("003A", {"Bad Name": 1})
    assert crm.field_values(RecordKind.CONTACT, ["003A"], ["Renewal"]) == {
        "003A": {"Renewal": None}
    }
    crm.set_fields("003A", {"Renewal": date(2026, 1, 1)})
    assert crm.field_values("Contact", ["003A"], ["renewal"]) == {
        "003A": {"renewal": date(2026, 1, 1)}
    }  # type: ignore[arg-type]


def test_lists_mapped_only_to_the_platform_are_not_read_and_clean_syncs_log_nothing() -> None:
    """A list with no platform -> CRM mapping and no rule is skipped; writes that all go
    through add nothing to the maintenance log."""
    crm, platform, outbound = _setup()
    inbound = FieldMapping.platform_to_crm("list-2", TIER, "Contact", "Tier__c", "text")
    platform.add_list(C, "list-2")
    platform.create_custom_field(C, "list-2", TIER)
    platform.set_membership(C, "list-2", "ann@example.com", "Active", at=T0)
    platform.set_subscriber_values(C, "list-2", "ann@example.com", {"[Tier]": "Gold"})
    config = FieldMappingConfig({C: [outbound, ListFieldMappings("list-2", [inbound])]})
    done = sync_field_mappings(crm, platform, config, [C], as_of=T0)
    assert [dict(u.values) for u in done.plan.updates] == [{"Tier__c": "Gold"}]
    assert done.failures == ()
    assert not crm.messages()
    assert sync_field_mappings(crm, platform, config, [C], as_of=T0).plan.updates == ()
