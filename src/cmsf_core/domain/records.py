"""The values that cross the ports: what the platform reports and what the CRM holds.

They are shaped on the services' own objects: Campaign Monitor API v3.3 (clients,
campaigns, tracking streams, summaries) and the Salesforce objects (Contact/Lead,
Campaign, CampaignMemberStatus, CampaignMember).  Adapters translate to and from them at
the boundary; the planner only ever sees these.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

import attrs

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.checks import check_count, require_instance, require_text, tuple_of
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.masking import masked_repr
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.settings import parse_label
from cmsf_core.domain.status import RefreshCause
from cmsf_core.domain.timeutil import ensure_utc, ensure_utc_or_none

__all__ = [
    "SKIPPED_ROW_CODE",
    "CampaignLink",
    "CampaignSummary",
    "Checkpoint",
    "CrmCampaign",
    "MemberRecord",
    "MemberRef",
    "MemberStatus",
    "Person",
    "PersonKind",
    "PlatformCampaign",
    "PlatformClient",
    "SkippedRow",
    "TrackingEvent",
    "TrackingPage",
    "WriteResult",
    "check_page_request",
    "member_ref",
    "normalise_email",
]


class MemberRef(NamedTuple):
    """A campaign member's identity: the platform campaign and the subscriber's email."""

    campaign_id: str
    member_id: str


def member_ref(campaign_id: str, email: str) -> MemberRef:
    """The member of ``campaign_id`` for ``email`` (:func:`normalise_email`: trimmed,
    NFC, lower-cased)."""
    return MemberRef(campaign_id, normalise_email(email))


def _sent_at(value: object) -> datetime:
    return ensure_utc(value, "sent_at")


def _occurred_at(value: object) -> datetime:
    return ensure_utc(value, "occurred_at")


def _last_modified(value: object) -> datetime:
    return ensure_utc(value, "last_modified")


def _watermark(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "watermark")


def _activity_type(value: object) -> ActivityType:
    return ActivityType.parse(value, "type")


def _tags(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidTypeError("tags", "a collection of tag names", value)
    tags = frozenset(value)
    for tag in tags:
        if not isinstance(tag, str):
            raise InvalidTypeError("tags", "tag names (str)", tag)
    return tags


# ----------------------------------------------------------------------------- platform


@attrs.frozen
class PlatformClient:
    """A Campaign Monitor client (an agency has several), with its IANA time zone."""

    client_id: str = attrs.field(validator=require_text("client_id"))
    name: str = attrs.field(validator=require_text("name"))
    time_zone: str = attrs.field(default="UTC", validator=require_text("time_zone"))


@attrs.frozen
class PlatformCampaign:
    """A sent campaign (``Clients/{id}/campaigns``: CampaignID, Name, SentDate, Tags)."""

    client_id: str = attrs.field(validator=require_text("client_id"))
    campaign_id: str = attrs.field(validator=require_text("campaign_id"))
    name: str = attrs.field(validator=require_text("name"))
    sent_at: datetime = attrs.field(converter=_sent_at)
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)
    subject: str = attrs.field(default="", kw_only=True)


@attrs.frozen
class TrackingEvent:
    """One row of a campaign's tracking stream (recipients, opens, clicks, bounces, ...).

    ``occurred_at`` is aware (the adapter localised the platform's naive local time);
    ``detail`` is the clicked URL or the bounce type ("Soft"/"Hard").
    """

    type: ActivityType = attrs.field(converter=_activity_type)
    email: str = attrs.field(validator=require_text("email"))
    occurred_at: datetime = attrs.field(converter=_occurred_at)
    list_id: str | None = attrs.field(
        default=None, kw_only=True, validator=require_text("list_id", optional=True)
    )
    detail: str | None = attrs.field(
        default=None, kw_only=True, validator=require_text("detail", optional=True)
    )


def check_page_request(page: object, page_size: object, limit: int) -> None:
    """Refuse a page number below 1 or a page size outside 1..``limit``, naming the field."""
    if type(page_size) is not int or not 1 <= page_size <= limit:
        raise InvalidValueError("page_size", f"between 1 and {limit}", page_size)
    if type(page) is not int or page < 1:
        raise InvalidValueError("page", ">= 1", page)


#: The support code of the maintenance message a skipped platform row becomes.
SKIPPED_ROW_CODE = "SYNC-SKIPPED-ROW"


def _row_instant(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "occurred_at")


@attrs.frozen
class SkippedRow:
    """A platform row an adapter could not read and left out; the rows around it were read.

    ``source`` is where the row lives (a file of an export, relative to its folder, or an
    API endpoint), ``position`` where in it (``"Results[3]"``), ``field`` the API field at
    fault (``None``: the whole row) and ``problem`` what is wrong with it.  ``occurred_at``
    is the row's instant when it could be read (a bad email on a good date), else ``None``.
    The row's values may hold an email: it is masked wherever the message is shown.

    >>> from datetime import datetime, UTC
    >>> row = SkippedRow("campaigns/c1/opens.json", "Results[3]", "Date", "must be a date")
    >>> print(row.message(datetime(2024, 5, 1, 9, tzinfo=UTC)).record)
    campaigns/c1/opens.json Results[3]
    """

    source: str = attrs.field(validator=require_text("source"))
    position: str = attrs.field(validator=require_text("position"))
    field: str | None = attrs.field(validator=require_text("field", optional=True))
    problem: str = attrs.field(validator=require_text("problem"), repr=masked_repr)
    occurred_at: datetime | None = attrs.field(default=None, kw_only=True, converter=_row_instant)

    def message(self, at: datetime) -> MaintenanceMessage:
        """The maintenance message (:data:`SKIPPED_ROW_CODE`, a warning) this row becomes."""
        what = f"field {self.field!r} {self.problem}" if self.field else self.problem
        return MaintenanceMessage(
            SKIPPED_ROW_CODE,
            Severity.WARNING,
            f"{self.source} {self.position}",
            f"This platform row was skipped: {what}. The rows around it were synced. "
            "Correct the row where it comes from (or ask the platform's support) and sync "
            "again; it is imported then.",
            at,
        )


@attrs.frozen
class TrackingPage:
    """One page of a tracking stream, with Campaign Monitor's paging envelope.

    ``skipped`` holds the malformed rows the adapter left out of this read of the stream
    (an adapter puts them all on the read's first page; default: none).
    """

    results: tuple[TrackingEvent, ...]
    page_number: int = 1
    page_size: int = 1000
    number_of_pages: int = 1
    total_number_of_records: int = 0
    skipped: tuple[SkippedRow, ...] = attrs.field(default=(), kw_only=True)


@attrs.frozen
class CampaignSummary:
    """A campaign's statistics (``campaigns/{id}/summary``)."""

    recipients: int = attrs.field(default=0, validator=check_count)
    total_opened: int = attrs.field(default=0, validator=check_count)
    unique_opened: int = attrs.field(default=0, validator=check_count)
    clicks: int = attrs.field(default=0, validator=check_count)
    bounced: int = attrs.field(default=0, validator=check_count)
    unsubscribed: int = attrs.field(default=0, validator=check_count)
    spam_complaints: int = attrs.field(default=0, validator=check_count)
    forwards: int = attrs.field(default=0, validator=check_count)
    likes: int = attrs.field(default=0, validator=check_count)
    mentions: int = attrs.field(default=0, validator=check_count)

    #: The API's field names, for adapters reading ``summary`` payloads.
    API_FIELDS = (
        ("recipients", "Recipients"),
        ("total_opened", "TotalOpened"),
        ("unique_opened", "UniqueOpened"),
        ("clicks", "Clicks"),
        ("bounced", "Bounced"),
        ("unsubscribed", "Unsubscribed"),
        ("spam_complaints", "SpamComplaints"),
        ("forwards", "Forwards"),
        ("likes", "Likes"),
        ("mentions", "Mentions"),
    )


# ----------------------------------------------------------------------------- CRM


class PersonKind(enum.Enum):
    """The CRM object a person is stored as."""

    CONTACT = "Contact"
    LEAD = "Lead"


def _contacts_only(inst: Person, _attr: object, account_id: str | None) -> None:
    """Leads have no account (the CRM's account belongs to contacts)."""
    if inst.kind is PersonKind.LEAD and account_id is not None:
        raise InvalidValueError("account_id", "None for a lead (leads have no account)", account_id)


@attrs.frozen
class Person:
    """A contact or lead, as far as the integration needs it (``account_id``: a contact's
    account, when the CRM has accounts)."""

    person_id: str = attrs.field(validator=require_text("person_id"))
    kind: PersonKind = attrs.field(validator=require_instance("kind", PersonKind, "a PersonKind"))
    email: str = attrs.field(validator=require_text("email"))
    last_modified: datetime = attrs.field(converter=_last_modified)
    email_opt_out: bool = attrs.field(default=False, kw_only=True)
    account_id: str | None = attrs.field(
        default=None,
        kw_only=True,
        validator=[require_text("account_id", optional=True), _contacts_only],
    )


def _status_label(value: object) -> str:
    return parse_label(value, "MemberStatus.label")


@attrs.frozen
class MemberStatus:
    """A CampaignMemberStatus: Label, IsDefault, HasResponded, SortOrder."""

    label: str = attrs.field(converter=_status_label)
    is_default: bool = attrs.field(default=False, kw_only=True)
    has_responded: bool = attrs.field(default=False, kw_only=True)
    sort_order: int = attrs.field(default=0, kw_only=True)


def _statuses(value: object) -> tuple[MemberStatus, ...]:
    return tuple_of(
        value,
        MemberStatus,
        "statuses",
        "a collection of MemberStatus",
        "MemberStatus values",
        collection=_iterates,
    )


def _iterates(value: object) -> bool:
    return isinstance(value, Iterable)


@attrs.frozen
class CrmCampaign:
    """A CRM campaign with its member status set (exactly one default status)."""

    campaign_id: str = attrs.field(validator=require_text("campaign_id"))
    name: str = attrs.field(validator=require_text("name"))
    statuses: tuple[MemberStatus, ...] = attrs.field(converter=_statuses)
    created_by_integration: bool = attrs.field(default=False, kw_only=True)
    statistics: CampaignSummary | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        defaults = [s.label for s in self.statuses if s.is_default]
        if len(defaults) != 1:
            raise InvalidValueError(
                "statuses", "exactly one default status", [s.label for s in self.statuses]
            )
        labels = [s.label for s in self.statuses]
        if len(set(labels)) != len(labels):
            raise InvalidValueError("statuses", "distinct labels", labels)

    @classmethod
    def from_labels(
        cls,
        campaign_id: str,
        name: str,
        statuses: Iterable[str | MemberStatus] = ("Sent", "Responded"),
        *,
        default: str | None = None,
        responded: Iterable[str] = ("Responded",),
    ) -> CrmCampaign:
        """A campaign whose plain labels become statuses (the first is the default unless
        ``default`` names another; ``responded`` labels count as responded)."""
        wanted = set(responded)
        labels = list(statuses)
        first = labels[0] if labels else None
        default = default or (first.label if isinstance(first, MemberStatus) else first)
        built = tuple(
            s
            if isinstance(s, MemberStatus)
            else MemberStatus(
                s, is_default=s == default, has_responded=s in wanted, sort_order=i + 1
            )
            for i, s in enumerate(labels)
        )
        return cls(campaign_id, name, built)

    @property
    def default_status(self) -> str:
        """The label new members get."""
        return next(s.label for s in self.statuses if s.is_default)

    def has_status(self, label: str) -> bool:
        """Whether ``label`` is one of this campaign's member statuses."""
        return any(s.label == label for s in self.statuses)


@attrs.frozen
class CampaignLink:
    """A platform campaign linked to a CRM campaign (by hand, or auto-created)."""

    client_id: str = attrs.field(validator=require_text("client_id"))
    platform_campaign_id: str = attrs.field(validator=require_text("platform_campaign_id"))
    crm_campaign_id: str = attrs.field(validator=require_text("crm_campaign_id"))


@attrs.frozen
class MemberRecord:
    """A CRM campaign member: its CRM campaign, the matched person (if any) and its state.

    ``member.campaign_id`` is the platform campaign and ``member.member_id`` the normalised
    email (:func:`normalise_email`).  ``person_id`` is ``None`` while no contact or lead
    has that email: the member is kept unmatched and matched at a later sync.
    """

    crm_campaign_id: str = attrs.field(validator=require_text("crm_campaign_id"))
    member: CampaignMember = attrs.field(
        validator=require_instance("member", CampaignMember, "a CampaignMember")
    )
    email: str = attrs.field(validator=require_text("email"))
    person_id: str | None = attrs.field(
        default=None, validator=require_text("person_id", optional=True)
    )

    @property
    def ref(self) -> MemberRef:
        """The member's identity."""
        return MemberRef(self.member.campaign_id, self.member.member_id)


def _pending(value: object) -> frozenset[tuple[MemberRef, RefreshCause]]:
    expected = "a collection of (MemberRef, RefreshCause)"
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidTypeError("pending", expected, value)
    entries = set()
    for entry in value:
        try:
            (campaign_id, member_id), cause = entry
            entries.add((MemberRef(campaign_id, member_id), RefreshCause(cause)))
        except (TypeError, ValueError):
            raise InvalidValueError("pending", expected, entry) from None
    return frozenset(entries)


@attrs.frozen
class Checkpoint:
    """A client's sync position: the watermark, and the member refreshes not yet committed.

    The watermark is the latest committed event time; it never moves backwards.
    ``pending`` is the journal a sync writes before it applies anything, so that a crash
    part-way leaves a record of which members still need their refresh.
    """

    client_id: str = attrs.field(validator=require_text("client_id"))
    watermark: datetime | None = attrs.field(default=None, converter=_watermark)
    pending: frozenset[tuple[MemberRef, RefreshCause]] = attrs.field(
        default=frozenset(), converter=_pending
    )


@attrs.frozen
class WriteResult:
    """What a bulk write did: how many items it wrote, and each refused item with why.

    A bulk write can partly succeed; ``failures`` maps the identity of every refused item
    (an :class:`~cmsf_core.domain.activity.ActivityKey`, a :class:`MemberRef`, a campaign
    id, ...) to the CRM's reason.
    """

    written: int = 0
    failures: tuple[tuple[object, str], ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every item was written."""
        return not self.failures
