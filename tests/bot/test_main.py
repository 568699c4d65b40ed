"""`bot` as an operator runs it: credential checks at start, a real run, a clean stop.

Each test starts the console script in its own process from an empty folder (no `.env`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.feedback import FeedbackStore, Vote
from core.settings import Settings
from testing.slack_standin import payloads
from testing.slack_standin.socket_mode import FakeSocketMode
from testing.slack_standin.web_api import FakeSlackWebAPI
from tests.bot.conftest import (
    APP_TOKEN,
    BOT_TOKEN,
    PROGRESS_DONE,
    SIGNING_SECRET,
    progress_cleared,
)
from tests.conftest import free_port

pytestmark = pytest.mark.integration  # each test starts `bot` as a process
BOT = Path(sys.executable).with_name("bot")


def _env(**values: str) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "CHROMA_", "FEEDBACK_", "ALLOWED_", "PORT"))
    }
    return {**keep, "ANONYMIZED_TELEMETRY": "False", **values}


def _run(tmp_path: Path, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BOT)], cwd=tmp_path, env=_env(**values), capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "values, named, hint",
    [
        ({}, "SLACK_BOT_TOKEN is not set", "Bot User OAuth Token (xoxb-"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be xoxb-", "OAuth & Per"),
        (
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-wrong-kind"},
            "SLACK_APP_TOKEN must be xapp-",
            "connections:write",
        ),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET", "Signing Secret"),
    ],
    ids=["bot token missing", "user token", "app token malformed", "http without secret"],
)
def test_missing_or_malformed_credentials_stop_the_start_naming_the_variable(
    tmp_path: Path,
    values: dict[str, str],
    named: str,
    hint: str,
) -> None:
    """Exit 2 with the variable's name and where to get it; the bad value is not echoed."""
    done = _run(tmp_path, **values)
    assert done.returncode == 2
    assert named in done.stderr and hint in done.stderr
    assert "api.slack.com/apps" in done.stderr
    for value in values.values():
        assert value not in done.stderr


def test_a_token_slack_refuses_stops_the_start_naming_it(tmp_path: Path, archive: Settings) -> None:
    """auth.test says invalid_auth -> exit 2 naming SLACK_BOT_TOKEN (and not printing it)."""
    with FakeSlackWebAPI(BOT_TOKEN, APP_TOKEN) as web:
        wrong = "xoxb-9999-revoked-token"
        done = _run(
            tmp_path,
            SLACK_BOT_TOKEN=wrong,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_BASE_URL=web.base_url,
            CHROMA_PATH=str(archive.chroma_path),
        )
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "invalid_auth" in done.stderr
    assert wrong not in done.stderr


def _start(
    tmp_path: Path, archive: Settings, web: FakeSlackWebAPI, log: Path, **values: str
) -> subprocess.Popen[str]:
    """`bot` in Socket Mode against the stand-in, its output appended to `log`."""
    with log.open("a") as out:
        return subprocess.Popen(
            [str(BOT)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(
                SLACK_BOT_TOKEN=BOT_TOKEN,
                SLACK_APP_TOKEN=APP_TOKEN,
                SLACK_API_BASE_URL=web.base_url,
                CHROMA_PATH=str(archive.chroma_path),
                FEEDBACK_DB=str(tmp_path / "feedback.sqlite3"),
                **values,
            ),
        )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture
def stand_in() -> Iterator[tuple[FakeSlackWebAPI, FakeSocketMode]]:
    """The Web API and Socket Mode stand-ins, wired together."""
    web = FakeSlackWebAPI(BOT_TOKEN, APP_TOKEN).start()
    socket = FakeSocketMode().start()
    web.socket_url = socket.url
    yield web, socket
    socket.close()
    web.close()


@pytest.fixture
def running_bot(
    tmp_path: Path, archive: Settings, stand_in: tuple[FakeSlackWebAPI, FakeSocketMode]
) -> Iterator[tuple[subprocess.Popen[str], FakeSlackWebAPI, FakeSocketMode]]:
    """`bot` in Socket Mode against the stand-in, logging at DEBUG to a file."""
    web, socket = stand_in
    process = _start(tmp_path, archive, web, tmp_path / "bot.log", LOG_LEVEL="DEBUG")
    yield process, web, socket
    _stop(process)


def test_the_bot_answers_over_socket_mode_and_stops_cleanly(running_bot, tmp_path: Path) -> None:  # noqa: ANN001
    """`bot` connects, answers a mention, and exits 0 on SIGTERM; its log holds no secrets."""
    process, web, socket = running_bot
    socket.wait_connected(timeout=90)
    event = payloads.app_mention("who was Cienfuegos?", "U0REPORTER", "C0NEWSDESK")
    socket.wait_ack(socket.deliver("events_api", payloads.event_callback(event)))
    answer = web.wait_for("chat.postMessage")[0]
    assert "Salvador *Cienfuegos*" in answer.shown
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    log = (tmp_path / "bot.log").read_text()
    assert "answered in" in log
    for secret in (BOT_TOKEN, APP_TOKEN, "who was Cienfuegos"):
        assert secret not in log


def test_http_mode_serves_events_and_healthz_on_port(tmp_path: Path, archive: Settings) -> None:
    """Without SLACK_APP_TOKEN: POST /slack/events (signed) and GET /healthz on PORT."""
    port = free_port()
    with FakeSlackWebAPI(BOT_TOKEN, APP_TOKEN) as web:
        process = subprocess.Popen(
            [str(BOT)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(
                SLACK_BOT_TOKEN=BOT_TOKEN,
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                SLACK_API_BASE_URL=web.base_url,
                PORT=str(port),
                CHROMA_PATH=str(archive.chroma_path),
                FEEDBACK_DB=str(tmp_path / "feedback.sqlite3"),
            ),
        )
        try:
            health = _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
            assert health.pop("search") in ("dense", "hybrid")  # "dense" while it builds
            assert health == {"status": "ok", "store": "ok"}
            event = payloads.app_mention("who was Cienfuegos?", "U0REPORTER", "C0NEWSDESK")
            body = json.dumps(payloads.event_callback(event))
            headers = {"Content-Type": "application/json", **payloads.sign(body, SIGNING_SECRET)}
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/slack/events", body.encode(), headers, method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
            assert "Cienfuegos" in web.wait_for("chat.postMessage")[0].shown
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> dict[str, str]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "bot exited during start"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return dict(json.loads(response.read()))
        except OSError:
            time.sleep(0.3)
    raise AssertionError("bot did not serve /healthz within 90 s")


def test_an_uninstalled_app_stops_the_bot_with_one_clear_line(running_bot, tmp_path: Path) -> None:  # noqa: ANN001
    """app_uninstalled: the bot says once what happened and what to do, closes its
    connection and exits 2 (a credential problem: restarting it would not help)."""
    process, web, socket = running_bot
    socket.wait_connected(timeout=90)
    socket.wait_ack(
        socket.deliver("events_api", payloads.event_callback(payloads.app_uninstalled())),
        timeout=30,
    )
    assert process.wait(timeout=30) == 2
    log = (tmp_path / "bot.log").read_text()
    assert log.count("Reinstall the app") == 1
    assert "Traceback" not in log and "invalid_auth" not in log


def _follow_up(thread_ts: str, text: str) -> dict:
    event = payloads.message(text, "U0ASKER", "C0NEWSDESK", thread_ts=thread_ts)
    return payloads.event_callback(event)


def test_two_processes_and_a_restart_share_retries_and_threads(
    tmp_path: Path, archive: Settings, stand_in: tuple[FakeSlackWebAPI, FakeSocketMode]
) -> None:
    """Two `bot` processes on one host: a retry that reaches the other process is not
    answered again, and a follow-up reaching the other process is read with the thread's
    question; after both restart, the thread is still remembered."""
    web, socket = stand_in
    log = tmp_path / "bots.log"
    bots = [_start(tmp_path, archive, web, log) for _ in range(2)]
    try:
        socket.wait_open(2, timeout=240)
        mention = payloads.app_mention("who was Cienfuegos?", "U0ASKER", "C0NEWSDESK")
        body = payloads.event_callback(mention, "Ev0TWOPROCS")
        socket.deliver("events_api", body, via=0)
        socket.deliver("events_api", body, retry_attempt=1, retry_reason="timeout", via=1)
        web.wait_for("chat.postMessage", timeout=60)
        web.wait_for(PROGRESS_DONE, progress_cleared, timeout=30)
        socket.deliver("events_api", _follow_up(mention["ts"], "when was he arrested?"), via=1)
        second = web.wait_for("chat.postMessage", count=2, timeout=60)[1]
        assert "earlier question: “who was Cienfuegos?”" in second.all_text
        web.wait_for(PROGRESS_DONE, progress_cleared, count=2, timeout=30)
        for bot in bots:
            bot.send_signal(signal.SIGTERM)
            assert bot.wait(timeout=30) == 0
        bots.append(_start(tmp_path, archive, web, log))
        socket.wait_connected(connections=3, timeout=240)
        socket.deliver("events_api", _follow_up(mention["ts"], "where was he arrested?"))
        third = web.wait_for("chat.postMessage", count=3, timeout=60)[2]
        assert third.args["thread_ts"] == mention["ts"]
        assert "earlier question: “when was he arrested?”" in third.all_text
        assert len(web.calls_to("chat.postMessage")) == 3
    finally:
        for bot in bots:
            _stop(bot)


def _feedback_report(tmp_path: Path, since: str) -> subprocess.CompletedProcess[str]:
    """`bot feedback --since SINCE` over tmp_path's feedback file."""
    return subprocess.run(
        [str(BOT), "feedback", "--since", since],
        cwd=tmp_path,
        env=_env(FEEDBACK_DB=str(tmp_path / "feedback.sqlite3")),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_feedback_report_lists_the_weeks_down_votes(tmp_path: Path) -> None:
    """`bot feedback --since 7d`: counts, then each 👎 of the week with its question and
    answer, newest first; older votes and 👍 are left out. Needs no Slack token."""
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    now = datetime.now(UTC)
    votes = [
        ("a1", "down", "who paid for the footbridge?", "“The board paid.” — Gazette", 2),
        ("a2", "up", "who was Cienfuegos?", "“A general.” — LA Times", 1),
        ("a3", "down", "when did the \x1b]0;pwned\x07 ferry open?", "", 1),
        ("a4", "down", "an old question", "an old answer", 30),
    ]
    for answer_id, vote, question, answer, days in votes:
        when = (now - timedelta(days=days)).isoformat(timespec="seconds")
        store.record(Vote(answer_id, "U0X", vote, question, answer, "C0NEWS", clicked_at=when))
    done = _feedback_report(tmp_path, "7d")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "1 👍, 2 👎" in out
    assert out.index("ferry open") < out.index("who paid for the footbridge?")
    assert "“The board paid.” — Gazette" in out and "(nothing found)" in out
    assert "old question" not in out and "who was Cienfuegos?" not in out
    assert "\x1b" not in out and "\x07" not in out
    wrong = _feedback_report(tmp_path, "last tuesday")
    assert wrong.returncode == 2 and "7d" in wrong.stderr
