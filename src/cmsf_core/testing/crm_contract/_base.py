"""What the parts of the CRM contract share: the hooks a user implements, records and
members built as the sync builds them, the checks of a write's result, and the pools the
property tests draw from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

import attrs

from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.planner import event_records
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.domain.records.people import Person, PersonKind
from cmsf_core.domain.records.platform import TrackingEvent
from cmsf_core.domain.records.sync_state import WriteResult
from cmsf_core.testing._support import (
    ANN,
    BOB,
    CAMPAIGN,
    CLIENT,
    CRM_CAMPAIGN,
    STATUSES,
    T0,
    F,
    _limited,
    _skip,
)

if TYPE_CHECKING:
    from cmsf_core.ports.crm import CrmStore


def _record(
    activity_type: ActivityType = ActivityType.OPENED,
    email: str = ANN,
    at: datetime = T0,
    *,
    campaign_id: str = CAMPAIGN,
    client_id: str = CLIENT,
    detail: str | None = None,
    list_id: str | None = None,
    occurrence: int = 0,
) -> Activity:
    """A tracking record as the sync builds it (:func:`~cmsf_core.domain.planner.event_records`:
    member id and email normalised), numbered ``occurrence`` among its identical twins."""
    event = TrackingEvent(activity_type, email, at, list_id=list_id, detail=detail)
    (record,) = event_records(client_id, campaign_id, [event])
    return attrs.evolve(record, occurrence=occurrence) if occurrence else record


def _ref(record: Activity) -> MemberRef:
    return MemberRef(record.campaign_id, record.member_id)


def _member(
    email: str,
    *,
    status: str | None = "Sent",
    person_id: str | None = None,
    campaign_id: str = CAMPAIGN,
    crm_campaign_id: str = CRM_CAMPAIGN,
    activity: ActivityType | None = None,
    activity_date: datetime | None = None,
    engagement: Engagement | None = None,
) -> MemberRecord:
    """A campaign member as the sync saves it."""
    subject = normalise_email(email)
    member = CampaignMember(
        campaign_id,
        subject,
        status=status,
        activity=activity,
        activity_date=activity_date,
        engagement=engagement or Engagement(),
    )
    return MemberRecord(crm_campaign_id, member, subject, person_id)


def _stored(crm: CrmStore, refs: Collection[MemberRef]) -> dict[MemberRef, Counter[Activity]]:
    """``records_for`` as a multiset per member; a member without records maps to nothing."""
    found = crm.records_for(refs)
    return {ref: Counter(found[ref]) for ref in refs if found.get(ref)}


def _refused(write: Callable[[], WriteResult]) -> bool:
    """Whether a write was refused: it raised a ``ValueError`` or reported a failure."""
    try:
        result = write()
    except ValueError:
        return True
    return not result.ok


def _check(result: WriteResult, written: int | None = None) -> None:
    assert result.ok, f"the write reported failures: {result.failures}"
    if written is not None:
        assert result.written == written, f"expected {written} written, got {result.written}"


# ----------------------------------------------------------------------------- the CRM


#: Instants of the property tests: two in one minute, the next minute, an hour, a day.
_POOL_INSTANTS = (
    T0,
    T0 + timedelta(seconds=30),
    T0 + timedelta(minutes=1),
    T0 + timedelta(hours=1),
    T0 + timedelta(days=1),
)
_POOL_EMAILS = (ANN, "Ann@Example.com", BOB)


class CrmContractBase:
    """The hooks every part of the CRM contract calls: :meth:`make_crm` (a user implements
    it), :meth:`add_person` (a user may override it), and the cap on the property tests."""

    #: Cap on the property tests' examples (``None``: the Hypothesis profile decides).
    property_examples: ClassVar[int | None] = None

    # -- hooks ---------------------------------------------------------------------------

    def make_crm(self) -> CrmStore:
        """A fresh, empty CRM store; called once per test (and per property example)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement make_crm() returning an empty CrmStore"
        )

    def add_person(
        self,
        crm: CrmStore,
        email: str,
        *,
        person_id: str,
        kind: PersonKind = PersonKind.CONTACT,
        last_modified: datetime = T0,
        account_id: str | None = None,
    ) -> Person:
        """Add a contact or lead to ``crm`` (``account_id``: a contact's account).  The
        default calls ``crm.add_person`` (as the in-memory CRM offers), passing
        ``account_id`` only when it is given, and skips the test when the store has none."""
        add = getattr(crm, "add_person", None)
        if add is None:
            _skip(
                f"{type(crm).__name__} has no add_person(): override "
                f"{type(self).__name__}.add_person to test find_people"
            )
        extra = {} if account_id is None else {"account_id": account_id}
        person = add(email, person_id=person_id, kind=kind, last_modified=last_modified, **extra)
        if isinstance(person, Person):
            return person
        return Person(person_id, kind, email, last_modified, account_id=account_id)

    # -- seeding through the port ------------------------------------------------------

    def _crm_with_campaign(self) -> CrmStore:
        """An empty store holding the contract's CRM campaign, linked to CAMPAIGN."""
        crm = self.make_crm()
        campaign = CrmCampaign(CRM_CAMPAIGN, "Contract campaign", STATUSES)
        _check(crm.create_campaigns([campaign], [CampaignLink(CLIENT, CAMPAIGN, CRM_CAMPAIGN)]))
        return crm

    def _settings(self, test: F) -> F:
        return _limited(self.property_examples, test)
