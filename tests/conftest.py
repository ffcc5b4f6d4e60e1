"""Hypothesis profiles, chosen by the CMSF_HYPOTHESIS_PROFILE environment variable.

- ``ci``: deterministic (derandomized, no example database), used when ``CI`` is set.
- ``dev``: the default on a workstation: random, same example counts as ``ci``.
- ``deep``: 20x the examples and longer stateful runs; see the README.

``CMSF_HYPOTHESIS_MAX_EXAMPLES=N`` overrides the example count of the chosen profile (and
reports only the first bug found), for a quick run while debugging.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

_BASE = {"deadline": None, "print_blob": True}

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    database=None,
    stateful_step_count=40,
    suppress_health_check=[HealthCheck.too_slow],
    **_BASE,
)
settings.register_profile("dev", max_examples=200, stateful_step_count=40, **_BASE)
settings.register_profile(
    "deep",
    max_examples=4000,
    stateful_step_count=120,
    suppress_health_check=[HealthCheck.too_slow],
    **_BASE,
)

_PROFILE = os.environ.get("CMSF_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
settings.load_profile(_PROFILE)
if os.environ.get("CMSF_HYPOTHESIS_MAX_EXAMPLES"):  # a quick local run while debugging
    settings.register_profile(
        "override",
        settings.get_profile(_PROFILE),
        max_examples=int(os.environ["CMSF_HYPOTHESIS_MAX_EXAMPLES"]),
        report_multiple_bugs=False,
    )
    settings.load_profile("override")


def _rules_fired() -> Counter[str]:
    """The stateful sync test's rule counts in this process (empty if it did not run here)."""
    module = sys.modules.get("tests.properties.test_sync_stateful") or sys.modules.get(
        "test_sync_stateful"
    )
    return Counter(getattr(module, "RULES_FIRED", None) or {})


_FROM_WORKERS: Counter[str] = Counter()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker, hand the rule counts to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["rules_fired"] = dict(_rules_fired())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any) -> None:
    """On the pytest-xdist controller, add up what each worker's stateful test fired."""
    _FROM_WORKERS.update(getattr(node, "workeroutput", {}).get("rules_fired", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how often each rule of the stateful sync test fired, so a silent one shows."""
    fired = _rules_fired() + _FROM_WORKERS
    if not fired:
        return
    terminalreporter.section("stateful sync test: rules fired")
    for rule, count in sorted(fired.items(), key=lambda item: (-item[1], item[0])):
        terminalreporter.write_line(f"{count:>10,}  {rule}")
