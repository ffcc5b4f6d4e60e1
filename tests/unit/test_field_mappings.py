"""Custom field mappings: the values, the typed conversions both ways and the planners
(platform fields to create, custom fields sent, CRM updates, the new subscriber rule)."""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cmsf_core.adapters.campaign_monitor.rows import subscriber_row
from cmsf_core.domain import field_mappings as fm
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError, UnknownChoiceError
from cmsf_core.domain.field_mappings import (
    FIELD_VALUE_NOT_CONVERTED,
    NEW_SUBSCRIBER_REFUSED,
    CreatePerson,
    Direction,
    FieldConversionError,
    FieldMapping,
    FieldUpdate,
    ListFieldMappings,
    NewSubscriberAction,
    NewSubscriberRule,
    PlatformField,
    PlatformFieldType,
    PlatformSubscriber,
    convert,
    mapped_custom_fields,
    plan_crm_fields,
    platform_fields_to_create,
    to_crm_value,
    to_platform_value,
    values,
)
from cmsf_core.domain.subscribers import Person, RecordKind, SubscriberImport

AS_OF = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SYDNEY = ZoneInfo("Australia/Sydney")
L = "list-1"


def to_platform(crm_type: str, value: object, **kw: object) -> object:
    mapping = FieldMapping.crm_to_platform(L, "Contact", "F", crm_type, **kw)  # type: ignore[arg-type]
    return to_platform_value(value, mapping, zone=SYDNEY)  # type: ignore[arg-type]


def to_crm(
    crm_type: str,
    value: object,
    data_type: str = "Text",
    options: tuple[str, ...] = (),
    **kw: object,
) -> object:
    field = PlatformField("F", data_type, options)
    mapping = FieldMapping.platform_to_crm(L, field, "Contact", "F__c", crm_type, **kw)  # type: ignore[arg-type]
    return to_crm_value(value, mapping, zone=SYDNEY)  # type: ignore[arg-type]


def test_the_docstring_examples_hold() -> None:
    """Every example in the field mapping modules' docstrings runs as shown."""
    for module in (values, convert):
        assert doctest.testmod(module).failed == 0


# ----------------------------------------------------------------------------- values


def test_platform_field_types_read_the_platform_spelling_and_labels() -> None:
    """A data type is read as the platform spells it, by name or by a loose label."""
    assert PlatformFieldType.parse("MultiSelectOne") is PlatformFieldType.SELECT_ONE
    assert PlatformFieldType.parse("us_state") is PlatformFieldType.US_STATE
    assert PlatformFieldType.parse(PlatformFieldType.DATE) is PlatformFieldType.DATE
    with pytest.raises(InvalidTypeError, match="data_type"):
        PlatformFieldType.parse(3)
    with pytest.raises(UnknownChoiceError, match="MultiSelectMany"):
        PlatformFieldType.parse("Colour")


def test_a_platform_field_gets_the_platforms_key_and_checks_its_options() -> None:
    """The key is ``[Name]`` without spaces; options are non-empty and distinct."""
    assert PlatformField("Favourite colour", "Text").key == "[Favouritecolour]"
    assert PlatformField("X", "Text", key="[Other]").key == "[Other]"
    with pytest.raises(InvalidValueError, match="key"):
        PlatformField("X", "Text", key="Other")
    with pytest.raises(InvalidValueError, match="key"):
        PlatformField("X", "Text", key="[]")
    with pytest.raises(InvalidTypeError, match="options"):
        PlatformField("X", "MultiSelectOne", "Red")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="options"):
        PlatformField("X", "MultiSelectOne", ("Red", " "))
    with pytest.raises(InvalidValueError, match="each option once"):
        PlatformField("X", "MultiSelectOne", ("Red", "red"))


def test_a_mapping_refuses_incompatible_types_and_bad_parts() -> None:
    """A number cannot be mapped to a date field; every part is checked by name."""
    with pytest.raises(InvalidValueError, match="Number or Text"):
        FieldMapping.crm_to_platform(L, "Contact", "Score", "number", platform_type="Date")
    with pytest.raises(InvalidTypeError, match="platform_field"):
        FieldMapping(L, Direction.TO_CRM, "Lead", "X", "text", "X")  # type: ignore[arg-type]
    with pytest.raises(UnknownChoiceError, match="direction"):
        FieldMapping(L, "sideways", "Lead", "X", "text", PlatformField("X", "Text"))
    with pytest.raises(UnknownChoiceError, match="direction"):
        FieldMapping(L, 3, "Lead", "X", "text", PlatformField("X", "Text"))  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="options of 'Industry'"):
        FieldMapping.crm_to_platform(L, "Contact", "Industry", "picklist")
    empty = PlatformField("Industry", "MultiSelectOne")
    assert (
        FieldMapping.platform_to_crm(L, empty, "Contact", "Industry", "picklist").crm_options == ()
    )
    mapping = FieldMapping(L, "platform -> CRM", "lead", "X", "text", PlatformField("X", "Text"))
    assert mapping.direction is Direction.TO_CRM
    assert mapping.kind is RecordKind.LEAD


def test_creating_a_mapping_plans_a_platform_field_of_the_matching_type() -> None:
    """Each CRM type gets its platform type; a checkbox gets a Yes/No select field."""
    expected = {
        "text": PlatformFieldType.TEXT,
        "number": PlatformFieldType.NUMBER,
        "date": PlatformFieldType.DATE,
        "datetime": PlatformFieldType.DATE,
        "boolean": PlatformFieldType.SELECT_ONE,
        "picklist": PlatformFieldType.SELECT_ONE,
        "multipicklist": PlatformFieldType.SELECT_MANY,
    }
    for crm_type, data_type in expected.items():
        mapping = FieldMapping.crm_to_platform(L, "Contact", "Field", crm_type, options=("A",))
        assert mapping.platform_field.data_type is data_type
    flag = FieldMapping.crm_to_platform(L, "Contact", "Active__c", "checkbox")
    assert flag.platform_field.options == ("Yes", "No")
    state = FieldMapping.crm_to_platform(
        L, "Contact", "MailingState", "text", platform_name="State", platform_type="USState"
    )
    assert (state.platform_field.name, state.platform_field.key) == ("State", "[State]")


def test_new_subscriber_rules_parse_and_know_their_required_fields() -> None:
    """A lead needs LastName and Company, a contact LastName, unless told otherwise."""
    assert NewSubscriberAction.parse("Create Lead") is NewSubscriberAction.CREATE_LEAD
    assert NewSubscriberAction.parse(NewSubscriberAction.NONE).kind is None
    with pytest.raises(UnknownChoiceError, match="create contact"):
        NewSubscriberAction.parse("create account")
    with pytest.raises(UnknownChoiceError):
        NewSubscriberAction.parse(None)
    assert NewSubscriberRule("create lead").required_fields == ("LastName", "Company")
    assert NewSubscriberRule("create contact").required_fields == ("LastName",)
    assert NewSubscriberRule().required_fields == ()
    assert NewSubscriberRule("create lead", required=["Company"]).required_fields == ("Company",)
    with pytest.raises(InvalidTypeError, match="defaults"):
        NewSubscriberRule(defaults=["Company"])  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="defaults"):
        NewSubscriberRule(defaults={"": "x"})
    with pytest.raises(InvalidValueError, match=r"defaults\['Company'\]"):
        NewSubscriberRule(defaults={"Company": " "})
    with pytest.raises(InvalidTypeError, match="required"):
        NewSubscriberRule(required="Company")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="required"):
        NewSubscriberRule(required=[""])


def test_a_lists_mappings_belong_to_it_and_write_each_field_once() -> None:
    """Mappings of another list, or two mappings writing one field, are refused."""
    text = PlatformField("Notes", "Text")
    one = FieldMapping.platform_to_crm(L, text, "Contact", "Notes__c", "text")
    with pytest.raises(InvalidValueError, match="mappings of list"):
        ListFieldMappings("list-2", [one])
    other = PlatformField("Other", "Text")
    twice = FieldMapping.platform_to_crm(L, other, "Contact", "notes__c", "text")
    with pytest.raises(InvalidValueError, match="mapped twice"):
        ListFieldMappings(L, [one, twice])
    lead = FieldMapping.platform_to_crm(L, other, "Lead", "notes__c", "text")
    assert ListFieldMappings(L, [one, lead]).of(Direction.TO_CRM, RecordKind.LEAD) == (lead,)
    with pytest.raises(InvalidTypeError, match="mappings"):
        ListFieldMappings(L, one)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="mappings"):
        ListFieldMappings(L, ["x"])  # type: ignore[list-item]
    with pytest.raises(InvalidTypeError, match="new_subscriber_rule"):
        ListFieldMappings(L, (), "create lead")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- CRM -> platform


def test_numbers_are_sent_as_plain_decimal_text() -> None:
    """Ints, floats and decimals become text; text holding a number is normalised."""
    assert to_platform("number", 42) == "42"
    assert to_platform("number", 12.5) == "12.5"
    assert to_platform("number", Decimal("1234.50")) == "1234.50"
    assert to_platform("number", " 7 ") == "7"
    for bad in (True, float("nan"), Decimal("Infinity"), "12 apples", date(2026, 1, 1)):
        with pytest.raises(FieldConversionError, match="'F'"):
            to_platform("number", bad)


def test_dates_are_calendar_dates_in_the_orgs_zone() -> None:
    """A date-time is sent as its date in the org's zone; text dates are read."""
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert to_platform("datetime", late) == "2026-04-01"
    assert to_platform("date", date(2026, 2, 1)) == "2026-02-01"
    assert to_platform("date", "2026-02-01") == "2026-02-01"
    assert to_platform("date", "2026-03-31T23:30:00+00:00") == "2026-04-01"
    for bad in (datetime(2026, 1, 1), "31/12/2026", "2026-13-01", 5):
        with pytest.raises(FieldConversionError, match="date"):
            to_platform("date", bad)


def test_select_fields_take_only_their_options() -> None:
    """A picklist value is sent in the option's spelling; an unknown one is refused."""
    assert to_platform("picklist", "banking", options=("Banking", "Retail")) == "Banking"
    with pytest.raises(FieldConversionError, match="'Banking', 'Retail'"):
        to_platform("picklist", "Farming", options=("Banking", "Retail"))
    assert to_platform("checkbox", True) == "Yes"
    assert to_platform("checkbox", False) == "No"


def test_multi_selects_are_salesforce_semicolon_lists() -> None:
    """``a;b`` or a tuple becomes the selected options, each once, in order."""
    opts = ("VIP", "Gold", "Silver")
    assert to_platform("multipicklist", "vip; Gold;;vip", options=opts) == ("VIP", "Gold")
    assert to_platform("multipicklist", ("Silver",), options=opts) == ("Silver",)
    with pytest.raises(FieldConversionError, match="without ';'"):
        to_platform("multipicklist", ("a;b",), options=opts)
    with pytest.raises(FieldConversionError, match="selected options"):
        to_platform("multipicklist", 3, options=opts)
    with pytest.raises(FieldConversionError, match="selected options"):
        to_platform("multipicklist", (1, 2), options=opts)
    with pytest.raises(FieldConversionError, match="one of"):
        to_platform("multipicklist", "Bronze", options=opts)


def test_text_fields_take_any_value_as_text() -> None:
    """Numbers, dates, checkboxes and selections are written out as text."""
    text = {"platform_type": "Text"}
    assert to_platform("text", " as is ", **text) == " as is "
    assert to_platform("number", 3, **text) == "3"
    assert to_platform("date", date(2026, 1, 2), **text) == "2026-01-02"
    assert to_platform("checkbox", True, **text) == "Yes"
    assert to_platform("multipicklist", ("a", "b"), **text) == "a;b"


def test_us_states_and_countries_are_option_lists() -> None:
    """A US state is read by name or code; a country must be one of the field's options."""
    state = {"platform_type": "USState"}
    assert to_platform("text", "ca", **state) == "California"
    assert to_platform("text", "new york", **state) == "New York"
    assert to_platform("text", "CA", **state, options=("California",)) == "California"
    with pytest.raises(FieldConversionError, match="US state"):
        to_platform("text", "Bavaria", **state)
    country = {"platform_type": "Country"}
    assert to_platform("text", "Atlantis", **country) == "Atlantis"
    assert to_platform("text", "france", **country, options=("France",)) == "France"
    with pytest.raises(FieldConversionError, match="one of"):
        to_platform("text", "Atlantis", **country, options=("France",))


def test_blank_crm_values_are_not_sent() -> None:
    """None, blank text and no selection send nothing."""
    for blank in (None, "  ", ()):
        assert to_platform("text", blank) is None


# ----------------------------------------------------------------------------- platform -> CRM


def test_platform_values_convert_to_the_crm_fields_type() -> None:
    """Numbers, dates, checkboxes, picklists and multi-selects are typed for the CRM."""
    assert to_crm("number", "42", "Number") == 42
    assert to_crm("number", "-1.5e3", "Number") == -1500.0
    assert to_crm("date", "2026-02-01", "Date") == date(2026, 2, 1)
    assert to_crm("datetime", "2026-02-01", "Date") == datetime(2026, 1, 31, 13, tzinfo=UTC)
    assert to_crm("datetime", "2026-02-01T10:00:00", "Text") == datetime(
        2026, 1, 31, 23, tzinfo=UTC
    )
    assert to_crm("checkbox", "yes", "MultiSelectOne", ("Yes", "No")) is True
    assert to_crm("checkbox", "No", "MultiSelectOne", ("Yes", "No")) is False
    assert to_crm("picklist", "retail", "MultiSelectOne", ("Retail",), crm_options=("Retail",)) == (
        "Retail"
    )
    assert to_crm("picklist", ("Gold",), "MultiSelectOne", ("Gold",)) == "Gold"
    assert to_crm("text", "Anything", "Text") == "Anything"
    many = ("VIP", "Gold")
    assert to_crm("multipicklist", many, "MultiSelectMany", many) == "VIP;Gold"
    assert to_crm("multipicklist", ("vip",), "MultiSelectMany", many, crm_options=many) == "VIP"


def test_blank_platform_values_clear_the_crm_field() -> None:
    """A blank value is a blank field, and an unchecked checkbox."""
    assert to_crm("text", None) is None
    assert to_crm("text", "") is None
    assert to_crm("multipicklist", ("",), "MultiSelectMany", ("A",)) is None
    assert to_crm("checkbox", None, "MultiSelectOne", ("Yes", "No")) is False


def test_platform_values_that_cannot_convert_are_refused() -> None:
    """No wrong value: each impossible conversion names the field and the value."""
    cases = [
        ("number", "1,234", "Number", ()),
        ("number", "inf", "Number", ()),
        ("number", "1e999", "Number", ()),
        ("date", "tomorrow", "Date", ()),
        ("datetime", "2026-02-30", "Date", ()),
        ("checkbox", "maybe", "MultiSelectOne", ("maybe",)),
        ("picklist", ("a", "b"), "MultiSelectOne", ("a", "b")),
        ("text", 5, "Text", ()),
    ]
    for crm_type, value, data_type, options in cases:
        with pytest.raises(FieldConversionError, match="F__c"):
            to_crm(crm_type, value, data_type, options)
    with pytest.raises(FieldConversionError, match="one of"):
        to_crm("multipicklist", ("X",), "MultiSelectMany", ("X",), crm_options=("Y",))


# ----------------------------------------------------------------------------- planning


def _lists(*mappings: FieldMapping, rule: NewSubscriberRule | None = None) -> ListFieldMappings:
    return ListFieldMappings(L, mappings, rule or NewSubscriberRule())


def test_only_missing_platform_fields_are_created_and_a_type_clash_is_refused() -> None:
    """A mapping's field is created unless the list has it (by key, ignoring case)."""
    industry = FieldMapping.crm_to_platform(L, "Contact", "Industry", "text")
    score = FieldMapping.crm_to_platform(L, "Contact", "Score", "number")
    lead_score = FieldMapping.crm_to_platform(L, "Lead", "Score", "number")
    inbound = FieldMapping.platform_to_crm(L, PlatformField("X", "Text"), "Lead", "X", "text")
    lists = _lists(industry, score, lead_score, inbound)
    existing = [PlatformField("industry", "Text")]
    assert platform_fields_to_create(lists, existing) == (score.platform_field,)
    with pytest.raises(InvalidValueError, match=r"\[Industry\]"):
        platform_fields_to_create(lists, [PlatformField("Industry", "Number")])
    with pytest.raises(InvalidTypeError, match="existing"):
        platform_fields_to_create(lists, ["Industry"])  # type: ignore[list-item]
    with pytest.raises(InvalidTypeError, match="mappings"):
        platform_fields_to_create("lists", [])  # type: ignore[arg-type]


def test_a_records_mapped_values_become_its_custom_fields() -> None:
    """Each mapping of its kind is converted; a bad value is a message, not a value."""
    industry = FieldMapping.crm_to_platform(L, "Contact", "Industry", "text")
    score = FieldMapping.crm_to_platform(L, "Contact", "Score", "number")
    notes = FieldMapping.crm_to_platform(L, "Contact", "Notes", "text")
    lead_only = FieldMapping.crm_to_platform(L, "Lead", "Rating", "text")
    lists = _lists(industry, score, notes, lead_only)
    got = mapped_custom_fields(
        "003A",
        RecordKind.CONTACT,
        {"industry": "Banking", "Score": "lots", "Rating": "Hot"},
        lists,
        zone=UTC,
        as_of=AS_OF,
    )
    assert dict(got.custom_fields) == {"[Industry]": "Banking"}
    (message,) = got.messages
    assert message.code == FIELD_VALUE_NOT_CONVERTED
    assert message.record == "Contact 003A"
    by_name = mapped_custom_fields("003A", "contact", {"Score": "x"}, lists, zone=UTC, as_of=AS_OF)  # type: ignore[arg-type]
    assert by_name.messages[0].record == "Contact 003A"
    assert "'Score'" in message.guidance
    assert "'lots'" in message.guidance
    with pytest.raises(InvalidTypeError, match="values"):
        mapped_custom_fields("003A", RecordKind.CONTACT, [], lists, zone=UTC, as_of=AS_OF)  # type: ignore[arg-type]


def test_platform_subscribers_and_crm_changes_check_their_parts() -> None:
    """Bad custom field values, emails and value maps are refused by name."""
    with pytest.raises(InvalidTypeError, match="custom_fields"):
        PlatformSubscriber(L, "a@example.com", "", [])  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="custom_fields"):
        PlatformSubscriber(L, "a@example.com", "", {"": "x"})
    with pytest.raises(InvalidTypeError, match=r"custom_fields\[\[X\]\]"):
        PlatformSubscriber(L, "a@example.com", "", {"[X]": 3})
    with pytest.raises(InvalidValueError, match="email"):
        PlatformSubscriber(L, " ")
    with pytest.raises(InvalidTypeError, match="values"):
        FieldUpdate("003A", RecordKind.CONTACT, [])  # type: ignore[arg-type]
    sub = PlatformSubscriber(L, " a@example.com ", "", {"[Tags]": ("A", "B")})
    assert sub.email == "a@example.com"


SCORE = PlatformField("Score", "Number")
TAGS = PlatformField("Tags", "MultiSelectMany", ("VIP", "Gold"))
COMPANY = PlatformField("Company", "Text")


def _inbound() -> list[FieldMapping]:
    return [
        FieldMapping.platform_to_crm(L, SCORE, "Contact", "Score__c", "number"),
        FieldMapping.platform_to_crm(L, TAGS, "Contact", "Tags__c", "multipicklist"),
        FieldMapping.platform_to_crm(L, SCORE, "Lead", "Score__c", "number"),
        FieldMapping.platform_to_crm(L, COMPANY, "Lead", "Company", "text"),
    ]


def test_matched_contacts_and_leads_get_the_platforms_changed_values() -> None:
    """Every mapped field that differs is written; an unchanged one is not."""
    lists = _lists(*_inbound())
    ann = PlatformSubscriber(L, "Ann@example.com", "Ann", {"[Score]": "12", "[Tags]": ("VIP",)})
    people = {
        "ann@example.com": [
            Person("003A", "Contact", email="ann@example.com"),
            Person("00QA", "Lead", email="ann@example.com"),
        ]
    }
    current = {"003A": {"score__c": 12, "Tags__c": ("Gold",)}}
    plan = plan_crm_fields([lists], [ann], people, current, zone=UTC, as_of=AS_OF)
    assert plan.updates == (
        FieldUpdate("003A", RecordKind.CONTACT, {"Tags__c": "VIP"}),
        FieldUpdate("00QA", RecordKind.LEAD, {"Score__c": 12, "Company": None}),
    )
    assert plan.creates == ()
    assert plan.messages == ()


def test_a_value_that_cannot_convert_is_a_message_naming_record_field_and_value() -> None:
    """The field is left as it is, and the maintenance log says why."""
    lists = _lists(*_inbound())
    ann = PlatformSubscriber(L, "ann@example.com", "", {"[Score]": "twelve"})
    people = {"ann@example.com": [Person("003A", "Contact", email="ann@example.com")]}
    plan = plan_crm_fields([lists], [ann], people, {"003A": {}}, zone=UTC, as_of=AS_OF)
    assert plan.updates == ()  # Tags is blank on both sides
    (message,) = plan.messages
    assert message.record == "Contact 003A"
    assert "'Score__c'" in message.guidance
    assert "'twelve'" in message.guidance


def test_the_new_subscriber_rule_creates_a_lead_from_the_mapped_fields() -> None:
    """Name, email, mapped fields, then defaults for what is still blank."""
    rule = NewSubscriberRule("create lead", defaults={"Company": "Unknown", "LeadSource": "Web"})
    lists = _lists(*_inbound(), rule=rule)
    bob = PlatformSubscriber(L, "bob@example.com", " Bob Smith ", {"[Company]": "Acme"})
    carl = PlatformSubscriber(L, "carl@example.com", "Carl", {"[Score]": "x"})
    again = PlatformSubscriber(L, "BOB@example.com", "Bob")
    plan = plan_crm_fields([lists], [bob, carl, again], {}, zone=UTC, as_of=AS_OF)
    first, second = plan.creates
    assert first == CreatePerson(
        RecordKind.LEAD,
        "bob@example.com",
        L,
        {
            "Email": "bob@example.com",
            "LastName": "Bob Smith",
            "Company": "Acme",
            "LeadSource": "Web",
        },
    )
    assert second.values["Company"] == "Unknown"
    assert "Score__c" not in second.values
    assert [m.code for m in plan.messages] == [FIELD_VALUE_NOT_CONVERTED]


def test_the_new_subscriber_rule_refuses_a_record_missing_a_required_field() -> None:
    """A required field neither mapped nor defaulted is a message naming it."""
    contacts = NewSubscriberRule("create contact", name_field=None, defaults={"X": ("a", "b")})
    lists = _lists(rule=contacts)
    dan = PlatformSubscriber(L, "dan@example.com", "Dan")
    plan = plan_crm_fields([lists], [dan], {}, zone=UTC, as_of=AS_OF)
    assert plan.creates == ()
    (message,) = plan.messages
    assert message.code == NEW_SUBSCRIBER_REFUSED
    assert message.record == "dan@example.com"
    assert "LastName" in message.guidance
    ok = NewSubscriberRule(
        "create contact", required=["X"], name_field=None, defaults={"X": ("a", "b")}
    )
    (created,) = plan_crm_fields([_lists(rule=ok)], [dan], {}, zone=UTC, as_of=AS_OF).creates
    assert created.values["X"] == "a;b"


def test_no_rule_and_unmapped_lists_create_nothing() -> None:
    """Rule "none" leaves unmatched subscribers alone; other lists are not read."""
    lists = _lists(*_inbound())
    eve = PlatformSubscriber(L, "eve@example.com")
    elsewhere = PlatformSubscriber("list-9", "eve@example.com")
    assert plan_crm_fields([lists], [eve, elsewhere], {}, zone=UTC, as_of=AS_OF) == (
        fm.CrmFieldPlan()
    )


def test_plan_crm_fields_refuses_bad_arguments_by_name() -> None:
    """Each argument's type is checked before anything is planned."""
    lists = _lists()
    with pytest.raises(InvalidTypeError, match="mappings"):
        plan_crm_fields(lists, [], {}, zone=UTC, as_of=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="people"):
        plan_crm_fields([lists], [], [], zone=UTC, as_of=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="subscribers"):
        plan_crm_fields([lists], ["x"], {}, zone=UTC, as_of=AS_OF)  # type: ignore[list-item]


def test_values_equal_to_the_crms_are_not_written_again() -> None:
    """Blank text, a ``;`` list held as a tuple and the same typed value count as equal."""
    lists = _lists(*_inbound())
    ann = PlatformSubscriber(L, "ann@example.com", "", {"[Tags]": ("VIP", "Gold")})
    people = {"ann@example.com": [Person("003A", "Contact", email="ann@example.com")]}
    current = {"003A": {"Score__c": " ", "Tags__c": ("VIP", "Gold")}}
    assert plan_crm_fields([lists], [ann], people, current, zone=UTC, as_of=AS_OF).updates == ()
    typed = {"003A": {"Score__c": None, "Tags__c": "VIP;Gold"}}
    assert plan_crm_fields([lists], [ann], people, typed, zone=UTC, as_of=AS_OF).updates == ()


def test_a_select_many_value_is_sent_as_its_key_repeated() -> None:
    """An import row holding a tuple sends one ``{Key, Value}`` per selected option."""
    row = SubscriberImport("a@example.com", "", {"[Tags]": ("VIP", "Gold"), "[City]": "Paris"})
    assert subscriber_row(row)["CustomFields"] == [
        {"Key": "[Tags]", "Value": "VIP"},
        {"Key": "[Tags]", "Value": "Gold"},
        {"Key": "[City]", "Value": "Paris"},
    ]
    with pytest.raises(InvalidTypeError, match=r"custom_fields\[\[Tags\]\]"):
        SubscriberImport("a@example.com", "", {"[Tags]": (1, 2)})


def test_crm_values_read_back_as_text_compare_by_what_they_mean() -> None:
    """ISO text is its date or instant, numbers compare by value, bools by identity."""
    at = datetime(2026, 4, 1, 9, tzinfo=UTC)
    assert fm.same_crm_value("2026-04-01T09:00:00.000+0000", at)
    assert fm.same_crm_value("2026-04-01T09:00:00Z", at)
    assert fm.same_crm_value("2026-04-01T11:00:00+02:00", at)
    assert not fm.same_crm_value("2026-04-01T09:00:00", at)
    assert not fm.same_crm_value("soon", at)
    assert fm.same_crm_value("2026-04-01", date(2026, 4, 1))
    assert not fm.same_crm_value("2026-04-01T00:00:00", date(2026, 4, 1))
    assert fm.same_crm_value(12.0, 12)
    assert not fm.same_crm_value(True, 1)
    assert not fm.same_crm_value(1, True)
    assert fm.same_crm_value(True, True)
    assert not fm.same_crm_value("12", 12)
