"""Stopping the bot: answers in flight are finished, within a bound, and nothing new starts.

The bot is stopped as `bot.__main__` stops it: the transport first (the Socket Mode
connection, or the HTTP server), then `Bot.close`. The answerer is the real one, held at its
seam (the callable the bot is built with) until the test lets it go.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.__main__ import serve
from bot.answerer import ArchiveAnswerer
from bot.app import Bot, build_bot
from bot.http import HttpServer, create_wsgi_app
from core.models import Answer
from core.settings import Settings
from testing.slack_standin import payloads
from testing.slack_standin.socket_mode import FakeSocketMode
from testing.slack_standin.web_api import FakeSlackWebAPI
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, RunningBot, bot_settings

pytestmark = pytest.mark.integration  # bots over Socket Mode and HTTP, with the Slack stand-in

QUESTION = "who was Cienfuegos?"


class Held:
    """The real answerer, held until `release`; `entered` once a question reached it."""

    def __init__(self, answerer: ArchiveAnswerer):
        self.answerer = answerer
        self.entered, self.released = threading.Event(), threading.Event()

    def __call__(self, question: str) -> Answer:
        self.entered.set()
        self.released.wait(60)
        return self.answerer(question)


def _finishes_then_refuses(
    web: FakeSlackWebAPI, bot: Bot, held: Held, stop_transport: Callable[[], None]
) -> None:
    """Stopped as `bot.__main__` stops it, in a thread, while an answer is held: the
    answer is posted before `close` returns True; work offered after is refused."""
    assert held.entered.wait(30)
    said: list[bool] = []

    def stop() -> None:
        stop_transport()
        said.append(bot.close(timeout=30))

    stopper = threading.Thread(target=stop)
    stopper.start()
    held.released.set()
    stopper.join(40)
    assert said == [True]
    [answer] = web.calls_to("chat.postMessage")  # posted before close returned: no waiting
    assert "Cienfuegos" in answer.shown
    ran = threading.Event()
    bot.responder.later(ran.set)
    bot.responder.quickly(ran.set)
    assert bot.drain(5) and not ran.is_set()


def test_a_stopped_socket_mode_bot_finishes_the_answer_in_flight_and_starts_nothing_new(
    start_bot: Callable[..., RunningBot], archive_answerer: ArchiveAnswerer
) -> None:
    """Stopped while it works out an answer: the asker still gets it, the stop waits for it,
    and the bot's pools take no new work afterwards."""
    held = Held(archive_answerer)
    bot = start_bot(answerer=held)
    bot.mention(QUESTION)
    assert bot.built is not None
    _finishes_then_refuses(bot.web, bot.built, held, bot.handler.close)


def test_a_stopped_http_bot_finishes_the_answer_in_flight_and_starts_nothing_new(
    archive: Settings, archive_answerer: ArchiveAnswerer, tmp_path: Path
) -> None:
    """As over Socket Mode: in HTTP mode the server stops, the answer in flight is posted."""
    held = Held(archive_answerer)
    with FakeSlackWebAPI(BOT_TOKEN, "xapp-unused") as web:
        settings = bot_settings(archive, web, tmp_path, slack_app_token="")
        bot = build_bot(settings, held)
        wsgi = create_wsgi_app(bot.app, lambda: True, settings.slack_signing_secret or "")
        server = HttpServer(wsgi, 0, host="127.0.0.1")
        server.start()
        event = payloads.app_mention(QUESTION, "U0REPORTER", "C0NEWSDESK")
        body, content_type = payloads.json_body(payloads.event_callback(event, "Ev0STOP0001"))
        _post(f"http://127.0.0.1:{server.port}/slack/events", body, content_type)
        _finishes_then_refuses(web, bot, held, server.close)


def test_a_stop_waits_only_so_long_for_an_answer_that_never_comes(
    start_bot: Callable[..., RunningBot], archive_answerer: ArchiveAnswerer
) -> None:
    """An answer stuck (a store that never replies) holds the stop up for the bound only."""
    held = Held(archive_answerer)
    bot = start_bot(answerer=held)
    bot.mention(QUESTION)
    assert held.entered.wait(30) and bot.built is not None
    started = time.monotonic()
    bot.handler.close()
    try:
        assert bot.built.close(timeout=1.0) is False
        assert time.monotonic() - started < 5.0
    finally:
        held.released.set()


def _post(url: str, body: str, content_type: str) -> None:
    headers = {"Content-Type": content_type, **payloads.sign(body, SIGNING_SECRET)}
    request = urllib.request.Request(url, body.encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.mark.parametrize("mode", ["socket mode", "http"])
def test_the_bot_command_closes_its_pools_when_it_stops(
    mode: str,
    archive: Settings,
    archive_answerer: ArchiveAnswerer,
    slack: tuple[FakeSlackWebAPI, FakeSocketMode],
    tmp_path: Path,
) -> None:
    """`bot` told to stop (SIGTERM) while it answers: it stops serving, the answer is posted
    before it returns, and its pools take no work afterwards, over either transport."""
    web, slack_socket = slack
    held = Held(archive_answerer)
    port = _free_port()
    overrides = {"slack_app_token": "", "port": port} if mode == "http" else {}
    settings = bot_settings(archive, web, tmp_path, **overrides)
    bot = build_bot(settings, held)
    stop, codes = threading.Event(), []
    server = threading.Thread(
        target=lambda: codes.append(serve(bot, settings.slack, stop, host="127.0.0.1"))
    )
    server.start()
    try:
        event = payloads.app_mention(QUESTION, "U0REPORTER", "C0NEWSDESK")
        envelope = payloads.event_callback(event, "Ev0STOP0002")
        if mode == "http":
            _post_when_up(f"http://127.0.0.1:{port}/slack/events", envelope)
        else:
            slack_socket.wait_ack(slack_socket.deliver("events_api", envelope))
        assert held.entered.wait(30)
        stop.set()
        held.released.set()
        server.join(40)
    finally:
        stop.set()
        held.released.set()
    assert codes == [0]
    [answer] = web.calls_to("chat.postMessage")
    assert "Cienfuegos" in answer.shown
    ran = threading.Event()
    bot.responder.later(ran.set)
    assert bot.drain(5) and not ran.is_set()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post_when_up(url: str, envelope: dict, timeout: float = 30.0) -> None:
    """Post a signed event once the server takes connections."""
    body, content_type = payloads.json_body(envelope)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _post(url, body, content_type)
        except OSError:
            assert time.monotonic() < deadline, "the bot did not serve HTTP"
            time.sleep(0.1)
