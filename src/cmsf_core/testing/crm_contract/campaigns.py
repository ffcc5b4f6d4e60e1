"""The CRM contract on campaigns: the platform's copies, and the CRM's own with their
links, status sets and statistics.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from cmsf_core.domain.records.campaigns import CampaignLink, CrmCampaign, MemberStatus
from cmsf_core.domain.records.platform import CampaignSummary, PlatformCampaign
from cmsf_core.testing._support import (
    CAMPAIGN,
    CLIENT,
    CRM_CAMPAIGN,
    OTHER_CAMPAIGN,
    OTHER_CLIENT,
    OTHER_CRM_CAMPAIGN,
    STATUSES,
    T0,
)
from cmsf_core.testing.crm_contract._base import CrmContractBase, _check


class CampaignContract(CrmContractBase):
    """The contract on platform campaigns and CRM campaigns, links, statuses and statistics."""

    # -- platform campaigns ----------------------------------------------------------------

    def test_platform_campaigns_are_upserted_by_campaign_id(self) -> None:
        """The integration's copies of platform campaigns round-trip; a second save of the
        same campaign replaces the first."""
        crm = self.make_crm()
        spring = PlatformCampaign(CLIENT, CAMPAIGN, "Spring", T0, frozenset({"news"}))
        summer = PlatformCampaign(OTHER_CLIENT, OTHER_CAMPAIGN, "Summer", T0 + timedelta(days=1))
        renamed = attrs.evolve(spring, name="Spring sale", tags=frozenset({"news", "sale"}))

        _check(crm.save_platform_campaigns([spring, summer]), written=2)
        _check(crm.save_platform_campaigns([renamed]))

        assert dict(crm.platform_campaigns()) == {CAMPAIGN: renamed, OTHER_CAMPAIGN: summer}

    def test_platform_campaigns_are_deleted_by_campaign_id(self) -> None:
        """Deleting copies removes exactly those campaigns; a missing one is no error, and
        the links and CRM campaigns stay."""
        crm = self.make_crm()
        spring = PlatformCampaign(CLIENT, CAMPAIGN, "Spring", T0)
        summer = PlatformCampaign(OTHER_CLIENT, OTHER_CAMPAIGN, "Summer", T0 + timedelta(days=1))
        link = CampaignLink(CLIENT, CAMPAIGN, CRM_CAMPAIGN)
        _check(crm.save_platform_campaigns([spring, summer]), written=2)
        _check(crm.create_campaigns([CrmCampaign(CRM_CAMPAIGN, "Spring", STATUSES)], [link]))

        _check(crm.delete_platform_campaigns([CAMPAIGN, "cmp-never-stored"]), written=1)
        _check(crm.delete_platform_campaigns([CAMPAIGN]), written=0)

        assert dict(crm.platform_campaigns()) == {OTHER_CAMPAIGN: summer}
        assert dict(crm.links()) == {CAMPAIGN: link}
        assert list(crm.campaigns()) == [CRM_CAMPAIGN]

    # -- CRM campaigns, links, statuses, statistics --------------------------------------

    def test_created_campaigns_and_links_round_trip(self) -> None:
        """Campaigns are read back with their status sets, links by platform campaign id."""
        crm = self.make_crm()
        first = CrmCampaign(CRM_CAMPAIGN, "Spring", STATUSES)
        second = CrmCampaign(
            OTHER_CRM_CAMPAIGN, "Summer", STATUSES[:1], created_by_integration=True
        )
        links = [
            CampaignLink(CLIENT, CAMPAIGN, CRM_CAMPAIGN),
            CampaignLink(OTHER_CLIENT, OTHER_CAMPAIGN, OTHER_CRM_CAMPAIGN),
        ]

        _check(crm.create_campaigns([first, second], links))

        campaigns = crm.campaigns()
        assert campaigns[CRM_CAMPAIGN] == first
        assert campaigns[OTHER_CRM_CAMPAIGN] == second
        assert dict(crm.links()) == {link.platform_campaign_id: link for link in links}

    def test_creating_a_campaign_again_keeps_one_campaign_per_id(self) -> None:
        """Campaigns are upserted by external id: a re-run never makes a second one."""
        crm = self.make_crm()
        campaign = CrmCampaign(CRM_CAMPAIGN, "Spring", STATUSES)
        link = CampaignLink(CLIENT, CAMPAIGN, CRM_CAMPAIGN)

        _check(crm.create_campaigns([campaign], [link]))
        _check(crm.create_campaigns([campaign], [link]))

        assert list(crm.campaigns()) == [CRM_CAMPAIGN]
        assert crm.campaigns()[CRM_CAMPAIGN].statuses == STATUSES
        assert dict(crm.links()) == {CAMPAIGN: link}

    def test_added_statuses_join_the_status_set_and_the_default_is_kept(self) -> None:
        """An added status keeps its responded flag and sort order; the default stays."""
        crm = self._crm_with_campaign()
        registered = MemberStatus("Registered", has_responded=True, sort_order=4)
        bounced = MemberStatus("Bounced", sort_order=5)

        _check(crm.add_statuses([(CRM_CAMPAIGN, registered), (CRM_CAMPAIGN, bounced)]))

        campaign = crm.campaigns()[CRM_CAMPAIGN]
        assert campaign.statuses == (*STATUSES, registered, bounced)
        assert campaign.default_status == "Sent"

    def test_adding_a_status_already_in_the_set_does_not_duplicate_it(self) -> None:
        """Adding a label the campaign has already leaves its status set as it was."""
        crm = self._crm_with_campaign()

        crm.add_statuses([(CRM_CAMPAIGN, MemberStatus("Opened", sort_order=9))])

        assert crm.campaigns()[CRM_CAMPAIGN].statuses == STATUSES

    def test_an_added_status_never_takes_over_the_default(self) -> None:
        """A CRM campaign always has exactly one default status: the one it had."""
        crm = self._crm_with_campaign()

        crm.add_statuses([(CRM_CAMPAIGN, MemberStatus("Registered", is_default=True))])

        campaign = crm.campaigns()[CRM_CAMPAIGN]
        assert campaign.default_status == "Sent"
        assert campaign.has_status("Registered")

    def test_a_status_for_a_missing_campaign_is_refused_per_item(self) -> None:
        """A status for a campaign that does not exist is a failure; the rest is written."""
        crm = self._crm_with_campaign()
        registered = MemberStatus("Registered", has_responded=True, sort_order=4)

        result = crm.add_statuses([("701-missing", registered), (CRM_CAMPAIGN, registered)])

        assert [item for item, _reason in result.failures] == ["701-missing"]
        assert result.written == 1
        assert crm.campaigns()[CRM_CAMPAIGN].has_status("Registered")
        assert "701-missing" not in crm.campaigns()

    def test_statistics_round_trip(self) -> None:
        """Campaign statistics set on a CRM campaign are read back with it, the latest wins."""
        crm = self._crm_with_campaign()
        first = CampaignSummary(recipients=3, total_opened=2, unique_opened=1, clicks=1)
        later = attrs.evolve(first, total_opened=5, forwards=1)

        _check(crm.save_statistics([(CRM_CAMPAIGN, first)]), written=1)
        assert crm.campaigns()[CRM_CAMPAIGN].statistics == first
        _check(crm.save_statistics([(CRM_CAMPAIGN, later)]), written=1)

        campaign = crm.campaigns()[CRM_CAMPAIGN]
        assert campaign.statistics == later
        assert campaign.statuses == STATUSES

    def test_statistics_for_a_missing_campaign_are_refused_per_item(self) -> None:
        """Statistics for a campaign that does not exist are a failure; the rest is written."""
        crm = self._crm_with_campaign()
        summary = CampaignSummary(recipients=3)

        result = crm.save_statistics([("701-missing", summary), (CRM_CAMPAIGN, summary)])

        assert [item for item, _reason in result.failures] == ["701-missing"]
        assert crm.campaigns()[CRM_CAMPAIGN].statistics == summary
