"""Contract tests for the ports: any implementation of :class:`~cmsf_core.ports.crm.CrmStore`
or :class:`~cmsf_core.ports.platform.EmailPlatform` runs the same checks.

The contracts are plain pytest test classes.  Subclass one in a ``test_*.py`` module, under a
name pytest collects (``Test...``), and give it the one hook it needs::

    from cmsf_core.testing import CrmStoreContract, EmailPlatformContract, PlatformSeed

    class TestMyCrm(CrmStoreContract):
        def make_crm(self) -> CrmStore:
            return MyCrm(connection_for_tests())

    class TestMyPlatform(EmailPlatformContract):
        def make_platform(self, seed: PlatformSeed) -> EmailPlatform:
            write_fixture_files(tmp_dir(), seed)
            return MyFilePlatform(tmp_dir())

Every test asks its hook for a fresh, empty store (or a platform serving exactly the seed):
the contracts seed the CRM through the port's own write methods, since the port has no
seeding methods.  Contacts and leads are the exception: the CRM side only reads them, so
:meth:`CrmStoreContract.add_person` calls the store's ``add_person`` when it has one (as
:class:`~cmsf_core.adapters.memory.InMemoryCrm` does) and the tests that need people are
skipped otherwise; override it to add them your own way.

The property tests use Hypothesis (the ``[hypothesis]`` extra).  This module imports pytest
and Hypothesis only inside the tests, so importing it costs nothing; the properties are
skipped when Hypothesis is not installed.  ``property_examples`` caps their example count
for a slow adapter (``None``: the active Hypothesis profile decides).

For pytest's detailed assertion messages inside the contracts, register the module for
assertion rewriting before importing it (in ``conftest.py``, or at the top of the test
module): ``pytest.register_assert_rewrite("cmsf_core.testing")``.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

import attrs

from cmsf_core.domain.activity import Activity, ActivityKey, ActivityType
from cmsf_core.domain.engagement import Engagement
from cmsf_core.domain.errors import CmsfError, InvalidValueError
from cmsf_core.domain.field_mappings import (
    CreatePerson,
    CrmValue,
    FieldUpdate,
    PlatformField,
    same_crm_value,
)
from cmsf_core.domain.maintenance import MaintenanceMessage
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.records import (
    CampaignLink,
    CampaignSummary,
    Checkpoint,
    CrmCampaign,
    MemberRecord,
    MemberRef,
    MemberStatus,
    Person,
    PersonKind,
    PlatformCampaign,
    PlatformClient,
    TrackingEvent,
    TrackingPage,
    WriteResult,
    normalise_email,
)
from cmsf_core.domain.status import RefreshCause
from cmsf_core.domain.subscribers import (
    CreateSuppressionRecord,
    ImportSubscribers,
    MarkDeleted,
    OptOutChange,
    PlatformCommand,
    RecordKind,
    RemoveSuppressionRecord,
    SubscriberImport,
    SubscriberState,
    SuppressedEmail,
    Unsubscribe,
    UpdateSuppressionRecord,
    email_key,
)

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn, SearchStrategy

    from cmsf_core.ports.crm import CrmStore
    from cmsf_core.ports.platform import EmailPlatform

__all__ = [
    "CrmStoreContract",
    "EmailPlatformContract",
    "PlatformSeed",
    "SeedMembership",
    "read_whole_stream",
    "standard_seed",
]

F = TypeVar("F", bound=Callable[..., None])

# ----------------------------------------------------------------------------- shared data

#: The instant most contract data is built around (a Monday morning, UTC).
T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)

CLIENT = "client-contract-1"
OTHER_CLIENT = "client-contract-2"
CAMPAIGN = "cmp-contract-1"
OTHER_CAMPAIGN = "cmp-contract-2"
CRM_CAMPAIGN = "701-contract-1"
OTHER_CRM_CAMPAIGN = "701-contract-2"

ANN = "ann@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"

#: The status set of the contract's CRM campaigns: Sent (default), Opened, Clicked.
STATUSES = (
    MemberStatus("Sent", is_default=True, sort_order=1),
    MemberStatus("Opened", has_responded=True, sort_order=2),
    MemberStatus("Clicked", has_responded=True, sort_order=3),
)

_MAX_PAGES = 10_000  # a guard: a platform that never reports its last page fails, not hangs


def _skip(reason: str) -> NoReturn:
    import pytest  # noqa: PLC0415 - pytest is imported only when a contract test runs

    pytest.skip(reason)


def _hypothesis_or_skip() -> None:
    import pytest  # noqa: PLC0415 - see _skip

    pytest.importorskip("hypothesis", reason="the property contracts need Hypothesis")


def _limited(examples: int | None, test: F) -> F:
    """``test`` with at most ``examples`` Hypothesis examples (``None``: the profile's)."""
    if examples is None:
        return test
    from hypothesis import settings  # noqa: PLC0415 - see the module docstring

    return settings(max_examples=examples)(test)


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
    """A tracking record as the sync builds it: member id and email normalised."""
    subject = normalise_email(email)
    return Activity(
        campaign_id,
        subject,
        activity_type,
        at,
        client_id=client_id,
        email=subject,
        detail=detail,
        list_id=list_id,
        occurrence=occurrence,
    )


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


class _LockProbeError(Exception):
    """Raised inside a sync lock by the contract, to see the lock released after it."""


class CrmStoreContract:
    """The documented behaviour of every :class:`~cmsf_core.ports.crm.CrmStore` method.

    Subclass it (as ``Test...``) and implement :meth:`make_crm`.
    """

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

    # -- the writer lock -----------------------------------------------------------------

    def test_the_sync_lock_is_released_when_the_sync_ends(self) -> None:
        """sync_lock (when the store has one) can be taken again once released, also after
        an error inside it, and writes made under it are kept."""
        crm = self.make_crm()
        lock = getattr(crm, "sync_lock", None)
        if lock is None:
            _skip(f"{type(crm).__name__} has no sync_lock(): run_sync takes no lock for it")
        at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        message = MaintenanceMessage("SYNC-INSERT-RECORD", "Error", "record 1", "refused", at)
        with lock(wait=1.0):
            _check(crm.add_messages([message]))
        try:
            with lock(wait=1.0):
                raise _LockProbeError
        except _LockProbeError:
            pass
        with lock(wait=1.0, dry_run=True):
            assert tuple(crm.messages()) == (message,)

    # -- checkpoints ---------------------------------------------------------------------

    def test_maintenance_messages_are_kept_in_order(self) -> None:
        """add_messages appends to the log; messages() returns it oldest first."""
        crm = self.make_crm()
        at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        first = MaintenanceMessage("SYNC-INSERT-RECORD", "Error", "record 1", "refused", at)
        second = MaintenanceMessage("SYNC-SAVE-MEMBER", "Warning", None, "", at)
        result = crm.add_messages([first, second])
        assert result.written == 2
        assert result.ok
        assert tuple(crm.messages()) == (first, second)

    def test_checkpoint_of_an_unknown_client_is_empty(self) -> None:
        """A client never synced has a checkpoint with no watermark and nothing pending."""
        crm = self.make_crm()

        assert crm.checkpoint(CLIENT) == Checkpoint(CLIENT)

    def test_checkpoints_round_trip(self) -> None:
        """A saved checkpoint (watermark and pending refreshes) is read back as saved."""
        crm = self.make_crm()
        pending = {
            (MemberRef(CAMPAIGN, ANN), RefreshCause.IMPORT),
            (MemberRef(CAMPAIGN, BOB), RefreshCause.DELETION),
        }
        journal = Checkpoint(CLIENT, T0, pending)

        _check(crm.save_checkpoints([journal]))

        assert crm.checkpoint(CLIENT) == journal

    def test_a_journal_then_the_advanced_checkpoint_replaces_the_pending_refreshes(self) -> None:
        """The journal (same watermark, pending) then the advanced checkpoint (nothing
        pending): the later save wins, pending refreshes included."""
        crm = self.make_crm()
        _check(crm.save_checkpoints([Checkpoint(CLIENT, T0)]))
        journal = Checkpoint(CLIENT, T0, {(MemberRef(CAMPAIGN, ANN), RefreshCause.IMPORT)})
        advanced = Checkpoint(CLIENT, T0 + timedelta(hours=1))

        _check(crm.save_checkpoints([journal]))
        assert crm.checkpoint(CLIENT) == journal
        _check(crm.save_checkpoints([advanced]))

        assert crm.checkpoint(CLIENT) == advanced

    def test_checkpoints_are_kept_per_client(self) -> None:
        """Each client (an agency has several) has its own watermark."""
        crm = self.make_crm()
        first = Checkpoint(CLIENT, T0)
        second = Checkpoint(OTHER_CLIENT, T0 - timedelta(days=3))

        _check(crm.save_checkpoints([first, second]), written=2)

        assert crm.checkpoint(CLIENT) == first
        assert crm.checkpoint(OTHER_CLIENT) == second

    def test_a_watermark_never_goes_back(self) -> None:
        """Saving an earlier watermark is refused (an error or a reported failure) and the
        stored watermark stays where it was."""
        crm = self.make_crm()
        _check(crm.save_checkpoints([Checkpoint(CLIENT, T0)]))

        refused = _refused(
            lambda: crm.save_checkpoints([Checkpoint(CLIENT, T0 - timedelta(minutes=1))])
        )

        assert refused, "an earlier watermark was accepted without a failure"
        assert crm.checkpoint(CLIENT).watermark == T0

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

    # -- tracking records ------------------------------------------------------------------

    def test_inserted_records_are_read_back_by_member_key_and_client(self) -> None:
        """Inserted records are in records_for, existing_keys and records_of_clients."""
        crm = self.make_crm()
        opened = _record(ActivityType.OPENED, ANN, T0)
        clicked = _record(ActivityType.CLICKED, ANN, T0 + timedelta(minutes=1), detail="u")
        bob = _record(ActivityType.SENT, BOB, T0, list_id="list-1")
        other = _record(ActivityType.BOUNCED, ANN, T0, client_id=OTHER_CLIENT, detail="Hard")
        other = attrs.evolve(other, campaign_id=OTHER_CAMPAIGN)
        missing = _record(ActivityType.OPENED, CAROL, T0)

        _check(crm.insert_records([opened, clicked, bob, other]), written=4)

        assert _stored(crm, [_ref(opened), _ref(bob), _ref(other), _ref(missing)]) == {
            _ref(opened): Counter([opened, clicked]),
            _ref(bob): Counter([bob]),
            _ref(other): Counter([other]),
        }
        keys = [opened.key, clicked.key, bob.key, other.key, missing.key]
        assert set(crm.existing_keys(keys)) == set(keys[:4])
        assert Counter(crm.records_of_clients([CLIENT])) == Counter([opened, clicked, bob])
        assert Counter(crm.records_of_clients([CLIENT, OTHER_CLIENT])) == Counter(
            [opened, clicked, bob, other]
        )

    def test_inserting_an_existing_key_leaves_the_stored_record_as_it_is(self) -> None:
        """Idempotent import: a record whose key is stored is not changed, nor duplicated."""
        crm = self.make_crm()
        first = _record(ActivityType.OPENED, ANN, T0 + timedelta(seconds=10))
        same_key = attrs.evolve(first, occurred_at=T0 + timedelta(seconds=50))
        assert same_key.key == first.key
        _check(crm.insert_records([first]), written=1)

        _check(crm.insert_records([first]))
        _check(crm.insert_records([same_key]))

        assert _stored(crm, [_ref(first)]) == {_ref(first): Counter([first])}
        assert list(crm.records_of_clients([CLIENT])) == [first]

    def test_identical_events_numbered_apart_are_two_records(self) -> None:
        """Two identical clicks in one minute (occurrences 0 and 1) are both stored."""
        crm = self.make_crm()
        first = _record(ActivityType.CLICKED, ANN, T0, detail="https://example.com/a")
        second = attrs.evolve(first, occurrence=1)

        _check(crm.insert_records([first, second]), written=2)

        assert _stored(crm, [_ref(first)]) == {_ref(first): Counter([first, second])}

    def test_deleting_a_missing_key_is_not_an_error(self) -> None:
        """Deleting records that are not stored reports no failure and changes nothing."""
        crm = self.make_crm()
        kept = _record(ActivityType.OPENED, ANN, T0)
        _check(crm.insert_records([kept]))

        result = crm.delete_records([_record(ActivityType.CLICKED, BOB, T0, detail="u").key])

        assert result.ok
        assert set(crm.existing_keys([kept.key])) == {kept.key}

    def test_deleted_records_are_gone_from_every_read(self) -> None:
        """A deleted record is in none of records_for, existing_keys, records_of_clients and
        expired_records."""
        crm = self.make_crm()
        gone = _record(ActivityType.OPENED, ANN, T0)
        kept = _record(ActivityType.SENT, ANN, T0)
        _check(crm.insert_records([gone, kept]))

        _check(crm.delete_records([gone.key]), written=1)
        _check(crm.delete_records([gone.key]))  # a second delete: the key is missing now

        assert _stored(crm, [_ref(gone)]) == {_ref(gone): Counter([kept])}
        assert set(crm.existing_keys([gone.key, kept.key])) == {kept.key}
        assert list(crm.records_of_clients([CLIENT])) == [kept]
        cutoffs = dict.fromkeys(ActivityType, T0 + timedelta(days=1))
        assert list(crm.expired_records(cutoffs)) == [kept]

    def test_a_record_deleted_then_inserted_again_is_stored_once(self) -> None:
        """Delete and re-insert of one key (a full sync re-imports) leaves one record."""
        crm = self.make_crm()
        record = _record(ActivityType.OPENED, ANN, T0)
        _check(crm.insert_records([record]))
        _check(crm.delete_records([record.key]))

        _check(crm.insert_records([record]), written=1)

        assert _stored(crm, [_ref(record)]) == {_ref(record): Counter([record])}
        cutoffs = {ActivityType.OPENED: T0 + timedelta(days=1)}
        assert list(crm.expired_records(cutoffs)) == [record]

    def test_expired_records_are_strictly_before_the_cutoff(self) -> None:
        """A record before its type's cutoff is expired; one at or after it never is."""
        crm = self.make_crm()
        cutoff = T0
        before = _record(ActivityType.OPENED, ANN, cutoff - timedelta(minutes=1))
        at = _record(ActivityType.OPENED, BOB, cutoff)
        after = _record(ActivityType.OPENED, CAROL, cutoff + timedelta(minutes=1))
        just_before = _record(ActivityType.OPENED, CAROL, cutoff - timedelta(seconds=1))
        _check(crm.insert_records([before, at, after, just_before]))

        expired = crm.expired_records({ActivityType.OPENED: cutoff})

        assert Counter(expired) == Counter([before, just_before])

    def test_expired_records_follow_each_types_own_cutoff(self) -> None:
        """Each type has its cutoff; a type without one in the mapping never expires."""
        crm = self.make_crm()
        sent = _record(ActivityType.SENT, ANN, T0)
        opened = _record(ActivityType.OPENED, ANN, T0)
        clicked = _record(ActivityType.CLICKED, ANN, T0, detail="u")
        _check(crm.insert_records([sent, opened, clicked]))

        expired = crm.expired_records(
            {
                ActivityType.SENT: T0 + timedelta(days=1),
                ActivityType.OPENED: T0 - timedelta(days=1),
            }
        )

        assert list(expired) == [sent]

    def test_expired_records_stay_stored_until_deleted(self) -> None:
        """Listing expired records deletes nothing: they are listed again until deleted."""
        crm = self.make_crm()
        old = _record(ActivityType.OPENED, ANN, T0)
        _check(crm.insert_records([old]))
        cutoffs = {ActivityType.OPENED: T0 + timedelta(days=1)}

        assert list(crm.expired_records(cutoffs)) == [old]
        assert list(crm.expired_records(cutoffs)) == [old]
        assert set(crm.existing_keys([old.key])) == {old.key}
        _check(crm.delete_records([old.key]))

        assert list(crm.expired_records(cutoffs)) == []

    def test_record_reads_match_a_model_for_any_sequence_of_writes(self) -> None:
        """For any inserts and deletes, every read returns what was inserted (first write
        of a key wins) minus what was deleted, each record once."""
        _hypothesis_or_skip()
        from hypothesis import given  # noqa: PLC0415 - see the module docstring

        @self._settings
        @given(_record_operations())
        def check(operations: list[tuple[str, list[Activity]]]) -> None:
            crm = self.make_crm()
            model: dict[ActivityKey, Activity] = {}
            seen: dict[ActivityKey, Activity] = {}
            for verb, batch in operations:
                for record in batch:
                    seen.setdefault(record.key, record)
                if verb == "insert":
                    result = crm.insert_records(batch)
                    for record in batch:
                        model.setdefault(record.key, record)
                else:
                    result = crm.delete_records([r.key for r in batch])
                    for record in batch:
                        model.pop(record.key, None)
                assert result.ok
                assert 0 <= result.written <= len(batch)
            refs = {_ref(r) for r in seen.values()}
            by_member: defaultdict[MemberRef, Counter[Activity]] = defaultdict(Counter)
            for record in model.values():
                by_member[_ref(record)][record] += 1
            assert _stored(crm, refs) == dict(by_member)
            assert set(crm.existing_keys(list(seen))) == set(model)
            clients = {r.client_id for r in seen.values()} | {CLIENT}
            assert Counter(crm.records_of_clients(clients)) == Counter(model.values())
            for cutoff in _POOL_INSTANTS:
                expected = Counter(r for r in model.values() if r.occurred_at < cutoff)
                assert Counter(crm.expired_records(dict.fromkeys(ActivityType, cutoff))) == (
                    expected
                )

        check()

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
        from hypothesis import given  # noqa: PLC0415 - see the module docstring

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

    # -- contacts and leads --------------------------------------------------------------

    def test_people_are_found_by_normalised_email(self) -> None:
        """find_people matches emails case-insensitively, keyed by the normalised email."""
        crm = self.make_crm()
        ann = self.add_person(crm, "Ann@Example.com", person_id="003000000000001")

        found = crm.find_people(["ANN@example.COM", BOB])

        assert tuple(found.get(ANN, ())) == (ann,)
        assert not found.get(BOB)

    def test_every_contact_and_lead_sharing_an_email_is_found_with_last_modified(self) -> None:
        """Several people with one email are all returned, with what matching needs."""
        crm = self.make_crm()
        contact = self.add_person(
            crm, ANN, person_id="003000000000001", last_modified=T0 - timedelta(days=3)
        )
        lead = self.add_person(
            crm,
            "ANN@example.com",
            person_id="00Q000000000001",
            kind=PersonKind.LEAD,
            last_modified=T0,
        )
        self.add_person(crm, BOB, person_id="003000000000002")

        found = crm.find_people([ANN])

        assert Counter(found[ANN]) == Counter([contact, lead])
        latest = max(found[ANN], key=lambda p: p.last_modified)
        assert (latest.person_id, latest.kind, latest.last_modified) == (
            "00Q000000000001",
            PersonKind.LEAD,
            T0,
        )

    def test_set_opt_out_is_read_back_on_every_person_it_names(self) -> None:
        """set_opt_out sets Email Opt Out per record id; the others keep theirs."""
        crm = self.make_crm()
        self.add_person(crm, ANN, person_id="003000000000001")
        self.add_person(crm, ANN, person_id="00Q000000000001", kind=PersonKind.LEAD)
        self.add_person(crm, BOB, person_id="003000000000002")

        result = crm.set_opt_out(
            [
                OptOutChange("003000000000001", ANN, True),
                OptOutChange("00Q000000000001", ANN, True),
            ]
        )

        _check(result, 2)
        found = crm.find_people([ANN, BOB])
        assert {p.person_id: p.email_opt_out for p in found[ANN]} == {
            "003000000000001": True,
            "00Q000000000001": True,
        }
        assert [p.email_opt_out for p in found[BOB]] == [False]
        _check(crm.set_opt_out([OptOutChange("003000000000001", ANN, False)]), 1)
        assert {p.person_id: p.email_opt_out for p in crm.find_people([ANN])[ANN]} == {
            "003000000000001": False,
            "00Q000000000001": True,
        }

    def test_set_opt_out_for_a_missing_record_is_refused_per_item(self) -> None:
        """A record that does not exist is a failure keyed by its id; the rest is written."""
        crm = self.make_crm()
        self.add_person(crm, ANN, person_id="003000000000001")

        result = crm.set_opt_out(
            [
                OptOutChange("003000000000009", BOB, True),
                OptOutChange("003000000000001", ANN, True),
            ]
        )

        assert result.written == 1
        assert [item for item, _reason in result.failures] == ["003000000000009"]
        assert [p.email_opt_out for p in crm.find_people([ANN])[ANN]] == [True]

    def test_contacts_are_found_by_account_sorted_by_person_id(self) -> None:
        """contacts_of_accounts gives each account's contacts, sorted by person id; an
        account without contacts (or unknown), a contact of no account and a lead are not
        in it."""
        crm = self.make_crm()
        second = self.add_person(crm, BOB, person_id="003000000000002", account_id="001A")
        first = self.add_person(crm, ANN, person_id="003000000000001", account_id="001A")
        other = self.add_person(crm, CAROL, person_id="003000000000003", account_id="001B")
        self.add_person(crm, "dan@example.com", person_id="003000000000004")
        self.add_person(crm, "eve@example.com", person_id="00Q000000000001", kind=PersonKind.LEAD)

        found = crm.contacts_of_accounts(["001A", "001B", "001Z"])

        assert dict(found) == {"001A": (first, second), "001B": (other,)}
        assert [p.account_id for p in found["001A"]] == ["001A", "001A"]
        assert dict(crm.contacts_of_accounts(["001B"])) == {"001B": (other,)}
        assert not crm.contacts_of_accounts([])

    def test_a_contacts_opt_out_is_read_back_through_its_account(self) -> None:
        """contacts_of_accounts returns the contact as it is now (its Email Opt Out set)."""
        crm = self.make_crm()
        self.add_person(crm, ANN, person_id="003000000000001", account_id="001A")

        _check(crm.set_opt_out([OptOutChange("003000000000001", ANN, True)]), 1)

        (contact,) = crm.contacts_of_accounts(["001A"])["001A"]
        assert (contact.person_id, contact.email_opt_out) == ("003000000000001", True)

    # -- suppression records -------------------------------------------------------------

    def test_suppression_records_are_created_updated_and_removed(self) -> None:
        """apply_suppression keeps one record per change; suppression_records reads them."""
        crm = self.make_crm()
        assert tuple(crm.suppression_records()) == ()

        _check(
            crm.apply_suppression(
                [
                    CreateSuppressionRecord(ANN, "Unsubscribed", T0),
                    CreateSuppressionRecord(BOB, "Bounced", T0),
                ]
            ),
            2,
        )
        records = {r.email: r for r in crm.suppression_records()}
        assert {(e, r.reason, r.suppressed_at) for e, r in records.items()} == {
            (ANN, "Unsubscribed", T0),
            (BOB, "Bounced", T0),
        }
        ann, bob = records[ANN], records[BOB]
        later = T0 + timedelta(days=1)

        _check(
            crm.apply_suppression(
                [
                    UpdateSuppressionRecord(ann.record_id, ANN, "Spam complaint", later),
                    RemoveSuppressionRecord(bob.record_id, BOB),
                ]
            )
        )

        assert [
            (r.record_id, r.email, r.reason, r.suppressed_at) for r in crm.suppression_records()
        ] == [(ann.record_id, ANN, "Spam complaint", later)]

    def test_removing_a_missing_suppression_record_is_not_an_error(self) -> None:
        """A removal of a record already gone writes nothing and fails nothing."""
        crm = self.make_crm()

        result = crm.apply_suppression([RemoveSuppressionRecord("a0S000000000009", ANN)])

        assert result.ok
        assert result.written == 0

    def test_updating_a_missing_suppression_record_is_refused_per_item(self) -> None:
        """An update of a record that does not exist is a failure keyed by its id."""
        crm = self.make_crm()

        result = crm.apply_suppression(
            [
                UpdateSuppressionRecord("a0S000000000009", ANN, "Bounced", T0),
                CreateSuppressionRecord(BOB, "Bounced", T0),
            ]
        )

        assert [item for item, _reason in result.failures] == ["a0S000000000009"]
        assert [r.email for r in crm.suppression_records()] == [BOB]

    # -- contact and lead fields (field mappings) ------------------------------------------

    def test_updated_fields_are_read_back_with_their_types(self) -> None:
        """update_fields then field_values: every value type comes back as written, and
        field names ignore case (as Salesforce's API names do)."""
        crm = self.make_crm()
        ann = self.add_person(crm, ANN, person_id="003000000000001")
        values: dict[str, CrmValue] = {
            "Industry": "Banking",
            "Score__c": 12,
            "Rate__c": 2.5,
            "Active__c": True,
            "Renewal__c": date(2026, 4, 1),
            "Seen__c": T0,
            "Tags__c": "VIP;Gold",
        }
        update = FieldUpdate(ann.person_id, RecordKind.CONTACT, values)

        result = crm.update_fields([update])

        assert result.ok
        assert result.written == 1
        read = crm.field_values(RecordKind.CONTACT, [ann.person_id], [*values, "industry", "X"])
        got = dict(read[ann.person_id])
        assert set(got) == {*values, "industry", "X"}
        assert (got["industry"], got["X"]) == ("Banking", None)
        for name, value in values.items():  # a date may come back as its ISO text
            assert same_crm_value(got[name], value), (name, got[name], value)

    def test_field_values_skip_missing_records_and_the_other_kind(self) -> None:
        """A record that does not exist, or is a lead when contacts are asked, is absent."""
        crm = self.make_crm()
        lead = self.add_person(crm, BOB, person_id="00Q000000000001", kind=PersonKind.LEAD)

        read = crm.field_values(RecordKind.CONTACT, [lead.person_id, "003000000000009"], ["X"])

        assert dict(read) == {}
        assert crm.field_values(RecordKind.LEAD, [lead.person_id], ["Email"]) == {
            lead.person_id: {"Email": BOB}
        }

    def test_a_refused_field_update_fails_per_record_and_changes_none_of_its_fields(
        self,
    ) -> None:
        """A missing record or a field the CRM refuses fails that record only."""
        crm = self.make_crm()
        ann = self.add_person(crm, ANN, person_id="003000000000001")
        bob = self.add_person(crm, BOB, person_id="003000000000002")

        result = crm.update_fields(
            [
                FieldUpdate("003000000000009", RecordKind.CONTACT, {"Industry": "Banking"}),
                FieldUpdate(ann.person_id, RecordKind.CONTACT, {"Industry": "A", "Bad Name": 1}),
                FieldUpdate(bob.person_id, RecordKind.CONTACT, {"Industry": "Retail"}),
            ]
        )

        assert sorted(str(item) for item, _reason in result.failures) == [
            "003000000000001",
            "003000000000009",
        ]
        read = crm.field_values(RecordKind.CONTACT, [ann.person_id, bob.person_id], ["Industry"])
        assert {pid: dict(v) for pid, v in read.items()} == {
            ann.person_id: {"Industry": None},
            bob.person_id: {"Industry": "Retail"},
        }

    def test_created_people_are_found_by_email_with_their_fields(self) -> None:
        """A created lead is found by its email afterwards, with the fields it was given."""
        crm = self.make_crm()
        lead = CreatePerson(
            RecordKind.LEAD,
            CAROL,
            "list-1",
            {"Email": CAROL, "LastName": "Carol", "Company": "Acme", "Score__c": 3},
        )

        result = crm.create_people([lead])

        assert result.ok
        assert result.written == 1
        (person,) = crm.find_people([CAROL])[normalise_email(CAROL)]
        assert person.kind is PersonKind.LEAD
        read = crm.field_values(RecordKind.LEAD, [person.person_id], ["Company", "Score__c"])
        assert read[person.person_id]["Company"] == "Acme"
        assert same_crm_value(read[person.person_id]["Score__c"], 3)

    def test_creating_a_record_without_a_required_field_is_refused_by_email(self) -> None:
        """A lead without Company (or a contact without LastName) is not created."""
        crm = self.make_crm()
        lead = CreatePerson(RecordKind.LEAD, CAROL, "list-1", {"Email": CAROL, "LastName": "C"})
        contact = CreatePerson(RecordKind.CONTACT, BOB, "list-1", {"Email": BOB, "LastName": "B"})

        result = crm.create_people([lead, contact])

        assert result.written == 1
        ((item, reason),) = result.failures
        assert item == CAROL
        assert "Company" in reason
        assert normalise_email(CAROL) not in crm.find_people([CAROL])


# ----------------------------------------------------------------------------- strategies

#: Instants of the property tests: two in one minute, the next minute, an hour, a day.
_POOL_INSTANTS = (
    T0,
    T0 + timedelta(seconds=30),
    T0 + timedelta(minutes=1),
    T0 + timedelta(hours=1),
    T0 + timedelta(days=1),
)
_POOL_EMAILS = (ANN, "Ann@Example.com", BOB)


def _record_operations() -> SearchStrategy[list[tuple[str, list[Activity]]]]:
    from hypothesis import strategies as st  # noqa: PLC0415 - see the module docstring

    @st.composite
    def records(draw: DrawFn) -> Activity:
        activity_type = draw(st.sampled_from(tuple(ActivityType)))
        detail = {
            ActivityType.CLICKED: "https://example.com/a",
            ActivityType.BOUNCED: "Soft",
        }.get(activity_type)
        return _record(
            activity_type,
            draw(st.sampled_from(_POOL_EMAILS)),
            draw(st.sampled_from(_POOL_INSTANTS)),
            campaign_id=draw(st.sampled_from((CAMPAIGN, OTHER_CAMPAIGN))),
            client_id=draw(st.sampled_from((CLIENT, OTHER_CLIENT))),
            detail=detail,
            occurrence=draw(st.integers(min_value=0, max_value=1)),
        )

    @st.composite
    def operations(draw: DrawFn) -> list[tuple[str, list[Activity]]]:
        # A small pool per example, so that keys meet again: re-inserted, deleted twice,
        # deleted then inserted again, inserted with another second of the same minute.
        pool = draw(st.lists(records(), min_size=1, max_size=5))
        batch = st.lists(st.sampled_from(pool), max_size=4)
        verb = st.sampled_from(("insert", "delete"))
        return draw(st.lists(st.tuples(verb, batch), max_size=8))

    return operations()


def _member_batches() -> SearchStrategy[list[list[MemberRecord]]]:
    from hypothesis import strategies as st  # noqa: PLC0415 - see the module docstring

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


# ----------------------------------------------------------------------------- the platform


def _whole_minute(at: datetime, field: str) -> None:
    if at.second or at.microsecond:
        raise InvalidValueError(
            field, "a whole minute (the platform reports times to the minute)", at
        )


def _instances(kind: type, field: str, value: object) -> tuple[Any, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidValueError(field, f"a collection of {kind.__name__}", value)
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise InvalidValueError(field, f"{kind.__name__} values", item)
    return items


def _seed_clients(value: object) -> tuple[PlatformClient, ...]:
    return _instances(PlatformClient, "clients", value)


def _seed_campaigns(value: object) -> tuple[PlatformCampaign, ...]:
    return _instances(PlatformCampaign, "campaigns", value)


def _pairs(kind: type, field: str, key: str, value: object) -> tuple[tuple[str, Any], ...]:
    """``(<key>, <kind>)`` pairs, as ``_instances`` checks single values."""
    expected = f"({key}, {kind.__name__}) pairs"
    if not isinstance(value, Iterable):
        raise InvalidValueError(field, expected, value)
    pairs = []
    for pair in value:
        if not (
            isinstance(pair, tuple)
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], kind)
        ):
            raise InvalidValueError(field, expected, pair)
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def _seed_events(value: object) -> tuple[tuple[str, TrackingEvent], ...]:
    if isinstance(value, Mapping):
        value = [(cid, e) for cid, events in value.items() for e in events]
    return _pairs(TrackingEvent, "events", "campaign id", value)


def _seed_summaries(value: object) -> tuple[tuple[str, CampaignSummary], ...]:
    if isinstance(value, Mapping):
        value = list(value.items())
    return _pairs(CampaignSummary, "summaries", "campaign id", value)


def _seed_state(value: object) -> SubscriberState:
    return SubscriberState.parse(value)


@attrs.frozen
class SeedMembership:
    """An email on a client's list, in ``state`` since ``changed_at`` (what
    ``subscriber_changes`` filters on)."""

    client_id: str
    list_id: str
    email: str
    state: SubscriberState = attrs.field(converter=_seed_state)
    changed_at: datetime = T0


def _seed_memberships(value: object) -> tuple[SeedMembership, ...]:
    return _instances(SeedMembership, "memberships", value)


def _seed_suppressed(value: object) -> tuple[tuple[str, SuppressedEmail], ...]:
    return _pairs(SuppressedEmail, "suppressed", "client id", value)


@attrs.frozen
class PlatformSeed:
    """What a platform under contract must serve: clients, sent campaigns, events, summaries,
    list memberships and suppressed emails.

    ``events`` are ``(campaign id, event)`` pairs in the order they arrived on the platform
    (a mapping of campaign id to events is accepted too); their times are whole minutes,
    the platform's precision.  Build your platform from it: the in-memory one with its
    ``add_*`` helpers, a file adapter by writing its files.
    """

    clients: tuple[PlatformClient, ...] = attrs.field(default=(), converter=_seed_clients)
    campaigns: tuple[PlatformCampaign, ...] = attrs.field(default=(), converter=_seed_campaigns)
    events: tuple[tuple[str, TrackingEvent], ...] = attrs.field(default=(), converter=_seed_events)
    summaries: tuple[tuple[str, CampaignSummary], ...] = attrs.field(
        default=(), converter=_seed_summaries
    )
    memberships: tuple[SeedMembership, ...] = attrs.field(default=(), converter=_seed_memberships)
    suppressed: tuple[tuple[str, SuppressedEmail], ...] = attrs.field(
        default=(), converter=_seed_suppressed
    )

    def __attrs_post_init__(self) -> None:
        clients = {c.client_id for c in self.clients}
        campaigns = {c.campaign_id for c in self.campaigns}
        for campaign in self.campaigns:
            if campaign.client_id not in clients:
                raise InvalidValueError("campaigns", "campaigns of seeded clients", campaign)
        for campaign_id, event in self.events:
            if campaign_id not in campaigns:
                raise InvalidValueError("events", "events of seeded campaigns", campaign_id)
            _whole_minute(event.occurred_at, "events")
        for campaign_id, _summary in self.summaries:
            if campaign_id not in campaigns:
                raise InvalidValueError("summaries", "summaries of seeded campaigns", campaign_id)
        for membership in self.memberships:
            if membership.client_id not in clients:
                raise InvalidValueError("memberships", "lists of seeded clients", membership)
            if membership.state is SubscriberState.SUPPRESSED:
                raise InvalidValueError("memberships", "list states (not Suppressed)", membership)
        for client_id, _entry in self.suppressed:
            if client_id not in clients:
                raise InvalidValueError("suppressed", "emails of seeded clients", client_id)

    def campaigns_of(self, client_id: str) -> tuple[PlatformCampaign, ...]:
        """The seeded campaigns of one client."""
        return tuple(c for c in self.campaigns if c.client_id == client_id)

    def stream(
        self, campaign_id: str, stream: ActivityType, *, since: datetime | None = None
    ) -> tuple[TrackingEvent, ...]:
        """The events a stream must serve (``since`` inclusive), in arrival order."""
        return tuple(
            e
            for cid, e in self.events
            if cid == campaign_id and e.type is stream and (since is None or e.occurred_at >= since)
        )

    def summary(self, campaign_id: str) -> CampaignSummary | None:
        """The seeded summary of a campaign, if any."""
        return dict(self.summaries).get(campaign_id)


def standard_seed() -> PlatformSeed:
    """The seed the platform contract runs on: an agency with two clients in different time
    zones, tagged campaigns, every stream, identical twins, URLs, bounce types and lists."""
    london = PlatformClient(CLIENT, "Acme London", "Europe/London")
    sydney = PlatformClient(OTHER_CLIENT, "Acme Sydney", "Australia/Sydney")
    spring = PlatformCampaign(CLIENT, CAMPAIGN, "Spring", T0, frozenset({"news", "spring"}))
    summer = PlatformCampaign(CLIENT, "cmp-contract-3", "Summer", T0 + timedelta(days=30))
    sydney_news = PlatformCampaign(
        OTHER_CLIENT, OTHER_CAMPAIGN, "Sydney news", T0 + timedelta(hours=2), frozenset({"au"})
    )
    url = "https://example.com/spring-sale"

    def at(minutes: int) -> datetime:
        return T0 + timedelta(minutes=minutes)

    spring_events = [
        TrackingEvent(ActivityType.SENT, ANN, at(0), list_id="list-1"),
        TrackingEvent(ActivityType.SENT, BOB, at(0), list_id="list-1"),
        TrackingEvent(ActivityType.SENT, CAROL, at(0), list_id="list-2"),
        TrackingEvent(ActivityType.OPENED, BOB, at(45)),  # arrived late, happened later
        TrackingEvent(ActivityType.OPENED, ANN, at(30)),
        TrackingEvent(ActivityType.OPENED, ANN, at(30)),  # an identical twin
        TrackingEvent(ActivityType.CLICKED, ANN, at(31), detail=url),
        TrackingEvent(ActivityType.CLICKED, ANN, at(31), detail=url),  # twin
        TrackingEvent(ActivityType.CLICKED, ANN, at(31), detail="https://example.com/other"),
        TrackingEvent(ActivityType.CLICKED, BOB, at(90), detail=url),
        TrackingEvent(ActivityType.BOUNCED, CAROL, at(2), detail="Soft"),
        TrackingEvent(ActivityType.BOUNCED, CAROL, at(62), detail="Hard"),
        TrackingEvent(ActivityType.UNSUBSCRIBED, BOB, at(120), list_id="list-1"),
        TrackingEvent(ActivityType.SPAM_COMPLAINT, ANN, at(180)),
    ]
    sydney_events = [
        TrackingEvent(ActivityType.SENT, "dan@example.com.au", at(120)),
        TrackingEvent(ActivityType.OPENED, "dan@example.com.au", at(121)),
    ]
    return PlatformSeed(
        clients=(london, sydney),
        campaigns=(spring, summer, sydney_news),
        events=[(CAMPAIGN, e) for e in spring_events]
        + [(OTHER_CAMPAIGN, e) for e in sydney_events],
        summaries={
            CAMPAIGN: CampaignSummary(
                recipients=3,
                total_opened=3,
                unique_opened=2,
                clicks=4,
                bounced=2,
                unsubscribed=1,
                spam_complaints=1,
                forwards=1,
            ),
            OTHER_CAMPAIGN: CampaignSummary(recipients=1, total_opened=1, unique_opened=1),
        },
        memberships=(
            SeedMembership(CLIENT, "list-1", ANN, SubscriberState.ACTIVE, at(0)),
            SeedMembership(CLIENT, "list-2", ANN, SubscriberState.UNSUBSCRIBED, at(120)),
            SeedMembership(CLIENT, "list-1", BOB, SubscriberState.UNSUBSCRIBED, at(120)),
            SeedMembership(CLIENT, "list-2", CAROL, SubscriberState.BOUNCED, at(62)),
            SeedMembership(OTHER_CLIENT, "list-au", ANN, SubscriberState.DELETED, at(0)),
        ),
        suppressed=(
            (CLIENT, SuppressedEmail(CAROL, "Bounced", at(62))),
            (OTHER_CLIENT, SuppressedEmail("dan@example.com.au", "Unsubscribed", at(121))),
        ),
    )


def read_whole_stream(
    platform: EmailPlatform,
    campaign_id: str,
    stream: ActivityType,
    *,
    since: datetime | None = None,
    page_size: int = 1000,
) -> tuple[tuple[TrackingEvent, ...], tuple[TrackingPage, ...]]:
    """Read every page of a stream, as the sync does: the events and the pages read."""
    pages = []
    for number in itertools.count(1):
        page = platform.tracking_page(
            campaign_id, stream, since=since, page=number, page_size=page_size
        )
        pages.append(page)
        if number >= page.number_of_pages or number >= _MAX_PAGES:
            break
    return tuple(e for p in pages for e in p.results), tuple(pages)


def _oldest_first(events: Sequence[TrackingEvent]) -> bool:
    return all(a.occurred_at <= b.occurred_at for a, b in itertools.pairwise(events))


class EmailPlatformContract:
    """The documented behaviour of every :class:`~cmsf_core.ports.platform.EmailPlatform`
    method.  Subclass it (as ``Test...``) and implement :meth:`make_platform`."""

    #: Cap on the property tests' examples (``None``: the Hypothesis profile decides).
    property_examples: ClassVar[int | None] = None
    #: Page sizes the paging tests read with (keep them within the adapter's limit).
    page_sizes: ClassVar[tuple[int, ...]] = (1, 2, 5, 1000)

    def make_platform(self, seed: PlatformSeed) -> EmailPlatform:
        """A platform serving exactly ``seed``; called once per test (and per example)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement make_platform(seed) returning an "
            "EmailPlatform that serves the seed"
        )

    def _standard(self) -> tuple[EmailPlatform, PlatformSeed]:
        seed = standard_seed()
        return self.make_platform(seed), seed

    def _settings(self, test: F) -> F:
        return _limited(self.property_examples, test)

    # -- clients and campaigns -------------------------------------------------------------

    def test_clients_are_served_with_their_time_zones(self) -> None:
        """Every connected client (an agency has several) with its IANA time zone."""
        platform, seed = self._standard()

        assert Counter(platform.clients()) == Counter(seed.clients)

    def test_sent_campaigns_are_the_clients_own_with_sent_date_and_tags(self) -> None:
        """A client's sent campaigns, each with SentDate and tags; no other client's."""
        platform, seed = self._standard()

        for client in seed.clients:
            served = platform.sent_campaigns(client.client_id)
            assert Counter(served) == Counter(seed.campaigns_of(client.client_id))

    # -- tracking streams ----------------------------------------------------------------

    def test_reading_every_page_returns_the_whole_stream(self) -> None:
        """Pages 1..number_of_pages hold every event of the stream, whatever the page size."""
        platform, seed = self._standard()

        for campaign in seed.campaigns:
            for stream in ActivityType:
                expected = Counter(seed.stream(campaign.campaign_id, stream))
                for size in self.page_sizes:
                    events, _pages = read_whole_stream(
                        platform, campaign.campaign_id, stream, page_size=size
                    )
                    assert Counter(events) == expected, (campaign.campaign_id, stream, size)

    def test_pages_respect_the_page_size_and_report_the_totals(self) -> None:
        """Each page holds at most page_size events, all but the last are full, and each
        reports its number, size, the number of pages and the total."""
        platform, seed = self._standard()

        for stream in ActivityType:
            total = len(seed.stream(CAMPAIGN, stream))
            for size in self.page_sizes:
                _events, pages = read_whole_stream(platform, CAMPAIGN, stream, page_size=size)
                expected_pages = max(1, -(-total // size))
                assert len(pages) == expected_pages, (stream, size)
                for number, page in enumerate(pages, 1):
                    assert page.page_number == number
                    assert page.page_size == size
                    assert page.number_of_pages == expected_pages
                    assert page.total_number_of_records == total
                    assert len(page.results) <= size
                    if number < len(pages):
                        assert len(page.results) == size

    def test_well_formed_streams_skip_no_rows(self) -> None:
        """Every page of a well-formed stream reports no skipped rows (``skipped == ()``):
        an adapter hands back only rows it could not read, on a read's first page."""
        platform, _seed = self._standard()

        for stream in ActivityType:
            for size in self.page_sizes:
                _events, pages = read_whole_stream(platform, CAMPAIGN, stream, page_size=size)
                assert all(page.skipped == () for page in pages), (stream, size)

    def test_a_stream_is_served_oldest_first_across_pages(self) -> None:
        """Events come oldest first, also across page boundaries (late arrivals sorted)."""
        platform, _seed = self._standard()

        for stream in ActivityType:
            for size in self.page_sizes:
                events, _pages = read_whole_stream(platform, CAMPAIGN, stream, page_size=size)
                assert _oldest_first(events), (stream, size)

    def test_since_keeps_events_at_or_after_it(self) -> None:
        """``since`` is inclusive: an event exactly at it is served, an earlier one is not."""
        platform, seed = self._standard()
        since = T0 + timedelta(minutes=31)  # the minute of Ann's clicks

        events, _pages = read_whole_stream(platform, CAMPAIGN, ActivityType.CLICKED, since=since)

        assert Counter(events) == Counter(seed.stream(CAMPAIGN, ActivityType.CLICKED, since=since))
        assert len(events) == 4
        opened, _pages = read_whole_stream(platform, CAMPAIGN, ActivityType.OPENED, since=since)
        assert [e.email for e in opened] == [BOB]

    def test_since_is_an_instant_whatever_its_time_zone(self) -> None:
        """The same instant given in another zone selects the same events."""
        platform, _seed = self._standard()
        since = T0 + timedelta(minutes=31)
        sydney = since.astimezone(timezone(timedelta(hours=10)))

        in_utc, _ = read_whole_stream(platform, CAMPAIGN, ActivityType.CLICKED, since=since)
        in_sydney, _ = read_whole_stream(platform, CAMPAIGN, ActivityType.CLICKED, since=sydney)

        assert Counter(in_utc) == Counter(in_sydney)

    def test_since_after_every_event_serves_nothing(self) -> None:
        """A ``since`` later than the last event (a watermark in the future) serves nothing."""
        platform, _seed = self._standard()

        events, pages = read_whole_stream(
            platform, CAMPAIGN, ActivityType.OPENED, since=T0 + timedelta(days=365)
        )

        assert events == ()
        assert pages[0].total_number_of_records == 0

    def test_identical_events_are_all_kept(self) -> None:
        """Two identical events of one minute are two rows, on any page split."""
        platform, _seed = self._standard()
        url = "https://example.com/spring-sale"

        for size in self.page_sizes:
            clicks, _ = read_whole_stream(platform, CAMPAIGN, ActivityType.CLICKED, page_size=size)
            twins = [e for e in clicks if e.email == ANN and e.detail == url]
            assert len(twins) == 2, size

    def test_each_stream_serves_only_its_own_type(self) -> None:
        """The opens stream holds opens only, the clicks stream clicks only, and so on."""
        platform, _seed = self._standard()

        for stream in ActivityType:
            events, _ = read_whole_stream(platform, CAMPAIGN, stream)
            assert {e.type for e in events} <= {stream}

    def test_an_empty_stream_has_no_results(self) -> None:
        """A campaign without events of a type serves an empty stream in one page at most."""
        platform, _seed = self._standard()

        events, pages = read_whole_stream(platform, "cmp-contract-3", ActivityType.OPENED)

        assert events == ()
        assert len(pages) == 1
        assert pages[0].number_of_pages in {0, 1}
        assert pages[0].total_number_of_records == 0

    def test_event_details_lists_and_times_round_trip(self) -> None:
        """Clicked URLs, bounce types, list ids and instants come back as seeded, aware."""
        platform, seed = self._standard()

        bounces, _ = read_whole_stream(platform, CAMPAIGN, ActivityType.BOUNCED)
        sent, _ = read_whole_stream(platform, CAMPAIGN, ActivityType.SENT)

        assert [(e.email, e.detail) for e in bounces] == [(CAROL, "Soft"), (CAROL, "Hard")]
        assert Counter(e.list_id for e in sent) == Counter(["list-1", "list-1", "list-2"])
        for event in (*bounces, *sent):
            assert event.occurred_at.utcoffset() == timedelta(0)
        assert Counter(sent) == Counter(seed.stream(CAMPAIGN, ActivityType.SENT))

    def test_campaign_summaries_are_served_as_seeded(self) -> None:
        """The summary (Recipients, TotalOpened, UniqueOpened, Clicks, ...) of a campaign."""
        platform, seed = self._standard()

        for campaign_id, summary in seed.summaries:
            assert platform.campaign_summary(campaign_id) == summary

    def test_paging_serves_exactly_the_events_since_for_any_stream(self) -> None:
        """For any events, page size and ``since``: every page read gives exactly the
        events at or after ``since``, oldest first, twins kept."""
        _hypothesis_or_skip()
        from hypothesis import given  # noqa: PLC0415 - see the module docstring
        from hypothesis import strategies as st  # noqa: PLC0415

        minutes = st.integers(min_value=0, max_value=4)
        event = st.builds(
            lambda t, email, m, detail: TrackingEvent(
                t, email, T0 + timedelta(minutes=m), detail=detail
            ),
            st.sampled_from((ActivityType.OPENED, ActivityType.CLICKED)),
            st.sampled_from((ANN, BOB)),
            minutes,
            st.sampled_from((None, "https://example.com/a")),
        )
        since = st.none() | minutes.map(lambda m: T0 + timedelta(minutes=m))
        sizes = st.sampled_from(self.page_sizes) | st.integers(min_value=1, max_value=4)

        @self._settings
        @given(st.lists(event, max_size=12), since, sizes)
        def check(events: list[TrackingEvent], since: datetime | None, size: int) -> None:
            seed = PlatformSeed(
                clients=[PlatformClient(CLIENT, "Acme")],
                campaigns=[PlatformCampaign(CLIENT, CAMPAIGN, "Spring", T0)],
                events=[(CAMPAIGN, e) for e in events],
            )
            platform = self.make_platform(seed)
            for stream in (ActivityType.OPENED, ActivityType.CLICKED):
                served, _pages = read_whole_stream(
                    platform, CAMPAIGN, stream, since=since, page_size=size
                )
                assert Counter(served) == Counter(seed.stream(CAMPAIGN, stream, since=since))
                assert _oldest_first(served)

        check()

    # -- subscribers -----------------------------------------------------------------------

    def test_lists_for_email_are_the_clients_own_with_their_states(self) -> None:
        """Every list of the client holding the email, compared without regard to case."""
        platform, seed = self._standard()

        found = platform.lists_for_email(CLIENT, "ANN@example.com")

        expected = {
            (m.list_id, m.state)
            for m in seed.memberships
            if m.client_id == CLIENT and m.email == ANN
        }
        assert {(m.list_id, m.state) for m in found} == expected
        assert not platform.lists_for_email(CLIENT, "nobody@example.com")

    def test_subscriber_changes_are_the_emails_changed_since(self) -> None:
        """``None`` lists every email on the client's lists; ``since`` is inclusive."""
        platform, seed = self._standard()

        def emails(since: datetime | None) -> set[str]:
            return {normalise_email(e) for e in platform.subscriber_changes(CLIENT, since=since)}

        def expected(since: datetime | None) -> set[str]:
            return {
                m.email
                for m in seed.memberships
                if m.client_id == CLIENT and (since is None or m.changed_at >= since)
            }

        assert emails(None) == expected(None) == {ANN, BOB, CAROL}
        assert emails(T0 + timedelta(minutes=62)) == expected(T0 + timedelta(minutes=62))
        assert emails(T0 + timedelta(minutes=121)) == set()

    def test_list_subscribers_serve_every_state_as_the_platform_shows_the_email(self) -> None:
        """Everyone on the list in every state (Active, Unconfirmed, Unsubscribed, Bounced,
        Deleted), keyed by the email as the platform shows it; no other list's."""
        states = {
            "ann@example.com": SubscriberState.ACTIVE,
            "Bob.Unconfirmed@Example.com": SubscriberState.UNCONFIRMED,
            "carol@example.com": SubscriberState.UNSUBSCRIBED,
            "dan@example.com": SubscriberState.BOUNCED,
            "eve@example.com": SubscriberState.DELETED,
        }
        seed = PlatformSeed(
            clients=[PlatformClient(CLIENT, "Acme"), PlatformClient(OTHER_CLIENT, "Other")],
            memberships=[
                *(SeedMembership(CLIENT, "list-1", e, s) for e, s in states.items()),
                SeedMembership(CLIENT, "list-2", "frank@example.com", SubscriberState.ACTIVE),
                SeedMembership(OTHER_CLIENT, "list-au", ANN, SubscriberState.DELETED),
            ],
        )
        platform = self.make_platform(seed)

        assert dict(platform.list_subscribers(CLIENT, "list-1")) == states
        assert dict(platform.list_subscribers(CLIENT, "list-2")) == {
            "frank@example.com": SubscriberState.ACTIVE
        }
        assert dict(platform.list_subscribers(OTHER_CLIENT, "list-au")) == {
            ANN: SubscriberState.DELETED
        }

    def test_list_subscribers_of_a_list_not_the_clients_is_an_error(self) -> None:
        """Another client's list, or a list that does not exist, is refused."""
        import pytest  # noqa: PLC0415 - see _skip

        platform, _seed = self._standard()

        with pytest.raises(CmsfError):
            platform.list_subscribers(CLIENT, "list-au")
        with pytest.raises(CmsfError):
            platform.list_subscribers(CLIENT, "no-such-list")

    def test_list_subscribers_follow_executed_commands(self) -> None:
        """An unsubscribe, a delete and an import are read back by list_subscribers."""
        platform, _seed = self._standard()
        rows = (SubscriberImport("new@example.com"),)

        results = platform.execute(
            CLIENT,
            [
                Unsubscribe("list-1", ANN),
                MarkDeleted("list-2", CAROL),
                ImportSubscribers("list-1", rows, False),
            ],
        )

        assert all(r.ok for r in results)
        assert dict(platform.list_subscribers(CLIENT, "list-1")) == {
            ANN: SubscriberState.UNSUBSCRIBED,
            BOB: SubscriberState.UNSUBSCRIBED,
            "new@example.com": SubscriberState.ACTIVE,
        }
        assert dict(platform.list_subscribers(CLIENT, "list-2")) == {
            ANN: SubscriberState.UNSUBSCRIBED,
            CAROL: SubscriberState.DELETED,
        }

    def test_list_subscribers_serve_the_seeded_states_for_any_memberships(self) -> None:
        """For any memberships (one per list and email), each list serves exactly its own."""
        _hypothesis_or_skip()
        from hypothesis import given  # noqa: PLC0415 - see the module docstring
        from hypothesis import strategies as st  # noqa: PLC0415

        list_states = tuple(s for s in SubscriberState if s is not SubscriberState.SUPPRESSED)
        entry = st.tuples(
            st.sampled_from(("list-1", "list-2")),
            st.sampled_from((ANN, "Bob@Example.com", CAROL, "dan@example.com")),
            st.sampled_from(list_states),
        )

        @self._settings
        @given(st.lists(entry, max_size=8, unique_by=lambda e: (e[0], email_key(e[1]))))
        def check(entries: list[tuple[str, str, SubscriberState]]) -> None:
            seed = PlatformSeed(
                clients=[PlatformClient(CLIENT, "Acme")],
                memberships=[SeedMembership(CLIENT, lid, e, s) for lid, e, s in entries],
            )
            platform = self.make_platform(seed)
            for list_id in {lid for lid, _e, _s in entries}:
                expected = {e: s for lid, e, s in entries if lid == list_id}
                assert dict(platform.list_subscribers(CLIENT, list_id)) == expected

        check()

    def test_the_suppression_list_is_the_clients_own(self) -> None:
        """Every suppressed email of the client, with its reason and date."""
        platform, seed = self._standard()

        for client in seed.clients:
            expected = [e for c, e in seed.suppressed if c == client.client_id]
            assert Counter(platform.suppression_list(client.client_id)) == Counter(expected)

    def test_executed_commands_change_the_list_states(self) -> None:
        """Unsubscribe -> Unsubscribed, MarkDeleted -> Deleted; one result per command."""
        platform, _seed = self._standard()
        commands: list[PlatformCommand] = [
            Unsubscribe("list-1", ANN),
            MarkDeleted("list-2", CAROL),
        ]

        results = platform.execute(CLIENT, commands)

        assert [(r.command, r.ok) for r in results] == [(c, True) for c in commands]
        assert {(m.list_id, m.state) for m in platform.lists_for_email(CLIENT, ANN)} == {
            ("list-1", SubscriberState.UNSUBSCRIBED),
            ("list-2", SubscriberState.UNSUBSCRIBED),
        }
        assert [m.state for m in platform.lists_for_email(CLIENT, CAROL)] == [
            SubscriberState.DELETED
        ]

    def test_a_refused_command_does_not_stop_the_others(self) -> None:
        """A command on a list the client does not have fails with a message; the next runs."""
        platform, _seed = self._standard()
        bad = Unsubscribe("list-au", ANN)  # the other client's list
        good = Unsubscribe("list-1", ANN)

        results = platform.execute(CLIENT, [bad, good])

        assert [(r.ok, r.error is not None) for r in results] == [(False, True), (True, False)]
        assert SubscriberState.UNSUBSCRIBED in {
            m.state for m in platform.lists_for_email(CLIENT, ANN) if m.list_id == "list-1"
        }
        assert [m.state for m in platform.lists_for_email(OTHER_CLIENT, ANN)] == [
            SubscriberState.DELETED
        ]

    def test_an_import_without_resubscribe_never_reactivates_an_unsubscriber(self) -> None:
        """New emails become Active; an Unsubscribed one stays Unsubscribed."""
        platform, _seed = self._standard()
        rows = (SubscriberImport(BOB), SubscriberImport("new@example.com"))

        (result,) = platform.execute(CLIENT, [ImportSubscribers("list-1", rows, False)])

        assert result.ok
        states = {
            email: {m.state for m in platform.lists_for_email(CLIENT, email)}
            for email in (BOB, "new@example.com")
        }
        assert states == {
            BOB: {SubscriberState.UNSUBSCRIBED},
            "new@example.com": {SubscriberState.ACTIVE},
        }

    def test_a_resubscribing_import_reactivates_a_deleted_subscriber(self) -> None:
        """An import with Resubscribe brings a Deleted subscriber back to Active."""
        platform, _seed = self._standard()
        command = ImportSubscribers("list-au", (SubscriberImport(ANN),), True)

        (result,) = platform.execute(OTHER_CLIENT, [command])

        assert result.ok
        assert [m.state for m in platform.lists_for_email(OTHER_CLIENT, ANN)] == [
            SubscriberState.ACTIVE
        ]

    # -- custom fields (field mappings) -----------------------------------------------------

    def test_a_created_custom_field_is_listed_with_its_key_type_and_options(self) -> None:
        """create_custom_field returns the field with the platform's key; custom_fields
        lists it."""
        platform, _seed = self._standard()
        wanted = PlatformField("Favourite colour", "MultiSelectMany", ("Red", "Blue"))

        created = platform.create_custom_field(CLIENT, "list-1", wanted)

        assert created.key == "[Favouritecolour]"
        assert created in platform.custom_fields(CLIENT, "list-1")
        assert (created.name, created.data_type, created.options) == (
            wanted.name,
            wanted.data_type,
            wanted.options,
        )

    def test_creating_a_field_the_list_has_is_an_error(self) -> None:
        """A second field of the same name is refused."""
        platform, _seed = self._standard()
        platform.create_custom_field(CLIENT, "list-1", PlatformField("Notes", "Text"))

        try:
            platform.create_custom_field(CLIENT, "list-1", PlatformField("Notes", "Text"))
        except CmsfError:
            pass
        else:
            raise AssertionError("a second field named 'Notes' was created")

    def test_custom_fields_of_a_list_not_the_clients_is_an_error(self) -> None:
        """A list that is not the client's has no fields to serve: an error."""
        platform, _seed = self._standard()

        for read in (platform.custom_fields, platform.subscriber_values):
            try:
                read(CLIENT, "list-au")
            except CmsfError:
                continue
            raise AssertionError(f"{read.__name__} served a list of another client")

    def test_imported_custom_field_values_are_served_on_active_subscribers(self) -> None:
        """Values sent by an import come back by key; a select-many field's as a tuple."""
        platform, _seed = self._standard()
        tags = platform.create_custom_field(
            CLIENT, "list-1", PlatformField("Tags", "MultiSelectMany", ("VIP", "Gold"))
        )
        city = platform.create_custom_field(CLIENT, "list-1", PlatformField("City", "Text"))
        row = SubscriberImport(ANN, "Ann", {tags.key: ("VIP", "Gold"), city.key: "Paris"})

        (result,) = platform.execute(CLIENT, [ImportSubscribers("list-1", (row,), False)])

        assert result.ok
        served = {email_key(s.email): s for s in platform.subscriber_values(CLIENT, "list-1")}
        ann = served[email_key(ANN)]
        assert ann.name == "Ann"
        assert dict(ann.custom_fields) == {tags.key: ("VIP", "Gold"), city.key: "Paris"}

    def test_subscriber_values_serve_only_active_subscribers(self) -> None:
        """Unsubscribed, Bounced and Deleted subscribers are not served."""
        platform, seed = self._standard()

        served = {email_key(s.email) for s in platform.subscriber_values(CLIENT, "list-1")}

        active = {
            email_key(m.email)
            for m in seed.memberships
            if (m.client_id, m.list_id, m.state) == (CLIENT, "list-1", SubscriberState.ACTIVE)
        }
        assert served == active
