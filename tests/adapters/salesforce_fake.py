"""An in-memory Salesforce org answering simple-salesforce's HTTP requests, shared by every
Salesforce test (the adapter's tests, the service examples, the request benchmark).

The fake answers the REST query endpoint (``records``, ``done``, ``nextRecordsUrl``), the
Bulk 2.0 ingest endpoints (job create, CSV upload, close, poll, ``failedResults`` CSV with
``sf__Id`` and ``sf__Error``) and the OAuth token endpoint (``grant_type=refresh_token``) as
Salesforce documents them, with a minimal SOQL evaluator for the statements the adapter
builds (``IN`` lists, ``=``, ``!=``, ``<``, ``AND``, and ``Lookup__r.Field`` paths).

It enforces Salesforce's documented limits, and records how close each run came to them:

- a request whose request line plus headers exceed 16,384 bytes is answered HTTP 414
  (``max_request_bytes`` is the largest seen);
- a SOQL statement longer than 100,000 characters is refused with ``MALFORMED_QUERY``
  (``max_soql_chars``);
- query pages hold at most 2,000 rows (``page_size``; tests may lower it to cross pages
  with few rows) and continue with ``nextRecordsUrl``;
- Bulk 2.0 ingest: an upload over 100 MB is refused (simple-salesforce splits at it; the
  Bulk 2.0 limits page gives 150 MB base64-encoded), at most 150,000,000 records per
  rolling 24 hours (``EXCEEDED_QUOTA``), and per record: a field of at most 32,000
  characters, a record of at most 400,000;
- a Text field holds at most 255 characters (``STRING_TOO_LONG`` per record; the long text
  areas are :data:`LONG_TEXT`); ``max_external_id`` is the longest external id written.

It keeps the documented rules of the objects the adapter writes: a new Campaign gets the
member statuses "Sent" (default) and "Responded"; a CampaignMemberStatus label and
``SortOrder`` are unique within its campaign, the default status cannot be deleted (nor a
status members use), and marking a status default takes the flag from the old one; a
CampaignMember needs a ``ContactId`` or ``LeadId``, is one per campaign and person
(``DUPLICATE_VALUE``), cannot change its campaign or person, and its ``Status`` must be
one of its campaign's labels (``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``); a converted
lead (``IsConverted``, ``ConvertedContactId``) cannot be written to nor made a campaign
member (``CANNOT_UPDATE_CONVERTED_LEAD``); an update or delete of a missing row is
``ENTITY_IS_DELETED``; :meth:`FakeSalesforce.lock_rows` makes records fail with
``UNABLE_TO_LOCK_ROW`` as a busy org does.  Number fields come back as ``3.0`` and
date-times as ``...000+0000``.  The rule that every campaign keeps a responded status (API
39.0 and later) is enforced only with ``require_responded`` (the contract's one-status
campaign needs it off).  With ``echo_headers`` every error answer repeats the request's
headers (``Authorization: Bearer ...`` included), as a misconfigured proxy would.  Error
messages follow Salesforce's ``CODE:message:fields --`` shape; their wording is the fake's.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import itertools
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from cmsf_core.adapters.memory import InMemoryPlatform
from cmsf_core.adapters.salesforce import AUTO_STATUSES, DEFAULT_FIELD_MAP
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.records import CampaignLink, CrmCampaign, MemberStatus, PersonKind

INSTANCE = "https://fake.my.salesforce.com"
SESSION_ID = "00D-PLANTED-session-secret-77e1"
FRESH_TOKEN = "00D-PLANTED-fresh-access-0a4e"
REFRESH_TOKEN = "5Aep-PLANTED-refresh-token-3c9d"
CLIENT_SECRET = "PLANTED-client-secret-6b1f"
CLIENT_ID = "3MVG9-fake-connected-app-key"
SECRETS = (SESSION_ID, FRESH_TOKEN, REFRESH_TOKEN, CLIENT_SECRET)
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
MEMBER = DEFAULT_FIELD_MAP.member
OWN_MEMBER = DEFAULT_FIELD_MAP.campaign_member
BOOLEANS = {
    "IsDefault",
    "HasResponded",
    "HasOptedOutOfEmail",
    "CMSF_Created_By_Integration__c",
    "IsConverted",
}
NUMBERS = {"SortOrder"}
DECIMALS = set(MEMBER.counters.values())  # Number(18, 0) fields are answered as 3.0
#: The org's custom contact and lead fields the field-mapping tests write, by type.
BOOLEANS |= {"Active__c"}
DECIMALS |= {"Score__c", "Rate__c"}
#: What a new contact or lead needs (REQUIRED_FIELD_MISSING otherwise).
REQUIRED = {"Contact": ("LastName",), "Lead": ("LastName", "Company")}
DATETIMES = {MEMBER.activity_date}
PREFIXES = {
    "Contact": "003",
    "Lead": "00Q",
    "Campaign": "701",
    "CampaignMemberStatus": "01Y",
    "CampaignMember": "00v",
}
ANN_ID, BOB_ID, LEAD_ID = "003000000000001", "003000000000002", "00Q000000000001"
STATUSES = (
    MemberStatus("Sent", is_default=True, sort_order=1),
    MemberStatus("Opened", has_responded=True, sort_order=2),
    MemberStatus("Clicked", has_responded=True, sort_order=3),
)
_QUOTED = r"'(?:[^'\\]|\\.)*'"
#: Request line plus headers: Salesforce answers HTTP 414 past it.
MAX_REQUEST_BYTES = 16_384
#: The longest SOQL statement accepted.
MAX_SOQL_CHARS = 100_000
#: The most rows of one query page.
MAX_PAGE = 2_000
#: One Bulk 2.0 upload (simple-salesforce's MAX_INGEST_JOB_FILE_SIZE).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
#: Bulk 2.0 ingest records per rolling 24 hours.
MAX_RECORDS_PER_DAY = 150_000_000
#: Bulk 2.0: characters in one field, and in one record.
MAX_FIELD_CHARS, MAX_RECORD_CHARS = 32_000, 400_000
#: A Text field's length (an external id is one).
MAX_TEXT = 255
#: The long text areas (up to 131,072 characters); every other written field is Text(255).
LONG_TEXT = {"CMSF_Data__c", "CMSF_Full_Key__c", "CMSF_Statistics__c"}
LOCKED = "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--"


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _unquote(text: str) -> str:
    """A SOQL string literal's value (its escapes: ``\\n``, ``\\'``, ``\\\\``, ...)."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text[1:-1], flags=re.DOTALL)


def _value(text: str) -> Any:
    text = text.strip()
    if text == "null":
        return None
    if text.startswith("'"):
        return _unquote(text)
    return text


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _true(value: object) -> bool:
    return str(value).lower() == "true"


Row = dict[str, Any]
Outcome = requests.Response | BaseException | Callable[[], requests.Response | None]


class FakeSalesforce(requests.Session):
    """An org held in memory, answering simple-salesforce's HTTP requests."""

    def __init__(self) -> None:
        super().__init__()
        self.page_size = MAX_PAGE
        self.echoed = ""
        self.max_request_bytes = 0
        self.max_soql_chars = 0
        self.max_external_id = 0
        self.ingested: list[tuple[float, int]] = []  # (when, records) per job
        self.echo_headers = False
        self.locked: dict[str, int] = {}  # object -> attempts of each record still refused
        self.lock_attempts: dict[tuple[str, str], int] = {}
        self.clock: Callable[[], float] = time.monotonic
        self.tables: dict[str, dict[str, Row]] = {}
        self.ids = itertools.count(1)
        self.jobs: dict[str, dict[str, Any]] = {}
        self.cursors: dict[str, list[Row]] = {}
        self.calls: list[tuple[str, str]] = []
        self.timeouts: list[object] = []
        #: (object, row) -> the refusal message, or None to accept the row.
        self.refuse: Callable[[str, Row], str | None] = lambda _obj, _row: None
        #: (method, path pattern, outcome): the next matching request gets the outcome (a
        #: response, an exception raised, or a callable run first; None from it goes on).
        self.faults: list[tuple[str, str, Outcome]] = []
        self.tokens = {SESSION_ID}
        self.refresh_tokens = {REFRESH_TOKEN}
        self.client_secret: str | None = CLIENT_SECRET
        self.rotate = False
        self.token_forms: list[dict[str, str]] = []
        self.require_responded = False

    def fail(self, method: str, pattern: str, outcome: Outcome, times: int = 1) -> None:
        """Answer the next ``times`` requests matching ``method`` and ``pattern`` so."""
        self.faults += [(method, pattern, outcome)] * times

    def lock_rows(self, obj: str, attempts: int) -> None:
        """Refuse each record written to ``obj`` with ``UNABLE_TO_LOCK_ROW`` for its first
        ``attempts`` tries (as rows another transaction holds)."""
        self.locked[obj] = attempts

    # -- limits --------------------------------------------------------------------------

    def request_bytes(self, method: str, url: str, params: Any, headers: Any) -> int:
        """The request line plus headers as ``requests`` would send them."""
        prepared = requests.Request(method, url, params=params).prepare()
        target = urlsplit(prepared.url or url)
        line = f"{method} {target.path}" + (f"?{target.query}" if target.query else "")
        sent = {**self.headers, **(headers or {}), "Host": target.netloc}
        head = "".join(f"{k}: {v}\r\n" for k, v in sent.items())
        return len(f"{line} HTTP/1.1\r\n".encode()) + len(head.encode()) + 2

    @staticmethod
    def header_text(headers: Any) -> str:
        return "; ".join(f"{k}: {v}" for k, v in (headers or {}).items())

    def error(self, status: int, code: str, message: str) -> requests.Response:
        """A REST error answer (echoing the request's headers when told to)."""
        if self.echo_headers:
            message = f"{message} (request headers: {self.echoed})"
        return _response(status, [{"message": message, "errorCode": code}])

    def error_text(self, status: int, text: str) -> requests.Response:
        """A plain-text error answer, as a front end gives for 414."""
        if self.echo_headers:
            text = f"{text}\n{self.echoed}"
        response = _response(status, None)
        response._content = text.encode()
        response.headers["Content-Type"] = "text/html"
        return response

    # -- HTTP ----------------------------------------------------------------------------

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        **kw: Any,
    ) -> requests.Response:
        self.calls.append((method, url))
        self.timeouts.append(kw.get("timeout"))
        assert url.startswith(INSTANCE), url  # never anywhere else
        path = urlsplit(url).path
        self.echoed = self.header_text(headers)
        size = self.request_bytes(method, url, params, headers)
        self.max_request_bytes = max(self.max_request_bytes, size)
        if size > MAX_REQUEST_BYTES:
            return self.error_text(414, "414 Request-URI Too Long")
        for n, (verb, pattern, outcome) in enumerate(self.faults):
            if verb == method and re.search(pattern, path):
                del self.faults[n]
                if isinstance(outcome, BaseException):
                    raise outcome
                answer = outcome if isinstance(outcome, requests.Response) else outcome()
                if answer is not None:
                    return answer
                break
        if path == "/services/oauth2/token" and method == "POST":
            return self.token(data)
        authorization = (headers or {}).get("Authorization", "")
        if authorization.removeprefix("Bearer ") not in self.tokens:
            return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if path.endswith("/query/"):
            return self.query(params["q"])
        if m := re.search(r"/query/(01g[\w-]+)$", path):
            return self.page(m[1])
        if path.endswith("/jobs/ingest") and method == "POST":
            return self.create_job(json.loads(data))
        if m := re.search(r"/jobs/ingest/(\w+)/batches$", path):
            upload = data if isinstance(data, bytes) else str(data).encode()
            if len(upload) > MAX_UPLOAD_BYTES:
                return self.error(400, "INVALIDJOBSTATE", "upload larger than 100 MB")
            self.jobs[m[1]]["csv"] = upload.decode()
            return _response(201, None)
        if m := re.search(r"/jobs/ingest/(\w+)/(failedResults|successfulResults)/?$", path):
            return _response(200, self.jobs[m[1]][m[2]], csv_body=True)
        if m := re.search(r"/jobs/ingest/(\w+)$", path):
            job = self.jobs[m[1]]
            if method == "PATCH":
                state = json.loads(data)["state"]
                if state == "UploadComplete" and job["state"] == "Open":
                    self.run_job(job)
                elif state == "Aborted":
                    job["state"] = "Aborted"
            return _response(200, {k: v for k, v in job.items() if k[0].islower() and k != "csv"})
        return self.error(404, "NOT_FOUND", "not found")

    # -- OAuth -----------------------------------------------------------------------------

    def token(self, data: Any) -> requests.Response:
        """The refresh token flow: a form POST answered with the access token."""
        form = dict(data) if isinstance(data, dict) else dict(parse_qsl(data or ""))
        self.token_forms.append(form)
        if form.get("grant_type") != "refresh_token":
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != CLIENT_ID:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if form.get("refresh_token") not in self.refresh_tokens:
            description = "expired access/refresh token"
            if self.echo_headers:
                description += f" (form: {sorted(form.items())})"
            return _oauth_error("invalid_grant", description)
        self.tokens.add(FRESH_TOKEN)
        issued_at = str(1714986000000 + len(self.token_forms))
        identity = "https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA"
        key = (self.client_secret or "").encode()
        digest = hmac.new(key, (identity + issued_at).encode(), hashlib.sha256).digest()
        body: Row = {
            "access_token": FRESH_TOKEN,
            "signature": base64.b64encode(digest).decode(),
            "scope": "api refresh_token",
            "instance_url": INSTANCE,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }
        if self.rotate:
            rotated = f"{REFRESH_TOKEN}-{len(self.token_forms)}"
            self.refresh_tokens = {rotated}
            body["refresh_token"] = rotated
        return _response(200, body)

    # -- SOQL ----------------------------------------------------------------------------

    def query(self, soql: str) -> requests.Response:
        self.max_soql_chars = max(self.max_soql_chars, len(soql))
        if len(soql) > MAX_SOQL_CHARS:
            return self.error(
                400, "MALFORMED_QUERY", "SOQL statements cannot be longer than 100000 characters"
            )
        m = re.fullmatch(r"SELECT (.+?) FROM (\w+)(?: WHERE (.+))?", soql.strip())
        assert m, soql
        fields = [f.strip() for f in m[1].split(",")]
        rows = list(self.tables.get(m[2], {}).values())
        for condition in re.split(r" AND ", m[3] or "") if m[3] else []:
            test = self.condition(condition)
            rows = [r for r in rows if test(r)]
        records = [
            {"attributes": {"type": m[2], "url": f"/sobjects/{m[2]}/{r['Id']}"}}
            | {f.split(".")[0]: self.field_value(r, f) for f in fields}
            for r in rows
        ]
        return self.paged(records)

    def field_value(self, row: Row, field: str) -> Any:
        """A field of a row, or a lookup's record (``wbsendit__Contact__r.Email``)."""
        if "." not in field:
            return _typed(field, row.get(field))
        relationship, name = field.split(".", 1)
        target = row.get(relationship[:-3] + "__c") if relationship.endswith("__r") else None
        for obj in ("Contact", "Lead"):
            found = self.tables.get(obj, {}).get(target or "")
            if found is not None:
                return {"attributes": {"type": obj}, name: _typed(name, found.get(name))}
        return None

    def paged(self, records: list[Row]) -> requests.Response:
        size = min(self.page_size, MAX_PAGE)
        first, rest = records[:size], records[size:]
        body: Row = {"totalSize": len(records), "done": not rest, "records": first}
        if rest:
            cursor = f"01gCUR-{next(self.ids)}"
            self.cursors[cursor] = rest
            body["nextRecordsUrl"] = f"/services/data/v59.0/query/{cursor}"
        return _response(200, body)

    def page(self, cursor: str) -> requests.Response:
        return self.paged(self.cursors.pop(cursor))

    @staticmethod
    def in_values(text: str) -> list[str]:
        """The values of a SOQL ``IN`` list's text, ``('a','b')``, unquoted, in order."""
        assert text.startswith("("), text
        assert text.endswith(")"), text
        return [_unquote(v) for v in re.findall(_QUOTED, text[1:-1])]

    @staticmethod
    def condition(condition: str) -> Callable[[Row], bool]:
        """A SOQL condition as a test of a row."""
        if m := re.fullmatch(rf"(\w+) IN \(((?:{_QUOTED},?)*)\)", condition.strip()):
            field = m[1]
            wanted = {_unquote(v).casefold() for v in re.findall(_QUOTED, m[2])}

            def within(row: Row) -> bool:
                value = row.get(field)
                if value is None:
                    return False
                text = str(value)  # an 18-character id also matches its 15-character form
                folded = text.casefold()
                return folded in wanted or (len(text) == 18 and folded[:15] in wanted)

            return within
        if m := re.fullmatch(r"(\w+) (!?=) (.+)", condition.strip()):
            field, negate, want = m[1], m[2] == "!=", _value(m[3])

            def equal(row: Row) -> bool:
                value = row.get(field)
                if want is None or value is None:
                    same = want is value
                else:
                    same = str(value).casefold() == str(want).casefold()
                return same != negate

            return equal
        if m := re.fullmatch(r"(\w+) < (\S+)", condition.strip()):
            field, bound = m[1], _when(m[2])
            return lambda row: row.get(field) is not None and _when(row[field]) < bound
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
        now = self.clock()
        today = sum(n for at, n in self.ingested if at > now - 86_400)
        if today + len(rows) > MAX_RECORDS_PER_DAY:
            job.update(state="Failed", errorMessage="EXCEEDED_QUOTA: 150,000,000 records a day")
            return
        self.ingested.append((now, len(rows)))
        key = job.get("externalIdFieldName")
        if key:
            job["index"] = {r.get(key): i for i, r in table.items() if r.get(key) is not None}
        failed: list[tuple[str, str, Row]] = []
        done: list[tuple[str, Row]] = []
        for row in rows:
            values = {k: (None if v == "#N/A" else v) for k, v in row.items()}
            reason = self.limits(job, values) or self.lock(job["object"], values)
            reason = reason or self.refuse(job["object"], values)
            sf_id = values.get("Id") or ""
            if reason is None:
                reason, sf_id = self.write(job, table, values)
            if reason is None:
                done.append((sf_id, row))
            else:
                failed.append((sf_id, reason, row))
        header = list(rows[0]) if rows else []
        job.pop("index", None)
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

    def limits(self, job: dict[str, Any], values: Row) -> str | None:
        """Why a record breaks a field or record limit (``STRING_TOO_LONG``), or None."""
        key = job.get("externalIdFieldName")
        for field, value in values.items():
            if value is None:
                continue
            if field == key or (field.endswith("Key__c") and field not in LONG_TEXT):
                self.max_external_id = max(self.max_external_id, len(value))
            limit = MAX_FIELD_CHARS if field in LONG_TEXT else MAX_TEXT
            if field != "Id" and len(value) > limit:
                return (
                    f"STRING_TOO_LONG:{field}: data value too large: {value[:20]}... "
                    f"(max length={limit}):{field} --"
                )
        if sum(len(v or "") for v in values.values()) > MAX_RECORD_CHARS:
            return "STRING_TOO_LONG:record larger than 400,000 characters:--"
        return None

    def lock(self, obj: str, values: Row) -> str | None:
        """``UNABLE_TO_LOCK_ROW`` for a record still locked (see :meth:`lock_rows`)."""
        attempts = self.locked.get(obj, 0)
        if not attempts:
            return None
        identity = (obj, json.dumps(values, sort_keys=True))
        tried = self.lock_attempts.get(identity, 0)
        self.lock_attempts[identity] = tried + 1
        return LOCKED if tried < attempts else None

    def write(
        self, job: dict[str, Any], table: dict[str, Row], values: Row
    ) -> tuple[str | None, str]:
        operation, obj = job["operation"], job["object"]
        if operation in {"update", "delete"}:
            sf_id = values["Id"]
            if sf_id not in table:
                return "ENTITY_IS_DELETED:entity is deleted:--", sf_id
            if operation == "update":
                return self.save(obj, table, sf_id, values)
            reason = self.delete_refusal(obj, table[sf_id])
            if reason is None:
                del table[sf_id]
            return reason, sf_id
        if operation == "upsert":
            index = job["index"]  # external ids are case-sensitive here
            if values[job["externalIdFieldName"]] in index:
                return self.save(obj, table, index[values[job["externalIdFieldName"]]], values)
            reason, sf_id = self.save(obj, table, None, values)
            if reason is None:
                index[values[job["externalIdFieldName"]]] = sf_id
            return reason, sf_id
        return self.save(obj, table, None, values)

    def save(
        self, obj: str, table: dict[str, Row], sf_id: str | None, values: Row
    ) -> tuple[str | None, str]:
        old = None if sf_id is None else table[sf_id]
        row = {**(old or {}), **values}
        reason = self.rules(obj, row, old, values)
        if reason is not None:
            return reason, sf_id or ""
        if sf_id is None:
            sf_id = row["Id"] = self.new_id(obj)
        table[sf_id] = row
        if obj == "Campaign" and old is None:  # Salesforce's own two statuses
            for status in AUTO_STATUSES:
                self.add_status(sf_id, status)
        if obj == "CampaignMemberStatus" and _true(row.get("IsDefault")):
            for other in self.statuses_of(row["CampaignId"]):
                if other["Id"] != sf_id:
                    other["IsDefault"] = "false"
        return None, sf_id

    def new_id(self, obj: str) -> str:
        return f"{PREFIXES.get(obj, 'a0X')}{next(self.ids):012d}"

    def statuses_of(self, campaign: str) -> list[Row]:
        rows = self.tables.get("CampaignMemberStatus", {}).values()
        return [r for r in rows if r["CampaignId"] == campaign]

    def members_of(self, campaign: str) -> list[Row]:
        rows = self.tables.get("CampaignMember", {}).values()
        return [r for r in rows if r["CampaignId"] == campaign]

    def rules(self, obj: str, row: Row, old: Row | None, values: Row) -> str | None:
        if obj == "Lead" and old is not None and _true(old.get("IsConverted")):
            return "CANNOT_UPDATE_CONVERTED_LEAD:cannot reference converted lead:--"
        if obj in REQUIRED and old is None:
            missing = [f for f in REQUIRED[obj] if not row.get(f)]
            if missing:
                return (
                    f"REQUIRED_FIELD_MISSING:Required fields are missing: [{', '.join(missing)}]:--"
                )
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            row.setdefault("LastModifiedDate", created)
            row.setdefault("HasOptedOutOfEmail", "false")
            if obj == "Lead":
                row.setdefault("IsConverted", "false")
        if obj == "CampaignMemberStatus":
            return self.status_rules(row, old)
        if obj == "CampaignMember":
            return self.member_rules(row, old, values)
        return None

    def status_rules(self, row: Row, old: Row | None) -> str | None:
        if row.get("CampaignId") not in self.tables.get("Campaign", {}):
            return "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"
        others = [r for r in self.statuses_of(row["CampaignId"]) if r["Id"] != row.get("Id")]
        for field in ("Label", "SortOrder"):
            for other in others:
                if str(other.get(field)) == str(row.get(field)):
                    return (
                        f"DUPLICATE_VALUE:duplicate value found: {field} duplicates value on "
                        f"record with id: {other['Id']}:--"
                    )
        unset = old is not None and _true(old.get("IsDefault")) and not _true(row.get("IsDefault"))
        if unset and not any(_true(o.get("IsDefault")) for o in others):
            return "FIELD_INTEGRITY_EXCEPTION:a campaign must have a default status:IsDefault --"
        responded = _true(row.get("HasResponded")) or any(
            _true(o.get("HasResponded")) for o in others
        )
        if self.require_responded and old is not None and not responded:
            return "FIELD_INTEGRITY_EXCEPTION:a campaign must have a responded status:--"
        return None

    def member_rules(self, row: Row, old: Row | None, values: Row) -> str | None:
        if old is not None:
            for field in ("CampaignId", "ContactId", "LeadId"):
                if field in values and values[field] != old.get(field):
                    return (
                        f"INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create/update fields: "
                        f"{field}:{field} --"
                    )
        elif row.get("CampaignId") not in self.tables.get("Campaign", {}):
            return "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:CampaignId --"
        if old is None and row.get("ContactId") and row.get("LeadId"):
            row["LeadId"] = None  # documented: only the ContactId is inserted
        if not (row.get("ContactId") or row.get("LeadId")):
            return "REQUIRED_FIELD_MISSING:Required fields are missing: [ContactId, LeadId]:--"
        lead = self.tables.get("Lead", {}).get(row.get("LeadId") or "")
        if lead is not None and _true(lead.get("IsConverted")):
            return "CANNOT_UPDATE_CONVERTED_LEAD:cannot reference converted lead:LeadId --"
        others = [r for r in self.members_of(row["CampaignId"]) if r["Id"] != row.get("Id")]
        for other in others:
            person = row.get("ContactId") or row.get("LeadId")
            if (other.get("ContactId") or other.get("LeadId")) == person:
                return "DUPLICATE_VALUE:Already a campaign member.:--"
        key = row.get(MEMBER.key)
        for other in self.tables.get("CampaignMember", {}).values():
            if key and other["Id"] != row.get("Id") and other.get(MEMBER.key) == key:
                return (
                    f"DUPLICATE_VALUE:duplicate value found: {MEMBER.key} duplicates value on "
                    f"record with id: {other['Id']}:--"
                )
        statuses = self.statuses_of(row["CampaignId"])
        if row.get("Status") is None and old is None:
            row["Status"] = next(s["Label"] for s in statuses if _true(s["IsDefault"]))
        if row.get("Status") not in {s["Label"] for s in statuses}:
            return (
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Status: bad value for restricted "
                f"picklist field: {row.get('Status')}:Status --"
            )
        return None

    def delete_refusal(self, obj: str, row: Row) -> str | None:
        if obj != "CampaignMemberStatus":
            return None
        if _true(row.get("IsDefault")):
            return "DELETE_FAILED:the default status of a campaign cannot be deleted:--"
        if any(m.get("Status") == row["Label"] for m in self.members_of(row["CampaignId"])):
            return "DELETE_FAILED:campaign members have this status:--"
        others = [r for r in self.statuses_of(row["CampaignId"]) if r["Id"] != row["Id"]]
        if self.require_responded and not any(_true(o["HasResponded"]) for o in others):
            return "FIELD_INTEGRITY_EXCEPTION:a campaign must have a responded status:--"
        return None

    # -- seeding -------------------------------------------------------------------------

    def add_status(self, campaign: str, status: MemberStatus) -> None:
        sf_id = self.new_id("CampaignMemberStatus")
        self.tables.setdefault("CampaignMemberStatus", {})[sf_id] = {
            "Id": sf_id,
            "CampaignId": campaign,
            "Label": status.label,
            "IsDefault": str(status.is_default).lower(),
            "HasResponded": str(status.has_responded).lower(),
            "SortOrder": str(status.sort_order),
        }

    def add_person(
        self,
        kind: PersonKind,
        person_id: str,
        email: str,
        modified: datetime,
        *,
        account_id: str | None = None,
        converted_to: str | None = None,
    ) -> None:
        """Seed a contact or lead; ``converted_to`` makes a lead converted into that
        contact (``IsConverted``, ``ConvertedContactId``)."""
        row = {
            "Id": person_id,
            "Email": email,
            "LastModifiedDate": modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "HasOptedOutOfEmail": "false",
        }
        if kind is PersonKind.CONTACT:
            row["AccountId"] = account_id
        else:
            row["IsConverted"] = "true" if converted_to else "false"
            row["ConvertedContactId"] = converted_to
        self.tables.setdefault(kind.value, {})[person_id] = row

    def table(self, obj: str) -> list[Row]:
        return list(self.tables.get(obj, {}).values())


def _typed(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in BOOLEANS:
        return str(value).lower() == "true"
    if field in NUMBERS:
        return int(value)
    if field in DECIMALS:
        return float(value)
    if field in DATETIMES:
        at = _when(value).astimezone(UTC)
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"
    return value


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _response(
    status: int, body: Any, *, csv_body: bool = False, headers: dict[str, str] | None = None
) -> requests.Response:
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
    response.headers.update(headers or {})
    return response


def _oauth_error(error: str, description: str) -> requests.Response:
    return _response(400, {"error": error, "error_description": description})


def _unavailable(retry_after: str | None = None) -> requests.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    body = [{"message": "Server temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
    return _response(503, body, headers=headers)


class Sleeps(list[float]):
    """An injected ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


# ----------------------------------------------------------------------------- a long workload

#: The member statuses of the workload's campaign.
SYNC_STATUSES = tuple(
    MemberStatus(
        label, is_default=n == 0, has_responded=label in {"Opened", "Clicked"}, sort_order=n + 1
    )
    for n, label in enumerate(
        ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")
    )
)
WORKLOAD_SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def long_email(n: int, length: int = 60) -> str:
    """The ``n``-th subscriber's email, ``length`` characters long."""
    local = f"subscriber.{n:06d}."
    return local + "x" * (length - len(local) - len("@example.com")) + "@example.com"


def long_url(n: int, length: int = 200) -> str:
    """A UTM-tagged click URL, ``length`` characters long."""
    url = (
        f"https://shop.example.com/spring/offer-{n % 7}?utm_source=newsletter"
        "&utm_medium=email&utm_campaign=spring&utm_content="
    )
    return url + "c" * (length - len(url))


def long_workload(fake: FakeSalesforce, crm: Any, recipients: int) -> tuple[Any, int]:
    """A platform with one campaign sent to ``recipients`` 60-character emails, each of whom
    opened it and clicked a 200-character URL, linked to a CRM campaign in ``crm``, with a
    contact for two recipients in three; and how many tracking records a sync stores."""
    platform = InMemoryPlatform()
    platform.add_client("client-1", "Northwind Newsletters", time_zone="UTC")
    platform.add_campaign("client-1", "cmp-1", "Spring offers", sent_at=WORKLOAD_SENT)
    for n in range(recipients):
        email = long_email(n)
        platform.add_event("cmp-1", ActivityType.SENT, email, WORKLOAD_SENT)
        opened = WORKLOAD_SENT + timedelta(minutes=5 + n % 300)
        platform.add_event("cmp-1", ActivityType.OPENED, email, opened)
        platform.add_event(
            "cmp-1", ActivityType.CLICKED, email, opened + timedelta(minutes=1), detail=long_url(n)
        )
        if n % 3:
            fake.add_person(PersonKind.CONTACT, f"003{n:012d}", email, WORKLOAD_SENT)
    campaign = CrmCampaign("701-spring", "Spring offers", SYNC_STATUSES)
    assert crm.create_campaigns([campaign], [CampaignLink("client-1", "cmp-1", "701-spring")]).ok
    return platform, 3 * recipients
