"""Campaign-member external ids in Salesforce stay within a text field's 255 characters for
emails of any length (up to the 254 an address may have), and stores written with the old
JSON ids are still found (``legacy_keys``) and re-keyed (``migrate_legacy_keys``)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from salesforce_fake import (
    ANN_ID,
    INSTANCE,
    MEMBER,
    OWN_MEMBER,
    SESSION_ID,
    STATUSES,
    T0,
    FakeSalesforce,
    Sleeps,
    long_email,
)

from cmsf_core import Settings
from cmsf_core.adapters.memory import InMemoryPlatform
from cmsf_core.adapters.salesforce import DEFAULT_FIELD_MAP, SalesforceCrm
from cmsf_core.adapters.salesforce.codec import MAX_EXTERNAL_ID, _member_key, _ref_text
from cmsf_core.domain.activity import Activity, ActivityType
from cmsf_core.domain.connection import Secret
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records import (
    CampaignLink,
    CrmCampaign,
    MemberRecord,
    MemberRef,
    PersonKind,
)
from cmsf_core.shell.sync import run_sync

TRACKING = DEFAULT_FIELD_MAP.tracking_record
#: An address of the longest length allowed (254 characters).
LONGEST = long_email(1, 254)
OTHER = long_email(2, 254)


def crm_with_campaign(fake: FakeSalesforce, **kw: Any) -> SalesforceCrm:
    """A Salesforce CRM on the fake org, with campaign 701-spring linked to cmp-1."""
    crm = SalesforceCrm.connect(
        INSTANCE, Secret(SESSION_ID), session=fake, bulk_wait=0, sleep=Sleeps(), **kw
    )
    link = CampaignLink("client-1", "cmp-1", "701-spring")
    assert crm.create_campaigns([CrmCampaign("701-spring", "Spring", STATUSES)], [link]).ok
    return crm


def member(email: str, person_id: str | None = None) -> MemberRecord:
    """A member of cmp-1 with Status Sent, matched to ``person_id`` when given."""
    return MemberRecord(
        "701-spring", CampaignMember("cmp-1", email, status="Sent"), email, person_id
    )


def test_a_254_character_email_makes_a_member_ref_longer_than_a_text_field() -> None:
    """The reason for the digest: the ref's JSON passes 255 characters, its digest is 64."""
    ref = MemberRef("cmp-1", LONGEST)

    assert len(LONGEST) == 254
    assert len(_ref_text(ref)) > MAX_EXTERNAL_ID
    assert len(_member_key(ref)) == 64


def test_members_with_254_character_emails_are_saved_and_read_back() -> None:
    """A matched member (CampaignMember) and a waiting one (own object) with the longest
    emails are written without STRING_TOO_LONG and read back whole."""
    fake = FakeSalesforce()
    crm = crm_with_campaign(fake)
    fake.add_person(PersonKind.CONTACT, ANN_ID, LONGEST, T0)
    matched, waiting = member(LONGEST, ANN_ID), member(OTHER)

    result = crm.save_members([matched, waiting])

    assert (result.written, result.failures) == (2, ())
    assert dict(crm.members([matched.ref, waiting.ref])) == {
        matched.ref: matched,
        waiting.ref: waiting,
    }
    assert crm.unmatched_members() == (waiting,)
    assert fake.max_external_id <= 64
    [row] = fake.table(MEMBER.name)
    assert json.loads(row[MEMBER.full_key]) == ["cmp-1", LONGEST]


def test_a_sync_of_a_254_character_email_stores_its_member_and_records() -> None:
    """A whole sync of a recipient with the longest email: member, records and rollups."""
    fake = FakeSalesforce()
    crm = crm_with_campaign(fake)
    platform = InMemoryPlatform()
    platform.add_client("client-1", "Northwind", time_zone="UTC")
    platform.add_campaign("client-1", "cmp-1", "Spring", sent_at=T0)
    platform.add_event("cmp-1", ActivityType.SENT, LONGEST, T0)
    platform.add_event("cmp-1", ActivityType.OPENED, LONGEST, T0 + timedelta(minutes=5))

    report = run_sync(crm, platform, Settings(), as_of=T0 + timedelta(hours=1))

    assert report.ok, report.summary()
    ref = MemberRef("cmp-1", LONGEST)
    assert crm.members([ref])[ref].member.engagement.opens == 1
    assert len(crm.records_for([ref])[ref]) == 2
    assert fake.max_external_id <= 64


def old_store() -> tuple[FakeSalesforce, MemberRecord, MemberRecord, Activity]:
    """A store written by an earlier version: members and the tracking record's member
    ref under the JSON of the member ref, no full key."""
    fake = FakeSalesforce()
    crm = crm_with_campaign(fake)
    fake.add_person(PersonKind.CONTACT, ANN_ID, "ann@example.com", T0)
    matched, waiting = member("ann@example.com", ANN_ID), member("bob@example.com")
    opened = Activity("cmp-1", "ann@example.com", ActivityType.OPENED, T0, client_id="client-1")
    assert crm.save_members([matched, waiting]).ok
    assert crm.insert_records([opened]).ok
    for row in fake.table(MEMBER.name):
        row[MEMBER.key] = row.pop(MEMBER.full_key)
    for row in fake.table(OWN_MEMBER.name):
        row[OWN_MEMBER.key] = _ref_text(waiting.ref)
    for row in fake.table(TRACKING.name):
        row[TRACKING.field("member_ref")] = _ref_text(matched.ref)
    return fake, matched, waiting, opened


def test_old_member_keys_are_found_with_legacy_keys() -> None:
    """With legacy_keys, members and a member's records stored under the old ids are found;
    without it they are not (the store must be migrated first)."""
    fake, matched, waiting, opened = old_store()
    refs = [matched.ref, waiting.ref]

    plain = crm_with_campaign(fake)
    legacy = crm_with_campaign(fake, legacy_keys=True)

    assert plain.members(refs) == {}
    assert dict(legacy.members(refs)) == {matched.ref: matched, waiting.ref: waiting}
    assert legacy.records_for([matched.ref]) == {matched.ref: (opened,)}


def test_migrating_legacy_keys_re_keys_old_members_and_member_refs() -> None:
    """migrate_legacy_keys gives old members and the records' member refs the digest; then
    everything is found without legacy_keys, and a second run changes nothing."""
    fake, matched, waiting, opened = old_store()
    crm = crm_with_campaign(fake)

    first = crm.migrate_legacy_keys(["client-1"])

    assert (first.written, first.failures) == (3, ())  # one record, two members
    assert dict(crm.members([matched.ref, waiting.ref])) == {
        matched.ref: matched,
        waiting.ref: waiting,
    }
    assert crm.records_for([matched.ref]) == {matched.ref: (opened,)}
    assert crm.save_members([matched]).ok
    assert len(fake.table(MEMBER.name)) == 1
    assert crm.migrate_legacy_keys(["client-1"]).written == 0


def test_saving_an_old_waiting_member_with_legacy_keys_leaves_one_row() -> None:
    """A waiting member saved with legacy_keys moves to its digest key: its old row goes,
    and it reads back as saved."""
    fake, _matched, waiting, _opened = old_store()
    crm = crm_with_campaign(fake, legacy_keys=True)
    changed = MemberRecord(
        "701-spring", CampaignMember("cmp-1", "bob@example.com", status="Opened"), "bob@example.com"
    )

    assert crm.save_members([changed]).ok

    [row] = fake.table(OWN_MEMBER.name)
    assert row[OWN_MEMBER.key] == _member_key(waiting.ref)
    assert crm.members([waiting.ref]) == {waiting.ref: changed}
