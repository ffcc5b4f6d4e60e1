"""Values to and from what Salesforce stores: JSON long-text fields, Bulk 2.0 CSV cells,
SOQL and REST date-times, and the tracking records' fixed-length external id."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from cmsf_core.adapters.salesforce.field_maps import NULL
from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records.campaigns import MemberStatus
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.platform import PlatformCampaign
from cmsf_core.domain.records.sync_state import Checkpoint

__all__ = ["MAX_EXTERNAL_ID"]

#: The most characters a Salesforce text field (and so an external id) holds.
MAX_EXTERNAL_ID = 255


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
    """The canonical text of an activity key (JSON): what the digest is taken of, kept in
    full beside it.  Before the digest it was the external id itself (a legacy key)."""
    return json.dumps([*key[:2], key.type.value, *key[3:]])


def _key_digest(text: str) -> str:
    """The tracking record's external id: the SHA-256 of the key's canonical text, in hex
    (64 characters, whatever the URL or email: Salesforce's text fields hold 255)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def _member_key(ref: MemberRef) -> str:
    """A campaign member's external id: the SHA-256 of its ref's JSON text, in hex (64
    characters, whatever the email: a 254-character email makes the JSON too long for a
    Salesforce text field)."""
    return hashlib.sha256(_ref_text(ref).encode("utf-8")).hexdigest()


def _member_lookup(refs: Iterable[MemberRef], legacy: bool) -> dict[str, MemberRef]:
    """The external-id values to look members up by: each ref's digest, and with
    ``legacy`` its JSON text too (an earlier version's key; one over 255 characters was
    never stored)."""
    found: dict[str, MemberRef] = {}
    for ref in refs:
        found[_member_key(ref)] = ref
        text = _ref_text(ref)
        if legacy and len(text) <= MAX_EXTERNAL_ID:
            found[text] = ref
    return found


def _row_ref(row: Mapping[str, Any], key: str, full_key: str) -> MemberRef | None:
    """The member ref of a ``CampaignMember`` row: its full key when its external id is
    that key's digest, or the external id itself when it is an earlier version's JSON;
    ``None`` for a row the integration did not write (no key) or whose two keys disagree
    (edited by hand)."""
    stored = row.get(key)
    if not isinstance(stored, str) or not stored:
        return None
    ref = _parse_ref(row.get(full_key))
    if ref is not None and _member_key(ref) == stored:
        return ref
    return _parse_ref(stored)


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


def _status_differs(row: Mapping[str, Any], status: MemberStatus) -> bool:
    """Whether a CampaignMemberStatus row differs from the status asked for."""
    return (
        int(row["SortOrder"] or 0) != status.sort_order
        or bool(row["HasResponded"]) != status.has_responded
        or bool(row["IsDefault"]) != status.is_default
    )
