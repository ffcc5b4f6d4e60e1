"""Reading a stored row into the library's values, column by column: a value that breaks its
rule raises :class:`~cmsf_core.ports.crm.StoreCorruptError` naming the table, the row and the
column (:class:`StoreProblem`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from cmsf_core.adapters.sqlite.columns import (
    _CODE_TYPES,
    _MAX_INSTANT,
    _MAX_INT,
    _MAX_SECOND,
    _MIN_INSTANT,
    _MIN_SECOND,
    _READ_ERRORS,
    T,
    _any_text,
    _BadValueError,
    _engagement,
    _flag,
    _instant,
    _integer,
    _micro,
    _opt_instant,
    _opt_text,
    _pending,
    _record_email,
    _second,
    _statistics,
    _statuses,
    _tags,
    _text,
    _to_dt,
    _type_code,
    _type_name,
)
from cmsf_core.adapters.sqlite.schema import (
    _CAMPAIGN_COLUMNS,
    _CHECKPOINT_COLUMNS,
    _LINK_COLUMNS,
    _MEMBER_COLUMNS,
    _MESSAGE_COLUMNS,
    _PEOPLE_COLUMNS,
    _PLATFORM_COLUMNS,
    _RECORD_COLUMNS,
    _RECORD_NAMES,
    _SUPPRESSION_COLUMNS,
)
from cmsf_core.domain.activity import Activity
from cmsf_core.domain.errors import shown
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign
from cmsf_core.domain.records.members import MemberRecord
from cmsf_core.domain.records.people import Person, PersonKind
from cmsf_core.domain.records.platform import PlatformCampaign
from cmsf_core.domain.records.sync_state import Checkpoint
from cmsf_core.domain.settings import parse_label
from cmsf_core.domain.subscribers import SuppressionRecord
from cmsf_core.ports.crm import StoreCorruptError


def _mask(text: str) -> str:
    """An email in a message: its first character and its domain only."""
    local, at, domain = text.partition("@")
    return f"{local[:1]}***@{domain}" if at else text


def _row_name(key: Mapping[str, object]) -> str:
    parts = []
    for name, value in key.items():
        shown_value = _mask(value) if isinstance(value, str) else value
        parts.append(f"{name}={shown_value!r}")
    return ", ".join(parts)


@attrs.frozen
class StoreProblem:
    """One thing wrong in a store: where (table, row, column) and what."""

    table: str
    row: str
    column: str
    problem: str

    def __str__(self) -> str:
        where = f"table {self.table!r}"
        if self.row:
            where += f", row ({self.row})"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.problem}"


class _Rows:
    """Reads one row column by column; a bad value raises :class:`StoreCorruptError`."""

    def __init__(self, path: str, table: str, key: Mapping[str, object]) -> None:
        self.path = path
        self.table = table
        self.key = key

    def fail(self, column: str, problem: str) -> StoreCorruptError:
        found = StoreProblem(self.table, _row_name(self.key), column, problem)
        return StoreCorruptError(
            f"store {self.path!r} is damaged: {found}; run 'cmsf check --store' to list every "
            "bad row (a full sync rebuilds the integration's own rows)",
            table=self.table,
            row=found.row,
            column=column,
            detail=problem,
        )

    def get(self, column: str, value: object, read: Callable[[object], T]) -> T:
        try:
            return read(value)
        except _BadValueError as bad:
            raise self.fail(column, f"expected {bad.expected} (got {shown(value)})") from None
        except _READ_ERRORS as error:
            raise self.fail(column, f"{error} (got {shown(value)})") from None

    def read(
        self, row: Sequence[object], columns: str, *readers: Callable[[object], Any] | None
    ) -> list[Any]:
        """The row's values read in order, each by its column's reader (``columns``: the
        schema's column list, whose names a bad value is reported under); a column whose
        reader is None is skipped."""
        return [
            self.get(name, value, read)
            for name, value, read in zip(columns.split(", "), row, readers, strict=True)
            if read is not None
        ]

    def build(self, make: Callable[[], T]) -> T:
        try:
            return make()
        except _READ_ERRORS as error:
            raise self.fail("", str(error)) from None


def _filled(value: object) -> bool:
    """Text that an activity's id or optional field accepts: a string, not blank."""
    return isinstance(value, str) and bool(value.strip())


def _activity(rows: _Rows, row: Sequence[Any]) -> Activity:
    """A record read from its row (``_RECORD_COLUMNS`` after the id)."""
    client_id, campaign_id, member_id, code, at, micro, email, list_id, detail, occurrence = row
    if (
        type(at) is int
        and _MIN_SECOND <= at < _MAX_SECOND
        and type(micro) is int
        and 0 <= micro <= 999_999
        and type(code) is int
        and 0 <= code < len(_CODE_TYPES)
        and type(occurrence) is int
        and 0 <= occurrence <= _MAX_INT
        and isinstance(client_id, str)
        and client_id
        and _filled(campaign_id)
        and _filled(member_id)
        and (email is None or email == "" or _filled(email))
        and (list_id is None or _filled(list_id))
        and (detail is None or _filled(detail))
    ):
        # The common case, read at once: every value is checked above, as the record's
        # own validators would check it, so the record is built without checking again.
        return Activity._trusted(
            campaign_id,
            member_id,
            _CODE_TYPES[code],
            _to_dt(at * 1_000_000 + micro),
            client_id,
            member_id if email == "" else email,
            list_id,
            detail,
            occurrence,
        )
    # Otherwise the column by column read below names what is wrong.
    values = rows.read(
        row,
        _RECORD_NAMES,
        _text,
        _text,
        _text,
        _type_code,
        _second,
        _micro,
        _record_email,
        _opt_text,
        _opt_text,
        lambda v: _integer(v, 0, _MAX_INT, "a count >= 0"),
    )
    seconds, micros = values[4], values[5]
    when = rows.get(
        "occurred_at",
        seconds * 1_000_000 + micros,
        lambda v: _to_dt(_integer(v, _MIN_INSTANT, _MAX_INSTANT, "an instant (integer µs)")),
    )
    return rows.build(
        lambda: Activity(
            values[1],
            values[2],
            values[3],
            when,
            client_id=values[0],
            email=values[2] if row[6] == "" else values[6],
            list_id=values[7],
            detail=values[8],
            occurrence=values[9],
        )
    )


def _person(rows: _Rows, row: Sequence[Any]) -> Person:
    person_id, kind, email, modified, opt_out, account_id = rows.read(
        row,
        _PEOPLE_COLUMNS,
        _text,
        lambda v: PersonKind(_text(v)),
        _text,
        None,
        _instant,
        _flag,
        _opt_text,
    )
    return rows.build(
        lambda: Person(
            person_id, kind, email, modified, email_opt_out=opt_out, account_id=account_id
        )
    )


def _label(value: object) -> str | None:
    return None if value is None else parse_label(value, "status")


def _member(rows: _Rows, row: Sequence[Any]) -> MemberRecord:
    (
        campaign_id,
        member_id,
        crm_campaign_id,
        email,
        person_id,
        status,
        activity,
        activity_date,
        counts,
    ) = rows.read(
        row,
        _MEMBER_COLUMNS,
        _text,
        _text,
        _text,
        _text,
        _opt_text,
        _label,
        lambda v: None if v is None else _type_name(v),
        _opt_instant,
        _engagement,
    )
    member = rows.build(
        lambda: CampaignMember(
            campaign_id,
            member_id,
            status=status,
            activity=activity,
            activity_date=activity_date,
            engagement=counts,
        )
    )
    return rows.build(lambda: MemberRecord(crm_campaign_id, member, email, person_id))


def _member_problem(
    record: MemberRecord, campaigns: Mapping[str, CrmCampaign]
) -> tuple[str, str] | None:
    """What breaks the CRM's rules in a member read back: (column, problem), or None."""
    campaign = campaigns.get(record.crm_campaign_id)
    status = record.member.status
    if campaign is None:
        return (
            "crm_campaign_id",
            f"expected a campaign of this store (got {record.crm_campaign_id!r})",
        )
    if status is not None and not campaign.has_status(status):
        return "status", f"expected a status of campaign {campaign.name!r} (got {status!r})"
    return None


def _campaign(rows: _Rows, row: Sequence[Any]) -> CrmCampaign:
    campaign_id, name, statuses, created, statistics = rows.read(
        row, _CAMPAIGN_COLUMNS, _text, _text, _statuses, _flag, _statistics
    )
    return rows.build(
        lambda: CrmCampaign(
            campaign_id, name, statuses, created_by_integration=created, statistics=statistics
        )
    )


def _link(rows: _Rows, row: Sequence[Any]) -> CampaignLink:
    platform_campaign_id, client_id, crm_campaign_id = rows.read(
        row, _LINK_COLUMNS, _text, _text, _text
    )
    return rows.build(lambda: CampaignLink(client_id, platform_campaign_id, crm_campaign_id))


def _platform_campaign(rows: _Rows, row: Sequence[Any]) -> PlatformCampaign:
    campaign_id, client_id, name, sent_at, tags, subject = rows.read(
        row, _PLATFORM_COLUMNS, _text, _text, _text, _instant, _tags, _any_text
    )
    return rows.build(
        lambda: PlatformCampaign(client_id, campaign_id, name, sent_at, tags, subject=subject)
    )


def _checkpoint(rows: _Rows, row: Sequence[Any]) -> Checkpoint:
    client_id, watermark, pending = rows.read(
        row, _CHECKPOINT_COLUMNS, _text, _opt_instant, _pending
    )
    return rows.build(lambda: Checkpoint(client_id, watermark, pending))


def _suppression(rows: _Rows, row: Sequence[Any]) -> SuppressionRecord:
    record_id, email, reason, at = rows.read(
        row, _SUPPRESSION_COLUMNS, _text, _text, _text, _instant
    )
    return rows.build(lambda: SuppressionRecord(record_id, email, reason, at))


def _message(rows: _Rows, row: Sequence[Any]) -> MaintenanceMessage:
    code, severity, record, guidance, at = rows.read(
        row,
        _MESSAGE_COLUMNS,
        None,
        _text,
        _text,
        lambda v: None if v is None else _any_text(v),
        _any_text,
        _instant,
    )
    return rows.build(lambda: MaintenanceMessage(code, severity, record, guidance, at))


def _meta(rows: _Rows, row: Sequence[Any]) -> str:
    return rows.get("value", row[1], _any_text)


#: What a scan reads: table, columns (the key columns first), how many are the key, and
#: how a row is read.  The integration's own tables are the ones a full sync reloads.
_SCANS: tuple[tuple[str, str, int, Callable[[_Rows, Sequence[Any]], object]], ...] = (
    ("records", _RECORD_COLUMNS, 1, lambda rows, row: _activity(rows, row[1:])),
    ("members", _MEMBER_COLUMNS, 2, _member),
    ("people", _PEOPLE_COLUMNS, 1, _person),
    ("campaigns", _CAMPAIGN_COLUMNS, 1, _campaign),
    ("links", _LINK_COLUMNS, 1, _link),
    ("platform_campaigns", _PLATFORM_COLUMNS, 1, _platform_campaign),
    ("checkpoints", _CHECKPOINT_COLUMNS, 1, _checkpoint),
    ("suppression_records", _SUPPRESSION_COLUMNS, 1, _suppression),
    ("messages", _MESSAGE_COLUMNS, 1, _message),
    ("meta", "key, value", 1, _meta),
)
_LOADED_TABLES = frozenset(
    {"records", "members", "platform_campaigns", "checkpoints", "suppression_records", "messages"}
)
