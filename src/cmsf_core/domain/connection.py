"""The connection to the email platform as a state machine with explicit effects.

Every transition lives in this module and in the table :data:`TRANSITIONS`: from which
states it is allowed, the state it leads to and the effects it always has.  Each
transition function takes the current :class:`Connection` and returns a :class:`Step`
(the new state and a tuple of :class:`Effect` values for the shell to carry out).  No
function mutates anything; an illegal transition or a bad argument raises before
anything is built, so the caller's state is what it was.

- connect: needs a full-access platform user; stores the credentials, makes the
  connecting CRM user the sync user and the security owner of each selected client.
- disconnect: stops syncing, stops active and scheduled jobs, resets user overrides and
  client ownership permissions and discards the credentials.  Nothing on the platform
  changes (no effect ever touches it), and the clients' CRM configuration stays.
- reconnect: replaces only the authentication details (same platform account, a
  full-access user).  A client left out of the selection loses its configuration
  (import wizards, mappings, ...).
- change sync user: the primary sync is rescheduled to run as the current user.
- select clients (agency accounts): one or more sub-clients; a client taken out of the
  selection loses its configuration, as on reconnect.
- change security owner: records of a client are created under that CRM user.
- record sync / record connection lost: keep the clients table's "last synced" and
  "connection active" columns.

Credentials never show their secret: see :class:`Secret`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

import attrs

from cmsf_core.domain.checks import (
    check_bool,
    is_iterable_not_text,
    of_type,
    require_text,
    tuple_of,
)
from cmsf_core.domain.choices import Choice, read_as
from cmsf_core.domain.errors import (
    InvalidTypeError,
    InvalidValueError,
    UnknownChoiceError,
)
from cmsf_core.domain.frozen import FrozenMap
from cmsf_core.domain.masking import mask_emails, masked_repr
from cmsf_core.domain.timeutil import ensure_utc, ensure_utc_or_none

__all__ = [
    "TRANSITIONS",
    "AccountKind",
    "Client",
    "ConnectedClient",
    "Connection",
    "ConnectionStatus",
    "CredentialKind",
    "Credentials",
    "Effect",
    "EffectKind",
    "PlatformAccount",
    "PlatformUser",
    "Secret",
    "Step",
    "Transition",
    "TransitionError",
    "TransitionRule",
    "change_security_owner",
    "change_sync_user",
    "connect",
    "disconnect",
    "reconnect",
    "record_connection_lost",
    "record_sync",
    "select_clients",
]


# ----------------------------------------------------------------------------- secrets


class _Withheld:
    """Stands in an error message for a value that must not be shown."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<withheld>"


_WITHHELD = _Withheld()


def withheld_type_error(field: str, expected: str, value: object) -> InvalidTypeError:
    """A type error for a value that may be a secret: the value itself is never quoted."""
    error = InvalidTypeError(field, expected, _WITHHELD)
    error.args = (f"{field!r} must be {expected} (got {type(value).__name__} <withheld>)",)
    return error


class Secret:
    """A secret string (an API key, a token) that never shows itself.

    ``repr`` is ``Secret('***')``, ``str`` and formatting give ``***``, and errors about a
    bad secret never quote it.  :meth:`reveal` is the one explicit way to read it.
    It is deliberately not an attrs class, so :func:`attrs.asdict` leaves it whole.

    >>> key = Secret("sk-live-123")
    >>> key, str(key), f"{key}", key.reveal()
    (Secret('***'), '***', '***', 'sk-live-123')
    """

    __slots__ = ("__value",)

    def __init__(self, value: str, field: str = "secret") -> None:
        if not isinstance(value, str):
            raise withheld_type_error(field, "a secret string", value)
        if not value or value != value.strip() or not value.isprintable():
            raise InvalidValueError(
                field,
                "a non-empty secret without surrounding spaces or control characters",
                _WITHHELD,
            )
        self.__value = value

    def reveal(self) -> str:
        """The secret itself; call it only where it is sent to the platform."""
        return self.__value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return format("***", spec)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self.__value == other.__value
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Secret, self.__value))


class CredentialKind(enum.Enum):
    """How the integration authenticates to the platform."""

    API_KEY = "API key"
    OAUTH = "OAuth"


def _secret(value: object, field: str) -> Secret:
    if isinstance(value, Secret):
        return value
    return Secret(value, field)  # type: ignore[arg-type]  # Secret refuses what is not a str


def _to_token(value: object) -> Secret:
    return _secret(value, "token")


def _to_refresh_token(value: object) -> Secret | None:
    return None if value is None else _secret(value, "refresh_token")


# A value of the wrong type in a Credentials slot may be a secret given out of place
# (Credentials("sk-live-...", ...)): the errors below never quote it.


def _to_credential_kind(value: object) -> CredentialKind:
    if not isinstance(value, CredentialKind):
        raise withheld_type_error("kind", "a CredentialKind", value)
    return value


def _to_expires_at(value: object) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise withheld_type_error("expires_at", "a timezone-aware datetime", value)
    return ensure_utc_or_none(value, "expires_at")


@attrs.frozen
class Credentials:
    """The platform's authentication details: an API key, or OAuth tokens.

    ``token`` is the API key or the OAuth access token; ``refresh_token`` and
    ``expires_at`` belong to OAuth only.  Secrets are :class:`Secret` values (plain
    strings are wrapped), so ``repr``, ``str`` and :func:`attrs.asdict` never show them.

    >>> credentials = Credentials.api_key("sk-live-123")
    >>> credentials.token, str(credentials), "sk-live" in repr(credentials)
    (Secret('***'), 'API key credentials (secret withheld)', False)
    """

    kind: CredentialKind = attrs.field(converter=_to_credential_kind)
    token: Secret = attrs.field(converter=_to_token)
    refresh_token: Secret | None = attrs.field(default=None, converter=_to_refresh_token)
    expires_at: datetime | None = attrs.field(default=None, converter=_to_expires_at)

    def __attrs_post_init__(self) -> None:
        if self.kind is CredentialKind.API_KEY:
            if self.refresh_token is not None:
                raise InvalidValueError("refresh_token", "None for API key credentials", _WITHHELD)
            if self.expires_at is not None:
                raise InvalidValueError(
                    "expires_at", "None for API key credentials", self.expires_at
                )
        elif self.refresh_token is None:
            raise InvalidValueError("refresh_token", "a refresh token for OAuth credentials", None)

    @classmethod
    def api_key(cls, key: str | Secret) -> Credentials:
        """Credentials made of a platform API key."""
        return cls(CredentialKind.API_KEY, _secret(key, "api_key"))

    @classmethod
    def oauth(
        cls,
        access_token: str | Secret,
        refresh_token: str | Secret,
        *,
        expires_at: datetime | None = None,
    ) -> Credentials:
        """Credentials made of OAuth tokens (``expires_at``, when known, timezone-aware)."""
        return cls(
            CredentialKind.OAUTH,
            _secret(access_token, "access_token"),
            _secret(refresh_token, "refresh_token"),
            expires_at,
        )

    def __str__(self) -> str:
        """What kind of credentials these are, secrets withheld."""
        if self.kind is CredentialKind.API_KEY:
            return "API key credentials (secret withheld)"
        expiry = "" if self.expires_at is None else f", expire {self.expires_at.isoformat()}"
        return f"OAuth credentials (tokens withheld{expiry})"


# ----------------------------------------------------------------------------- values


class ConnectionStatus(enum.Enum):
    """Whether the CRM is connected to the platform."""

    DISCONNECTED = "Disconnected"
    CONNECTED = "Connected"


class AccountKind(Choice):
    """A direct platform account (one client) or an agency account (sub-clients).

    :meth:`parse` reads ``"Direct"`` or ``"Agency"`` in any case.

    >>> AccountKind.parse("agency")
    <AccountKind.AGENCY: 'Agency'>
    """

    DIRECT = "Direct"
    AGENCY = "Agency"


read_as(AccountKind, field="kind", expected="an account kind name")


def _user_text(field: str, *, optional: bool = False) -> Any:
    def check(_inst: object, _attr: object, value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise InvalidTypeError(
                field, "a user name or id" + (" or None" if optional else ""), value
            )
        if not value.strip() or value != value.strip():
            raise InvalidValueError(
                field, "a user name or id without surrounding spaces", mask_emails(value)
            )

    return check


@attrs.frozen
class PlatformUser:
    """The platform user whose details connect the CRM (a full-access user is required)."""

    name: str = attrs.field(validator=_user_text("platform_user.name"), repr=masked_repr)
    full_access: bool = attrs.field(validator=check_bool)


@attrs.frozen
class Client:
    """A platform client as the platform lists it: id, name and time zone.

    ``time_zone`` is the client's zone as the platform gives it (an IANA name or the
    platform's own label); it is kept, not interpreted.
    """

    client_id: str = attrs.field(validator=require_text("client_id"))
    name: str = attrs.field(validator=require_text("name"))
    time_zone: str = attrs.field(validator=require_text("time_zone"))


def _to_clients(value: object) -> tuple[Client, ...]:
    clients = tuple_of(value, Client, "clients", "Client values", collection=is_iterable_not_text)
    _check_unique(c.client_id for c in clients)
    return clients


def _check_unique(ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for client_id in ids:
        if client_id in seen:
            raise InvalidValueError("clients", "listed once each", client_id)
        seen.add(client_id)


def _to_account_kind(value: object) -> AccountKind:
    return AccountKind.parse(value)


@attrs.frozen
class PlatformAccount:
    """The platform account being connected, and the clients it offers.

    A direct account has exactly one client; an agency account one or more.
    """

    account_id: str = attrs.field(validator=require_text("account_id"))
    kind: AccountKind = attrs.field(converter=_to_account_kind)
    clients: tuple[Client, ...] = attrs.field(converter=_to_clients)

    def __attrs_post_init__(self) -> None:
        if not self.clients:
            raise InvalidValueError("clients", "one or more clients", ())
        if self.kind is AccountKind.DIRECT and len(self.clients) != 1:
            raise InvalidValueError(
                "clients",
                "exactly one client for a direct account",
                tuple(c.client_id for c in self.clients),
            )

    def client(self, client_id: str) -> Client | None:
        """The client with this id, or ``None``."""
        return next((c for c in self.clients if c.client_id == client_id), None)


def _to_last_synced(value: object) -> datetime | None:
    return ensure_utc_or_none(value, "last_synced")


@attrs.frozen
class ConnectedClient:
    """A row of the clients table: a selected client and how its sync stands.

    ``last_synced`` is when its last sync finished (``None``: never), ``connection_active``
    whether the platform still answers for it, ``security_owner`` the CRM user that owns
    the records created for it (``None`` while disconnected).
    """

    client_id: str = attrs.field(validator=require_text("client_id"))
    name: str = attrs.field(validator=require_text("name"))
    time_zone: str = attrs.field(validator=require_text("time_zone"))
    last_synced: datetime | None = attrs.field(default=None, converter=_to_last_synced)
    connection_active: bool = attrs.field(default=True, validator=check_bool)
    security_owner: str | None = attrs.field(
        default=None, validator=_user_text("security_owner", optional=True), repr=masked_repr
    )


def _to_rows(value: object) -> tuple[ConnectedClient, ...]:
    rows = tuple_of(
        value, ConnectedClient, "clients", "ConnectedClient values", collection=is_iterable_not_text
    )
    _check_unique(r.client_id for r in rows)
    return rows


def _optional(cls: type, expected: str) -> Any:
    def check(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, cls):
            raise InvalidTypeError(attribute.name, expected, value)

    return check


def _check_credentials(_inst: object, _attr: object, value: Any) -> None:
    if value is not None and not isinstance(value, Credentials):
        # A plain string here is most likely the secret itself: never quote it.
        raise withheld_type_error("credentials", "Credentials or None", value)


def _to_status(value: object) -> ConnectionStatus:
    return of_type(value, ConnectionStatus, "status", "a ConnectionStatus")


@attrs.frozen
class Connection:
    """Where the connection stands: status, account, user, credentials and clients table.

    Connected: the account, platform user, credentials and sync user are set, one or
    more clients are selected (all of them clients of the account) and each has a
    security owner.  Disconnected: none of those is set; the clients table keeps the
    clients last connected, inactive and without security owner, because their CRM
    configuration stays until a new selection leaves them out.

    >>> Connection().status
    <ConnectionStatus.DISCONNECTED: 'Disconnected'>
    """

    status: ConnectionStatus = attrs.field(
        default=ConnectionStatus.DISCONNECTED, converter=_to_status
    )
    account: PlatformAccount | None = attrs.field(
        default=None, validator=_optional(PlatformAccount, "a PlatformAccount or None")
    )
    platform_user: PlatformUser | None = attrs.field(
        default=None, validator=_optional(PlatformUser, "a PlatformUser or None")
    )
    credentials: Credentials | None = attrs.field(default=None, validator=_check_credentials)
    sync_user: str | None = attrs.field(
        default=None, validator=_user_text("sync_user", optional=True), repr=masked_repr
    )
    clients: tuple[ConnectedClient, ...] = attrs.field(default=(), converter=_to_rows)

    def __attrs_post_init__(self) -> None:
        if self.status is ConnectionStatus.CONNECTED:
            for name in ("platform_user", "credentials", "sync_user"):
                if getattr(self, name) is None:
                    raise InvalidValueError(name, "set while connected", None)
            if self.account is None:
                raise InvalidValueError("account", "set while connected", None)
            if not self.clients:
                raise InvalidValueError("clients", "one or more clients while connected", ())
            for row in self.clients:
                if self.account.client(row.client_id) is None:
                    raise InvalidValueError(
                        "clients", "clients of the connected account", row.client_id
                    )
                if row.security_owner is None:
                    raise InvalidValueError(
                        f"clients[{row.client_id}].security_owner", "set while connected", None
                    )
        else:
            for name in ("account", "platform_user", "credentials", "sync_user"):
                if getattr(self, name) is not None:
                    raise InvalidValueError(name, "None while disconnected", _WITHHELD)
            for row in self.clients:
                if row.connection_active or row.security_owner is not None:
                    raise InvalidValueError(
                        f"clients[{row.client_id}]",
                        "inactive and without security owner while disconnected",
                        row,
                    )

    @property
    def is_connected(self) -> bool:
        """Whether the status is Connected."""
        return self.status is ConnectionStatus.CONNECTED

    @property
    def client_ids(self) -> tuple[str, ...]:
        """The ids of the clients table's rows, in order."""
        return tuple(row.client_id for row in self.clients)

    def client(self, client_id: str) -> ConnectedClient:
        """The clients table's row for ``client_id``; an error names the known ids."""
        for row in self.clients:
            if row.client_id == client_id:
                return row
        raise UnknownChoiceError("client_id", self.client_ids, client_id)


# ----------------------------------------------------------------------------- effects


class EffectKind(enum.Enum):
    """What the shell must do after a transition (all of it in the CRM; none on the platform)."""

    STORE_CREDENTIALS = "Store the platform credentials"
    REPLACE_CREDENTIALS = "Replace the stored credentials (and nothing else)"
    DISCARD_CREDENTIALS = "Discard the stored credentials"
    SCHEDULE_PRIMARY_SYNC = "Schedule the primary sync to run as the sync user"
    STOP_SYNCING = "Stop records syncing between the CRM and the platform"
    STOP_ACTIVE_JOBS = "Stop any active jobs of the integration"
    STOP_SCHEDULED_JOBS = "Stop any scheduled jobs of the integration"
    RESET_USER_OVERRIDES = "Reset the integration's user overrides"
    RESET_CLIENT_OWNERSHIP_PERMISSIONS = "Reset client ownership permissions"
    ADD_CLIENT = "Start syncing a client, its records owned by the given user"
    REMOVE_CLIENT_CONFIGURATION = "Remove a client's configuration (import wizards, mappings)"
    ASSIGN_SECURITY_OWNER = "Create a client's records under the given owner from now on"


#: For each effect kind: (needs a client id, needs a user).
_EFFECT_ARGUMENTS: dict[EffectKind, tuple[bool, bool]] = {
    EffectKind.STORE_CREDENTIALS: (False, False),
    EffectKind.REPLACE_CREDENTIALS: (False, False),
    EffectKind.DISCARD_CREDENTIALS: (False, False),
    EffectKind.SCHEDULE_PRIMARY_SYNC: (False, True),
    EffectKind.STOP_SYNCING: (False, False),
    EffectKind.STOP_ACTIVE_JOBS: (False, False),
    EffectKind.STOP_SCHEDULED_JOBS: (False, False),
    EffectKind.RESET_USER_OVERRIDES: (False, False),
    EffectKind.RESET_CLIENT_OWNERSHIP_PERMISSIONS: (False, False),
    EffectKind.ADD_CLIENT: (True, True),
    EffectKind.REMOVE_CLIENT_CONFIGURATION: (True, False),
    EffectKind.ASSIGN_SECURITY_OWNER: (True, True),
}


def _to_effect_kind(value: object) -> EffectKind:
    return of_type(value, EffectKind, "kind", "an EffectKind")


@attrs.frozen
class Effect:
    """One thing for the shell to do; ``client_id`` and ``user`` where the kind needs them.

    >>> print(Effect(EffectKind.REMOVE_CLIENT_CONFIGURATION, client_id="c-2"))
    Remove a client's configuration (import wizards, mappings): client c-2
    """

    kind: EffectKind = attrs.field(converter=_to_effect_kind)
    client_id: str | None = attrs.field(
        default=None, validator=require_text("client_id", optional=True)
    )
    user: str | None = attrs.field(
        default=None, validator=_user_text("user", optional=True), repr=masked_repr
    )

    def __attrs_post_init__(self) -> None:
        needs_client, needs_user = _EFFECT_ARGUMENTS[self.kind]
        if needs_client != (self.client_id is not None):
            expected = "a client id" if needs_client else "None"
            raise InvalidValueError("client_id", f"{expected} for {self.kind.name}", self.client_id)
        if needs_user != (self.user is not None):
            expected = "a user" if needs_user else "None"
            raise InvalidValueError("user", f"{expected} for {self.kind.name}", self.user)

    def __str__(self) -> str:
        """The effect in words, user masked."""
        parts = []
        if self.client_id is not None:
            parts.append(f"client {self.client_id}")
        if self.user is not None:
            parts.append(f"user {mask_emails(self.user)}")
        return self.kind.value + (": " + ", ".join(parts) if parts else "")


class Step(NamedTuple):
    """The outcome of a transition: the new state and the effects to carry out, in order."""

    state: Connection
    effects: tuple[Effect, ...]


# ----------------------------------------------------------------------------- the table


class Transition(enum.Enum):
    """The transitions of the connection."""

    CONNECT = "connect"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    CHANGE_SYNC_USER = "change the sync user"
    SELECT_CLIENTS = "select clients"
    CHANGE_SECURITY_OWNER = "change a security owner"
    RECORD_SYNC = "record a client's sync"
    RECORD_CONNECTION_LOST = "record a client's lost connection"


@attrs.frozen
class TransitionRule:
    """One row of :data:`TRANSITIONS`.

    ``effects`` are emitted by every such transition, in this order; ``client_effects``
    are the kinds it may then emit once per client concerned.
    """

    sources: frozenset[ConnectionStatus]
    target: ConnectionStatus
    effects: tuple[EffectKind, ...]
    client_effects: tuple[EffectKind, ...]
    account_kinds: frozenset[AccountKind] = frozenset(AccountKind)
    meaning: str = ""


_DISCONNECTED = frozenset({ConnectionStatus.DISCONNECTED})
_CONNECTED = frozenset({ConnectionStatus.CONNECTED})

#: Every transition of the connection: allowed sources, target, and effects.
TRANSITIONS: FrozenMap[Transition, TransitionRule] = FrozenMap(
    {
        Transition.CONNECT: TransitionRule(
            _DISCONNECTED,
            ConnectionStatus.CONNECTED,
            (EffectKind.STORE_CREDENTIALS, EffectKind.SCHEDULE_PRIMARY_SYNC),
            (EffectKind.ADD_CLIENT, EffectKind.REMOVE_CLIENT_CONFIGURATION),
            meaning="Connect with a full-access platform user; the connecting CRM user "
            "becomes the sync user and each selected client's security owner.",
        ),
        Transition.DISCONNECT: TransitionRule(
            _CONNECTED,
            ConnectionStatus.DISCONNECTED,
            (
                EffectKind.STOP_SYNCING,
                EffectKind.STOP_ACTIVE_JOBS,
                EffectKind.STOP_SCHEDULED_JOBS,
                EffectKind.RESET_USER_OVERRIDES,
                EffectKind.RESET_CLIENT_OWNERSHIP_PERMISSIONS,
                EffectKind.DISCARD_CREDENTIALS,
            ),
            (),
            meaning="Disconnect; data on the platform is unchanged.",
        ),
        Transition.RECONNECT: TransitionRule(
            _CONNECTED,
            ConnectionStatus.CONNECTED,
            (EffectKind.REPLACE_CREDENTIALS,),
            (EffectKind.ADD_CLIENT, EffectKind.REMOVE_CLIENT_CONFIGURATION),
            meaning="Replace the authentication details (same account, full-access user); "
            "clients left out of the selection lose their configuration.",
        ),
        Transition.CHANGE_SYNC_USER: TransitionRule(
            _CONNECTED,
            ConnectionStatus.CONNECTED,
            (EffectKind.SCHEDULE_PRIMARY_SYNC,),
            (),
            meaning="Move the primary sync to the current CRM user.",
        ),
        Transition.SELECT_CLIENTS: TransitionRule(
            _CONNECTED,
            ConnectionStatus.CONNECTED,
            (),
            (EffectKind.ADD_CLIENT, EffectKind.REMOVE_CLIENT_CONFIGURATION),
            account_kinds=frozenset({AccountKind.AGENCY}),
            meaning="Choose the agency's sub-clients to sync; clients taken out of the "
            "selection lose their configuration.",
        ),
        Transition.CHANGE_SECURITY_OWNER: TransitionRule(
            _CONNECTED,
            ConnectionStatus.CONNECTED,
            (),
            (EffectKind.ASSIGN_SECURITY_OWNER,),
            meaning="Create a client's records under another CRM user from now on.",
        ),
        Transition.RECORD_SYNC: TransitionRule(
            _CONNECTED,
            ConnectionStatus.CONNECTED,
            (),
            (),
            meaning="A client's sync finished: last synced, connection active.",
        ),
        Transition.RECORD_CONNECTION_LOST: TransitionRule(
            _CONNECTED,
            ConnectionStatus.CONNECTED,
            (),
            (),
            meaning="The platform no longer answers for a client: connection inactive.",
        ),
    }
)


class TransitionError(InvalidValueError):
    """A transition that is not allowed from the current state; nothing was changed.

    It is a ``ValueError`` (and a :class:`~cmsf_core.domain.errors.CmsfError`).
    """

    def __init__(self, transition: Transition, expected: str, got: object) -> None:
        self.transition = transition
        super().__init__("connection", f"{expected} to {transition.value}", got)


def _begin(state: object, transition: Transition) -> tuple[Connection, TransitionRule]:
    if not isinstance(state, Connection):
        raise InvalidTypeError("state", "a Connection", state)
    rule = TRANSITIONS[transition]
    if state.status not in rule.sources:
        allowed = " or ".join(sorted(s.value for s in rule.sources))
        raise TransitionError(transition, allowed, state.status.value)
    if state.account is not None and state.account.kind not in rule.account_kinds:
        allowed = " or ".join(sorted(k.value for k in rule.account_kinds))
        raise TransitionError(
            transition, f"connected to an {allowed.lower()} account", state.account.kind.value
        )
    return state, rule


def _finish(
    rule: TransitionRule,
    state: Connection,
    client_effects: Iterable[Effect] = (),
) -> Step:
    fixed = tuple(
        Effect(kind, user=state.sync_user if _EFFECT_ARGUMENTS[kind][1] else None)
        for kind in rule.effects
    )
    return Step(state, fixed + tuple(client_effects))


# ----------------------------------------------------------------------------- arguments


def _check_user(value: object, field: str) -> str:
    _user_text(field)(None, None, value)
    return str(value)


def _account_and_user(state: Connection) -> tuple[PlatformAccount, str]:
    """The account and sync user of a connected state (its invariant guarantees both)."""
    if state.account is None or state.sync_user is None:  # pragma: no cover - invariant
        raise InvalidValueError("connection", "connected", state.status.value)
    return state.account, state.sync_user


def _check_types(credentials: object, platform_user: object, account: object) -> None:
    if not isinstance(credentials, Credentials):
        raise withheld_type_error("credentials", "Credentials", credentials)
    user = of_type(platform_user, PlatformUser, "platform_user", "a PlatformUser")
    of_type(account, PlatformAccount, "account", "a PlatformAccount")
    if not user.full_access:
        raise InvalidValueError(
            "platform_user",
            "a full-access platform user",
            mask_emails(user.name),
            detail="set up a user with full access in the platform account and use its details",
        )


def _selection(
    account: PlatformAccount, client_ids: object, default: tuple[str, ...] | None
) -> tuple[Client, ...]:
    """The selected clients in the account's order; ``default`` when none are given."""
    if client_ids is None:
        if account.kind is AccountKind.DIRECT:
            return account.clients
        if default is None:
            raise InvalidValueError(
                "client_ids",
                "one or more clients of the agency account",
                None,
                detail="choose from " + ", ".join(c.client_id for c in account.clients),
            )
        wanted = [i for i in default if account.client(i) is not None]
    else:
        if isinstance(client_ids, str) or not isinstance(client_ids, Iterable):
            raise InvalidTypeError("client_ids", "a collection of client ids", client_ids)
        wanted = list(client_ids)
    known = tuple(c.client_id for c in account.clients)
    seen: set[str] = set()
    for client_id in wanted:
        if not isinstance(client_id, str):
            raise InvalidTypeError("client_ids", "client ids (str)", client_id)
        if client_id not in known:
            raise UnknownChoiceError("client_ids", known, client_id)
        if client_id in seen:
            raise InvalidValueError("client_ids", "each client once", client_id)
        seen.add(client_id)
    if not seen:
        raise InvalidValueError("client_ids", "one or more clients", tuple(wanted))
    return tuple(c for c in account.clients if c.client_id in seen)


class _Rows(enum.Enum):
    """How a new selection treats clients already in the table."""

    READD = "connect: every selected client starts again"
    REFRESH = "reconnect: kept clients take the account's name and time zone, active"
    KEEP = "select clients: kept clients stay as they are"


def _new_rows(
    selected: tuple[Client, ...],
    previous: tuple[ConnectedClient, ...],
    owner: str,
    how: _Rows,
) -> tuple[tuple[ConnectedClient, ...], list[Effect]]:
    """The clients table for a new selection, and the per-client effects it needs."""
    before = {row.client_id: row for row in previous}
    chosen = {client.client_id for client in selected}
    rows = []
    effects = []
    for client in selected:
        row = before.get(client.client_id)
        if row is None or how is _Rows.READD:
            row = ConnectedClient(
                client.client_id,
                client.name,
                client.time_zone,
                last_synced=None if row is None else row.last_synced,
                connection_active=True,
                security_owner=owner,
            )
            effects.append(Effect(EffectKind.ADD_CLIENT, client_id=client.client_id, user=owner))
        elif how is _Rows.REFRESH:
            row = attrs.evolve(
                row, name=client.name, time_zone=client.time_zone, connection_active=True
            )
        rows.append(row)
    effects.extend(
        Effect(EffectKind.REMOVE_CLIENT_CONFIGURATION, client_id=row.client_id)
        for row in previous
        if row.client_id not in chosen
    )
    return tuple(rows), effects


# ----------------------------------------------------------------------------- transitions


def connect(
    state: Connection,
    *,
    credentials: Credentials,
    platform_user: PlatformUser,
    account: PlatformAccount,
    current_user: str,
    client_ids: Iterable[str] | None = None,
) -> Step:
    """Connect as ``platform_user`` (full access required) with ``credentials``.

    ``current_user`` (the CRM user connecting) becomes the sync user and the security
    owner of every selected client.  A direct account's one client is selected; an
    agency account needs ``client_ids`` (one or more of its clients).  Clients still in
    the table from an earlier connection but not selected lose their configuration.
    Allowed only while disconnected.
    """
    state, rule = _begin(state, Transition.CONNECT)
    _check_types(credentials, platform_user, account)
    user = _check_user(current_user, "current_user")
    selected = _selection(account, client_ids, None)
    rows, effects = _new_rows(selected, state.clients, user, _Rows.READD)
    new = Connection(ConnectionStatus.CONNECTED, account, platform_user, credentials, user, rows)
    return _finish(rule, new, effects)


def disconnect(state: Connection) -> Step:
    """Disconnect: stop syncing and every job, reset overrides and ownership permissions.

    The clients table keeps its rows (their configuration stays), inactive and without
    security owner.  Nothing on the platform changes.  Allowed only while connected.
    """
    state, rule = _begin(state, Transition.DISCONNECT)
    rows = tuple(
        attrs.evolve(row, connection_active=False, security_owner=None) for row in state.clients
    )
    return _finish(rule, Connection(clients=rows))


def reconnect(
    state: Connection,
    *,
    credentials: Credentials,
    platform_user: PlatformUser,
    account: PlatformAccount,
    client_ids: Iterable[str] | None = None,
) -> Step:
    """Replace the authentication details only: the same account, a new full-access user.

    The sync user, security owners and last-synced times stay.  Without ``client_ids``
    the clients selected before stay selected (those the account still offers); a client
    left out of the selection loses its configuration (import wizards, mappings, ...).
    Allowed only while connected.
    """
    state, rule = _begin(state, Transition.RECONNECT)
    _check_types(credentials, platform_user, account)
    connected, sync_user = _account_and_user(state)
    if account.account_id != connected.account_id:
        raise InvalidValueError(
            "account",
            f"the account originally connected ({connected.account_id!r})",
            account.account_id,
            detail="add the new full-access user to the same platform account",
        )
    selected = _selection(account, client_ids, state.client_ids)
    rows, effects = _new_rows(selected, state.clients, sync_user, _Rows.REFRESH)
    new = attrs.evolve(
        state, account=account, platform_user=platform_user, credentials=credentials, clients=rows
    )
    return _finish(rule, new, effects)


def change_sync_user(state: Connection, *, current_user: str) -> Step:
    """Make ``current_user`` (the CRM user pressing the button) the sync user.

    The primary sync is rescheduled to run as that user; security owners stay as they
    are.  Allowed only while connected.
    """
    state, rule = _begin(state, Transition.CHANGE_SYNC_USER)
    user = _check_user(current_user, "current_user")
    return _finish(rule, attrs.evolve(state, sync_user=user))


def select_clients(state: Connection, client_ids: Iterable[str]) -> Step:
    """Choose which clients of an agency account are synced (one or more).

    A newly selected client is owned by the sync user; a client taken out of the
    selection loses its configuration.  Allowed only while connected to an agency account.
    """
    state, rule = _begin(state, Transition.SELECT_CLIENTS)
    account, sync_user = _account_and_user(state)
    if client_ids is None:
        raise InvalidTypeError("client_ids", "a collection of client ids", client_ids)
    selected = _selection(account, client_ids, None)
    rows, effects = _new_rows(selected, state.clients, sync_user, _Rows.KEEP)
    return _finish(rule, attrs.evolve(state, clients=rows), effects)


def change_security_owner(state: Connection, client_id: str, owner: str) -> Step:
    """Create the records of ``client_id`` under the CRM user ``owner`` from now on.

    Records created before keep their owner.  Allowed only while connected.
    """
    state, rule = _begin(state, Transition.CHANGE_SECURITY_OWNER)
    row = state.client(client_id)
    owner = _check_user(owner, "owner")
    rows = tuple(attrs.evolve(r, security_owner=owner) if r is row else r for r in state.clients)
    effect = Effect(EffectKind.ASSIGN_SECURITY_OWNER, client_id=row.client_id, user=owner)
    return _finish(rule, attrs.evolve(state, clients=rows), (effect,))


def record_sync(state: Connection, client_id: str, *, at: datetime) -> Step:
    """A sync of ``client_id`` finished at ``at``: last synced, connection active.

    ``at`` must be timezone-aware and not before the client's last sync.
    """
    state, rule = _begin(state, Transition.RECORD_SYNC)
    row = state.client(client_id)
    finished = ensure_utc(at, "at")
    if row.last_synced is not None and finished < row.last_synced:
        raise InvalidValueError(
            "at", f"at or after the client's last sync ({row.last_synced.isoformat()})", finished
        )
    new_row = attrs.evolve(row, last_synced=finished, connection_active=True)
    rows = tuple(new_row if r is row else r for r in state.clients)
    return _finish(rule, attrs.evolve(state, clients=rows))


def record_connection_lost(state: Connection, client_id: str) -> Step:
    """The platform no longer answers for ``client_id``: its connection is inactive."""
    state, rule = _begin(state, Transition.RECORD_CONNECTION_LOST)
    row = state.client(client_id)
    rows = tuple(attrs.evolve(r, connection_active=False) if r is row else r for r in state.clients)
    return _finish(rule, attrs.evolve(state, clients=rows))
