"""Contacts and leads in the store: seeding them, finding them by email or account, their
email opt-out, their field values (field mappings) and the suppression records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime

from cmsf_core.adapters._store_rules import (
    NO_SUCH_PERSON,
    change_suppression,
    created_fields,
    created_person,
    field_row,
    new_person_id,
    update_refusal,
)
from cmsf_core.adapters._store_seeding import StoreSeeding
from cmsf_core.adapters.crm_fields import (
    creation_problem,
    decode_value,
    encode_value,
)
from cmsf_core.adapters.sqlite.columns import _marked, _to_int
from cmsf_core.adapters.sqlite.connection import _SqliteConnection
from cmsf_core.adapters.sqlite.rows import _person, _suppression
from cmsf_core.adapters.sqlite.schema import (
    _PEOPLE_COLUMNS,
    _PERSON_FIELDS_TABLE,
    _SUPPRESSION_COLUMNS,
)
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.field_mappings import CreatePerson, CrmValue, FieldUpdate
from cmsf_core.domain.records.people import Person, PersonKind
from cmsf_core.domain.records.sync_state import WriteResult
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    OptOutChange,
    RecordKind,
    RemoveSuppressionRecord,
    SuppressionRecord,
    UpdateSuppressionRecord,
)


class _People(StoreSeeding, _SqliteConnection):
    """The store's contacts and leads, their fields, and the suppression records."""

    __slots__ = ()

    def _person_count(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM people").fetchone()
        return int(count)

    def _put_person(self, person: Person) -> None:
        self._write(f"INSERT OR REPLACE {_INTO_PEOPLE}", [_person_row(person)])

    def _people(self, where: str, params: Sequence[object]) -> Iterator[Person]:
        for row in self._db.execute(f"SELECT {_PEOPLE_COLUMNS} FROM people {where}", params):
            yield _person(self._rows("people", person_id=row[0]), row)

    def find_people(self, emails: Collection[str]) -> Mapping[str, tuple[Person, ...]]:
        keys = sorted({normalise_email(e) for e in emails})
        grouped: defaultdict[str, list[Person]] = defaultdict(list)
        for marks, chunk in _marked(keys):
            for person in self._people(f"WHERE email_key IN ({marks}) ORDER BY person_id", chunk):
                grouped[normalise_email(person.email)].append(person)
        return {key: tuple(people) for key, people in grouped.items()}

    def contacts_of_accounts(
        self, account_ids: Collection[str]
    ) -> Mapping[str, tuple[Person, ...]]:
        grouped: defaultdict[str, list[Person]] = defaultdict(list)
        for marks, chunk in _marked(sorted(set(account_ids))):
            for person in self._people(
                f"WHERE account_id IN ({marks}) AND kind = ? ORDER BY person_id",
                [*chunk, PersonKind.CONTACT.value],
            ):
                grouped[str(person.account_id)].append(person)
        return {account: tuple(people) for account, people in grouped.items()}

    def suppression_records(self) -> Sequence[SuppressionRecord]:
        return [
            _suppression(self._rows("suppression_records", record_id=row[0]), row)
            for row in self._db.execute(
                f"SELECT {_SUPPRESSION_COLUMNS} FROM suppression_records ORDER BY seq"
            )
        ]

    def set_opt_out(self, changes: Sequence[OptOutChange]) -> WriteResult:
        known = self._kind_of(c.record_id for c in changes)
        failures: list[tuple[object, str]] = [
            (c.record_id, NO_SUCH_PERSON) for c in changes if c.record_id not in known
        ]
        rows = [(int(c.value), c.record_id) for c in changes if c.record_id in known]
        self._write("UPDATE people SET email_opt_out = ? WHERE person_id = ?", rows)
        return WriteResult(len(rows), tuple(failures))

    def apply_suppression(
        self,
        changes: Sequence[
            CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord
        ],
    ) -> WriteResult:
        with self._transaction() as db:

            def create(change: CreateSuppressionRecord) -> None:
                (last,) = db.execute(
                    "SELECT coalesce(max(seq), 0) FROM suppression_records"
                ).fetchone()
                db.execute(
                    "INSERT INTO suppression_records "
                    "(record_id, email, reason, suppressed_at) VALUES (?, ?, ?, ?)",
                    (
                        f"a0S{last + 1:06d}",
                        change.email,
                        change.reason,
                        _to_int(change.suppressed_at),
                    ),
                )

            def update(change: UpdateSuppressionRecord) -> bool:
                cursor = db.execute(
                    "UPDATE suppression_records SET email = ?, reason = ?, suppressed_at = ? "
                    "WHERE record_id = ?",
                    (change.email, change.reason, _to_int(change.suppressed_at), change.record_id),
                )
                return bool(cursor.rowcount)

            def remove(record_id: str) -> bool:
                cursor = db.execute(
                    "DELETE FROM suppression_records WHERE record_id = ?", (record_id,)
                )
                return bool(cursor.rowcount)

            return change_suppression(changes, create=create, update=update, remove=remove)

    # -- contact and lead fields (field mappings) ---------------------------------------
    # Kept in a table of their own, created on first use: one row per (person, field),
    # the name casefolded in ``name_key`` (Salesforce's API names ignore case) and the
    # value as typed JSON text.

    def _fields_table(self) -> None:
        self._db.execute(_PERSON_FIELDS_TABLE)

    def _holds_person(self, person_id: str) -> bool:
        return person_id in self._kind_of([person_id])

    def _put_fields(self, person_id: str, values: Mapping[str, CrmValue]) -> None:
        self._fields_table()
        self._write(_SET_FIELD, _field_rows(person_id, values))

    def _kind_of(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """person id -> (kind, email) of the ids that exist."""
        found: dict[str, tuple[str, str]] = {}
        for marks, chunk in _marked(sorted(set(ids))):
            for pid, kind, email in self._db.execute(
                f"SELECT person_id, kind, email FROM people WHERE person_id IN ({marks})",
                chunk,
            ):
                found[str(pid)] = (str(kind), str(email))
        return found

    def field_values(
        self, kind: RecordKind, record_ids: Collection[str], fields: Collection[str]
    ) -> Mapping[str, Mapping[str, object]]:
        self._fields_table()
        wanted = RecordKind.parse(kind).value
        people = {p: e for p, (k, e) in self._kind_of(record_ids).items() if k == wanted}
        names = list(dict.fromkeys(fields))
        keys = {n.casefold() for n in names}
        held: dict[str, dict[str, tuple[str, object]]] = {pid: {} for pid in people}
        for marks, chunk in _marked(sorted(people)):
            for pid, key, text in self._db.execute(
                "SELECT person_id, name_key, value FROM person_fields "
                f"WHERE person_id IN ({marks})",
                chunk,
            ):
                if key in keys:
                    held[str(pid)][str(key)] = (str(key), decode_value(str(text)))
        return {pid: field_row(email, held[pid], names) for pid, email in people.items()}

    def update_fields(self, updates: Sequence[FieldUpdate]) -> WriteResult:
        self._fields_table()
        kinds = self._kind_of(u.record_id for u in updates)
        failures: list[tuple[object, str]] = []
        rows: list[tuple[str, str, str, str]] = []
        written = 0
        for update in updates:
            held = kinds.get(update.record_id)
            reason = update_refusal(update, None if held is None else held[0])
            if reason is not None:
                failures.append((update.record_id, reason))
                continue
            written += 1
            rows.extend(_field_rows(update.record_id, update.values))
        self._write(_SET_FIELD, rows)
        return WriteResult(written, tuple(failures))

    def create_people(self, people: Sequence[CreatePerson]) -> WriteResult:
        failures: list[tuple[object, str]] = []
        written = 0
        with self._transaction() as db:
            db.execute(_PERSON_FIELDS_TABLE)
            (count,) = db.execute("SELECT count(*) FROM people").fetchone()
            for created in people:
                reason = creation_problem(created)
                if reason is not None:
                    failures.append((created.email, reason))
                    continue
                count, person_id = new_person_id(
                    created,
                    "SQL",
                    count + 1,
                    lambda pid: bool(
                        db.execute("SELECT 1 FROM people WHERE person_id = ?", (pid,)).fetchone()
                    ),
                )
                person = created_person(created, person_id, datetime.now(UTC))
                db.execute(f"INSERT {_INTO_PEOPLE}", _person_row(person))
                db.executemany(_SET_FIELD, _field_rows(person_id, created_fields(created)))
                written += 1
        return WriteResult(written, tuple(failures))


_INTO_PEOPLE = f"INTO people ({_PEOPLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_SET_FIELD = "INSERT OR REPLACE INTO person_fields VALUES (?, ?, ?, ?)"


def _field_rows(person_id: str, values: Mapping[str, CrmValue]) -> list[tuple[str, str, str, str]]:
    """The ``person_fields`` rows of a person's field values."""
    return [(person_id, name.casefold(), name, encode_value(v)) for name, v in values.items()]


def _person_row(person: Person) -> tuple[object, ...]:
    """The ``people`` row of a contact or lead."""
    return (
        person.person_id,
        person.kind.value,
        person.email,
        normalise_email(person.email),
        _to_int(person.last_modified),
        int(person.email_opt_out),
        person.account_id,
    )
