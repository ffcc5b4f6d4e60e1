"""A tracking record's id: a 64-bit digest of its key (every part of the key is stored with
the record, in its row or its member's, so a lookup by key checks the record it finds)."""

from __future__ import annotations

import hashlib

from cmsf_core.adapters.sqlite.columns import _READ_ERRORS
from cmsf_core.domain.activity import ActivityKey
from cmsf_core.domain.subscribers import email_key


def _record_id(key: ActivityKey) -> int:
    """A record's row id: the first 8 bytes of the BLAKE2b digest of its key, as a signed
    64-bit integer (see :func:`_key_digest`)."""
    return _key_digest(
        key.client_id,
        key.campaign_id,
        key.type.name,
        key.subject,
        key.list_id,
        key.minute,
        key.detail,
        key.occurrence,
    )


def _key_digest(
    client_id: str,
    campaign_id: str,
    type_name: str,
    subject: str,
    list_id: str | None,
    minute: int,
    detail: str | None,
    occurrence: int,
) -> int:
    """The digest of a key's parts, each text written as ``<length>:<text>``, None as
    ``-`` and an integer in decimal, joined by ``|``: no two keys give the same text."""
    listed = "-" if list_id is None else f"{len(list_id)}:{list_id}"
    detailed = "-" if detail is None else f"{len(detail)}:{detail}"
    text = (
        f"{len(client_id)}:{client_id}|{len(campaign_id)}:{campaign_id}|"
        f"{len(type_name)}:{type_name}|{len(subject)}:{subject}|{listed}|{minute}|"
        f"{detailed}|{occurrence}"
    )
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _stored_record_id(*row: object) -> int | None:
    """:func:`_record_id` of a stored row (``_RECORD_COLUMNS_2``), for the migration of a
    schema 1 store; a row that cannot be read gets a fresh id from SQLite."""
    client_id, campaign_id, member_id, type_name, at, email, list_id, detail, occurrence = row
    if not (
        isinstance(client_id, str)
        and isinstance(campaign_id, str)
        and isinstance(member_id, str)
        and isinstance(type_name, str)
        and isinstance(at, int)
        and (email is None or isinstance(email, str))
        and (list_id is None or isinstance(list_id, str))
        and (detail is None or isinstance(detail, str))
        and isinstance(occurrence, int)
    ):
        return None
    try:
        subject = member_id if email is None else email_key(email)
    except _READ_ERRORS:
        return None
    minute = at // 60_000_000
    return _key_digest(
        client_id, campaign_id, type_name, subject, list_id, minute, detail, occurrence
    )
