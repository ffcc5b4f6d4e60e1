"""Ready-made property suites: run them against your own code, in your own tests.

- :func:`check_refresh_function`: your member refresh agrees with
  :func:`~cmsf_core.domain.status.refresh_member` on every generated member, stored
  records, settings, cause and default status;
- :func:`check_retention_function`: your purge keeps exactly the records
  :func:`~cmsf_core.domain.retention.apply_retention` keeps, cutoffs included;
- :func:`check_crm_store` and :func:`check_email_platform`: the port contracts of
  :mod:`cmsf_core.testing`, run in one call against your adapter;
  :func:`crm_store_contract` and :func:`email_platform_contract` give the same contracts
  as pytest test classes, to collect under a ``Test...`` name.

Each ``check_*`` runs Hypothesis (the ``[hypothesis]`` extra) and pytest for the contracts.
Call them from a plain test function, not from inside a ``@given`` test.
``max_examples`` (or ``property_examples`` for the contracts) caps the number of examples;
``None`` leaves it to the active Hypothesis profile.  ``seed`` makes a check deterministic:
the same examples, in the same order, on every run and machine (no example database
either), which is what a documented example or a release gate needs; without it the
active profile decides, and a random profile explores new cases on each run.  A disagreement raises
``AssertionError`` naming the rule concerned, on the smallest example Hypothesis found.

>>> from cmsf_core import refresh_member
>>> check_refresh_function(refresh_member, max_examples=25)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import attrs

from cmsf_core.domain.activity import Activity
from cmsf_core.domain.member import CampaignMember
from cmsf_core.domain.retention import Retention, apply_retention, retention_cutoffs
from cmsf_core.domain.settings import RefreshMode, Settings, StatusPolicy
from cmsf_core.domain.status import STATUS_RULES, RefreshCause, candidate, refresh_member
from cmsf_core.testing.crm_contract import CrmStoreContract
from cmsf_core.testing.platform_contract import EmailPlatformContract
from cmsf_core.testing.seed import PlatformSeed

if TYPE_CHECKING:
    from hypothesis.strategies import DrawFn

    from cmsf_core.ports.crm import CrmStore
    from cmsf_core.ports.platform import EmailPlatform

__all__ = [
    "ContractRun",
    "RefreshFunction",
    "RetentionFunction",
    "check_crm_store",
    "check_email_platform",
    "check_refresh_function",
    "check_retention_function",
    "crm_store_contract",
    "email_platform_contract",
]


class RefreshFunction(Protocol):
    """The shape of :func:`~cmsf_core.domain.status.refresh_member`: the member after a
    refresh, given every record stored for it now (the parameter names are yours)."""

    def __call__(
        self,
        member: CampaignMember,
        stored: Iterable[Activity],
        settings: Settings,
        /,
        *,
        cause: RefreshCause,
        default_status: str | None,
    ) -> CampaignMember: ...


class RetentionFunction(Protocol):
    """A retention purge: the records kept at ``as_of`` (or a
    :class:`~cmsf_core.domain.retention.Retention`, as
    :func:`~cmsf_core.domain.retention.apply_retention` returns)."""

    def __call__(
        self, records: Sequence[Activity], settings: Settings, /, *, as_of: datetime
    ) -> Iterable[Activity] | Retention: ...


def _run(test: Callable[..., None], max_examples: int | None, seed: int | None) -> None:
    """Run a ``@given`` test with our options on top of the active profile.

    The explain phase is left out: the message already says what differs, and that
    phase re-runs the test hundreds of times after a failure.  A ``seed`` fixes the
    examples drawn and turns the example database off, so that nothing saved by an
    earlier run changes what this one sees.
    """
    from hypothesis import Phase, settings  # noqa: PLC0415 - the [hypothesis] extra
    from hypothesis import seed as fix_seed  # noqa: PLC0415

    phases = tuple(p for p in settings().phases if p is not Phase.explain)
    options: dict[str, Any] = {"deadline": None, "report_multiple_bugs": False, "phases": phases}
    if max_examples is not None:
        options["max_examples"] = max_examples
    if seed is not None:
        options["database"] = None
        options["derandomize"] = False
        test = fix_seed(seed)(test)
    settings(**options)(test)()


# ----------------------------------------------------------------------------- refresh

_MEMBER_FIELDS = ("status", "activity", "activity_date", "engagement")


def _when(at: datetime | None) -> str:
    return "-" if at is None else f"{at:%Y-%m-%d %H:%M:%S} UTC"


def _refresh_disagreement(
    got: object,
    expected: CampaignMember,
    before: CampaignMember,
    stored: Sequence[Activity],
    settings: Settings,
    cause: RefreshCause,
) -> str:
    action = STATUS_RULES[(settings.refresh_mode, cause)]
    article = "an" if cause is RefreshCause.IMPORT else "a"
    lines = [
        "your refresh function disagrees with cmsf_core.refresh_member under "
        f"{settings.refresh_mode.value!r} after {article} {cause.value} "
        f"(rule: {action.value}; policy {settings.status_policy.value!r}):"
    ]
    if not isinstance(got, CampaignMember):
        lines.append(f"  it returned {got!r}, not a CampaignMember")
    else:
        differ = [name for name in _MEMBER_FIELDS if getattr(got, name) != getattr(expected, name)]
        lines += [
            f"  {name}: {getattr(got, name)!r} (yours) != {getattr(expected, name)!r} (ours)"
            for name in differ or ("member",)
            if name != "member"
        ] or [f"  {got!r} (yours) != {expected!r} (ours)"]
    activity = before.activity.value if before.activity else "-"
    lines.append(
        f"  member before: status {before.status!r}, activity {activity} at "
        f"{_when(before.activity_date)}"
    )
    found = candidate(stored, settings)
    shown = ", ".join(f"{r.type.value} at {_when(r.occurred_at)}" for r in stored) or "none"
    lines.append(f"  stored records: {shown}")
    if found is not None:
        label = settings.status_mapping.label(found.type)
        lines.append(
            f"  candidate: {found.type.value} at {_when(found.occurred_at)} (status {label!r})"
        )
    return "\n".join(lines)


def check_refresh_function(
    fn: RefreshFunction,
    *,
    max_examples: int | None = None,
    seed: int | None = None,
    refresh_modes: Sequence[RefreshMode] = tuple(RefreshMode),
    causes: Sequence[RefreshCause] = tuple(RefreshCause),
    policies: Sequence[StatusPolicy] = tuple(StatusPolicy),
) -> None:
    """Check that ``fn`` refreshes members exactly as
    :func:`~cmsf_core.domain.status.refresh_member` does.

    ``fn`` is called as ``fn(member, stored, settings, cause=..., default_status=...)``
    on members fresh, set by hand or set by the integration; records at a few shared
    instants (ties, same-minute twins, an Activity Date equal to a record's time);
    settings varying in what the tracking rules consult
    (:func:`~cmsf_core.testing.strategies.tracking_settings`, narrowed by ``refresh_modes`` and
    ``policies``); both causes (or ``causes``); a default status or none.  Status,
    activity, Activity Date and rollups must all agree.  Raises ``AssertionError`` on the
    simplest disagreement, saying which rule of :data:`~cmsf_core.domain.status.STATUS_RULES`
    applied, the member before and the records.
    """
    from hypothesis import given  # noqa: PLC0415 - see _run
    from hypothesis import strategies as st  # noqa: PLC0415

    from cmsf_core.testing import strategies  # noqa: PLC0415 - imports Hypothesis

    @given(
        strategies.member_histories(),
        strategies.tracking_settings(refresh_modes=refresh_modes, policies=policies),
        st.sampled_from(tuple(causes)),
        strategies.default_statuses(),
    )
    def agrees(
        history: tuple[CampaignMember, tuple[Activity, ...]],
        settings: Settings,
        cause: RefreshCause,
        default_status: str | None,
    ) -> None:
        member, stored = history
        expected = refresh_member(
            member, stored, settings, cause=cause, default_status=default_status
        )
        got = fn(member, stored, settings, cause=cause, default_status=default_status)
        if got != expected:
            raise AssertionError(
                _refresh_disagreement(got, expected, member, stored, settings, cause)
            )

    _run(agrees, max_examples, seed)


# ----------------------------------------------------------------------------- retention


def _kept(result: Iterable[Activity] | Retention) -> Counter[Activity]:
    return Counter(result.kept if isinstance(result, Retention) else result)


def _retention_disagreement(
    got: Counter[Activity], expected: Counter[Activity], settings: Settings, as_of: datetime
) -> str:
    cutoffs = retention_cutoffs(settings, as_of=as_of)
    lines = [
        "your retention function disagrees with cmsf_core.apply_retention at "
        f"{as_of.isoformat()} (a record is purged when it occurred strictly before its "
        "type's cutoff, as_of minus its days kept of 24 hours; 0 days keeps nothing):"
    ]
    for record in sorted((got - expected).elements(), key=lambda r: r.key):
        lines.append(
            f"  kept by yours, purged by ours: {record.type.value} at "
            f"{record.occurred_at.isoformat()} (cutoff {cutoffs[record.type].isoformat()})"
        )
    for record in sorted((expected - got).elements(), key=lambda r: r.key):
        lines.append(
            f"  purged by yours, kept by ours: {record.type.value} at "
            f"{record.occurred_at.isoformat()} (cutoff {cutoffs[record.type].isoformat()})"
        )
    return "\n".join(lines)


def check_retention_function(
    fn: RetentionFunction, *, max_examples: int | None = None, seed: int | None = None
) -> None:
    """Check that ``fn`` keeps exactly the records
    :func:`~cmsf_core.domain.retention.apply_retention` keeps.

    ``fn`` is called as ``fn(records, settings, as_of=...)`` and returns the kept records
    (or a :class:`~cmsf_core.domain.retention.Retention`).  ``as_of`` is a record's own
    time plus 0 to 3 whole days, and the days kept are 0 to 3 or 180 (per type too), so
    records exactly at a cutoff are common.  Raises ``AssertionError`` on the simplest
    disagreement, listing the records kept or purged wrongly with their cutoffs.
    """
    from hypothesis import given  # noqa: PLC0415 - see _run
    from hypothesis import strategies as st  # noqa: PLC0415

    from cmsf_core.testing import strategies  # noqa: PLC0415 - imports Hypothesis

    records = strategies.stored_records(max_size=10)
    index = st.integers(min_value=0, max_value=64)
    whole_days = st.integers(min_value=0, max_value=3)
    tuned = strategies.tracking_settings(days_to_keep=st.sampled_from((0, 1, 2, 3, 180)))

    @st.composite
    def cases(draw: DrawFn) -> tuple[tuple[Activity, ...], Settings, datetime]:
        drawn = draw(records)
        instants = sorted({r.occurred_at for r in drawn}) or [datetime(2024, 1, 1, tzinfo=UTC)]
        as_of = instants[draw(index) % len(instants)] + timedelta(days=draw(whole_days))
        return drawn, draw(tuned), as_of

    @given(cases())
    def agrees(case: tuple[tuple[Activity, ...], Settings, datetime]) -> None:
        stored, settings, as_of = case
        expected = _kept(apply_retention(stored, settings, as_of=as_of))
        got = _kept(fn(stored, settings, as_of=as_of))
        if got != expected:
            raise AssertionError(_retention_disagreement(got, expected, settings, as_of))

    _run(agrees, max_examples, seed)


# ----------------------------------------------------------------------------- contracts


@attrs.frozen
class ContractRun:
    """The outcome of a contract run that passed: the tests passed, and those skipped
    with why (for example, a CRM without ``add_person`` skips the people tests)."""

    passed: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()


def _skip_exception() -> type[BaseException]:
    try:
        import pytest  # noqa: PLC0415 - the contracts skip through pytest when it is there
    except ImportError:  # pragma: no cover - the contracts need pytest to skip at all

        class _NeverRaised(BaseException):
            pass

        return _NeverRaised
    return cast("type[BaseException]", pytest.skip.Exception)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _run_contract(suite: object, what: str) -> ContractRun:
    skip = _skip_exception()
    passed: list[str] = []
    skipped: list[tuple[str, str]] = []
    failed: list[tuple[str, BaseException]] = []
    for name in sorted(n for n in dir(type(suite)) if n.startswith("test_")):
        try:
            getattr(suite, name)()
        except skip as exc:
            skipped.append((name, str(exc)))
        except Exception as exc:  # every failure is collected and reported
            failed.append((name, exc))
        else:
            passed.append(name)
    if failed:
        lines = [f"{what} contract: {len(failed)} of {len(failed) + len(passed)} tests failed:"]
        lines += [f"  {name}: {type(exc).__name__}: {_first_line(exc)}" for name, exc in failed]
        raise AssertionError("\n".join(lines)) from failed[0][1]
    return ContractRun(tuple(passed), tuple(skipped))


_Suite = TypeVar("_Suite", CrmStoreContract, EmailPlatformContract)


def _contract_class(
    suite: type[_Suite],
    hook: str,
    method: Callable[..., object],
    maker: Callable[..., object],
    property_examples: int | None,
    unnamed: str,
) -> type[_Suite]:
    """A pytest test class ``Test<maker's name>`` (``unnamed`` for a maker without one) of
    ``suite``, whose ``hook`` method is ``method`` (calling ``maker``), shown as defined
    where ``maker`` is."""
    name = getattr(maker, "__name__", unnamed)
    port = suite.__name__.removesuffix("Contract")
    namespace = {
        hook: method,
        "property_examples": property_examples,
        "__doc__": f"{name} keeps the {port} contract.",
        "__module__": getattr(maker, "__module__", __name__),
    }
    return cast("type[_Suite]", type(f"Test{name}", (suite,), namespace))


def crm_store_contract(
    make_crm: Callable[[], CrmStore], *, property_examples: int | None = None
) -> type[CrmStoreContract]:
    """The :class:`~cmsf_core.testing.CrmStoreContract` for ``make_crm`` (called for a
    fresh, empty store), as a pytest test class: assign it to a ``Test...`` name in a test
    module and pytest runs every contract test.

    >>> from cmsf_core.adapters.memory import InMemoryCrm
    >>> TestInMemoryCrm = crm_store_contract(InMemoryCrm, property_examples=10)
    >>> TestInMemoryCrm().make_crm()
    InMemoryCrm(...)
    """

    def make(_self: CrmStoreContract) -> CrmStore:
        return make_crm()

    return _contract_class(CrmStoreContract, "make_crm", make, make_crm, property_examples, "Crm")


def email_platform_contract(
    make_platform: Callable[[PlatformSeed], EmailPlatform],
    *,
    property_examples: int | None = None,
) -> type[EmailPlatformContract]:
    """The :class:`~cmsf_core.testing.EmailPlatformContract` for ``make_platform`` (called
    with a :class:`~cmsf_core.testing.PlatformSeed` for a platform serving exactly it), as
    a pytest test class to assign to a ``Test...`` name."""

    def make(_self: EmailPlatformContract, seed: PlatformSeed) -> EmailPlatform:
        return make_platform(seed)

    return _contract_class(
        EmailPlatformContract, "make_platform", make, make_platform, property_examples, "Platform"
    )


def check_crm_store(
    make_crm: Callable[[], CrmStore], *, property_examples: int | None = None
) -> ContractRun:
    """Run every test of the CRM contract against the stores ``make_crm`` returns.

    Returns what passed and what was skipped; raises ``AssertionError`` listing every
    failed test (the first failure's exception is chained).
    """
    suite = crm_store_contract(make_crm, property_examples=property_examples)()
    return _run_contract(suite, "CrmStore")


def check_email_platform(
    make_platform: Callable[[PlatformSeed], EmailPlatform],
    *,
    property_examples: int | None = None,
) -> ContractRun:
    """Run every test of the platform contract against the platforms ``make_platform``
    builds from a seed.  Returns what passed and what was skipped; raises
    ``AssertionError`` listing every failed test."""
    suite = email_platform_contract(make_platform, property_examples=property_examples)()
    return _run_contract(suite, "EmailPlatform")
