"""The columnar diagnosis of a store equals the pure rule's (STYLE 16).

Random stores of a few members (each a history from ``cmsf_core.testing.strategies``:
statuses set by hand, Activity Dates equal to a record's time, ties at one instant),
random campaign default statuses and random tracking settings (every refresh mode, both
policies, types mapped to nothing, shared labels) are diagnosed member by member by
:func:`~cmsf_core.domain.diagnose.diagnose` and by ``engine="columnar"``, on the
in-memory store and on a SQLite store: the same members, the same findings.
"""

from __future__ import annotations

from datetime import datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core import Activity, CampaignMember, Settings
from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.adapters.sqlite import SqliteCrm
from cmsf_core.domain.diagnose import FindingCode, diagnose
from cmsf_core.domain.records.members import MemberRecord
from cmsf_core.testing.strategies import (
    default_statuses,
    member_histories,
    tracking_settings,
    utc_instants,
)

pytest.importorskip("polars")

from cmsf_core.app.columnar.stores import diagnose_store, status_without_activity

#: The members a store may hold: two campaigns, a member id shared between them.
KEYS = (("cmp-1", "m-1"), ("cmp-1", "m-2"), ("cmp-2", "m-1"), ("cmp-2", "m-3"))
#: The CRM campaign of each platform campaign.
CRM = {"cmp-1": "sf-1", "cmp-2": "sf-2"}

Store = tuple[tuple[CampaignMember, tuple[Activity, ...]], ...]


def stores() -> st.SearchStrategy[Store]:
    """Up to four members, each with its own history."""
    keys = st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS))
    return keys.flatmap(
        lambda chosen: st.tuples(*(member_histories(campaign_id=c, member_id=m) for c, m in chosen))
    )


def seeded(crm: InMemoryCrm | SqliteCrm, store: Store, defaults: tuple[str | None, ...]) -> None:
    """``store`` written into ``crm``: each CRM campaign offers every label used."""
    labels = sorted({m.status for m, _ in store if m.status is not None} | {"Sent", "Responded"})
    for (platform_id, crm_id), default in zip(CRM.items(), defaults, strict=True):
        statuses = [*labels, *([default] if default and default not in labels else [])]
        crm.add_campaign(crm_id, f"Campaign {platform_id}", statuses=statuses, default=default)
    members = [MemberRecord(CRM[m.campaign_id], m, f"{m.member_id}@example.com") for m, _ in store]
    assert not crm.save_members(members).failures
    records = [r for _, history in store for r in history]
    # A store's records come from a platform client (SQLite reads back none without one).
    records = [r if r.client_id else attrs.evolve(r, client_id="client-1") for r in records]
    assert not crm.insert_records(records).failures


def by_rules(crm: InMemoryCrm | SqliteCrm, settings: Settings, as_of: datetime) -> list[object]:
    """The pure rule, member by member, in the order diagnose prints."""
    campaigns = crm.campaigns()
    found = []
    for record in sorted(crm.all_members(), key=lambda m: (m.crm_campaign_id, m.email)):
        stored = crm.records_for([record.ref]).get(record.ref, ())
        default = campaigns[record.crm_campaign_id].default_status
        findings = diagnose(record.member, stored, settings, as_of=as_of, default_status=default)
        if findings:
            found.append((record, findings))
    return found


@given(
    store=stores(),
    settings=tracking_settings(),
    defaults=st.tuples(default_statuses(), default_statuses()),
    as_of=utc_instants(),
    sqlite=st.booleans(),
)
def test_the_columnar_diagnosis_of_a_store_equals_the_rules(
    store: Store,
    settings: Settings,
    defaults: tuple[str | None, str | None],
    as_of: datetime,
    sqlite: bool,
) -> None:
    """Both engines flag the same members with the same findings, as the pure rule does;
    the count of unsupported statuses (simulate's figure) agrees too."""
    crm = SqliteCrm(":memory:") if sqlite else InMemoryCrm()
    try:
        seeded(crm, store, defaults)
        expected = by_rules(crm, settings, as_of)
        members = crm.all_members()
        without = status_without_activity(crm, members, settings)

        assert diagnose_store(crm, settings, as_of=as_of, engine="columnar") == expected
        assert diagnose_store(crm, settings, as_of=as_of, engine="rules") == expected
        campaigns = crm.campaigns()
        assert without == [
            any(
                f.code is FindingCode.STATUS_WITHOUT_ACTIVITY
                for f in diagnose(
                    r.member,
                    crm.records_for([r.ref]).get(r.ref, ()),
                    settings,
                    as_of=as_of,
                    default_status=campaigns[r.crm_campaign_id].default_status,
                )
            )
            for r in members
        ]
    finally:
        if isinstance(crm, SqliteCrm):
            crm.close()
