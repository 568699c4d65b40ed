"""The processes of a local index build: a child that dies with the bot and logs through
it, and the memory an in-process build freed handed back to the system.

A new host builds its local index in a child process (`core.search.rebuild`). That child
must not outlive the process that started it: a bot killed mid-build (SIGKILL, an OOM kill)
would otherwise leave it building for minutes, for nobody. Its log lines go to the parent,
which logs them as its own: in its format, through its filters (the bot masks secrets), at
its levels, whichever console script started it.
May import nothing of ours.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
LOG_KEY = "log"  # a child's stdout line {"log": [logger, level, message]} is a log record
EXIT_ORPHANED = 3


def _libc() -> ctypes.CDLL | None:
    """The C library this interpreter runs on (None where it cannot be loaded)."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def die_with_parent(parent: int) -> None:
    """In the child: be sent SIGTERM when the parent dies, and exit now if it already
    has (it may have died before this call: the child is then someone else's).

    Linux only (`prctl(PR_SET_PDEATHSIG)`); elsewhere only the check is made. The signal
    comes when the *thread* that started the child ends: `build_in_child` waits for the
    child in that thread, so that is when the process ends.
    """
    libc = _libc() if sys.platform.startswith("linux") else None
    prctl = getattr(libc, "prctl", None)
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        sys.exit(EXIT_ORPHANED)


def return_freed_memory() -> None:
    """Hand the memory that a large piece of work freed back to the system: collect the
    reference cycles it left, then ask glibc to return its free arena pages
    (`malloc_trim(0)`; docs/benchmarks.md, issue 24: most of what an in-process build left
    in the bot). Does nothing where the C library has no `malloc_trim` (musl, macOS);
    never fails."""
    gc.collect()
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


class ToParent(logging.Handler):
    """In the child: each record goes to the parent as one JSON line on stdout, message
    only (no traceback: it may quote an article)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = json.dumps({LOG_KEY: [record.name, record.levelno, record.getMessage()]})
            print(line, flush=True)
        except Exception:  # logging never raises into the code that logs
            self.handleError(record)


def log_to_parent(level: int) -> None:
    """In the child: our own records at `level` (the parent's), libraries' at WARNING (as
    every console script holds them), all sent to the parent."""
    root = logging.getLogger()
    root.handlers[:] = [ToParent()]
    root.setLevel(logging.WARNING)
    logging.getLogger("core").setLevel(level)


def relay(line: str) -> dict | None:
    """In the parent: log a child's log line as this process's own record; any other JSON
    object line is returned (the child's result). Lines of neither kind are skipped."""
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    if LOG_KEY in parsed:
        try:
            name, level, message = parsed[LOG_KEY]
            logging.getLogger(str(name)).log(int(level), "%s", message)
        except (TypeError, ValueError):  # not one of ours: skipped, never raised into the build
            pass
        return None
    return parsed
