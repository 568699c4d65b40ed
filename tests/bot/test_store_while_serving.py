"""The archive changing under a running bot: `ingest` beside it, its Chroma server going away.

`ingest` is the console script in its own process; Chroma is embedded or a real `chroma run`;
Slack is the stand-in, over Socket Mode. For the server going away the bot is the `bot`
console script itself, as an operator runs it, so its own store refresh is what recovers.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.answerer import ArchiveAnswerer
from core.settings import Settings
from testing.slack_standin import interactions, payloads
from testing.slack_standin.socket_mode import FakeSocketMode
from testing.slack_standin.web_api import FakeSlackWebAPI
from tests.bot.conftest import APP_TOKEN, BOT_TOKEN, RunningBot
from tests.conftest import ENV_PREFIXES, SEED_DIR, ChromaServer, make_settings
from tests.helpers import ingest_paths

BIN = Path(sys.executable).parent
NOTICES = ("Search is unavailable", "went wrong", "set up wrongly")
ZEBRA = {
    "id": "zebra",
    "title": "Zebra escapes from the city zoo",
    "text": "A zebra named Marty escaped from the Central Park Zoo on Monday and trotted "
    "down Fifth Avenue before keepers caught him.",
}


@dataclass
class Reply:
    at: float
    shown: str


class Asker:
    """Asks the running bot over the stand-in and waits for each threaded reply."""

    def __init__(self, web: FakeSlackWebAPI, socket: FakeSocketMode):
        self.web, self.socket = web, socket

    def ask(self, question: str, user: str = "U0REPORTER", timeout: float = 30) -> Reply:
        event = payloads.app_mention(question, user, "C0NEWSDESK")
        self.socket.wait_ack(self.socket.deliver("events_api", payloads.event_callback(event)))
        [call] = self.web.wait_for(
            "chat.postMessage", lambda c: c.args.get("thread_ts") == event["ts"], 1, timeout
        )
        return Reply(call.at, call.shown)


def _store_env(settings: Settings) -> dict[str, str]:
    scrub = (*ENV_PREFIXES, "FEEDBACK_", "ALLOWED_", "RATE_LIMIT", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(scrub)}
    env["ANONYMIZED_TELEMETRY"] = "False"
    if settings.server_mode:
        env.update(CHROMA_HOST=str(settings.chroma_host), CHROMA_PORT=str(settings.chroma_port))
    else:
        env["CHROMA_PATH"] = str(settings.chroma_path)
    return env


@contextmanager
def serving_bot(settings: Settings, tmp: Path, **extra_env: str) -> Iterator[tuple[Asker, Path]]:
    """`bot` over the settings' store, connected to a fresh stand-in; yields how to ask
    it and its log file."""
    tmp.mkdir(parents=True, exist_ok=True)
    web = FakeSlackWebAPI(BOT_TOKEN, APP_TOKEN).start()
    socket = FakeSocketMode().start()
    web.socket_url = socket.url
    env = (
        _store_env(settings)
        | extra_env
        | {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_BASE_URL": web.base_url,
            "FEEDBACK_DB": str(tmp / "feedback.sqlite3"),
            "RATE_LIMIT_PER_MINUTE": "0",
        }
    )
    log = tmp / "bot.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(BIN / "bot")], cwd=tmp, env=env, stdout=out, stderr=out)
    try:
        socket.wait_connected(timeout=120)
        yield Asker(web, socket), log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        socket.close()
        web.close()


def _run_ingest(settings: Settings, path: Path, **extra_env: str) -> tuple[float, float]:
    """The real `ingest` in its own process; returns when it started and finished."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "ingest"), "--quiet", str(path)],
        cwd=path.parent,
        env=_store_env(settings) | extra_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return started, time.perf_counter()


def _corpus(path: Path, count: int) -> Path:
    """`count` short distinct articles (one chunk each: many commits), then the zebra."""
    rng = random.Random(11)
    topics = ["harbor", "transit", "school", "library", "budget", "wildfire", "election"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            words = " ".join(rng.choice(topics) for _ in range(40))
            text = f"Article {i} on the district {i} board meeting. Residents discussed {words}."
            out.write(json.dumps({"id": f"syn-{i}", "title": f"Report {i}", "text": text}) + "\n")
        out.write(json.dumps(ZEBRA) + "\n")
    return path


@pytest.mark.parametrize("store", ["embedded", "server"])
def test_the_bot_keeps_answering_while_ingest_runs_and_new_articles_appear(
    store: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    start_bot: Callable[..., RunningBot],
) -> None:
    """Questions asked all through an `ingest` of 30 articles in another process are all
    answered from the archive (no error reply), and the last article ingested is quoted
    seconds after `ingest` exits, with no restart of the bot. (The bot runs in this process
    here, refreshing as `bot` does; the next test runs `bot` itself.)"""
    settings = (
        request.getfixturevalue("server_settings") if store == "server" else make_settings(tmp_path)
    )
    ingest_paths(settings, SEED_DIR)
    answerer = ArchiveAnswerer(settings)
    answerer.start_refreshing()  # as `bot` does, every REFRESH_SECONDS
    bot = start_bot(answerer=answerer, rate_limit_per_minute=0)
    asker = Asker(bot.web, bot.socket)
    replies: list[Reply] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.wait(0.1):  # a steady trickle of questions, as in a busy newsroom
            replies.append(asker.ask("who was Cienfuegos?", timeout=60))

    thread = threading.Thread(target=keep_asking)
    thread.start()
    try:
        began, ended = _run_ingest(settings, _corpus(tmp_path / "more.jsonl", 30))
        zebra = asker.ask("Which zebra escaped from the zoo?")
        while "Marty" not in zebra.shown and time.perf_counter() - ended < 15:
            time.sleep(0.3)
            zebra = asker.ask("Which zebra escaped from the zoo?")
    finally:
        stop.set()
        thread.join(timeout=90)
        answerer.close()
    during = [r for r in replies if began <= r.at <= ended]
    assert len(during) >= 3, f"only {len(during)} answers while ingest ran"
    for reply in replies:
        assert "Salvador *Cienfuegos*" in reply.shown
        assert not any(notice in reply.shown for notice in NOTICES)
    assert "Marty" in zebra.shown, "the new article was not answerable within 15 s"
    print(
        f"\n{store}: {len(during)} answered during ingest; new article quoted "
        f"{zebra.at - ended:.1f} s after ingest exited"
    )


def test_a_stopped_chroma_server_gets_a_clear_reply_and_answers_resume_by_themselves(
    tmp_path: Path, server_settings: Settings, chroma_server: ChromaServer
) -> None:
    """Server stopped under the running bot: mentions and /ask get "search is unavailable"
    within seconds (no stack trace, no silence); restarted on its port, the bot notices by
    itself (its log says the store is reachable) and answers again."""
    ingest_paths(server_settings, SEED_DIR)
    with serving_bot(server_settings, tmp_path) as (asker, log):
        assert "Salvador *Cienfuegos*" in asker.ask("who was Cienfuegos?").shown
        chroma_server.stop()
        sent = time.perf_counter()
        down = asker.ask("who was Cienfuegos?")
        assert "Search is unavailable right now" in down.shown
        assert down.at - sent < 10
        command = interactions.slash_command(
            "who was Cienfuegos?", "U0ASKER", "C0NEWSDESK", asker.web.response_url("down")
        )
        asker.socket.wait_ack(asker.socket.deliver("slash_commands", command))
        private = json.dumps(asker.web.wait_for_response("down")[0])
        assert "Search is unavailable right now" in private
        for reply in (down.shown, private):
            assert "Traceback" not in reply and "Error" not in reply and "127.0.0.1" not in reply

        chroma_server.start()
        deadline = time.monotonic() + 30
        while "store reachable" not in log.read_text(errors="replace").split("unavailable")[-1]:
            assert time.monotonic() < deadline, "the bot did not notice the store was back"
            time.sleep(0.5)
        assert "Salvador *Cienfuegos*" in asker.ask("who was Cienfuegos?").shown


def test_two_bots_with_their_own_local_state_share_one_chroma_server(
    tmp_path: Path, server_settings: Settings
) -> None:
    """Two `bot` processes, each with its own local index folder (as on two hosts that share
    nothing but the Chroma server), and an `ingest` from a third place: both bots quote the
    new article within seconds, without a restart."""
    ingest_paths(server_settings, SEED_DIR)
    with (
        serving_bot(server_settings, tmp_path / "host-a", INDEX_PATH=str(tmp_path / "a")) as (
            first,
            _,
        ),
        serving_bot(server_settings, tmp_path / "host-b", INDEX_PATH=str(tmp_path / "b")) as (
            second,
            _,
        ),
    ):
        for asker in (first, second):
            assert "nothing relevant" in asker.ask("Which zebra escaped from the zoo?").shown
        zebra = tmp_path / "zebra.jsonl"
        zebra.write_text(json.dumps(ZEBRA) + "\n", encoding="utf-8")
        _, ended = _run_ingest(server_settings, zebra, INDEX_PATH=str(tmp_path / "ingest"))
        for asker in (first, second):
            reply = asker.ask("Which zebra escaped from the zoo?")
            while "Marty" not in reply.shown and time.perf_counter() - ended < 10:
                time.sleep(0.3)
                reply = asker.ask("Which zebra escaped from the zoo?")
            assert "Marty" in reply.shown, "a bot did not answer the new article within 10 s"
    assert (tmp_path / "a").is_dir() and (tmp_path / "b").is_dir()
    assert not (tmp_path / "ingest").exists()  # ingest builds no index nobody here reads
