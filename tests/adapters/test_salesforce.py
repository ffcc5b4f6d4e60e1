"""The Salesforce adapter against the shared fake org (``salesforce_fake``, no network).

The fake answers simple-salesforce's HTTP requests as Salesforce does and enforces its
documented limits (request size, SOQL length, page size, text field length, Bulk 2.0
limits, per-record errors): see its module docstring.  Here the adapter keeps the
``CrmStoreContract``, and a whole ``run_sync`` of long emails and long click URLs stays
within every limit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import subprocess
import sys
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
import hypothesis
import pytest
from hypothesis import strategies as st

if "cmsf_core.testing" not in sys.modules:  # pytest's assert messages in the contracts
    pytest.register_assert_rewrite("cmsf_core.testing")

import requests
import simple_salesforce
from salesforce_fake import (
    ANN_ID,
    BOB_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    FRESH_TOKEN,
    INSTANCE,
    LEAD_ID,
    MEMBER,
    OWN_MEMBER,
    REFRESH_TOKEN,
    SECRETS,
    SESSION_ID,
    STATUSES,
    T0,
    WORKLOAD_SENT,
    FakeSalesforce,
    Sleeps,
    _oauth_error,
    _response,
    _true,
    _unavailable,
    long_email,
    long_url,
    long_workload,
)

from cmsf_core import Settings
from cmsf_core.adapters.errors import CrmAuthenticationError, CrmError, CrmUnavailableError
from cmsf_core.adapters.memory import InMemoryCrm
from cmsf_core.adapters.retry import default_backoff
from cmsf_core.adapters.salesforce import (
    COUNTERS,
    DEFAULT_FIELD_MAP,
    FieldMap,
    ManagedPackageHistory,
    SalesforceCrm,
    WbsenditFieldMap,
)
from cmsf_core.adapters.salesforce.codec import _member_key
from cmsf_core.adapters.salesforce.queries import request_line_bytes, soql_statements
from cmsf_core.app.demo import build_platform
from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.connection import Secret
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.errors import InvalidTypeError, InvalidValueError
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records import (
    CampaignLink,
    Checkpoint,
    CrmCampaign,
    MemberRecord,
    MemberRef,
    MemberStatus,
    Person,
    PersonKind,
    PlatformCampaign,
)
from cmsf_core.domain.subscribers import OptOutChange
from cmsf_core.shell.sync import run_sync
from cmsf_core.testing import CrmStoreContract

TRACKING = DEFAULT_FIELD_MAP.tracking_record


def _small_pages() -> FakeSalesforce:
    """A fake org answering 3-row pages, so that every read crosses pages."""
    fake = FakeSalesforce()
    fake.page_size = 3
    return fake


def _crm(fake: FakeSalesforce | None = None, **kw: Any) -> SalesforceCrm:
    kw.setdefault("sleep", Sleeps())
    return SalesforceCrm.connect(
        INSTANCE, Secret(SESSION_ID), session=fake or _small_pages(), bulk_wait=0, **kw
    )


def _oauth_crm(fake: FakeSalesforce, **kw: Any) -> SalesforceCrm:
    kw.setdefault("sleep", Sleeps())
    return SalesforceCrm.connect(
        INSTANCE,
        refresh_token=Secret(REFRESH_TOKEN),
        client_id=CLIENT_ID,
        client_secret=Secret(CLIENT_SECRET),
        session=fake,
        bulk_wait=0,
        **kw,
    )


def _fake_of(crm: SalesforceCrm) -> FakeSalesforce:
    fake = crm._wire._session
    assert isinstance(fake, FakeSalesforce)
    return fake


def _member(
    email: str,
    *,
    person_id: str | None = None,
    status: str | None = "Sent",
    campaign_id: str = "cmp-1",
    crm_campaign_id: str = "701-spring",
    activity: ActivityType | None = None,
    activity_date: datetime | None = None,
    engagement: Engagement | None = None,
) -> MemberRecord:
    member = CampaignMember(
        campaign_id,
        email.casefold(),
        status=status,
        activity=activity,
        activity_date=activity_date,
        engagement=engagement or Engagement(),
    )
    return MemberRecord(crm_campaign_id, member, email, person_id)


def _crm_with_campaign(fake: FakeSalesforce | None = None, **kw: Any) -> SalesforceCrm:
    crm = _crm(fake, **kw)
    link = CampaignLink("client-1", "cmp-1", "701-spring")
    assert crm.create_campaigns([CrmCampaign("701-spring", "Spring", STATUSES)], [link]).ok
    return crm


# ----------------------------------------------------------------------------- the contract


class TestSalesforceContract(CrmStoreContract):
    """The adapter keeps the CrmStore contract through simple-salesforce and the fake org."""

    property_examples: ClassVar[int | None] = 15

    def make_crm(self) -> SalesforceCrm:
        return _crm()

    def add_person(
        self,
        crm: Any,
        email: str,
        *,
        person_id: str,
        kind: PersonKind = PersonKind.CONTACT,
        last_modified: datetime = T0,
        account_id: str | None = None,
    ) -> Person:
        account = account_id if kind is PersonKind.CONTACT else None  # a Lead has no account
        _fake_of(crm).add_person(kind, person_id, email, last_modified, account_id=account)
        return Person(person_id, kind, email, last_modified, account_id=account)


# ----------------------------------------------------------------------------- the wire


def test_reads_cross_query_pages_and_writes_go_through_bulk_jobs() -> None:
    """Reads follow nextRecordsUrl to the last page; writes are Bulk 2.0 ingest jobs."""
    fake = _small_pages()
    crm = _crm(fake)
    campaigns = [CrmCampaign(f"c{n}", f"Campaign {n}", STATUSES) for n in range(7)]

    assert crm.create_campaigns(campaigns, []).ok

    assert sorted(crm.campaigns()) == [f"c{n}" for n in range(7)]
    assert any("/query/01gCUR-" in url for _m, url in fake.calls)  # nextRecordsUrl followed
    jobs = [(j["operation"], j["object"]) for j in fake.jobs.values()]
    assert ("upsert", "Campaign") in jobs
    assert ("insert", "CampaignMemberStatus") in jobs


def test_per_record_bulk_failures_become_write_result_failures() -> None:
    """A record the job refuses is a failure keyed by its identity; the rest is written."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.refuse = lambda obj, row: (
        "FIELD_CUSTOM_VALIDATION_EXCEPTION:bad client:--"
        if obj == DEFAULT_FIELD_MAP.tracking_record.name
        and row[DEFAULT_FIELD_MAP.tracking_record.field("client")] == "bad"
        else None
    )
    good = Activity("cmp", "ann@example.com", ActivityType.OPENED, T0, client_id="good")
    bad = Activity("cmp", "bob@example.com", ActivityType.OPENED, T0, client_id="bad")

    result = crm.insert_records([good, bad])

    assert result.written == 1
    assert result.failures == ((bad.key, "FIELD_CUSTOM_VALIDATION_EXCEPTION:bad client:--"),)
    assert crm.existing_keys([good.key, bad.key]) == {good.key}


def test_soql_is_built_with_format_soql_quoting() -> None:
    """A quote in an email reaches SOQL escaped and still matches."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.add_person(PersonKind.CONTACT, ANN_ID, "o'brien@example.com", T0)

    found = crm.find_people(["O'Brien@example.com"])

    assert [p.person_id for p in found["o'brien@example.com"]] == [ANN_ID]


def test_the_field_map_names_the_objects() -> None:
    """An evolved field map sends the org's own object names."""
    fake = FakeSalesforce()
    checkpoints = attrs.evolve(DEFAULT_FIELD_MAP.checkpoint, name="Acme_Sync_State__c")
    crm = _crm(fake, field_map=attrs.evolve(DEFAULT_FIELD_MAP, checkpoint=checkpoints))
    assert crm.save_checkpoints([Checkpoint("client-1", T0)]).ok

    assert "Acme_Sync_State__c" in fake.tables
    assert crm.checkpoint("client-1").watermark == T0


def test_the_member_fields_follow_the_engagement_counters() -> None:
    """The field map has one CampaignMember field per Engagement counter."""
    assert tuple(a.name for a in attrs.fields(Engagement)) == COUNTERS
    assert set(MEMBER.counters) == set(COUNTERS)


def test_a_refused_session_is_an_authentication_error() -> None:
    """A 401 without a refresh token is CrmAuthenticationError with Salesforce's code."""
    crm = SalesforceCrm.connect(INSTANCE, "wrong-session", session=FakeSalesforce(), bulk_wait=0)

    with pytest.raises(CrmAuthenticationError) as caught:
        crm.campaigns()

    assert (caught.value.code, caught.value.status) == ("INVALID_SESSION_ID", 401)
    assert isinstance(caught.value, CrmError | RuntimeError)


def test_importing_the_adapter_does_not_import_simple_salesforce() -> None:
    """The adapter module imports neither simple_salesforce nor requests."""
    code = (
        "import sys, cmsf_core.adapters.salesforce; "
        "assert 'simple_salesforce' not in sys.modules; assert 'requests' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_expired_records_query_uses_a_datetime_literal() -> None:
    """The retention cutoff is a SOQL date-time literal, compared strictly."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    old = Activity("cmp", "ann@example.com", ActivityType.OPENED, T0, client_id="c")
    new = Activity(
        "cmp", "ann@example.com", ActivityType.OPENED, T0 + timedelta(days=2), client_id="c"
    )
    assert crm.insert_records([old, new]).ok

    expired = crm.expired_records({ActivityType.OPENED: T0 + timedelta(days=1)})

    assert expired == [old]


# ----------------------------------------------------------------------------- members


def test_matched_members_are_standard_campaign_members_with_their_rollups() -> None:
    """A member with a contact or lead is a CampaignMember: CampaignId, ContactId or LeadId
    by the id's prefix, Status, and the activity, date and counters in their own fields."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake)
    ann = _member(
        "Ann@Example.com",
        person_id=ANN_ID,
        status="Clicked",
        activity=ActivityType.CLICKED,
        activity_date=T0,
        engagement=Engagement(sent=1, opens=3, clicks=2),
    )
    lee = _member("lee@example.com", person_id=LEAD_ID, status="Opened")

    first = crm.save_members([ann, lee])
    again = crm.save_members([ann, lee])

    assert (first.written, first.failures) == (2, ())
    assert again == first

    campaign_id = crm._campaign_ids()["701-spring"]
    rows = {r.get("ContactId") or r.get("LeadId"): r for r in fake.table("CampaignMember")}
    assert set(rows) == {ANN_ID, LEAD_ID}
    row = rows[ANN_ID]
    assert (row["CampaignId"], row["LeadId"], row["Status"]) == (campaign_id, None, "Clicked")
    assert json.loads(row[MEMBER.full_key]) == ["cmp-1", "ann@example.com"]
    assert row[MEMBER.key] == _member_key(MemberRef("cmp-1", "ann@example.com"))
    assert row[MEMBER.email] == "Ann@Example.com"
    assert (row[MEMBER.activity], row[MEMBER.activity_date]) == (
        "Clicked",
        "2024-05-06T09:00:00.000Z",
    )
    assert [row[MEMBER.counters[c]] for c in COUNTERS] == ["1", "3", "2", "0", "0", "0"]
    assert (rows[LEAD_ID]["ContactId"], rows[LEAD_ID]["Status"]) == (None, "Opened")
    assert fake.table(OWN_MEMBER.name) == []
    assert crm.members([ann.ref, lee.ref]) == {ann.ref: ann, lee.ref: lee}
    assert set(crm.members_of(["cmp-1"])) == {ann, lee}
    assert crm.unmatched_members() == ()


def test_an_unmatched_member_moves_to_campaign_member_when_matched() -> None:
    """An unmatched member waits in the integration's object; once matched it is one
    CampaignMember and its waiting row is gone: one row, nothing lost."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake)
    waiting = _member("ann@example.com", engagement=Engagement(sent=1))
    assert crm.save_members([waiting]).ok
    assert [json.loads(r[OWN_MEMBER.data])["email"] for r in fake.table(OWN_MEMBER.name)] == [
        "ann@example.com"
    ]
    assert fake.table("CampaignMember") == []
    assert crm.unmatched_members() == (waiting,)

    matched = attrs.evolve(waiting, person_id=ANN_ID)
    result = crm.save_members([matched])

    assert (result.written, result.failures) == (1, ())
    assert fake.table(OWN_MEMBER.name) == []
    assert [r["ContactId"] for r in fake.table("CampaignMember")] == [ANN_ID]
    assert crm.members([waiting.ref]) == {waiting.ref: matched}
    assert crm.unmatched_members() == ()
    assert crm.members_of(["cmp-1"]) == (matched,)


def test_a_member_whose_person_changes_moves_to_the_new_persons_membership() -> None:
    """CampaignMember cannot change its person: the old row goes, a new one is inserted."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake)
    ann = _member("ann@example.com", person_id=ANN_ID)
    assert crm.save_members([ann]).ok

    as_lead = attrs.evolve(ann, person_id=LEAD_ID)
    assert crm.save_members([as_lead]).ok

    assert [(r["ContactId"], r["LeadId"]) for r in fake.table("CampaignMember")] == [
        (None, LEAD_ID)
    ]
    assert fake.table(OWN_MEMBER.name) == []
    assert crm.members([ann.ref]) == {ann.ref: as_lead}


def test_a_person_already_in_the_campaign_keeps_one_campaign_member() -> None:
    """A membership added by hand is taken over; a second email of the same person waits
    in the integration's object instead of making a duplicate."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake)
    campaign_id = crm._campaign_ids()["701-spring"]
    fake.tables["CampaignMember"] = {
        "00vHAND": {
            "Id": "00vHAND",
            "CampaignId": campaign_id,
            "ContactId": ANN_ID,
            "Status": "Sent",
        }
    }
    ann = _member("ann@example.com", person_id=ANN_ID, status="Opened")
    alias = _member("ann.alias@example.com", person_id=ANN_ID, status="Clicked")

    result = crm.save_members([ann, alias])

    assert (result.written, result.failures) == (2, ())
    (row,) = fake.table("CampaignMember")
    assert (row["Id"], row["Status"], json.loads(row[MEMBER.full_key])) == (
        "00vHAND",
        "Opened",
        ["cmp-1", "ann@example.com"],
    )
    assert [json.loads(r[OWN_MEMBER.data])["email"] for r in fake.table(OWN_MEMBER.name)] == [
        "ann.alias@example.com"
    ]
    assert crm.members([ann.ref, alias.ref]) == {ann.ref: ann, alias.ref: alias}
    assert crm.unmatched_members() == ()


def test_a_status_salesforce_refuses_is_a_failure_of_that_member_only() -> None:
    """Salesforce's restricted picklist refuses a Status the campaign lost meanwhile: a
    failure keyed by the member's ref, from the job's failed results."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake)
    campaign_id = crm._campaign_ids()["701-spring"]
    (clicked,) = [s for s in fake.statuses_of(campaign_id) if s["Label"] == "Clicked"]

    def drop_clicked() -> None:
        del fake.tables["CampaignMemberStatus"][clicked["Id"]]

    fake.fail("POST", r"/jobs/ingest$", drop_clicked)
    ann = _member("ann@example.com", person_id=ANN_ID, status="Clicked")
    bob = _member("bob@example.com", person_id=BOB_ID, status="Opened")

    result = crm.save_members([ann, bob])

    assert result.written == 1
    assert [ref for ref, _reason in result.failures] == [ann.ref]
    assert result.failures[0][1].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Status")
    assert crm.members([ann.ref, bob.ref]) == {bob.ref: bob}


def test_the_fake_keeps_campaign_members_rules() -> None:
    """The fake org refuses what Salesforce refuses: no person, a duplicate membership, a
    status the campaign lacks; a member without a status gets the default."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake)
    campaign_id = crm._campaign_ids()["701-spring"]
    sf = simple_salesforce.Salesforce(instance_url=INSTANCE, session_id=SESSION_ID, session=fake)
    rows = [
        {"CampaignId": campaign_id, "ContactId": ANN_ID, "LeadId": "#N/A", "Status": "#N/A"},
        {"CampaignId": campaign_id, "ContactId": ANN_ID, "LeadId": "#N/A", "Status": "Sent"},
        {"CampaignId": campaign_id, "ContactId": "#N/A", "LeadId": "#N/A", "Status": "Sent"},
        {"CampaignId": campaign_id, "ContactId": BOB_ID, "LeadId": "#N/A", "Status": "Gone"},
    ]

    (job,) = sf.bulk2.CampaignMember.insert(records=rows, wait=0)

    errors = [
        r["sf__Error"]
        for r in csv.DictReader(
            io.StringIO(sf.bulk2.CampaignMember.get_failed_records(job["job_id"]))
        )
    ]
    assert [e.split(":")[0] for e in errors] == [
        "DUPLICATE_VALUE",
        "REQUIRED_FIELD_MISSING",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    ]
    assert [r["Status"] for r in fake.table("CampaignMember")] == ["Sent"]


# ----------------------------------------------------------------------------- statuses


def _statuses_in_the_org(
    fake: FakeSalesforce, crm: SalesforceCrm, key: str
) -> list[tuple[Any, ...]]:
    rows = fake.statuses_of(crm._campaign_ids()[key])
    return sorted(
        (int(r["SortOrder"]), r["Label"], _true(r["IsDefault"]), _true(r["HasResponded"]))
        for r in rows
    )


@pytest.mark.parametrize(
    "statuses",
    [
        pytest.param(STATUSES, id="sent-kept-responded-deleted"),
        pytest.param(
            (
                MemberStatus("Sent", is_default=True, sort_order=1),
                MemberStatus("Responded", has_responded=True, sort_order=2),
            ),
            id="both-kept-as-they-are",
        ),
        pytest.param(
            (
                MemberStatus("Invited", is_default=True, sort_order=1),
                MemberStatus("Attended", has_responded=True, sort_order=2),
            ),
            id="neither-wanted-new-default",
        ),
        pytest.param(
            (
                MemberStatus("Responded", is_default=True, has_responded=False, sort_order=1),
                MemberStatus("Sent", has_responded=True, sort_order=2),
            ),
            id="default-moves-and-orders-swap",
        ),
        pytest.param(
            (
                MemberStatus("Opened", has_responded=True, sort_order=1),
                MemberStatus("Clicked", is_default=True, has_responded=True, sort_order=2),
                MemberStatus("Sent", sort_order=3),
            ),
            id="new-default-on-a-taken-order",
        ),
    ],
)
def test_a_new_campaign_ends_with_exactly_the_statuses_asked_for(
    statuses: tuple[MemberStatus, ...],
) -> None:
    """Salesforce's own "Sent" and "Responded" are updated, deleted or kept so that the new
    campaign has exactly the asked statuses: labels, default, responded, sort order."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    campaign = CrmCampaign("701-new", "New", statuses)

    result = crm.create_campaigns([campaign], [])

    assert (result.written, result.failures) == (1, ())
    assert _statuses_in_the_org(fake, crm, "701-new") == sorted(
        (s.sort_order, s.label, s.is_default, s.has_responded) for s in statuses
    )
    assert crm.campaigns()["701-new"] == campaign


def test_a_new_campaign_gets_salesforces_two_statuses_in_the_fake() -> None:
    """The fake org, like Salesforce, gives an inserted Campaign "Sent" and "Responded"."""
    fake = FakeSalesforce()
    sf = simple_salesforce.Salesforce(instance_url=INSTANCE, session_id=SESSION_ID, session=fake)

    sf.bulk2.Campaign.insert(records=[{"Name": "By hand"}], wait=0)

    (campaign,) = fake.table("Campaign")
    assert sorted(
        (r["Label"], r["IsDefault"], r["HasResponded"], r["SortOrder"])
        for r in fake.statuses_of(campaign["Id"])
    ) == [("Responded", "false", "true", "2"), ("Sent", "true", "false", "1")]


def test_a_campaign_without_a_responded_status_keeps_responded_where_salesforce_requires_one() -> (
    None
):
    """With API 39.0's rule on, deleting the last responded status is refused: a failure
    keyed by the campaign, its other statuses as asked, "Responded" kept."""
    fake = FakeSalesforce()
    fake.require_responded = True
    crm = _crm(fake)
    only_sent = CrmCampaign("701-plain", "Plain", (MemberStatus("Sent", is_default=True),))

    result = crm.create_campaigns([only_sent], [])

    assert [item for item, _reason in result.failures] == ["701-plain"]
    assert result.written == 0
    labels = [label for _order, label, *_flags in _statuses_in_the_org(fake, crm, "701-plain")]
    assert sorted(labels) == ["Responded", "Sent"]


def test_an_existing_campaigns_statuses_are_left_as_they_are() -> None:
    """Creating a campaign that exists changes nothing of it."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake)
    jobs = len(fake.jobs)

    other = CrmCampaign("701-spring", "Spring", (MemberStatus("Other", is_default=True),))
    assert crm.create_campaigns([other], []).ok

    assert len(fake.jobs) == jobs
    assert crm.campaigns()["701-spring"].statuses == STATUSES


# ----------------------------------------------------------------------------- retries


def test_every_request_carries_the_timeout() -> None:
    """Every HTTP exchange, queries and Bulk jobs alike, is sent with the timeout."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake, timeout=7.5)
    assert crm.save_members([_member("ann@example.com", person_id=ANN_ID)]).ok
    crm.members_of(["cmp-1"])

    assert len(fake.timeouts) > 20
    assert set(fake.timeouts) == {7.5}


def test_a_transient_503_is_retried_after_a_backoff() -> None:
    """A 503 SERVER_UNAVAILABLE on a query is sent again after backoff(1); one retry."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps, backoff=lambda n: 0.25 * n)
    fake.fail("GET", r"/query/$", _unavailable())

    assert crm.campaigns() == {}

    assert [m for m, url in fake.calls if url.endswith("/query/")] == ["GET", "GET"]
    assert sleeps == [0.25]


def test_a_transient_failure_of_a_bulk_upsert_repeats_the_job() -> None:
    """An upsert on an external id is safe to repeat: a 503 creating its job repeats it."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps)
    fake.fail("POST", r"/jobs/ingest$", _unavailable())

    assert crm.save_checkpoints([Checkpoint("client-1", T0)]).ok

    assert crm.checkpoint("client-1").watermark == T0
    assert len([c for c in fake.calls if c[0] == "POST"]) == 2
    assert sleeps == [default_backoff(1)]


def test_a_bulk_insert_is_repeated_when_its_job_was_never_created() -> None:
    """A refused connection before the job exists cannot have inserted anything."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    assert crm.create_campaigns([CrmCampaign("c1", "One", STATUSES)], []).ok
    fake.fail("POST", r"/jobs/ingest$", requests.ConnectionError("connection refused"))
    jobs = len(fake.jobs)

    assert crm.add_statuses([("c1", MemberStatus("Registered", sort_order=9))]).ok

    assert crm.campaigns()["c1"].has_status("Registered")
    assert len(fake.jobs) == jobs + 1


def test_a_bulk_insert_is_not_repeated_once_its_job_has_its_records() -> None:
    """A failure after an insert job was closed raises with the job id: a second job
    could insert the records twice."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    assert crm.create_campaigns([CrmCampaign("c1", "One", STATUSES)], []).ok
    fake.fail("GET", r"/jobs/ingest/\w+$", _unavailable(), times=10)
    jobs = len(fake.jobs)

    with pytest.raises(CrmUnavailableError) as caught:
        crm.add_statuses([("c1", MemberStatus("Registered", sort_order=9))])

    assert "not repeated" in str(caught.value)
    assert len(fake.jobs) == jobs + 1
    assert [j["object"] for j in fake.jobs.values()][-1] == "CampaignMemberStatus"


def test_a_bad_request_is_not_retried() -> None:
    """A 400 MALFORMED_QUERY is the caller's, not the network's: no second try."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps)
    bad = _response(400, [{"message": "unexpected token", "errorCode": "MALFORMED_QUERY"}])
    fake.fail("GET", r"/query/$", bad)

    with pytest.raises(CrmError) as caught:
        crm.campaigns()

    assert not isinstance(caught.value, CrmUnavailableError)
    assert (caught.value.code, caught.value.status) == ("MALFORMED_QUERY", 400)
    assert len(fake.calls) == 1
    assert sleeps == []


def test_retries_exhausted_raise_crm_unavailable() -> None:
    """After ``retries`` further tries the failure is CrmUnavailableError."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps, retries=2)
    fake.fail("GET", r"/query/$", _unavailable(), times=3)

    with pytest.raises(CrmUnavailableError) as caught:
        crm.campaigns()

    assert (caught.value.code, caught.value.status) == ("SERVER_UNAVAILABLE", 503)
    assert len(fake.calls) == 3
    assert sleeps == [default_backoff(1), default_backoff(2)]


def test_a_connection_that_never_answers_is_unavailable_after_the_retries() -> None:
    """Timeouts and refused connections are retried, then CrmUnavailableError."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps, retries=1)
    fake.fail("GET", r"/query/$", requests.ReadTimeout("read timed out"), times=2)

    with pytest.raises(CrmUnavailableError) as caught:
        crm.campaigns()

    assert "ReadTimeout" in str(caught.value)
    assert len(fake.calls) == 2
    assert sleeps == [default_backoff(1)]


def test_retry_after_is_obeyed_up_to_a_cap() -> None:
    """A Retry-After longer than the backoff is waited, but never more than 60 s."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps)
    fake.fail("GET", r"/query/$", _unavailable(retry_after="5"))
    fake.fail(
        "GET",
        r"/query/$",
        _response(
            429, [{"errorCode": "TOO_MANY", "message": "slow"}], headers={"Retry-After": "600"}
        ),
    )

    assert crm.campaigns() == {}

    assert sleeps == [5.0, 60.0]


def test_request_limit_exceeded_is_retried() -> None:
    """REQUEST_LIMIT_EXCEEDED (HTTP 403) is worth another try."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps)
    limit = [
        {
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
            "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
        }
    ]
    fake.fail("GET", r"/query/$", _response(403, limit))

    assert crm.campaigns() == {}
    assert len(sleeps) == 1


def test_retries_are_logged_at_warning_with_method_and_path_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A retry is a WARNING naming the method and path, never the SOQL (it holds emails)."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.fail("GET", r"/query/$", _unavailable())

    with caplog.at_level(logging.WARNING, logger="cmsf_core.adapters.salesforce"):
        crm.find_people(["ann@example.com"])

    (record,) = [r for r in caplog.records if "retry" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "GET /services/data/v59.0/query/: HTTP 503 SERVER_UNAVAILABLE" in record.getMessage()
    assert "ann@example.com" not in record.getMessage()


@pytest.mark.parametrize(
    ("kw", "field", "error"),
    [
        ({"timeout": 0}, "timeout", InvalidValueError),
        ({"timeout": True}, "timeout", InvalidValueError),
        ({"timeout": float("inf")}, "timeout", InvalidValueError),
        ({"retries": -1}, "retries", InvalidValueError),
        ({"retries": 1.5}, "retries", InvalidValueError),
        ({"backoff": 2}, "backoff", InvalidTypeError),
        ({"sleep": "no"}, "sleep", InvalidTypeError),
        ({"bulk_wait": -1}, "bulk_wait", InvalidValueError),
    ],
)
def test_bad_timeouts_retries_and_backoffs_are_refused(
    kw: dict[str, Any], field: str, error: type[Exception]
) -> None:
    """A bad policy value is refused with the field, what was expected and what came."""
    with pytest.raises(error) as caught:
        SalesforceCrm.connect(INSTANCE, Secret(SESSION_ID), session=FakeSalesforce(), **kw)

    assert f"'{field}'" in str(caught.value)


def test_connect_refuses_an_instance_that_is_not_https() -> None:
    """Tokens are sent only over https."""
    with pytest.raises(InvalidValueError, match="'instance_url'"):
        SalesforceCrm.connect("http://fake.my.salesforce.com", Secret(SESSION_ID))


# ----------------------------------------------------------------------------- OAuth


def test_an_expired_session_is_renewed_with_the_refresh_token_and_the_call_repeated() -> None:
    """401 INVALID_SESSION_ID -> one refresh token request -> the call again, succeeding."""
    fake = FakeSalesforce()
    crm = SalesforceCrm.connect(
        INSTANCE,
        Secret(SESSION_ID),
        refresh_token=Secret(REFRESH_TOKEN),
        client_id=CLIENT_ID,
        client_secret=Secret(CLIENT_SECRET),
        session=fake,
        bulk_wait=0,
    )
    fake.tokens.discard(SESSION_ID)  # the session expired

    assert crm.save_checkpoints([Checkpoint("client-1", T0)]).ok
    assert crm.checkpoint("client-1").watermark == T0

    assert fake.token_forms == [
        {
            "grant_type": "refresh_token",
            "refresh_token": REFRESH_TOKEN,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    ]
    token_calls = [c for c in fake.calls if c[1].endswith("/services/oauth2/token")]
    assert token_calls == [("POST", f"{INSTANCE}/services/oauth2/token")]


def test_connecting_with_a_refresh_token_only_obtains_an_access_token_first() -> None:
    """Without an access token the first call asks for one; no call fails for it."""
    fake = FakeSalesforce()
    fake.client_secret = None  # a connected app that does not require its secret
    crm = SalesforceCrm.connect(
        INSTANCE, refresh_token=REFRESH_TOKEN, client_id=CLIENT_ID, session=fake, bulk_wait=0
    )

    assert crm.campaigns() == {}

    assert fake.calls[0] == ("POST", f"{INSTANCE}/services/oauth2/token")
    assert "client_secret" not in fake.token_forms[0]
    assert len(fake.calls) == 2
    assert fake.timeouts == [30.0, 30.0]  # the token request has the timeout too


def test_a_refused_refresh_is_an_authentication_error() -> None:
    """invalid_grant (revoked or expired refresh token) is CrmAuthenticationError, asked
    once: later calls raise it again without another token request."""
    fake = FakeSalesforce()
    fake.refresh_tokens = set()  # revoked
    crm = _oauth_crm(fake)

    with pytest.raises(CrmAuthenticationError) as caught:
        crm.campaigns()
    with pytest.raises(CrmAuthenticationError):
        crm.save_checkpoints([Checkpoint("client-1", T0)])

    assert (caught.value.code, caught.value.status) == ("invalid_grant", 400)
    assert "expired access/refresh token" in str(caught.value)
    assert "authorise the connected app again" in str(caught.value)
    assert len(fake.token_forms) == 1


def test_a_rotated_refresh_token_is_used_for_the_next_refresh() -> None:
    """With refresh token rotation the answer's new refresh token replaces the old one."""
    fake = FakeSalesforce()
    fake.rotate = True
    crm = _oauth_crm(fake)
    assert crm.campaigns() == {}
    fake.tokens.discard(FRESH_TOKEN)

    assert crm.campaigns() == {}

    assert [f["refresh_token"] for f in fake.token_forms] == [REFRESH_TOKEN, f"{REFRESH_TOKEN}-1"]


def test_a_rotated_refresh_token_is_handed_to_the_caller_to_keep() -> None:
    """``on_refresh_token`` receives each new refresh token, as a Secret, to be stored for
    the next process; without rotation it is never called."""
    kept: list[Secret] = []
    fake = FakeSalesforce()
    crm = _oauth_crm(fake, on_refresh_token=kept.append)
    crm.campaigns()
    assert kept == []  # no rotation: the refresh token stays the one given

    fake.rotate = True
    fake.tokens.discard(FRESH_TOKEN)
    crm.campaigns()

    assert [type(k) for k in kept] == [Secret]
    assert kept[0].reveal() == f"{REFRESH_TOKEN}-2"
    assert kept[0].reveal() not in repr(kept) + repr(crm)
    assert [f["refresh_token"] for f in fake.token_forms][-1] == REFRESH_TOKEN


def test_on_refresh_token_needs_a_function_and_a_refresh_token() -> None:
    """A callback that is no function, or one given without a refresh token, is refused."""
    with pytest.raises(InvalidTypeError, match="'on_refresh_token'"):
        _oauth_crm(FakeSalesforce(), on_refresh_token="store-it-please")
    with pytest.raises(InvalidValueError, match="'refresh_token'"):
        SalesforceCrm.connect(
            INSTANCE, Secret(SESSION_ID), on_refresh_token=print, session=FakeSalesforce()
        )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"refresh_token": REFRESH_TOKEN}, "client_id"),
        ({"client_id": CLIENT_ID}, "refresh_token"),
        ({}, "session_id"),
        (
            {"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "login_url": "login"},
            "login_url",
        ),
    ],
)
def test_incomplete_oauth_arguments_are_refused(kw: dict[str, Any], field: str) -> None:
    """Connecting needs an access token or a refresh token with its client id."""
    with pytest.raises(InvalidValueError) as caught:
        SalesforceCrm.connect(INSTANCE, session=FakeSalesforce(), **kw)

    assert f"'{field}'" in str(caught.value)
    assert REFRESH_TOKEN not in str(caught.value)


def test_a_refresh_token_given_as_a_number_is_refused_without_being_quoted() -> None:
    """A wrong type in a secret slot never shows the value."""
    with pytest.raises(TypeError) as caught:
        SalesforceCrm.connect(INSTANCE, refresh_token=12345678, client_id=CLIENT_ID)  # type: ignore[arg-type]

    assert "12345678" not in str(caught.value)


def test_planted_secrets_never_show_in_a_repr_an_error_or_a_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The access token, the renewed one, the refresh token and the client secret never
    appear in a repr, str, error (with its traceback), log record or attrs.asdict."""
    fake = FakeSalesforce()
    crm = SalesforceCrm.connect(
        INSTANCE,
        Secret(SESSION_ID),
        refresh_token=Secret(REFRESH_TOKEN),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        session=fake,
        bulk_wait=0,
        sleep=Sleeps(),
    )
    texts = [repr(crm), str(crm), repr(Secret(SESSION_ID)), repr(attrs.asdict(crm.field_map))]
    echo = " ".join(SECRETS)
    fake.refuse = lambda _obj, _row: f"INVALID_FIELD:echo {echo}:--"
    with caplog.at_level(logging.DEBUG):
        fake.tokens.discard(SESSION_ID)
        result = crm.save_checkpoints([Checkpoint("client-1", T0)])  # renewed, then refused
        texts.append(repr(result))
        fake.fail("GET", r"/query/$", _unavailable(), times=4)
        errors: list[BaseException] = []
        with pytest.raises(CrmUnavailableError) as unavailable:
            crm.campaigns()
        errors.append(unavailable.value)
        echoed = _response(400, [{"errorCode": "MALFORMED_QUERY", "message": echo}])
        fake.fail("GET", r"/query/$", echoed)
        with pytest.raises(CrmError) as malformed:
            crm.campaigns()
        errors.append(malformed.value)
        revoked = FakeSalesforce()
        revoked.refresh_tokens = set()
        held = f"{REFRESH_TOKEN} {CLIENT_SECRET}"  # what that connection holds
        revoked.fail("POST", r"/oauth2/token$", _oauth_error("invalid_grant", held))
        refused = _oauth_crm(revoked)
        with pytest.raises(CrmAuthenticationError) as auth:
            refused.campaigns()
        errors.append(auth.value)
        texts += [repr(refused), repr(vars(refused)), repr(vars(refused._wire))]
    for error in errors:
        texts += [str(error), repr(error), repr(error.__cause__), repr(error.__context__)]
        texts.append("".join(traceback.format_exception(error)))
    for record in caplog.records:
        texts.append(record.getMessage() + repr(record.args) + (record.exc_text or ""))
    texts += [repr(vars(crm)), repr(vars(crm._wire)), repr(crm._wire._oauth), repr(vars(crm._sf))]
    assert any("records refused" in t for t in texts)  # the logs were captured
    assert any("retry" in t for t in texts)
    assert any("***" in t for t in texts)  # the echoes were masked

    assert FRESH_TOKEN in fake.tokens  # the renewed token was really issued
    assert not result.ok
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret[:12]}... shown in {text[:80]!r}"


# ----------------------------------------------------------------------------- accounts


def test_contacts_of_accounts_are_read_by_account_id_in_chunks() -> None:
    """contacts_of_accounts queries Contact by AccountId, in IN lists cut by request size,
    sorted by person id; leads and contacts without an email are not in it."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.add_person(PersonKind.CONTACT, BOB_ID, "bob@example.com", T0, account_id="001A")
    fake.add_person(PersonKind.CONTACT, ANN_ID, "ann@example.com", T0, account_id="001A")
    fake.add_person(
        PersonKind.CONTACT, "003000000000003", "carol@example.com", T0, account_id="001B"
    )
    fake.add_person(PersonKind.LEAD, LEAD_ID, "lee@example.com", T0)
    fake.tables["Contact"]["003000000000004"] = {
        "Id": "003000000000004",
        "Email": None,
        "AccountId": "001A",
        "LastModifiedDate": "2024-05-06T09:00:00.000+0000",
        "HasOptedOutOfEmail": "false",
    }
    many = ["001A", "001B", *(f"001X{n:014d}" for n in range(1500))]

    found = crm.contacts_of_accounts(many)

    assert {a: [p.person_id for p in ps] for a, ps in found.items()} == {
        "001A": [ANN_ID, BOB_ID],
        "001B": ["003000000000003"],
    }
    assert found["001A"][0] == Person(
        ANN_ID, PersonKind.CONTACT, "ann@example.com", T0, account_id="001A"
    )
    assert len([u for _m, u in fake.calls if u.endswith("/query/")]) > 1
    assert fake.max_request_bytes <= 16_384


def test_an_account_asked_by_its_15_character_id_is_answered_under_it() -> None:
    """Salesforce answers 18-character ids; a 15-character one asked for keys the answer."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    account = "001000000000001AAA"
    fake.add_person(PersonKind.CONTACT, ANN_ID, "ann@example.com", T0, account_id=account)

    assert list(crm.contacts_of_accounts(["001000000000001"])) == ["001000000000001"]


def test_find_people_fills_a_contacts_account() -> None:
    """A contact found by email carries its AccountId; a lead none."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.add_person(PersonKind.CONTACT, ANN_ID, "ann@example.com", T0, account_id="001A")
    fake.add_person(PersonKind.LEAD, LEAD_ID, "ann@example.com", T0)

    found = crm.find_people(["ann@example.com"])["ann@example.com"]

    assert [(p.person_id, p.account_id) for p in found] == [(ANN_ID, "001A"), (LEAD_ID, None)]


def test_a_lone_string_of_account_ids_is_refused() -> None:
    """A string is not a collection of ids (it would be read one character at a time)."""
    with pytest.raises(InvalidTypeError, match="'account_ids'"):
        _crm().contacts_of_accounts("001A")


# ----------------------------------------------------------------------------- a whole sync


def test_a_sync_into_salesforce_reaches_the_in_memory_state() -> None:
    """Day-by-day syncs of one history end in the same records, members and checkpoint
    through the adapter as in the in-memory CRM."""
    statuses = tuple(
        MemberStatus(
            label, is_default=n == 0, has_responded=label in {"Opened", "Clicked"}, sort_order=n + 1
        )
        for n, label in enumerate(
            ("Sent", "Opened", "Clicked", "Bounced", "Unsubscribed", "Marked as Spam")
        )
    )
    fake = FakeSalesforce()
    fake.page_size = 500
    crms: list[Any] = [InMemoryCrm(), _crm(fake)]
    for crm in crms:
        crm.create_campaigns(
            [CrmCampaign(f"sf-cmp-{n}", f"Digest {n}", statuses) for n in (1, 2)],
            [CampaignLink("client-1", f"cmp-{n}", f"sf-cmp-{n}") for n in (1, 2)],
        )
    for i in range(0, 30, 3):
        email, person_id = f"reader{i:05d}@example.com", f"003{i:012d}"
        crms[0].add_person(email, person_id=person_id, last_modified=T0)
        fake.add_person(PersonKind.CONTACT, person_id, email, T0)
    platform = build_platform(recipients=30, campaigns=2)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    for day in range(1, 5):
        for crm in crms:
            run_sync(crm, platform, Settings(days_to_keep=7), as_of=start + timedelta(days=day))

    memory, salesforce = crms
    assert memory.record_count() > 0
    assert sorted(map(repr, salesforce.records_of_clients(["client-1"]))) == sorted(
        map(repr, memory.all_records())
    )
    refs = [m.ref for m in memory.all_members()]
    assert refs
    assert salesforce.members(refs) == memory.members(refs)
    assert salesforce.checkpoint("client-1") == memory.checkpoint("client-1")
    matched = [m for m in memory.all_members() if m.person_id is not None]
    assert len(fake.table("CampaignMember")) == len(matched) > 0
    assert len(fake.table(OWN_MEMBER.name)) == len(refs) - len(matched)


# ----------------------------------------------------------------------------- limits


def test_a_sync_of_long_emails_and_urls_stays_within_salesforces_limits() -> None:
    """500 recipients with 60-character emails and 200-character click URLs sync through
    the limit-enforcing fake: no request over 16,384 bytes, no external id over 255
    characters, every record stored."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    platform, expected = long_workload(fake, crm, 500)

    report = run_sync(crm, platform, Settings(), as_of=WORKLOAD_SENT + timedelta(days=2))

    assert report.applied, report.summary()
    assert 8_000 < fake.max_request_bytes <= 16_384  # large IN lists, none too large
    assert 64 <= fake.max_external_id <= 255
    assert fake.max_soql_chars <= 100_000
    assert len(fake.table(TRACKING.name)) == expected
    assert len(fake.table("CampaignMember")) == len(fake.table("Contact"))
    assert crm.messages() == ()
    assert crm.checkpoint("client-1").watermark == WORKLOAD_SENT + timedelta(minutes=305)


def test_a_checkpoint_longer_than_a_field_is_stored_in_parts_and_read_back_whole() -> None:
    """A journal of 2,000 members (about 170,000 characters of JSON) is cut into parts of
    30,000; it reads back equal, and a shorter one replaces it and removes the parts."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    pending = [(("cmp-1", long_email(n)), "import") for n in range(2_000)]
    long = Checkpoint("client-1", T0, pending)
    rows = DEFAULT_FIELD_MAP.checkpoint.name

    assert crm.save_checkpoints([long]).ok

    assert crm.checkpoint("client-1") == long
    assert len(fake.table(rows)) > 2
    short = Checkpoint("client-1", T0 + timedelta(hours=1))
    assert crm.save_checkpoints([short]).ok
    assert crm.checkpoint("client-1") == short
    assert len(fake.table(rows)) == 1


def test_the_fake_answers_414_to_a_request_over_16384_bytes() -> None:
    """A query whose request line and headers pass 16,384 bytes is refused with HTTP 414,
    as Salesforce refuses the 200-value IN lists of long keys."""
    fake = FakeSalesforce()
    sf = simple_salesforce.Salesforce(instance_url=INSTANCE, session_id=SESSION_ID, session=fake)
    keys = ", ".join(f"'{long_url(n)}'" for n in range(80))

    with pytest.raises(simple_salesforce.SalesforceError) as caught:
        sf.query(f"SELECT Id FROM {TRACKING.name} WHERE {TRACKING.key} IN ({keys})")

    assert caught.value.status == 414
    assert fake.max_request_bytes > 16_384


def test_the_fake_refuses_a_soql_statement_over_100000_characters() -> None:
    """SOQL longer than 100,000 characters is MALFORMED_QUERY."""
    fake = FakeSalesforce()

    answer = fake.query("SELECT Id FROM Contact WHERE Email IN (" + "'a'," * 25_000 + "'b')")

    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_the_fake_answers_at_most_2000_rows_a_page() -> None:
    """A query page holds 2,000 rows at most; the rest follows nextRecordsUrl."""
    fake = FakeSalesforce()
    for n in range(2_500):
        fake.add_person(PersonKind.CONTACT, f"003{n:012d}", f"p{n}@example.com", T0)

    first = fake.query("SELECT Id FROM Contact").json()

    assert (len(first["records"]), first["done"]) == (2_000, False)
    assert "nextRecordsUrl" in first


def test_the_fake_refuses_a_text_external_id_over_255_characters() -> None:
    """A 295-character external id (the old JSON key of a UTM-tagged click) is refused
    per record with STRING_TOO_LONG; the other records are written."""
    fake = FakeSalesforce()
    sf = simple_salesforce.Salesforce(instance_url=INSTANCE, session_id=SESSION_ID, session=fake)
    rows = [{TRACKING.key: "k" * 295}, {TRACKING.key: "k" * 64}]

    (job,) = sf.bulk2.__getattr__(TRACKING.name).upsert(
        records=rows, external_id_field=TRACKING.key, wait=0
    )

    failed = sf.bulk2.__getattr__(TRACKING.name).get_failed_records(job["job_id"])
    assert [r["sf__Error"].split(":")[0] for r in csv.DictReader(io.StringIO(failed))] == [
        "STRING_TOO_LONG"
    ]
    assert len(fake.table(TRACKING.name)) == 1


def test_a_value_too_long_for_any_request_is_refused_before_anything_is_sent() -> None:
    """A lookup value that cannot fit one request even alone is an InvalidValueError naming
    the operation, not a 414."""
    fake = FakeSalesforce()
    crm = _crm(fake)

    with pytest.raises(InvalidValueError, match="'contacts_of_accounts'"):
        crm.contacts_of_accounts(["001" + "x" * 13_000])

    assert fake.calls == []


def test_a_bulk_job_over_the_daily_record_allocation_fails() -> None:
    """Past 150,000,000 records in 24 hours the job fails: an error, nothing written."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.ingested.append((fake.clock(), 150_000_000))

    with pytest.raises(CrmError):
        crm.save_checkpoints([Checkpoint("client-1", T0)])

    assert fake.table(DEFAULT_FIELD_MAP.checkpoint.name) == []


# ----------------------------------------------------------------------------- external ids


def test_a_tracking_records_external_id_is_a_digest_and_its_full_key_is_kept() -> None:
    """The external id is the 64-character SHA-256 of the key's canonical text, which is
    kept whole in the full-key long-text field."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    click = Activity(
        "cmp",
        long_email(1),
        ActivityType.CLICKED,
        T0,
        client_id="c",
        detail=long_url(1, 1_000),
    )

    assert crm.insert_records([click]).ok

    (row,) = fake.table(TRACKING.name)
    text = json.dumps([*click.key[:2], click.key.type.value, *click.key[3:]])
    assert row[TRACKING.key] == hashlib.sha256(text.encode()).hexdigest()
    assert row[TRACKING.field("full_key")] == text
    assert crm.existing_keys([click.key]) == {click.key}
    assert crm.delete_records([click.key]).written == 1
    assert fake.table(TRACKING.name) == []


def test_a_digest_stored_with_another_full_key_is_an_error_never_a_merge() -> None:
    """A digest match whose stored full key differs raises KEY_COLLISION; nothing is
    written over it."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    opened = Activity("cmp", "ann@example.com", ActivityType.OPENED, T0, client_id="c")
    assert crm.insert_records([opened]).ok
    (row,) = fake.table(TRACKING.name)
    row[TRACKING.field("full_key")] = '["another", "key"]'

    with pytest.raises(CrmError) as caught:
        crm.insert_records([opened])

    assert caught.value.code == "KEY_COLLISION"
    assert row[TRACKING.field("full_key")] == '["another", "key"]'
    assert len(fake.jobs) == 1


def test_records_stored_under_the_old_json_key_are_found_with_legacy_keys() -> None:
    """With legacy_keys a record an older version stored under its JSON key counts as
    stored (not inserted again) and is deleted by delete_records."""
    fake = FakeSalesforce()
    old = _crm(fake)
    opened = Activity("cmp", "ann@example.com", ActivityType.OPENED, T0, client_id="c")
    assert old.insert_records([opened]).ok
    (row,) = fake.table(TRACKING.name)
    row[TRACKING.key] = row.pop(TRACKING.field("full_key"))  # as the old version wrote it

    crm = _crm(fake, legacy_keys=True)

    assert _crm(fake).existing_keys([opened.key]) == set()
    assert crm.existing_keys([opened.key]) == {opened.key}
    assert crm.insert_records([opened]).written == 0
    assert len(fake.table(TRACKING.name)) == 1
    assert crm.delete_records([opened.key]).written == 1
    assert fake.table(TRACKING.name) == []


def test_migrating_legacy_keys_gives_old_records_the_digest() -> None:
    """migrate_legacy_keys re-keys the records under the old JSON key with the digest and
    the full key; then they are found without legacy_keys, and a second run changes
    nothing."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    opened = Activity("cmp", "ann@example.com", ActivityType.OPENED, T0, client_id="c")
    sent = Activity("cmp", "ann@example.com", ActivityType.SENT, T0, client_id="c")
    assert crm.insert_records([opened, sent]).ok
    old = next(r for r in fake.table(TRACKING.name) if r[TRACKING.field("type")] == "Opened")
    old[TRACKING.key] = old.pop(TRACKING.field("full_key"))

    first = crm.migrate_legacy_keys(["c"])

    assert (first.written, first.failures) == (1, ())
    assert crm.existing_keys([opened.key, sent.key]) == {opened.key, sent.key}
    assert crm.migrate_legacy_keys(["c"]).written == 0


# ----------------------------------------------------------------------------- converted leads


def test_a_converted_lead_is_not_matched_its_contact_is() -> None:
    """A lead converted into a contact shares its email and conversion time; only the
    contact is found (IsConverted = false on Lead)."""
    fake = FakeSalesforce()
    crm = _crm(fake)
    fake.add_person(PersonKind.CONTACT, ANN_ID, "ann@example.com", T0)
    fake.add_person(PersonKind.LEAD, LEAD_ID, "ann@example.com", T0, converted_to=ANN_ID)
    fake.add_person(PersonKind.LEAD, "00Q000000000002", "lee@example.com", T0)

    found = crm.find_people(["ann@example.com", "lee@example.com"])

    assert {e: [p.person_id for p in ps] for e, ps in found.items()} == {
        "ann@example.com": [ANN_ID],
        "lee@example.com": ["00Q000000000002"],
    }


def test_the_fake_refuses_writes_on_a_converted_lead() -> None:
    """Salesforce refuses an opt-out update on a converted lead and a campaign member for
    it: CANNOT_UPDATE_CONVERTED_LEAD per record."""
    fake = FakeSalesforce()
    crm = _crm_with_campaign(fake)
    fake.add_person(PersonKind.LEAD, LEAD_ID, "lee@example.com", T0, converted_to=ANN_ID)

    opt_out = crm.set_opt_out([OptOutChange(LEAD_ID, "lee@example.com", True)])
    member = crm.save_members([_member("lee@example.com", person_id=LEAD_ID)])

    assert opt_out.failures[0][1].startswith("CANNOT_UPDATE_CONVERTED_LEAD")
    assert member.failures[0][1].startswith("CANNOT_UPDATE_CONVERTED_LEAD")


# ----------------------------------------------------------------------------- locked rows


def test_locked_records_are_retried_with_backoff_then_written() -> None:
    """UNABLE_TO_LOCK_ROW twice on an opt-out: the locked records go again in new jobs
    after backoff(1) and backoff(2), then succeed."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps, backoff=lambda n: 0.5 * n)
    fake.add_person(PersonKind.CONTACT, ANN_ID, "ann@example.com", T0)
    fake.add_person(PersonKind.CONTACT, BOB_ID, "bob@example.com", T0)
    fake.lock_rows("Contact", 2)

    result = crm.set_opt_out(
        [OptOutChange(ANN_ID, "ann@example.com", True), OptOutChange(BOB_ID, "b@x.com", True)]
    )

    assert (result.written, result.failures) == (2, ())
    assert sleeps == [0.5, 1.0]
    assert [r["HasOptedOutOfEmail"] for r in fake.table("Contact")] == ["true", "true"]
    assert len(fake.jobs) == 3


def test_a_record_still_locked_after_the_bound_is_a_failure() -> None:
    """After lock_retries further jobs a still-locked record is a failure with
    UNABLE_TO_LOCK_ROW (a maintenance message for the sync), never retried for ever."""
    fake = FakeSalesforce()
    sleeps = Sleeps()
    crm = _crm(fake, sleep=sleeps, lock_retries=2)
    fake.add_person(PersonKind.CONTACT, ANN_ID, "ann@example.com", T0)
    fake.lock_rows("Contact", 10)

    result = crm.set_opt_out([OptOutChange(ANN_ID, "ann@example.com", True)])

    assert result.written == 0
    assert [(item, reason.split(":")[0]) for item, reason in result.failures] == [
        (ANN_ID, "UNABLE_TO_LOCK_ROW")
    ]
    assert sleeps == [default_backoff(1), default_backoff(2)]
    assert len(fake.jobs) == 3


def test_lock_retries_must_be_a_count() -> None:
    """A negative or non-int lock_retries is refused naming the field."""
    with pytest.raises(InvalidValueError, match="'lock_retries'"):
        _crm(lock_retries=-1)


# ----------------------------------------------------------------------------- managed package

WBSENDIT_CAMPAIGN = "wbsendit__Campaign_Monitor_Campaign__c"
WBSENDIT_ACTIVITY = "wbsendit__Campaign_Activity__c"


def _seed_install(fake: FakeSalesforce) -> None:
    """An org holding an install's history in the managed package's shape."""
    fake.add_person(PersonKind.CONTACT, ANN_ID, "Ann@Example.com", T0)
    fake.add_person(PersonKind.LEAD, LEAD_ID, "lee@example.com", T0)
    fake.tables[WBSENDIT_CAMPAIGN] = {
        "a01000000000001": {
            "Id": "a01000000000001",
            "Name": "Spring digest",
            "wbsendit__Campaign_ID__c": "cm-1",
            "wbsendit__Subject__c": "Spring is here",
            "wbsendit__Num_Opens__c": "2.0",
            "Acme_Sent_Date__c": "2024-05-06T09:00:00.000+0000",
        }
    }
    rows = [
        ("Sent", "2024-05-06T09:00:00.000+0000", ANN_ID, None),
        ("Opened", "2024-05-06T10:15:00.000+0000", ANN_ID, None),
        ("Opened", "2024-05-06T10:15:00.000+0000", ANN_ID, None),
        ("Sent", "2024-05-06T09:00:00.000+0000", None, LEAD_ID),
        ("Forwarded", "2024-05-06T11:00:00.000+0000", None, LEAD_ID),
    ]
    fake.tables[WBSENDIT_ACTIVITY] = {
        f"a02{n:012d}": {
            "Id": f"a02{n:012d}",
            "wbsendit__Activity__c": kind,
            "wbsendit__Activity_Date__c": at,
            "wbsendit__Contact__c": contact,
            "wbsendit__Lead__c": lead,
            "wbsendit__Campaign_ID__c": "cm-1",
        }
        for n, (kind, at, contact, lead) in enumerate(rows)
    }


def test_the_wbsendit_preset_reads_an_installs_campaigns_and_activities() -> None:
    """An org seeded in the managed package's shape reads back as platform campaigns and
    activities (emails through the Contact and Lead lookups, identical events of a minute
    numbered); an unknown activity value is skipped with its record Id."""
    fake = FakeSalesforce()
    _seed_install(fake)
    history = ManagedPackageHistory(
        _crm(fake), FieldMap.wbsendit(campaign_sent_at="Acme_Sent_Date__c", client_id="client-1")
    )

    campaigns = history.campaigns()
    activities = history.activities(["cm-1"])

    assert campaigns == (
        PlatformCampaign(
            "client-1", "cm-1", "Spring digest", T0, frozenset(), subject="Spring is here"
        ),
    )
    assert [(a.email, a.type, a.occurred_at, a.occurrence) for a in activities] == [
        ("Ann@Example.com", ActivityType.SENT, T0, 0),
        ("lee@example.com", ActivityType.SENT, T0, 0),
        ("Ann@Example.com", ActivityType.OPENED, T0 + timedelta(minutes=75), 0),
        ("Ann@Example.com", ActivityType.OPENED, T0 + timedelta(minutes=75), 1),
    ]
    assert {a.client_id for a in activities} == {"client-1"}
    assert activities[0].member_id == "ann@example.com"
    assert [record for record, _why in history.skipped] == ["a02000000000004"]
    store = InMemoryCrm()
    assert store.insert_records(activities).written == 4  # into the library, as records


def test_the_wbsendit_preset_requires_the_names_that_are_not_public() -> None:
    """The send date field and the client id are required settings, never guessed; a bad
    one is refused naming the field."""
    with pytest.raises(TypeError):
        WbsenditFieldMap()  # type: ignore[call-arg]
    with pytest.raises(InvalidValueError, match="'campaign_sent_at'"):
        FieldMap.wbsendit(campaign_sent_at="", client_id="client-1")
    with pytest.raises(InvalidValueError, match="'client_id'"):
        FieldMap.wbsendit(campaign_sent_at="Acme_Sent_Date__c", client_id=" ")
    preset = FieldMap.wbsendit(campaign_sent_at="Acme_Sent_Date__c", client_id="client-1")
    assert (preset.campaign, preset.activity) == (WBSENDIT_CAMPAIGN, WBSENDIT_ACTIVITY)


# ----------------------------------------------------------------------------- echoed secrets


def test_secrets_never_show_when_the_org_echoes_the_request_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With an org that repeats the request's headers (Authorization: Bearer ...) and the
    token form in its error answers, no planted secret reaches an error, its chain, its
    traceback, a repr or a log record."""
    fake = FakeSalesforce()
    fake.echo_headers = True
    plain = _crm(fake)
    oauth = SalesforceCrm.connect(
        INSTANCE,
        Secret(SESSION_ID),
        refresh_token=Secret(REFRESH_TOKEN),
        client_id=CLIENT_ID,
        client_secret=Secret(CLIENT_SECRET),
        session=fake,
        bulk_wait=0,
        sleep=Sleeps(),
    )
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(CrmError) as too_long:  # 414 with the headers in its body
            plain._run_query(
                "test", "SELECT Id FROM Contact WHERE Email IN ('" + "x" * 17_000 + "')"
            )
        errors.append(too_long.value)
        fake.tokens.discard(SESSION_ID)
        with pytest.raises(CrmAuthenticationError) as expired:  # 401 echoing the Bearer token
            plain.campaigns()
        errors.append(expired.value)
        fake.refresh_tokens = set()
        with pytest.raises(CrmAuthenticationError) as refused:  # the form echoed
            oauth.campaigns()
        errors.append(refused.value)
    assert "Authorization: Bearer ***" in str(expired.value)  # echoed, then masked
    assert "form: " in str(refused.value)
    texts = [repr(plain), repr(oauth), repr(vars(oauth._wire))]
    for error in errors:
        texts += [str(error), repr(error), repr(error.__cause__), repr(error.__context__)]
        texts.append("".join(traceback.format_exception(error)))
    texts += [r.getMessage() + repr(r.args) for r in caplog.records]
    assert too_long.value.status == 414
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret[:12]}... shown in {text[:80]!r}"


# ----------------------------------------------------------------------------- the cut by size


@hypothesis.settings(max_examples=60)
@hypothesis.given(
    values=st.lists(st.text(min_size=1, max_size=600), max_size=120),
    budget=st.integers(min_value=1_500, max_value=12_288),
)
def test_cut_statements_look_up_every_value_once_within_the_budget(
    values: list[str], budget: int
) -> None:
    """Whatever the values (quotes, backslashes, non-ASCII), the statements hold each
    distinct value exactly once, in order, and each request line fits the budget."""
    path = "/services/data/v59.0/query/"
    template = "SELECT Id FROM Contact WHERE Email IN {values} AND Name != {name}"

    statements = list(
        soql_statements(
            template,
            values,
            format_soql=simple_salesforce.format_soql,
            path=path,
            field="test",
            budget=budget,
            name="x",
        )
    )

    assert all(request_line_bytes(path, text) <= budget for text in statements)
    assert all(len(text) <= 100_000 for text in statements)
    found = [
        item
        for text in statements
        for item in FakeSalesforce.in_values(text.split(" IN ", 1)[1].split(" AND ")[0])
    ]
    assert found == list(dict.fromkeys(values))


def test_a_watermark_cleared_over_a_stored_one_is_refused() -> None:
    """A watermark never goes away either: saving none over a stored one is refused, as
    in the embedded stores, and the stored one stays."""
    crm = _crm()
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    crm.save_checkpoints([Checkpoint("client-1", at)])

    with pytest.raises(InvalidValueError, match="watermark"):
        crm.save_checkpoints([Checkpoint("client-1", None)])
    assert crm.checkpoint("client-1").watermark == at
