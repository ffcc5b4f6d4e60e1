"""The optional suppression list: one suppression record per suppressed email, in the
integration's suppression object."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cmsf_core.adapters.salesforce.codec import _parse_time, _row_id, _soql_time
from cmsf_core.domain.records.sync_state import WriteResult
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    RemoveSuppressionRecord,
    SuppressionRecord,
    UpdateSuppressionRecord,
)

if TYPE_CHECKING:
    from cmsf_core.adapters.salesforce.crm import SalesforceCrm

__all__ = ["apply_suppression", "suppression_records"]


def suppression_records(crm: SalesforceCrm) -> Sequence[SuppressionRecord]:
    """Every suppression record (``suppression_record``)."""
    own = crm.field_map.suppression_record
    rows = crm._query(
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
# -- writes ------------------------------------------------------------------------


def apply_suppression(
    crm: SalesforceCrm,
    changes: Sequence[CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord],
) -> WriteResult:
    """Delete, update and insert suppression records, run by run in the given order."""
    own = crm.field_map.suppression_record
    existing = {r.record_id for r in suppression_records(crm)}
    email = own.field("email")
    written = 0
    failures: list[tuple[object, str]] = []
    for _kind, run in itertools.groupby(changes, key=type):  # in order, run by run
        items = list(run)
        removes = [c for c in items if isinstance(c, RemoveSuppressionRecord)]
        updates = [c for c in items if isinstance(c, UpdateSuppressionRecord)]
        creates = [c for c in items if isinstance(c, CreateSuppressionRecord)]
        rows = [{"Id": c.record_id} for c in removes if c.record_id in existing]
        done, failed = crm._bulk("apply_suppression", own.name, "delete", rows, _row_id)
        existing -= {r["Id"] for r in rows}
        written, failures = written + done, failures + failed
        failures += [
            (c.record_id, "ENTITY_IS_DELETED: entity is deleted")
            for c in updates
            if c.record_id not in existing
        ]
        rows = [
            {"Id": c.record_id, **_suppression_fields(crm, c)}
            for c in updates
            if c.record_id in existing
        ]
        done, failed = crm._bulk("apply_suppression", own.name, "update", rows, _row_id)
        written, failures = written + done, failures + failed
        rows = [_suppression_fields(crm, c) for c in creates]
        done, failed = crm._bulk(
            "apply_suppression", own.name, "insert", rows, operator.itemgetter(email)
        )
        written, failures = written + done, failures + failed
        if creates:
            existing = {r.record_id for r in suppression_records(crm)}
    return WriteResult(written, tuple(failures))


def _suppression_fields(
    crm: SalesforceCrm, change: CreateSuppressionRecord | UpdateSuppressionRecord
) -> dict[str, str]:
    own = crm.field_map.suppression_record
    return {
        own.field("email"): change.email,
        own.field("reason"): change.reason,
        own.field("suppressed_at"): _soql_time(change.suppressed_at),
    }
