"""The CRM contract on campaign members: saved and read back one per ref, refused per item."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import attrs

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign
from cmsf_core.domain.records.members import MemberRecord, MemberRef
from cmsf_core.testing._support import (
    ANN,
    BOB,
    CAMPAIGN,
    CAROL,
    CLIENT,
    OTHER_CAMPAIGN,
    OTHER_CRM_CAMPAIGN,
    STATUSES,
    T0,
    _hypothesis_or_skip,
)
from cmsf_core.testing.crm_contract._base import (
    _POOL_EMAILS,
    _POOL_INSTANTS,
    CrmContractBase,
    _check,
    _member,
)

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn, SearchStrategy


class MemberContract(CrmContractBase):
    """The contract on campaign members."""

    # -- campaign members ------------------------------------------------------------------

    def test_saved_members_round_trip(self) -> None:
        """A saved member (status, activity, rollups, person) is read back as saved."""
        crm = self._crm_with_campaign()
        ann = _member(
            ANN,
            status="Clicked",
            person_id="003000000000001",
            activity=ActivityType.CLICKED,
            activity_date=T0,
            engagement=Engagement(sent=1, opens=2, clicks=1),
        )
        bob = _member(BOB, status=None)

        _check(crm.save_members([ann, bob]), written=2)

        assert dict(crm.members([ann.ref, bob.ref, MemberRef(CAMPAIGN, CAROL)])) == {
            ann.ref: ann,
            bob.ref: bob,
        }

    def test_saving_a_member_again_replaces_it_one_member_per_ref(self) -> None:
        """Members are upserted by (platform campaign, email): never a duplicate."""
        crm = self._crm_with_campaign()
        first = _member(ANN, status="Sent")
        later = _member(ANN, status="Opened", activity=ActivityType.OPENED, activity_date=T0)

        _check(crm.save_members([first]))
        _check(crm.save_members([later]))

        assert dict(crm.members([first.ref])) == {first.ref: later}
        assert list(crm.members_of([CAMPAIGN])) == [later]

    def test_members_of_lists_every_member_of_those_campaigns_only(self) -> None:
        """members_of returns the members of the platform campaigns asked for."""
        crm = self._crm_with_campaign()
        other = CrmCampaign(OTHER_CRM_CAMPAIGN, "Summer", STATUSES)
        _check(
            crm.create_campaigns(
                [other], [CampaignLink(CLIENT, OTHER_CAMPAIGN, OTHER_CRM_CAMPAIGN)]
            )
        )
        ann, bob = _member(ANN), _member(BOB)
        elsewhere = _member(
            ANN, campaign_id=OTHER_CAMPAIGN, crm_campaign_id=OTHER_CRM_CAMPAIGN, status="Opened"
        )
        _check(crm.save_members([ann, bob, elsewhere]))

        assert Counter(crm.members_of([CAMPAIGN])) == Counter([ann, bob])
        assert Counter(crm.members_of([CAMPAIGN, OTHER_CAMPAIGN])) == Counter([ann, bob, elsewhere])
        assert list(crm.members_of(["cmp-without-members"])) == []

    def test_unmatched_members_are_listed_until_matched(self) -> None:
        """A member without a contact or lead is unmatched until saved with one."""
        crm = self._crm_with_campaign()
        ann, bob = _member(ANN), _member(BOB, person_id="003000000000002")
        _check(crm.save_members([ann, bob]))
        assert list(crm.unmatched_members()) == [ann]

        matched = attrs.evolve(ann, person_id="003000000000001")
        _check(crm.save_members([matched]))

        assert list(crm.unmatched_members()) == []
        assert dict(crm.members([ann.ref])) == {ann.ref: matched}

    def test_a_member_with_a_status_outside_the_status_set_is_refused_per_item(self) -> None:
        """Salesforce's restricted picklist: a status the campaign lacks is a failure for
        that member alone, identified by its MemberRef; the rest of the batch is written."""
        crm = self._crm_with_campaign()
        ann = _member(ANN, status="Clicked")
        bob = _member(BOB, status="Registered")
        carol = _member(CAROL, status="Sent")

        result = crm.save_members([ann, bob, carol])

        assert result.written == 2
        assert [item for item, _reason in result.failures] == [bob.ref]
        assert all(reason for _item, reason in result.failures)
        assert dict(crm.members([ann.ref, bob.ref, carol.ref])) == {
            ann.ref: ann,
            carol.ref: carol,
        }

    def test_a_member_of_a_missing_campaign_is_refused_per_item(self) -> None:
        """A member whose CRM campaign does not exist is a failure; the rest is written."""
        crm = self._crm_with_campaign()
        ann = _member(ANN)
        lost = _member(BOB, campaign_id=OTHER_CAMPAIGN, crm_campaign_id="701-missing")

        result = crm.save_members([lost, ann])

        assert [item for item, _reason in result.failures] == [lost.ref]
        assert dict(crm.members([ann.ref, lost.ref])) == {ann.ref: ann}

    def test_member_reads_match_the_last_save_for_any_sequence_of_saves(self) -> None:
        """For any saves, each ref holds its last saved member; the unmatched are exactly
        those last saved without a person."""
        _hypothesis_or_skip()
        from hypothesis import given  # noqa: PLC0415 - see cmsf_core.testing._support

        @self._settings
        @given(_member_batches())
        def check(batches: list[list[MemberRecord]]) -> None:
            crm = self._crm_with_campaign()
            model: dict[MemberRef, MemberRecord] = {}
            for batch in batches:
                _check(crm.save_members(batch), written=len(batch))
                model.update((m.ref, m) for m in batch)
            refs = [MemberRef(CAMPAIGN, normalise_email(e)) for e in _POOL_EMAILS]
            assert dict(crm.members(refs)) == model
            assert Counter(crm.members_of([CAMPAIGN])) == Counter(model.values())
            unmatched = [m for m in model.values() if m.person_id is None]
            assert Counter(crm.unmatched_members()) == Counter(unmatched)

        check()


def _member_batches() -> SearchStrategy[list[list[MemberRecord]]]:
    from hypothesis import strategies as st  # noqa: PLC0415 - see cmsf_core.testing._support

    @st.composite
    def members(draw: DrawFn) -> MemberRecord:
        email = draw(st.sampled_from(_POOL_EMAILS))
        status = draw(st.sampled_from((None, "Sent", "Opened", "Clicked")))
        activity = {"Opened": ActivityType.OPENED, "Clicked": ActivityType.CLICKED}.get(
            status or ""
        )
        return _member(
            email,
            status=status,
            person_id=draw(st.sampled_from((None, "003000000000001", "00Q000000000001"))),
            activity=activity,
            activity_date=draw(st.sampled_from(_POOL_INSTANTS)) if activity else None,
            engagement=Engagement(opens=draw(st.integers(min_value=0, max_value=3))),
        )

    return st.lists(st.lists(members(), max_size=3), max_size=5)
