"""What is wrong in a store, row by row (:meth:`problems`), and the clean-up a full sync
does first: the unreadable rows of the integration's own tables go (the sync reloads them)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import attrs

from cmsf_core.adapters.sqlite.connection import _SqliteConnection
from cmsf_core.adapters.sqlite.rows import (
    _LOADED_TABLES,
    _SCANS,
    StoreProblem,
    _member_problem,
    _row_name,
    _Rows,
)
from cmsf_core.adapters.sqlite.schema import _RECORDS_FROM
from cmsf_core.domain.activity import Activity
from cmsf_core.domain.engagement import rollup
from cmsf_core.domain.records.campaigns import CrmCampaign
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.ports.crm import StoreCorruptError


class _Integrity(_SqliteConnection):
    """The store's integrity checks."""

    __slots__ = ()

    def _scan(
        self,
    ) -> Iterator[tuple[StoreProblem | None, str, tuple[str, ...], tuple[Any, ...], object]]:
        """Every row, read: (problem or None, table, key names, key, value read)."""
        for table, columns, key_count, read in _SCANS:
            names = tuple(name.strip().split(".")[-1] for name in columns.split(",")[:key_count])
            source = _RECORDS_FROM if table == "records" else table
            try:
                rows_read = self._db.execute(f"SELECT {columns} FROM {source}").fetchall()
            except sqlite3.DatabaseError as error:
                problem = StoreProblem(table, "", "", f"cannot be read ({error})")
                yield problem, table, (), (), None
                continue
            for row in rows_read:
                key = tuple(row[:key_count])
                try:
                    value = read(
                        _Rows(str(self.path), table, dict(zip(names, key, strict=True))), row
                    )
                except StoreCorruptError as error:
                    problem = StoreProblem(table, error.row, error.column, error.detail)
                    yield problem, table, names, key, None
                else:
                    yield None, table, names, key, value

    def problems(self) -> list[StoreProblem]:
        """Everything wrong in the store, row by row (empty when it is consistent).

        The database's own integrity check; every value of every row read as the sync
        reads it; every member's campaign and status; and, when every tracking record
        reads, every member's rollups against its stored records (a member in a sync's
        journal is left out: the next sync refreshes it).  Reads the whole store.
        """
        found: list[StoreProblem] = [
            StoreProblem("(database)", "", "", str(row[0]))
            for row in self._db.execute("PRAGMA quick_check")
            if row[0] != "ok"
        ]
        read: defaultdict[str, list[Any]] = defaultdict(list)
        broken: set[str] = set()
        for problem, table, _names, _key, value in self._scan():
            if problem is None:
                read[table].append(value)
            else:
                found.append(problem)
                broken.add(table)
        campaigns = {c.campaign_id: c for c in read["campaigns"]}
        pending = {MemberRef(*ref) for c in read["checkpoints"] for ref, _cause in c.pending}
        stored: defaultdict[MemberRef, list[Activity]] = defaultdict(list)
        for activity in read["records"]:
            stored[MemberRef(activity.campaign_id, activity.member_id)].append(activity)
        for record in read["members"]:
            row = _row_name({"campaign_id": record.ref[0], "member_id": record.ref[1]})
            problem_found = _member_problem(record, campaigns)
            if problem_found is not None and "campaigns" not in broken:
                found.append(StoreProblem("members", row, *problem_found))
            counted = rollup(stored.get(record.ref, ()))
            if (
                "records" not in broken
                and record.ref not in pending
                and counted != record.member.engagement
            ):
                found.append(
                    StoreProblem(
                        "members",
                        row,
                        "engagement",
                        f"rollups {list(attrs.astuple(record.member.engagement))} disagree "
                        f"with the stored records {list(attrs.astuple(counted))}",
                    )
                )
        return found

    def _drop_unreadable_loaded_rows(self) -> int:
        """Delete the rows of the integration's own tables that cannot be read (a full
        sync reloads them); rows of the CRM's own tables stay and are reported."""
        doomed: list[tuple[str, tuple[str, ...], tuple[Any, ...]]] = []
        campaigns: dict[str, CrmCampaign] = {}
        members: list[tuple[tuple[str, ...], tuple[Any, ...], MemberRecord]] = []
        for problem, table, names, key, value in self._scan():
            if problem is not None and table in _LOADED_TABLES and names:
                doomed.append((table, names, key))
            elif isinstance(value, CrmCampaign):
                campaigns[value.campaign_id] = value
            elif isinstance(value, MemberRecord):
                members.append((names, key, value))
        doomed += [
            ("members", names, key)
            for names, key, record in members
            if _member_problem(record, campaigns) is not None
        ]
        with self._transaction() as db:
            for table, names, key in doomed:
                clause = " AND ".join(f"{name} = ?" for name in names)
                db.execute(f"DELETE FROM {table} WHERE {clause}", key)
            if any(table == "records" for table, _names, _key in doomed):
                # A member row left without records may be the damaged one: the records
                # reloaded get a sound one.
                db.execute(
                    "DELETE FROM record_members "
                    "WHERE NOT EXISTS (SELECT 1 FROM records WHERE member = record_members.id)"
                )
        return len(doomed)
