"""The ``hypothesis`` entry point: :mod:`cmsf_core.testing.strategies` for ``st.from_type``.

Hypothesis runs its entry points while it is itself being imported.  The hook therefore
lives apart from :mod:`cmsf_core.testing.strategies` (which imports Hypothesis): a program whose
first import is ``cmsf_core.testing.strategies`` would otherwise meet its own half-built module
here.  Each type is registered with a function that imports the strategies module only
when a test first asks for the type, so the hook itself builds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register"]

#: Type (module, name) -> the function of :mod:`cmsf_core.testing.strategies` drawing it.
_STRATEGIES = {
    ("cmsf_core.domain.activity", "Activity"): "activities",
    ("cmsf_core.domain.member", "CampaignMember"): "members",
    ("cmsf_core.domain.settings", "Settings"): "settings",
    ("cmsf_core.domain.settings", "StatusMapping"): "status_mappings",
    ("cmsf_core.domain.schedule", "Schedule"): "schedules",
    ("cmsf_core.domain.engagement", "Engagement"): "engagements",
}


def _drawn_by(name: str) -> Callable[[type], Any]:
    def strategy(_type: type) -> Any:
        from cmsf_core.testing import strategies  # noqa: PLC0415 - on first use, see the docstring

        return getattr(strategies, name)()

    strategy.__name__ = strategy.__qualname__ = f"cmsf_core.testing.strategies.{name}"
    return strategy


def register() -> None:
    """Register cmsf_core's strategies for ``st.from_type`` (and so for ``st.builds`` and
    ``@given`` with inferred arguments); calling it again is harmless."""
    import importlib  # noqa: PLC0415 - the hook does nothing until Hypothesis calls it

    from hypothesis import strategies as st  # noqa: PLC0415 - ditto

    for (module, cls), name in _STRATEGIES.items():
        st.register_type_strategy(getattr(importlib.import_module(module), cls), _drawn_by(name))
