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
from pathlib import Path

import pytest

from core.settings import Settings
from tests.bot.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET
from tests.conftest import free_port
from tests.slack_standin import payloads
from tests.slack_standin.socket_mode import FakeSocketMode
from tests.slack_standin.web_api import FakeSlackWebAPI

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


@pytest.fixture
def running_bot(
    tmp_path: Path, archive: Settings
) -> Iterator[tuple[subprocess.Popen[str], FakeSlackWebAPI, FakeSocketMode]]:
    """`bot` in Socket Mode against the stand-in, logging at DEBUG to a file."""
    web = FakeSlackWebAPI(BOT_TOKEN, APP_TOKEN).start()
    socket = FakeSocketMode().start()
    web.socket_url = socket.url
    log = (tmp_path / "bot.log").open("w")
    process = subprocess.Popen(
        [str(BOT)],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_BASE_URL=web.base_url,
            CHROMA_PATH=str(archive.chroma_path),
            FEEDBACK_DB=str(tmp_path / "feedback.sqlite3"),
            LOG_LEVEL="DEBUG",
        ),
    )
    yield process, web, socket
    if process.poll() is None:
        process.kill()
        process.wait()
    log.close()
    socket.close()
    web.close()


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
