"""The Campaign Monitor adapter against a local fake of the API (127.0.0.1 only).

The fake answers the official client's requests with Campaign Monitor-shaped JSON: paging
envelopes, naive local dates in the client's time zone given as a display name, error
bodies ``{"Code": ..., "Message": ...}``, partial import failures under ``ResultData``.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote_plus, urlsplit
from zoneinfo import ZoneInfo

import attrs
import pytest

if "cmsf_core.testing" not in sys.modules:  # pytest's assert messages in the contracts
    pytest.register_assert_rewrite("cmsf_core.testing")

import createsend  # noqa: F401 - the [campaignmonitor] extra is part of the test install

from cmsf_core import Settings
from cmsf_core.adapters.campaign_monitor import CampaignMonitorPlatform, default_backoff
from cmsf_core.adapters.campaign_monitor import platform as cm_platform
from cmsf_core.adapters.cm_time_zones import STALE_OFFSETS, TIME_ZONES, UnmappableTimeZoneError
from cmsf_core.adapters.errors import (
    AuthenticationError,
    BadRequestError,
    ExpiredTokenError,
    NotFoundError,
    PlatformError,
    PlatformUnavailableError,
    RateLimitedError,
)
from cmsf_core.adapters.files import FilePlatform, zone_for_time_zone
from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.app.cli import main
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.connection import Credentials
from cmsf_core.domain.errors import CmsfError, InvalidValueError
from cmsf_core.domain.records import PlatformCampaign, PlatformClient, TrackingEvent
from cmsf_core.domain.sms import MissingDependencyError
from cmsf_core.domain.subscribers import (
    ImportRow,
    ImportStatus,
    ImportSubscribers,
    MarkDeleted,
    Person,
    SubscriberImport,
    SubscriberState,
    SuppressedEmail,
    Unsubscribe,
)
from cmsf_core.shell.subscriber_sync import add_to_list, handle_account_changes, run_import
from cmsf_core.shell.sync import run_sync
from cmsf_core.testing import (
    EmailPlatformContract,
    PlatformSeed,
    SeedMembership,
    standard_seed,
)
from cmsf_core.testing.strategies import seeded_platform

API_KEY = "cm-PLANTED-secret-key-9f3a"
DISPLAY_NAMES = {
    "Europe/London": "(GMT) Dublin, Edinburgh, Lisbon, London",
    "Australia/Sydney": "(GMT+10:00) Canberra, Melbourne, Sydney",
    "UTC": "(GMT) Coordinated Universal Time",
}
STREAM_ENDPOINTS = {
    ActivityType.SENT: "recipients",
    ActivityType.OPENED: "opens",
    ActivityType.CLICKED: "clicks",
    ActivityType.BOUNCED: "bounces",
    ActivityType.UNSUBSCRIBED: "unsubscribes",
    ActivityType.SPAM_COMPLAINT: "spam",
}
LIST_STATES = {
    "active": SubscriberState.ACTIVE,
    "unconfirmed": SubscriberState.UNCONFIRMED,
    "unsubscribed": SubscriberState.UNSUBSCRIBED,
    "bounced": SubscriberState.BOUNCED,
    "deleted": SubscriberState.DELETED,
}
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
#: The example export of the file platform, and its two clients.
EXPORT = Path(__file__).parents[1] / "data" / "platform"
BOOKS = "3f9d2c1a7b6e4d508a1c2e3f4b5a6978"
CYCLES = "8e7d6c5b4a39281706f5e4d3c2b1a098"
NOW_LOCAL = "2024-06-01 12:00:00"


def _local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


@attrs.define
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@attrs.define
class Failure:
    path: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = attrs.Factory(dict)
    delay: float = 0.0
    #: Echo the request's headers and body in the error's Message (a careless server).
    echo: bool = False


@attrs.define
class OAuthGrant:
    """The OAuth tokens the fake holds for its one authorised application."""

    access: str
    refresh: str
    expired: bool = False
    issued: int = 0


class FakeCampaignMonitor:
    """A Campaign Monitor API v3.3 account served from memory over HTTP."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.failures: list[Failure] = []
        self.authorization = "Basic " + base64.b64encode(f"{API_KEY}:x".encode()).decode()
        self.refused_imports: set[str] = set()
        #: The field list-state rows give their state-change date in: "StateChangedDate" in
        #: the current API (createsend's own fixtures), "Date" in older answers.
        self.state_date = "StateChangedDate"
        #: (list id, casefolded email) -> MobileNumber, ConsentToTrack, ConsentToSendSms held
        self.sms: dict[tuple[str, str], dict[str, str]] = {}
        #: With a grant, requests authenticate with its Bearer access token instead.
        self.oauth: OAuthGrant | None = None
        self.load(PlatformSeed())
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload, headers, delay = fake.handle(
                    self.command, self.path, dict(self.headers), body
                )
                if delay:
                    time.sleep(delay)
                data = json.dumps(payload).encode() if payload is not None else b""
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test)
                    pass

            do_GET = do_POST = do_DELETE = do_PUT = _serve  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_uri = f"http://127.0.0.1:{self.server.server_address[1]}/api/v3.3"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- state ---------------------------------------------------------------------------

    def load(self, seed: PlatformSeed) -> None:
        with self.lock:
            self.oauth = None
            self.requests.clear()
            self.failures.clear()
            self.refused_imports.clear()
            self.sms.clear()
            self.clients = {
                c.client_id: {"Name": c.name, "zone": c.time_zone} for c in seed.clients
            }
            self.time_zones = {c.client_id: DISPLAY_NAMES[c.time_zone] for c in seed.clients}
            self.campaigns: dict[str, dict[str, Any]] = {}
            for c in seed.campaigns:
                zone = self.clients[c.client_id]["zone"]
                self.campaigns[c.campaign_id] = {
                    "client": c.client_id,
                    "CampaignID": c.campaign_id,
                    "Name": c.name,
                    "Subject": c.subject,
                    "SentDate": _local(c.sent_at, zone),
                    "Tags": sorted(c.tags),
                    "TotalRecipients": 0,
                }
            self.events: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for campaign_id, e in seed.events:
                zone = self.clients[self.campaigns[campaign_id]["client"]]["zone"]
                row: dict[str, Any] = {"EmailAddress": e.email}
                if e.list_id is not None:
                    row["ListID"] = e.list_id
                if e.type is not ActivityType.SENT:
                    row["Date"] = _local(e.occurred_at, zone)
                    row["IPAddress"] = "192.0.2.1"
                if e.type is ActivityType.BOUNCED:
                    row["BounceType"] = e.detail
                    row["Reason"] = "Soft Bounce - Mailbox Full"
                elif e.detail is not None:  # a click's URL (the contract puts one anywhere)
                    row["URL"] = e.detail
                key = (campaign_id, STREAM_ENDPOINTS[e.type])
                self.events.setdefault(key, []).append(row)
            self.summaries = dict(seed.summaries)
            self.lists: dict[str, dict[str, Any]] = {}
            for m in seed.memberships:
                zone = self.clients[m.client_id]["zone"]
                entry = self.lists.setdefault(
                    m.list_id, {"client": m.client_id, "Name": f"List {m.list_id}", "members": {}}
                )
                entry["members"][m.email.casefold()] = {
                    "EmailAddress": m.email,
                    "State": m.state.value,
                    self.state_date: _local(m.changed_at, zone),
                    "ListJoinedDate": _local(m.changed_at, zone),
                }
            self.suppressed: dict[str, list[dict[str, Any]]] = {}
            for client_id, s in seed.suppressed:
                self.suppressed.setdefault(client_id, []).append(
                    {
                        "EmailAddress": s.email,
                        "SuppressionReason": s.reason,
                        "Date": _local(s.suppressed_at, self.clients[client_id]["zone"]),
                        "State": "Suppressed",
                    }
                )

    def fail(self, path: str, status: int, body: dict[str, Any], **kw: Any) -> None:
        """Answer the next request whose path contains ``path`` with this failure."""
        self.failures.append(Failure(path, status, body, **kw))

    # -- HTTP ----------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str], float]:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self.lock:
            self.requests.append(Recorded(method, parts.path, query, headers, body))
            for failure in self.failures:
                if failure.path in parts.path:
                    self.failures.remove(failure)
                    payload = failure.body
                    if failure.echo:
                        echoed = f"you sent {headers!r} with {body.decode()!r}"
                        payload = {**failure.body, "Message": echoed}
                    return failure.status, payload, failure.headers, failure.delay
            if parts.path == "/oauth/token":
                return (*self.token(method, headers, body), {}, 0.0)
            if self.oauth is not None:
                refused = self.bearer_refused(headers.get("Authorization", ""))
                if refused is not None:
                    return 401, refused, {}, 0.0
            elif headers.get("Authorization") != self.authorization:
                return (
                    401,
                    {"Code": 50, "Message": "Must supply a valid HTTP Basic Authorization header"},
                    {},
                    0.0,
                )
            status, payload = self.route(method, parts.path.removeprefix("/api/v3.3"), query, body)
            return status, payload, {}, 0.0

    def bearer_refused(self, authorization: str) -> dict[str, Any] | None:
        """Why a Bearer header is refused (an expired or unknown token), or None."""
        assert self.oauth is not None
        if authorization != f"Bearer {self.oauth.access}":
            return {"Code": 120, "Message": "Invalid OAuth Token"}
        if self.oauth.expired:
            return {"Code": 121, "Message": "Expired OAuth Token"}
        return None

    def token(self, method: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        """``POST /oauth/token``: the refresh grant, rotating both tokens."""
        form = parse_qs(body.decode())
        if (
            method != "POST"
            or headers.get("Content-Type") != "application/x-www-form-urlencoded"
            or form.get("grant_type") != ["refresh_token"]
        ):
            return 400, {"error": "unsupported_grant_type", "error_description": "bad grant"}
        if self.oauth is None or form.get("refresh_token") != [self.oauth.refresh]:
            return 400, {
                "error": "invalid_grant",
                "error_description": "Specified refresh_token was invalid or expired",
            }
        self.oauth.issued += 1
        n = self.oauth.issued
        self.oauth = OAuthGrant(f"access+PLANTED/{n}==", f"refresh+PLANTED/{n}==", issued=n)
        return 200, {
            "access_token": self.oauth.access,
            "expires_in": 1209600,
            "refresh_token": self.oauth.refresh,
        }

    def route(
        self, method: str, path: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, Any]:
        q = {k: v[0] for k, v in query.items()}
        if method == "GET" and path == "/clients.json":
            return 200, [{"ClientID": cid, "Name": c["Name"]} for cid, c in self.clients.items()]
        if m := re.fullmatch(r"/clients/([^/]+)\.json", path):
            if m[1] not in self.clients:
                return 400, {"Code": 102, "Message": "Invalid ClientID"}
            return 200, {
                "ApiKey": "client-api-key",
                "BasicDetails": {
                    "ClientID": m[1],
                    "CompanyName": self.clients[m[1]]["Name"],
                    "Country": "Australia",
                    "TimeZone": self.time_zones[m[1]],
                },
            }
        if m := re.fullmatch(r"/clients/([^/]+)/(\w+)\.json", path):
            return self.client_route(m[1], m[2], q)
        if m := re.fullmatch(r"/campaigns/([^/]+)/(\w+)\.json", path):
            return self.campaign_route(m[1], m[2], q)
        if m := re.fullmatch(r"/lists/([^/]+)/customfields\.json", path):
            return self.custom_field_route(method, m[1], body)
        if m := re.fullmatch(r"/lists/([^/]+)/(\w+)\.json", path):
            entry = self.lists.get(m[1])
            if entry is None:
                return 400, {"Code": 101, "Message": "Invalid ListID"}
            rows = [
                {
                    **{k: v for k, v in r.items() if k not in ("Name", "CustomFields")},
                    "Name": r.get("Name", ""),
                    "CustomFields": r.get("CustomFields", []),
                    "ReadsEmailWith": "",
                }
                for r in entry["members"].values()
                if r["State"] == LIST_STATES[m[2]].value
                and (not q.get("date") or _naive(r[self.state_date]) >= _naive(q["date"]))
            ]
            return 200, _envelope(rows, q, "email")
        if m := re.fullmatch(r"/subscribers/([^/]+)(/\w+)?\.json", path):
            return self.subscriber_route(method, m[1], m[2], q, body)
        return 404, {"Code": 404, "Message": "Not found"}

    def client_route(self, client_id: str, action: str, q: dict[str, str]) -> tuple[int, Any]:
        if client_id not in self.clients:
            return 400, {"Code": 102, "Message": "Invalid ClientID"}
        if action == "campaigns":
            rows = [
                {k: v for k, v in c.items() if k != "client"}
                for c in self.campaigns.values()
                if c["client"] == client_id
                and (not q.get("sentfromdate") or c["SentDate"][:10] >= q["sentfromdate"])
                and (not q.get("tags") or set(q["tags"].split(",")) & set(c["Tags"]))
            ]
            rows.sort(key=lambda r: r["SentDate"], reverse=q.get("orderdirection") == "desc")
            return 200, _envelope(rows, q, "SentDate")
        if action == "lists":
            return 200, [
                {"ListID": lid, "Name": e["Name"]}
                for lid, e in self.lists.items()
                if e["client"] == client_id
            ]
        if action == "listsforemail":
            wanted = q["email"].casefold()
            return 200, [
                {
                    "ListID": lid,
                    "ListName": e["Name"],
                    "SubscriberState": e["members"][wanted]["State"],
                    "DateSubscriberAdded": e["members"][wanted]["ListJoinedDate"],
                }
                for lid, e in self.lists.items()
                if e["client"] == client_id and wanted in e["members"]
            ]
        if action == "suppressionlist":
            return 200, _envelope(list(self.suppressed.get(client_id, [])), q, "date")
        return 404, {"Code": 404, "Message": "Not found"}

    def campaign_route(self, campaign_id: str, action: str, q: dict[str, str]) -> tuple[int, Any]:
        if campaign_id not in self.campaigns:
            return 400, {"Code": 301, "Message": "Invalid CampaignID"}
        if action == "summary":
            summary = self.summaries.get(campaign_id)
            if summary is None:
                return 200, {"Recipients": 0, "TotalOpened": 0, "Clicks": 0}
            return 200, {
                "WebVersionURL": "https://example.com/web",
                **{api: getattr(summary, ours) for ours, api in summary.API_FIELDS},
            }
        rows = list(self.events.get((campaign_id, action), []))
        if action != "recipients" and q.get("date"):
            rows = [r for r in rows if _naive(r["Date"]) >= _naive(q["date"])]
        if q.get("orderfield") == "date":
            rows.sort(key=lambda r: _naive(r["Date"]), reverse=q.get("orderdirection") == "desc")
        return 200, _envelope(rows, q, q.get("orderfield", "date"))

    def custom_field_route(self, method: str, list_id: str, body: bytes) -> tuple[int, Any]:
        return _custom_field_route(self, method, list_id, body)

    def subscriber_route(
        self, method: str, list_id: str, action: str | None, q: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        entry = self.lists.get(list_id)
        if entry is None:
            return 400, {"Code": 101, "Message": "Invalid ListID"}
        members = entry["members"]
        if method == "POST" and action == "/unsubscribe":
            key = json.loads(body)["EmailAddress"].casefold()
            if key not in members:
                return 400, {"Code": 203, "Message": "Subscriber not in list"}
            members[key].update({"State": "Unsubscribed", self.state_date: NOW_LOCAL})
            return 200, None
        if method == "DELETE" and action is None:
            key = q["email"].casefold()
            if key not in members:
                return 400, {"Code": 203, "Message": "Subscriber not in list"}
            members[key].update({"State": "Deleted", self.state_date: NOW_LOCAL})
            return 200, None
        if method == "POST" and action == "/import":
            request = json.loads(body)
            existing, failures = 0, []
            for row in request["Subscribers"]:
                key = row["EmailAddress"].casefold()
                if key in self.refused_imports:
                    failures.append(
                        {
                            "EmailAddress": row["EmailAddress"],
                            "Code": 1,
                            "Message": "Invalid Email Address",
                        }
                    )
                    continue
                if key not in members:
                    members[key] = {
                        "EmailAddress": row["EmailAddress"],
                        "State": "Active",
                        self.state_date: NOW_LOCAL,
                        "ListJoinedDate": NOW_LOCAL,
                    }
                else:
                    existing += 1
                    if request["Resubscribe"] and members[key]["State"] != "Active":
                        members[key].update({"State": "Active", self.state_date: NOW_LOCAL})
                # Name and the values of the list's own fields (unknown keys are ignored);
                # a key sent again replaces every value it held.
                keys = {f["Key"] for f in entry.get("fields", [])}
                if row.get("Name"):
                    members[key]["Name"] = row["Name"]
                sent = [f for f in row.get("CustomFields", []) if f["Key"] in keys]
                kept = [
                    f
                    for f in members[key].get("CustomFields", [])
                    if f["Key"] not in {g["Key"] for g in sent}
                ]
                members[key]["CustomFields"] = kept + sent
                # What the platform holds for SMS: a field left out (or Unchanged) keeps it.
                held = self.sms.setdefault((list_id, key), {})
                for field in ("MobileNumber", "ConsentToTrack", "ConsentToSendSms"):
                    if row.get(field) not in (None, "Unchanged"):
                        held[field] = row[field]
            total = len(request["Subscribers"])
            result = {
                "FailureDetails": failures,
                "TotalUniqueEmailsSubmitted": total,
                "TotalExistingSubscribers": existing,
                "TotalNewSubscribers": total - existing - len(failures),
                "DuplicateEmailsInSubmission": [],
            }
            if failures:
                return 400, {
                    "Code": 210,
                    "Message": "Subscriber Import had some failures",
                    "ResultData": result,
                }
            return 201, result
        return 404, {"Code": 404, "Message": "Not found"}


def _custom_field_route(
    fake: FakeCampaignMonitor, method: str, list_id: str, body: bytes
) -> tuple[int, Any]:
    entry = fake.lists.get(list_id)
    if entry is None:
        return 400, {"Code": 101, "Message": "Invalid ListID"}
    fields = entry.setdefault("fields", [])
    if method == "GET":
        return 200, fields
    request = json.loads(body)
    name = request["FieldName"]
    key = "[" + re.sub(r"[^0-9A-Za-z]", "", name) + "]"
    if any(f["Key"].casefold() == key.casefold() for f in fields):
        return 400, {"Code": 255, "Message": "Field name already exists"}
    if request["DataType"] not in CUSTOM_FIELD_TYPES:
        return 400, {"Code": 251, "Message": "Invalid Field Type"}
    fields.append(
        {
            "FieldName": name,
            "Key": key,
            "DataType": request["DataType"],
            "FieldOptions": list(request.get("Options") or []),
            "VisibleInPreferenceCenter": request.get("VisibleInPreferenceCenter", True),
        }
    )
    return 201, key


CUSTOM_FIELD_TYPES = (
    "Text",
    "Number",
    "MultiSelectOne",
    "MultiSelectMany",
    "Date",
    "Country",
    "USState",
)


def _naive(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _envelope(rows: list[dict[str, Any]], q: dict[str, str], ordered_by: str) -> dict[str, Any]:
    page, size = int(q.get("page", 1)), int(q.get("pagesize", 1000))
    chunk = rows[(page - 1) * size : page * size]
    return {
        "Results": chunk,
        "ResultsOrderedBy": ordered_by,
        "OrderDirection": q.get("orderdirection", "asc"),
        "PageNumber": page,
        "PageSize": size,
        "RecordsOnThisPage": len(chunk),
        "TotalNumberOfRecords": len(rows),
        "NumberOfPages": math.ceil(len(rows) / size),
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCampaignMonitor]:
    server = FakeCampaignMonitor()
    yield server
    server.close()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _platform(fake: FakeCampaignMonitor, **kw: Any) -> CampaignMonitorPlatform:
    options: dict[str, Any] = {"timeout": 5, "retries": 0, "base_uri": fake.base_uri}
    options.update(kw)
    return CampaignMonitorPlatform(Credentials.api_key(API_KEY), **options)


# ----------------------------------------------------------------------------- the contract


class TestCampaignMonitorContract(EmailPlatformContract):
    """The adapter keeps the EmailPlatform contract through the real client and HTTP."""

    property_examples: ClassVar[int | None] = 30

    @pytest.fixture(autouse=True)
    def _use_fake(self, fake: FakeCampaignMonitor) -> None:
        self.fake = fake

    def make_platform(self, seed: PlatformSeed) -> CampaignMonitorPlatform:
        self.fake.load(seed)
        return _platform(self.fake)


# ----------------------------------------------------------------------------- time


def _seed_one(zone: str = "Europe/London") -> PlatformSeed:
    return PlatformSeed(
        clients=[PlatformClient("c1", "Acme", zone)],
        campaigns=[PlatformCampaign("c1", "cmp1", "Spring", T0, frozenset({"news"}))],
    )


def test_since_is_sent_as_local_wall_time_rounded_up_to_the_minute(
    fake: FakeCampaignMonitor,
) -> None:
    fake.load(standard_seed())
    platform = _platform(fake)
    since = T0 + timedelta(minutes=31, seconds=20)  # 09:31:20 UTC = 10:31:20 BST

    platform.tracking_page("cmp-contract-1", ActivityType.OPENED, since=since, page=1, page_size=5)

    (request,) = [r for r in fake.requests if r.path.endswith("/opens.json")]
    assert request.query["date"] == ["2024-05-06 10:32"]
    assert request.query["orderfield"] == ["date"]
    assert request.query["orderdirection"] == ["asc"]


@pytest.mark.parametrize(
    ("local", "expected_utc"),
    [
        ("2024-03-31 00:30:00", datetime(2024, 3, 31, 0, 30, tzinfo=UTC)),  # plain GMT
        ("2024-03-31 01:30:00", datetime(2024, 3, 31, 1, 30, tzinfo=UTC)),  # gap: +1 h later
        ("2024-10-27 01:30:00", datetime(2024, 10, 27, 0, 30, tzinfo=UTC)),  # fold: first
        ("2024-10-27 02:30:00", datetime(2024, 10, 27, 2, 30, tzinfo=UTC)),  # after the fold
    ],
)
def test_naive_local_dates_are_localised_with_the_dst_policy(
    fake: FakeCampaignMonitor, local: str, expected_utc: datetime
) -> None:
    fake.load(_seed_one())
    fake.events[("cmp1", "opens")] = [{"EmailAddress": "ann@example.com", "Date": local}]

    page = _platform(fake).tracking_page(
        "cmp1", ActivityType.OPENED, since=None, page=1, page_size=10
    )

    assert [e.occurred_at for e in page.results] == [expected_utc]
    assert page.results[0].occurred_at.tzinfo is UTC


def test_time_zone_display_names_map_to_iana_zones(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())
    fake.clients["c9"] = {"Name": "Utc Co", "zone": "UTC"}
    fake.time_zones["c9"] = "(GMT) Coordinated Universal Time"

    zones = {c.client_id: c.time_zone for c in _platform(fake).clients()}

    assert zones == {
        "client-contract-1": "Europe/London",
        "client-contract-2": "Australia/Sydney",
        "c9": "UTC",
    }


def test_an_unmappable_time_zone_fails_that_client_only_and_can_be_given(
    fake: FakeCampaignMonitor,
) -> None:
    """clients() lists the client with the platform's name; reading it names the option."""
    fake.load(_seed_one())
    fake.time_zones["c1"] = "(GMT+05:00) Nowhere Land"

    platform = _platform(fake)
    assert [c.time_zone for c in platform.clients()] == ["(GMT+05:00) Nowhere Land"]
    with pytest.raises(UnmappableTimeZoneError, match=r"--time-zone c1=Area/City") as caught:
        platform.sent_campaigns("c1")
    assert (caught.value.client_id, caught.value.time_zone) == ("c1", "(GMT+05:00) Nowhere Land")
    assert "time_zones=" not in str(caught.value)
    clients = _platform(fake, time_zones={"c1": "Asia/Karachi"}).clients()
    assert [c.time_zone for c in clients] == ["Asia/Karachi"]


def test_a_time_zone_override_must_be_an_iana_zone() -> None:
    """time_zones={'c1': 'Nowhere/City'} is refused at construction, naming the client."""
    with pytest.raises(InvalidValueError, match=r"time_zones\['c1'\]"):
        CampaignMonitorPlatform(Credentials.api_key(API_KEY), time_zones={"c1": "Nowhere/City"})


# ----------------------------------------------------------------------------- the zone table

#: Campaign Monitor's own list of time-zone names (see tests/data/campaign_monitor/README.md).
PLATFORM_ZONE_NAMES: list[str] = json.loads(
    (Path(__file__).parents[1] / "data" / "campaign_monitor" / "timezones.json").read_text()
)
#: The standard offsets are read on these fixed dates (no clock in tests): mid-winter and
#: mid-summer of a recent year, so that a zone on DST on one of them is seen off it on the
#: other.
OFFSET_DATES = (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC))
#: The names whose stated offset is history; each has its reason in STALE_OFFSETS.
KNOWN_STALE = {
    "(GMT) Casablanca",
    "(GMT+02:00) Amman",
    "(GMT+02:00) Damascus",
    "(GMT+02:00) Minsk",
    "(GMT+06:00) Astana",
    "(GMT+06:00) Novosibirsk",
    "(GMT-03:00) Greenland",
    "(GMT-04:00) Asuncion",
    "(GMT-04:30) Caracas",
    "(GMT-11:00) Samoa",
}


def _stated_offset(name: str) -> timedelta:
    match = re.match(r"\(GMT(?:([+-])(\d\d):(\d\d))?\)", name)
    assert match is not None, name
    offset = timedelta(hours=int(match[2] or 0), minutes=int(match[3] or 0))
    return -offset if match[1] == "-" else offset


def _standard_offsets(zone: str) -> set[timedelta]:
    offsets = set()
    for day in OFFSET_DATES:
        local = day.astimezone(ZoneInfo(zone))
        offset, dst = local.utcoffset(), local.dst()
        assert offset is not None
        assert dst is not None
        offsets.add(offset - dst)
    return offsets


def test_the_table_holds_exactly_the_platforms_time_zone_names() -> None:
    """Every name of createsend's timezones.json is in the table, and nothing else."""
    assert len(PLATFORM_ZONE_NAMES) == 97
    assert set(TIME_ZONES) == set(PLATFORM_ZONE_NAMES)


@pytest.mark.parametrize("name", PLATFORM_ZONE_NAMES)
def test_every_platform_time_zone_name_maps_to_a_zone_with_its_stated_standard_offset(
    name: str,
) -> None:
    """Both adapters map the name to its table zone, whose standard offset now is the stated
    one, unless the name is a known stale one (then it differs, for the reason given)."""
    zone = zone_for_time_zone(name)

    assert zone == TIME_ZONES[name]
    assert zone_for_time_zone(f"  {name.upper()} ") == zone  # spacing and case ignored
    offsets = _standard_offsets(zone)
    assert len(offsets) == 1  # one standard offset all year
    if name in KNOWN_STALE:
        assert offsets != {_stated_offset(name)}
        assert STALE_OFFSETS[name]
    else:
        assert offsets == {_stated_offset(name)}


def test_the_stale_offsets_are_exactly_the_known_historical_ones() -> None:
    """Every stale name has a reason, and the issue's five are among them."""
    assert set(STALE_OFFSETS) == KNOWN_STALE
    assert {"(GMT+02:00) Amman", "(GMT-04:30) Caracas", "(GMT+02:00) Minsk"} <= KNOWN_STALE
    assert {"(GMT+02:00) Damascus", "(GMT+06:00) Novosibirsk"} <= KNOWN_STALE


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("(GMT+03:00) Moscow, St. Petersburg, Volgograd", "Europe/Moscow"),
        ("(GMT) Coordinated Universal Time", "UTC"),
        ("(GMT+12:00) Coordinated Universal Time+12", "Etc/GMT-12"),
        ("(GMT-02:00) Coordinated Universal Time-02", "Etc/GMT+2"),
        ("(GMT-11:00) Coordinated Universal Time-11", "Etc/GMT+11"),
        ("(GMT-12:00) International Date Line West", "Etc/GMT+12"),
        ("(GMT-03:00) Brasilia", "America/Sao_Paulo"),
        ("(GMT-05:00) Indiana (East)", "America/Indiana/Indianapolis"),
    ],
)
def test_names_the_place_matching_got_wrong_or_missed_map_to_the_right_zone(
    name: str, zone: str
) -> None:
    """Moscow is Europe/Moscow (not Volgograd); UTC+-NN is Etc/GMT with the sign inverted."""
    assert zone_for_time_zone(name) == zone


def test_every_platform_time_zone_name_is_read_by_the_api_and_the_file_adapter(
    fake: FakeCampaignMonitor, tmp_path: Path
) -> None:
    """A client in each of the 97 zones gets its table zone from either adapter."""
    fake.load(PlatformSeed())
    folder = tmp_path / "platform"
    clients = []
    for n, name in enumerate(PLATFORM_ZONE_NAMES):
        client_id = f"c{n:03d}"
        fake.clients[client_id] = {"Name": f"Client {n}", "zone": "UTC"}
        fake.time_zones[client_id] = name
        clients.append({"ClientID": client_id, "Name": f"Client {n}"})
        details = folder / "clients" / client_id / "details.json"
        details.parent.mkdir(parents=True)
        details.write_text(json.dumps({"BasicDetails": {"ClientID": client_id, "TimeZone": name}}))
    (folder / "clients.json").write_text(json.dumps(clients))
    expected = {f"c{n:03d}": TIME_ZONES[name] for n, name in enumerate(PLATFORM_ZONE_NAMES)}

    over_api = {c.client_id: c.time_zone for c in _platform(fake).clients()}
    from_files = {c.client_id: c.time_zone for c in FilePlatform(folder).clients()}

    assert over_api == expected
    assert from_files == expected


# ----------------------------------------------------------------------------- isolation


def test_a_client_with_an_unmappable_zone_is_skipped_and_reported_over_the_api(
    fake: FakeCampaignMonitor,
) -> None:
    """Two clients, one with a zone no IANA zone fits: the other syncs, the first is a
    maintenance message naming the client, the zone and --time-zone."""
    fake.load(standard_seed())
    fake.time_zones["client-contract-2"] = "(GMT+05:00) Nowhere Land"
    crm = _crm()
    as_of = T0 + timedelta(days=1)

    report = run_sync(crm, _platform(fake), Settings(), as_of=as_of)

    assert crm.record_count() > 0
    assert crm.checkpoint("client-contract-1").watermark is not None
    assert crm.checkpoint("client-contract-2").watermark is None
    (message,) = report.skipped_clients
    assert message.code == "SYNC-CLIENT-TIME-ZONE"
    assert message.record == "client client-contract-2"
    assert "(GMT+05:00) Nowhere Land" in message.guidance
    assert "--time-zone client-contract-2=Area/City" in message.guidance
    assert message in crm.messages()
    assert not report.ok
    assert "skipped client client-contract-2" in report.summary()


def test_a_client_with_an_unmappable_zone_is_skipped_and_reported_from_files(
    tmp_path: Path,
) -> None:
    """The same isolation over the file platform: Thames Cycles syncs, Harbour Books is
    reported; a dry run reports it and writes nothing."""
    folder = tmp_path / "platform"
    shutil.copytree(EXPORT, folder)
    details = folder / "clients" / BOOKS / "details.json"
    data = json.loads(details.read_text())
    data["BasicDetails"]["TimeZone"] = "(GMT+03:00) Atlantis"
    details.write_text(json.dumps(data))
    crm = InMemoryCrm()
    as_of = datetime(2030, 1, 1, tzinfo=UTC)

    dry = run_sync(crm, FilePlatform(folder), Settings(), as_of=as_of, dry_run=True)
    assert [m.record for m in dry.skipped_clients] == [f"client {BOOKS}"]
    assert list(crm.messages()) == []
    report = run_sync(crm, FilePlatform(folder), Settings(), as_of=as_of)

    (message,) = report.skipped_clients
    assert message.code == "SYNC-CLIENT-TIME-ZONE"
    assert "(GMT+03:00) Atlantis" in message.guidance
    assert f"--time-zone {BOOKS}=Area/City" in message.guidance
    assert str(details) in message.guidance
    assert crm.checkpoint(CYCLES).watermark is not None
    assert crm.checkpoint(BOOKS).watermark is None
    assert list(crm.messages()) == [message]


# ----------------------------------------------------------------------------- campaigns


def test_sent_campaigns_pass_the_date_and_tag_filters(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())
    platform = _platform(fake)

    tagged = platform.sent_campaigns("client-contract-1", tags={"spring"})
    later = platform.sent_campaigns("client-contract-1", sent_from=date(2024, 5, 7))

    assert [c.name for c in tagged] == ["Spring"]
    assert [c.name for c in later] == ["Summer"]
    queries = [r.query for r in fake.requests if r.path.endswith("/campaigns.json")]
    assert queries[0]["tags"] == ["spring"]
    assert queries[1]["sentfromdate"] == ["2024-05-07"]


def test_sent_campaigns_read_every_page(
    fake: FakeCampaignMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = PlatformSeed(
        clients=[PlatformClient("c1", "Acme")],
        campaigns=[
            PlatformCampaign("c1", f"cmp{n}", f"Campaign {n}", T0 + timedelta(hours=n))
            for n in range(5)
        ],
    )
    fake.load(seed)
    platform = _platform(fake)

    monkeypatch.setattr(cm_platform, "PAGE_SIZE_LIMIT", 2)
    served = platform.sent_campaigns("c1")

    assert [c.campaign_id for c in served] == [f"cmp{n}" for n in range(5)]
    pages = [r.query["page"] for r in fake.requests if r.path.endswith("/campaigns.json")]
    assert pages == [["1"], ["2"], ["3"]]


# ----------------------------------------------------------------------------- commands


def test_commands_are_sent_as_the_client_sends_them(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())
    platform = _platform(fake)
    rows = (SubscriberImport("new@example.com", "New"),)

    platform.execute(
        "client-contract-1",
        [
            Unsubscribe("list-1", "ann@example.com"),
            MarkDeleted("list-2", "carol@example.com"),
            ImportSubscribers("list-1", rows, True, True, False),
        ],
    )

    sent = [(r.method, r.path.split("/api/v3.3")[1]) for r in fake.requests]
    assert sent[-3:] == [
        ("POST", "/subscribers/list-1/unsubscribe.json"),
        ("DELETE", "/subscribers/list-2.json"),
        ("POST", "/subscribers/list-1/import.json"),
    ]
    unsubscribe, delete, imported = fake.requests[-3:]
    assert json.loads(unsubscribe.body) == {"EmailAddress": "ann@example.com"}
    assert delete.query == {"email": ["carol@example.com"]}
    body = json.loads(imported.body)
    assert body["Resubscribe"] is True
    assert body["QueueSubscriptionBasedAutoresponders"] is True
    assert body["RestartSubscriptionBasedAutoresponders"] is False
    assert body["Subscribers"][0]["EmailAddress"] == "new@example.com"
    assert body["Subscribers"][0]["ConsentToTrack"] == "Unchanged"


def test_a_partial_import_failure_is_reported_with_its_failed_rows(
    fake: FakeCampaignMonitor,
) -> None:
    fake.load(standard_seed())
    fake.refused_imports.add("bad@example.com")
    rows = (SubscriberImport("good@example.com"), SubscriberImport("bad@example.com"))
    command = ImportSubscribers("list-1", rows, False)

    (result,) = _platform(fake).execute("client-contract-1", [command])

    assert not result.ok
    assert result.error is not None
    assert "1 of 2 rows refused" in result.error
    assert result.import_result is not None
    assert [(f.email, f.code) for f in result.import_result.failure_details] == [
        ("bad@example.com", 1)
    ]
    assert result.import_result.total_new_subscribers == 1


def test_a_command_the_platform_refuses_gets_its_code_and_message(
    fake: FakeCampaignMonitor,
) -> None:
    fake.load(standard_seed())

    results = _platform(fake).execute(
        "client-contract-1",
        [Unsubscribe("list-1", "nobody@example.com"), Unsubscribe("list-1", "ann@example.com")],
    )

    assert [r.ok for r in results] == [False, True]
    assert results[0].error is not None
    assert "[203] Subscriber not in list" in results[0].error


# ----------------------------------------------------------------------------- list subscribers


def _list_seed() -> PlatformSeed:
    """One London client whose list holds someone in each state (one spelled in capitals),
    an unsubscriber also on the suppression list, and a second client with its own list."""
    london = PlatformClient("c1", "Acme", "Europe/London")
    other = PlatformClient("c2", "Other", "Europe/London")
    members = {
        "ann@example.com": SubscriberState.ACTIVE,
        "Bob@Example.com": SubscriberState.UNCONFIRMED,
        "carol@example.com": SubscriberState.UNSUBSCRIBED,
        "dan@example.com": SubscriberState.BOUNCED,
        "eve@example.com": SubscriberState.DELETED,
        "fay@example.com": SubscriberState.DELETED,
    }
    return PlatformSeed(
        clients=[london, other],
        memberships=[
            *(SeedMembership("c1", "list-1", e, state) for e, state in members.items()),
            SeedMembership("c2", "list-c2", "ann@example.com", SubscriberState.ACTIVE),
        ],
        suppressed=[("c1", SuppressedEmail("fay@example.com", "Unsubscribed", T0))],
    )


def test_list_subscribers_read_every_state_endpoint_to_its_last_page(
    fake: FakeCampaignMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """active, unconfirmed, unsubscribed, bounced and deleted.json, every page of each."""
    seed = PlatformSeed(
        clients=[PlatformClient("c1", "Acme")],
        memberships=[
            *(SeedMembership("c1", "list-1", f"a{n}@example.com", "Active") for n in range(5)),
            SeedMembership("c1", "list-1", "gone@example.com", "Deleted"),
        ],
    )
    fake.load(seed)
    monkeypatch.setattr(cm_platform, "PAGE_SIZE_LIMIT", 2)

    served = _platform(fake).list_subscribers("c1", "list-1")

    assert served == {
        **{f"a{n}@example.com": SubscriberState.ACTIVE for n in range(5)},
        "gone@example.com": SubscriberState.DELETED,
    }
    reads = [
        (r.path.rsplit("/", 1)[1], r.query["page"][0], r.query["pagesize"][0], r.query["date"][0])
        for r in fake.requests
        if r.path.startswith("/api/v3.3/lists/")
    ]
    assert reads == [
        ("active.json", "1", "2", ""),
        ("active.json", "2", "2", ""),
        ("active.json", "3", "2", ""),
        ("unconfirmed.json", "1", "2", ""),
        ("unsubscribed.json", "1", "2", ""),
        ("bounced.json", "1", "2", ""),
        ("deleted.json", "1", "2", ""),
    ]


def test_list_subscribers_of_another_clients_list_is_not_found_without_reading_it(
    fake: FakeCampaignMonitor,
) -> None:
    """The client's lists are read first; a list not among them is Invalid ListID (101)."""
    fake.load(_list_seed())

    with pytest.raises(NotFoundError) as refused:
        _platform(fake).list_subscribers("c1", "list-c2")

    assert (refused.value.code, refused.value.operation) == (101, "list_subscribers")
    assert not [r for r in fake.requests if r.path.startswith("/api/v3.3/lists/")]


# ----------------------------------------------------------------------------- import wizard


def _import_bodies(fake: FakeCampaignMonitor) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in fake.requests if r.path.endswith("/import.json")]


def test_an_import_wizard_run_resubscribes_only_the_deleted_over_the_api(
    fake: FakeCampaignMonitor,
) -> None:
    """Over the API: the Deleted subscriber goes in a request with Resubscribe true, alone;
    the suppressed Deleted one, the unsubscriber and the bounce do not."""
    fake.load(_list_seed())
    platform = _platform(fake)
    rows = [ImportRow(e) for e in ("carol@example.com", "dan@example.com", "eve@example.com")]
    rows.append(ImportRow("fay@example.com"))
    on = Settings(resubscribe_deleted_via_import_wizard=True, trigger_joins_a_list_journeys=True)

    report = run_import(
        platform, "c1", "list-1", rows, on, refresh_type="Add, Update, Resubscribe Deleted"
    )

    assert report.ok
    plain, revive = _import_bodies(fake)
    assert (plain["Resubscribe"], revive["Resubscribe"]) == (False, True)
    assert [r["EmailAddress"] for r in revive["Subscribers"]] == ["eve@example.com"]
    assert revive["QueueSubscriptionBasedAutoresponders"] is True
    assert revive["RestartSubscriptionBasedAutoresponders"] is True
    assert plain["RestartSubscriptionBasedAutoresponders"] is False
    states = platform.list_subscribers("c1", "list-1")
    assert [states[e] for e in ("carol@example.com", "dan@example.com")] == [
        SubscriberState.UNSUBSCRIBED,
        SubscriberState.BOUNCED,
    ]
    assert states["eve@example.com"] is SubscriberState.ACTIVE
    assert states["fay@example.com"] is SubscriberState.DELETED


def test_an_import_wizard_remove_run_deletes_over_the_api(fake: FakeCampaignMonitor) -> None:
    """An "Add, Update, Remove" run DELETEs the Active and Unconfirmed ones left out."""
    fake.load(_list_seed())
    platform = _platform(fake)

    report = run_import(
        platform,
        "c1",
        "list-1",
        [ImportRow("carol@example.com")],
        Settings(),
        refresh_type="Add, Update, Remove",
    )

    assert sorted(report.removed) == ["Bob@Example.com", "ann@example.com"]
    deletes = [r.query["email"] for r in fake.requests if r.method == "DELETE"]
    assert sorted(deletes) == [["Bob@Example.com"], ["ann@example.com"]]
    states = platform.list_subscribers("c1", "list-1")
    assert states["ann@example.com"] is states["Bob@Example.com"] is SubscriberState.DELETED


def test_a_partial_import_failure_is_reported_per_email_and_logged_masked(
    fake: FakeCampaignMonitor, caplog: pytest.LogCaptureFixture
) -> None:
    """HTTP 400, code 210, ResultData.FailureDetails: each refused email is FAILED with the
    API's code and message, the others imported; the log shows emails masked."""
    fake.load(_list_seed())
    fake.refused_imports.add("broken@example.com")
    rows = [ImportRow("new@example.com"), ImportRow("broken@example.com")]

    with caplog.at_level(logging.WARNING):
        report = run_import(
            _platform(fake), "c1", "list-1", rows, Settings(), refresh_type="Add, Update"
        )

    assert not report.ok
    assert [(o.email, o.status, o.code, o.message) for o in report.outcomes] == [
        ("new@example.com", ImportStatus.IMPORTED, None, None),
        ("broken@example.com", ImportStatus.FAILED, 1, "Invalid Email Address"),
    ]
    assert [f.email for f in report.failures] == ["broken@example.com"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "b***@example.com (Invalid Email Address)" in logged
    assert "broken@example.com" not in logged


def test_sms_numbers_reach_the_api_in_e164_with_both_consents(fake: FakeCampaignMonitor) -> None:
    """With SMS on, the import request carries MobileNumber in E.164, ConsentToTrack and
    ConsentToSendSms as the API documents them; the platform then holds them."""
    fake.load(_list_seed())
    rows = [
        ImportRow(
            "ann@example.com",
            name="Ann",
            custom_fields={"Industry": "Retail"},
            mobile_number="(555) 555-1234",
            consent_to_track=True,
            consent_to_send_sms=True,
        ),
        ImportRow("new@example.com", consent_to_track="No"),
    ]
    sms = Settings(sms_enabled=True, sms_country="United States of America")

    run_import(_platform(fake), "c1", "list-1", rows, sms, refresh_type="Add, Update")

    (body,) = _import_bodies(fake)
    assert body["Subscribers"] == [
        {
            "EmailAddress": "ann@example.com",
            "Name": "Ann",
            "CustomFields": [{"Key": "Industry", "Value": "Retail"}],
            "ConsentToTrack": "Yes",
            "MobileNumber": "+15555551234",
            "ConsentToSendSms": "Yes",
        },
        {
            "EmailAddress": "new@example.com",
            "Name": "",
            "CustomFields": [],
            "ConsentToTrack": "No",
        },
    ]
    assert fake.sms[("list-1", "ann@example.com")] == {
        "MobileNumber": "+15555551234",
        "ConsentToTrack": "Yes",
        "ConsentToSendSms": "Yes",
    }


def test_with_sms_off_no_number_or_sms_consent_reaches_the_api(fake: FakeCampaignMonitor) -> None:
    """With SMS off, the request holds neither MobileNumber nor ConsentToSendSms, on an
    import-wizard run, a list add and an account change alike."""
    fake.load(_list_seed())
    platform = _platform(fake)
    row = ImportRow("ann@example.com", mobile_number="(555) 555-1234", consent_to_send_sms=True)
    person = Person("003A", "Contact", email="ann@example.com", account_id="001A")
    crm = InMemoryCrm()
    crm.add_person("ann@example.com", person_id="003A", account_id="001A")
    off = Settings(enable_account_trigger=True)

    run_import(platform, "c1", "list-1", [row], off, refresh_type="Add, Update")
    add_to_list(platform, "c1", "list-1", person, off, subscriber=row)
    handle_account_changes(crm, platform, "c1", ["001A"], off, subscriber_row=lambda _p: row)

    bodies = _import_bodies(fake)
    assert len(bodies) == 3
    for body in bodies:
        (sent,) = body["Subscribers"]
        assert not {"MobileNumber", "ConsentToSendSms"} & set(sent)
    assert fake.sms[("list-1", "ann@example.com")] == {}  # the platform holds no SMS data


def test_an_account_change_reaches_the_api_for_the_lists_its_contacts_receive_on(
    fake: FakeCampaignMonitor,
) -> None:
    """The account's contacts are read with listsforemail; their rows are imported to the
    lists they are Active or Unconfirmed on (never resubscribing), and nowhere else."""
    fake.load(_list_seed())
    crm = InMemoryCrm()
    crm.add_person("ann@example.com", person_id="003A", account_id="001A")
    crm.add_person("Bob@Example.com", person_id="003B", account_id="001A")
    crm.add_person("eve@example.com", person_id="003E", account_id="001A")
    crm.add_person("dan@example.com", person_id="003D", account_id="001B")

    report = handle_account_changes(
        crm,
        _platform(fake),
        "c1",
        ["001A"],
        Settings(enable_account_trigger=True),
        subscriber_row=lambda p: ImportRow(p.email or "", custom_fields={"Tier": "Gold"}),
    )

    assert report.ok
    (body,) = _import_bodies(fake)
    assert [r["EmailAddress"] for r in body["Subscribers"]] == [
        "ann@example.com",
        "Bob@Example.com",
    ]
    assert body["Resubscribe"] is False
    assert {r["CustomFields"][0]["Value"] for r in body["Subscribers"]} == {"Gold"}


# ----------------------------------------------------------------------------- errors


def test_an_expired_token_is_its_own_error_with_code_121(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())
    fake.fail("/clients.json", 401, {"Code": 121, "Message": "Expired OAuth Token"})

    with pytest.raises(ExpiredTokenError) as caught:
        _platform(fake, retries=3, sleep=Sleeps()).clients()

    error = caught.value
    assert (error.code, error.status, error.operation) == (121, 401, "clients")
    assert isinstance(error, AuthenticationError | PlatformError | CmsfError | RuntimeError)
    assert len(fake.requests) == 1  # never retried


def test_refused_credentials_are_an_authentication_error(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())
    platform = CampaignMonitorPlatform(
        Credentials.api_key("wrong-key"), base_uri=fake.base_uri, retries=0
    )

    with pytest.raises(AuthenticationError) as caught:
        platform.clients()

    assert not isinstance(caught.value, ExpiredTokenError)
    assert caught.value.code == 50


def test_a_bad_request_keeps_the_api_code(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())

    with pytest.raises(BadRequestError) as caught:
        _platform(fake).campaign_summary("no-such-campaign")

    assert (caught.value.code, caught.value.status) == (301, 400)
    assert "Invalid CampaignID" in str(caught.value)


def test_transient_failures_are_retried_with_backoff(
    fake: FakeCampaignMonitor, caplog: pytest.LogCaptureFixture
) -> None:
    fake.load(standard_seed())
    fake.fail("/summary.json", 503, {"Code": 500, "Message": "Service unavailable"})
    fake.fail("/summary.json", 500, {"Code": 500, "Message": "Internal error"})
    sleeps = Sleeps()

    with caplog.at_level(logging.WARNING):
        summary = _platform(fake, retries=3, sleep=sleeps).campaign_summary("cmp-contract-1")

    assert summary.recipients == 3
    assert sleeps == [default_backoff(1), default_backoff(2)] == [0.5, 1.0]
    assert len([r for r in caplog.records if "retry" in r.getMessage()]) == 2


def test_rate_limiting_obeys_retry_after_then_gives_up(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())
    for _ in range(3):
        fake.fail(
            "/summary.json",
            429,
            {"Code": 429, "Message": "Rate limit"},
            headers={"Retry-After": "7"},
        )
    sleeps = Sleeps()

    with pytest.raises(RateLimitedError) as caught:
        _platform(fake, retries=2, sleep=sleeps).campaign_summary("cmp-contract-1")

    assert sleeps == [7.0, 7.0]
    assert caught.value.status == 429


def test_a_slow_answer_times_out_and_is_retried(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())
    fake.fail("/summary.json", 200, {}, delay=1.0)
    fake.fail("/summary.json", 200, {}, delay=1.0)
    sleeps = Sleeps()

    started = time.monotonic()
    with pytest.raises(PlatformUnavailableError, match="TimeoutError"):
        _platform(fake, timeout=0.2, retries=1, sleep=sleeps).campaign_summary("cmp-contract-1")

    assert time.monotonic() - started < 1.5
    assert sleeps == [0.5]


def test_a_refused_connection_is_unavailable() -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()
    platform = CampaignMonitorPlatform(
        Credentials.api_key(API_KEY),
        base_uri=f"http://127.0.0.1:{port}/api/v3.3",
        retries=1,
        sleep=Sleeps(),
    )

    with pytest.raises(PlatformUnavailableError, match="after 2 attempts"):
        platform.clients()


def test_plain_http_is_refused_except_to_a_loopback_address() -> None:
    with pytest.raises(InvalidValueError, match="base_uri"):
        CampaignMonitorPlatform(
            Credentials.api_key(API_KEY), base_uri="http://api.createsend.com/api/v3.3"
        )


# ----------------------------------------------------------------------------- credentials


def test_oauth_tokens_are_sent_as_a_bearer_header(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())
    fake.authorization = "Bearer access-PLANTED-token"
    try:
        platform = CampaignMonitorPlatform(
            Credentials.oauth("access-PLANTED-token", "refresh-PLANTED-token"),
            base_uri=fake.base_uri,
        )
        assert len(platform.clients()) == 2
    finally:
        fake.authorization = "Basic " + base64.b64encode(f"{API_KEY}:x".encode()).decode()


def test_the_secret_never_shows_in_a_repr_an_error_or_a_log(
    fake: FakeCampaignMonitor, caplog: pytest.LogCaptureFixture
) -> None:
    fake.load(standard_seed())
    credentials = Credentials.api_key(API_KEY)
    platform = CampaignMonitorPlatform(
        credentials, base_uri=fake.base_uri, retries=1, sleep=Sleeps()
    )
    texts = [repr(platform), str(platform), repr(credentials), str(credentials)]
    texts.append(repr(attrs.asdict(credentials)))
    texts.append(repr(vars(platform)))
    fake.fail("/clients.json", 401, {"Code": 121, "Message": "Expired OAuth Token"})
    fake.fail("/clients.json", 500, {"Code": 500, "Message": f"bad key {API_KEY}"})
    fake.fail("/clients.json", 500, {"Code": 500, "Message": f"bad key {API_KEY}"})
    fake.fail("/clients.json", 400, {"Code": 1, "Message": f"echo {API_KEY}"})
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            with pytest.raises(PlatformError) as caught:
                platform.clients()
            error = caught.value
            texts += [str(error), repr(error), repr(error.args), repr(error.__cause__)]
            texts.append(repr(error.__context__))
    texts += [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    assert any("retry" in t for t in texts)  # the log was captured
    # The createsend objects hold no credentials at all.
    assert platform._api("Client", "client-contract-1").auth_details is None

    for text in texts:
        assert API_KEY not in text
        assert base64.b64encode(f"{API_KEY}:x".encode()).decode() not in text


# ----------------------------------------------------------------------------- packaging


def test_importing_the_library_does_not_import_createsend() -> None:
    code = (
        "import sys, cmsf_core, cmsf_core.adapters.campaign_monitor; "
        "assert 'createsend' not in sys.modules, 'createsend imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_missing_createsend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "createsend", None)
    platform = CampaignMonitorPlatform(Credentials.api_key(API_KEY))

    with pytest.raises(MissingDependencyError, match=r"cmsf_core\[campaignmonitor\]"):
        platform.clients()


def test_events_of_a_page_keep_their_fields(fake: FakeCampaignMonitor) -> None:
    fake.load(standard_seed())

    page = _platform(fake).tracking_page(
        "cmp-contract-1", ActivityType.BOUNCED, since=None, page=1, page_size=1
    )

    assert page.results == (
        TrackingEvent(
            ActivityType.BOUNCED, "carol@example.com", T0 + timedelta(minutes=2), detail="Soft"
        ),
    )
    assert (page.page_number, page.page_size, page.number_of_pages) == (1, 1, 2)
    assert page.total_number_of_records == 2


def test_an_unsubscribes_url_is_not_part_of_the_event(fake: FakeCampaignMonitor) -> None:
    """An unsubscribes row's URL is the unsubscribe link: the event has no detail, so the
    same unsubscribe gets the same key as from the file adapter."""
    seed = _seed_one()
    fake.load(seed)
    at = T0 + timedelta(minutes=5)
    fake.events[("cmp1", "unsubscribes")] = [
        {
            "EmailAddress": "ann@example.com",
            "ListID": "list-1",
            "Date": _local(at, "Europe/London"),
            "IPAddress": "192.0.2.1",
            "URL": "https://example.createsend.com/t/unsubscribe",
        }
    ]

    page = _platform(fake).tracking_page(
        "cmp1", ActivityType.UNSUBSCRIBED, since=None, page=1, page_size=10
    )

    assert page.results == (
        TrackingEvent(ActivityType.UNSUBSCRIBED, "ann@example.com", at, list_id="list-1"),
    )


# ----------------------------------------------------------------------------- a whole sync


def _crm() -> InMemoryCrm:
    crm = InMemoryCrm()
    crm.add_campaign(
        "701-spring",
        "Spring",
        statuses=("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam"),
    )
    crm.link("client-contract-1", "cmp-contract-1", "701-spring")
    for n, email in enumerate(("ann@example.com", "bob@example.com", "carol@example.com")):
        crm.add_person(email, person_id=f"003{n:05d}")
    return crm


def test_a_sync_over_the_api_reaches_the_in_memory_platforms_state(
    fake: FakeCampaignMonitor,
) -> None:
    """The same account synced through the API and from memory gives the same CRM."""
    seed = standard_seed()
    fake.load(seed)
    over_api, from_memory = _crm(), _crm()
    as_of = T0 + timedelta(days=1)

    run_sync(over_api, _platform(fake), Settings(), as_of=as_of)
    run_sync(from_memory, seeded_platform(seed), Settings(), as_of=as_of)

    assert over_api.record_count() > 0
    assert sorted(map(repr, over_api.all_records())) == sorted(map(repr, from_memory.all_records()))
    assert sorted(map(repr, over_api.all_members())) == sorted(map(repr, from_memory.all_members()))
    assert over_api.checkpoint("client-contract-1") == from_memory.checkpoint("client-contract-1")


def test_a_raw_key_given_instead_of_credentials_is_never_quoted() -> None:
    """CampaignMonitorPlatform("sk-live-...") is refused without echoing the key."""
    planted = "sk-live-planted-7f3a9c"

    with pytest.raises(TypeError) as refused:
        CampaignMonitorPlatform(planted)  # type: ignore[arg-type]

    assert planted not in str(refused.value)
    assert "credentials" in str(refused.value)


@pytest.mark.parametrize("field", ["StateChangedDate", "Date"])
def test_subscriber_changes_since_read_the_state_change_date_of_either_api_shape(
    fake: FakeCampaignMonitor, field: str
) -> None:
    """List-state rows carry ``StateChangedDate`` (the current API, as createsend's own
    fixtures show) or ``Date`` (older answers); either dates the change."""
    changed = T0 + timedelta(days=2)
    seed = PlatformSeed(
        clients=[PlatformClient("c1", "Acme", "Europe/London")],
        memberships=[
            SeedMembership("c1", "list-1", "old@example.com", SubscriberState.ACTIVE, T0),
            SeedMembership(
                "c1", "list-1", "new@example.com", SubscriberState.UNSUBSCRIBED, changed
            ),
        ],
    )
    fake.state_date = field
    try:
        fake.load(seed)
        platform = _platform(fake)
        assert platform.subscriber_changes("c1", since=T0 + timedelta(days=1)) == (
            "new@example.com",
        )
        assert set(platform.subscriber_changes("c1", since=None)) == {
            "old@example.com",
            "new@example.com",
        }
    finally:
        fake.state_date = "StateChangedDate"


# ----------------------------------------------------------------------------- cmsf sync


def _broken_export(tmp_path: Path) -> Path:
    folder = tmp_path / "platform"
    shutil.copytree(EXPORT, folder)
    details = folder / "clients" / BOOKS / "details.json"
    data = json.loads(details.read_text())
    data["BasicDetails"]["TimeZone"] = "(GMT+03:00) Atlantis"
    details.write_text(json.dumps(data))
    return folder


def _cmsf_sync(tmp_path: Path, folder: Path, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    store = str(tmp_path / "crm.db")
    args = [
        "sync",
        "--store",
        store,
        "--platform",
        str(folder),
        "--as-of",
        "2030-01-01T00:00+00:00",
    ]
    return main([*args, *extra], out=out), out.getvalue()


def test_cmsf_sync_reports_a_client_without_a_zone_and_time_zone_gives_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --time-zone the other client syncs and the report names the option (exit 1);
    with it, both clients sync (exit 0)."""
    folder = _broken_export(tmp_path)

    status, report = _cmsf_sync(tmp_path, folder)
    assert status == 1
    assert f"--time-zone {BOOKS}=Area/City" in report
    assert "time_zones=" not in report

    status, report = _cmsf_sync(tmp_path, folder, "--time-zone", f"{BOOKS}=Australia/Sydney")
    assert (status, capsys.readouterr().err) == (0, "")
    assert f"skipped client {BOOKS}" not in report
    assert f"watermark {BOOKS}" in report


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        ("Australia/Sydney", "must be CLIENT_ID=Area/City"),
        (f"{BOOKS}=", "must be CLIENT_ID=Area/City"),
        ("=Australia/Sydney", "must be CLIENT_ID=Area/City"),
        (f"{BOOKS}=Nowhere/City", "'Nowhere/City' is not an IANA time zone"),
        (f"{BOOKS}=(GMT+10:00) Canberra, Melbourne, Sydney", "is not an IANA time zone"),
    ],
)
def test_a_bad_time_zone_option_is_one_clear_error_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, problem: str
) -> None:
    """A --time-zone without '=' or with a zone that is no IANA name stops before anything."""
    status, _report = _cmsf_sync(tmp_path, _broken_export(tmp_path), "--time-zone", option)

    assert status == 2
    error = capsys.readouterr().err
    assert problem in error
    assert error.count("\n") == 1
    assert not (tmp_path / "crm.db").exists()


def test_one_client_given_two_time_zones_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--time-zone c=A --time-zone c=B is ambiguous: exit 2, naming the client."""
    zones = ("--time-zone", f"{BOOKS}=Europe/London", "--time-zone", f"{BOOKS}=Asia/Tokyo")

    status, _report = _cmsf_sync(tmp_path, _broken_export(tmp_path), *zones)

    assert status == 2
    assert "two zones" in capsys.readouterr().err


# ----------------------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (302, PlatformError),
        (402, BadRequestError),
        (403, BadRequestError),
        (404, NotFoundError),
        (405, BadRequestError),
        (409, BadRequestError),
        (418, BadRequestError),
        (422, BadRequestError),
        (429, RateLimitedError),
        (500, PlatformUnavailableError),
        (501, PlatformUnavailableError),
        (503, PlatformUnavailableError),
        (505, PlatformUnavailableError),
        (599, PlatformUnavailableError),
    ],
)
def test_every_http_status_becomes_an_error_carrying_it(
    fake: FakeCampaignMonitor, status: int, kind: type[PlatformError]
) -> None:
    """An answer the adapter has no special case for still names its status and code."""
    fake.load(standard_seed())
    fake.fail("/summary.json", status, {"Code": 7, "Message": "Short and stout"})

    with pytest.raises(kind) as caught:
        _platform(fake).campaign_summary("cmp-contract-1")

    error = caught.value
    assert (error.status, error.code, error.operation) == (status, 7, "campaign_summary")
    assert f"(HTTP {status})" in str(error)
    assert "Short and stout" in str(error)


def test_a_status_without_a_body_is_named_by_its_phrase(fake: FakeCampaignMonitor) -> None:
    """A 418 with no JSON body is still 'HTTP 418 I'm a Teapot', with its status."""
    fake.load(standard_seed())
    fake.fail("/summary.json", 418, None)  # type: ignore[arg-type]

    with pytest.raises(BadRequestError) as caught:
        _platform(fake).campaign_summary("cmp-contract-1")

    assert caught.value.status == 418
    assert "I'm a Teapot" in str(caught.value)


# ----------------------------------------------------------------------------- OAuth

ACCESS = "access+PLANTED/0=="
REFRESH = "refresh+PLANTED/0=="
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _oauth_platform(fake: FakeCampaignMonitor, **kw: Any) -> CampaignMonitorPlatform:
    fake.oauth = OAuthGrant(ACCESS, REFRESH)
    options: dict[str, Any] = {
        "timeout": 5,
        "retries": 0,
        "base_uri": fake.base_uri,
        "clock": lambda: NOW,
    }
    options.update(kw)
    return CampaignMonitorPlatform(Credentials.oauth(ACCESS, REFRESH), **options)


def test_an_expired_oauth_token_is_refreshed_and_the_new_pair_handed_to_the_caller(
    fake: FakeCampaignMonitor,
) -> None:
    """On 401 code 121 the adapter POSTs createsend's refresh grant, sends the request again
    with the new token and hands the new Credentials to on_refresh_token."""
    fake.load(standard_seed())
    handed: list[Credentials] = []
    platform = _oauth_platform(fake, on_refresh_token=handed.append)
    assert fake.oauth is not None
    fake.oauth.expired = True

    assert len(platform.clients()) == 2

    (token_request,) = [r for r in fake.requests if r.path == "/oauth/token"]
    assert token_request.method == "POST"
    assert token_request.body.decode() == (
        "grant_type=refresh_token&refresh_token=refresh%2BPLANTED%2F0%3D%3D"
    )
    assert "Authorization" not in token_request.headers
    (credentials,) = handed
    assert credentials.token.reveal() == "access+PLANTED/1=="
    assert credentials.refresh_token is not None
    assert credentials.refresh_token.reveal() == "refresh+PLANTED/1=="
    assert credentials.expires_at == NOW + timedelta(days=14)
    assert fake.requests[-1].headers["Authorization"] == "Bearer access+PLANTED/1=="


def test_credentials_past_their_expiry_are_refreshed_before_the_request(
    fake: FakeCampaignMonitor,
) -> None:
    """With expires_at passed (by the injected clock), the first request is the refresh."""
    fake.load(standard_seed())
    fake.oauth = OAuthGrant(ACCESS, REFRESH)
    platform = CampaignMonitorPlatform(
        Credentials.oauth(ACCESS, REFRESH, expires_at=NOW - timedelta(seconds=1)),
        base_uri=fake.base_uri,
        retries=0,
        clock=lambda: NOW,
    )

    platform.clients()

    assert fake.requests[0].path == "/oauth/token"
    assert all(r.headers.get("Authorization") != f"Bearer {ACCESS}" for r in fake.requests)


def test_a_refused_refresh_is_an_authentication_error_and_is_not_asked_again(
    fake: FakeCampaignMonitor,
) -> None:
    """invalid_grant: the error says to authorise again; later calls do not ask again."""
    fake.load(standard_seed())
    platform = _oauth_platform(fake)
    fake.oauth = OAuthGrant(ACCESS, "another-refresh-token", expired=True)

    with pytest.raises(AuthenticationError, match="invalid_grant") as caught:
        platform.clients()
    assert not isinstance(caught.value, ExpiredTokenError)
    assert caught.value.status == 400
    assert "authorise the application again" in str(caught.value)
    asked = len([r for r in fake.requests if r.path == "/oauth/token"])
    with pytest.raises(AuthenticationError, match="invalid_grant"):
        platform.clients()

    assert asked == len([r for r in fake.requests if r.path == "/oauth/token"]) == 1


def test_a_token_still_expired_after_the_refresh_is_an_expired_token_error(
    fake: FakeCampaignMonitor,
) -> None:
    """The request is sent again once; a second 121 is an ExpiredTokenError."""
    fake.load(standard_seed())
    platform = _oauth_platform(fake)
    fake.fail("/clients.json", 401, {"Code": 121, "Message": "Expired OAuth Token"})
    fake.fail("/clients.json", 401, {"Code": 121, "Message": "Expired OAuth Token"})

    with pytest.raises(ExpiredTokenError) as caught:
        platform.clients()

    assert (caught.value.code, caught.value.status) == (121, 401)
    assert len([r for r in fake.requests if r.path == "/oauth/token"]) == 1


def test_on_refresh_token_must_be_callable() -> None:
    """A callback that is not a function is refused at construction."""
    with pytest.raises(TypeError, match="on_refresh_token"):
        CampaignMonitorPlatform(
            Credentials.oauth(ACCESS, REFRESH),
            on_refresh_token="not a function",  # type: ignore[arg-type]
        )


# ----------------------------------------------------------------------------- echoed secrets


def _chain(error: BaseException) -> list[BaseException]:
    """The error and everything chained to it (cause and context), each once."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__cause__, current.__context__]
    return seen


def _texts(error: BaseException) -> list[str]:
    """What a user or a log handler can read from the error: str, repr, args and the
    string-like locals of every traceback frame, for the error and its whole chain."""
    texts = []
    for link in _chain(error):
        texts += [str(link), repr(link), repr(link.args), repr(vars(link))]
        tb = link.__traceback__
        while tb is not None:
            for value in tb.tb_frame.f_locals.values():
                if isinstance(value, str | bytes | dict | list | tuple | Credentials):
                    texts.append(repr(value))
            tb = tb.tb_next
    return texts


def _forms(secret: str) -> list[str]:
    encoded = base64.b64encode(f"{secret}:x".encode()).decode()
    return [secret, encoded, encoded.rstrip("="), quote_plus(secret)]


def test_an_echoed_api_key_and_basic_header_appear_nowhere(
    fake: FakeCampaignMonitor, caplog: pytest.LogCaptureFixture
) -> None:
    """A server echoing the request headers in its errors (400, 401, 404, 418, 500 after
    a retry): the key and its base64 form are in no message, chain, frame or log."""
    fake.load(standard_seed())
    platform = _platform(fake, retries=1, sleep=Sleeps())
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for status in (400, 401, 404, 418, 500):
            fake.fail("/summary.json", status, {"Code": 9}, echo=True)
            fake.fail("/summary.json", status, {"Code": 9}, echo=True)
            with pytest.raises(PlatformError) as caught:
                platform.campaign_summary("cmp-contract-1")
            assert caught.value.status == status
            assert "you sent" in str(caught.value)  # the echo arrived, masked
            texts += _texts(caught.value)
            fake.failures.clear()
    texts += [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]

    assert any("***" in t for t in texts)
    for text in texts:
        for form in _forms(API_KEY):
            assert form not in text


def test_echoed_oauth_tokens_old_and_new_appear_nowhere(
    fake: FakeCampaignMonitor, caplog: pytest.LogCaptureFixture
) -> None:
    """After a refresh, a server echoing headers and bodies (the token request's too)
    shows neither the old nor the new access and refresh tokens, in any form."""
    fake.load(standard_seed())
    platform = _oauth_platform(fake, retries=1, sleep=Sleeps())
    assert fake.oauth is not None
    fake.oauth.expired = True
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        platform.clients()  # refreshed: access+PLANTED/1==
        for status in (401, 418, 503):
            fake.fail("/summary.json", status, {"Code": 9}, echo=True)
            fake.fail("/summary.json", status, {"Code": 9}, echo=True)
            with pytest.raises(PlatformError) as caught:
                platform.campaign_summary("cmp-contract-1")
            texts += _texts(caught.value)
            fake.failures.clear()
        fake.oauth.expired = True
        fake.fail("/oauth/token", 400, {"error": "invalid_grant"}, echo=True)
        with pytest.raises(AuthenticationError) as refused:
            platform.clients()
        texts += _texts(refused.value)
    texts += [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    texts += [repr(platform), repr(vars(platform))]

    tokens = [ACCESS, REFRESH, "access+PLANTED/1==", "refresh+PLANTED/1=="]
    for text in texts:
        for token in tokens:
            for form in _forms(token):
                assert form not in text
