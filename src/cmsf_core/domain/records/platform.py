"""What the email platform reports: its clients, campaigns, tracking events and pages,
the rows it could not read, and a campaign's summary (Campaign Monitor API v3.3)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.checks import check_count, require_text
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.maintenance import MaintenanceMessage, Severity
from cmsf_core.domain.masking import masked_repr
from cmsf_core.domain.timeutil import ensure_utc, ensure_utc_or_none

__all__ = [
    "SKIPPED_ROW_CODE",
    "CampaignSummary",
    "PlatformCampaign",
    "PlatformClient",
    "SkippedRow",
    "TrackingEvent",
    "TrackingPage",
    "check_page_request",
]


def _sent_at(value: object) -> datetime:
    return ensure_utc(value, "sent_at")


def _occurred_at(value: object) -> datetime:
    return ensure_utc(value, "occurred_at")


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

    @staticmethod
    def _trusted(
        type: ActivityType,
        email: str,
        occurred_at: datetime,
        list_id: str | None = None,
        detail: str | None = None,
    ) -> TrackingEvent:
        """Internal: the event built from values its caller has already checked.

        No validator or converter runs: ``type`` must be an :class:`ActivityType` member,
        ``occurred_at`` a stdlib datetime whose ``tzinfo`` is ``UTC``, ``email`` non-empty
        text, ``list_id`` and ``detail`` ``None`` or non-empty text.  For those values the
        result equals (and hashes, prints and pickles like) ``TrackingEvent(...)`` of the
        same values.  Anything else must use the public, validated constructor.
        """
        self = _new(TrackingEvent)
        _event_type(self, type)
        _event_email(self, email)
        _event_occurred_at(self, occurred_at)
        _event_list_id(self, list_id)
        _event_detail(self, detail)
        return self


_new = object.__new__
# The slots' own setters (what the attrs ``__init__`` calls once its checks have passed).
(_event_type, _event_email, _event_occurred_at, _event_list_id, _event_detail) = (
    vars(TrackingEvent)[name].__set__ for name in attrs.fields_dict(TrackingEvent)
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
