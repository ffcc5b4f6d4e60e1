"""The clients' checkpoints (watermark and journal), in the integration's checkpoint object.

A checkpoint is one row keyed by the client id, its value as JSON in the long-text field.
A journal of many pending members outgrows one field (Bulk 2.0 takes at most 32,000
characters a field), so a longer JSON is cut into parts of :data:`PART_CHARS` characters,
each its own row keyed ``{client id}#{digest}#{n}`` (the digest names the version), and the
client's row then holds only the list of its parts.  The parts are written first and the
client's row last: until it is written, the previous version is the one read, whole.  The
previous version's parts are deleted afterwards.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cmsf_core.adapters._store_rules import refuse_older_watermark
from cmsf_core.adapters.errors import CrmError
from cmsf_core.adapters.salesforce.codec import _checkpoint, _checkpoint_json, _row_id
from cmsf_core.domain.records.sync_state import Checkpoint, WriteResult

if TYPE_CHECKING:
    from cmsf_core.adapters.salesforce.crm import SalesforceCrm

__all__ = ["PART_CHARS", "read_checkpoint", "save_checkpoints"]

#: The most characters of a checkpoint's JSON one row holds (Bulk 2.0: 32,000 a field).
PART_CHARS = 30_000


def _head(crm: SalesforceCrm, client_id: str) -> dict[str, Any] | None:
    own = crm.field_map.checkpoint
    rows = crm._own_rows("checkpoint", own, f"{own.key} = {{key}}", key=client_id)
    rows = [r for r in rows if r[own.key] == client_id]  # SOQL's = ignores case
    return rows[0] if rows else None


def _parts_of(text: str) -> list[str] | None:
    """The part keys a client's row lists, or ``None`` for a whole checkpoint."""
    value = json.loads(text)
    if isinstance(value, dict) and set(value) == {"parts"}:
        return [str(key) for key in value["parts"]]
    return None


def read_checkpoint(crm: SalesforceCrm, client_id: str) -> Checkpoint:
    """The client's checkpoint, whole or from its parts."""
    own = crm.field_map.checkpoint
    head = _head(crm, client_id)
    if head is None:
        return Checkpoint(client_id)
    parts = _parts_of(head[own.data])
    if parts is None:
        return _checkpoint(head[own.data])
    rows = {
        r[own.key]: r[own.data]
        for r in crm._own_rows("checkpoint", own, f"{own.key} IN {{values}}", parts)
    }
    missing = [key for key in parts if key not in rows]
    if missing:
        raise CrmError(
            f"the checkpoint of client {client_id} lists {len(missing)} part(s) that are "
            f"not stored (first: {missing[0]})",
            code="CHECKPOINT_INCOMPLETE",
            operation="checkpoint",
        )
    return _checkpoint("".join(rows[key] for key in parts))


def save_checkpoints(crm: SalesforceCrm, checkpoints: Sequence[Checkpoint]) -> WriteResult:
    """Save checkpoints one by one (the journal first, the watermark last); a watermark
    earlier than the stored one, or none over a stored one, raises
    :class:`~cmsf_core.domain.errors.InvalidValueError`."""
    own = crm.field_map.checkpoint
    written = 0
    failures: list[tuple[object, str]] = []
    for checkpoint in checkpoints:
        client = checkpoint.client_id
        head = _head(crm, client)
        old = read_checkpoint(crm, client) if head is not None else Checkpoint(client)
        refuse_older_watermark(old.watermark, checkpoint.watermark)
        stale = (_parts_of(head[own.data]) if head is not None else None) or []
        text = _checkpoint_json(checkpoint)
        rows = []
        parts: list[str] = []
        if len(text) > PART_CHARS:
            version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
            pieces = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)]
            parts = [f"{client}#{version}#{n}" for n in range(len(pieces))]
            rows = [{own.key: k, own.data: p} for k, p in zip(parts, pieces, strict=True)]
            _done, failed = crm._upsert_own("save_checkpoints", own, rows)
            if failed:
                failures.append((client, failed[0][1]))
                continue
            text = json.dumps({"parts": parts})
        done, failed = crm._upsert_own("save_checkpoints", own, [{own.key: client, own.data: text}])
        written += done
        failures += failed
        gone = set(stale) - set(parts)
        if done and gone:
            ids = crm._own_rows("save_checkpoints", own, f"{own.key} IN {{values}}", sorted(gone))
            rows = [{"Id": r["Id"]} for r in ids]  # a part left behind is never read
            crm._bulk("save_checkpoints", own.name, "delete", rows, _row_id)
    return WriteResult(written, tuple(failures))
