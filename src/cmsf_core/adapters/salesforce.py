"""The CRM port over Salesforce, with ``simple-salesforce``.

:class:`SalesforceCrm` implements :class:`~cmsf_core.ports.crm.CrmStore` on a
``simple_salesforce.Salesforce`` connection: every read is a SOQL query built with
``format_soql`` and read to its last page with ``query_all_iter``; every write is a Bulk 2.0
job (upsert on an external id, insert, update or delete), whose failed records
(``sf__Error``) become the :class:`~cmsf_core.domain.records.WriteResult` failures.  Install
the ``[salesforce]`` extra; ``simple_salesforce`` is imported on first use only.

Campaign members matched to a contact or lead are Salesforce's standard ``CampaignMember``
(``CampaignId``, ``ContactId`` or ``LeadId``, ``Status``) with the integration's rollup
fields beside them; a member with no person yet waits in the integration's own custom
object until a later sync matches it.  A new campaign's member statuses are reconciled with
the two Salesforce creates by itself ("Sent" and "Responded").

Every HTTP exchange of the connection goes through the adapter's wire: a timeout on each,
retries with backoff of what is safe to repeat, and the OAuth access token, renewed with a
refresh token when Salesforce answers 401.  Tokens are revealed only into the
``Authorization`` header of a request (or the form of the token request) and never shown in
a repr, an error or a log record.

Which objects and fields are used is the :class:`FieldMap` (``DEFAULT_FIELD_MAP``), which a
user changes to match the org's API names.  The integration's own records (tracking
records, platform campaigns, campaign links, members waiting for a person, checkpoints,
maintenance messages, suppression records) live in custom objects keyed by an external id,
with the whole value in a JSON long-text field and the fields the adapter filters on beside
it.  ``docs/adapters.md`` describes all of it.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import logging
import math
import operator
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import attrs

from cmsf_core.adapters.errors import CrmAuthenticationError, CrmError, CrmUnavailableError
from cmsf_core.adapters.retry import (
    RETRY_STATUSES,
    default_backoff,
    retry_after,
)
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.connection import Secret, withheld_type_error
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
from cmsf_core.ports.crm import CrmStore

__all__ = [
    "AUTO_STATUSES",
    "COUNTERS",
    "DEFAULT_FIELD_MAP",
    "FieldMap",
    "MemberFields",
    "OwnObject",
    "SalesforceCrm",
]

_log = logging.getLogger(__name__)

#: How many values one ``IN (...)`` list holds (SOQL statements are limited in length).
IN_CHUNK = 200
#: Bulk 2.0's way of writing a null in a CSV cell.
NULL = "#N/A"
#: The key prefix of Lead ids (every other person id is taken as a Contact's).
LEAD_PREFIX = "00Q"
#: Salesforce ``errorCode`` values worth another try, whatever the HTTP status (the API
#: answers ``REQUEST_LIMIT_EXCEEDED`` with 403).
TRANSIENT_CODES = frozenset({"SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"})
#: The member statuses Salesforce gives a new Campaign by itself (object reference,
#: CampaignMemberStatus): "Sent" is the default, "Responded" counts as responded.
AUTO_STATUSES = (
    MemberStatus("Sent", is_default=True, sort_order=1),
    MemberStatus("Responded", has_responded=True, sort_order=2),
)
#: The :class:`~cmsf_core.domain.engagement.Engagement` counters, in their order.
COUNTERS = ("sent", "opens", "clicks", "bounces", "unsubscribes", "spam_complaints")
#: What simple-salesforce holds in place of the access token: the wire sends the real one.
_PLACEHOLDER = "withheld"


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
class MemberFields:
    """Salesforce's standard ``CampaignMember`` and the integration's fields on it.

    ``campaign``, ``contact``, ``lead`` and ``status`` are the standard fields.  The others
    are the integration's custom fields: ``key`` an external id (text, unique,
    case-sensitive) holding the member ref, ``platform_campaign`` the platform campaign id,
    ``email`` the subscriber's email as the platform gave it, ``activity`` and
    ``activity_date`` the activity that last set the status, and one number field per
    engagement counter (``sent`` ... ``spam_complaints``), which reports read.
    """

    name: str = "CampaignMember"
    campaign: str = "CampaignId"
    contact: str = "ContactId"
    lead: str = "LeadId"
    status: str = "Status"
    key: str = "CMSF_Key__c"
    platform_campaign: str = "CMSF_Platform_Campaign__c"
    email: str = "CMSF_Email__c"
    activity: str = "CMSF_Activity__c"
    activity_date: str = "CMSF_Activity_Date__c"
    sent: str = "CMSF_Sent__c"
    opens: str = "CMSF_Opens__c"
    clicks: str = "CMSF_Clicks__c"
    bounces: str = "CMSF_Bounces__c"
    unsubscribes: str = "CMSF_Unsubscribes__c"
    spam_complaints: str = "CMSF_Spam_Complaints__c"

    @property
    def counters(self) -> dict[str, str]:
        """The field of each engagement counter, by counter name (``"opens"``, ...)."""
        return {name: getattr(self, name) for name in COUNTERS}

    def person(self, person_id: str) -> str:
        """``lead`` for a Lead id (prefix ``00Q``), ``contact`` for any other."""
        return self.lead if person_id.startswith(LEAD_PREFIX) else self.contact


@attrs.frozen
class FieldMap:
    """The Salesforce objects and fields the adapter reads and writes.

    Change any name to match the org (``attrs.evolve(DEFAULT_FIELD_MAP, ...)``).  Standard
    objects: ``Campaign`` (with the integration's ``campaign_key`` external id, created
    flag and statistics fields), ``CampaignMemberStatus``, ``CampaignMember`` (``member``:
    matched members, with the integration's fields), ``Contact`` (with ``contact_account``,
    its account) and ``Lead``.  ``campaign_member`` is the custom object holding the members
    that cannot be a ``CampaignMember`` yet (no person, see ``docs/adapters.md``).
    """

    campaign: str = "Campaign"
    campaign_key: str = "CMSF_Key__c"
    campaign_name: str = "Name"
    campaign_created: str = "CMSF_Created_By_Integration__c"
    campaign_statistics: str = "CMSF_Statistics__c"
    member_status: str = "CampaignMemberStatus"
    member: MemberFields = MemberFields()
    contact: str = "Contact"
    contact_account: str = "AccountId"
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


def _sf_time(at: datetime) -> str:
    """A date-time as a Bulk 2.0 cell, to the millisecond (Salesforce's precision)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    """A Salesforce date-time (``2024-05-06T09:00:00.000+0000``) as an aware UTC datetime."""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    return datetime.fromisoformat(text).astimezone(UTC)


def _count(value: object) -> int:
    """A number field read back (Salesforce answers ``3.0`` for a Number(18, 0))."""
    if value is None or value == "":
        return 0
    if isinstance(value, int | float):
        return int(value)
    return int(float(str(value)))


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


def _parse_ref(text: object) -> MemberRef | None:
    """The member ref held by a ``CampaignMember`` key, or ``None`` for a row the
    integration did not write (a member added by hand has no key)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(part, str) and part for part in value)
    ):
        return MemberRef(value[0], value[1])
    return None


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


def _ids(field: str, values: object) -> list[str]:
    """The ids of a collection argument; a lone string is refused (it would be read as
    one id per character)."""
    expected = "a collection of Salesforce ids (str)"
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidTypeError(field, expected, values)
    found = list(values)
    for value in found:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValueError(field, expected, value)
    return found


def _simple_salesforce() -> ModuleType:
    try:
        import simple_salesforce  # noqa: PLC0415 - optional dependency behind [salesforce]
    except ImportError:
        raise MissingDependencyError(
            "simple-salesforce", "salesforce", "The Salesforce adapter"
        ) from None
    module: ModuleType = simple_salesforce
    return module


def _requests() -> ModuleType:
    try:
        import requests  # noqa: PLC0415 - installed with simple-salesforce ([salesforce])
    except ImportError:
        raise MissingDependencyError("requests", "salesforce", "The Salesforce adapter") from None
    module: ModuleType = requests
    return module


def _secret(value: object, field: str) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise withheld_type_error(field, "a secret string or a Secret", value)
    return Secret(value, field)


def _https_url(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(field, "an https:// URL", value)
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidValueError(field, "an https:// URL (https://yourorg.my.salesforce.com)", value)
    return value.rstrip("/")


def _check_policy(
    *,
    timeout: object,
    retries: object,
    backoff: object,
    sleep: object,
    bulk_wait: object,
) -> None:
    """Refuse a bad timeout, retry count, backoff, sleep or bulk wait, naming the field."""

    def seconds(value: object) -> bool:
        return (
            not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
        )

    if not seconds(timeout) or timeout <= 0:  # type: ignore[operator]  # seconds() checked it
        raise InvalidValueError("timeout", "a number of seconds > 0", timeout)
    if type(retries) is not int or retries < 0:
        raise InvalidValueError("retries", "an int >= 0", retries)
    if not callable(backoff):
        raise InvalidTypeError(
            "backoff", "a callable (retry number 1, 2, ... -> seconds to wait)", backoff
        )
    if not callable(sleep):
        raise InvalidTypeError("sleep", "a callable (seconds -> None)", sleep)
    if not seconds(bulk_wait) or bulk_wait < 0:  # type: ignore[operator]  # seconds() checked it
        raise InvalidValueError("bulk_wait", "a number of seconds >= 0", bulk_wait)


def _status_differs(row: Mapping[str, Any], status: MemberStatus) -> bool:
    """Whether a CampaignMemberStatus row differs from the status asked for."""
    return (
        int(row["SortOrder"] or 0) != status.sort_order
        or bool(row["HasResponded"]) != status.has_responded
        or bool(row["IsDefault"]) != status.is_default
    )


# ----------------------------------------------------------------------------- the wire


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(body: Any) -> str | None:
    """Salesforce's ``errorCode`` (REST and Bulk 2.0 answer a list of errors)."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        code = body[0].get("errorCode")
        return code if isinstance(code, str) else None
    if isinstance(body, dict):
        code = body.get("errorCode")
        return code if isinstance(code, str) else None
    return None


def _transient(response: Any) -> str | None:
    """Why an answer is worth another try (``"HTTP 503 SERVER_UNAVAILABLE"``), or ``None``."""
    status = int(response.status_code)
    code = _error_code(_json(response)) if status >= 400 else None
    if status in RETRY_STATUSES or code in TRANSIENT_CODES:
        return f"HTTP {status}" + (f" {code}" if code else "")
    return None


class _OAuth:
    """What renewing the access token needs: Salesforce's token endpoint, the refresh
    token and the connected app (consumer key, optional consumer secret)."""

    __slots__ = ("client_id", "client_secret", "on_refresh_token", "refresh_token", "token_url")

    def __init__(
        self,
        token_url: str,
        refresh_token: Secret,
        client_id: str,
        client_secret: Secret | None,
        on_refresh_token: Callable[[Secret], object] | None = None,
    ) -> None:
        self.token_url = token_url
        self.refresh_token = refresh_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.on_refresh_token = on_refresh_token

    def __repr__(self) -> str:
        return f"_OAuth({self.token_url!r}, client_id={self.client_id!r}, secrets withheld)"


class _Wire:
    """Every HTTP exchange of one Salesforce connection.

    It stands in for the ``requests.Session`` simple-salesforce is given (``request`` and
    ``proxies`` are all the client uses) and adds what the client lacks:

    - a ``timeout`` on every exchange;
    - the access token, written into the ``Authorization`` header of each request (the
      client holds a placeholder), renewed once with the refresh token when Salesforce
      answers 401;
    - retries of the exchanges that are safe to repeat (GET: queries, query pages, Bulk
      job polls and results; the token request), on a connection failure, a timeout, HTTP
      429/5xx or ``SERVER_UNAVAILABLE`` / ``REQUEST_LIMIT_EXCEEDED``, waiting ``backoff(n)``
      or the ``Retry-After`` asked for (up to
      :data:`~cmsf_core.adapters.retry.MAX_RETRY_AFTER`).  Writes are repeated, when safe,
      by the adapter as whole operations.

    ``spent`` counts the retries of the current operation (the adapter resets it);
    ``handed_over`` is the Bulk ingest job closed (its records handed to Salesforce) during
    the current attempt.
    """

    def __init__(
        self, session: Any, *, token: Secret | None = None, oauth: _OAuth | None = None
    ) -> None:
        self._session = session
        self._token = token
        self._oauth = oauth
        self._refusal: tuple[str, str | None, int | None] | None = None
        self._retired: list[Secret] = []  # replaced tokens: still masked if echoed
        self.timeout = 30.0
        self.retries = 3
        self.backoff: Callable[[int], float] = default_backoff
        self.sleep: Callable[[float], None] = time.sleep
        self.spent = 0
        self.handed_over: str | None = None
        self.retry_after = 0.0

    def __repr__(self) -> str:
        return f"_Wire(timeout={self.timeout}, retries={self.retries}, credentials withheld)"

    def begin_attempt(self) -> None:
        """Forget the previous attempt's closed job and ``Retry-After``."""
        self.handed_over = None
        self.retry_after = 0.0

    @property
    def proxies(self) -> Any:
        """The wrapped session's proxies (simple-salesforce reads them)."""
        return getattr(self._session, "proxies", {})

    def secrets(self) -> list[str]:
        """Every secret the wire holds, to mask them in messages."""
        held: list[Secret | None] = [self._token, *self._retired]
        if self._oauth is not None:
            held += [self._oauth.refresh_token, self._oauth.client_secret]
        return [s.reveal() for s in held if s is not None]

    def mask(self, text: str) -> str:
        """``text`` with every secret the wire holds replaced by ``***``."""
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """One exchange, as ``requests.Session.request``: with the timeout and the access
        token, retried when safe, renewed once after a 401."""
        if self._oauth is not None and self._token is None:
            self.refresh()
        verb = method.upper()
        if (
            verb == "PATCH"
            and "/jobs/ingest/" in url
            and "UploadComplete" in str(kwargs.get("data"))
        ):
            self.handed_over = url.rstrip("/").rsplit("/", 1)[-1]
        response = self._exchange(method, url, kwargs, authorise=True, repeatable=verb == "GET")
        if int(response.status_code) == 401 and self._oauth is not None:
            self.refresh()
            response = self._exchange(method, url, kwargs, authorise=True, repeatable=verb == "GET")
        return response

    def _exchange(
        self,
        method: str,
        url: str,
        kwargs: Mapping[str, Any],
        *,
        authorise: bool,
        repeatable: bool,
    ) -> Any:
        requests = _requests()
        failures = (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        )
        path = urlsplit(url).path  # never the query string: SOQL holds email addresses
        attempt = 0
        while True:
            attempt += 1
            sent = dict(kwargs)
            sent.setdefault("timeout", self.timeout)
            if authorise and self._token is not None:
                headers = dict(sent.get("headers") or {})
                headers["Authorization"] = f"Bearer {self._token.reveal()}"
                sent["headers"] = headers
            asked = 0.0
            response: Any = None
            reason: str | None
            try:
                response = self._session.request(method, url, **sent)
            except failures as error:
                response, reason = None, type(error).__name__
            else:
                reason = _transient(response)
                if reason is None:
                    return response
                asked = retry_after(response.headers)
                self.retry_after = asked
            if not repeatable or self.spent >= self.retries:
                if response is not None:
                    return response
                raise CrmUnavailableError(
                    f"{method} {path}: no answer ({reason}) after {attempt} attempt(s)",
                    operation="request",
                )
            self.spent += 1
            wait = max(float(self.backoff(self.spent)), asked)
            _log.warning(
                "Salesforce %s %s: %s; retry %d of %d in %.1fs",
                method,
                path,
                reason,
                self.spent,
                self.retries,
                wait,
            )
            self.sleep(wait)

    def refresh(self) -> None:
        """Renew the access token with the refresh token (Salesforce's OAuth 2.0 refresh
        token flow: a form POST of ``grant_type=refresh_token``, ``refresh_token``,
        ``client_id`` and, when given, ``client_secret`` to ``/services/oauth2/token``,
        answered with ``access_token``, ``instance_url``, ``id``, ``issued_at``,
        ``signature``, ...).  A refused refresh (``invalid_grant``: revoked or expired)
        raises :class:`CrmAuthenticationError`, and every later call raises it again
        without asking."""
        oauth = self._oauth
        if oauth is None:
            raise CrmAuthenticationError(
                "the session was refused and no refresh token was given", operation="refresh"
            )
        if self._refusal is not None:
            message, code, status = self._refusal
            raise CrmAuthenticationError(message, code=code, status=status, operation="refresh")
        form = {
            "grant_type": "refresh_token",
            "refresh_token": oauth.refresh_token.reveal(),
            "client_id": oauth.client_id,
        }
        if oauth.client_secret is not None:
            form["client_secret"] = oauth.client_secret.reveal()
        response = self._exchange(
            "POST",
            oauth.token_url,
            {
                "data": form,
                "headers": {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                },
            },
            authorise=False,
            repeatable=True,
        )
        status = int(response.status_code)
        body = _json(response)
        body = body if isinstance(body, dict) else {}
        if status != 200:
            error = body.get("error")
            code = error if isinstance(error, str) else None
            description = self.mask(str(body.get("error_description") or "no description"))
            if status in RETRY_STATUSES:
                raise CrmUnavailableError(
                    f"the token endpoint did not answer ({description})",
                    code=code,
                    status=status,
                    operation="refresh",
                )
            message = (
                f"the OAuth refresh token was refused ({code or 'no error code'}: "
                f"{description}); authorise the connected app again and connect with the "
                "new refresh token"
            )
            self._refusal = (message, code, status)
            raise CrmAuthenticationError(message, code=code, status=status, operation="refresh")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise CrmAuthenticationError(
                "the token endpoint answered without an access_token",
                status=status,
                operation="refresh",
            )
        if self._token is not None:
            self._retired.append(self._token)
        self._token = Secret(token, "access_token")
        rotated = body.get("refresh_token")  # refresh token rotation hands out a new one
        if isinstance(rotated, str) and rotated and rotated != oauth.refresh_token.reveal():
            self._retired.append(oauth.refresh_token)
            oauth.refresh_token = Secret(rotated, "refresh_token")
            if oauth.on_refresh_token is not None:  # the caller keeps it for later processes
                oauth.on_refresh_token(oauth.refresh_token)
        _log.info("Salesforce access token renewed (issued_at %s)", body.get("issued_at"))


# ----------------------------------------------------------------------------- adapter


@attrs.frozen
class _Slot:
    """A person's membership of a campaign: one ``CampaignMember`` at most."""

    campaign: str
    person: str


@attrs.define
class _MemberPlan:
    """Where each saved member goes (see :meth:`SalesforceCrm.save_members`)."""

    own: dict[MemberRef, MemberRecord] = attrs.field(factory=dict)
    updates: dict[MemberRef, tuple[str, MemberRef | None]] = attrs.field(factory=dict)
    inserts: list[MemberRef] = attrs.field(factory=list)
    deletes: dict[str, MemberRef] = attrs.field(factory=dict)
    standard: list[MemberRef] = attrs.field(factory=list)


class SalesforceCrm(CrmStore):
    """Salesforce as a :class:`~cmsf_core.ports.crm.CrmStore`.

    ``sf``: a ``simple_salesforce.Salesforce`` connection (or use :meth:`connect`); the
    adapter routes its HTTP exchanges through its own wire (it sets ``sf.session``).
    ``field_map``: the objects and fields used.  ``bulk_wait``: seconds the client waits
    before it first polls a Bulk 2.0 job.  ``timeout``: seconds for each HTTP exchange.
    ``retries``: further attempts after a transient failure (a connection failure or
    timeout, HTTP 429/5xx, ``SERVER_UNAVAILABLE``, ``REQUEST_LIMIT_EXCEEDED``) of what is
    safe to repeat, waiting ``backoff(n)`` seconds (or the ``Retry-After`` asked for, up to
    60) before retry ``n``; ``sleep`` does the waiting (inject one in tests).
    """

    def __init__(
        self,
        sf: Any,
        *,
        field_map: FieldMap = DEFAULT_FIELD_MAP,
        bulk_wait: float = 5,
        timeout: float = 30,
        retries: int = 3,
        backoff: Callable[[int], float] = default_backoff,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(field_map, FieldMap):
            raise InvalidTypeError("field_map", "a FieldMap", field_map)
        _check_policy(
            timeout=timeout, retries=retries, backoff=backoff, sleep=sleep, bulk_wait=bulk_wait
        )
        session = getattr(sf, "session", None)
        if session is None:
            raise withheld_type_error("sf", "a simple_salesforce.Salesforce connection", sf)
        wire = session if isinstance(session, _Wire) else _Wire(session)
        sf.session = wire
        wire.timeout, wire.retries, wire.backoff, wire.sleep = (
            float(timeout),
            retries,
            backoff,
            sleep,
        )
        self._sf = sf
        self._wire = wire
        self.field_map = field_map
        self.bulk_wait = bulk_wait
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep

    @classmethod
    def connect(
        cls,
        instance_url: str,
        session_id: str | Secret | None = None,
        *,
        refresh_token: str | Secret | None = None,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        login_url: str | None = None,
        on_refresh_token: Callable[[Secret], object] | None = None,
        session: Any = None,
        field_map: FieldMap = DEFAULT_FIELD_MAP,
        bulk_wait: float = 5,
        timeout: float = 30,
        retries: int = 3,
        backoff: Callable[[int], float] = default_backoff,
        sleep: Callable[[float], None] = time.sleep,
    ) -> SalesforceCrm:
        """Connect to ``instance_url`` with an OAuth access token (``session_id``), or with
        a refresh token (``refresh_token``, the connected app's ``client_id`` and, if it
        requires one, ``client_secret``), or both: the access token is then renewed from
        ``{login_url or instance_url}/services/oauth2/token`` whenever Salesforce refuses
        it (HTTP 401).  Without an access token the first call obtains one.  When the
        connected app rotates refresh tokens, ``on_refresh_token`` is called with each new
        one (a :class:`~cmsf_core.domain.connection.Secret`), to be stored for the next
        process; the adapter itself uses it from then on.  ``session``:
        the ``requests.Session`` to send through (a new one when omitted).  The other
        arguments are the constructor's."""
        instance = _https_url(instance_url, "instance_url")
        _check_policy(
            timeout=timeout, retries=retries, backoff=backoff, sleep=sleep, bulk_wait=bulk_wait
        )
        token = None if session_id is None else _secret(session_id, "session_id")
        oauth = None
        if on_refresh_token is not None and not callable(on_refresh_token):
            raise InvalidTypeError(
                "on_refresh_token", "a function of the new refresh token", on_refresh_token
            )
        if refresh_token is not None:
            if not isinstance(client_id, str) or not client_id.strip():
                raise InvalidValueError(
                    "client_id",
                    "the connected app's consumer key (needed with refresh_token)",
                    client_id,
                )
            root = instance if login_url is None else _https_url(login_url, "login_url")
            oauth = _OAuth(
                f"{root}/services/oauth2/token",
                _secret(refresh_token, "refresh_token"),
                client_id,
                None if client_secret is None else _secret(client_secret, "client_secret"),
                on_refresh_token,
            )
        elif client_secret is not None or client_id is not None or on_refresh_token is not None:
            raise InvalidValueError(
                "refresh_token",
                "a refresh token when client_id, client_secret or on_refresh_token is given",
                None,
            )
        if token is None and oauth is None:
            raise InvalidValueError(
                "session_id", "an OAuth access token, or refresh_token and client_id", None
            )
        wire = _Wire(
            session if session is not None else _requests().Session(), token=token, oauth=oauth
        )
        sf = _simple_salesforce().Salesforce(
            instance_url=instance, session_id=_PLACEHOLDER, session=wire
        )
        return cls(
            sf,
            field_map=field_map,
            bulk_wait=bulk_wait,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        instance = getattr(self._sf, "sf_instance", "?")
        return f"SalesforceCrm({instance!r}, session withheld)"

    # -- the wire ----------------------------------------------------------------------

    def _mask(self, text: str) -> str:
        session_id = getattr(self._sf, "session_id", None)
        if isinstance(session_id, str) and session_id and session_id != _PLACEHOLDER:
            text = text.replace(session_id, "***")
        return self._wire.mask(text)

    def _guard(self, operation: str, action: Callable[[], Any], *, insert: bool = False) -> Any:
        """Run one client call, mapping the client's errors to :class:`CrmError`.

        A transient failure (see the class docstring) repeats the whole call, sharing the
        operation's ``retries`` with the wire's own retries of reads: queries, upserts on
        an external id, updates and deletes leave the same state when run twice.  A Bulk
        insert is repeated only when its job never received its records (the failure came
        before the request closing the job was sent): after it, Salesforce may have
        inserted some of them, and a second job could insert them twice, so the failure is
        raised with the job id instead."""
        wire = self._wire
        wire.spent = 0
        while True:
            wire.begin_attempt()
            try:
                return action()
            except InvalidValueError:
                raise
            except CrmError as error:
                failure, transient = error, isinstance(error, CrmUnavailableError)
            except Exception as error:  # every client failure becomes a CrmError
                failure, transient = self._translate(error, operation)
            job = wire.handed_over if insert else None
            if transient and job is not None:
                why = failure.code or (f"HTTP {failure.status}" if failure.status else "no answer")
                raise CrmUnavailableError(
                    f"the bulk insert job {job} failed ({why}) after it was sent its records, so "
                    "it is not repeated (a second job could insert them twice): check the job "
                    "in Setup > Bulk Data Load Jobs before writing again",
                    code=failure.code,
                    status=failure.status,
                    operation=operation,
                ) from None
            if not transient or wire.spent >= self.retries:
                raise failure from None
            wire.spent += 1
            wait = max(float(self.backoff(wire.spent)), wire.retry_after)
            _log.warning(
                "Salesforce %s: %s failure (%s); retry %d of %d in %.1fs",
                operation,
                type(failure).__name__,
                failure.code or (f"HTTP {failure.status}" if failure.status else "no answer"),
                wire.spent,
                self.retries,
                wait,
            )
            self._sleep(wait)

    def _translate(self, error: Exception, operation: str) -> tuple[CrmError, bool]:
        """The :class:`CrmError` for a client failure, and whether it is transient."""
        status = getattr(error, "status", None)
        content = getattr(error, "content", None)
        code = _error_code(content)
        message = type(error).__name__
        if isinstance(content, list) and content and isinstance(content[0], dict):
            message = self._mask(str(content[0].get("message", message)))
        status = status if isinstance(status, int) else None
        if status == 401 or code == "INVALID_SESSION_ID":
            return (
                CrmAuthenticationError(message, code=code, status=status, operation=operation),
                False,
            )
        if status in RETRY_STATUSES or code in TRANSIENT_CODES or isinstance(error, OSError):
            return (
                CrmUnavailableError(message, code=code, status=status, operation=operation),
                True,
            )
        if status is None or status >= 500:  # a failed or aborted Bulk job, an odd answer
            return (
                CrmUnavailableError(message, code=code, status=status, operation=operation),
                False,
            )
        return CrmError(message, code=code, status=status, operation=operation), False

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
            insert=verb == "insert",
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
        """The client's checkpoint from ``checkpoint`` (keyed by client id)."""
        own = self.field_map.checkpoint
        rows = self._own_rows("checkpoint", own, f"{own.key} = {{key}}", key=client_id)
        rows = [r for r in rows if r[own.key] == client_id]  # SOQL's = ignores case
        return _checkpoint(rows[0][own.data]) if rows else Checkpoint(client_id)

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        """Every Campaign with its CampaignMemberStatus rows, by ``campaign_key`` (the
        Salesforce Id when the key is empty)."""
        return self._read_campaigns("campaigns")[0]

    def _read_campaigns(self, operation: str) -> tuple[dict[str, CrmCampaign], dict[str, str]]:
        """The campaigns by key, and their Salesforce Ids by key."""
        fm = self.field_map
        rows = self._query(
            operation,
            f"SELECT Id, {fm.campaign_key}, {fm.campaign_name}, {fm.campaign_created}, "
            f"{fm.campaign_statistics} FROM {fm.campaign}",
        )
        statuses: defaultdict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for sf_id, found in self._status_rows(operation, [r["Id"] for r in rows]).items():
            for row in found:
                statuses[sf_id].append(
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
        found_campaigns, ids = {}, {}
        for row in rows:
            key = row[fm.campaign_key] or row["Id"]
            stats = row[fm.campaign_statistics]
            ids[key] = row["Id"]
            found_campaigns[key] = CrmCampaign(
                key,
                row[fm.campaign_name],
                tuple(s for *_order, s in sorted(statuses[row["Id"]], key=lambda t: t[:2])),
                created_by_integration=bool(row[fm.campaign_created]),
                statistics=None if not stats else CampaignSummary(**json.loads(stats)),
            )
        return found_campaigns, ids

    def _status_rows(
        self, operation: str, campaign_sf_ids: Iterable[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The CampaignMemberStatus rows of each campaign, by the campaign's Id."""
        found: dict[str, list[dict[str, Any]]] = {sf_id: [] for sf_id in campaign_sf_ids}
        for row in self._query_in(
            operation,
            "SELECT Id, CampaignId, Label, IsDefault, HasResponded, SortOrder "
            f"FROM {self.field_map.member_status} WHERE CampaignId IN {{values}}",
            list(found),
        ):
            found.setdefault(row["CampaignId"], []).append(row)
        return found

    def _campaign_ids(self) -> dict[str, str]:
        """Salesforce Id by campaign key."""
        fm = self.field_map
        rows = self._query("campaigns", f"SELECT Id, {fm.campaign_key} FROM {fm.campaign}")
        return {r[fm.campaign_key] or r["Id"]: r["Id"] for r in rows}

    def links(self) -> Mapping[str, CampaignLink]:
        """The campaign links (``campaign_link``), by platform campaign id."""
        own = self.field_map.campaign_link
        links = (CampaignLink(*json.loads(r[own.data])) for r in self._own_rows("links", own))
        return {link.platform_campaign_id: link for link in links}

    def platform_campaigns(self) -> Mapping[str, PlatformCampaign]:
        """The stored platform campaigns (``platform_campaign``), by campaign id."""
        own = self.field_map.platform_campaign
        found = (_platform_campaign(r[own.data]) for r in self._own_rows("platform_campaigns", own))
        return {c.campaign_id: c for c in found}

    def members(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, MemberRecord]:
        """Matched members from ``CampaignMember``, the others from the integration's own
        object; a member found in both (a move a failure interrupted, until the next
        save) is read from ``CampaignMember``."""
        own, m = self.field_map.campaign_member, self.field_map.member
        texts = [_ref_text(r) for r in refs]
        found = self._own_members("members", f"{own.key} IN {{values}}", texts)
        found.update(self._standard_members("members", f"{m.key} IN {{values}}", texts))
        wanted = set(refs)  # SOQL compares text without regard to case: keep exact matches
        return {ref: record for ref, record in found.items() if ref in wanted}

    def members_of(self, campaign_ids: Collection[str]) -> Sequence[MemberRecord]:
        """Every member of these platform campaigns, from both objects (see
        :meth:`members`)."""
        own, m = self.field_map.campaign_member, self.field_map.member
        ids = _ids("campaign_ids", campaign_ids)
        found = self._own_members("members_of", f"{own.field('campaign')} IN {{values}}", ids)
        found.update(
            self._standard_members("members_of", f"{m.platform_campaign} IN {{values}}", ids)
        )
        wanted = set(ids)
        return tuple(r for ref, r in found.items() if ref.campaign_id in wanted)

    def unmatched_members(self) -> Sequence[MemberRecord]:
        """The waiting members without a person (a member already in
        ``CampaignMember`` is not one, even if its waiting row is still there)."""
        own, m = self.field_map.campaign_member, self.field_map.member
        rows = self._own_rows("unmatched_members", own, f"{own.field('person')} = null")
        waiting = {record.ref: record for record in (_member(r[own.data]) for r in rows)}
        matched = self._standard_members(
            "unmatched_members", f"{m.key} IN {{values}}", [_ref_text(r) for r in waiting]
        )
        return tuple(r for ref, r in waiting.items() if ref not in matched)

    def _own_members(
        self, operation: str, where: str, values: Iterable[str]
    ) -> dict[MemberRef, MemberRecord]:
        own = self.field_map.campaign_member
        rows = self._own_rows(operation, own, where, values)
        return {record.ref: record for record in (_member(r[own.data]) for r in rows)}

    def _member_select(self) -> str:
        m = self.field_map.member
        fields = [
            "Id",
            m.campaign,
            m.contact,
            m.lead,
            m.status,
            m.key,
            m.platform_campaign,
            m.email,
            m.activity,
            m.activity_date,
            *m.counters.values(),
        ]
        return ", ".join(fields)

    def _member_rows(
        self, operation: str, where: str, values: Iterable[str], **params: Any
    ) -> list[dict[str, Any]]:
        m = self.field_map.member
        soql = f"SELECT {self._member_select()} FROM {m.name} WHERE {where}"
        return self._query_in(operation, soql, values, **params)

    def _standard_members(
        self, operation: str, where: str, values: Iterable[str]
    ) -> dict[MemberRef, MemberRecord]:
        rows = self._member_rows(operation, where, values)
        if not rows:
            return {}
        keys = {sf_id: key for key, sf_id in self._campaign_ids().items()}
        found = (self._standard_member(row, keys) for row in rows)
        return {record.ref: record for record in found if record is not None}

    def _standard_member(
        self, row: Mapping[str, Any], campaign_keys: Mapping[str, str]
    ) -> MemberRecord | None:
        """A ``CampaignMember`` row as a member (``None`` for a row without the
        integration's key, or of an unknown campaign)."""
        m = self.field_map.member
        ref = _parse_ref(row.get(m.key))
        campaign = campaign_keys.get(row.get(m.campaign) or "")
        if ref is None or campaign is None:
            return None
        activity, at = row.get(m.activity), row.get(m.activity_date)
        if not activity or not at:  # both or neither (a hand edit may clear one)
            activity = at = None
        member = CampaignMember(
            ref.campaign_id,
            ref.member_id,
            status=row.get(m.status) or None,
            activity=activity,
            activity_date=None if at is None else _parse_time(at),
            engagement=Engagement(
                **{name: _count(row.get(field)) for name, field in m.counters.items()}
            ),
        )
        person = row.get(m.contact) or row.get(m.lead) or None
        return MemberRecord(campaign, member, row.get(m.email) or ref.member_id, person)

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        """The tracking records of each member, by member ref."""
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
        """Every tracking record of these clients."""
        own = self.field_map.tracking_record
        rows = self._own_rows(
            "records_of_clients", own, f"{own.field('client')} IN {{values}}", client_ids
        )
        return [_activity(r[own.data]) for r in rows]

    def existing_keys(self, keys: Collection[ActivityKey]) -> Collection[ActivityKey]:
        """Which of ``keys`` are stored (matched exactly: SOQL ignores case)."""
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
        """The records of each type that occurred before its cutoff (one SOQL
        date-time literal per type)."""
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
        """Contacts and leads by normalised email; a contact carries its account."""
        fm = self.field_map
        wanted = {normalise_email(e) for e in emails}
        found: defaultdict[str, list[Person]] = defaultdict(list)
        for kind, obj in ((PersonKind.CONTACT, fm.contact), (PersonKind.LEAD, fm.lead)):
            rows = self._query_in(
                "find_people",
                f"SELECT {self._person_select(kind)} FROM {obj} "
                f"WHERE {fm.person_email} IN {{values}}",
                sorted(wanted),
            )
            for row in rows:
                email = normalise_email(row[fm.person_email])
                if email in wanted:  # SOQL compares text without regard to case
                    found[email].append(self._person(row, kind))
        return {e: tuple(sorted(p, key=lambda x: x.person_id)) for e, p in found.items()}

    def contacts_of_accounts(
        self, account_ids: Collection[str]
    ) -> Mapping[str, tuple[Person, ...]]:
        """Contacts by ``AccountId`` (the field map's ``contact_account``), ``IN`` lists
        sent 200 ids at a time.  A contact without an email is left out (a
        :class:`~cmsf_core.domain.records.Person` has one).  An account asked for by its
        15-character id is answered under that id."""
        fm = self.field_map
        wanted = _ids("account_ids", account_ids)
        exact = set(wanted)
        by_prefix = {account[:15]: account for account in wanted}
        rows = self._query_in(
            "contacts_of_accounts",
            f"SELECT {self._person_select(PersonKind.CONTACT)} FROM {fm.contact} "
            f"WHERE {fm.contact_account} IN {{values}} AND {fm.person_email} != null",
            wanted,
        )
        found: defaultdict[str, list[Person]] = defaultdict(list)
        for row in rows:
            account = row.get(fm.contact_account) or ""
            asked = account if account in exact else by_prefix.get(account[:15])
            if asked is not None and row.get(fm.person_email):
                found[asked].append(self._person(row, PersonKind.CONTACT))
        return {a: tuple(sorted(p, key=lambda x: x.person_id)) for a, p in found.items()}

    def _person_select(self, kind: PersonKind) -> str:
        fm = self.field_map
        fields = f"Id, {fm.person_email}, {fm.person_modified}, {fm.person_opt_out}"
        return fields + (f", {fm.contact_account}" if kind is PersonKind.CONTACT else "")

    def _person(self, row: Mapping[str, Any], kind: PersonKind) -> Person:
        fm = self.field_map
        account = row.get(fm.contact_account) if kind is PersonKind.CONTACT else None
        return Person(
            row["Id"],
            kind,
            row[fm.person_email],
            _parse_time(row[fm.person_modified]),
            email_opt_out=bool(row[fm.person_opt_out]),
            account_id=account or None,
        )

    def suppression_records(self) -> Sequence[SuppressionRecord]:
        """Every suppression record (``suppression_record``)."""
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
        """Update ``HasOptedOutOfEmail`` on contacts and leads (one job per object)."""
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
        """Delete, update and insert suppression records, run by run in the given order."""
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
        """Upsert checkpoints one by one; an earlier watermark raises
        :class:`~cmsf_core.domain.errors.InvalidValueError`."""
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
        """Upsert the platform campaigns on their campaign id."""
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
        """Upsert the campaigns not there yet (by ``campaign_key``), reconcile each new
        campaign's member statuses with the ones Salesforce created (see
        :meth:`_reconcile_statuses`), and store the links.  An existing campaign is left
        as it is.  A campaign whose upsert or statuses were refused is a failure keyed by
        its campaign id."""
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
        _done, failures = self._bulk(
            "create_campaigns",
            fm.campaign,
            "upsert",
            rows,
            lambda r: r.get(fm.campaign_key),
            external_id_field=fm.campaign_key,
        )
        refused = {item for item, _reason in failures}
        ids = self._campaign_ids() if new else before
        created = {
            ids[key]: campaign for key, campaign in new.items() if key in ids and key not in refused
        }
        failures += self._reconcile_statuses(created)
        own = fm.campaign_link
        link_rows = {
            link.platform_campaign_id: {
                own.key: link.platform_campaign_id,
                own.data: json.dumps(attrs.astuple(link)),
            }
            for link in links
        }
        done, failed = self._upsert_own("create_campaigns", own, list(link_rows.values()))
        refused = {item for item, _reason in failures}
        written = sum(1 for c in campaigns if c.campaign_id not in refused)
        written += done + len(links) - len(link_rows)
        return WriteResult(written, tuple(failures + failed))

    def _reconcile_statuses(self, created: Mapping[str, CrmCampaign]) -> list[tuple[object, str]]:
        """Give each new campaign (by Salesforce Id) exactly the statuses it asks for.

        When Salesforce inserts a Campaign it creates two CampaignMemberStatus rows by
        itself (:data:`AUTO_STATUSES`): "Sent" (``IsDefault``) and "Responded"
        (``HasResponded``).  The CampaignMemberStatus object reference adds the rules the
        order below follows: a status that is the default cannot be deleted, a campaign
        always has a default (API 39.0 and later), and ``SortOrder`` is unique within a
        campaign.  One Bulk job per step, for all the campaigns at once:

        1. the default asked for becomes the default: the row with its label is updated
           (``IsDefault`` true, which takes the flag from the old default), or inserted
           (on a free ``SortOrder`` for now);
        2. the statuses not asked for are deleted (the old default is no longer one);
        3. the kept statuses get their ``HasResponded``, ``IsDefault`` and ``SortOrder``;
           when one would take an order another still holds, they move through free
           orders first;
        4. the missing statuses are inserted.

        A campaign whose step 1 was refused is left there (its failure reported).
        Salesforce also requires a responded status on every campaign (API 39.0 and
        later): a campaign asking for none keeps "Responded", refused per item.
        """
        if not created:
            return []
        operation = "create_campaigns"
        obj = self.field_map.member_status
        key_of = {sf_id: campaign.campaign_id for sf_id, campaign in created.items()}
        owner: dict[str, str] = {}
        failures: list[tuple[object, str]] = []

        def read() -> dict[str, list[dict[str, Any]]]:
            found = self._status_rows(operation, created)
            owner.update(
                (row["Id"], key_of[sf_id]) for sf_id, rows in found.items() for row in rows
            )
            return found

        def who(row: Mapping[str, str]) -> object:
            campaign = row.get("CampaignId", "")
            return key_of.get(campaign) or owner.get(row.get("Id", ""), row.get("Id"))

        def run(verb: str, rows: list[dict[str, str]]) -> bool:
            failures.extend(self._bulk(operation, obj, verb, rows, who)[1])
            return bool(rows)

        current = read()
        updates, inserts = [], []
        for sf_id, campaign in created.items():
            want = next(s for s in campaign.statuses if s.is_default)
            row = next((r for r in current[sf_id] if r["Label"] == want.label), None)
            if row is None:
                taken = {int(r["SortOrder"] or 0) for r in current[sf_id]}
                order = want.sort_order if want.sort_order not in taken else max(taken) + 1
                inserts.append(self._status_row(sf_id, attrs.evolve(want, sort_order=order)))
            elif not row["IsDefault"]:
                updates.append({"Id": row["Id"], "IsDefault": "true"})
        changed = run("update", updates) | run("insert", inserts)
        skipped = {item for item, _reason in failures}
        todo = {sf_id: c for sf_id, c in created.items() if c.campaign_id not in skipped}
        current = read() if changed else current
        deletes = [
            {"Id": row["Id"]}
            for sf_id, campaign in todo.items()
            for row in current[sf_id]
            if not campaign.has_status(row["Label"])
        ]
        current = read() if run("delete", deletes) else current
        bumps, finals, missing = [], [], []
        for sf_id, campaign in todo.items():
            have = {row["Label"]: row for row in current[sf_id]}
            orders = {int(row["SortOrder"] or 0): row["Id"] for row in current[sf_id]}
            changes = [
                (have[s.label], s)
                for s in campaign.statuses
                if s.label in have and _status_differs(have[s.label], s)
            ]
            moves = [(row, s) for row, s in changes if int(row["SortOrder"] or 0) != s.sort_order]
            if any(orders.get(s.sort_order, row["Id"]) != row["Id"] for row, s in moves):
                top = max([*orders, *(s.sort_order for s in campaign.statuses)]) + 1
                bumps += [
                    {"Id": row["Id"], "SortOrder": str(top + n)}
                    for n, (row, _s) in enumerate(moves)
                ]
            finals += [
                {
                    "Id": row["Id"],
                    "IsDefault": _cell(s.is_default),
                    "HasResponded": _cell(s.has_responded),
                    "SortOrder": str(s.sort_order),
                }
                for row, s in changes
            ]
            missing += [
                self._status_row(sf_id, s) for s in campaign.statuses if s.label not in have
            ]
        run("update", bumps)
        run("update", finals)
        run("insert", missing)
        return failures

    @staticmethod
    def _status_row(
        campaign_sf_id: str, status: MemberStatus, *, default: bool | None = None
    ) -> dict[str, str]:
        return {
            "CampaignId": campaign_sf_id,
            "Label": status.label,
            "IsDefault": _cell(status.is_default if default is None else default),
            "HasResponded": _cell(status.has_responded),
            "SortOrder": str(status.sort_order),
        }

    def add_statuses(self, statuses: Sequence[tuple[str, MemberStatus]]) -> WriteResult:
        """Insert the labels a campaign lacks (never as its default); a campaign that
        does not exist is a failure keyed by its id."""
        campaigns, ids = self._read_campaigns("add_statuses")
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
        """Upsert the tracking records not stored yet, on their key."""
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
        """Delete the stored tracking records among ``keys``."""
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
        """Upsert campaign members, one per member ref (the last one given wins).

        A member with a person and a status is a standard ``CampaignMember``: ``CampaignId``
        (its CRM campaign), ``ContactId`` or ``LeadId`` (by the person id's prefix),
        ``Status``, and the integration's fields (:class:`MemberFields`).  Salesforce keeps
        one ``CampaignMember`` per campaign and person and lets neither be changed on an
        existing one, so the member takes that person's existing membership of the campaign
        (updated in place, even one added by hand), or a new one is inserted.  Any other
        member waits in the integration's own object (``campaign_member``): one without a
        person yet, one without a status, or one whose person's membership of the campaign
        belongs to another member not saved now.

        The steps run so that a member is never lost: first the own object's rows (a
        member leaving ``CampaignMember`` is copied there before its row goes), then the
        deletions of rows no member keeps, the updates (a row taken over from another
        member has its key cleared first: the key is unique), the insertions, and last
        the removal of the own object's rows of the members now in ``CampaignMember``.  A
        member whose step was refused is a failure keyed by its ref, and the next save of
        it finishes the move.
        """
        campaigns, sf_ids = self._read_campaigns("save_members")
        refusals: list[tuple[object, str]] = []
        latest: dict[MemberRef, MemberRecord] = {}
        accepted: list[MemberRef] = []
        for record in members:
            campaign = campaigns.get(record.crm_campaign_id)
            status = record.member.status
            if campaign is None:
                refusals.append(
                    (
                        record.ref,
                        f"ENTITY_IS_DELETED: campaign {record.crm_campaign_id} does not exist",
                    )
                )
                continue
            if status is not None and not campaign.has_status(status):
                refusals.append(
                    (
                        record.ref,
                        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Status: "
                        f"bad value for restricted picklist field: {status}",
                    )
                )
                continue
            latest[record.ref] = record
            accepted.append(record.ref)
        failed = self._write_members(latest, sf_ids) if latest else {}
        written = sum(1 for ref in accepted if ref not in failed)
        return WriteResult(written, tuple(refusals + list(failed.items())))

    def _plan_members(
        self, latest: Mapping[MemberRef, MemberRecord], sf_ids: Mapping[str, str]
    ) -> _MemberPlan:
        """Where each member goes, from the ``CampaignMember`` rows holding their refs and
        the rows of the (campaign, person) memberships they want."""
        m = self.field_map.member
        operation = "save_members"
        current: dict[MemberRef, dict[str, Any]] = {}
        texts = [_ref_text(ref) for ref in latest]
        for row in self._member_rows(operation, f"{m.key} IN {{values}}", texts):
            ref = _parse_ref(row.get(m.key))
            if ref is not None and ref in latest:
                current.setdefault(ref, row)
        targets: dict[MemberRef, _Slot] = {
            ref: _Slot(sf_ids[record.crm_campaign_id], record.person_id)
            for ref, record in latest.items()
            if record.person_id is not None and record.member.status is not None
        }
        by_slot: dict[_Slot, dict[str, Any]] = {}
        for row in current.values():
            by_slot[self._slot_of(row)] = row
        for field in (m.contact, m.lead):
            persons = sorted({s.person for s in targets.values() if m.person(s.person) == field})
            for campaigns in _chunks(sorted({s.campaign for s in targets.values()})):
                for row in self._member_rows(
                    operation,
                    f"{m.campaign} IN {{campaigns}} AND {field} IN {{values}}",
                    persons,
                    campaigns=campaigns,
                ):
                    by_slot.setdefault(self._slot_of(row), row)

        def holder_of(slot: _Slot) -> MemberRef | None:
            held = by_slot.get(slot)
            return None if held is None else _parse_ref(held.get(m.key))

        owner: dict[_Slot, MemberRef] = {}
        for ref, slot in targets.items():  # a member keeps the membership it holds
            if slot in by_slot and holder_of(slot) == ref:
                owner[slot] = ref
        for ref, slot in targets.items():  # a free one goes to the first member asking
            holder = holder_of(slot)
            if slot not in owner and (holder is None or holder in latest):
                owner[slot] = ref
        plan = _MemberPlan()
        for ref, record in latest.items():
            wanted = targets.get(ref)
            if wanted is None or owner.get(wanted) != ref:
                plan.own[ref] = record
                continue
            plan.standard.append(ref)
            held = by_slot.get(wanted)
            if held is None:
                plan.inserts.append(ref)
            else:
                holder = holder_of(wanted)
                plan.updates[ref] = (held["Id"], None if holder in (None, ref) else holder)
            old = current.get(ref)
            if old is not None and (held is None or old["Id"] != held["Id"]):
                plan.own[ref] = record  # a copy, until its new membership is written
        kept = {row_id for row_id, _holder in plan.updates.values()}
        plan.deletes = {row["Id"]: ref for ref, row in current.items() if row["Id"] not in kept}
        return plan

    def _slot_of(self, row: Mapping[str, Any]) -> _Slot:
        m = self.field_map.member
        return _Slot(row[m.campaign], row.get(m.contact) or row.get(m.lead) or "")

    def _write_members(
        self, latest: Mapping[MemberRef, MemberRecord], sf_ids: Mapping[str, str]
    ) -> dict[MemberRef, str]:
        """Carry out :meth:`_plan_members`; the refused members, with why."""
        fm = self.field_map
        own, m = fm.campaign_member, fm.member
        operation = "save_members"
        plan = self._plan_members(latest, sf_ids)
        failed: dict[MemberRef, str] = {}
        by_text = {_ref_text(ref): ref for ref in latest}
        by_id = {row_id: ref for ref, (row_id, _holder) in plan.updates.items()}
        by_id.update(plan.deletes)

        def note(refused: list[tuple[object, str]]) -> None:
            for item, reason in refused:
                if isinstance(item, MemberRef):
                    failed.setdefault(item, reason)

        def key(row: Mapping[str, str]) -> object:
            return by_text.get(row.get(own.key) or row.get(m.key) or "")

        def row_id(row: Mapping[str, str]) -> object:
            return by_id.get(row.get("Id", ""))

        rows = [self._own_member_row(record) for record in plan.own.values()]
        note(self._bulk(operation, own.name, "upsert", rows, key, external_id_field=own.key)[1])
        deletes = [{"Id": sf_id} for sf_id, ref in plan.deletes.items() if ref not in failed]
        note(self._bulk(operation, m.name, "delete", deletes, row_id)[1])
        updates, handed = [], []
        for ref, (sf_id, holder) in plan.updates.items():
            if holder is not None and holder in failed:
                failed[ref] = (
                    "not written: this person's membership of the campaign belongs to another "
                    "member, which could not be moved"
                )
                continue
            if holder is not None:  # the key is unique: the old holder's goes first
                handed.append({"Id": sf_id, m.key: NULL})
            updates.append({"Id": sf_id, **self._member_cells(latest[ref])})
        holders = {row: holder for row, holder in plan.updates.values() if holder is not None}
        for cleared, reason in self._bulk(operation, m.name, "update", handed, _row_id)[1]:
            note([(by_id.get(str(cleared)), reason), (holders.get(str(cleared)), reason)])
        updates = [row for row in updates if by_id[row["Id"]] not in failed]
        note(self._bulk(operation, m.name, "update", updates, row_id)[1])
        inserts = []
        for ref in plan.inserts:
            record = latest[ref]
            if ref in failed or record.person_id is None:
                continue
            person = {m.contact: NULL, m.lead: NULL, m.person(record.person_id): record.person_id}
            inserts.append(
                {
                    m.campaign: sf_ids[record.crm_campaign_id],
                    **person,
                    **self._member_cells(record),
                }
            )
        note(self._bulk(operation, m.name, "insert", inserts, key)[1])
        moved = {_ref_text(ref) for ref in plan.standard if ref not in failed}
        stale = {
            row["Id"]: row[own.key]
            for row in self._own_rows(operation, own, f"{own.key} IN {{values}}", sorted(moved))
            if row[own.key] in moved
        }
        note(
            self._bulk(
                operation,
                own.name,
                "delete",
                [{"Id": sf_id} for sf_id in stale],
                lambda r: by_text.get(stale.get(r.get("Id", ""), "")),
            )[1]
        )
        return failed

    def _own_member_row(self, record: MemberRecord) -> dict[str, str]:
        own = self.field_map.campaign_member
        return {
            own.key: _ref_text(record.ref),
            own.data: _member_json(record),
            own.field("campaign"): record.member.campaign_id,
            own.field("person"): _cell(record.person_id),
        }

    def _member_cells(self, record: MemberRecord) -> dict[str, str]:
        """A member's ``CampaignMember`` fields, but the campaign and the person (which
        Salesforce does not let an update change)."""
        m = self.field_map.member
        member = record.member
        cells = {
            m.key: _ref_text(record.ref),
            m.platform_campaign: member.campaign_id,
            m.email: record.email,
            m.status: _cell(member.status),
            m.activity: _cell(None if member.activity is None else member.activity.value),
            m.activity_date: (
                NULL if member.activity_date is None else _sf_time(member.activity_date)
            ),
        }
        for name, field in m.counters.items():
            cells[field] = str(getattr(member.engagement, name))
        return cells

    def save_statistics(self, statistics: Sequence[tuple[str, CampaignSummary]]) -> WriteResult:
        """Update ``campaign_statistics`` (JSON) on existing campaigns."""
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
        """Append maintenance messages, keyed so that they read back in order."""
        own = self.field_map.maintenance_message
        stamp = time.time_ns()
        rows = [
            {own.key: f"{stamp:020d}-{n:06d}", own.data: _message_json(m)}
            for n, m in enumerate(messages)
        ]
        written, failures = self._upsert_own("add_messages", own, rows)
        return WriteResult(written, tuple(failures))

    def messages(self) -> Sequence[MaintenanceMessage]:
        """The maintenance log, oldest first."""
        own = self.field_map.maintenance_message
        rows = sorted(self._own_rows("messages", own), key=lambda r: r[own.key])
        return tuple(_message(r[own.data]) for r in rows)
