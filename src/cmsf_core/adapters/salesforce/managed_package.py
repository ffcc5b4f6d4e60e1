"""Reading an existing install of the managed package: its campaigns and activity history.

Orgs that run the product hold their history in the package's ``wbsendit__`` objects.
:class:`ManagedPackageHistory` reads them through a :class:`SalesforceCrm` connection, by
the names of a :class:`~cmsf_core.adapters.salesforce.field_maps.WbsenditFieldMap`, into the
library's values: :class:`~cmsf_core.domain.records.PlatformCampaign` and
:class:`~cmsf_core.domain.activity.Activity`.  It only reads; it never writes to the
package's objects.  A row that cannot be read (an unknown activity value, no email, no
date) is skipped and listed in :attr:`ManagedPackageHistory.skipped` with its record Id.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cmsf_core.adapters.salesforce.codec import _parse_time
from cmsf_core.adapters.salesforce.field_maps import WbsenditFieldMap
from cmsf_core.domain.activity import Activity, ActivityType, number_occurrences
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.errors import CmsfError, InvalidTypeError
from cmsf_core.domain.records.platform import PlatformCampaign

if TYPE_CHECKING:
    from cmsf_core.adapters.salesforce.crm import SalesforceCrm

__all__ = ["ManagedPackageHistory"]


def _when(value: object) -> datetime:
    """A date-time field, or a date field read as 00:00 UTC of that day."""
    if not isinstance(value, str) or not value:
        raise ValueError("no date")
    if len(value) == 10:  # a Date field: YYYY-MM-DD
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return _parse_time(value)


def _related(row: Mapping[str, Any], path: str) -> Any:
    """A field of a row, following a relationship path (``wbsendit__Contact__r.Email``)."""
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


class ManagedPackageHistory:
    """An existing install's campaigns and activities, read through ``crm``'s connection
    with the names of ``field_map`` (see :meth:`FieldMap.wbsendit
    <cmsf_core.adapters.salesforce.FieldMap.wbsendit>`)."""

    def __init__(self, crm: SalesforceCrm, field_map: WbsenditFieldMap) -> None:
        if not isinstance(field_map, WbsenditFieldMap):
            raise InvalidTypeError("field_map", "a WbsenditFieldMap", field_map)
        self._crm = crm
        self.field_map = field_map
        #: The rows skipped by the last read: (record Id, why).
        self.skipped: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"ManagedPackageHistory({self._crm!r}, client_id={self.field_map.client_id!r})"

    def campaigns(self) -> tuple[PlatformCampaign, ...]:
        """Every campaign of the package's campaign object, as a platform campaign of the
        field map's client, sorted by campaign id."""
        fm = self.field_map
        rows = self._crm._query(
            "managed_package_campaigns",
            f"SELECT Id, {fm.campaign_id}, {fm.campaign_name}, {fm.campaign_subject}, "
            f"{fm.campaign_sent_at} FROM {fm.campaign}",
        )
        self.skipped = []
        found: dict[str, PlatformCampaign] = {}
        for row in rows:
            try:
                campaign = PlatformCampaign(
                    fm.client_id,
                    row[fm.campaign_id],
                    row[fm.campaign_name] or row[fm.campaign_id],
                    _when(row[fm.campaign_sent_at]),
                    subject=row.get(fm.campaign_subject) or "",
                )
            except (CmsfError, ValueError, TypeError) as error:
                self.skipped.append((str(row.get("Id")), self._why(error)))
                continue
            found[campaign.campaign_id] = campaign
        return tuple(found[key] for key in sorted(found))

    def activities(self, campaign_ids: Collection[str] | None = None) -> tuple[Activity, ...]:
        """The activity rows (of these campaigns, or all), oldest first, as activities of
        the field map's client, numbered as identical events of a minute are (see
        :func:`~cmsf_core.domain.activity.number_occurrences`)."""
        fm = self.field_map
        emails = (
            [fm.activity_email]
            if fm.activity_email
            else [
                f"{fm.relationship(fm.activity_contact)}.Email",
                f"{fm.relationship(fm.activity_lead)}.Email",
            ]
        )
        extra = [f for f in (fm.activity_detail, fm.activity_list_id) if f]
        fields = [
            "Id",
            fm.activity_campaign_id,
            fm.activity_type,
            fm.activity_date,
            fm.activity_contact,
            fm.activity_lead,
            *emails,
            *extra,
        ]
        soql = f"SELECT {', '.join(fields)} FROM {fm.activity}"
        if campaign_ids is None:
            rows = self._crm._query("managed_package_activities", soql)
        else:
            rows = self._crm._query_in(
                "managed_package_activities",
                soql + f" WHERE {fm.activity_campaign_id} IN {{values}}",
                sorted(campaign_ids),
            )
        self.skipped = []
        read: list[tuple[datetime, str, Activity]] = []
        for row in rows:
            try:
                email = next((e for e in (_related(row, p) for p in emails) if e), None)
                if not isinstance(email, str):
                    raise ValueError("no email (neither its contact nor its lead has one)")
                at = _when(row.get(fm.activity_date))
                activity = Activity(
                    row[fm.activity_campaign_id],
                    normalise_email(email),
                    ActivityType.parse(row.get(fm.activity_type), fm.activity_type),
                    at,
                    client_id=fm.client_id,
                    email=email,
                    list_id=row.get(fm.activity_list_id) if fm.activity_list_id else None,
                    detail=row.get(fm.activity_detail) if fm.activity_detail else None,
                )
            except (CmsfError, ValueError, TypeError) as error:
                self.skipped.append((str(row.get("Id")), self._why(error)))
                continue
            read.append((at, str(row["Id"]), activity))
        read.sort(key=lambda item: item[:2])
        return number_occurrences(activity for _at, _id, activity in read)

    @staticmethod
    def _why(error: Exception) -> str:
        return f"{type(error).__name__}: {error}"
