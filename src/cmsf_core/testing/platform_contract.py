"""The :class:`~cmsf_core.ports.platform.EmailPlatform` contract suite, and
:func:`read_whole_stream`, reading a stream page by page as the sync does.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, ClassVar

from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.emails import normalise_email
from cmsf_core.domain.errors import CmsfError
from cmsf_core.domain.field_mappings import PlatformField
from cmsf_core.domain.records.platform import (
    PlatformCampaign,
    PlatformClient,
    TrackingEvent,
    TrackingPage,
)
from cmsf_core.domain.subscribers import (
    ImportSubscribers,
    MarkDeleted,
    PlatformCommand,
    SubscriberImport,
    SubscriberState,
    Unsubscribe,
    email_key,
)
from cmsf_core.testing._support import (
    ANN,
    BOB,
    CAMPAIGN,
    CAROL,
    CLIENT,
    OTHER_CLIENT,
    T0,
    F,
    _hypothesis_or_skip,
    _limited,
)
from cmsf_core.testing.seed import PlatformSeed, SeedMembership, standard_seed

if TYPE_CHECKING:
    from cmsf_core.ports.platform import EmailPlatform

_MAX_PAGES = 10_000  # a guard: a platform that never reports its last page fails, not hangs


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
        from hypothesis import given  # noqa: PLC0415 - see cmsf_core.testing._support
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
        import pytest  # noqa: PLC0415 - see cmsf_core.testing._support

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
        from hypothesis import given  # noqa: PLC0415 - see cmsf_core.testing._support
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
