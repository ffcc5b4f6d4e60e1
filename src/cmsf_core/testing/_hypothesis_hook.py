"""The ``hypothesis`` entry point: cmsf_core's value types for ``st.from_type``.

Hypothesis runs its entry points while it is itself being imported, and the importer may
be :mod:`cmsf_core.testing.strategies` (a program whose first import is that module),
which is then half built.  The hook therefore registers each type with a function that
imports the strategies module only when a test first asks for the type, so the hook
itself builds nothing.  With the strategies module whole, the same registration is
:func:`cmsf_core.testing.strategies.register_type_strategies`.  The hook imports the
strategies module, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register"]

#: The types :func:`~cmsf_core.testing.strategies.strategy_for` draws, by where they live:
#: Hypothesis needs them before the strategies can be imported (a test holds the two equal).
TYPES = (
    ("cmsf_core.domain.activity", "Activity"),
    ("cmsf_core.domain.member", "CampaignMember"),
    ("cmsf_core.domain.settings", "Settings"),
    ("cmsf_core.domain.settings", "StatusMapping"),
    ("cmsf_core.domain.schedule", "Schedule"),
    ("cmsf_core.domain.engagement", "Engagement"),
)


def _on_first_draw(cls: type) -> Callable[[type], Any]:
    def strategy(_asked: type) -> Any:
        from cmsf_core.testing import strategies  # noqa: PLC0415 - on first use, see the docstring

        return strategies.strategy_for(cls)

    strategy.__name__ = strategy.__qualname__ = f"strategy_for({cls.__name__})"
    return strategy


def register() -> None:
    """Register cmsf_core's strategies for ``st.from_type`` (and so for ``st.builds`` and
    ``@given`` with inferred arguments), drawn on first use; calling it again is harmless."""
    import importlib  # noqa: PLC0415 - the hook does nothing until Hypothesis calls it

    from hypothesis import strategies as st  # noqa: PLC0415 - ditto

    for module, name in TYPES:
        cls = getattr(importlib.import_module(module), name)
        st.register_type_strategy(cls, _on_first_draw(cls))
