"""What every console script (`ingest`, `ask`, `bot`) does when the person at the
terminal presses Ctrl-C, or the program reading its output goes away."""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import ParamSpec

P = ParamSpec("P")


def console_script(name: str) -> Callable[[Callable[P, int]], Callable[P, int]]:
    """Wrap a console script's `main`, so that neither case ends in a traceback.

    - Ctrl-C that `main` does not handle itself: "NAME: interrupted", exit status 130.
      Further Ctrl-C are ignored from then on: a second one arriving while the process
      winds down (its ONNX threads still running) used to crash it with exit status 134.
    - The output's reader closed early (`ask … | head -3`): stop at once, silently, with
      exit status 1, as the Python documentation advises for SIGPIPE.
    """

    def wrap(main: Callable[P, int]) -> Callable[P, int]:
        @functools.wraps(main)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> int:
            try:
                return main(*args, **kwargs)
            except KeyboardInterrupt:
                ignore_interrupts()
                print(f"{name}: interrupted", file=sys.stderr)
                return 130
            except BrokenPipeError:
                # Python flushes stdout once more at exit, which would fail the same way.
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                return 1

        return wrapper

    return wrap


def ignore_interrupts() -> None:
    """Ignore Ctrl-C from now on: the process is already stopping because of one."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
