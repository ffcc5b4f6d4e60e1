"""Secrets never show, and email addresses are masked where the library shows them.

A fake credential is planted in every place one can live (a :class:`Secret`, API-key and
OAuth :class:`Credentials`, a :class:`Connection` through its whole lifecycle, a platform
adapter's configuration, a settings value marked secret) and looked for in every repr,
str, error message (with its traceback), log record, :func:`attrs.asdict`, sync plan and
report, maintenance message and audit entry.  Logging is captured at DEBUG for each test.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from cmsf_core import (
    SETTING_SPECS,
    ActivityType,
    CmsfError,
    Connection,
    CredentialKind,
    Credentials,
    MaintenanceLog,
    MaintenanceMessage,
    PlatformAccount,
    PlatformUser,
    Secret,
    Settings,
    diff_settings,
)
from cmsf_core.adapters.memory import InMemoryCrm, InMemoryPlatform
from cmsf_core.domain import connection as conn
from cmsf_core.domain.connection import Client
from cmsf_core.shell.sync import SyncReport, run_sync

API_KEY = "sk-live-PLANTED-api-key-7f3a9c"
ACCESS = "oat-PLANTED-access-91b2"
REFRESH = "ort-PLANTED-refresh-42d8"
SECRETS = (API_KEY, ACCESS, REFRESH)
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = "jane.admin@example.com"
ANN = "ann.person@example.com"


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every log record at DEBUG; after the test, none may hold a secret."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    for record in caplog.records:
        shown = record.getMessage() + (record.exc_text or "") + repr(record.args)
        if record.exc_info:
            shown += "".join(traceback.format_exception(*record.exc_info))
        assert_hidden(shown, f"log record {record.name}")


def assert_hidden(text: str, where: str) -> None:
    """None of the planted secrets appears in ``text``."""
    for secret in SECRETS:
        assert secret not in text, f"{where} shows a secret: {text[:300]}"


def renderings(value: Any) -> Iterator[tuple[str, str]]:
    """Every way a value is commonly shown: repr, str, format, and for attrs classes
    attrs.asdict and attrs.astuple (shown the way a log or a JSON dump would)."""
    yield "repr", repr(value)
    yield "str", str(value)
    yield "format", f"{value}"
    yield "percent", "%s %r" % (value, value)  # noqa: UP031 - what logging does
    if attrs.has(type(value)):
        yield "asdict", repr(_asdict(value))
        yield "asdict shallow", str(attrs.asdict(value, recurse=False))
        yield "astuple", repr(attrs.astuple(value, recurse=False))
    if isinstance(value, tuple):
        for i, item in enumerate(value):
            for how, text in renderings(item):
                yield f"[{i}] {how}", text


def _asdict(value: Any) -> dict[str, Any]:
    """attrs.asdict, recursing where attrs can: it cannot rebuild the NamedTuples
    (MemberRef) that a sync plan holds in sets, so those values fall back to one level."""
    try:
        return attrs.asdict(value)
    except TypeError:
        return attrs.asdict(value, recurse=False)


def assert_never_shown(value: object, name: str) -> None:
    """No rendering of ``value`` shows a planted secret."""
    for how, text in renderings(value):
        assert_hidden(text, f"{how} of {name}")


def assert_refused_quietly(action: Callable[[], object], name: str) -> CmsfError:
    """``action`` raises a library error whose message, args, value and traceback hide
    every secret; the error is returned."""
    with pytest.raises(CmsfError) as excinfo:
        action()
    error = excinfo.value
    assert_hidden(str(error), f"message of {name}")
    assert_hidden(repr(error.args), f"args of {name}")
    assert_hidden(repr(getattr(error, "got", None)), f"value of {name}")
    assert_hidden("".join(traceback.format_exception(error)), f"traceback of {name}")
    logging.getLogger("cmsf_core.tests").exception("refused: %s", name, exc_info=error)
    return error


# ----------------------------------------------------------------------------- values


def account() -> PlatformAccount:
    """An agency account with two clients."""
    return PlatformAccount(
        "acct-1",
        "Agency",
        (Client("c1", "Acme", "Europe/London"), Client("c2", "Beta", "Australia/Sydney")),
    )


def user() -> PlatformUser:
    """A full-access platform user."""
    return PlatformUser(ADMIN, True)


def api_key() -> Credentials:
    """API-key credentials with the planted key."""
    return Credentials.api_key(API_KEY)


def oauth() -> Credentials:
    """OAuth credentials with the planted tokens."""
    return Credentials.oauth(ACCESS, REFRESH, expires_at=AT + timedelta(hours=1))


def lifecycle() -> list[tuple[str, object]]:
    """Every state and step of a connection's life, credentials planted throughout."""
    steps: list[tuple[str, object]] = []
    first = conn.connect(
        Connection(),
        credentials=api_key(),
        platform_user=user(),
        account=account(),
        current_user=ADMIN,
        client_ids=["c1"],
    )
    steps.append(("connect", first))
    again = conn.reconnect(
        first.state, credentials=oauth(), platform_user=user(), account=account()
    )
    steps.append(("reconnect", again))
    steps.append(("select clients", conn.select_clients(again.state, ["c1", "c2"])))
    steps.append(("change sync user", conn.change_sync_user(again.state, current_user="bob")))
    steps.append(("security owner", conn.change_security_owner(again.state, "c1", ADMIN)))
    synced = conn.record_sync(again.state, "c1", at=AT)
    steps.append(("record sync", synced))
    steps.append(("connection lost", conn.record_connection_lost(synced.state, "c1")))
    steps.append(("disconnect", conn.disconnect(synced.state)))
    return steps


def test_a_secret_shows_only_through_reveal() -> None:
    """Secret: repr, str, format and pickling-free copies show '***'; reveal() gives it."""
    secret = Secret(API_KEY)

    assert_never_shown(secret, "Secret")
    assert repr(secret) == "Secret('***')"
    assert f"{secret:>8}" == "     ***"
    assert secret.reveal() == API_KEY
    assert secret == Secret(API_KEY)
    assert secret != Secret(ACCESS)
    assert secret != API_KEY
    assert hash(secret) == hash(Secret(API_KEY))


@pytest.mark.parametrize("make", [api_key, oauth], ids=["api key", "oauth"])
def test_credentials_never_show_their_secrets(make: Callable[[], Credentials]) -> None:
    """Credentials of either kind: every rendering, and attrs.asdict, withhold the tokens."""
    credentials = make()

    assert_never_shown(credentials, "Credentials")
    assert isinstance(attrs.asdict(credentials)["token"], Secret)
    assert "withheld" in str(credentials)


def test_every_state_and_step_of_a_connection_withholds_the_credentials() -> None:
    """connect, reconnect, select, change user/owner, record sync/loss, disconnect."""
    for name, step in lifecycle():
        assert_never_shown(step, name)
        for effect in step.effects:  # type: ignore[attr-defined]
            assert_never_shown(effect, f"{name} effect")


# ----------------------------------------------------------------------------- errors


def _connected() -> Connection:
    return conn.connect(
        Connection(),
        credentials=api_key(),
        platform_user=user(),
        account=account(),
        current_user=ADMIN,
        client_ids=["c1"],
    ).state


BAD_CALLS: dict[str, Callable[[], object]] = {
    "a secret with spaces": lambda: Secret(f" {API_KEY} "),
    "a secret with a newline": lambda: Secret(f"{API_KEY}\n"),
    "a secret as bytes": lambda: Secret(API_KEY.encode()),  # type: ignore[arg-type]
    "an api key with spaces": lambda: Credentials.api_key(f"{API_KEY} "),
    "an access token with a tab": lambda: Credentials.oauth(f"{ACCESS}\t", REFRESH),
    "a refresh token with spaces": lambda: Credentials.oauth(ACCESS, f" {REFRESH}"),
    "an api key with a refresh token": lambda: Credentials(
        CredentialKind.API_KEY, API_KEY, REFRESH
    ),
    "the key given as the kind": lambda: Credentials(API_KEY, API_KEY),
    "the refresh token given as the expiry": lambda: Credentials(
        CredentialKind.OAUTH,
        ACCESS,
        REFRESH,
        REFRESH,
    ),
    "a connection given the key as credentials": lambda: Connection(
        credentials=API_KEY  # type: ignore[arg-type]
    ),
    "a disconnected connection holding credentials": lambda: Connection(credentials=api_key()),
    "connect given the key as credentials": lambda: conn.connect(
        Connection(),
        credentials=API_KEY,  # type: ignore[arg-type]
        platform_user=user(),
        account=account(),
        current_user=ADMIN,
    ),
    "connect while connected": lambda: conn.connect(
        _connected(),
        credentials=oauth(),
        platform_user=user(),
        account=account(),
        current_user=ADMIN,
    ),
    "reconnect to another account": lambda: conn.reconnect(
        _connected(),
        credentials=oauth(),
        platform_user=user(),
        account=attrs.evolve(account(), account_id="acct-2"),
    ),
    "reconnect with a user without full access": lambda: conn.reconnect(
        _connected(),
        credentials=oauth(),
        platform_user=PlatformUser(ADMIN, False),
        account=account(),
    ),
    "a connected state without a sync user": lambda: attrs.evolve(_connected(), sync_user=None),
}


@pytest.mark.parametrize("action", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_errors_about_credentials_never_quote_them(action: Callable[[], object]) -> None:
    """Message, args, the value kept on the error and the full traceback hide secrets."""
    assert_refused_quietly(action, "bad call")


def test_errors_mask_the_email_of_a_platform_user() -> None:
    """An email used as a platform user name shows masked in errors about it."""
    error = assert_refused_quietly(
        lambda: conn.connect(
            Connection(),
            credentials=api_key(),
            platform_user=PlatformUser(ADMIN, False),
            account=account(),
            current_user="bob",
            client_ids=["c1"],
        ),
        "user without full access",
    )

    assert ADMIN not in str(error)
    assert "j***@example.com" in str(error)


# ----------------------------------------------------------------------------- adapters


class CredentialedPlatform:
    """A platform adapter configured with credentials, as a real one is."""

    def __init__(self, inner: InMemoryPlatform, credentials: Credentials) -> None:
        self.credentials = credentials
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return f"CredentialedPlatform({self.credentials!r})"


def synced(refuse_member: bool = False) -> tuple[SyncReport, InMemoryCrm, CredentialedPlatform]:
    """A sync through an adapter holding the credentials; optionally the CRM refuses
    to save a member (so the sync leaves a maintenance message naming its email)."""
    platform = InMemoryPlatform(clock=lambda: AT)
    platform.add_client("c1", "Acme", time_zone="Europe/London")
    platform.add_campaign("c1", "cmp-1", "Spring", sent_at=AT)
    platform.add_event("cmp-1", ActivityType.SENT, ANN, AT)
    platform.add_event("cmp-1", ActivityType.OPENED, ANN, AT + timedelta(minutes=5))
    crm = InMemoryCrm(
        refuse=(lambda kind, _item: "FIELD_CUSTOM_VALIDATION" if kind == "member" else None)
        if refuse_member
        else None
    )
    crm.add_campaign("sf-1", "Spring", statuses=["Sent", "Opened"])
    crm.link("c1", "cmp-1", "sf-1")
    adapter = CredentialedPlatform(platform, oauth())
    report = run_sync(crm, adapter, Settings(), as_of=AT + timedelta(hours=1))
    return report, crm, adapter


def test_a_sync_through_a_credentialed_adapter_shows_no_secret() -> None:
    """The plan, the report, its summary and every message hide the adapter's secrets."""
    report, crm, adapter = synced()
    logging.getLogger("cmsf_core.tests").debug("sync %s via %r: %r", report, adapter, report)

    assert report.plan.records_to_insert
    assert_never_shown(adapter, "adapter")
    assert_never_shown(report, "sync report")
    assert_never_shown(report.plan, "sync plan")
    assert_hidden(report.summary(), "report summary")
    assert_hidden(report.plan.summary(), "plan summary")
    for message in (*report.plan.messages, *crm.messages()):
        assert_never_shown(message, "maintenance message")


def test_the_campaign_monitor_adapter_withholds_its_credentials() -> None:
    """Its repr names the kind of credentials only (checked when the adapter is present)."""
    module = pytest.importorskip("cmsf_core.adapters.campaign_monitor")

    adapter = module.CampaignMonitorPlatform(oauth())

    assert_hidden(repr(adapter), "adapter repr")
    assert_hidden(str(adapter), "adapter str")
    assert "OAuth" in repr(adapter)


# ----------------------------------------------------------------------------- settings


def test_no_setting_holds_a_secret_today() -> None:
    """The settings table marks no setting secret (credentials live in Connection)."""
    assert [spec.name for spec in SETTING_SPECS if spec.secret] == []


def test_a_setting_marked_secret_is_redacted_in_audit_entries() -> None:
    """diff_settings shows '***' for both values of a secret setting, in every rendering."""
    spec = next(s for s in SETTING_SPECS if s.name == "Campaign_Filter_Tags")
    secret_spec = attrs.evolve(spec, secret=True)
    old = Settings(campaign_filter_tags={API_KEY})
    new = Settings(campaign_filter_tags={ACCESS})

    entries = diff_settings(old, new, at=AT, user=ADMIN, specs=[secret_spec])
    log = MaintenanceLog().record_changes(entries)

    assert [(e.setting, e.old, e.new) for e in entries] == [("Campaign_Filter_Tags", "***", "***")]
    for entry in entries:
        assert_never_shown(entry, "audit entry")
    assert_never_shown(log, "maintenance log")


def test_audit_entries_mask_email_addresses() -> None:
    """A changed notification address and the user who changed it show masked."""
    entries = diff_settings(
        Settings(),
        Settings(notification_email=ANN),
        at=AT,
        user=ADMIN,
    )

    (entry,) = entries
    for text in (str(entry), repr(entry)):
        assert ANN not in text
        assert ADMIN not in text
        assert "a***@example.com" in text
        assert "j***@example.com" in text


# ----------------------------------------------------------------------------- messages


def _messages_about(email: str) -> Sequence[MaintenanceMessage]:
    return (
        MaintenanceMessage("CM-0042", "Error", email, f"Bounced: {email}.", AT),
        MaintenanceMessage("CM-0043", "Warning", None, f"Check {email}, {ADMIN}.", AT),
    )


def test_maintenance_messages_mask_email_addresses_in_str_and_repr() -> None:
    """The record and guidance keep the address; str and repr show it masked."""
    for message in _messages_about(ANN):
        for text in (str(message), repr(message)):
            assert ANN not in text
            assert ADMIN not in text
            assert "a***@example.com" in text
        assert ANN in (message.record or "") + message.guidance  # kept for the shell


def test_a_refused_member_leaves_a_message_with_its_email_masked() -> None:
    """The sync's own maintenance message about a refused member masks the email."""
    report, crm, _adapter = synced(refuse_member=True)

    stored = crm.messages()
    assert stored
    assert report.plan.messages
    for message in (*report.plan.messages, *stored):
        for text in (str(message), repr(message)):
            assert ANN not in text
            assert "a***@example.com" in text
        assert_never_shown(message, "maintenance message")


def test_notifications_mask_the_address_in_their_repr() -> None:
    """The notification keeps the full address to send to; its repr masks it."""
    log = MaintenanceLog(notification_email=ADMIN)
    (message, _) = _messages_about(ANN)

    notification = log.notification_for(message)

    assert notification is not None
    assert notification.to == ADMIN
    assert ADMIN not in repr(notification)
    assert ANN not in notification.body
    assert ADMIN not in repr(log)
