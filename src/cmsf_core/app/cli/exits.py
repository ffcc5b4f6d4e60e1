"""Exit codes, the usage error and how a failure is told: one line on stderr."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, TextIO

from cmsf_core.domain.errors import CmsfError

EXIT_OK = 0

EXIT_ATTENTION = 1

EXIT_BAD_INPUT = 2

EXIT_INTERNAL = 3

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, as shells report it

_MAX_MESSAGE = 500


class UsageError(CmsfError, ValueError):
    """Bad command-line input: the message says what to fix."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised rather than printed."""

    def error(self, message: str) -> NoReturn:
        raise _ParseError(self.prog, f"{message} (see '{self.prog} --help')")


class _ParseError(Exception):
    """An argparse error: the parser's ``prog`` and the message."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.message = message


def _shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for a message, shortened when long."""
    if len(text) > limit:
        return repr(text[:limit]) + f"... ({len(text):,} characters)"
    return repr(text)


def _one_line(text: str) -> str:
    """A message as one line of reasonable length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 3] + "..."


def _debug() -> bool:
    return os.environ.get("CMSF_DEBUG", "") not in ("", "0")


def _fail(prog: str, message: str, status: int) -> int:
    try:
        sys.stderr.write(f"{prog}: {_one_line(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed too: the status still tells
        pass
    return status


def _silence(out: TextIO) -> None:
    """Point stdout at devnull so that the interpreter's final flush stays quiet.

    This is what Python's documentation of ``SIGPIPE`` recommends.
    """
    if out is not sys.stdout:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - no file descriptor to redirect
        pass
