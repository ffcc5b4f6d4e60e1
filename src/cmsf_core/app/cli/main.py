"""``cmsf`` itself: parse, run the command, and turn every error into one line and an exit
status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from cmsf_core.app.cli.exits import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PIPE_CLOSED,
    _debug,
    _fail,
    _ParseError,
    _silence,
)
from cmsf_core.app.cli.parser import build_parser
from cmsf_core.domain.errors import CmsfError


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run ``cmsf``; returns the exit status.

    Errors never escape: each is one line ``cmsf COMMAND: message`` on stderr and an exit
    status (see the module's docstring).  ``CMSF_DEBUG=1`` re-raises unexpected errors.
    """
    out = out or sys.stdout
    prog = "cmsf"
    try:
        args, extra = build_parser().parse_known_args(argv)
        prog = f"cmsf {args.command}"
        if extra:
            raise _ParseError(
                prog, f"unrecognized arguments: {' '.join(extra)} (see '{prog} --help')"
            )
        run: Callable[[argparse.Namespace, TextIO], int] = args.run
        status = run(args, out)
        out.flush()
    except SystemExit as exit_:  # --help and --version print and exit 0
        return EXIT_OK if exit_.code in (0, None) else EXIT_BAD_INPUT
    except _ParseError as error:
        return _fail(error.prog, error.message, EXIT_BAD_INPUT)
    except CmsfError as error:
        return _fail(prog, str(error), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail(prog, "interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        _silence(out)
        return EXIT_PIPE_CLOSED
    except RecursionError as error:  # before OSError/Exception: input nested too deep
        if _debug():
            raise
        return _fail(prog, f"input nested too deep: {error}", EXIT_BAD_INPUT)
    except OSError as error:
        if _debug():
            raise
        where = f": {error.filename!r}" if error.filename else ""
        return _fail(prog, f"{error.strerror or error}{where}", EXIT_BAD_INPUT)
    except Exception as error:  # the last resort: one line, never a traceback
        if _debug():
            raise
        return _fail(
            prog,
            f"internal error: {type(error).__name__}: {error} (set CMSF_DEBUG=1 for the traceback)",
            EXIT_INTERNAL,
        )
    return status


def main_exit() -> None:
    """The ``cmsf`` console script."""
    sys.exit(main())
