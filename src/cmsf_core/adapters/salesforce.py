"""The CRM port over Salesforce, with ``simple-salesforce``.

:class:`SalesforceCrm` implements :class:`~cmsf_core.ports.crm.CrmStore` on a
``simple_salesforce.Salesforce`` connection: every read is a SOQL query built with
``format_soql`` and read to its last page with ``query_all_iter``; every write is a Bulk 2.0
job (upsert on an external id, insert, update or delete), whose failed records
(``sf__Error``) become the :class:`~cmsf_core.domain.records.WriteResult` failures.  Install
the ``[salesforce]`` extra; ``simple_salesforce`` is imported on first use only.

Which objects and fields are used is the :class:`FieldMap` (``DEFAULT_FIELD_MAP``), which a
user changes to match the org's API names.  The integration's own records (tracking
records, platform campaigns, campaign links, campaign members, checkpoints, maintenance
messages, suppression records) live in custom objects keyed by an external id, with the
whole value in a JSON long-text field and the fields the adapter filters on beside it.
``docs/adapters.md`` describes them.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import logging
import operator
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import attrs

from cmsf_core.adapters.errors import CrmAuthenticationError, CrmError, CrmUnavailableError
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.connection import Secret
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records import (
    CampaignLink,
    CampaignSummary,
    Checkpoint,
    CrmCampaign,
    MemberRecord,
    MemberRef,
    MemberStatus,
    Person,
    PersonKind,
    PlatformCampaign,
    WriteResult,
    normalise_email,
)
from cmsf_core.domain.sms import MissingDependencyError
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    OptOutChange,
    RemoveSuppressionRecord,
    SuppressionRecord,
    UpdateSuppressionRecord,
)

__all__ = ["DEFAULT_FIELD_MAP", "FieldMap", "OwnObject", "SalesforceCrm"]

_log = logging.getLogger(__name__)

#: How many values one ``IN (...)`` list holds (SOQL statements are limited in length).
IN_CHUNK = 200
#: Bulk 2.0's way of writing a null in a CSV cell.
NULL = "#N/A"
#: The key prefix of Lead ids (every other person id is taken as a Contact's).
LEAD_PREFIX = "00Q"


# ----------------------------------------------------------------------------- field map


@attrs.frozen
class OwnObject:
    """One of the integration's custom objects: its API name, the external-id field the
    adapter upserts on, the long-text field holding the value as JSON, and the fields it
    filters on (by role: ``client``, ``campaign``, ``member_ref``, ...)."""

    name: str
    key: str = "CMSF_Key__c"
    data: str = "CMSF_Data__c"
    fields: Mapping[str, str] = attrs.field(factory=dict)

    def field(self, role: str) -> str:
        """The API name of the field playing ``role``."""
        return self.fields[role]


@attrs.frozen
class FieldMap:
    """The Salesforce objects and fields the adapter reads and writes.

    Change any name to match the org (``attrs.evolve(DEFAULT_FIELD_MAP, ...)``).  Standard
    objects: ``Campaign`` (with the integration's ``campaign_key`` external id, created
    flag and statistics fields), ``CampaignMemberStatus``, ``Contact`` and ``Lead``.
    """

    campaign: str = "Campaign"
    campaign_key: str = "CMSF_Key__c"
    campaign_name: str = "Name"
    campaign_created: str = "CMSF_Created_By_Integration__c"
    campaign_statistics: str = "CMSF_Statistics__c"
    member_status: str = "CampaignMemberStatus"
    contact: str = "Contact"
    lead: str = "Lead"
    person_email: str = "Email"
    person_opt_out: str = "HasOptedOutOfEmail"
    person_modified: str = "LastModifiedDate"
    tracking_record: OwnObject = OwnObject(
        "CMSF_Tracking_Record__c",
        fields={
            "client": "CMSF_Client__c",
            "member_ref": "CMSF_Member_Ref__c",
            "type": "CMSF_Type__c",
            "occurred_at": "CMSF_Occurred_At__c",
        },
    )
    platform_campaign: OwnObject = OwnObject("CMSF_Platform_Campaign__c")
    campaign_link: OwnObject = OwnObject("CMSF_Campaign_Link__c")
    campaign_member: OwnObject = OwnObject(
        "CMSF_Campaign_Member__c",
        fields={"campaign": "CMSF_Campaign__c", "person": "CMSF_Person__c"},
    )
    checkpoint: OwnObject = OwnObject("CMSF_Checkpoint__c")
    maintenance_message: OwnObject = OwnObject("CMSF_Maintenance_Message__c")
    suppression_record: OwnObject = OwnObject(
        "CMSF_Suppression_Record__c",
        fields={
            "email": "CMSF_Email__c",
            "reason": "CMSF_Reason__c",
            "suppressed_at": "CMSF_Suppressed_At__c",
        },
    )


#: The names the managed package's objects would have; see ``docs/adapters.md``.
DEFAULT_FIELD_MAP = FieldMap()


# ----------------------------------------------------------------------------- values <-> JSON


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _soql_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    """A Salesforce date-time (``2024-05-06T09:00:00.000+0000``) as an aware UTC datetime."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text).astimezone(UTC)


def _activity_json(a: Activity) -> str:
    return json.dumps(
        [
            a.campaign_id,
            a.member_id,
            a.type.value,
            _iso(a.occurred_at),
            a.client_id,
            a.email,
            a.list_id,
            a.detail,
            a.occurrence,
        ]
    )


def _activity(text: str) -> Activity:
    cid, mid, kind, at, client, email, list_id, detail, occurrence = json.loads(text)
    return Activity(
        cid,
        mid,
        ActivityType.parse(kind),
        datetime.fromisoformat(at),
        client_id=client,
        email=email,
        list_id=list_id,
        detail=detail,
        occurrence=occurrence,
    )


def _key_text(key: ActivityKey) -> str:
    return json.dumps([*key[:2], key.type.value, *key[3:]])


def _member_json(record: MemberRecord) -> str:
    m = record.member
    return json.dumps(
        {
            "crm_campaign_id": record.crm_campaign_id,
            "email": record.email,
            "person_id": record.person_id,
            "campaign_id": m.campaign_id,
            "member_id": m.member_id,
            "status": m.status,
            "activity": None if m.activity is None else m.activity.value,
            "activity_date": None if m.activity_date is None else _iso(m.activity_date),
            "engagement": attrs.astuple(m.engagement),
        }
    )


def _member(text: str) -> MemberRecord:
    d = json.loads(text)
    member = CampaignMember(
        d["campaign_id"],
        d["member_id"],
        status=d["status"],
        activity=None if d["activity"] is None else ActivityType.parse(d["activity"]),
        activity_date=(
            None if d["activity_date"] is None else datetime.fromisoformat(d["activity_date"])
        ),
        engagement=Engagement(*d["engagement"]),
    )
    return MemberRecord(d["crm_campaign_id"], member, d["email"], d["person_id"])


def _checkpoint_json(c: Checkpoint) -> str:
    return json.dumps(
        {
            "client_id": c.client_id,
            "watermark": None if c.watermark is None else _iso(c.watermark),
            "pending": sorted([list(ref), cause.value] for ref, cause in c.pending),
        }
    )


def _checkpoint(text: str) -> Checkpoint:
    d = json.loads(text)
    watermark = None if d["watermark"] is None else datetime.fromisoformat(d["watermark"])
    return Checkpoint(d["client_id"], watermark, [(tuple(r), c) for r, c in d["pending"]])


def _platform_campaign_json(c: PlatformCampaign) -> str:
    return json.dumps(
        [c.client_id, c.campaign_id, c.name, _iso(c.sent_at), sorted(c.tags), c.subject]
    )


def _platform_campaign(text: str) -> PlatformCampaign:
    client, cid, name, sent, tags, subject = json.loads(text)
    return PlatformCampaign(
        client, cid, name, datetime.fromisoformat(sent), frozenset(tags), subject=subject
    )


def _message_json(m: MaintenanceMessage) -> str:
    return json.dumps([m.code, m.severity.value, m.record, m.guidance, _iso(m.occurred_at)])


def _message(text: str) -> MaintenanceMessage:
    code, severity, record, guidance, at = json.loads(text)
    return MaintenanceMessage(code, severity, record, guidance, datetime.fromisoformat(at))


def _ref_text(ref: MemberRef) -> str:
    return json.dumps(list(ref))


def _cell(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _row_id(row: Mapping[str, str]) -> object:
    return row.get("Id")


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def _simple_salesforce() -> ModuleType:
    try:
        import simple_salesforce  # noqa: PLC0415 - optional dependency behind [salesforce]
    except ImportError:
        raise MissingDependencyError(
            "simple-salesforce", "salesforce", "The Salesforce adapter"
        ) from None
    module: ModuleType = simple_salesforce
    return module


# ----------------------------------------------------------------------------- adapter


class SalesforceCrm:
    """Salesforce as a :class:`~cmsf_core.ports.crm.CrmStore`.

    ``sf``: a ``simple_salesforce.Salesforce`` connection (or use :meth:`connect`).
    ``field_map``: the objects and fields used.  ``bulk_wait``: seconds the client waits
    before it first polls a Bulk 2.0 job.
    """

    def __init__(
        self, sf: Any, *, field_map: FieldMap = DEFAULT_FIELD_MAP, bulk_wait: float = 5
    ) -> None:
        if not isinstance(field_map, FieldMap):
            raise InvalidTypeError("field_map", "a FieldMap", field_map)
        self._sf = sf
        self.field_map = field_map
        self.bulk_wait = bulk_wait

    @classmethod
    def connect(
        cls,
        instance_url: str,
        session_id: str | Secret,
        *,
        session: Any = None,
        field_map: FieldMap = DEFAULT_FIELD_MAP,
        bulk_wait: float = 5,
    ) -> SalesforceCrm:
        """Connect with an OAuth access token (``session_id``) to ``instance_url``;
        ``session`` is a ``requests.Session`` (give one with a timeout or retries)."""
        secret = session_id if isinstance(session_id, Secret) else Secret(session_id, "session_id")
        sf = _simple_salesforce().Salesforce(
            instance_url=instance_url, session_id=secret.reveal(), session=session
        )
        return cls(sf, field_map=field_map, bulk_wait=bulk_wait)

    def __repr__(self) -> str:
        instance = getattr(self._sf, "sf_instance", "?")
        return f"SalesforceCrm({instance!r}, session withheld)"

    # -- the wire ----------------------------------------------------------------------

    def _mask(self, text: str) -> str:
        session_id = getattr(self._sf, "session_id", None)
        if isinstance(session_id, str) and session_id:
            text = text.replace(session_id, "***")
        return text

    def _guard(self, operation: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except (CrmError, InvalidValueError):
            raise
        except Exception as error:
            raise self._translate(error, operation) from None

    def _translate(self, error: Exception, operation: str) -> CrmError:
        status = getattr(error, "status", None)
        content = getattr(error, "content", None)
        code = None
        message = type(error).__name__
        if isinstance(content, list) and content and isinstance(content[0], dict):
            code = content[0].get("errorCode")
            message = self._mask(str(content[0].get("message", message)))
        status = status if isinstance(status, int) else None
        if status == 401 or code == "INVALID_SESSION_ID":
            return CrmAuthenticationError(message, code=code, status=status, operation=operation)
        if status is None or status >= 500 or isinstance(error, OSError):
            return CrmUnavailableError(message, code=code, status=status, operation=operation)
        return CrmError(message, code=code, status=status, operation=operation)

    def _query(self, operation: str, soql: str, **params: Any) -> list[dict[str, Any]]:
        text = _simple_salesforce().format_soql(soql, **params)
        return list(self._guard(operation, lambda: list(self._sf.query_all_iter(text))))

    def _query_in(
        self, operation: str, soql: str, values: Iterable[str], **params: Any
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(values):
            rows += self._query(operation, soql, values=chunk, **params)
        return rows

    def _bulk(
        self,
        operation: str,
        obj: str,
        verb: str,
        records: list[dict[str, str]],
        identity: Callable[[Mapping[str, str]], object],
        **kw: Any,
    ) -> tuple[int, list[tuple[object, str]]]:
        """Run a Bulk 2.0 job: how many records succeeded, and each failed one's identity
        (read from its row by ``identity``) with its ``sf__Error``."""
        if not records:
            return 0, []
        handler = getattr(self._sf.bulk2, obj)
        jobs = self._guard(
            operation,
            lambda: getattr(handler, verb)(records=records, wait=self.bulk_wait, **kw),
        )
        failures: list[tuple[object, str]] = []
        for job in jobs:
            if int(job.get("numberRecordsFailed", 0)):
                fetch = functools.partial(handler.get_failed_records, job["job_id"])
                text = self._guard(operation, fetch)
                for row in csv.DictReader(io.StringIO(text)):
                    failures.append((identity(row), self._mask(row.get("sf__Error", ""))))
        if failures:
            _log.warning(
                "Salesforce bulk %s on %s: %d of %d records refused",
                verb,
                obj,
                len(failures),
                len(records),
            )
        return len(records) - len(failures), failures

    def _upsert_own(
        self, operation: str, own: OwnObject, rows: list[dict[str, str]]
    ) -> tuple[int, list[tuple[object, str]]]:
        return self._bulk(
            operation, own.name, "upsert", rows, lambda r: r.get(own.key), external_id_field=own.key
        )

    def _own_rows(
        self,
        operation: str,
        own: OwnObject,
        where: str = "",
        values: Iterable[str] | None = None,
        **params: Any,
    ) -> list[dict[str, Any]]:
        soql = f"SELECT Id, {own.key}, {own.data} FROM {own.name}" + (
            f" WHERE {where}" if where else ""
        )
        if values is None:
            return self._query(operation, soql, **params)
        return self._query_in(operation, soql, values, **params)

    # -- reads -------------------------------------------------------------------------

    def checkpoint(self, client_id: str) -> Checkpoint:
        own = self.field_map.checkpoint
        rows = self._own_rows("checkpoint", own, f"{own.key} = {{key}}", key=client_id)
        rows = [r for r in rows if r[own.key] == client_id]  # SOQL's = ignores case
        return _checkpoint(rows[0][own.data]) if rows else Checkpoint(client_id)

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        fm = self.field_map
        rows = self._query(
            "campaigns",
            f"SELECT Id, {fm.campaign_key}, {fm.campaign_name}, {fm.campaign_created}, "
            f"{fm.campaign_statistics} FROM {fm.campaign}",
        )
        statuses: defaultdict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in self._query_in(
            "campaigns",
            f"SELECT Id, CampaignId, Label, IsDefault, HasResponded, SortOrder "
            f"FROM {fm.member_status} WHERE CampaignId IN {{values}}",
            [r["Id"] for r in rows],
        ):
            statuses[row["CampaignId"]].append(
                (
                    int(row["SortOrder"] or 0),
                    row["Id"],
                    MemberStatus(
                        row["Label"],
                        is_default=bool(row["IsDefault"]),
                        has_responded=bool(row["HasResponded"]),
                        sort_order=int(row["SortOrder"] or 0),
                    ),
                )
            )
        found = {}
        for row in rows:
            key = row[fm.campaign_key] or row["Id"]
            stats = row[fm.campaign_statistics]
            found[key] = CrmCampaign(
                key,
                row[fm.campaign_name],
                tuple(s for *_order, s in sorted(statuses[row["Id"]], key=lambda t: t[:2])),
                created_by_integration=bool(row[fm.campaign_created]),
                statistics=None if not stats else CampaignSummary(**json.loads(stats)),
            )
        return found

    def _campaign_ids(self) -> dict[str, str]:
        """Salesforce Id by campaign key."""
        fm = self.field_map
        rows = self._query("campaigns", f"SELECT Id, {fm.campaign_key} FROM {fm.campaign}")
        return {r[fm.campaign_key] or r["Id"]: r["Id"] for r in rows}

    def links(self) -> Mapping[str, CampaignLink]:
        own = self.field_map.campaign_link
        links = (CampaignLink(*json.loads(r[own.data])) for r in self._own_rows("links", own))
        return {link.platform_campaign_id: link for link in links}

    def platform_campaigns(self) -> Mapping[str, PlatformCampaign]:
        own = self.field_map.platform_campaign
        found = (_platform_campaign(r[own.data]) for r in self._own_rows("platform_campaigns", own))
        return {c.campaign_id: c for c in found}

    def members(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, MemberRecord]:
        own = self.field_map.campaign_member
        rows = self._own_rows(
            "members", own, f"{own.key} IN {{values}}", [_ref_text(r) for r in refs]
        )
        wanted = set(refs)  # SOQL compares text without regard to case: keep exact matches
        return {m.ref: m for m in (_member(r[own.data]) for r in rows) if m.ref in wanted}

    def members_of(self, campaign_ids: Collection[str]) -> Sequence[MemberRecord]:
        own = self.field_map.campaign_member
        rows = self._own_rows(
            "members_of", own, f"{own.field('campaign')} IN {{values}}", campaign_ids
        )
        return tuple(_member(r[own.data]) for r in rows)

    def unmatched_members(self) -> Sequence[MemberRecord]:
        own = self.field_map.campaign_member
        rows = self._own_rows("unmatched_members", own, f"{own.field('person')} = null")
        return tuple(_member(r[own.data]) for r in rows)

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        own = self.field_map.tracking_record
        found: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        rows = self._own_rows(
            "records_for", own, f"{own.field('member_ref')} IN {{values}}", map(_ref_text, refs)
        )
        wanted = set(refs)
        for row in rows:
            record = _activity(row[own.data])
            ref = MemberRef(record.campaign_id, record.member_id)
            if ref in wanted:
                found[ref].append(record)
        return {ref: tuple(records) for ref, records in found.items()}

    def records_of_clients(self, client_ids: Collection[str]) -> Iterable[Activity]:
        own = self.field_map.tracking_record
        rows = self._own_rows(
            "records_of_clients", own, f"{own.field('client')} IN {{values}}", client_ids
        )
        return [_activity(r[own.data]) for r in rows]

    def existing_keys(self, keys: Collection[ActivityKey]) -> Collection[ActivityKey]:
        texts = {_key_text(k): k for k in keys}
        return {texts[t] for t in self._existing_texts(texts)}

    def _existing_texts(self, texts: Collection[str]) -> dict[str, str]:
        """Salesforce Id by key text, for the stored ones."""
        own = self.field_map.tracking_record
        rows = self._query_in(
            "existing_keys",
            f"SELECT Id, {own.key} FROM {own.name} WHERE {own.key} IN {{values}}",
            texts,
        )
        wanted = set(texts)
        return {r[own.key]: r["Id"] for r in rows if r[own.key] in wanted}

    def expired_records(self, cutoffs: Mapping[ActivityType, datetime]) -> Sequence[Activity]:
        own = self.field_map.tracking_record
        expired: list[Activity] = []
        for activity_type, cutoff in cutoffs.items():
            rows = self._query(
                "expired_records",
                f"SELECT Id, {own.key}, {own.data} FROM {own.name} WHERE "
                f"{own.field('type')} = {{kind}} "
                f"AND {own.field('occurred_at')} < {{cutoff:literal}}",
                kind=activity_type.value,
                cutoff=_soql_time(cutoff),
            )
            expired += (_activity(r[own.data]) for r in rows)
        return expired

    def find_people(self, emails: Collection[str]) -> Mapping[str, tuple[Person, ...]]:
        fm = self.field_map
        wanted = {normalise_email(e) for e in emails}
        found: defaultdict[str, list[Person]] = defaultdict(list)
        for kind, obj in ((PersonKind.CONTACT, fm.contact), (PersonKind.LEAD, fm.lead)):
            rows = self._query_in(
                "find_people",
                f"SELECT Id, {fm.person_email}, {fm.person_modified}, {fm.person_opt_out} "
                f"FROM {obj} WHERE {fm.person_email} IN {{values}}",
                sorted(wanted),
            )
            for row in rows:
                email = normalise_email(row[fm.person_email])
                if email in wanted:  # SOQL compares text without regard to case
                    found[email].append(
                        Person(
                            row["Id"],
                            kind,
                            row[fm.person_email],
                            _parse_time(row[fm.person_modified]),
                            email_opt_out=bool(row[fm.person_opt_out]),
                        )
                    )
        return {e: tuple(sorted(p, key=lambda x: x.person_id)) for e, p in found.items()}

    def suppression_records(self) -> Sequence[SuppressionRecord]:
        own = self.field_map.suppression_record
        rows = self._query(
            "suppression_records",
            f"SELECT Id, {own.field('email')}, {own.field('reason')}, "
            f"{own.field('suppressed_at')} FROM {own.name}",
        )
        return tuple(
            SuppressionRecord(
                r["Id"],
                r[own.field("email")],
                r[own.field("reason")],
                _parse_time(r[own.field("suppressed_at")]),
            )
            for r in rows
        )

    # -- writes ------------------------------------------------------------------------

    def set_opt_out(self, changes: Sequence[OptOutChange]) -> WriteResult:
        fm = self.field_map
        written, failures = 0, []
        for obj, group in itertools.groupby(
            sorted(changes, key=lambda c: c.record_id.startswith(LEAD_PREFIX)),
            key=lambda c: fm.lead if c.record_id.startswith(LEAD_PREFIX) else fm.contact,
        ):
            rows = [{"Id": c.record_id, fm.person_opt_out: _cell(c.value)} for c in group]
            done, failed = self._bulk("set_opt_out", obj, "update", rows, lambda r: r.get("Id"))
            written += done
            failures += failed
        return WriteResult(written, tuple(failures))

    def apply_suppression(
        self,
        changes: Sequence[
            CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord
        ],
    ) -> WriteResult:
        own = self.field_map.suppression_record
        existing = {r.record_id for r in self.suppression_records()}
        email = own.field("email")
        written = 0
        failures: list[tuple[object, str]] = []
        for _kind, run in itertools.groupby(changes, key=type):  # in order, run by run
            items = list(run)
            removes = [c for c in items if isinstance(c, RemoveSuppressionRecord)]
            updates = [c for c in items if isinstance(c, UpdateSuppressionRecord)]
            creates = [c for c in items if isinstance(c, CreateSuppressionRecord)]
            rows = [{"Id": c.record_id} for c in removes if c.record_id in existing]
            done, failed = self._bulk("apply_suppression", own.name, "delete", rows, _row_id)
            existing -= {r["Id"] for r in rows}
            written, failures = written + done, failures + failed
            failures += [
                (c.record_id, "ENTITY_IS_DELETED: entity is deleted")
                for c in updates
                if c.record_id not in existing
            ]
            rows = [
                {"Id": c.record_id, **self._suppression_fields(c)}
                for c in updates
                if c.record_id in existing
            ]
            done, failed = self._bulk("apply_suppression", own.name, "update", rows, _row_id)
            written, failures = written + done, failures + failed
            rows = [self._suppression_fields(c) for c in creates]
            done, failed = self._bulk(
                "apply_suppression", own.name, "insert", rows, operator.itemgetter(email)
            )
            written, failures = written + done, failures + failed
            if creates:
                existing = {r.record_id for r in self.suppression_records()}
        return WriteResult(written, tuple(failures))

    def _suppression_fields(
        self, change: CreateSuppressionRecord | UpdateSuppressionRecord
    ) -> dict[str, str]:
        own = self.field_map.suppression_record
        return {
            own.field("email"): change.email,
            own.field("reason"): change.reason,
            own.field("suppressed_at"): _soql_time(change.suppressed_at),
        }

    def save_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> WriteResult:
        own = self.field_map.checkpoint
        written, failures = 0, []
        for checkpoint in checkpoints:  # one by one: the journal first, the watermark last
            old = self.checkpoint(checkpoint.client_id)
            if old.watermark and checkpoint.watermark and checkpoint.watermark < old.watermark:
                raise InvalidValueError(
                    "watermark", f">= the stored {old.watermark.isoformat()}", checkpoint.watermark
                )
            done, failed = self._upsert_own(
                "save_checkpoints",
                own,
                [{own.key: checkpoint.client_id, own.data: _checkpoint_json(checkpoint)}],
            )
            written += done
            failures += failed
        return WriteResult(written, tuple(failures))

    def save_platform_campaigns(self, campaigns: Sequence[PlatformCampaign]) -> WriteResult:
        own = self.field_map.platform_campaign
        rows = {
            c.campaign_id: {own.key: c.campaign_id, own.data: _platform_campaign_json(c)}
            for c in campaigns
        }
        written, failures = self._upsert_own("save_platform_campaigns", own, list(rows.values()))
        return WriteResult(written + len(campaigns) - len(rows), tuple(failures))

    def create_campaigns(
        self, campaigns: Sequence[CrmCampaign], links: Sequence[CampaignLink]
    ) -> WriteResult:
        fm = self.field_map
        before = self._campaign_ids()
        new = {c.campaign_id: c for c in campaigns if c.campaign_id not in before}
        rows = [
            {
                fm.campaign_key: c.campaign_id,
                fm.campaign_name: c.name,
                fm.campaign_created: _cell(c.created_by_integration),
            }
            for c in new.values()
        ]
        written, failures = self._bulk(
            "create_campaigns",
            fm.campaign,
            "upsert",
            rows,
            lambda r: r.get(fm.campaign_key),
            external_id_field=fm.campaign_key,
        )
        ids = self._campaign_ids()
        status_rows = [
            self._status_row(ids[c.campaign_id], s, default=s.is_default)
            for c in new.values()
            if c.campaign_id in ids
            for s in c.statuses
        ]
        _done, failed = self._bulk(
            "create_campaigns",
            fm.member_status,
            "insert",
            status_rows,
            lambda r: r.get("CampaignId"),
        )
        failures += failed
        own = fm.campaign_link
        link_rows = {
            link.platform_campaign_id: {
                own.key: link.platform_campaign_id,
                own.data: json.dumps(attrs.astuple(link)),
            }
            for link in links
        }
        done, failed = self._upsert_own("create_campaigns", own, list(link_rows.values()))
        written += done + len(campaigns) - len(new) + len(links) - len(link_rows)
        return WriteResult(written, tuple(failures + failed))

    @staticmethod
    def _status_row(campaign_sf_id: str, status: MemberStatus, *, default: bool) -> dict[str, str]:
        return {
            "CampaignId": campaign_sf_id,
            "Label": status.label,
            "IsDefault": _cell(default),
            "HasResponded": _cell(status.has_responded),
            "SortOrder": str(status.sort_order),
        }

    def add_statuses(self, statuses: Sequence[tuple[str, MemberStatus]]) -> WriteResult:
        campaigns = self.campaigns()
        ids = self._campaign_ids()
        failures: list[tuple[object, str]] = []
        rows = []
        labels = {cid: {s.label for s in c.statuses} for cid, c in campaigns.items()}
        for campaign_id, status in statuses:
            if campaign_id not in campaigns:
                failures.append((campaign_id, "ENTITY_IS_DELETED: no such campaign"))
            elif status.label not in labels[campaign_id]:
                labels[campaign_id].add(status.label)
                rows.append(self._status_row(ids[campaign_id], status, default=False))
        by_id = {v: k for k, v in ids.items()}
        _done, failed = self._bulk(
            "add_statuses",
            self.field_map.member_status,
            "insert",
            rows,
            lambda r: by_id.get(r.get("CampaignId", ""), r.get("CampaignId")),
        )
        failures += failed
        return WriteResult(len(statuses) - len(failures), tuple(failures))

    def insert_records(self, records: Sequence[Activity]) -> WriteResult:
        own = self.field_map.tracking_record
        fresh: dict[str, Activity] = {}
        for record in records:
            fresh.setdefault(_key_text(record.key), record)
        for text in self._existing_texts(fresh):
            del fresh[text]
        rows = [
            {
                own.key: text,
                own.data: _activity_json(r),
                own.field("client"): r.client_id,
                own.field("member_ref"): _ref_text(MemberRef(r.campaign_id, r.member_id)),
                own.field("type"): r.type.value,
                own.field("occurred_at"): _soql_time(r.occurred_at),
            }
            for text, r in fresh.items()
        ]
        keys = {text: r.key for text, r in fresh.items()}
        written, failures = self._bulk(
            "insert_records",
            own.name,
            "upsert",
            rows,
            lambda row: keys.get(row.get(own.key, "")),
            external_id_field=own.key,
        )
        return WriteResult(written, tuple(failures))

    def delete_records(self, keys: Sequence[ActivityKey]) -> WriteResult:
        texts = {_key_text(k): k for k in keys}
        ids = self._existing_texts(texts)
        by_id = {sf_id: texts[text] for text, sf_id in ids.items()}
        written, failures = self._bulk(
            "delete_records",
            self.field_map.tracking_record.name,
            "delete",
            [{"Id": sf_id} for sf_id in by_id],
            lambda r: by_id.get(r.get("Id", "")),
        )
        return WriteResult(written, tuple(failures))

    def save_members(self, members: Sequence[MemberRecord]) -> WriteResult:
        own = self.field_map.campaign_member
        campaigns = self.campaigns()
        failures: list[tuple[object, str]] = []
        rows: dict[str, dict[str, str]] = {}
        for record in members:
            campaign = campaigns.get(record.crm_campaign_id)
            status = record.member.status
            if campaign is None:
                failures.append(
                    (
                        record.ref,
                        f"ENTITY_IS_DELETED: campaign {record.crm_campaign_id} does not exist",
                    )
                )
                continue
            if status is not None and not campaign.has_status(status):
                failures.append(
                    (
                        record.ref,
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Status: "
                        f"bad value for restricted picklist field: {status}",
                    )
                )
                continue
            rows[_ref_text(record.ref)] = {
                own.key: _ref_text(record.ref),
                own.data: _member_json(record),
                own.field("campaign"): record.member.campaign_id,
                own.field("person"): _cell(record.person_id),
            }
        refs = {text: MemberRef(*json.loads(text)) for text in rows}
        written, failed = self._bulk(
            "save_members",
            own.name,
            "upsert",
            list(rows.values()),
            lambda r: refs.get(r.get(own.key, "")),
            external_id_field=own.key,
        )
        accepted = len(members) - len(failures)
        return WriteResult(written + accepted - len(rows), tuple(failures + failed))

    def save_statistics(self, statistics: Sequence[tuple[str, CampaignSummary]]) -> WriteResult:
        fm = self.field_map
        known = self._campaign_ids()
        failures: list[tuple[object, str]] = [
            (cid, "ENTITY_IS_DELETED: no such campaign")
            for cid, _s in statistics
            if cid not in known
        ]
        rows = {
            cid: {"Id": known[cid], fm.campaign_statistics: json.dumps(attrs.asdict(summary))}
            for cid, summary in statistics
            if cid in known
        }
        by_id = {v: k for k, v in known.items()}
        _done, failed = self._bulk(
            "save_statistics",
            fm.campaign,
            "update",
            list(rows.values()),
            lambda r: by_id.get(r.get("Id", "")),
        )
        failures += failed
        return WriteResult(len(statistics) - len(failures), tuple(failures))

    def add_messages(self, messages: Sequence[MaintenanceMessage]) -> WriteResult:
        own = self.field_map.maintenance_message
        stamp = time.time_ns()
        rows = [
            {own.key: f"{stamp:020d}-{n:06d}", own.data: _message_json(m)}
            for n, m in enumerate(messages)
        ]
        written, failures = self._upsert_own("add_messages", own, rows)
        return WriteResult(written, tuple(failures))

    def messages(self) -> Sequence[MaintenanceMessage]:
        own = self.field_map.maintenance_message
        rows = sorted(self._own_rows("messages", own), key=lambda r: r[own.key])
        return tuple(_message(r[own.data]) for r in rows)
