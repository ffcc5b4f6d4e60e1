"""The CRM port, shaped on the Salesforce objects the integration reads and writes.

Reads take the identities the sync touched, so that their cost follows the work, not the
history stored.  Writes are bulk and report per-item failures in a
:class:`~cmsf_core.domain.records.WriteResult`: a bulk write can partly succeed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Protocol

from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.errors import CmsfError
from cmsf_core.domain.field_mappings import CreatePerson, FieldUpdate
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign, MemberStatus
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.people import Person
from cmsf_core.domain.records.platform import CampaignSummary, PlatformCampaign
from cmsf_core.domain.records.sync_state import Checkpoint, WriteResult
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    OptOutChange,
    RecordKind,
    RemoveSuppressionRecord,
    SuppressionRecord,
    UpdateSuppressionRecord,
)

__all__ = ["CrmStore", "NotAStoreError", "StoreBusyError", "StoreCorruptError", "StoreError"]


class StoreError(CmsfError):
    """A store that cannot be used as it is: busy, not a store, or damaged."""


class StoreBusyError(StoreError, RuntimeError):
    """Another sync holds the store's write lock longer than this one would wait.

    Nothing was changed; run again once the other sync has finished.
    """


class NotAStoreError(StoreError, ValueError):
    """The path is not a store of this library (another application's database, an empty
    or text file, a truncated store, a folder, a missing folder, or a newer schema).

    The file is left byte for byte as it was.
    """


class StoreCorruptError(StoreError, ValueError):
    """A row of the store cannot be read; the message names the table, row and column."""

    def __init__(
        self, message: str, *, table: str = "", row: str = "", column: str = "", detail: str = ""
    ) -> None:
        self.table = table
        self.row = row
        self.column = column
        self.detail = detail or message
        super().__init__(message)


class CrmStore(Protocol):
    """What the sync reads from and writes to the CRM."""

    # -- the writer lock -----------------------------------------------------------------

    def sync_lock(
        self, *, wait: float | None = None, dry_run: bool = False, full: bool = False
    ) -> AbstractContextManager[None]:
        """Hold the store for one sync: one writer at a time and a consistent read.

        A second sync waits up to ``wait`` seconds (the store's default when None), then
        raises :class:`StoreBusyError`.  ``dry_run`` promises no write; ``full`` tells the
        store that the integration's own data is about to be reloaded.  This default holds
        nothing: a Salesforce org offers no such lock, so a store without one (like
        :class:`~cmsf_core.adapters.salesforce.SalesforceCrm`) relies on one scheduler
        running one sync at a time.
        """
        del wait, dry_run, full
        return nullcontext()

    # -- reads -------------------------------------------------------------------------

    def checkpoint(self, client_id: str) -> Checkpoint:
        """The client's watermark and pending refreshes (an empty one at first)."""
        ...

    def campaigns(self) -> Mapping[str, CrmCampaign]:
        """CRM campaigns with their status sets, by CRM campaign id."""
        ...

    def links(self) -> Mapping[str, CampaignLink]:
        """Platform campaign -> CRM campaign links, by platform campaign id."""
        ...

    def platform_campaigns(self) -> Mapping[str, PlatformCampaign]:
        """The integration's stored copies of platform campaigns, by campaign id."""
        ...

    def members(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, MemberRecord]:
        """The campaign members among ``refs`` that exist."""
        ...

    def members_of(self, campaign_ids: Collection[str]) -> Sequence[MemberRecord]:
        """Every member of these platform campaigns (a full sync refreshes them all)."""
        ...

    def unmatched_members(self) -> Sequence[MemberRecord]:
        """Members still waiting for a contact or lead with their email."""
        ...

    def records_for(self, refs: Collection[MemberRef]) -> Mapping[MemberRef, tuple[Activity, ...]]:
        """Every tracking record stored for each member in ``refs``."""
        ...

    def records_of_clients(self, client_ids: Collection[str]) -> Iterable[Activity]:
        """Every tracking record loaded for these clients (for a full sync)."""
        ...

    def records_of_campaigns(self, campaign_ids: Collection[str]) -> Iterable[Activity]:
        """Every tracking record the integration loaded for these platform campaigns (linked
        or not): a streaming full sync reads one campaign's at a time."""
        ...

    def existing_keys(self, keys: Collection[ActivityKey]) -> Collection[ActivityKey]:
        """Which of ``keys`` are stored."""
        ...

    def expired_records(self, cutoffs: Mapping[ActivityType, datetime]) -> Sequence[Activity]:
        """Stored records that occurred before their type's cutoff."""
        ...

    def find_people(self, emails: Collection[str]) -> Mapping[str, tuple[Person, ...]]:
        """Contacts and leads by normalised email (trimmed, NFC, lower-cased; not
        casefolded), with last-modified, for matching."""
        ...

    def contacts_of_accounts(
        self, account_ids: Collection[str]
    ) -> Mapping[str, tuple[Person, ...]]:
        """The contacts of each account, by account id, sorted by person id; an account
        with no contact (or unknown) is absent.  Leads have no account."""
        ...

    def suppression_records(self) -> Sequence[SuppressionRecord]:
        """The suppression records the integration keeps."""
        ...

    # -- writes ------------------------------------------------------------------------

    def set_opt_out(self, changes: Sequence[OptOutChange]) -> WriteResult:
        """Set contacts' and leads' Email Opt Out; failures are keyed by record id."""
        ...

    def apply_suppression(
        self,
        changes: Sequence[
            CreateSuppressionRecord | UpdateSuppressionRecord | RemoveSuppressionRecord
        ],
    ) -> WriteResult:
        """Create, update and remove suppression records, in order; failures are keyed by
        record id (by email for a creation).  Removing a missing record is not an error."""
        ...

    def save_checkpoints(self, checkpoints: Sequence[Checkpoint]) -> WriteResult:
        """Store checkpoints (the journal first, the advanced watermark last)."""
        ...

    def save_platform_campaigns(self, campaigns: Sequence[PlatformCampaign]) -> WriteResult:
        """Upsert the integration's copies of platform campaigns."""
        ...

    def delete_platform_campaigns(self, campaign_ids: Sequence[str]) -> WriteResult:
        """Delete the integration's copies of these platform campaigns (a full sync removes
        the ones the platform no longer reports or the campaign filter leaves out).  A
        missing copy is not an error; failures are keyed by campaign id.  Links, CRM
        campaigns, members and tracking records are left as they are."""
        ...

    def create_campaigns(
        self, campaigns: Sequence[CrmCampaign], links: Sequence[CampaignLink]
    ) -> WriteResult:
        """Upsert CRM campaigns (by external id) and store links."""
        ...

    def add_statuses(self, statuses: Sequence[tuple[str, MemberStatus]]) -> WriteResult:
        """Add member statuses to CRM campaigns, by CRM campaign id."""
        ...

    def insert_records(self, records: Sequence[Activity]) -> WriteResult:
        """Insert tracking records (an existing key is left as it is)."""
        ...

    def delete_records(self, keys: Sequence[ActivityKey]) -> WriteResult:
        """Delete tracking records (a missing key is not an error)."""
        ...

    def save_members(self, members: Sequence[MemberRecord]) -> WriteResult:
        """Upsert campaign members (one per platform campaign and email)."""
        ...

    def save_statistics(self, statistics: Sequence[tuple[str, CampaignSummary]]) -> WriteResult:
        """Set campaign statistics on CRM campaigns, by CRM campaign id."""
        ...

    def add_messages(self, messages: Sequence[MaintenanceMessage]) -> WriteResult:
        """Append messages to the maintenance log."""
        ...

    def messages(self) -> Sequence[MaintenanceMessage]:
        """The maintenance log, oldest first."""
        ...

    # -- contact and lead fields (field mappings) -------------------------------------------

    def field_values(
        self, kind: RecordKind, record_ids: Collection[str], fields: Collection[str]
    ) -> Mapping[str, Mapping[str, object]]:
        """The current values of ``fields`` on these contacts (or leads): record id ->
        field name (as asked) -> value (``None`` when blank; a multi-select picklist as its
        ``;`` list).  A record that does not exist is absent."""
        ...

    def update_fields(self, updates: Sequence[FieldUpdate]) -> WriteResult:
        """Set fields of contacts and leads; failures are keyed by record id (a record that
        does not exist, a field or value the CRM refuses): a refused update changes none of
        that record's fields."""
        ...

    def create_people(self, people: Sequence[CreatePerson]) -> WriteResult:
        """Create leads and contacts (new subscribers); failures are keyed by email (a
        required field missing, a field or value the CRM refuses).  A created record is
        found by :meth:`find_people` and read by :meth:`field_values` afterwards."""
        ...
