"""The tracking records' external ids: a fixed-length digest of the activity key.

Salesforce's text fields (an external id is one) hold 255 characters; an activity key
holds a click's whole URL and the email, so it can be longer.  The external id is the
SHA-256 of the key's canonical text (64 hex characters), and the canonical text itself is
kept in the ``full_key`` long-text field: for audit, and to check that a digest match is the
same key (a match whose full key differs raises ``KEY_COLLISION``, never merges).  Stores
written before the digest hold the JSON text as the external id: ``legacy_keys`` finds
those too, and :func:`migrate_legacy_keys` re-keys them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from cmsf_core.adapters.errors import CrmError
from cmsf_core.adapters.salesforce.codec import (
    MAX_EXTERNAL_ID,
    _activity,
    _activity_json,
    _key_digest,
    _key_text,
    _member_key,
    _soql_time,
)
from cmsf_core.domain.activity import Activity, ActivityKey
from cmsf_core.domain.records.members import MemberRef
from cmsf_core.domain.records.sync_state import WriteResult

if TYPE_CHECKING:
    from cmsf_core.adapters.salesforce.crm import SalesforceCrm

__all__ = ["delete_records", "existing_texts", "insert_records", "migrate_legacy_keys"]


def existing_texts(crm: SalesforceCrm, texts: Collection[str]) -> dict[str, list[str]]:
    """The Salesforce Ids of each stored key, by key text: found by digest, and by the
    legacy JSON external id too with ``legacy_keys``; a digest stored with another full key
    raises :class:`~cmsf_core.adapters.errors.CrmError` (``KEY_COLLISION``)."""
    own = crm.field_map.tracking_record
    full = own.fields.get("full_key")
    select = f"Id, {own.key}, {own.data}" + (f", {full}" if full else "")
    by_digest = {_key_digest(text): text for text in texts}
    found: defaultdict[str, list[str]] = defaultdict(list)
    for row in crm._query_in(
        "existing_keys",
        f"SELECT {select} FROM {own.name} WHERE {own.key} IN {{values}}",
        by_digest,
    ):
        text = by_digest.get(row[own.key])
        if text is None:
            continue
        stored = (row.get(full) if full else None) or _key_text(_activity(row[own.data]).key)
        if stored != text:
            raise CrmError(
                f"the tracking record {row['Id']} holds the external id {row[own.key]} "
                "of another key (a digest collision, or a row written by hand): it is "
                "neither merged nor overwritten; check that record",
                code="KEY_COLLISION",
                operation="existing_keys",
            )
        found[text].append(row["Id"])
    if crm.legacy_keys:
        legacy = [t for t in texts if len(t) <= MAX_EXTERNAL_ID]  # longer ones never stored
        for row in crm._query_in(
            "existing_keys",
            f"SELECT Id, {own.key} FROM {own.name} WHERE {own.key} IN {{values}}",
            legacy,
        ):
            if row[own.key] in texts:  # SOQL compares text without regard to case
                found[row[own.key]].append(row["Id"])
    return dict(found)


def insert_records(crm: SalesforceCrm, records: Sequence[Activity]) -> WriteResult:
    """Upsert the tracking records not stored yet, on their key's digest.

    The external id (``key``) is the SHA-256 of the key's canonical text (64
    characters, well under the 255 a text field holds, whatever the click URL or
    email); the canonical text itself is kept in the ``full_key`` long-text field, for
    audit and for the collision check of :meth:`existing_keys`."""
    own = crm.field_map.tracking_record
    full = own.fields.get("full_key")
    fresh: dict[str, Activity] = {}
    for record in records:
        fresh.setdefault(_key_text(record.key), record)
    for text in existing_texts(crm, fresh):
        del fresh[text]
    rows = [
        {
            own.key: _key_digest(text),
            **({full: text} if full else {}),
            own.data: _activity_json(r),
            own.field("client"): r.client_id,
            own.field("member_ref"): _member_key(MemberRef(r.campaign_id, r.member_id)),
            own.field("type"): r.type.value,
            own.field("occurred_at"): _soql_time(r.occurred_at),
        }
        for text, r in fresh.items()
    ]
    keys = {_key_digest(text): r.key for text, r in fresh.items()}
    written, failures = crm._bulk(
        "insert_records",
        own.name,
        "upsert",
        rows,
        lambda row: keys.get(row.get(own.key, "")),
        external_id_field=own.key,
    )
    return WriteResult(written, tuple(failures))


def delete_records(crm: SalesforceCrm, keys: Sequence[ActivityKey]) -> WriteResult:
    """Delete the stored tracking records among ``keys``."""
    texts = {_key_text(k): k for k in keys}
    found = existing_texts(crm, texts)
    by_id = {sf_id: texts[text] for text, ids in found.items() for sf_id in ids}
    _written, failures = crm._delete_ids(
        "delete_records", crm.field_map.tracking_record.name, by_id
    )
    refused = {key for key, _reason in failures}
    written = sum(1 for text in found if texts[text] not in refused)
    return WriteResult(written, tuple(failures))


def migrate_legacy_keys(crm: SalesforceCrm, client_ids: Collection[str]) -> WriteResult:
    """Give the tracking records of these clients stored under the old JSON external id
    (an older version's key) the digest and the full key, and those whose member ref is
    the old JSON the member's digest, in one update job; a record already keyed by its
    digests is left as it is.  Written counts the records re-keyed."""
    own = crm.field_map.tracking_record
    full = own.fields.get("full_key")
    member_ref = own.field("member_ref")
    rows = crm._query_in(
        "migrate_legacy_keys",
        f"SELECT Id, {own.key}, {own.data}, {member_ref} FROM {own.name} "
        f"WHERE {own.field('client')} IN {{values}}",
        client_ids,
    )
    updates: list[dict[str, str]] = []
    keys: dict[str, ActivityKey] = {}
    for row in rows:
        record = _activity(row[own.data])
        text = _key_text(record.key)
        ref = _member_key(MemberRef(record.campaign_id, record.member_id))
        if row[own.key] != _key_digest(text) or row.get(member_ref) != ref:
            updates.append(
                {
                    "Id": row["Id"],
                    own.key: _key_digest(text),
                    **({full: text} if full else {}),
                    member_ref: ref,
                }
            )
            keys[row["Id"]] = record.key
    written, failures = crm._bulk(
        "migrate_legacy_keys", own.name, "update", updates, lambda r: keys.get(r.get("Id", ""))
    )
    return WriteResult(written, tuple(failures))
