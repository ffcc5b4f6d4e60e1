"""The connection lifecycle: transitions, effects, illegal moves, the clients table, secrets."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmsf_core.domain.connection import (
    TRANSITIONS,
    AccountKind,
    Client,
    ConnectedClient,
    Connection,
    ConnectionStatus,
    CredentialKind,
    Credentials,
    Effect,
    EffectKind,
    PlatformAccount,
    PlatformUser,
    Secret,
    Step,
    Transition,
    TransitionError,
    change_security_owner,
    change_sync_user,
    connect,
    disconnect,
    reconnect,
    record_connection_lost,
    record_sync,
    select_clients,
)
from cmsf_core.domain.errors import (
    CmsfError,
    InvalidTypeError,
    InvalidValueError,
    NaiveDatetimeError,
    UnknownChoiceError,
)

SECRET = "PLANTED-k3y-5f0c9e1d"
TOKEN = "PLANTED-access-77ab"
REFRESH = "PLANTED-refresh-0a9b"
PLANTED = (SECRET, TOKEN, REFRESH)

LONDON = Client("c-1", "Acme UK", "Europe/London")
SYDNEY = Client("c-2", "Acme AU", "Australia/Sydney")
BOSTON = Client("c-3", "Acme US", "America/New_York")
DIRECT = PlatformAccount("acct-1", AccountKind.DIRECT, (LONDON,))
AGENCY = PlatformAccount("acct-9", "Agency", (LONDON, SYDNEY, BOSTON))
ADMIN = PlatformUser("jane.doe@example.com", full_access=True)
NEW_ADMIN = PlatformUser("ops.admin@example.com", full_access=True)
VIEWER = PlatformUser("viewer@example.com", full_access=False)
KEY = Credentials.api_key(SECRET)
OAUTH = Credentials.oauth(TOKEN, REFRESH, expires_at=datetime(2030, 1, 1, tzinfo=UTC))
CRM_ADMIN = "admin@acme.example"
AT = datetime(2024, 5, 1, 9, tzinfo=UTC)


def connected_direct() -> Connection:
    return connect(
        Connection(), credentials=KEY, platform_user=ADMIN, account=DIRECT, current_user=CRM_ADMIN
    ).state


def connected_agency(client_ids: tuple[str, ...] = ("c-1", "c-2")) -> Connection:
    return connect(
        Connection(),
        credentials=KEY,
        platform_user=ADMIN,
        account=AGENCY,
        current_user=CRM_ADMIN,
        client_ids=client_ids,
    ).state


def kinds(step: Step) -> list[EffectKind]:
    return [e.kind for e in step.effects]


# ----------------------------------------------------------------------------- connect


def test_connect_direct_account_selects_its_one_client() -> None:
    """Connecting a direct account connects its client; the CRM user runs the sync and owns it."""
    step = connect(
        Connection(), credentials=KEY, platform_user=ADMIN, account=DIRECT, current_user=CRM_ADMIN
    )
    assert step.state.status is ConnectionStatus.CONNECTED
    assert step.state.sync_user == CRM_ADMIN
    assert step.state.clients == (
        ConnectedClient("c-1", "Acme UK", "Europe/London", None, True, CRM_ADMIN),
    )
    assert step.effects == (
        Effect(EffectKind.STORE_CREDENTIALS),
        Effect(EffectKind.SCHEDULE_PRIMARY_SYNC, user=CRM_ADMIN),
        Effect(EffectKind.ADD_CLIENT, client_id="c-1", user=CRM_ADMIN),
    )


def test_connect_needs_a_full_access_user() -> None:
    """A platform user without full access is refused, with the way out in the message."""
    with pytest.raises(InvalidValueError, match="full-access platform user") as caught:
        connect(
            Connection(),
            credentials=KEY,
            platform_user=VIEWER,
            account=DIRECT,
            current_user=CRM_ADMIN,
        )
    assert "viewer@example.com" not in str(caught.value)


def test_connect_agency_needs_a_selection() -> None:
    """An agency account must say which sub-clients to sync; the message lists them."""
    with pytest.raises(InvalidValueError, match="choose from c-1, c-2, c-3"):
        connect(
            Connection(), credentials=KEY, platform_user=ADMIN, account=AGENCY, current_user="me"
        )


def test_connect_agency_with_selected_sub_clients() -> None:
    """The chosen sub-clients form the clients table, in the account's order."""
    state = connected_agency(("c-3", "c-1"))
    assert state.client_ids == ("c-1", "c-3")


@pytest.mark.parametrize(
    ("client_ids", "error"),
    [
        (("c-7",), UnknownChoiceError),
        ((), InvalidValueError),
        (("c-1", "c-1"), InvalidValueError),
        ("c-1", InvalidTypeError),
    ],
)
def test_bad_selections_are_refused(client_ids: object, error: type[Exception]) -> None:
    """Unknown, empty, repeated or non-collection selections are errors."""
    with pytest.raises(error, match="'client_ids'"):
        connect(
            Connection(),
            credentials=KEY,
            platform_user=ADMIN,
            account=AGENCY,
            current_user="me",
            client_ids=client_ids,  # type: ignore[arg-type]
        )


def test_connect_while_connected_is_illegal() -> None:
    """Connect is allowed only from Disconnected."""
    state = connected_direct()
    with pytest.raises(
        TransitionError, match=r"'connection' must be Disconnected to connect \(got 'Connected'\)"
    ):
        connect(state, credentials=KEY, platform_user=ADMIN, account=DIRECT, current_user="me")


# ----------------------------------------------------------------------------- disconnect


def test_disconnect_stops_everything_and_resets_permissions() -> None:
    """The product's list, in order: stop syncing, stop active and scheduled jobs, reset."""
    step = disconnect(connected_direct())
    assert kinds(step) == [
        EffectKind.STOP_SYNCING,
        EffectKind.STOP_ACTIVE_JOBS,
        EffectKind.STOP_SCHEDULED_JOBS,
        EffectKind.RESET_USER_OVERRIDES,
        EffectKind.RESET_CLIENT_OWNERSHIP_PERMISSIONS,
        EffectKind.DISCARD_CREDENTIALS,
    ]


def test_disconnect_keeps_client_configuration() -> None:
    """Disconnecting removes no client's configuration; rows stay, inactive and unowned."""
    state = record_sync(connected_agency(), "c-2", at=AT).state
    step = disconnect(state)
    assert EffectKind.REMOVE_CLIENT_CONFIGURATION not in kinds(step)
    assert step.state == Connection(
        clients=(
            ConnectedClient("c-1", "Acme UK", "Europe/London", None, False, None),
            ConnectedClient("c-2", "Acme AU", "Australia/Sydney", AT, False, None),
        )
    )
    assert step.state.credentials is None
    assert step.state.sync_user is None


def test_disconnect_while_disconnected_is_illegal() -> None:
    """There is nothing to disconnect."""
    with pytest.raises(TransitionError, match="must be Connected to disconnect"):
        disconnect(Connection())


def test_connect_after_disconnect_keeps_history_and_drops_unselected_clients() -> None:
    """Reconnecting the table: last synced stays; clients not selected lose configuration."""
    state = disconnect(record_sync(connected_agency(), "c-1", at=AT).state).state
    step = connect(
        state,
        credentials=OAUTH,
        platform_user=NEW_ADMIN,
        account=AGENCY,
        current_user="new.admin",
        client_ids=["c-1"],
    )
    assert step.state.clients == (
        ConnectedClient("c-1", "Acme UK", "Europe/London", AT, True, "new.admin"),
    )
    assert step.effects[2:] == (
        Effect(EffectKind.ADD_CLIENT, client_id="c-1", user="new.admin"),
        Effect(EffectKind.REMOVE_CLIENT_CONFIGURATION, client_id="c-2"),
    )


# ----------------------------------------------------------------------------- reconnect


def test_reconnect_replaces_only_the_credentials() -> None:
    """Same account, same clients: only the authentication details change."""
    state = record_sync(connected_agency(), "c-1", at=AT).state
    state = change_security_owner(state, "c-2", "owner.au").state
    step = reconnect(state, credentials=OAUTH, platform_user=NEW_ADMIN, account=AGENCY)
    assert step.effects == (Effect(EffectKind.REPLACE_CREDENTIALS),)
    assert step.state == attrs.evolve(state, credentials=OAUTH, platform_user=NEW_ADMIN)


def test_reconnect_removes_configuration_of_clients_not_selected() -> None:
    """The product's warning: select them all, or the others lose wizards and mappings."""
    state = connected_agency(("c-1", "c-2"))
    step = reconnect(
        state, credentials=OAUTH, platform_user=NEW_ADMIN, account=AGENCY, client_ids=["c-1"]
    )
    assert step.effects == (
        Effect(EffectKind.REPLACE_CREDENTIALS),
        Effect(EffectKind.REMOVE_CLIENT_CONFIGURATION, client_id="c-2"),
    )
    assert step.state.client_ids == ("c-1",)


def test_reconnect_must_use_the_same_account() -> None:
    """The new user must belong to the account originally connected."""
    other = PlatformAccount("acct-2", AccountKind.DIRECT, (LONDON,))
    with pytest.raises(InvalidValueError, match="the account originally connected \\('acct-1'\\)"):
        reconnect(connected_direct(), credentials=OAUTH, platform_user=NEW_ADMIN, account=other)


def test_reconnect_needs_a_full_access_user() -> None:
    """Reconnecting with a restricted user is refused like connecting."""
    with pytest.raises(InvalidValueError, match="full-access"):
        reconnect(connected_direct(), credentials=OAUTH, platform_user=VIEWER, account=DIRECT)


def test_reconnect_while_disconnected_is_illegal() -> None:
    """Reconnect replaces existing credentials; disconnected there are none (use connect)."""
    with pytest.raises(TransitionError, match="must be Connected to reconnect"):
        reconnect(Connection(), credentials=OAUTH, platform_user=NEW_ADMIN, account=DIRECT)


# ----------------------------------------------------------------------------- users, clients


def test_change_sync_user_moves_the_schedule_to_the_current_user() -> None:
    """Set to current user: the primary sync runs as the user who pressed the button."""
    state = connected_direct()
    step = change_sync_user(state, current_user="someone.else")
    assert step.state == attrs.evolve(state, sync_user="someone.else")
    assert step.effects == (Effect(EffectKind.SCHEDULE_PRIMARY_SYNC, user="someone.else"),)


def test_change_sync_user_leaves_security_owners() -> None:
    """The security owner is separate from the sync user."""
    step = change_sync_user(connected_direct(), current_user="someone.else")
    assert step.state.client("c-1").security_owner == CRM_ADMIN


def test_select_clients_adds_and_removes_sub_clients() -> None:
    """New sub-clients start syncing owned by the sync user; dropped ones lose configuration."""
    state = record_sync(connected_agency(("c-1", "c-2")), "c-1", at=AT).state
    step = select_clients(state, ["c-1", "c-3"])
    assert step.effects == (
        Effect(EffectKind.ADD_CLIENT, client_id="c-3", user=CRM_ADMIN),
        Effect(EffectKind.REMOVE_CLIENT_CONFIGURATION, client_id="c-2"),
    )
    assert step.state.clients == (
        state.client("c-1"),
        ConnectedClient("c-3", "Acme US", "America/New_York", None, True, CRM_ADMIN),
    )


def test_select_clients_needs_an_agency_account() -> None:
    """A direct account has one client and no Select Clients button."""
    with pytest.raises(
        TransitionError,
        match=r"connected to an agency account to select clients \(got 'Direct'\)",
    ):
        select_clients(connected_direct(), ["c-1"])


def test_select_clients_needs_one_or_more() -> None:
    """Selecting nothing is refused."""
    with pytest.raises(InvalidValueError, match="one or more clients"):
        select_clients(connected_agency(), [])


def test_change_security_owner_of_one_client() -> None:
    """A client's records are created under the chosen owner from now on."""
    state = connected_agency()
    step = change_security_owner(state, "c-2", "records.owner")
    assert step.state.client("c-2").security_owner == "records.owner"
    assert step.state.client("c-1") == state.client("c-1")
    assert step.effects == (
        Effect(EffectKind.ASSIGN_SECURITY_OWNER, client_id="c-2", user="records.owner"),
    )


def test_change_security_owner_of_an_unknown_client() -> None:
    """The error lists the connected clients."""
    with pytest.raises(UnknownChoiceError, match="'client_id' must be one of 'c-1', 'c-2'"):
        change_security_owner(connected_agency(), "c-3", "someone")


def test_record_sync_sets_last_synced_and_active() -> None:
    """The table's "last synced" and "connection active" columns follow the syncs."""
    state = record_connection_lost(connected_direct(), "c-1").state
    assert not state.client("c-1").connection_active
    state = record_sync(state, "c-1", at=AT).state
    assert state.client("c-1").last_synced == AT
    assert state.client("c-1").connection_active


def test_record_sync_refuses_going_back_and_naive_times() -> None:
    """Last synced never moves back, and a naive time is refused."""
    state = record_sync(connected_direct(), "c-1", at=AT).state
    with pytest.raises(InvalidValueError, match="'at' must be at or after the client's last sync"):
        record_sync(state, "c-1", at=datetime(2024, 4, 1, tzinfo=UTC))
    with pytest.raises(NaiveDatetimeError):
        record_sync(state, "c-1", at=datetime(2024, 6, 1))


def test_platform_user_and_users_must_be_names() -> None:
    """Empty or padded user names are refused."""
    with pytest.raises(InvalidValueError, match="'current_user'"):
        change_sync_user(connected_direct(), current_user=" ")
    with pytest.raises(InvalidTypeError, match="'owner'"):
        change_security_owner(connected_direct(), "c-1", None)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- the values


def test_connected_state_must_be_complete() -> None:
    """A Connected value without credentials cannot be built."""
    row = ConnectedClient("c-1", "Acme UK", "Europe/London", security_owner="x")
    with pytest.raises(InvalidValueError, match="'credentials' must be set while connected"):
        Connection(ConnectionStatus.CONNECTED, DIRECT, ADMIN, None, "x", (row,))


def test_disconnected_state_holds_no_credentials() -> None:
    """A Disconnected value with credentials cannot be built, and the error hides them."""
    with pytest.raises(InvalidValueError, match="'credentials' must be None") as caught:
        Connection(credentials=KEY)
    assert SECRET not in str(caught.value)


def test_direct_account_has_exactly_one_client() -> None:
    """A direct account lists one client."""
    with pytest.raises(InvalidValueError, match="exactly one client for a direct account"):
        PlatformAccount("a", "Direct", (LONDON, SYDNEY))


def test_clients_are_listed_once() -> None:
    """Two clients with one id are refused."""
    with pytest.raises(InvalidValueError, match="listed once each"):
        PlatformAccount("a", "Agency", (LONDON, LONDON))


def test_effect_arguments_follow_its_kind() -> None:
    """A per-client effect needs a client id; a general one takes none."""
    with pytest.raises(InvalidValueError, match="'client_id' must be a client id"):
        Effect(EffectKind.REMOVE_CLIENT_CONFIGURATION)
    with pytest.raises(InvalidValueError, match="'user' must be None"):
        Effect(EffectKind.STOP_SYNCING, user="x")


def test_oauth_needs_a_refresh_token_and_api_keys_none() -> None:
    """OAuth credentials carry a refresh token; API key credentials carry none."""
    with pytest.raises(InvalidValueError, match="'refresh_token' must be a refresh token"):
        Credentials(CredentialKind.OAUTH, TOKEN)
    with pytest.raises(InvalidValueError, match="'refresh_token' must be None") as caught:
        Credentials(CredentialKind.API_KEY, SECRET, REFRESH)
    assert REFRESH not in str(caught.value)


# ----------------------------------------------------------------------------- secrets


def test_planted_secrets_are_really_inside() -> None:
    """The secrets are stored (so the checks below could find them if they leaked)."""
    assert KEY.token.reveal() == SECRET
    assert OAUTH.token.reveal() == TOKEN
    assert OAUTH.refresh_token is not None
    assert OAUTH.refresh_token.reveal() == REFRESH


def _shown(value: object) -> list[str]:
    return [repr(value), str(value), f"{value}", f"{value!r}"]


def test_secrets_never_show_in_repr_str_or_asdict() -> None:
    """Credentials, states, steps and asdict output show ``Secret('***')`` instead."""
    state = connect(
        Connection(), credentials=OAUTH, platform_user=ADMIN, account=DIRECT, current_user="me"
    )
    texts = [
        *_shown(KEY),
        *_shown(OAUTH),
        *_shown(KEY.token),
        *_shown(state),
        *_shown(state.state),
        str(attrs.asdict(OAUTH)),
        str(attrs.asdict(state.state)),
        str(attrs.astuple(state.state)),
        repr(copy.deepcopy(state.state)),
    ]
    for text in texts:
        for secret in PLANTED:
            assert secret not in text
    assert "Secret('***')" in repr(OAUTH)


def _message(action: Callable[[], object]) -> str:
    with pytest.raises(CmsfError) as caught:
        action()
    return str(caught.value) + repr(caught.value) + repr(vars(caught.value))


def test_secrets_never_show_in_error_messages() -> None:
    """Every refusal that involves a secret keeps it out of the message and attributes."""
    state = connected_direct()
    messages = [
        _message(lambda: Secret(f" {SECRET}")),
        _message(lambda: Secret(SECRET + "\n")),
        _message(lambda: Secret([SECRET])),  # type: ignore[arg-type]
        _message(lambda: Credentials.api_key(SECRET.encode())),  # type: ignore[arg-type]
        _message(lambda: Credentials(CredentialKind.API_KEY, SECRET, REFRESH)),
        _message(
            lambda: connect(
                Connection(),
                credentials=SECRET,  # type: ignore[arg-type]
                platform_user=ADMIN,
                account=DIRECT,
                current_user="me",
            )
        ),
        _message(
            lambda: connect(
                state, credentials=KEY, platform_user=ADMIN, account=DIRECT, current_user="me"
            )
        ),
        _message(lambda: Connection(credentials=OAUTH)),
    ]
    for message in messages:
        for secret in PLANTED:
            assert secret not in message


def test_secret_type_errors_say_what_arrived_without_showing_it() -> None:
    """The message names the field and the type, and withholds the value."""
    with pytest.raises(InvalidTypeError, match=r"'api_key' must be a secret string \(got bytes"):
        Credentials.api_key(SECRET.encode())  # type: ignore[arg-type]


def test_email_addresses_are_masked_in_reprs() -> None:
    """Platform user names, sync users and owners show masked."""
    step = connect(
        Connection(), credentials=KEY, platform_user=ADMIN, account=DIRECT, current_user=CRM_ADMIN
    )
    text = repr(step) + " ".join(str(effect) for effect in step.effects)
    assert "jane.doe@example.com" not in text
    assert "admin@acme.example" not in text
    assert "j***@example.com" in text
    assert "a***@acme.example" in str(step.effects[1])


# ----------------------------------------------------------------------------- the table


ACTIONS: dict[str, Callable[[Connection], Step]] = {
    "connect direct": lambda s: connect(
        s, credentials=KEY, platform_user=ADMIN, account=DIRECT, current_user=CRM_ADMIN
    ),
    "connect agency": lambda s: connect(
        s,
        credentials=KEY,
        platform_user=ADMIN,
        account=AGENCY,
        current_user=CRM_ADMIN,
        client_ids=["c-2", "c-3"],
    ),
    "connect restricted": lambda s: connect(
        s, credentials=KEY, platform_user=VIEWER, account=DIRECT, current_user=CRM_ADMIN
    ),
    "disconnect": disconnect,
    "reconnect": lambda s: reconnect(
        s,
        credentials=OAUTH,
        platform_user=NEW_ADMIN,
        account=s.account if s.account is not None else DIRECT,
    ),
    "reconnect keeping c-2": lambda s: reconnect(
        s, credentials=OAUTH, platform_user=NEW_ADMIN, account=AGENCY, client_ids=["c-2"]
    ),
    "change sync user": lambda s: change_sync_user(s, current_user="other.user"),
    "select c-1": lambda s: select_clients(s, ["c-1"]),
    "select all": lambda s: select_clients(s, ["c-1", "c-2", "c-3"]),
    "owner of c-1": lambda s: change_security_owner(s, "c-1", "owner.one"),
    "record sync of c-2": lambda s: record_sync(s, "c-2", at=AT),
    "lose c-1": lambda s: record_connection_lost(s, "c-1"),
}
TRANSITION_OF = {
    "connect direct": Transition.CONNECT,
    "connect agency": Transition.CONNECT,
    "connect restricted": Transition.CONNECT,
    "disconnect": Transition.DISCONNECT,
    "reconnect": Transition.RECONNECT,
    "reconnect keeping c-2": Transition.RECONNECT,
    "change sync user": Transition.CHANGE_SYNC_USER,
    "select c-1": Transition.SELECT_CLIENTS,
    "select all": Transition.SELECT_CLIENTS,
    "owner of c-1": Transition.CHANGE_SECURITY_OWNER,
    "record sync of c-2": Transition.RECORD_SYNC,
    "lose c-1": Transition.RECORD_CONNECTION_LOST,
}


def _allowed(state: Connection, transition: Transition) -> bool:
    rule = TRANSITIONS[transition]
    return state.status in rule.sources and (
        state.account is None or state.account.kind in rule.account_kinds
    )


@given(st.lists(st.sampled_from(sorted(ACTIONS)), max_size=15))
def test_every_sequence_follows_the_table(names: list[str]) -> None:
    """Allowed moves reach the table's target with its effects; others raise, change nothing."""
    state = Connection()
    for name in names:
        transition = TRANSITION_OF[name]
        rule = TRANSITIONS[transition]
        before = copy.deepcopy(state)
        try:
            step = ACTIONS[name](state)
        except TransitionError:
            assert not _allowed(state, transition)
            assert state == before
            continue
        except CmsfError:
            assert _allowed(state, transition)  # the state is checked before the arguments
            assert state == before
            continue
        assert _allowed(state, transition)
        assert step.state.status is rule.target
        fixed = len(rule.effects)
        assert kinds(step)[:fixed] == list(rule.effects)
        assert set(kinds(step)[fixed:]) <= set(rule.client_effects)
        assert state == before
        state = step.state


def test_every_transition_has_a_rule() -> None:
    """The table covers every transition."""
    assert set(TRANSITIONS) == set(Transition)
