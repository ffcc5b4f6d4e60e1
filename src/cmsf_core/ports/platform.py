"""The email-platform port, shaped on the Campaign Monitor API v3.3.

Adapters return the domain's values: aware datetimes (the platform's naive local times
localised with the client's time zone), one :class:`TrackingPage` per page of a stream.
Rows an adapter cannot read travel back as :class:`SkippedRow` values on the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.field_mappings import PlatformField, PlatformSubscriber
from cmsf_core.domain.records.platform import (
    CampaignSummary,
    PlatformCampaign,
    PlatformClient,
    SkippedRow,
    TrackingPage,
)
from cmsf_core.domain.subscribers import (
    CommandResult,
    ListMembership,
    PlatformCommand,
    SubscriberState,
    SuppressedEmail,
)

__all__ = ["EmailPlatform", "SkippedRow"]


class EmailPlatform(Protocol):
    """What the sync reads from the email platform, and the subscriber commands it sends."""

    def clients(self) -> Sequence[PlatformClient]:
        """The connected clients with their time zones (``clients.json``, ``Client.details``)."""
        ...

    def sent_campaigns(self, client_id: str) -> Sequence[PlatformCampaign]:
        """A client's sent campaigns with SentDate and tags (``clients/{id}/campaigns``)."""
        ...

    def tracking_page(
        self,
        campaign_id: str,
        stream: ActivityType,
        *,
        since: datetime | None,
        page: int,
        page_size: int,
    ) -> TrackingPage:
        """One page of a tracking stream (recipients, opens, clicks, bounces, unsubscribes,
        spam) of events on or after ``since`` (``None``: all), oldest first.

        A malformed row (a bad email, an impossible date) is left out and handed back in
        the first page's ``skipped`` (:class:`~cmsf_core.domain.records.SkippedRow`: where
        it lives and what is wrong); the sync reports each as a maintenance message
        (``SYNC-SKIPPED-ROW``) and goes on.  An adapter that never skips leaves it empty.
        A malformed response as a whole (not JSON, the wrong shape) is an error."""
        ...

    def campaign_summary(self, campaign_id: str) -> CampaignSummary:
        """The campaign's statistics (``campaigns/{id}/summary``)."""
        ...

    def subscriber_changes(self, client_id: str, *, since: datetime | None) -> Sequence[str]:
        """Emails whose state on one of the client's lists changed on or after ``since``
        (``None``: every email on the client's lists), each once."""
        ...

    def lists_for_email(self, client_id: str, email: str) -> Sequence[ListMembership]:
        """The client's lists holding ``email``, with its state on each
        (``clients/{id}/listsforemail``); email compared without regard to case."""
        ...

    def list_subscribers(self, client_id: str, list_id: str) -> Mapping[str, SubscriberState]:
        """Everyone on one of the client's lists, in every state (Active, Unconfirmed,
        Unsubscribed, Bounced, Deleted): the email as the platform shows it -> its state
        (``lists/{id}/active.json``, ``unconfirmed.json``, ... every page).  A list that is
        not the client's is an error (a :class:`~cmsf_core.domain.errors.CmsfError`)."""
        ...

    def suppression_list(self, client_id: str) -> Sequence[SuppressedEmail]:
        """The client's whole suppression list (every page)."""
        ...

    def execute(
        self, client_id: str, commands: Sequence[PlatformCommand]
    ) -> Sequence[CommandResult]:
        """Run subscriber commands on the client's lists, in order: one result per command
        (a refused command does not stop the others)."""
        ...

    # -- custom fields (field mappings) ----------------------------------------------------

    def custom_fields(self, client_id: str, list_id: str) -> Sequence[PlatformField]:
        """A list's custom fields (``lists/{id}/customfields``): ``FieldName``, ``Key``,
        ``DataType`` and ``FieldOptions``.  A list that is not the client's is an error."""
        ...

    def create_custom_field(
        self, client_id: str, list_id: str, field: PlatformField
    ) -> PlatformField:
        """Create a custom field on a list (``POST lists/{id}/customfields``) and return it
        with the key the platform gave it.  A name the list already has is an error."""
        ...

    def subscriber_values(self, client_id: str, list_id: str) -> Sequence[PlatformSubscriber]:
        """The list's Active subscribers with their names and custom field values by key
        (``lists/{id}/active``, every page; a select-many field, whose ``Key`` the platform
        repeats, as a tuple of its options)."""
        ...
