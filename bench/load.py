"""Load: many people asking the bot at once, on loopback, against a real archive.

    .venv/bin/python -m bench.load [--store /tmp/bench-stores/realtimeqa-ours] \
        [--questions ../shared/eval/realtimeqa.questions.jsonl] [--total 200] [--askers 20] \
        [--mode socket|http] [--deadline 900] [--in-place]

The bot is the `bot` console script in its own process, configured as in production
(Socket Mode, or HTTP mode with signed requests), over a copy of the store (`--in-place`
reads the store itself); Slack is the test suite's stand-in, in this process. Each of
`--askers` askers asks, one question after another, until `--total` questions were asked:
every other one an `@archive` mention (answered in its thread), the others `/ask` (answered
on the response_url). Questions are taken in turn from `--questions` (each asked again when
there are fewer than `--total`). The run stops by itself: after `--total` questions, or at
`--deadline` seconds, whichever comes first. The bot's per-user rate limit is off (every
asker would hit it), everything else is the default.

Checks (exit code 1 when one fails): every delivery acknowledged in under 3 s (Slack's
limit), every question answered exactly once (by an answer, not an error notice), no token
in the bot's log. Reports time to ack and to answer (p50, p95, max) and the bot process's
resident memory before the load, after it, and at its peak.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    BIN,
    ROOT,
    log,
    machine,
    percentile,
    read_jsonl,
    require_inputs,
    revision,
    store_env,
)
from bench.load_slack import APP_TOKEN, BOT_TOKEN, SECRET, Asked, Slack
from testing.chroma_server import free_port

ACK_LIMIT = 3.0  # Slack retries a delivery not acknowledged within 3 s
ANSWER_TIMEOUT = 120.0
NOTICES = ("Search is unavailable", "went wrong on my side", "set up wrongly", "faster than I")
DEFAULT_STORE = Path("/tmp/bench-stores/realtimeqa-ours")
DEFAULT_QUESTIONS = ROOT.parent / "shared" / "eval" / "realtimeqa.questions.jsonl"


# -- the bot process ---------------------------------------------------------------------


def start_bot(slack: Slack, store: Path, work: Path) -> subprocess.Popen[bytes]:
    """`bot` as an operator runs it, pointed at the stand-in; returns once it serves."""
    env = {k: v for k, v in store_env(store).items() if not k.startswith(_BOT_SETTINGS)}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_BASE_URL=slack.web.base_url,
        FEEDBACK_DB=str(work / "feedback.sqlite3"),
        RATE_LIMIT_PER_MINUTE="0",
        LOG_LEVEL="INFO",
    )
    if slack.mode == "socket":
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        port = free_port()
        env["PORT"] = str(port)
        slack.bot_url = f"http://127.0.0.1:{port}/slack/events"
    with (work / "bot.log").open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "bot")], cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    _wait_until_serving(slack, process)
    return process


# The bot's own settings a developer may have set, beyond what store_env leaves out.
_BOT_SETTINGS = ("FEEDBACK_", "ALLOWED_", "PORT")


def _wait_until_serving(slack: Slack, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bot exited with {process.returncode} at start; see bot.log")
        if slack.mode == "socket":
            try:
                slack.socket.wait_connected(timeout=1)
                return
            except AssertionError:
                continue
        health = slack.bot_url.replace("/slack/events", "/healthz")
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if json.loads(response.read()).get("store") == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("bot did not start within 300 s")


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    found = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(line.split()[1]) / 1024
    return found


def stop_bot(process: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM, then SIGKILL after 20 s; the exit code (None when it had to be killed)."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


# -- the askers ----------------------------------------------------------------------------


def run_askers(
    slack: Slack, questions: list[str], total: int, askers: int, deadline: float
) -> list[Asked]:
    """`askers` threads asking in turn until `total` questions were asked or `deadline`."""
    numbers = itertools.count()
    lock = threading.Lock()
    done: list[Asked] = []

    def asker(index: int) -> None:
        user, channel = f"U0LOAD{index:02d}", f"C0LOAD{index % 4}"
        while time.monotonic() < deadline:
            with lock:
                number = next(numbers)
            if number >= total:
                return
            asked = slack.ask(number, questions[number % len(questions)], user, channel)
            slack.wait_answer(asked, min(ANSWER_TIMEOUT, max(deadline - time.monotonic(), 1)))
            with lock:
                done.append(asked)
            if number % 20 == 0:
                log(f"{len(done)} answered of {total}")

    threads = [threading.Thread(target=asker, args=(i,), daemon=True) for i in range(askers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0) + ANSWER_TIMEOUT + 40)
    with lock:
        return sorted(done, key=lambda a: a.number)


# -- the report ----------------------------------------------------------------------------


@dataclass
class Verdict:
    asked: int
    acked_in_time: int
    answered_once: int
    duplicates: int
    unanswered: int
    notices: int
    found: int
    tokens_in_log: bool = False  # filled in once the bot stopped and its log is complete

    def ok(self, total: int) -> bool:
        return (
            self.asked == total
            and self.acked_in_time == total
            and self.answered_once == total
            and not self.notices
            and not self.tokens_in_log
        )


def judge(slack: Slack, done: list[Asked]) -> Verdict:
    """Count what the checks need, after a grace period for late duplicates."""
    time.sleep(3.0)
    answers = {a.number: slack.answers_to(a) for a in done}
    return Verdict(
        asked=len(done),
        acked_in_time=sum(1 for a in done if (a.ack_seconds or 1e9) < ACK_LIMIT),
        answered_once=sum(1 for a in done if len(answers[a.number]) == 1),
        duplicates=sum(1 for a in done if len(answers[a.number]) > 1),
        unanswered=sum(1 for a in done if not answers[a.number]),
        notices=sum(1 for a in done for text in answers[a.number] if _is_notice(text)),
        found=sum(1 for a in done for text in answers[a.number] if "nothing relevant" not in text),
    )


def _is_notice(text: str) -> bool:
    return any(notice in text for notice in NOTICES)


def report(
    args: argparse.Namespace,
    done: list[Asked],
    verdict: Verdict,
    memory: dict[str, dict[str, float]],
    wall: float,
) -> str:
    """A Markdown section for docs/benchmarks.md."""

    def row(name: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        if not ms:
            return f"| {name} | 0 | - | - | - |"
        return (
            f"| {name} | {len(ms)} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} "
            f"| {max(ms):.0f} |"
        )

    def seconds(kind: str | None, measure: str) -> list[float]:
        values = [getattr(a, measure) for a in done if kind in (None, a.kind)]
        return [v for v in values if v is not None]

    before, after = memory["before"], memory["after"]
    lines = [
        f"`bench/load.py --mode {args.mode} --total {args.total} --askers {args.askers}` on "
        f"{args.store.name} (commit {revision()}; {machine()}); wall {wall:.0f} s.",
        "",
        "| measure | n | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
        row("ack, all deliveries", seconds(None, "ack_seconds")),
        row("ack, mentions", seconds("mention", "ack_seconds")),
        row("ack, /ask", seconds("ask", "ack_seconds")),
        row("answer posted, all", seconds(None, "answer_seconds")),
        row("answer posted, mentions", seconds("mention", "answer_seconds")),
        row("answer posted, /ask", seconds("ask", "answer_seconds")),
        "",
        f"- asked {verdict.asked}/{args.total}; acked in under 3 s: {verdict.acked_in_time}; "
        f"answered exactly once: {verdict.answered_once} (duplicates {verdict.duplicates}, "
        f"unanswered {verdict.unanswered}, error notices {verdict.notices}); answers quoting "
        f"an article: {verdict.found}; tokens in the bot's log: "
        f"{'yes' if verdict.tokens_in_log else 'none'}",
        f"- throughput {len(done) / wall:.1f} questions/s over the run",
        f"- bot RSS: {before['VmRSS']:.0f} MB before the load (started, warm), "
        f"{after['VmRSS']:.0f} MB after; peak {after['VmHWM']:.0f} MB",
        f"- verdict: {'PASS' if verdict.ok(args.total) else 'FAIL'}",
    ]
    errors = collections.Counter(a.error for a in done if a.error)
    lines += [f"- delivery failed {n} times: {error}" for error, n in errors.most_common(5)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--total", type=int, default=200)
    parser.add_argument("--askers", type=int, default=20)
    parser.add_argument("--mode", choices=("socket", "http"), default="socket")
    parser.add_argument("--deadline", type=float, default=900, help="seconds of asking at most")
    parser.add_argument("--in-place", action="store_true", help="read --store, not a copy")
    parser.add_argument("--bot-log", type=Path, help="keep the bot's log in this file")
    args = parser.parse_args(argv)
    require_inputs(args.questions)
    questions = [str(q["question"]) for q in read_jsonl(args.questions)]
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        work = Path(tmp)
        store = args.store if args.in_place else work / "store"
        if not args.in_place:
            log(f"copying {args.store} so the shared store is only read")
            shutil.copytree(args.store, store)
        slack = Slack(args.mode)
        process = None
        try:
            log(f"starting the bot ({args.mode} mode) over {args.store}")
            process = start_bot(slack, store, work)
            time.sleep(3.0)  # let the start settle before measuring memory
            memory = {"before": memory_mb(process.pid)}
            log(f"bot ready, RSS {memory['before']['VmRSS']:.0f} MB; asking")
            started = time.monotonic()
            done = run_askers(slack, questions, args.total, args.askers, started + args.deadline)
            wall = time.monotonic() - started
            memory["after"] = memory_mb(process.pid)
            verdict = judge(slack, done)
        finally:
            code = stop_bot(process) if process is not None else None
            slack.close()
        bot_log = (work / "bot.log").read_text(errors="replace")
        if args.bot_log:
            args.bot_log.write_text(bot_log)
        verdict.tokens_in_log = any(t in bot_log for t in (BOT_TOKEN, APP_TOKEN, SECRET))
        log(f"bot stopped (exit {code}); {len(re.findall('answered in', bot_log))} answers logged")
    print(report(args, done, verdict, memory, wall))
    return 0 if verdict.ok(args.total) else 1


if __name__ == "__main__":
    sys.exit(main())
