"""The imperative shells: they read through the ports, plan with the pure rules of
:mod:`cmsf_core.domain` and apply the plan through the ports.

- :mod:`~cmsf_core.shell.sync`: the tracking sync (``run_sync``) and its report;
- :mod:`~cmsf_core.shell.subscriber_sync`: subscribers, consent and opt-out both ways;
- :mod:`~cmsf_core.shell.rule_sync`: the list rules against the platform;
- :mod:`~cmsf_core.shell.field_sync`: field mappings and the new-subscriber rule;
- :mod:`~cmsf_core.shell.service`: the scheduled service loop.
"""
