"""The Salesforce adapter against an injected fake ``requests`` session (no network).

The fake answers the REST query endpoint (``records``, ``done``, ``nextRecordsUrl``, pages
of 3 records so every read crosses pages) and the Bulk 2.0 ingest endpoints (job create,
CSV upload, close, poll, ``failedResults`` CSV with ``sf__Id`` and ``sf__Error``) as
Salesforce documents them, with a minimal SOQL evaluator for the statements the adapter
builds.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import attrs
import pytest

if "cmsf_core.testing" not in sys.modules:  # pytest's assert messages in the contracts
    pytest.register_assert_rewrite("cmsf_core.testing")

import requests
import simple_salesforce  # noqa: F401 - the [salesforce] extra is part of the test install

from cmsf_core import Settings
from cmsf_core.adapters.errors import CrmAuthenticationError, CrmError
from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.adapters.salesforce import DEFAULT_FIELD_MAP, SalesforceCrm
from cmsf_core.demo import build_platform
from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.connection import Secret
from cmsf_core.domain.records import (
    CampaignLink,
    Checkpoint,
    CrmCampaign,
    MemberStatus,
    Person,
    PersonKind,
)
from cmsf_core.sync import run_sync
from cmsf_core.testing import CrmStoreContract

INSTANCE = "https://fake.my.salesforce.com"
SESSION_ID = "00D-PLANTED-session-secret-77e1"
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
BOOLEANS = {"IsDefault", "HasResponded", "HasOptedOutOfEmail", "CMSF_Created_By_Integration__c"}
NUMBERS = {"SortOrder"}
PREFIXES = {"Contact": "003", "Lead": "00Q", "Campaign": "701", "CampaignMemberStatus": "01Y"}
_QUOTED = r"'(?:[^'\\]|\\.)*'"


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _value(text: str) -> Any:
    text = text.strip()
    if text == "null":
        return None
    if text.startswith("'"):
        return _unquote(text)
    return text


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


Row = dict[str, Any]


class FakeSalesforce(requests.Session):
    """An org held in memory, answering simple-salesforce's HTTP requests."""

    page_size = 3

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, Row]] = {}
        self.ids = itertools.count(1)
        self.jobs: dict[str, dict[str, Any]] = {}
        self.cursors: dict[str, list[Row]] = {}
        self.calls: list[tuple[str, str]] = []
        #: (object, row) -> the refusal message, or None to accept the row.
        self.refuse: Callable[[str, Row], str | None] = lambda _obj, _row: None

    # -- HTTP ----------------------------------------------------------------------------

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        **_kw: Any,
    ) -> requests.Response:
        self.calls.append((method, url))
        assert url.startswith(INSTANCE), url  # never anywhere else
        if (headers or {}).get("Authorization") != f"Bearer {SESSION_ID}":
            return _response(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        path = urlsplit(url).path
        if path.endswith("/query/"):
            return self.query(params["q"])
        if m := re.search(r"/query/(01g[\w-]+)$", path):
            return self.page(m[1])
        if path.endswith("/jobs/ingest") and method == "POST":
            return self.create_job(json.loads(data))
        if m := re.search(r"/jobs/ingest/(\w+)/batches$", path):
            self.jobs[m[1]]["csv"] = data.decode() if isinstance(data, bytes) else data
            return _response(201, None)
        if m := re.search(r"/jobs/ingest/(\w+)/(failedResults|successfulResults)/?$", path):
            return _response(200, self.jobs[m[1]][m[2]], csv_body=True)
        if m := re.search(r"/jobs/ingest/(\w+)$", path):
            job = self.jobs[m[1]]
            if method == "PATCH":
                self.run_job(job)
            return _response(200, {k: v for k, v in job.items() if k[0].islower() and k != "csv"})
        return _response(404, [{"message": "not found", "errorCode": "NOT_FOUND"}])

    # -- SOQL ----------------------------------------------------------------------------

    def query(self, soql: str) -> requests.Response:
        m = re.fullmatch(r"SELECT (.+?) FROM (\w+)(?: WHERE (.+))?", soql.strip())
        assert m, soql
        fields = [f.strip() for f in m[1].split(",")]
        rows = list(self.tables.get(m[2], {}).values())
        for condition in re.split(r" AND ", m[3] or "") if m[3] else []:
            rows = [r for r in rows if self.matches(r, condition)]
        records = [
            {"attributes": {"type": m[2], "url": f"/sobjects/{m[2]}/{r['Id']}"}}
            | {f: _typed(f, r.get(f)) for f in fields}
            for r in rows
        ]
        return self.paged(records)

    def paged(self, records: list[Row]) -> requests.Response:
        first, rest = records[: self.page_size], records[self.page_size :]
        body: Row = {"totalSize": len(records), "done": not rest, "records": first}
        if rest:
            cursor = f"01gCUR-{next(self.ids)}"
            self.cursors[cursor] = rest
            body["nextRecordsUrl"] = f"/services/data/v59.0/query/{cursor}"
        return _response(200, body)

    def page(self, cursor: str) -> requests.Response:
        return self.paged(self.cursors.pop(cursor))

    @staticmethod
    def matches(row: Row, condition: str) -> bool:
        if m := re.fullmatch(rf"(\w+) IN \(((?:{_QUOTED},?)*)\)", condition.strip()):
            wanted = {_unquote(v).casefold() for v in re.findall(_QUOTED, m[2])}
            value = row.get(m[1])
            return value is not None and str(value).casefold() in wanted
        if m := re.fullmatch(r"(\w+) = (.+)", condition.strip()):
            want = _value(m[2])
            value = row.get(m[1])
            if want is None or value is None:
                return want is value
            return str(value).casefold() == str(want).casefold()
        if m := re.fullmatch(r"(\w+) < (\S+)", condition.strip()):
            value = row.get(m[1])
            return value is not None and _when(value) < _when(m[2])
        raise AssertionError(f"unsupported SOQL condition {condition!r}")

    # -- Bulk 2.0 ------------------------------------------------------------------------

    def create_job(self, spec: Row) -> requests.Response:
        job_id = f"750{next(self.ids):012d}"
        self.jobs[job_id] = {
            "id": job_id,
            "operation": spec["operation"],
            "object": spec["object"],
            "externalIdFieldName": spec.get("externalIdFieldName"),
            "contentType": "CSV",
            "state": "Open",
        }
        return _response(200, self.jobs[job_id])

    def run_job(self, job: dict[str, Any]) -> None:
        table = self.tables.setdefault(job["object"], {})
        rows = list(csv.DictReader(io.StringIO(job["csv"])))
        failed: list[tuple[str, str, Row]] = []
        done: list[tuple[str, Row]] = []
        for row in rows:
            values = {k: (None if v == "#N/A" else v) for k, v in row.items()}
            reason = self.refuse(job["object"], values)
            sf_id = values.get("Id") or ""
            if reason is None:
                reason, sf_id = self.write(job, table, values)
            if reason is None:
                done.append((sf_id, row))
            else:
                failed.append((sf_id, reason, row))
        header = list(rows[0]) if rows else []
        job.update(
            state="JobComplete",
            numberRecordsProcessed=len(rows),
            numberRecordsFailed=len(failed),
            failedResults=_csv(
                ["sf__Id", "sf__Error", *header], [[i, e, *r.values()] for i, e, r in failed]
            ),
            successfulResults=_csv(
                ["sf__Id", "sf__Created", *header], [[i, "true", *r.values()] for i, r in done]
            ),
        )

    def write(
        self, job: dict[str, Any], table: dict[str, Row], values: Row
    ) -> tuple[str | None, str]:
        operation, obj = job["operation"], job["object"]
        if operation in {"update", "delete"}:
            sf_id = values["Id"]
            if sf_id not in table:
                return "ENTITY_IS_DELETED:entity is deleted:--", sf_id
            if operation == "delete":
                del table[sf_id]
            else:
                table[sf_id].update(values)
            return None, sf_id
        if obj == "CampaignMemberStatus" and values["CampaignId"] not in self.tables.get(
            "Campaign", {}
        ):
            return "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--", ""
        if operation == "upsert":
            key = job["externalIdFieldName"]
            for sf_id, existing in table.items():
                if existing.get(key) == values[key]:  # external ids are case-sensitive here
                    existing.update(values)
                    return None, sf_id
        sf_id = f"{PREFIXES.get(obj, 'a0X')}{next(self.ids):012d}"
        table[sf_id] = {"Id": sf_id, **values}
        return None, sf_id

    # -- seeding -------------------------------------------------------------------------

    def add_person(self, kind: PersonKind, person_id: str, email: str, modified: datetime) -> None:
        self.tables.setdefault(kind.value, {})[person_id] = {
            "Id": person_id,
            "Email": email,
            "LastModifiedDate": modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "HasOptedOutOfEmail": "false",
        }


def _typed(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in BOOLEANS:
        return str(value).lower() == "true"
    if field in NUMBERS:
        return int(value)
    return value


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _response(status: int, body: Any, *, csv_body: bool = False) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.encoding = "utf-8"
    response.url = INSTANCE
    if csv_body:
        response._content = str(body).encode()
        response.headers["Content-Type"] = "text/csv"
    else:
        response._content = b"" if body is None else json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
    return response


def _crm(fake: FakeSalesforce | None = None, **kw: Any) -> SalesforceCrm:
    return SalesforceCrm.connect(
        INSTANCE, Secret(SESSION_ID), session=fake or FakeSalesforce(), bulk_wait=0, **kw
    )


# ----------------------------------------------------------------------------- the contract


class TestSalesforceContract(CrmStoreContract):
    """The adapter keeps the CrmStore contract through simple-salesforce and the fake org."""

    property_examples: ClassVar[int | None] = 15

    def make_crm(self) -> SalesforceCrm:
        return _crm()

    def add_person(
        self,
        crm: Any,
        email: str,
        *,
        person_id: str,
        kind: PersonKind = PersonKind.CONTACT,
        last_modified: datetime = T0,
    ) -> Person:
        crm._sf.session.add_person(kind, person_id, email, last_modified)
        return Person(person_id, kind, email, last_modified)


# ----------------------------------------------------------------------------- the wire


def test_reads_cross_query_pages_and_writes_go_through_bulk_jobs() -> None:
    fake = FakeSalesforce()
    crm = _crm(fake)
    statuses = (MemberStatus("Sent", is_default=True, sort_order=1),)
    campaigns = [CrmCampaign(f"c{n}", f"Campaign {n}", statuses) for n in range(7)]

    assert crm.create_campaigns(campaigns, []).ok

    assert sorted(crm.campaigns()) == [f"c{n}" for n in range(7)]
    assert any("/query/01gCUR-" in url for _m, url in fake.calls)  # nextRecordsUrl followed
    jobs = [(j["operation"], j["object"]) for j in fake.jobs.values()]
    assert ("upsert", "Campaign") in jobs
    assert ("insert", "CampaignMemberStatus") in jobs


def test_per_record_bulk_failures_become_write_result_failures() -> None:
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.refuse = lambda obj, row: (
        "FIELD_CUSTOM_VALIDATION_EXCEPTION:bad client:--"
        if obj == DEFAULT_FIELD_MAP.tracking_record.name
        and row[DEFAULT_FIELD_MAP.tracking_record.field("client")] == "bad"
        else None
    )
    good = Activity("cmp", "ann@example.com", ActivityType.OPENED, T0, client_id="good")
    bad = Activity("cmp", "bob@example.com", ActivityType.OPENED, T0, client_id="bad")

    result = crm.insert_records([good, bad])

    assert result.written == 1
    assert result.failures == ((bad.key, "FIELD_CUSTOM_VALIDATION_EXCEPTION:bad client:--"),)
    assert crm.existing_keys([good.key, bad.key]) == {good.key}


def test_soql_is_built_with_format_soql_quoting() -> None:
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.add_person(PersonKind.CONTACT, "003000000000001", "o'brien@example.com", T0)

    found = crm.find_people(["O'Brien@example.com"])

    assert [p.person_id for p in found["o'brien@example.com"]] == ["003000000000001"]


def test_the_field_map_names_the_objects() -> None:
    fake = FakeSalesforce()
    checkpoints = attrs.evolve(DEFAULT_FIELD_MAP.checkpoint, name="Acme_Sync_State__c")
    crm = _crm(fake, field_map=attrs.evolve(DEFAULT_FIELD_MAP, checkpoint=checkpoints))
    assert crm.save_checkpoints([Checkpoint("client-1", T0)]).ok

    assert "Acme_Sync_State__c" in fake.tables
    assert crm.checkpoint("client-1").watermark == T0


def test_a_refused_session_is_an_authentication_error() -> None:
    crm = SalesforceCrm.connect(INSTANCE, "wrong-session", session=FakeSalesforce(), bulk_wait=0)

    with pytest.raises(CrmAuthenticationError) as caught:
        crm.campaigns()

    assert (caught.value.code, caught.value.status) == ("INVALID_SESSION_ID", 401)
    assert isinstance(caught.value, CrmError | RuntimeError)


def test_the_session_id_never_shows_in_a_repr_an_error_or_a_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeSalesforce()
    crm = _crm(fake)
    texts = [repr(crm), str(crm), repr(Secret(SESSION_ID))]
    fake.refuse = lambda _obj, _row: f"INVALID_FIELD:echo {SESSION_ID}:--"
    with caplog.at_level(logging.DEBUG):
        result = crm.add_messages([])
        texts.append(repr(result))
        result = crm.save_checkpoints([Checkpoint("client-1", T0)])
        texts.append(repr(result))
        fake.page_size = 3
        broken = SalesforceCrm.connect(INSTANCE, "not-the-session", session=fake, bulk_wait=0)
        with pytest.raises(CrmError) as caught:
            broken.campaigns()
        texts += [str(caught.value), repr(caught.value), repr(caught.value.__cause__)]
    texts += [r.getMessage() for r in caplog.records] + [repr(vars(crm)), repr(vars(broken))]
    assert any("records refused" in t for t in texts)  # the log was captured

    assert not result.ok
    for text in texts:
        assert SESSION_ID not in text


def test_importing_the_adapter_does_not_import_simple_salesforce() -> None:
    code = (
        "import sys, cmsf_core.adapters.salesforce; assert 'simple_salesforce' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_expired_records_query_uses_a_datetime_literal() -> None:
    fake = FakeSalesforce()
    crm = _crm(fake)
    old = Activity("cmp", "ann@example.com", ActivityType.OPENED, T0, client_id="c")
    new = Activity(
        "cmp", "ann@example.com", ActivityType.OPENED, T0 + timedelta(days=2), client_id="c"
    )
    assert crm.insert_records([old, new]).ok

    expired = crm.expired_records({ActivityType.OPENED: T0 + timedelta(days=1)})

    assert expired == [old]


# ----------------------------------------------------------------------------- a whole sync


def test_a_sync_into_salesforce_reaches_the_in_memory_state() -> None:
    """Day-by-day syncs of one history end in the same records, members and checkpoint
    through the adapter as in the in-memory CRM."""
    statuses = tuple(
        MemberStatus(
            label, is_default=n == 0, has_responded=label in {"Opened", "Clicked"}, sort_order=n + 1
        )
        for n, label in enumerate(
            ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")
        )
    )
    fake = FakeSalesforce()
    fake.page_size = 500
    crms: list[Any] = [InMemoryCrm(), _crm(fake)]
    for crm in crms:
        crm.create_campaigns(
            [CrmCampaign(f"sf-cmp-{n}", f"Digest {n}", statuses) for n in (1, 2)],
            [CampaignLink("client-1", f"cmp-{n}", f"sf-cmp-{n}") for n in (1, 2)],
        )
    for i in range(0, 30, 3):
        email, person_id = f"reader{i:05d}@example.com", f"003{i:012d}"
        crms[0].add_person(email, person_id=person_id, last_modified=T0)
        fake.add_person(PersonKind.CONTACT, person_id, email, T0)
    platform = build_platform(recipients=30, campaigns=2)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    for day in range(1, 5):
        for crm in crms:
            run_sync(crm, platform, Settings(days_to_keep=7), as_of=start + timedelta(days=day))

    memory, salesforce = crms
    assert memory.record_count() > 0
    assert sorted(map(repr, salesforce.records_of_clients(["client-1"]))) == sorted(
        map(repr, memory.all_records())
    )
    refs = [m.ref for m in memory.all_members()]
    assert refs
    assert salesforce.members(refs) == memory.members(refs)
    assert salesforce.checkpoint("client-1") == memory.checkpoint("client-1")
