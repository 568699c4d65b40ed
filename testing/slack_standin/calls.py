"""What the stand-in records: each call the bot made, each streamed message, and each
failure a test scripted for the next call of a method."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from testing.slack_standin.rules import json_arg


@dataclass
class Call:
    """One request the bot made."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.perf_counter)
    response: dict[str, Any] = field(default_factory=dict)  # what the stand-in answered

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The message's blocks (sent as JSON or as a form field holding JSON)."""
        blocks = self.args.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks)

    @property
    def shown(self) -> str:
        """What Slack would display: the fallback text and every text object in the blocks
        (button values are data, never shown)."""
        texts = [str(self.args.get("text") or "")]
        texts += _texts(self.blocks)
        return "\n".join(texts)

    @property
    def markdown(self) -> str:
        """Markdown a streaming call adds: `markdown_text` and its markdown chunks."""
        parts = [str(self.args.get("markdown_text") or "")]
        parts += [
            str(c.get("text") or "")
            for c in self.args.get("chunks") or []
            if isinstance(c, dict) and c.get("type") == "markdown_text"
        ]
        return "".join(parts)

    @property
    def all_text(self) -> str:
        """Every text the message would show, fallback and blocks, for assertions."""
        return json.dumps(
            {"text": self.args.get("text"), "blocks": self.blocks}, ensure_ascii=False
        )


@dataclass
class Stream:
    """A message being streamed (`chat.startStream` ... `chat.stopStream`)."""

    channel: str
    thread_ts: str
    ts: str
    markdown: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    stopped: bool = False
    tasks: list[dict[str, Any]] = field(default_factory=list)  # task updates, in order


@dataclass
class Failure:
    """A scripted failure for the next call of a method: an error status, or with `drop`
    ("eof" or "reset") the connection closed without any answer."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    drop: str | None = None


def tasks_of(calls: list[Call]) -> list[dict[str, Any]]:
    """Every task update the streaming calls among `calls` carried, in order."""
    found = []
    for call in calls:
        chunks = json_arg(call.args.get("chunks")) or []
        found += [c for c in chunks if isinstance(c, dict) and c.get("type") == "task_update"]
    return found


def _texts(node: Any) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        if key == "text" and isinstance(value, str):
            found.append(value)
        elif key != "value":
            found += _texts(value)
    return found
