"""The bot in HTTP mode for tests: served on a free loopback port, and posted to.

The bot runs as in production (build_bot, the WSGI app, the HTTP server) with the real core;
Slack is the local stand-in. `HttpBot.settle` waits until the bot fully handled every
request it acknowledged.
"""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.answerer import ArchiveAnswerer
from bot.app import Bot, build_bot
from bot.http import HttpServer, create_wsgi_app
from core.settings import Settings
from testing.slack_standin import payloads
from testing.slack_standin.web_api import FakeSlackWebAPI
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, bot_settings

ONE_MB = 1024 * 1024  # the body cap: Slack's own requests are a few KB


@dataclass
class Reply:
    status: int
    body: str
    seconds: float


@dataclass
class HttpBot:
    web: FakeSlackWebAPI
    url: str
    built: Bot

    def settle(self, timeout: float = 30.0) -> None:
        """Once the bot fully handled every request it acknowledged so far (a request is
        acknowledged once `post` returns): what did not happen by then will not happen."""
        assert self.built.drain(timeout), f"the bot was still busy after {timeout} s"

    def post(
        self,
        body: str,
        content_type: str,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"Content-Type": content_type, **payloads.sign(body, secret, timestamp)}
        all_headers.update(headers or {})
        request = urllib.request.Request(
            f"{self.url}/slack/events", body.encode(), all_headers, method="POST"
        )
        return send(request)

    def get(self, path: str) -> Reply:
        return send(urllib.request.Request(f"{self.url}{path}"))


def send(request: urllib.request.Request) -> Reply:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode()
            return Reply(response.status, body, time.perf_counter() - started)
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read().decode(), time.perf_counter() - started)


@contextlib.contextmanager
def serve_http(
    archive: Settings,
    answerer: ArchiveAnswerer,
    tmp_path: Path,
    limits: dict[str, float] | None = None,
    **overrides: object,
) -> Iterator[HttpBot]:
    """The bot in HTTP mode; `limits` are the HTTP server's (see `bot.http.HttpServer`)."""
    with FakeSlackWebAPI(BOT_TOKEN, "xapp-unused") as web:
        settings = bot_settings(archive, web, tmp_path, slack_app_token="", **overrides)
        built = build_bot(settings, answerer)
        secret = settings.slack_signing_secret or ""
        wsgi = create_wsgi_app(
            built.app, lambda: answerer.healthy, secret, search=lambda: answerer.search
        )
        server = HttpServer(wsgi, 0, host="127.0.0.1", **(limits or {}))  # type: ignore[arg-type]
        server.start()
        yield HttpBot(web, f"http://127.0.0.1:{server.port}", built)
        server.close()
        built.close(timeout=10)


def mention_body(text: str, event_id: str = "Ev0HTTP0001") -> tuple[str, str, dict]:
    event = payloads.app_mention(text, "U0REPORTER", "C0NEWSDESK")
    body, content_type = payloads.json_body(payloads.event_callback(event, event_id))
    return body, content_type, event
