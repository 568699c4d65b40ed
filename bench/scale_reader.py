"""The reader of bench.scale: a process that opens the archive as the bot does
(`--reader`: warm, keep synced, answer JSON commands on stdin), and `Reader`, which drives it.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from typing import Any

from bench.common import ROOT, asked_at, memory_split_mb, rss_mb


def reader_main() -> int:
    """`--reader`: warm an ArchiveAnswerer, keep it synced, answer commands on stdin."""
    started = time.perf_counter()
    from bot.answerer import ArchiveAnswerer
    from core.answer.compose import answer_question
    from core.settings import Settings

    answerer = ArchiveAnswerer(Settings(_env_file=None))  # type: ignore[call-arg]
    answerer.warm()
    answerer.start_refreshing()
    searcher = answerer.searcher()
    reply({"ready": time.perf_counter() - started, "rss": rss_mb()[0]})
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] == "rss":
            current, peak = rss_mb()
            anon, mapped = memory_split_mb()
            reply({"rss": current, "peak": peak, "anon": anon, "file": mapped})
            continue
        now = asked_at({"question_date": command.get("now")})
        wall, cpu = time.perf_counter(), time.process_time()
        answer = answer_question(command["q"], searcher, now=now)
        reply(
            {
                "ms": (time.perf_counter() - wall) * 1000,
                "cpu_ms": (time.process_time() - cpu) * 1000,
                "lead": answer.lead or "",
                "top": answer.passages[0].title if answer.passages else "",
            }
        )
    answerer.close()
    return 0


def reply(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


class Reader:
    """Drives a `--reader` subprocess."""

    def __init__(self, env: dict[str, str]):
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.scale", "--reader"],
            env={**env, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self.read()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("the reader process died; see its stderr above")
        return dict(json.loads(line))

    def send(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, SystemExit):
            self.send(cmd="quit")
        self.process.wait(timeout=60)
