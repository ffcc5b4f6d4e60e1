"""The Salesforce connection every operation of the adapter goes through.

It holds the ``simple_salesforce.Salesforce`` client and the wire under it, turns the
client's failures into :class:`~cmsf_core.adapters.errors.CrmError` (repeating what is safe
to repeat), reads SOQL cut to the request limits (:mod:`.queries`) and runs Bulk 2.0 jobs,
sending again the records Salesforce refused with ``UNABLE_TO_LOCK_ROW``.
"""

from __future__ import annotations

import csv
import functools
import io
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Self
from urllib.parse import urlsplit

from cmsf_core.adapters.errors import CrmAuthenticationError, CrmError, CrmUnavailableError
from cmsf_core.adapters.retry import RETRY_STATUSES, default_backoff
from cmsf_core.adapters.salesforce.field_maps import DEFAULT_FIELD_MAP, FieldMap, OwnObject
from cmsf_core.adapters.salesforce.queries import (
    HEADER_ALLOWANCE,
    MAX_REQUEST_BYTES,
    batches,
    soql_statements,
)
from cmsf_core.adapters.salesforce.wire import (
    _PLACEHOLDER,
    TRANSIENT_CODES,
    _check_policy,
    _error_code,
    _https_url,
    _log,
    _OAuth,
    _requests,
    _secret,
    _simple_salesforce,
    _Wire,
)
from cmsf_core.domain.connection import Secret, withheld_type_error
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError

__all__ = ["LOCK_ERROR"]

#: The per-record error of a row another transaction held locked: worth another try.
LOCK_ERROR = "UNABLE_TO_LOCK_ROW"


class _Connection:
    """What every Salesforce operation goes through: the connection and its wire, the
    mapping of the client's failures to :class:`CrmError`, SOQL reads cut to the request
    limits, and Bulk 2.0 jobs whose locked records are retried (see :class:`SalesforceCrm`
    for the arguments)."""

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
        lock_retries: int = 3,
        legacy_keys: bool = False,
    ) -> None:
        if not isinstance(field_map, FieldMap):
            raise InvalidTypeError("field_map", "a FieldMap", field_map)
        _check_policy(
            timeout=timeout, retries=retries, backoff=backoff, sleep=sleep, bulk_wait=bulk_wait
        )
        if type(lock_retries) is not int or lock_retries < 0:
            raise InvalidValueError("lock_retries", "an int >= 0", lock_retries)
        if not isinstance(legacy_keys, bool):
            raise InvalidTypeError("legacy_keys", "a bool", legacy_keys)
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
        self.lock_retries = lock_retries
        self.legacy_keys = legacy_keys

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
        lock_retries: int = 3,
        legacy_keys: bool = False,
    ) -> Self:
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
            lock_retries=lock_retries,
            legacy_keys=legacy_keys,
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
        return self._run_query(operation, text)

    def _run_query(self, operation: str, text: str) -> list[dict[str, Any]]:
        return list(self._guard(operation, lambda: list(self._sf.query_all_iter(text))))

    def _query_path(self) -> str:
        """The path of the REST query resource (``/services/data/vXX.X/query/``)."""
        return urlsplit(str(getattr(self._sf, "base_url", "/services/data/v59.0/"))).path + "query/"

    def _query_in(
        self, operation: str, soql: str, values: Iterable[str], **params: Any
    ) -> list[dict[str, Any]]:
        """Rows of ``soql`` for every value of its ``{values}`` list, in as many statements
        as the request limits need (see :mod:`~cmsf_core.adapters.salesforce.queries`)."""
        rows: list[dict[str, Any]] = []
        for text in soql_statements(
            soql,
            values,
            format_soql=_simple_salesforce().format_soql,
            path=self._query_path(),
            field=operation,
            **params,
        ):
            rows += self._run_query(operation, text)
        return rows

    def _batches(self, values: Iterable[str], share: float) -> Iterator[list[str]]:
        """``values`` in ``IN`` lists of at most ``share`` of a request's budget."""
        limit = int((MAX_REQUEST_BYTES - HEADER_ALLOWANCE) * share)
        return batches(values, format_soql=_simple_salesforce().format_soql, limit=limit)

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
        (read from its row by ``identity``) with its ``sf__Error``.

        A record refused with ``UNABLE_TO_LOCK_ROW`` (another transaction held the row or
        its parent) was not written: it is sent again in a new job of those records only,
        up to ``lock_retries`` times, waiting ``backoff(n)`` before retry ``n``; a record
        still locked after that is a failure like any other."""
        if not records:
            return 0, []
        failures: list[tuple[object, str]] = []
        pending = records
        for attempt in range(self.lock_retries + 1):
            refused = self._bulk_job(operation, obj, verb, pending, **kw)
            locked = [row for row, error in refused if error.startswith(LOCK_ERROR)]
            failures += [
                (identity(row), error)
                for row, error in refused
                if not error.startswith(LOCK_ERROR) or attempt == self.lock_retries
            ]
            if not locked or attempt == self.lock_retries:
                break
            wait = float(self.backoff(attempt + 1))
            _log.warning(
                "Salesforce bulk %s on %s: %d record(s) locked (%s); retry %d of %d in %.1fs",
                verb,
                obj,
                len(locked),
                LOCK_ERROR,
                attempt + 1,
                self.lock_retries,
                wait,
            )
            self._sleep(wait)
            pending = locked
        if failures:
            _log.warning(
                "Salesforce bulk %s on %s: %d of %d records refused",
                verb,
                obj,
                len(failures),
                len(records),
            )
        return len(records) - len(failures), failures

    def _delete_ids(
        self, operation: str, obj: str, ids: Mapping[str, object]
    ) -> tuple[int, list[tuple[object, str]]]:
        """Delete the ``obj`` records of these Salesforce ids in one Bulk 2.0 job (see
        :meth:`_bulk`); a failed one is named by what ``ids`` maps its id to."""
        return self._bulk(
            operation,
            obj,
            "delete",
            [{"Id": sf_id} for sf_id in ids],
            lambda r: ids.get(r.get("Id", "")),
        )

    def _bulk_job(
        self, operation: str, obj: str, verb: str, records: list[dict[str, str]], **kw: Any
    ) -> list[tuple[dict[str, str], str]]:
        """One Bulk 2.0 job (simple-salesforce splits it into uploads of at most 100 MB):
        each refused record as it was sent, with its ``sf__Error`` (masked)."""
        handler = getattr(self._sf.bulk2, obj)
        jobs = self._guard(
            operation,
            lambda: getattr(handler, verb)(records=records, wait=self.bulk_wait, **kw),
            insert=verb == "insert",
        )
        refused: list[tuple[dict[str, str], str]] = []
        for job in jobs:
            if int(job.get("numberRecordsFailed", 0)):
                fetch = functools.partial(handler.get_failed_records, job["job_id"])
                text = self._guard(operation, fetch)
                for row in csv.DictReader(io.StringIO(text)):
                    error = self._mask(row.pop("sf__Error", "") or "")
                    row.pop("sf__Id", None)
                    refused.append((row, error))
        return refused

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
