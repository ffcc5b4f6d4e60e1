"""The file platform: a Campaign Monitor account served from a folder of API responses."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cmsf_core.adapters.campaign_monitor.custom_fields import field_from_api, subscriber_from_api
from cmsf_core.adapters.campaign_monitor.paging import serve_page, tracking_request
from cmsf_core.adapters.campaign_monitor.rows import (
    BOUNCE_TYPES,
    LIST_STATES,
    PAGE_SIZE_LIMIT,
    STREAMS,
    read_list_membership,
    read_suppressed_email,
)
from cmsf_core.adapters.campaign_monitor.time_zones import check_time_zones, zone_for_time_zone
from cmsf_core.adapters.files.errors import PlatformFileError, UnmappableTimeZoneFileError
from cmsf_core.adapters.files.fields import (
    count_field,
    email_field,
    envelope_record,
    file_id,
    json_object,
    local_time,
    optional_text,
    refused_row,
    required_text,
)
from cmsf_core.adapters.files.json_files import (
    MAX_FILE_BYTES,
    JsonFiles,
    page_files,
    paged_rows,
    streamed_results,
)
from cmsf_core.adapters.files.tracking import TrackingRows
from cmsf_core.domain.activity import ActivityType
from cmsf_core.domain.errors import CmsfError, InvalidTypeError, InvalidValueError, shown
from cmsf_core.domain.field_mappings import PlatformField, PlatformSubscriber, platform_key
from cmsf_core.domain.records.platform import (
    CampaignSummary,
    PlatformCampaign,
    PlatformClient,
    SkippedRow,
    TrackingEvent,
    TrackingPage,
)
from cmsf_core.domain.subscribers import (
    CommandResult,
    ImportSubscribers,
    ListMembership,
    PlatformCommand,
    SubscriberState,
    SuppressedEmail,
    email_key,
    run_on_list,
)
from cmsf_core.domain.timeutil import ensure_utc
from cmsf_core.ports.platform import EmailPlatform

__all__ = ["LIST_STATE_FILES", "PAGE_SIZE_LIMIT", "STREAM_FILES", "FilePlatform"]

#: The file name (without ``.json``) of each tracking stream: the API's endpoint names.
STREAM_FILES = STREAMS
#: The file name of each list state (``Lists/{id}/active.json`` ...) and its state.
LIST_STATE_FILES = LIST_STATES
#: Summary fields every API version returns; the others default to 0 when absent.
_SUMMARY_REQUIRED = frozenset(
    {"Recipients", "TotalOpened", "UniqueOpened", "Clicks", "Bounced", "Unsubscribed"}
)

#: A subscriber on a list: (email as written, state, when the state changed, date added).
_Member = tuple[str, SubscriberState, datetime, datetime | None]
#: A tracking stream as read: its events (oldest first) and the rows skipped.
_Stream = tuple[tuple[TrackingEvent, ...], tuple[SkippedRow, ...]]
_occurred_at = attrgetter("occurred_at")


# ----------------------------------------------------------------------------- the adapter


class FilePlatform(EmailPlatform):
    """A Campaign Monitor account read from a folder of API responses (read only).

    ``time_zones`` overrides a client's time zone (``{client_id: "Australia/Sydney"}``);
    its ``details.json`` is then not read.  The subscriber commands of :meth:`execute`
    change the list states this object serves, in memory, stamped with ``clock()``;
    the files are never written.  Only files inside ``folder`` are read, each of at most
    ``max_file_bytes`` (:data:`MAX_FILE_BYTES`).
    """

    #: Whether tracking rows are read by :class:`TrackingRows` (the checking reader reads
    #: the rows it leaves); ``False`` reads every row with every check (the reference).
    _fast_rows = True

    def __init__(
        self,
        folder: str | Path,
        *,
        time_zones: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self.folder = Path(folder)
        self.clock = clock
        if not self.folder.is_dir():
            raise PlatformFileError(self.folder, "folder", None, "is not a folder")
        self._time_zones = check_time_zones(time_zones)
        self._unmapped: dict[str, str] = {}  # client id -> the TimeZone no zone fits
        if type(max_file_bytes) is not int or max_file_bytes < 1:
            raise InvalidValueError("max_file_bytes", "a number of bytes >= 1", max_file_bytes)
        self._json = JsonFiles(self.folder, max_file_bytes)
        self._clients: dict[str, PlatformClient] | None = None
        self._campaigns: dict[str, tuple[PlatformCampaign, ...]] = {}
        self._campaign_owner: dict[str, PlatformCampaign] | None = None
        self._streams: dict[tuple[str, ActivityType], _Stream] = {}  # one campaign's
        self._rows = TrackingRows()
        self._summaries: dict[str, CampaignSummary] = {}
        self._lists: dict[str, dict[str, dict[str, _Member]]] = {}
        self._list_names: dict[str, dict[str, str]] = {}
        self._suppressed: dict[str, tuple[SuppressedEmail, ...]] = {}
        self._fields: dict[str, list[PlatformField]] = {}  # list id -> its custom fields
        self._values: dict[str, dict[str, PlatformSubscriber]] = {}  # imports' values

    def __repr__(self) -> str:
        return f"FilePlatform({str(self.folder)!r})"

    # -- clients -----------------------------------------------------------------------

    def _client_map(self) -> dict[str, PlatformClient]:
        if self._clients is None:
            path = self.folder / "clients.json"
            rows = self._json.load_list(path, "clients")
            clients: dict[str, PlatformClient] = {}
            for index, raw in enumerate(rows):
                record = f"[{index}]"
                row = json_object(path, record, raw)
                client_id = file_id(path, record, row, "ClientID")
                name = required_text(path, record, row, "Name")
                clients[client_id] = PlatformClient(client_id, name, self._zone_name(client_id))
            self._clients = clients
        return self._clients

    def _zone_name(self, client_id: str) -> str:
        if client_id in self._time_zones:
            return self._time_zones[client_id]
        path = self.folder / "clients" / client_id / "details.json"
        details = json_object(path, "file", self._json.load(path))
        basic = json_object(path, "BasicDetails", details.get("BasicDetails"))
        stated = basic.get("ClientID")
        if stated is not None and stated != client_id:
            raise PlatformFileError(
                path, "BasicDetails", "ClientID", f"must be {client_id!r} (got {shown(stated)})"
            )
        value = required_text(path, "BasicDetails", basic, "TimeZone")
        zone = zone_for_time_zone(value)
        if zone is None:  # the client is listed; reading it fails (that client only)
            self._unmapped[client_id] = value
            return value
        return zone

    def _zone(self, client_id: str) -> ZoneInfo:
        client = self._client_map()[client_id]
        if client_id in self._unmapped:
            path = self.folder / "clients" / client_id / "details.json"
            raise UnmappableTimeZoneFileError(path, client_id, self._unmapped[client_id])
        return ZoneInfo(client.time_zone)

    def clients(self) -> Sequence[PlatformClient]:
        return tuple(self._client_map().values())

    def _known_client(self, client_id: str) -> PlatformClient:
        client = self._client_map().get(client_id)
        if client is None:
            raise InvalidValueError(
                "client_id", f"a client of {self.folder / 'clients.json'}", client_id
            )
        return client

    # -- campaigns ---------------------------------------------------------------------

    def sent_campaigns(self, client_id: str) -> Sequence[PlatformCampaign]:
        self._known_client(client_id)
        if client_id not in self._campaigns:
            self._campaigns[client_id] = self._read_campaigns(client_id)
        return self._campaigns[client_id]

    def _read_campaigns(self, client_id: str) -> tuple[PlatformCampaign, ...]:
        folder = self.folder / "clients" / client_id
        files = page_files(self._json, folder, "campaigns")
        if not files:
            raise PlatformFileError(folder / "campaigns.json", "file", None, "the file is missing")
        rows: Iterator[tuple[Path, int, Any]]
        first = self._json.load(files[0])
        if len(files) == 1 and isinstance(first, list):  # v3.1: a plain array
            rows = ((files[0], index, row) for index, row in enumerate(first))
            label = "[{}]"
        else:  # v3.3: paged envelopes
            rows = paged_rows(self._json, files)
            label = "Results[{}]"
        zone = self._zone(client_id)
        campaigns = []
        for path, index, raw in rows:
            record = label.format(index)
            row = json_object(path, record, raw)
            campaign_id = file_id(path, record, row, "CampaignID")
            name = required_text(path, record, row, "Name")
            sent_at = local_time(path, record, row, "SentDate", zone)
            subject = optional_text(path, record, row, "Subject") or ""
            tags = row.get("Tags") or []
            if not isinstance(tags, list) or not all(
                isinstance(t, str) and t.strip() for t in tags
            ):
                raise PlatformFileError(
                    path, record, "Tags", f"must be a list of tag names (got {shown(tags)})"
                )
            campaigns.append(
                PlatformCampaign(
                    client_id,
                    campaign_id,
                    name,
                    sent_at,
                    frozenset(t.strip() for t in tags),
                    subject=subject,
                )
            )
        return tuple(sorted(campaigns, key=lambda c: (c.sent_at, c.campaign_id)))

    def _campaign(self, campaign_id: str) -> PlatformCampaign:
        if self._campaign_owner is None:
            self._campaign_owner = {
                c.campaign_id: c
                for cid in self._client_map()
                if cid not in self._unmapped  # a client without a zone fails alone
                for c in self.sent_campaigns(cid)
            }
        campaign = self._campaign_owner.get(campaign_id)
        if campaign is None:
            raise InvalidValueError(
                "campaign_id",
                "a campaign listed in a clients/<ClientID>/campaigns.json",
                campaign_id,
            )
        return campaign

    # -- tracking ------------------------------------------------------------------------

    def _stream(self, campaign_id: str, stream: ActivityType) -> _Stream:
        """The stream's events, oldest first, and its malformed rows, skipped: a bad row
        is reported and left out; a bad file (its envelope, its JSON) is an error.

        The streams of one campaign are kept while it is read (its pages are served from
        them); reading another campaign's drops them, and the page files are not kept:
        the platform holds one campaign's events, not the export's."""
        key = (campaign_id, stream)
        if key not in self._streams:
            campaign = self._campaign(campaign_id)
            zone = self._zone(campaign.client_id)
            files = page_files(
                self._json, self.folder / "campaigns" / campaign_id, STREAM_FILES[stream]
            )
            if any(read != campaign_id for read, _stream in self._streams):
                self._streams.clear()
            events: list[TrackingEvent] = []
            skipped: list[SkippedRow] = []
            for path, results in streamed_results(self._json, files):
                if self._fast_rows:
                    fast, left = self._rows.read(results, stream, zone, campaign.sent_at)
                else:  # every row through the checking reader (the reference)
                    fast, left = [], list(range(len(results)))
                if not left:
                    events.extend(fast)
                    continue
                read = iter(fast)  # the rows read fast come in order between the others
                done = 0
                for index in left:
                    events.extend(islice(read, index - done))
                    done = index + 1
                    self._read_row(
                        path, index, results[index], stream, campaign, zone, events, skipped
                    )
                events.extend(read)
            events.sort(key=_occurred_at)  # stable: file order within a minute
            self._streams[key] = (tuple(events), tuple(skipped))
        return self._streams[key]

    def _read_row(
        self,
        path: Path,
        index: int,
        raw: object,
        stream: ActivityType,
        campaign: PlatformCampaign,
        zone: tzinfo,
        events: list[TrackingEvent],
        skipped: list[SkippedRow],
    ) -> None:
        """Read one row with every check: its event, or the row skipped and why."""
        record = envelope_record(index)
        try:
            events.append(self._event(path, record, raw, stream, campaign, zone))
        except PlatformFileError as error:
            try:  # the skipped row's instant, when its date can be read
                row = json_object(path, record, raw)
                when = self._occurred_at(path, record, row, stream, campaign, zone)
            except PlatformFileError:
                when = None
            skipped.append(
                SkippedRow(
                    self._source(path),
                    record,
                    error.field,
                    error.problem,
                    occurred_at=when,
                )
            )

    def _source(self, path: Path) -> str:
        """``path`` relative to the export folder, with ``/`` separators."""
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return str(path)

    @staticmethod
    def _occurred_at(
        path: Path,
        record: str,
        row: Mapping[str, Any],
        stream: ActivityType,
        campaign: PlatformCampaign,
        zone: tzinfo,
    ) -> datetime:
        """A row's instant: its ``Date``, or (recipients rows carry no date) the send's."""
        if stream is ActivityType.SENT and row.get("Date") is None:
            return campaign.sent_at
        return local_time(path, record, row, "Date", zone)

    def _event(
        self,
        path: Path,
        record: str,
        raw: object,
        stream: ActivityType,
        campaign: PlatformCampaign,
        zone: tzinfo,
    ) -> TrackingEvent:
        row = json_object(path, record, raw)
        email = email_field(path, record, row, "EmailAddress")
        occurred_at = self._occurred_at(path, record, row, stream, campaign, zone)
        detail = None
        if stream is ActivityType.BOUNCED:
            bounce = required_text(path, record, row, "BounceType")
            detail = BOUNCE_TYPES.get(bounce.casefold())
            if detail is None:
                raise PlatformFileError(
                    path, record, "BounceType", f"must be 'Soft' or 'Hard' (got {shown(bounce)})"
                )
        elif stream is not ActivityType.UNSUBSCRIBED:
            # The clicked link; other streams' rows carry none (an unsubscribes row's URL
            # is the unsubscribe link, not part of the event).
            detail = optional_text(path, record, row, "URL")
        list_id = optional_text(path, record, row, "ListID")
        return TrackingEvent(stream, email, occurred_at, list_id=list_id, detail=detail)

    def tracking_page(
        self,
        campaign_id: str,
        stream: ActivityType,
        *,
        since: datetime | None,
        page: int,
        page_size: int,
    ) -> TrackingPage:
        stream, start = tracking_request(stream, since, page, page_size, PAGE_SIZE_LIMIT)
        events, skipped = self._stream(campaign_id, stream)
        # The skipped rows of the read ride on its first page: those dated in the window
        # read, and those whose date could not be read (at every read, until corrected).
        reported = (
            [
                row
                for row in skipped
                if start is None or row.occurred_at is None or row.occurred_at >= start
            ]
            if page == 1 and skipped
            else []
        )
        return serve_page(events, since=start, page=page, page_size=page_size, skipped=reported)

    def campaign_summary(self, campaign_id: str) -> CampaignSummary:
        if campaign_id not in self._summaries:
            self._campaign(campaign_id)
            path = self.folder / "campaigns" / campaign_id / "summary.json"
            row = json_object(path, "file", self._json.load(path))
            values = {}
            for attribute, field in CampaignSummary.API_FIELDS:
                if field not in row:
                    if field in _SUMMARY_REQUIRED:
                        raise PlatformFileError(path, "summary", field, "is missing")
                    continue
                values[attribute] = count_field(path, "summary", row[field], field)
            self._summaries[campaign_id] = CampaignSummary(**values)
        return self._summaries[campaign_id]

    # -- subscribers -----------------------------------------------------------------------

    def _list_states(self, client_id: str) -> dict[str, dict[str, _Member]]:
        """list id -> email key -> (email, state, when it changed, date added)."""
        if client_id in self._lists:
            return self._lists[client_id]
        self._known_client(client_id)
        zone = self._zone(client_id)
        path = self.folder / "clients" / client_id / "lists.json"
        names: dict[str, str] = {}
        for index, raw in enumerate(self._json.load_list(path, "lists", optional=True)):
            record = f"[{index}]"
            row = json_object(path, record, raw)
            names[file_id(path, record, row, "ListID")] = required_text(path, record, row, "Name")
        states: dict[str, dict[str, _Member]] = {}
        for list_id in names:
            members: dict[str, _Member] = {}
            folder = self.folder / "lists" / list_id
            for stem, file_state in LIST_STATE_FILES.items():
                for page, index, raw in paged_rows(
                    self._json, page_files(self._json, folder, stem)
                ):
                    record = envelope_record(index)
                    row = json_object(page, record, raw)
                    email = email_field(page, record, row, "EmailAddress")
                    # The current API names it StateChangedDate; older answers, Date.
                    dated = "StateChangedDate" if row.get("StateChangedDate") else "Date"
                    changed = local_time(page, record, row, dated, zone)
                    state = file_state
                    if row.get("State") is not None:
                        try:
                            state = SubscriberState.parse(row["State"], "State")
                        except CmsfError:
                            raise PlatformFileError(
                                page,
                                record,
                                "State",
                                "must be one of "
                                + ", ".join(s.value for s in LIST_STATE_FILES.values())
                                + f" (got {shown(row['State'])})",
                            ) from None
                    added: datetime | None = None
                    if row.get("ListJoinedDate") not in (None, ""):
                        added = local_time(page, record, row, "ListJoinedDate", zone)
                    elif state is SubscriberState.ACTIVE:
                        added = changed
                    key = email_key(email)
                    if key not in members or changed >= members[key][2]:
                        members[key] = (email, state, changed, added)
            states[list_id] = members
        self._list_names[client_id] = names
        self._lists[client_id] = states
        return states

    def subscriber_changes(self, client_id: str, *, since: datetime | None) -> Sequence[str]:
        start = None if since is None else ensure_utc(since, "since")
        changed: dict[str, str] = {}
        for members in self._list_states(client_id).values():
            for key, (email, _state, at, _added) in members.items():
                if start is None or at >= start:
                    changed.setdefault(key, email)
        return tuple(changed.values())

    def lists_for_email(self, client_id: str, email: str) -> Sequence[ListMembership]:
        key = email_key(email)
        states = self._list_states(client_id)
        names = self._list_names[client_id]
        zone = self._zone(client_id)
        found = []
        for list_id, members in states.items():
            member = members.get(key)
            if member is not None:
                row = {
                    "ListID": list_id,
                    "ListName": names[list_id],
                    "SubscriberState": member[1].value,
                    "DateSubscriberAdded": member[3],
                }
                found.append(read_list_membership(row, zone))
        return tuple(found)

    def list_subscribers(self, client_id: str, list_id: str) -> Mapping[str, SubscriberState]:
        """Everyone on the list, from its state files (``lists/<ListID>/active.json``,
        ...), as :meth:`execute` has changed them; the list must be in the client's
        ``lists.json``."""
        members = self._members(client_id, list_id)
        return {email: state for email, state, _at, _added in members.values()}

    def _members(self, client_id: str, list_id: str) -> dict[str, _Member]:
        """The list's members; a list not in the client's ``lists.json`` is refused."""
        members = self._list_states(client_id).get(list_id)
        if members is None:
            raise InvalidValueError(
                "list_id", f"a list of client {client_id!r} (its lists.json)", list_id
            )
        return members

    def suppression_list(self, client_id: str) -> Sequence[SuppressedEmail]:
        if client_id not in self._suppressed:
            self._known_client(client_id)
            zone = self._zone(client_id)
            files = page_files(self._json, self.folder / "clients" / client_id, "suppressionlist")
            entries = []
            for path, index, raw in paged_rows(self._json, files):
                record = envelope_record(index)
                row = dict(json_object(path, record, raw))
                email_field(path, record, row, "EmailAddress")
                row["Date"] = local_time(path, record, row, "Date", zone)
                try:
                    entries.append(read_suppressed_email(row, zone))
                except (InvalidValueError, InvalidTypeError) as error:
                    problem = (
                        "is missing"
                        if isinstance(error.got, Mapping)
                        else f"must be {error.expected} (got {shown(error.got)})"
                    )
                    raise PlatformFileError(path, record, error.field, problem) from None
            self._suppressed[client_id] = tuple(entries)
        return self._suppressed[client_id]

    def execute(
        self, client_id: str, commands: Sequence[PlatformCommand]
    ) -> Sequence[CommandResult]:
        """Run the commands on the list states held in memory (the files stay as they are),
        as the platform would: an unknown list fails that command only."""
        states = self._list_states(client_id)
        results = []
        for command in commands:
            members = states.get(command.list_id)
            if members is None:
                results.append(CommandResult(command, False, "Invalid ListID"))
                continue
            results.append(self._run(members, command))
            if isinstance(command, ImportSubscribers):
                self._keep_values(client_id, command)
        return tuple(results)

    def _run(self, members: dict[str, _Member], command: PlatformCommand) -> CommandResult:
        now = ensure_utc(self.clock(), "clock")
        result, changes = run_on_list(
            command, lambda key: None if (found := members.get(key)) is None else found[1]
        )
        for change in changes:
            if change.added:
                members[change.key] = (change.email, change.state, now, now)
            else:
                shown, _state, _at, added = members[change.key]
                members[change.key] = (shown, change.state, now, added)
        return result

    # -- custom fields (field mappings) -----------------------------------------------------

    def _list_folder(self, client_id: str, list_id: str) -> Path:
        self._members(client_id, list_id)
        return self.folder / "lists" / list_id

    def custom_fields(self, client_id: str, list_id: str) -> Sequence[PlatformField]:
        """The list's fields from ``lists/<ListID>/customfields.json`` (missing: none),
        with the fields :meth:`create_custom_field` added."""
        folder = self._list_folder(client_id, list_id)
        if list_id not in self._fields:
            path = folder / "customfields.json"
            fields: list[PlatformField] = []
            for index, raw in enumerate(self._json.load_list(path, "fields", optional=True)):
                try:
                    fields.append(field_from_api(json_object(path, f"[{index}]", raw)))
                except (InvalidValueError, InvalidTypeError) as error:
                    raise refused_row(path, f"[{index}]", error) from None
            self._fields[list_id] = fields
        return tuple(self._fields[list_id])

    def create_custom_field(
        self, client_id: str, list_id: str, field: PlatformField
    ) -> PlatformField:
        """Add a field to the list as served from now on (the files stay as they are)."""
        if not isinstance(field, PlatformField):
            raise InvalidTypeError("field", "a PlatformField", field)
        have = self.custom_fields(client_id, list_id)
        created = PlatformField(field.name, field.data_type, field.options)
        if any(f.key.casefold() == platform_key(field.name).casefold() for f in have):
            raise InvalidValueError("field", "a field name the list does not have", field.name)
        self._fields[list_id].append(created)
        return created

    def subscriber_values(self, client_id: str, list_id: str) -> Sequence[PlatformSubscriber]:
        """The Active subscribers with the ``Name`` and ``CustomFields`` of their rows in
        ``lists/<ListID>/active.json`` (every page), as imports have updated them."""
        fields = self.custom_fields(client_id, list_id)
        members = self._list_states(client_id)[list_id]
        folder = self._list_folder(client_id, list_id)
        read: dict[str, PlatformSubscriber] = {}
        for page, index, raw in paged_rows(self._json, page_files(self._json, folder, "active")):
            record = envelope_record(index)
            row = json_object(page, record, raw)
            try:
                subscriber = subscriber_from_api(list_id, row, fields)
            except (InvalidValueError, InvalidTypeError) as error:
                raise refused_row(page, record, error) from None
            read[email_key(subscriber.email)] = subscriber
        read.update(self._values.get(list_id, {}))
        found = []
        for key, (email, state, _at, _added) in members.items():
            if state is SubscriberState.ACTIVE:
                found.append(read.get(key) or PlatformSubscriber(list_id, email))
        return tuple(found)

    def _keep_values(self, client_id: str, command: ImportSubscribers) -> None:
        """An import sets the rows' names and the values of fields the list has."""
        known = {f.key for f in self.custom_fields(client_id, command.list_id)}
        held = self._values.setdefault(command.list_id, {})
        before = {email_key(s.email): s for s in self.subscriber_values(client_id, command.list_id)}
        for row in command.subscribers:
            old = held.get(email_key(row.email)) or before.get(email_key(row.email))
            values = dict(old.custom_fields) if old else {}
            values.update({k: v for k, v in row.custom_fields.items() if k in known})
            name = row.name or (old.name if old else "")
            held[email_key(row.email)] = PlatformSubscriber(
                command.list_id, row.email, name, values
            )
