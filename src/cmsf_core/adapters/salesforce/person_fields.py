"""Contact and lead fields for the field mappings, describe-free: the field names come from
the mappings, reads are ``SELECT Id, <fields> FROM Contact WHERE Id IN (...)`` cut by size
like the adapter's other reads, and writes are Bulk 2.0 update and insert jobs (one job
per object and set of columns, since a job's CSV has one header)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from cmsf_core.adapters.crm_fields import field_problem
from cmsf_core.adapters.salesforce.codec import _cell, _ids, _row_id, _sf_time
from cmsf_core.domain.errors import InvalidValueError
from cmsf_core.domain.field_mappings import CreatePerson, CrmValue, FieldUpdate
from cmsf_core.domain.records.sync_state import WriteResult
from cmsf_core.domain.subscribers import RecordKind

if TYPE_CHECKING:
    from cmsf_core.adapters.salesforce.crm import SalesforceCrm

__all__ = ["create_people", "field_values", "update_fields"]


def _object(crm: SalesforceCrm, kind: RecordKind) -> str:
    fm = crm.field_map
    return fm.lead if RecordKind.parse(kind) is RecordKind.LEAD else fm.contact


def _bulk_cell(value: CrmValue) -> str:
    if isinstance(value, datetime):
        return _sf_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return _cell(value)


def field_values(
    crm: SalesforceCrm, kind: RecordKind, record_ids: Collection[str], fields: Collection[str]
) -> Mapping[str, Mapping[str, object]]:
    """The fields asked for, by record id; a field name that is not an API name is refused
    before anything is sent (it would change the statement)."""
    names = list(dict.fromkeys(fields))
    for name in names:
        if field_problem(name, None) is not None and name.casefold() != "id":
            raise InvalidValueError("fields", "Salesforce API field names", name)
    spelled: dict[str, str] = {}
    for name in names:  # Salesforce's names ignore case: each field once, as first given
        if name.casefold() != "id":
            spelled.setdefault(name.casefold(), name)
    columns = list(spelled.values())
    select = ", ".join(["Id", *columns])
    rows = crm._query_in(
        "field_values",
        f"SELECT {select} FROM {_object(crm, kind)} WHERE Id IN {{values}}",
        sorted(set(_ids("record_ids", record_ids))),
    )
    found: dict[str, Mapping[str, object]] = {}
    for row in rows:
        by_key = {k.casefold(): v for k, v in row.items() if k != "attributes"}
        found[str(row["Id"])] = {n: by_key.get(n.casefold()) for n in names}
    by_prefix = {sf_id[:15]: sf_id for sf_id in found}
    result: dict[str, Mapping[str, object]] = {}
    for asked in record_ids:  # an 18-character id also answers its 15-character form
        sf_id = asked if asked in found else by_prefix.get(asked[:15])
        if sf_id is not None:
            result[asked] = found[sf_id]
    return result


def update_fields(crm: SalesforceCrm, updates: Sequence[FieldUpdate]) -> WriteResult:
    """One Bulk 2.0 update per object and set of fields; a field or value Salesforce
    would refuse fails its record before the job."""
    written = 0
    failures: list[tuple[object, str]] = []
    groups: dict[tuple[str, tuple[str, ...]], list[dict[str, str]]] = {}
    for update in updates:
        problem = next(
            (p for n, v in update.values.items() if (p := field_problem(n, v)) is not None), None
        )
        if problem is not None:
            failures.append((update.record_id, problem))
            continue
        columns = tuple(update.values)
        row = {"Id": update.record_id, **{n: _bulk_cell(v) for n, v in update.values.items()}}
        groups.setdefault((_object(crm, update.kind), columns), []).append(row)
    for (obj, _columns), rows in groups.items():
        done, failed = crm._bulk("update_fields", obj, "update", rows, _row_id)
        written, failures = written + done, failures + failed
    return WriteResult(written, tuple(failures))


def create_people(crm: SalesforceCrm, people: Sequence[CreatePerson]) -> WriteResult:
    """One Bulk 2.0 insert per object and set of fields; failures keyed by email."""
    email = crm.field_map.person_email
    written = 0
    failures: list[tuple[object, str]] = []
    groups: dict[tuple[str, tuple[str, ...]], list[dict[str, str]]] = {}
    for person in people:
        values = {email: person.email, **{k: v for k, v in person.values.items() if k != email}}
        problem = next(
            (p for n, v in values.items() if (p := field_problem(n, v)) is not None), None
        )
        if problem is not None:
            failures.append((person.email, problem))
            continue
        row = {n: _bulk_cell(v) for n, v in values.items()}
        groups.setdefault((_object(crm, person.kind), tuple(row)), []).append(row)
    for (obj, _columns), rows in groups.items():
        done, failed = crm._bulk(
            "create_people", obj, "insert", rows, lambda r: r.get(email) or r.get("Email")
        )
        written, failures = written + done, failures + failed
    return WriteResult(written, tuple(failures))
