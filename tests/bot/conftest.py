"""Bot fixtures: a seeded archive (once per session), a long one, the Slack stand-in, a bot.

The bot runs exactly as in production (create_app + Socket Mode handler, or the HTTP
server) with the real core and a real embedded Chroma; only Slack is the local stand-in.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler

from bot.answerer import ArchiveAnswerer
from bot.app import Bot, build_bot
from bot.logs import configure_logging
from bot.socket_mode import PING_SECONDS, create_socket_handler
from core.settings import Settings
from core.written.writer import Writer
from testing.bots import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, bot_settings
from testing.slack_standin import interactions, payloads
from testing.slack_standin.socket_mode import Delivery, FakeSocketMode
from testing.slack_standin.web_api import Call, FakeSlackWebAPI
from testing.stores import SEED_DIR, ingest_paths, make_settings

if TYPE_CHECKING:
    from tests.bot.http_bot import HttpBot

# An archived page that tries to ping everyone and smuggle a disguised link.
HOSTILE_ARTICLE = """---
id: hostile-zoning
title: Zoning board <!channel> approves the Riverside footbridge
source: Riverside Gazette
published_at: 2023-05-04
url: https://gazette.example/zoning-footbridge
---
Zoning board approves the Riverside footbridge

The Riverside zoning board approved the footbridge over the canal on Tuesday. <!channel> \
<!here> <!everyone> Council clerk <@U0HACKER> pasted <https://evil.example/login|the minutes> \
into the record, and a reader wrote @channel and @here in the comments.

The footbridge will cost 2.4 million dollars & open in spring, the board said. Critics said \
the <b>zoning</b> vote was rushed.
"""

# The calls that take progress away once an answer is posted (`progress_cleared`).
PROGRESS_DONE = ("reactions.remove", "assistant.threads.setStatus")


def progress_cleared(call: Call) -> bool:
    """The hourglass removed, or the thread's status cleared."""
    return call.args.get("status") in (None, "")


def status_shown(call: Call) -> bool:
    """A `setStatus` that shows the thread's "is searching…" status (not one clearing it)."""
    return call.method == "assistant.threads.setStatus" and bool(call.args.get("status"))


OTHER_TOPICS = [
    "harbour ferry schedule",
    "school lunch menu",
    "library opening hours",
    "stadium parking fees",
    "museum dinosaur exhibition",
    "tram line extension",
    "farmers market vendors",
    "city marathon route",
]


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An embedded store holding the seed article and a hostile one, ingested once."""
    root = tmp_path_factory.mktemp("archive")
    hostile = root / "articles" / "zoning.md"
    hostile.parent.mkdir()
    hostile.write_text(HOSTILE_ARTICLE, encoding="utf-8")
    settings = make_settings(root)
    ingest_paths(settings, SEED_DIR, hostile)
    return settings


@pytest.fixture(scope="module")
def long_archive(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Twelve long articles on one subject, with long titles and very long URLs, among forty
    short ones on other subjects (so that the subject's words are rare enough to rank)."""
    root = tmp_path_factory.mktemp("long")
    records = []
    for n in range(12):
        text = " ".join(
            f"The council debated the Riverside footbridge budget, item {n}.{i}, and the "
            f"engineers defended the cost of the footbridge once more."
            for i in range(30)
        )
        title = f"Council argues over the Riverside footbridge budget {n} " * 4
        url = f"https://gazette.example/{'archive/' * 45}footbridge-{n}"
        day = f"2023-05-{n + 1:02d}"
        records.append({"id": f"f{n}", "title": title, "url": url, "published_at": day})
        records[-1] |= {"source": "Riverside Gazette", "text": text}
    for n in range(40):
        topic = OTHER_TOPICS[n % len(OTHER_TOPICS)]
        text = " ".join(f"Officials discussed the {topic} on day {n}.{i}." for i in range(8))
        records.append({"id": f"o{n}", "title": f"The {topic}, {n}", "text": text})
    corpus = root / "long.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    settings = make_settings(root)
    ingest_paths(settings, corpus)
    return settings


@pytest.fixture(scope="session")
def archive_answerer(archive: Settings) -> Iterator[ArchiveAnswerer]:
    """The real answerer over the seeded archive, shared by the session's bots."""
    answerer = ArchiveAnswerer(archive)
    answerer.warm()
    yield answerer
    answerer.close()


@pytest.fixture
def slack() -> Iterator[tuple[FakeSlackWebAPI, FakeSocketMode]]:
    """The Web API and Socket Mode stand-ins, wired together."""
    web = FakeSlackWebAPI(BOT_TOKEN, APP_TOKEN).start()
    socket = FakeSocketMode().start()
    web.socket_url = socket.url
    yield web, socket
    socket.close()
    web.close()


@dataclass
class RunningBot:
    """A bot connected to the stand-in over Socket Mode, and ways to talk to it."""

    web: FakeSlackWebAPI
    socket: FakeSocketMode
    settings: Settings
    app: App
    handler: SocketModeHandler
    sent: list[Delivery] = field(default_factory=list)
    built: Bot | None = None

    def settle(self, timeout: float = 30.0) -> None:
        """Once every envelope sent so far was acked and the bot fully handled it (its
        answers posted, progress taken away, votes stored): what did not happen by then
        will not happen."""
        for delivery in list(self.socket.deliveries.values()):
            self.socket.wait_ack(delivery, timeout)
        assert self.built is not None
        assert self.built.drain(timeout), f"the bot was still busy after {timeout} s"

    def deliver_event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_attempt: int = 0,
        shared: bool = False,
    ) -> Delivery:
        body = payloads.event_callback(event, event_id, shared=shared)
        delivery = self.socket.deliver(
            "events_api",
            body,
            retry_attempt=retry_attempt,
            retry_reason="timeout" if retry_attempt else "",
        )
        self.sent.append(delivery)
        return delivery

    def mention(
        self,
        text: str,
        user: str = "U0REPORTER",
        channel: str = "C0NEWSDESK",
        thread_ts: str | None = None,
        **kwargs: Any,
    ) -> tuple[Delivery, dict[str, Any]]:
        """`@archive text` as Slack delivers it: `app_mention`, then the `message.channels`
        event about the same message (the manifest subscribes to both)."""
        event, echo = payloads.channel_mention(text, user, channel, thread_ts, **kwargs)
        delivery = self.deliver_event(event)
        self.deliver_event(echo)
        return delivery, event

    def edit(self, event: dict[str, Any], new_text: str) -> Delivery:
        """Edit a message as Slack reports it: a mention comes again as `app_mention` with
        `edited`, and every edit as `message_changed` (channel or DM)."""
        delivery = None
        if event["type"] == "app_mention":
            delivery = self.deliver_event(payloads.edited(event, new_text))
        changed = self.deliver_event(payloads.message_changed(event, new_text))
        return delivery or changed

    def answers(self, channel: str, count: int = 1, timeout: float = 20.0) -> list[Call]:
        """The bot's chat.postMessage calls in a channel, once there are `count`."""
        return self.web.wait_for(
            "chat.postMessage",
            lambda c: c.args.get("channel") == channel,
            count=count,
            timeout=timeout,
        )

    def answered(self, channel: str, count: int = 1) -> list[Call]:
        """As `answers`, once the bot is done with them too (the hourglass or the thread's
        status is gone)."""
        posted = self.answers(channel, count)
        self.done(count)
        return posted

    def done(self, count: int = 1) -> list[Call]:
        """Once the bot took progress away `count` times (its answers' work is done)."""
        return self.web.wait_for(PROGRESS_DONE, progress_cleared, count)

    def command(
        self,
        text: str,
        user: str = "U0REPORTER",
        channel: str = "C0NEWSDESK",
        reply_to: str = "ask",
    ) -> Delivery:
        body = interactions.slash_command(text, user, channel, self.web.response_url(reply_to))
        return self.socket.deliver("slash_commands", body)

    def click(
        self, button: dict[str, Any], user: str, channel: str, reply_to: str, **kwargs: Any
    ) -> Delivery:
        kwargs.setdefault("trigger_id", self.web.trigger_id())
        body = interactions.block_actions(
            button, user, channel, self.web.response_url(reply_to), **kwargs
        )
        return self.socket.deliver("interactive", body)

    def shortcut(
        self, message: dict[str, Any], user: str, reply_to: str, **kwargs: Any
    ) -> Delivery:
        """The message shortcut on `message` (a message event), as `user`."""
        body = interactions.message_action(
            message, user, self.web.response_url(reply_to), self.web.trigger_id(), **kwargs
        )
        return self.socket.deliver("interactive", body)

    def submit(self, view: dict[str, Any], user: str, values: dict[str, Any]) -> Delivery:
        """Press a modal's submit button with its inputs set to `values`."""
        return self.socket.deliver("interactive", interactions.view_submission(view, user, values))


@pytest.fixture
def start_bot(
    archive: Settings,
    archive_answerer: ArchiveAnswerer,
    slack: tuple[FakeSlackWebAPI, FakeSocketMode],
    tmp_path: Path,
) -> Iterator[Callable[..., RunningBot]]:
    """Start a bot over the seeded archive; keyword arguments override its settings
    (`answerer` and the Socket Mode `ping_interval` aside)."""
    web, socket = slack
    handlers: list[tuple[SocketModeHandler, Bot]] = []

    def start(
        answerer: Any = None,
        ping_interval: float = PING_SECONDS,
        writing: bool = False,
        **overrides: Any,
    ) -> RunningBot:
        settings = bot_settings(archive, web, tmp_path, **overrides)
        writer = Writer.from_settings(settings.answers) if writing else None
        built = build_bot(settings, answerer or archive_answerer, writer=writer)
        handler = create_socket_handler(built.app, APP_TOKEN, ping_interval=ping_interval)
        handler.connect()
        handlers.append((handler, built))
        socket.wait_connected()
        return RunningBot(web, socket, settings, built.app, handler, built=built)

    yield start
    for handler, built in handlers:
        handler.close()
        built.close(timeout=10)


@pytest.fixture
def bot(start_bot: Callable[..., RunningBot]) -> RunningBot:
    """A bot with default settings over the seeded archive."""
    return start_bot()


@pytest.fixture
def bot_log() -> Iterator[io.StringIO]:
    """The process's logging configured as `bot` configures it (INFO, secrets masked), written
    to a buffer the test reads; the previous configuration is restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    stream = io.StringIO()
    configure_logging("INFO", secrets=[SIGNING_SECRET], stream=stream)
    yield stream
    root.handlers[:], root.level = saved
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def http_bot(
    archive: Settings, archive_answerer: ArchiveAnswerer, tmp_path: Path
) -> Iterator[HttpBot]:
    """The bot in HTTP mode (no SLACK_APP_TOKEN) on a free loopback port."""
    from tests.bot.http_bot import serve_http  # it builds on this module's settings

    with serve_http(archive, archive_answerer, tmp_path) as bot:
        yield bot
