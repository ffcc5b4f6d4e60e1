"""The integration's settings as one immutable value, read from the product's own names.

:class:`Settings` holds every option the sync rules consult.  :meth:`Settings.from_mapping`
reads a plain mapping (a settings file, a custom-settings export) keyed by the product's
names (``Campaign_Member_Refresh``, ``DaysToKeep_Email``, ...) or by the attribute names;
:data:`SETTING_SPECS` is the table of every accepted name, its type, default and meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.checks import check_bool
from cmsf_core.domain.choices import Choice, read_as, spellings
from cmsf_core.domain.emails import parse_notification_email
from cmsf_core.domain.errors import (
    InvalidTypeError,
    InvalidValueError,
    UnknownSettingError,
)
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.masking import masked_repr
from cmsf_core.domain.timeutil import END_OF_TIME, START_OF_TIME, ensure_utc, ensure_utc_or_none

if TYPE_CHECKING:
    from cmsf_core.domain.limits import GovernorLimits
    from cmsf_core.domain.schedule import Schedule

# The schedule, governor limits and SMS country are read by modules
# that the status and retention rules never need: they are imported on first use (below),
# so ``from cmsf_core import refresh_member`` stays light (tests/unit/test_architecture.py).

__all__ = [
    "DEFAULT_DAYS_TO_KEEP",
    "MAX_LABEL_LENGTH",
    "SETTING_SPECS",
    "RefreshMode",
    "SettingSpec",
    "Settings",
    "StatusMapping",
    "StatusPolicy",
    "parse_bool",
    "parse_label",
]

DEFAULT_DAYS_TO_KEEP = 180
MAX_LABEL_LENGTH = 40  # a Salesforce picklist value holds at most 40 characters
MAX_DAYS_TO_KEEP = 36_500  # a century: beyond it a value is a typo, not a policy


class RefreshMode(Choice):
    """When the integration sets a campaign member's Status (``Campaign_Member_Refresh``).

    :meth:`parse` reads the product's spellings, in any case, surrounding spaces ignored.

    >>> RefreshMode.parse(" update once ")
    <RefreshMode.ONCE_ONLY: 'Once Only'>
    """

    ALWAYS = "Always"
    ONCE_ONLY = "Once Only"
    NEVER = "Never"

    __hash__ = object.__hash__  # identity, in C (see ActivityType)


_REFRESH_ACCEPTED = ("Always", "Always Update", "Once Only", "Update Once", "Never", "Never Update")
_REFRESH_SPELLINGS = spellings(
    RefreshMode,
    {
        "Always Update": RefreshMode.ALWAYS,
        "Update Once": RefreshMode.ONCE_ONLY,
        "Never Update": RefreshMode.NEVER,
    },
)
read_as(
    RefreshMode,
    field="Campaign_Member_Refresh",
    expected="a refresh mode name",
    table=_REFRESH_SPELLINGS,
    accepted=_REFRESH_ACCEPTED,
)


class StatusPolicy(Choice):
    """Which stored record is the candidate for a member's status.

    ``LATEST_WINS`` (the product's behaviour): the latest mapped record; ties at the same
    instant go to Unsubscribed > Spam complaint > Bounced > Clicked > Opened > Sent.
    ``MOST_ENGAGED``: the record of the highest of those ranks, the latest among equals.

    :meth:`parse` reads ``"Latest Wins"`` or ``"Most Engaged"`` (any case, ``_`` or space).
    """

    LATEST_WINS = "Latest Wins"
    MOST_ENGAGED = "Most Engaged"

    __hash__ = object.__hash__  # identity, in C (see ActivityType)


def _policy_key(text: str) -> str:
    return text.strip().replace("_", " ").casefold()


read_as(StatusPolicy, field="Status_Policy", expected="a status policy name", key=_policy_key)


# ----------------------------------------------------------------------------- parsers

_TRUE = frozenset({"true", "yes", "on", "1", "active", "enabled"})
_FALSE = frozenset({"false", "no", "off", "0", "inactive", "disabled"})


def parse_bool(value: object, field: str) -> bool:
    """A bool, or the text the product's screens use (``"Active"``/``"Inactive"``, ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InvalidValueError(field, "true/false (or active/inactive, yes/no, on/off)", value)
    raise InvalidTypeError(field, "a bool", value)


def _int_text(value: object) -> object:
    """An ASCII integer string (optionally signed) as an int; anything else unchanged."""
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdecimal():
            return int(text)
    return value


def parse_days(value: object, field: str) -> int:
    """A whole number of days, 0 to 36,500; integer strings are accepted."""
    value = _int_text(value)
    if type(value) is not int:
        raise InvalidTypeError(field, "a whole number of days", value)
    if value < 0:
        raise InvalidValueError(field, ">= 0", value)
    if value > MAX_DAYS_TO_KEEP:
        raise InvalidValueError(field, f"<= {MAX_DAYS_TO_KEEP}", value)
    return value


def parse_label(value: object, field: str) -> str:
    """A CRM status label: 1 to 40 characters once surrounding spaces are removed."""
    if not isinstance(value, str):
        raise InvalidTypeError(field, "a status label (str)", value)
    label = value.strip()
    if not label:
        raise InvalidValueError(field, "a label of 1 to 40 characters", value)
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidValueError(
            field,
            f"a label of at most {MAX_LABEL_LENGTH} characters",
            value,
            detail=f"it has {len(label)}",
        )
    if not label.isprintable():
        raise InvalidValueError(field, "a label without control characters", value)
    return label


def _listed(value: object, field: str, expected: str) -> list[object]:
    """The items of a list setting: comma-separated text (blank parts dropped) or a
    collection."""
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        return list(value)
    raise InvalidTypeError(field, expected, value)


def _parse_types(value: object, field: str) -> frozenset[ActivityType]:
    items = _listed(value, field, "a list of activity type names")
    return frozenset(ActivityType.parse(item, field) for item in items)


def _parse_tags(value: object, field: str) -> frozenset[str]:
    tags = set()
    for item in _listed(value, field, "a list of tag names"):
        if not isinstance(item, str) or not item.strip():
            raise InvalidValueError(field, "non-empty tag names", item)
        tags.add(item.strip())
    return frozenset(tags)


def _parse_datetime(value: object, field: str) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidValueError(
                field, "an ISO 8601 date-time with a UTC offset", value
            ) from None
        return ensure_utc(parsed, field)
    return ensure_utc(value, field)


def _parse_overlap(value: object, field: str) -> int:
    value = _int_text(value)
    if type(value) is not int:
        raise InvalidTypeError(field, "a whole number of minutes", value)
    if not 0 <= value <= 7 * 24 * 60:
        raise InvalidValueError(field, "between 0 and 10080 minutes (a week)", value)
    return value


# ----------------------------------------------------------------------------- mapping


def _to_labels(value: object, field: str = "status_mapping") -> FrozenMap[ActivityType, str | None]:
    """The labels by activity type; errors name ``field`` (the attribute, or the product
    name ``Status_Mapping`` when read from settings) and ``field[<type>]`` for a label."""
    if not isinstance(value, Mapping):
        raise InvalidTypeError(f"{field}.labels", "a mapping of activity type to label", value)
    labels: dict[ActivityType, str | None] = {t: t.value for t in ActivityType}
    labels[ActivityType.SPAM_COMPLAINT] = "Marked as Spam"
    for key, label in value.items():
        activity_type = ActivityType.parse(key, field)
        where = f"{field}[{activity_type.value}]"
        labels[activity_type] = None if label is None else parse_label(label, where)
    return FrozenMap(labels)


def _to_responded(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidTypeError("status_mapping.responded", "a collection of labels", value)
    return frozenset(parse_label(v, "status_mapping.responded") for v in value)


@attrs.frozen
class StatusMapping:
    """Activity type -> CRM status label (or ``None``: never sets status), and responded labels.

    Types left out of ``labels`` keep their default label: Sent, Opened, Clicked, Bounced,
    Unsubscribed and "Marked as Spam".  By default Opened and Clicked count as responded.

    >>> m = StatusMapping({ActivityType.OPENED: "Registered"}, responded={"Registered", "Clicked"})
    >>> m.label(ActivityType.OPENED), m.is_responded("Registered")
    ('Registered', True)
    """

    labels: FrozenMap[ActivityType, str | None] = attrs.field(
        factory=lambda: _to_labels({}), converter=_to_labels
    )
    responded: frozenset[str] = attrs.field(
        default=frozenset({"Opened", "Clicked"}), converter=_to_responded
    )

    def label(self, activity_type: ActivityType) -> str | None:
        """The status label an activity of this type sets, or ``None``."""
        return self.labels[activity_type]

    def is_responded(self, label: str | None) -> bool:
        """Whether a member with this status counts as responded."""
        return label is not None and label in self.responded

    def types_for(self, label: str | None) -> frozenset[ActivityType]:
        """Every activity type mapped to ``label`` (several types may share one)."""
        return frozenset(
            t for t, mapped in self.labels.items() if mapped is not None and mapped == label
        )

    def mapped_labels(self) -> tuple[str, ...]:
        """The distinct labels in activity-type order (what "auto create statuses" adds)."""
        seen: dict[str, None] = {}
        for activity_type in ActivityType:
            label = self.labels[activity_type]
            if label is not None:
                seen.setdefault(label, None)
        return tuple(seen)


def _parse_status_mapping(value: object, field: str) -> FrozenMap[ActivityType, str | None]:
    if not isinstance(value, Mapping):
        raise InvalidTypeError(field, "a mapping of activity type to label (or null)", value)
    return _to_labels(value, field)


# ----------------------------------------------------------------------------- settings


def _to_days_by_type(value: object) -> FrozenMap[ActivityType, int]:
    if not isinstance(value, Mapping):
        raise InvalidTypeError("days_to_keep_by_type", "a mapping of activity type to days", value)
    result = {}
    for key, days in value.items():
        activity_type = ActivityType.parse(key, "days_to_keep_by_type")
        result[activity_type] = parse_days(days, f"days_to_keep_by_type[{activity_type.value}]")
    return FrozenMap(result)


def _to_types(value: object) -> frozenset[ActivityType]:
    return _parse_types(value, "imported_types")


def _to_tags(value: object) -> frozenset[str]:
    return _parse_tags(value, "campaign_filter_tags")


def _instance(cls: type, expected: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            raise InvalidTypeError(attribute.name, expected, value)

    return check


def _days_validator(_inst: object, attribute: attrs.Attribute[int], value: object) -> None:
    # An int only: text such as "7" is read by from_mapping, never stored as text here.
    if type(value) is not int:
        raise InvalidTypeError(attribute.name, "a whole number of days", value)
    parse_days(value, attribute.name)


def _overlap_validator(_inst: object, attribute: attrs.Attribute[int], value: object) -> None:
    # An int only: text such as "7" is read by from_mapping, never stored as text here.
    if type(value) is not int:
        raise InvalidTypeError(attribute.name, "a whole number of minutes", value)
    _parse_overlap(value, attribute.name)


def _to_refresh_mode(value: object) -> RefreshMode:
    return RefreshMode.parse(value, "refresh_mode")


def _to_status_policy(value: object) -> StatusPolicy:
    return StatusPolicy.parse(value, "status_policy")


def _to_auto_create_since(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "auto_create_campaigns_since")


def _to_filter_start(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "campaign_filter_start")


def _parse_schedule(value: object, field: str) -> Schedule:
    from cmsf_core.domain.schedule import Schedule  # noqa: PLC0415 - off the hot path

    return Schedule.parse(value, field)


def _parse_governor_limits(value: object, field: str) -> GovernorLimits:
    from cmsf_core.domain.limits import GovernorLimits  # noqa: PLC0415 - off the hot path

    return GovernorLimits.parse(value, field)


def _parse_sms_country(value: object, field: str) -> str | None:
    from cmsf_core.domain.sms import parse_sms_country  # noqa: PLC0415 - off the hot path

    return parse_sms_country(value, field)


def _default_schedule() -> Schedule:
    from cmsf_core.domain.schedule import Schedule  # noqa: PLC0415 - off the hot path

    return Schedule()


def _default_governor_limits() -> GovernorLimits:
    from cmsf_core.domain.limits import GovernorLimits  # noqa: PLC0415 - off the hot path

    return GovernorLimits()


def _to_import_schedule(value: object) -> Schedule:
    return _parse_schedule(value, "import_schedule")


def _to_governor_limits(value: object) -> GovernorLimits:
    return _parse_governor_limits(value, "governor_limits")


def _to_notification_email(value: object) -> str | None:
    return parse_notification_email(value, "notification_email")


def _to_sms_country(value: object) -> str | None:
    # None (the default) needs no parser: the SMS module stays unloaded.
    return None if value is None else _parse_sms_country(value, "sms_country")


ALL_TYPES = frozenset(ActivityType)


@attrs.frozen
class Settings:
    """Every option the sync rules consult, immutable; change one with :func:`attrs.evolve`.

    The defaults are the product's: refresh Always, 180 days kept, every type imported,
    tracking import on, the identity status mapping, latest activity wins.

    >>> Settings.from_mapping({"Campaign_Member_Refresh": "Update Once", "DaysToKeep_Email": 7})
    ... # doctest: +ELLIPSIS
    Settings(refresh_mode=<RefreshMode.ONCE_ONLY: 'Once Only'>, days_to_keep=7, ...)
    """

    refresh_mode: RefreshMode = attrs.field(default=RefreshMode.ALWAYS, converter=_to_refresh_mode)
    days_to_keep: int = attrs.field(default=DEFAULT_DAYS_TO_KEEP, validator=_days_validator)
    days_to_keep_by_type: FrozenMap[ActivityType, int] = attrs.field(
        factory=FrozenMap, converter=_to_days_by_type
    )
    imported_types: frozenset[ActivityType] = attrs.field(default=ALL_TYPES, converter=_to_types)
    import_tracking: bool = attrs.field(default=True, validator=check_bool)
    status_mapping: StatusMapping = attrs.field(
        factory=StatusMapping, validator=_instance(StatusMapping, "a StatusMapping")
    )
    status_policy: StatusPolicy = attrs.field(
        default=StatusPolicy.LATEST_WINS, converter=_to_status_policy
    )
    # Campaigns (product docs: Campaign settings, Campaign filter).
    update_campaign_statistics: bool = attrs.field(default=False, validator=check_bool)
    auto_create_campaigns: bool = attrs.field(default=False, validator=check_bool)
    auto_create_campaigns_since: datetime | None = attrs.field(
        default=None, converter=_to_auto_create_since
    )
    auto_create_statuses: bool = attrs.field(default=False, validator=check_bool)
    campaign_filter_start: datetime | None = attrs.field(default=None, converter=_to_filter_start)
    campaign_filter_tags: frozenset[str] = attrs.field(default=frozenset(), converter=_to_tags)
    # Sync mechanics (see docs/decisions.md).
    sync_overlap_minutes: int = attrs.field(default=60, validator=_overlap_validator)
    # Subscribers, consent and SMS (product docs: General options, Advanced, SMS).
    sync_email_opt_out: bool = attrs.field(default=True, validator=check_bool)
    prevent_opted_out_list_add: bool = attrs.field(default=False, validator=check_bool)
    unsubscribe_on_opt_out: bool = attrs.field(default=False, validator=check_bool)
    delete_subscriber_on_record_delete: bool = attrs.field(default=False, validator=check_bool)
    resubscribe_deleted_via_import_wizard: bool = attrs.field(default=False, validator=check_bool)
    trigger_joins_a_list_journeys: bool = attrs.field(default=False, validator=check_bool)
    enable_account_trigger: bool = attrs.field(default=False, validator=check_bool)
    disable_triggers: bool = attrs.field(default=False, validator=check_bool)
    disable_bulk_triggers: bool = attrs.field(default=False, validator=check_bool)
    sync_suppression_list: bool = attrs.field(default=False, validator=check_bool)
    sms_enabled: bool = attrs.field(default=False, validator=check_bool)
    sms_country: str | None = attrs.field(default=None, converter=_to_sms_country)
    # Administration (product docs: Sync settings, Maintenance).
    import_schedule: Schedule = attrs.field(
        factory=_default_schedule, converter=_to_import_schedule
    )
    perform_full_daily_sync: bool = attrs.field(default=False, validator=check_bool)
    notification_email: str | None = attrs.field(
        default=None, converter=_to_notification_email, repr=masked_repr
    )
    governor_limits: GovernorLimits = attrs.field(
        factory=_default_governor_limits, converter=_to_governor_limits
    )

    def __attrs_post_init__(self) -> None:
        if self.auto_create_campaigns and self.auto_create_campaigns_since is None:
            raise InvalidValueError(
                "auto_create_campaigns_since",
                "the date-time the setting was enabled when auto_create_campaigns is on",
                None,
                detail="creation is not retrospective, so the library needs that date",
            )

    # -- derived values ---------------------------------------------------------------

    def days_to_keep_for(self, activity_type: ActivityType) -> int:
        """Days kept for one type: its override, else ``days_to_keep``."""
        return self.days_to_keep_by_type.get(activity_type, self.days_to_keep)

    def retention_cutoff(self, activity_type: ActivityType, as_of: datetime) -> datetime:
        """Records of this type that occurred before the returned instant are purged.

        A day is 24 hours (86,400 s of UTC) whatever the org's zone does with its clocks.
        0 days keeps nothing: the cutoff is then after every instant.
        """
        days = self.days_to_keep_for(activity_type)
        if days == 0:
            return END_OF_TIME
        as_of = ensure_utc(as_of, "as_of")
        if as_of - START_OF_TIME < timedelta(days=days):
            return START_OF_TIME  # the window reaches back past year 1: nothing is older
        return as_of - timedelta(days=days)

    def imports(self, activity_type: ActivityType) -> bool:
        """Whether records of this type are imported at all."""
        return (
            self.import_tracking
            and activity_type in self.imported_types
            and self.days_to_keep_for(activity_type) > 0
        )

    # -- the outside world --------------------------------------------------------------

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> Settings:
        """Read settings by the product's names (or, for single-valued settings, the
        attribute names; ``docs/settings.md`` lists every name).

        Unknown keys, a key given twice (under both its names) and bad values are errors
        that name the key; nothing is half-read.
        """
        if not isinstance(mapping, Mapping):
            raise InvalidTypeError("settings", "a mapping of setting name to value", mapping)
        values: dict[str, object] = {}
        given: dict[str, str] = {}
        for key, raw in mapping.items():
            if not isinstance(key, str):
                raise InvalidTypeError("settings key", "a setting name (str)", key)
            spec = _SPEC_BY_NAME.get(key.strip().casefold())
            if spec is None:
                import difflib  # noqa: PLC0415 - only for the error's suggestion

                close = difflib.get_close_matches(key, _ALL_NAMES, n=1)
                raise UnknownSettingError(key, _ALL_NAMES, close[0] if close else None)
            if spec.name in given:
                raise InvalidValueError(
                    spec.name,
                    "given once",
                    raw,
                    detail=f"given as both {given[spec.name]!r} and {key!r}",
                )
            given[spec.name] = key
            spec.read(values, raw)
        responded = values.pop("_responded", None)
        labels = values.pop("_labels", None)
        if responded is not None or labels is not None:
            default = StatusMapping()
            values["status_mapping"] = StatusMapping(
                labels if labels is not None else default.labels,
                responded if responded is not None else default.responded,
            )
        by_type = {k: values.pop(k) for k in list(values) if k.startswith("_days:")}
        if by_type:
            values["days_to_keep_by_type"] = {ActivityType(k[6:]): v for k, v in by_type.items()}
        return cls(**values)  # type: ignore[arg-type]

    def to_mapping(self) -> dict[str, object]:
        """The settings by their product names, as :meth:`from_mapping` reads them back."""
        out: dict[str, object] = {}
        for spec in SETTING_SPECS:
            value = spec.dump(self)
            if value is not _ABSENT:
                out[spec.name] = value
        return out


# ----------------------------------------------------------------------------- the table

_ABSENT = object()


@attrs.frozen
class SettingSpec:
    """One accepted settings name: product name, attribute, kind, default and meaning."""

    name: str
    attribute: str
    kind: str
    default: str
    meaning: str
    parse: Callable[[object, str], object]
    dump: Callable[[Settings], object]
    target: str = ""
    secret: bool = False

    def read(self, values: dict[str, object], raw: object) -> None:
        """Parse ``raw`` (errors name the setting) into ``values`` under its attribute."""
        values[self.target or self.attribute] = self.parse(raw, self.name)


def _same(value: Any) -> object:
    return value


def _plain(
    attribute: str,
    kind: str,
    default: str,
    meaning: str,
    name: str,
    parse: Callable[[object, str], object],
    dump: Callable[[Any], object] = _same,
) -> SettingSpec:
    return SettingSpec(
        name, attribute, kind, default, meaning, parse, lambda s: dump(getattr(s, attribute))
    )


def _or_absent(value: object) -> object:
    return _ABSENT if value is None else value


def _changed_limits(value: GovernorLimits) -> object:
    return {job.value: n for job, n in value.changed().items()} or _ABSENT


def _opt_dt(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else _ABSENT


def _per_type_days(activity_type: ActivityType) -> SettingSpec:
    def dump(s: Settings) -> object:
        return s.days_to_keep_by_type.get(activity_type, _ABSENT)

    suffix = activity_type.name.title().replace("_", "")
    return SettingSpec(
        f"DaysToKeep_Email_{suffix}",
        "days_to_keep_by_type",
        "int (days)",
        "DaysToKeep_Email",
        f"Days to keep {activity_type.value} records, overriding DaysToKeep_Email.",
        parse_days,
        dump,
        target=f"_days:{activity_type.value}",
    )


def _parse_responded(value: object, field: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, Iterable) or isinstance(value, Mapping | bytes):
        raise InvalidTypeError(field, "a list of status labels", value)
    return frozenset(parse_label(v, field) for v in value)


SETTING_SPECS: tuple[SettingSpec, ...] = (
    _plain(
        "refresh_mode",
        "Always | Once Only | Never",
        "Always",
        "When the integration sets a campaign member's Status (Always Update / Update Once / "
        "Never Update).",
        "Campaign_Member_Refresh",
        RefreshMode.parse,
        lambda v: v.value,
    ),
    _plain(
        "days_to_keep",
        "int (days)",
        "180",
        "Rolling days of tracking records kept in the CRM; older ones are purged. 0 keeps none.",
        "DaysToKeep_Email",
        parse_days,
    ),
    *(_per_type_days(t) for t in ActivityType),
    _plain(
        "imported_types",
        "list of types",
        "all six",
        "What email types to import (Sent, Opened, Clicked, Bounced, Unsubscribed, Spam "
        "complaint).",
        "Email_Types_To_Import",
        _parse_types,
        lambda v: [t.value for t in ActivityType if t in v],
    ),
    _plain(
        "import_tracking",
        "bool",
        "true",
        "Import email tracking data (opens, clicks etc) at all.",
        "Import_Email_Tracking",
        parse_bool,
    ),
    SettingSpec(
        "Status_Mapping",
        "status_mapping",
        "type -> label or null",
        "identity labels, spam -> Marked as Spam",
        "The CRM status each activity type sets (null: never sets status).",
        _parse_status_mapping,
        lambda s: {t.value: s.status_mapping.labels[t] for t in ActivityType},
        target="_labels",
    ),
    SettingSpec(
        "Responded_Statuses",
        "status_mapping",
        "list of labels",
        "Opened, Clicked",
        "Status labels that count as a response (the campaign's Responded flag).",
        _parse_responded,
        lambda s: sorted(s.status_mapping.responded),
        target="_responded",
    ),
    _plain(
        "status_policy",
        "Latest Wins | Most Engaged",
        "Latest Wins",
        "Which stored record a member's status follows.",
        "Status_Policy",
        StatusPolicy.parse,
        lambda v: v.value,
    ),
    _plain(
        "update_campaign_statistics",
        "bool",
        "false",
        "Update the linked CRM campaign with the platform's campaign statistics.",
        "Update_Campaign_Statistics",
        parse_bool,
    ),
    _plain(
        "auto_create_campaigns",
        "bool",
        "false",
        "Create and link a CRM campaign for each platform campaign sent after the setting "
        "was enabled.",
        "Auto_Create_Campaigns",
        parse_bool,
    ),
    _plain(
        "auto_create_campaigns_since",
        "date-time",
        "none",
        "When Auto_Create_Campaigns was enabled (creation is not retrospective).",
        "Auto_Create_Campaigns_Since",
        _parse_datetime,
        _opt_dt,
    ),
    _plain(
        "auto_create_statuses",
        "bool",
        "false",
        "Add mapped statuses missing from a linked campaign's status set.",
        "Auto_Create_Missing_Statuses",
        parse_bool,
    ),
    _plain(
        "campaign_filter_start",
        "date-time",
        "none",
        "Campaign filter: only campaigns sent on or after this instant are imported.",
        "Campaign_Filter_Start_Date",
        _parse_datetime,
        _opt_dt,
    ),
    _plain(
        "campaign_filter_tags",
        "list of tags",
        "none (all campaigns)",
        "Campaign filter: only campaigns with any of these tags are imported.",
        "Campaign_Filter_Tags",
        _parse_tags,
        sorted,
    ),
    _plain(
        "sync_overlap_minutes",
        "int (minutes)",
        "60",
        "How far before the watermark an incremental sync re-reads, for late events.",
        "Sync_Overlap_Minutes",
        _parse_overlap,
    ),
    *(
        _plain(attribute, "bool", "true" if default else "false", meaning, name, parse_bool)
        for attribute, name, default, meaning in (
            (
                "sync_email_opt_out",
                "Sync_Email_Opt_Out",
                True,
                "Update Email Opt Out from the email's list memberships at each primary sync.",
            ),
            (
                "prevent_opted_out_list_add",
                "Prevent_Opted_Out_List_Add",
                False,
                "Refuse adding an opted-out contact or lead to a subscriber list.",
            ),
            (
                "unsubscribe_on_opt_out",
                "Unsubscribe_On_Opt_Out",
                False,
                "Unsubscribe from all lists when Email Opt Out becomes checked.",
            ),
            (
                "delete_subscriber_on_record_delete",
                "Delete_Subscriber_On_Record_Delete",
                False,
                "Set the subscriber Deleted on all lists when its contact or lead is deleted.",
            ),
            (
                "resubscribe_deleted_via_import_wizard",
                "Resubscribe_Deleted_Via_Import_Wizard",
                False,
                "Let the import wizard re-subscribe Deleted (never Unsubscribed) subscribers.",
            ),
            (
                "trigger_joins_a_list_journeys",
                "Trigger_Joins_A_List_Journeys",
                False,
                "Start 'joins a list' journeys for subscribers the integration adds.",
            ),
            (
                "enable_account_trigger",
                "Enable_Account_Trigger",
                False,
                "An account change is processed for its contacts.",
            ),
            (
                "disable_triggers",
                "Disable_Triggers",
                False,
                "Stop the account, contact and lead triggers (subscription rules, field "
                "mappings, opt-out handling).",
            ),
            (
                "disable_bulk_triggers",
                "Disable_Bulk_Triggers",
                False,
                "Process only the first modified record of a batch.",
            ),
            (
                "sync_suppression_list",
                "Sync_Suppression_List",
                False,
                "Keep one CRM suppression record per suppressed email.",
            ),
            (
                "sms_enabled",
                "SMS_Enabled",
                False,
                "Send E.164 mobile numbers and SMS consent with subscriber imports.",
            ),
            (
                "perform_full_daily_sync",
                "Perform_Full_Daily_Sync",
                False,
                "The first primary sync of each local day is a full sync.",
            ),
        )
    ),
    _plain(
        "sms_country",
        "country code or name",
        "none",
        "Country national mobile numbers are read in (ISO 3166 alpha-2 code or name).",
        "SMS_Country",
        _parse_sms_country,
        _or_absent,
    ),
    _plain(
        "import_schedule",
        "Never | Hourly | Daily [at H] | Weekly [on DAY] [at H] | Custom on DAYS [at H]",
        "Hourly",
        "How often the primary sync runs on its own, in the org's time zone.",
        "Import_Frequency",
        _parse_schedule,
        str,
    ),
    _plain(
        "notification_email",
        "email address",
        "none",
        "New maintenance messages are addressed to this email address.",
        "Notification_Email",
        parse_notification_email,
        _or_absent,
    ),
    _plain(
        "governor_limits",
        "job -> batch size",
        "each job's default",
        "Batch sizes of the background jobs (internal governor limits).",
        "Governor_Limits",
        _parse_governor_limits,
        _changed_limits,
    ),
)


_SPEC_BY_NAME: dict[str, SettingSpec] = {}
for _spec in SETTING_SPECS:
    _SPEC_BY_NAME[_spec.name.casefold()] = _spec
    if not _spec.target:
        _SPEC_BY_NAME.setdefault(_spec.attribute.casefold(), _spec)
_ALL_NAMES = tuple(s.name for s in SETTING_SPECS)
