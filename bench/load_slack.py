"""The Slack side of bench.load: the stand-in (Web API and Socket Mode) with the bot's
tokens, the two ways a question reaches the bot through it (a mention, `/ask`), and what
became of each question asked.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from testing.slack_standin import interactions, payloads
from testing.slack_standin.socket_mode import FakeSocketMode
from testing.slack_standin.web_api import FakeSlackWebAPI

BOT_TOKEN = "xoxb-4242-4242-LoadBenchBotToken"
APP_TOKEN = "xapp-1-A0LOAD-4242-LoadBenchAppToken"
SECRET = "loadbenchsigningsecret0123456789"


@dataclass
class Asked:
    """One question sent to the bot, and what became of it."""

    number: int
    kind: str  # "mention" or "ask"
    key: str  # the mention's ts (its thread) or the /ask response_url name
    sent_at: float
    acked_at: float | None = None
    answered_at: float | None = None
    error: str = ""  # why a delivery failed, when it did

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at

    @property
    def answer_seconds(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.sent_at


class Slack:
    """The stand-in, and the two ways of reaching the bot through it."""

    def __init__(self, mode: str):
        self.mode = mode
        self.web = FakeSlackWebAPI(BOT_TOKEN, APP_TOKEN).start()
        self.socket = FakeSocketMode().start()
        self.web.socket_url = self.socket.url
        self.bot_url = ""  # HTTP mode: where the bot listens

    def close(self) -> None:
        self.socket.close()
        self.web.close()

    def ask(self, number: int, question: str, user: str, channel: str) -> Asked:
        """Deliver question `number` as a mention (even) or /ask (odd); returns once acked."""
        text = _slack_escaped(question)
        if number % 2 == 0:
            event = payloads.app_mention(text, user, channel)
            body = payloads.event_callback(event)
            return self._deliver(number, "mention", event["ts"], "events_api", body)
        name = f"q{number}"
        command = interactions.slash_command(text, user, channel, self.web.response_url(name))
        return self._deliver(number, "ask", name, "slash_commands", command)

    def _deliver(
        self, number: int, kind: str, key: str, envelope: str, body: dict[str, Any]
    ) -> Asked:
        if self.mode == "socket":
            delivery = self.socket.deliver(envelope, body)
            asked = Asked(number, kind, key, delivery.sent_at)
            try:
                asked.acked_at = self.socket.wait_ack(delivery, timeout=30).acked_at
            except AssertionError:
                asked.error = "not acked within 30 s"
            return asked
        raw, content_type = (
            payloads.json_body(body) if envelope == "events_api" else payloads.form_body(body)
        )
        headers = {"Content-Type": content_type, **payloads.sign(raw, SECRET)}
        request = urllib.request.Request(self.bot_url, raw.encode(), headers, method="POST")
        asked = Asked(number, kind, key, time.perf_counter())
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                asked.acked_at = time.perf_counter()
        except OSError as exc:
            asked.error = f"{type(exc).__name__}: {exc}"[:200]
        return asked

    def wait_answer(self, asked: Asked, timeout: float) -> None:
        """Block until the question's answer was posted (or `timeout` s passed)."""
        try:
            if asked.kind == "mention":
                posted = self.web.wait_for(
                    "chat.postMessage", lambda c: c.args.get("thread_ts") == asked.key, 1, timeout
                )
                asked.answered_at = posted[0].at
            else:
                self.web.wait_for_response(asked.key, 1, timeout)
                asked.answered_at = self.web.response_times[asked.key][0]
        except AssertionError:
            pass  # not answered in time: reported as such

    def answers_to(self, asked: Asked) -> list[str]:
        """Everything posted in answer to a question (its text and blocks, as JSON)."""
        if asked.kind == "mention":
            calls = self.web.calls_to(
                "chat.postMessage", lambda c: c.args.get("thread_ts") == asked.key
            )
            return [c.all_text for c in calls]
        return [json.dumps(r, ensure_ascii=False) for r in self.web.responses.get(asked.key, [])]


def _slack_escaped(text: str) -> str:
    """A question as Slack sends typed text: &, < and > as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
