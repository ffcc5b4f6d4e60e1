"""The ``cmsf`` command: demo, sync, run, simulate, diagnose and check on the embedded
SQLite store.

Exit codes (stable, for scripts; ``docs/cli.md`` has the details):

- 0: done; for ``sync`` every write went through; for ``diagnose`` nothing was flagged;
  for ``run``, stopped by SIGTERM after finishing its current sync;
- 1: done, with something to look at: ``sync`` had refused writes or skipped a client or
  a platform row (see the maintenance messages), ``diagnose`` flagged members, ``check``
  found problems in the store;
- 2: bad usage or input: an unknown option, a bad number, a bad settings file, a missing
  folder or store, a file that is not a cmsf store, another sync holding the store,
  unreadable platform data.  Nothing was changed;
- 3: an internal error (a bug): one line on stderr, the traceback only with ``CMSF_DEBUG=1``;
- 130: interrupted (Ctrl-C); the store holds what the last committed transaction left;
- 141: standard output was closed early (``cmsf diagnose | head -2``); nothing more is written.

Every error is one line on stderr, ``cmsf COMMAND: message``; never a traceback.

The package reads as the command: :mod:`~cmsf_core.app.cli.main` (parse, run, exit
status), :mod:`~cmsf_core.app.cli.parser` (every option), :mod:`~cmsf_core.app.cli.exits`
(exit codes and one-line errors), :mod:`~cmsf_core.app.cli.options` (option values and the
settings file, checked), :mod:`~cmsf_core.app.cli.store` (opening the store, findings), and
one module per command group: ``demo``, ``sync``, ``simulate``, ``diagnose`` (with
``check``) and ``run``.
"""

from cmsf_core.app.cli.demo import cmd_demo
from cmsf_core.app.cli.diagnose import cmd_check, cmd_diagnose
from cmsf_core.app.cli.exits import (
    EXIT_ATTENTION,
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PIPE_CLOSED,
    UsageError,
)
from cmsf_core.app.cli.main import main, main_exit
from cmsf_core.app.cli.options import MAX_SETTINGS_BYTES, load_settings
from cmsf_core.app.cli.parser import build_parser
from cmsf_core.app.cli.run import cmd_run
from cmsf_core.app.cli.simulate import cmd_simulate
from cmsf_core.app.cli.sync import cmd_sync

__all__ = [
    "EXIT_ATTENTION",
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PIPE_CLOSED",
    "MAX_SETTINGS_BYTES",
    "UsageError",
    "build_parser",
    "cmd_check",
    "cmd_demo",
    "cmd_diagnose",
    "cmd_run",
    "cmd_simulate",
    "cmd_sync",
    "load_settings",
    "main",
    "main_exit",
]
