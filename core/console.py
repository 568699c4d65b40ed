"""What every console script (`ingest`, `ask`, `bot`) does about a reader that goes away."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import ParamSpec

P = ParamSpec("P")


def quiet_when_piped_away(main: Callable[P, int]) -> Callable[P, int]:
    """Wrap a console script's `main`: when its output's reader closes early
    (`ask … | head -3`), stop at once with exit status 1 instead of a BrokenPipeError
    traceback, as the Python documentation advises for SIGPIPE."""

    @functools.wraps(main)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except BrokenPipeError:
            # Python flushes stdout once more at exit, which would fail the same way.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1

    return wrapper
