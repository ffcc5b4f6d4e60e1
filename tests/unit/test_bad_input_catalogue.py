"""The bad-input catalogue: every public constructor and parser fed bad input.

Each case is refused with a library error (a :class:`~cmsf_core.CmsfError` that is also a
``ValueError``, ``TypeError`` or ``KeyError``) whose message names the field.  The sync
cases check that bad platform data is refused before the CRM changes at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from cmsf_core import (
    Activity,
    ActivityType,
    CampaignMember,
    CampaignSummary,
    CmsfError,
    CredentialKind,
    Credentials,
    CrmCampaign,
    Engagement,
    MaintenanceMessage,
    MemberRecord,
    MemberStatus,
    PlatformCampaign,
    PlatformClient,
    RefreshMode,
    Schedule,
    Settings,
    TrackingEvent,
    next_run,
    refresh_member,
    to_e164,
)
from cmsf_core.adapters.campaign_monitor.rows import read_list_membership, read_suppressed_email
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain.errors import shown
from cmsf_core.domain.records import Checkpoint, Person, PersonKind
from cmsf_core.domain.subscribers import ImportRow
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.shell.subscriber_sync import handle_account_changes, run_import
from cmsf_core.shell.sync import run_sync

AWARE = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
NAIVE = datetime(2024, 5, 1, 9, 30)
#: Aware, but after datetime.max once moved to UTC.
FAR_FUTURE = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
#: Aware, but before datetime.min once moved to UTC.
FAR_PAST = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5)))
OVERLONG = "x" * 10_000
LONG_LABEL = "L" * 41
ZERO_WIDTH = "\u200b"  # not printable, not stripped
FULLWIDTH_ALWAYS = "\uff21\uff4c\uff57\uff41\uff59\uff53"  # "Always" in fullwidth letters
ARABIC_SEVEN = "\u0667"  # a decimal digit, but not an ASCII one
LONDON = ZoneInfo("Europe/London")

CASES: list[Any] = []


_IDS: set[str] = set()


#: Stands for "the message need not quote the input" (a case built from several values).
NOT_SHOWN = object()


def case(
    group: str,
    field: str,
    action: Callable[[], object],
    label: str,
    shows: object = NOT_SHOWN,
) -> None:
    """Add one bad input: ``action`` must be refused naming ``field`` and, unless
    ``shows`` is NOT_SHOWN, quoting ``shows`` (what arrived)."""
    ident = f"{group}:{field}:{label}"
    n = 2
    while ident in _IDS:
        ident = f"{group}:{field}:{label}#{n}"
        n += 1
    _IDS.add(ident)
    CASES.append(pytest.param(action, field, shows, id=ident))


def cases(
    group: str,
    field: str,
    build: Callable[[Any], object],
    values: Sequence[Any],
    *,
    quoted: bool = True,
) -> None:
    """Add one case per bad value fed to ``build``; the message quotes the value unless
    ``quoted`` is false (the value is transformed or only a part of it is at fault)."""
    for value in values:
        label = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:37]}..."
        case(group, field, partial(build, value), label, value if quoted else NOT_SHOWN)


# ----------------------------------------------------------------------------- settings


def setting(name: str) -> Callable[[object], Settings]:
    """Read one setting by its product name."""
    return lambda value: Settings.from_mapping({name: value})


def with_field(make: Callable[..., object], field: str, value: object) -> object:
    """``make`` called with one keyword argument: ``field=value``."""
    return make(**{field: value})


BOOL_SETTINGS = (
    "Import_Email_Tracking",
    "Update_Campaign_Statistics",
    "Auto_Create_Campaigns",
    "Auto_Create_Missing_Statuses",
    "Sync_Email_Opt_Out",
    "Prevent_Opted_Out_List_Add",
    "Unsubscribe_On_Opt_Out",
    "Delete_Subscriber_On_Record_Delete",
    "Resubscribe_Deleted_Via_Import_Wizard",
    "Trigger_Joins_A_List_Journeys",
    "Enable_Account_Trigger",
    "Disable_Triggers",
    "Disable_Bulk_Triggers",
    "Sync_Suppression_List",
    "SMS_Enabled",
    "Perform_Full_Daily_Sync",
)
for _name in BOOL_SETTINGS:
    cases("settings", _name, setting(_name), ["maybe", 2, None])


cases(
    "settings",
    "DaysToKeep_Email",
    setting("DaysToKeep_Email"),
    [-1, 36_501, 10**100, -(10**100), 7.5, "seven", "", ARABIC_SEVEN, True, None, [7], "1e3"],
    quoted=False,
)
for _type in ActivityType:
    _name = f"DaysToKeep_Email_{_type.name.title().replace('_', '')}"
    cases("settings", _name, setting(_name), [-1, "lots"])
cases(
    "settings",
    "Campaign_Member_Refresh",
    setting("Campaign_Member_Refresh"),
    ["Sometimes", "", "always!", 1, None, FULLWIDTH_ALWAYS, OVERLONG, "Update Twice"],
)
cases("settings", "Status_Policy", setting("Status_Policy"), ["Random", 3, ""])
cases(
    "settings",
    "Email_Types_To_Import",
    setting("Email_Types_To_Import"),
    ["Sent, Forwards", 5, {"Sent": 1}, b"Sent", ["Sent", 3], None],
    quoted=False,
)
cases("settings", "Status_Mapping", setting("Status_Mapping"), ["Opened", ["Opened"], None])
# A bad key or label inside the mapping names the setting (and the type of a label).
cases(
    "settings",
    "Status_Mapping",
    setting("Status_Mapping"),
    [{"Forwards": "Forwarded"}, {5: "Five"}],
    quoted=False,
)
cases(
    "settings",
    "Status_Mapping[Opened]",
    setting("Status_Mapping"),
    [{"Opened": LONG_LABEL}, {"Opened": ""}, {"Opened": "a\x00b"}, {"Opened": 5}],
    quoted=False,
)
cases(
    "settings",
    "Responded_Statuses",
    setting("Responded_Statuses"),
    [5, {"Opened": True}, [LONG_LABEL], [""], [None], b"Opened"],
    quoted=False,
)
for _name in ("Auto_Create_Campaigns_Since", "Campaign_Filter_Start_Date"):
    cases(
        "settings",
        _name,
        setting(_name),
        [
            "2024-05-01T09:30:00",
            "yesterday",
            "2024-13-01T00:00:00+00:00",
            "",
            5,
            NAIVE,
            "9999-12-31T23:59:00-05:00",
            FAR_FUTURE,
        ],
        quoted=False,  # the text is read first: an error may quote the parsed instant
    )
cases(
    "settings",
    "Campaign_Filter_Tags",
    setting("Campaign_Filter_Tags"),
    [5, [""], [3], {"spring": 1}, ["  "]],
    quoted=False,
)
cases(
    "settings",
    "Sync_Overlap_Minutes",
    setting("Sync_Overlap_Minutes"),
    [-1, 10_081, 10**12, 1.5, "ten", True, None],
)
cases("settings", "SMS_Country", setting("SMS_Country"), ["Atlantis", 44, "ZZ", "U$", ["US"]])
cases(
    "settings",
    "Import_Frequency",
    setting("Import_Frequency"),
    ["Fortnightly", 5, None, {"hour": 3}],
    quoted=False,
)
cases(
    "settings",
    "Import_Frequency.days",
    setting("Import_Frequency"),
    ["Weekly on Funday", "Custom"],
    quoted=False,
)
cases(
    "settings",
    "Import_Frequency.hour",
    setting("Import_Frequency"),
    ["Daily at 06:30", "Daily at 25", "Hourly at 3"],
    quoted=False,
)
cases(
    "settings",
    "Import_Frequency key",
    setting("Import_Frequency"),
    [{"frequency": "Daily", "colour": "blue"}],
    quoted=False,
)
cases(
    "settings",
    "Notification_Email",
    setting("Notification_Email"),
    ["not-an-email", 5, "ops@localhost", "x" * 300 + "@example.com", "a b@example.com"],
    quoted=False,
)
cases(
    "settings",
    "Governor_Limits",
    setting("Governor_Limits"),
    [5, "Email opt-out=50", ["Email opt-out"]],
)
cases(
    "settings",
    "batch_sizes[Email opt-out]",
    setting("Governor_Limits"),
    [
        {"Email opt-out": 0},
        {"Email opt-out": 5_000},
        {"Email opt-out": "fifty"},
        {"Email opt-out": 1.5},
    ],
    quoted=False,
)
cases(
    "settings",
    "batch_sizes",
    setting("Governor_Limits"),
    [{"Teleport": 5}, {"email_opt_out": 5, "Email opt-out": 6}, {5: 5}],
    quoted=False,
)
cases(
    "settings", "DaysToKeep_Emails", Settings.from_mapping, [{"DaysToKeep_Emails": 7}], quoted=False
)
cases("settings", "Colour", Settings.from_mapping, [{"Colour": "blue"}], quoted=False)
cases("settings", "settings key", Settings.from_mapping, [{5: 1}, {None: 1}], quoted=False)
cases(
    "settings",
    "settings",
    Settings.from_mapping,
    ["DaysToKeep_Email=7", [("DaysToKeep_Email", 7)], None, 7],
)
cases(
    "settings",
    "DaysToKeep_Email",
    Settings.from_mapping,
    [{"DaysToKeep_Email": 7, "days_to_keep": 7}, {"DaysToKeep_Email": 7, " daystokeep_email ": 8}],
    quoted=False,
)
cases(
    "settings",
    "auto_create_campaigns_since",
    Settings.from_mapping,
    [{"Auto_Create_Campaigns": True}, {"Auto_Create_Campaigns": "yes"}],
    quoted=False,
)
# A settings file cut short: what json.loads made of it (a string, a number, a list) or,
# where the parse got as far as a table, a value of the wrong shape.
_SETTINGS_JSON = json.dumps({"Campaign_Member_Refresh": "Update Once", "DaysToKeep_Email": 90})
cases(
    "settings-json",
    "settings",
    lambda text: Settings.from_mapping(json.loads(text)),
    ['"Campaign_Member_Refresh"', "90", '["DaysToKeep_Email", 90]', "null"],
    quoted=False,
)
cases(
    "settings-json",
    "DaysToKeep_Email",
    lambda text: Settings.from_mapping(json.loads(text)),
    [_SETTINGS_JSON.replace("90", '"90 days"'), _SETTINGS_JSON.replace("90", "9.0")],
    quoted=False,
)


def test_truncated_settings_json_is_refused_by_the_json_parser_before_the_library() -> None:
    """Every cut of a settings file short of the whole is a JSONDecodeError, never a
    half-read Settings (the catalogue's settings-json cases feed what does parse)."""
    for end in range(1, len(_SETTINGS_JSON)):
        with pytest.raises(json.JSONDecodeError):
            json.loads(_SETTINGS_JSON[:end])


# ----------------------------------------------------------------------------- direct values

cases(
    "refresh-mode",
    "Campaign_Member_Refresh",
    RefreshMode.parse,
    ["Sometimes", "", 0, None, ZERO_WIDTH, OVERLONG, "Always Always"],
)
cases(
    "settings-attr",
    "days_to_keep",
    lambda v: Settings(days_to_keep=v),
    [-3, 36_501, 10**100, 7.0, "7", True, None],
)
cases(
    "settings-attr",
    "sync_overlap_minutes",
    lambda v: Settings(sync_overlap_minutes=v),
    [-1, 10_081, False, 2.5],
)
cases(
    "settings-attr",
    "import_tracking",
    lambda v: Settings(import_tracking=v),
    ["yes", 1, None],
)
cases(
    "settings-attr",
    "status_mapping",
    lambda v: Settings(status_mapping=v),
    [{"Opened": "Opened"}, None],
)
cases(
    "settings-attr",
    "days_to_keep_by_type",
    lambda v: Settings(days_to_keep_by_type=v),
    [[("Sent", 3)], "Sent=3", {"Forwards": 3}],
    quoted=False,
)
cases(
    "settings-attr",
    "status_mapping.labels",
    lambda v: Settings(status_mapping=attrs.evolve(Settings().status_mapping, labels=v)),
    ["Opened", None],
)
cases(
    "settings-attr",
    "status_mapping.responded",
    lambda v: Settings(status_mapping=attrs.evolve(Settings().status_mapping, responded=v)),
    ["Opened", 5],
)

# Each converted attribute names itself when given directly (not by its product name).
_ATTRIBUTE_CASES: dict[str, list[Any]] = {
    "refresh_mode": ["Sometimes", 1],
    "status_policy": ["Random", 2],
    "imported_types": [5, ["Forwards"]],
    "campaign_filter_tags": [5, [""]],
    "campaign_filter_start": [NAIVE, "2024-05-01"],
    "auto_create_campaigns_since": [NAIVE, 5],
    "sms_country": ["Atlantis", 44],
    "notification_email": ["not-an-email", 5],
    "update_campaign_statistics": ["yes", None],
    "sync_suppression_list": [1, "no"],
}
for _field, _values in _ATTRIBUTE_CASES.items():
    cases("settings-attr", _field, partial(with_field, Settings, _field), _values, quoted=False)
cases(
    "settings-attr",
    "import_schedule",
    partial(with_field, Settings, "import_schedule"),
    ["Fortnightly", 5],
    quoted=False,
)
cases(
    "settings-attr",
    "import_schedule.hour",
    partial(with_field, Settings, "import_schedule"),
    ["Daily at 25"],
    quoted=False,
)
cases(
    "settings-attr",
    "governor_limits",
    partial(with_field, Settings, "governor_limits"),
    [5, ["Email opt-out"]],
)


# ----------------------------------------------------------------------------- activities


def activity(**changes: object) -> Activity:
    """An Activity with one or more of its arguments replaced."""
    kwargs: dict[str, Any] = {
        "campaign_id": "cmp-1",
        "member_id": "m-1",
        "type": ActivityType.OPENED,
        "occurred_at": AWARE,
    }
    kwargs.update(changes)
    return Activity(**kwargs)


_ACTIVITY_CASES: dict[str, list[Any]] = {
    "campaign_id": ["", "   ", 5, None, b"cmp-1"],
    "member_id": ["", 5, None],
    "type": ["Forwarded", 3, None, "", FULLWIDTH_ALWAYS],
    "occurred_at": [NAIVE, "2024-05-01 09:30", 5, None, AWARE.date(), FAR_FUTURE, FAR_PAST],
    "client_id": [5, None],
    "email": ["", 5],
    "list_id": ["", 7],
    "detail": ["  ", 3],
    "occurrence": [-1, 1.5, True, "1", None],
}
for _field, _values in _ACTIVITY_CASES.items():
    cases("activity", _field, partial(with_field, activity, _field), _values)

# ----------------------------------------------------------------------------- status labels

cases(
    "status-label",
    "status",
    lambda v: CampaignMember("cmp-1", "m-1", status=v),
    ["", "  ", LONG_LABEL, 5, "a\nb", ZERO_WIDTH],
)
cases(
    "status-label",
    "MemberStatus.label",
    MemberStatus,
    ["", LONG_LABEL, 5, None, "tab\there"],
)
cases(
    "status-label",
    "default_status",
    lambda v: refresh_member(CampaignMember("cmp-1", "m-1"), (), Settings(), default_status=v),
    ["", LONG_LABEL, 5],
)
cases(
    "member",
    "activity_date",
    lambda v: CampaignMember("cmp-1", "m-1", activity=ActivityType.OPENED, activity_date=v),
    [NAIVE, None, FAR_FUTURE],
)
cases(
    "member",
    "engagement",
    lambda v: CampaignMember("cmp-1", "m-1", engagement=v),
    [None, {"opens": 1}, 3],
)
cases("engagement", "opens", lambda v: Engagement(opens=v), [-1, 1.5, True, None, -(10**30)])

# ----------------------------------------------------------------------------- schedules

cases(
    "schedule",
    "Import_Frequency",
    Schedule.parse,
    ["", "   ", 42, None, 1.5, ["Daily"], "Fortnightly at 6", "Daily at 6 at 7"],
    quoted=False,
)
cases(
    "schedule",
    "Import_Frequency.hour",
    Schedule.parse,
    ["Daily at 6:30", "Daily at 13 pm", "Daily at 0am", "Daily at 24", "Weekly on Monday at x"],
    quoted=False,
)
cases(
    "schedule",
    "Import_Frequency.days",
    Schedule.parse,
    ["Daily on Monday", "Weekly on Mon, Tue", "Custom", "Hourly on Sunday", "Weekly on 1"],
    quoted=False,
)
cases(
    "schedule",
    "Import_Frequency",
    Schedule.parse,
    [{"days": "Mon"}, {}],
    quoted=False,
)
cases(
    "schedule",
    "Import_Frequency key",
    Schedule.parse,
    [{"freq": "Daily"}, {1: "Daily"}, {"frequency": "Daily", "minute": 5}],
    quoted=False,
)
cases(
    "schedule",
    "Import_Frequency.hour",
    Schedule.parse,
    [{"frequency": "Daily", "import_hour": 1, "hour": 2}, {"frequency": "Daily", "hour": "24"}],
    quoted=False,
)
cases("schedule", "hour", Schedule.daily, [-1, 24, 10**9, True, 6.0, "noon"])
cases("schedule", "days", Schedule.custom, [set(), "Someday", 5, {"Mon": 1}], quoted=False)
cases(
    "schedule",
    "after",
    lambda v: next_run(Schedule.hourly(), after=v, tz="UTC"),
    [NAIVE, datetime(9999, 12, 31, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC), "now"],
)
cases(
    "schedule",
    "tz",
    lambda v: next_run(Schedule.hourly(), after=AWARE, tz=v),
    ["Mars/Olympus_Mons", "", 5],
)

# ----------------------------------------------------------------------------- phone numbers

cases(
    "phone",
    "mobile_number",
    lambda v: to_e164(v, "US"),
    [
        "",
        "   ",
        5,
        None,
        "555-CALL-NOW",
        "(555) 555-1234 ext. 5",
        "\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665",
        "+1 555+555 1234",
        "12",
        "1" * 41,
        "--- ---",
        "+1 (555) 555-12345",
        "+800 1234 5678",
    ],
)
cases("phone", "mobile_number", lambda v: to_e164(v, "GB"), ["(555) 555-1234", "7700 900123"])
cases("phone", "mobile_number", to_e164, ["020 7946 0018"])
cases(
    "phone",
    "mobile_number",
    lambda v: to_e164(v, "US", strict=True),
    ["(555) 555-1234"],
)
cases("phone", "country", lambda v: to_e164("+15555551234", v), ["Atlantis", 44, "XX"])

# ----------------------------------------------------------------------------- platform/CRM values

cases("records", "client_id", lambda v: PlatformClient(v, "Acme"), ["", 5, None])
cases("records", "name", lambda v: PlatformClient("c1", v), ["", 5])
cases(
    "records",
    "sent_at",
    lambda v: PlatformCampaign("c1", "cmp-1", "Spring", v),
    [NAIVE, "2024-05-01", FAR_FUTURE, None],
)
cases(
    "records",
    "tags",
    lambda v: PlatformCampaign("c1", "cmp-1", "Spring", AWARE, v),
    ["spring", [1], 5, None],
    quoted=False,
)
cases(
    "records",
    "type",
    lambda v: TrackingEvent(v, "ann@example.com", AWARE),
    ["Forwarded", 3, None],
)
cases(
    "records",
    "email",
    lambda v: TrackingEvent(ActivityType.OPENED, v, AWARE),
    ["", " ", None, 5],
)
cases(
    "records",
    "occurred_at",
    lambda v: TrackingEvent(ActivityType.OPENED, "ann@example.com", v),
    [NAIVE, FAR_PAST],
)
for _field in ("recipients", "total_opened", "clicks", "bounced", "mentions"):
    cases(
        "records",
        _field,
        partial(with_field, CampaignSummary, _field),
        [-1, 2.0, "3", None],
    )
cases(
    "records",
    "statuses",
    lambda v: CrmCampaign("sf-1", "Spring", v),
    [
        (),
        (MemberStatus("Sent"),),
        (MemberStatus("Sent", is_default=True), MemberStatus("Opened", is_default=True)),
        (MemberStatus("Sent", is_default=True), MemberStatus("Sent")),
        5,
        ["Sent"],
        None,
    ],
    quoted=False,
)
cases("records", "campaign_id", lambda v: CrmCampaign(v, "Spring", ()), ["", 5])
cases(
    "records",
    "kind",
    lambda v: Person("003A", v, "ann@example.com", AWARE),
    ["Contact", None, 5],
)
cases(
    "records",
    "last_modified",
    lambda v: Person("003A", PersonKind.CONTACT, "ann@example.com", v),
    [NAIVE, None],
)
cases(
    "records",
    "member",
    lambda v: MemberRecord("sf-1", v, "ann@example.com"),
    [None, "ann@example.com", ("cmp-1", "m-1")],
)
cases(
    "records",
    "person_id",
    lambda v: MemberRecord("sf-1", CampaignMember("cmp-1", "m-1"), "ann@example.com", v),
    ["", 5],
)
cases(
    "records",
    "watermark",
    lambda v: Checkpoint("c1", v),
    [NAIVE, "2024-05-01", FAR_FUTURE],
)
cases(
    "records",
    "pending",
    lambda v: Checkpoint("c1", AWARE, v),
    ["cmp-1", 5, [("cmp-1", "import")], [(("cmp-1",), "import")], [(("cmp-1", "m-1"), "later")]],
    quoted=False,
)

# ----------------------------------------------------------------------------- subscriber payloads


def from_row(
    read: Callable[[object, Any], object],
    make_row: Callable[..., dict[str, object]],
    field: str,
    value: object,
) -> object:
    """``read`` (a row reader) given a row with ``field`` set to ``value``."""
    return read(make_row(**{field: value}), LONDON)


def without(make_row: Callable[[], dict[str, object]], key: str) -> dict[str, object]:
    """A row without ``key``."""
    return {k: v for k, v in make_row().items() if k != key}


def row(**changes: object) -> dict[str, object]:
    """A ``lists_for_email`` row with fields replaced (``None``: removed)."""
    base: dict[str, object] = {
        "ListID": "list-1",
        "ListName": "Newsletter",
        "SubscriberState": "Active",
        "DateSubscriberAdded": "2024-05-01 09:30:00",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


for _field, _values, _named in (
    ("ListID", ["", 5], "list_id"),
    ("ListName", [5], "list_name"),
    ("SubscriberState", ["Zombie", 5, ""], "SubscriberState"),
    ("DateSubscriberAdded", ["yesterday", 5, "2024-02-30 10:00:00", [2024, 5, 1]], None),
):
    cases(
        "list-membership",
        _named or _field,
        partial(from_row, read_list_membership, row, _field),
        _values,
    )
for _missing in ("ListID", "ListName", "SubscriberState", "DateSubscriberAdded"):
    case(
        "list-membership",
        _missing,
        partial(read_list_membership, without(row, _missing), LONDON),
        f"missing {_missing}",
    )
# A payload that is not a row names the first key read.
cases(
    "list-membership",
    "DateSubscriberAdded",
    lambda v: read_list_membership(v, LONDON),
    ["ListID=list-1", None, 5, [], {}],
    quoted=False,
)
cases(
    "list-membership",
    "tz",
    lambda v: read_list_membership(row(), v),
    ["Europe/London", None],
)
cases(
    "list-membership",
    "DateSubscriberAdded",
    lambda v: read_list_membership(row(DateSubscriberAdded=v), LONDON),
    ["9999-12-31 23:59:00-05:00"],
    quoted=False,
)


def suppressed(**changes: object) -> dict[str, object]:
    """A suppression-list row with fields replaced (``None``: removed)."""
    base: dict[str, object] = {
        "EmailAddress": "ann@example.com",
        "SuppressionReason": "Unsubscribed",
        "Date": "2024-05-01 09:30:00",
        "State": "Suppressed",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


for _field, _values, _named in (
    ("State", ["Active", 5, "Gone"], "State"),
    ("EmailAddress", ["", 5, "   "], "email"),
    ("SuppressionReason", ["", 3], "reason"),
    ("Date", ["not a date", 5, "2024-05-01T25:00:00"], "Date"),
):
    cases(
        "suppressed-email",
        _named,
        partial(from_row, read_suppressed_email, suppressed, _field),
        _values,
    )
# Missing keys name the API's key; the converted fields name the library's.
for _missing, _named in (
    ("State", "State"),
    ("EmailAddress", "EmailAddress"),
    ("SuppressionReason", "SuppressionReason"),
    ("Date", "Date"),
):
    case(
        "suppressed-email",
        _named,
        partial(read_suppressed_email, without(suppressed, _missing), LONDON),
        f"missing {_missing}",
    )

# ----------------------------------------------------------------------------- maintenance


def message(**changes: object) -> MaintenanceMessage:
    """A MaintenanceMessage with one or more arguments replaced."""
    kwargs: dict[str, Any] = {
        "code": "CM-0042",
        "severity": "Error",
        "record": "003A",
        "guidance": "Fix the record.",
        "occurred_at": AWARE,
    }
    kwargs.update(changes)
    return MaintenanceMessage(**kwargs)


_MESSAGE_CASES: dict[str, list[Any]] = {
    "code": ["", "bad code!", "C" * 41, 5, None, "-leading-dash"],
    "severity": ["Catastrophic", 3, None, ""],
    "record": ["  ", 5],
    "guidance": [None, 5],
    "occurred_at": [NAIVE, "2024-05-01", FAR_FUTURE],
}
for _field, _values in _MESSAGE_CASES.items():
    cases("maintenance", _field, partial(with_field, message, _field), _values)

# ----------------------------------------------------------------------------- credentials

cases(
    "credentials", "api_key", Credentials.api_key, ["", " padded ", 5, None, "a\nb"], quoted=False
)
cases(
    "credentials",
    "access_token",
    lambda v: Credentials.oauth(v, "refresh-1"),
    ["", 5],
    quoted=False,
)
cases(
    "credentials",
    "refresh_token",
    lambda v: Credentials.oauth("access-1", v),
    ["", 5, None],
    quoted=False,
)
cases(
    "credentials",
    "expires_at",
    lambda v: Credentials.oauth("access-1", "refresh-1", expires_at=v),
    [NAIVE, "tomorrow", FAR_FUTURE],
    quoted=False,
)
cases("credentials", "kind", lambda v: Credentials(v, "key-1"), ["API key", None], quoted=False)
cases(
    "credentials", "token", lambda v: Credentials(CredentialKind.API_KEY, v), ["", 5], quoted=False
)
case(
    "credentials",
    "refresh_token",
    lambda: Credentials(CredentialKind.API_KEY, "key-1", "refresh-1"),
    "api key with a refresh token",
)
case(
    "credentials",
    "expires_at",
    lambda: Credentials(CredentialKind.API_KEY, "key-1", expires_at=AWARE),
    "api key with an expiry",
)


# ----------------------------------------------------------------------------- subscriber shells


def _list_platform() -> InMemoryPlatform:
    platform = InMemoryPlatform()
    platform.add_client("c1", "Acme", time_zone="Europe/London")
    platform.set_membership("c1", "list-1", "ann@example.com", "Deleted", at=AWARE)
    return platform


SMS_US = {"SMS_Enabled": True, "SMS_Country": "United States"}


def import_run(**changes: object) -> object:
    """run_import with one or more arguments replaced; it must refuse before sending."""
    platform = _list_platform()
    before = platform.list_subscribers("c1", "list-1")
    kwargs: dict[str, Any] = {
        "platform": platform,
        "client_id": "c1",
        "list_id": "list-1",
        "rows": [ImportRow("ann@example.com")],
        "settings": Settings(),
        "refresh_type": "Add, Update, Resubscribe Deleted",
    }
    kwargs.update(changes)
    try:
        return run_import(**kwargs)
    finally:
        assert platform.list_subscribers("c1", "list-1") == before, "half-applied"


def account_run(**changes: object) -> object:
    """handle_account_changes with one or more arguments replaced."""
    crm = InMemoryCrm()
    crm.add_person("ann@example.com", person_id="003A", account_id="001A")
    platform = _list_platform()
    kwargs: dict[str, Any] = {
        "crm": crm,
        "platform": platform,
        "client_id": "c1",
        "account_ids": ["001A"],
        "settings": Settings.from_mapping({"Enable_Account_Trigger": True}),
        "subscriber_row": lambda p: ImportRow(p.email, mobile_number="555"),
    }
    kwargs.update(changes)
    before = platform.list_subscribers("c1", "list-1")
    try:
        return handle_account_changes(**kwargs)
    finally:
        assert platform.list_subscribers("c1", "list-1") == before, "half-applied"


_IMPORT_CASES: dict[str, list[Any]] = {
    "client_id": ["", 5, None],
    "list_id": ["", 5, "list-of-another-client"],
    "settings": [{}, None],
    "refresh_type": ["Add", "Add, Update, Delete", 5, None],
}
for _field, _values in _IMPORT_CASES.items():
    cases("run_import", _field, partial(with_field, import_run, _field), _values)
cases("run_import", "rows", lambda v: import_run(rows=v), ["ann@example.com", None])
case("run_import", "rows[0]", lambda: import_run(rows=[5]), "not a row", 5)
cases("run_import", "people", lambda v: import_run(people=v), [5, "003A"])
case("run_import", "people[0]", lambda: import_run(people=["003A"]), "an id", "003A")
case(
    "run_import",
    "rows[1].mobile_number",
    lambda: import_run(
        rows=[ImportRow("ann@example.com"), ImportRow("bo@example.com", mobile_number="55")],
        settings=Settings.from_mapping(SMS_US),
    ),
    "second row's number too short",
    "55",
)
cases("account_changes", "account_ids", lambda v: account_run(account_ids=v), ["001A", None])
case("account_changes", "account_ids[0]", lambda: account_run(account_ids=[5]), "int", 5)
cases("account_changes", "client_id", lambda v: account_run(client_id=v), ["", None])
cases("account_changes", "settings", lambda v: account_run(settings=v), [None, {}])
cases("account_changes", "subscriber_row", lambda v: account_run(subscriber_row=v), [5, "row"])
case(
    "account_changes",
    "subscriber_row('003A').mobile_number",
    lambda: account_run(settings=Settings.from_mapping({"Enable_Account_Trigger": True, **SMS_US})),
    "the mapped number too short",
    "555",
)


# ----------------------------------------------------------------------------- the test


def test_the_catalogue_holds_at_least_200_bad_inputs() -> None:
    """The catalogue is as large as the reliability gate asks."""
    assert len(CASES) >= 200


@pytest.mark.parametrize(("action", "field", "shows"), CASES)
def test_bad_input_is_refused_with_a_library_error_naming_the_field(
    action: Callable[[], object], field: str, shows: object
) -> None:
    """A CmsfError that is also a builtin error; its message names the field (quoted)
    and shows what arrived."""
    with pytest.raises(CmsfError) as excinfo:
        action()

    error = excinfo.value
    message = str(error)
    assert isinstance(error, ValueError | TypeError | KeyError)
    assert repr(field) in message, (field, message)
    if shows is not NOT_SHOWN:
        assert shown(shows) in message, (shown(shows), message)


# ----------------------------------------------------------------------------- the sync


def crm_state(crm: InMemoryCrm) -> tuple[object, ...]:
    """Everything an observer of the CRM can read, and its write counter."""
    return (
        sorted(crm.all_records(), key=lambda a: a.key),
        sorted(crm.all_members(), key=lambda m: m.ref),
        dict(crm.campaigns()),
        dict(crm.links()),
        dict(crm.platform_campaigns()),
        crm.checkpoint("c1"),
        tuple(crm.messages()),
        tuple(crm.suppression_records()),
        dict(crm.writes),
    )


def seeded() -> tuple[InMemoryPlatform, InMemoryCrm]:
    """A linked campaign with one good event, synced once."""
    platform = InMemoryPlatform(clock=lambda: AWARE)
    platform.add_client("c1", "Acme", time_zone="Europe/London")
    platform.add_campaign("c1", "cmp-1", "Spring", sent_at=AWARE)
    platform.add_event("cmp-1", ActivityType.SENT, "ann@example.com", AWARE)
    crm = InMemoryCrm()
    crm.add_campaign("sf-1", "Spring", statuses=["Sent", "Opened"])
    crm.link("c1", "cmp-1", "sf-1")
    run_sync(crm, platform, Settings(), as_of=AWARE + timedelta(hours=1))
    return platform, crm


class _OtherClientsCampaign:
    """A platform that lists, for client c1, a campaign that belongs to client c2."""

    def __init__(self, inner: InMemoryPlatform) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def sent_campaigns(self, client_id: str) -> Sequence[PlatformCampaign]:
        return [attrs.evolve(c, client_id="c2") for c in self._inner.sent_campaigns(client_id)]


def _bad_email(email: str) -> Callable[[InMemoryPlatform], object]:
    def seed(platform: InMemoryPlatform) -> object:
        platform.add_event("cmp-1", ActivityType.OPENED, email, AWARE + timedelta(hours=2))
        return platform

    return seed


SYNC_CASES = {
    "an email without an at sign": (_bad_email("ann.example.com"), "email"),
    "an email with a space": (_bad_email("ann smith@example.com"), "email"),
    "an overlong email": (_bad_email("a" * 250 + "@example.com"), "email"),
    "an email with nothing before the at sign": (_bad_email("@example.com"), "email"),
    "a campaign of another client": (_OtherClientsCampaign, "campaigns"),
}


@pytest.mark.parametrize(("seed", "field"), SYNC_CASES.values(), ids=SYNC_CASES.keys())
@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
def test_bad_platform_data_is_refused_before_the_crm_changes(
    seed: Callable[[InMemoryPlatform], Any], field: str, full: bool
) -> None:
    """The sync raises a library error naming the field, and the CRM is as it was."""
    platform, crm = seeded()
    source = seed(platform)
    before = crm_state(crm)

    with pytest.raises(CmsfError) as excinfo:
        run_sync(crm, source, Settings(), as_of=AWARE + timedelta(hours=3), full=full)

    assert field in str(excinfo.value)
    assert crm_state(crm) == before


def test_a_bad_as_of_is_refused_before_the_crm_changes() -> None:
    """A naive or far-future as_of is refused naming 'as_of'; nothing is read or written."""
    platform, crm = seeded()
    before = crm_state(crm)

    for as_of in (NAIVE, FAR_FUTURE, "2024-05-02"):
        with pytest.raises(CmsfError, match="'as_of'"):
            run_sync(crm, platform, Settings(), as_of=as_of)  # type: ignore[arg-type]

    assert crm_state(crm) == before


def _all_ids() -> Iterator[str]:
    for param in CASES:
        yield param.id


def test_catalogue_ids_are_unique() -> None:
    """Every case has its own id, so a failure points at one bad input."""
    ids = list(_all_ids())
    assert len(ids) == len(set(ids))


def test_ensure_utc_names_the_field_of_an_instant_out_of_range() -> None:
    """An aware datetime past datetime.max once in UTC is refused, not an OverflowError."""
    with pytest.raises(CmsfError, match=r"'when'.*years 1 and 9999"):
        ensure_utc(FAR_FUTURE, "when")


def test_mapping_payloads_are_read_through_the_mapping_protocol() -> None:
    """A read-only Mapping (not a dict) is accepted where a payload row is."""

    class Row(Mapping[str, object]):
        def __init__(self, data: dict[str, object]) -> None:
            self._data = data

        def __getitem__(self, key: str) -> object:
            return self._data[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self._data)

        def __len__(self) -> int:
            return len(self._data)

    membership = read_list_membership(Row(row()), LONDON)

    assert membership.date_added == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
