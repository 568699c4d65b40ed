"""A fake Slack Web API on 127.0.0.1: the URL path is the method, as on slack.com/api/.

It records every call (method, arguments, token, time), answers the methods the bot uses
the way Slack does, checks the bearer token, can be told to fail a method once (e.g. a 429
with Retry-After), and also serves `response_url` endpoints that record what they get.

It fails the way Slack fails: `msg_blocks_too_long` over Slack's reported size limit,
`invalid_blocks` for blocks a workspace does not support, `not_in_channel`, `is_archived`,
`restricted_action` and `channel_not_found` where the bot may not post, `missing_scope`
for methods whose scope the app lacks, `token_revoked` once the app is uninstalled, and
`response_url`s that expire after 5 uses or 30 minutes. Streams (`chat.startStream` …
`chat.stopStream`) are refused the same way; a streamed message is measured as its
markdown in one block followed by the blocks `chat.stopStream` adds. `views.open` takes
only a `trigger_id` it issued (`trigger_id()`, put in interaction payloads), once, within
3 s, and checks a modal's title, blocks, submit button and `private_metadata` as Slack does.
"""

from __future__ import annotations

import itertools
import json
import socket
import struct
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from testing.slack_standin.manifest import manifest_problems

TEAM_ID = "T0NEWS"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0ARCHIVE"
ENTERPRISE_ID = "E0NEWSORG"

# chat.postMessage is reported to fail with msg_blocks_too_long at about 13.2k characters of
# blocks; the stand-in measures the blocks' JSON, which is never shorter than their text.
BLOCKS_LIMIT = 13_200
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60
# views.open: a trigger_id is exchanged once, within 3 s of the interaction
# (https://docs.slack.dev/reference/methods/views.open/); a modal's limits.
TRIGGER_SECONDS = 3.0
VIEW_TITLE_CHARS = 24
VIEW_BLOCKS = 100
PRIVATE_METADATA_CHARS = 3000
SECTION_TEXT_CHARS = 3000  # a section block's text
# What manifest.yml grants: the scopes the bot needs, and those it can do without
# (`bot_optional`, docs.slack.dev/changelog/2026/03/16/optional-scopes). By default the
# workspace granted both; a test may take scopes away.
REQUIRED_SCOPES = {
    "app_mentions:read",
    "assistant:write",
    "chat:write",
    "commands",
    "im:history",
}
OPTIONAL_SCOPES = {"channels:history", "groups:history", "reactions:write", "users:read"}
SCOPES = REQUIRED_SCOPES | OPTIONAL_SCOPES
# The bot scope each method needs. setStatus takes chat:write: Slack accepts assistant:write
# too for now, and will soon accept only chat:write
# (docs.slack.dev/changelog/2026/03/05/set-status-scope-update): the stand-in is already there.
NEEDS_SCOPE = {
    "assistant.threads.setStatus": "chat:write",
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.startStream": "chat:write",
    "chat.appendStream": "chat:write",
    "chat.stopStream": "chat:write",
    "users.info": "users:read",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
}
MAX_LOADING_MESSAGES = 10
MAX_PROMPTS = 4
TASK_STATUSES = {"pending", "in_progress", "complete", "error"}
POSTING = (
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "chat.startStream",
    "chat.appendStream",
    "chat.stopStream",
)


def blocks_size(blocks: Any) -> int:
    """How Slack's message size limit is measured here: the blocks as JSON."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks or "[]")
    return len(json.dumps(blocks or [], ensure_ascii=False))


def _block_types(node: Any) -> set[str]:
    if isinstance(node, list):
        return {t for item in node for t in _block_types(item)}
    if not isinstance(node, dict):
        return set()
    found = {str(node["type"])} if "type" in node else set()
    for value in node.values():
        found |= _block_types(value)
    return found


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


class FakeSlackWebAPI:
    """The stand-in server. Use as a context manager, or `start()`/`close()`.

    Args:
        bot_token: The xoxb- token the bot must present.
        app_token: The xapp- token `apps.connections.open` must be called with.
    """

    def __init__(self, bot_token: str, app_token: str):
        self.bot_token, self.app_token = bot_token, app_token
        self.calls: list[Call] = []
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.response_times: dict[str, list[float]] = {}  # perf_counter of each, as above
        self.socket_url: str | None = None
        self.refuse_channels: set[str] = set()  # the bot is not a member: not_in_channel
        self.archived_channels: set[str] = set()  # is_archived
        self.restricted_channels: set[str] = set()  # posting restricted: restricted_action
        self.foreign_dms: set[str] = set()  # DMs between other people: channel_not_found
        self.scopes: set[str] = set(SCOPES)
        # "agent" (features.agent_view) or "assistant" (assistant_view): where suggested
        # prompts go; `create_app` sets it from a manifest.
        self.experience = "agent"
        self.suggested: list[dict[str, Any]] = []  # prompts Slack actually shows
        self.native_feedback = True  # the workspace knows context_actions/feedback_buttons
        self.revoked = False  # the app was uninstalled: every token is dead
        self.users: dict[str, dict[str, Any]] = {}  # users.info answers, by user id (over
        # a plain member of TEAM_ID)
        self.enterprise_id: str | None = None  # set: the workspace belongs to this org
        self._issued: dict[str, tuple[str, float]] = {}  # response_url key -> (name, issued)
        self._triggers: dict[str, float] = {}  # trigger_id -> when issued (monotonic)
        self._exchanged: set[str] = set()
        self.views: dict[str, dict[str, Any]] = {}  # view id -> the modal opened
        self._used: dict[str, int] = {}
        self.streams: dict[str, Stream] = {}  # ts -> the streamed message
        # (channel, ts) of the messages the bot posted, which chat.update may edit, and of
        # those deleted since (`delete_message`)
        self.posted: set[tuple[str, str]] = set()
        self.deleted: set[tuple[str, str]] = set()
        self.refuse_streaming: str | None = None  # an error code for chat.startStream
        self.failed: list[tuple[str, float]] = []  # (path, when) of each scripted failure served
        self._failures: dict[str, list[Failure]] = {}
        self._ts = itertools.count(1)
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What SLACK_API_BASE_URL is set to (ends with "/", as WebClient needs)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        """A fresh `response_url` whose posts are recorded under `name`; like Slack's, it
        takes 5 posts within 30 minutes."""
        with self._changed:
            key = f"{name}/{len(self._issued)}"
            self._issued[key] = (name, time.monotonic())
        return f"http://127.0.0.1:{self.port}/response/{key}"

    def trigger_id(self) -> str:
        """A fresh trigger_id, as Slack puts in an interaction payload (valid 3 s, once)."""
        with self._changed:
            trigger = f"{len(self._triggers) + 1}.{int(time.time())}.{uuid.uuid4().hex[:12]}"
            self._triggers[trigger] = time.monotonic()
        return trigger

    def age_triggers(self, seconds: float) -> None:
        """Make every trigger_id issued so far `seconds` older."""
        with self._changed:
            self._triggers = {k: t - seconds for k, t in self._triggers.items()}

    def age_response_urls(self, seconds: float) -> None:
        """Make every response_url issued so far `seconds` older."""
        with self._changed:
            self._issued = {k: (n, t - seconds) for k, (n, t) in self._issued.items()}

    def start(self) -> FakeSlackWebAPI:
        sys.audit("testing.slack_standin.start")  # a Slack app round trip is not a unit test
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlackWebAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scripting and reading ---------------------------------------------------------------

    def create_app(
        self,
        manifest: dict[str, Any],
        *,
        new_app: bool = True,
        handled_events: set[str] | None = None,
    ) -> dict[str, Any]:
        """Create (or, with `new_app` False, update) the app from a manifest as Slack does
        (`testing.slack_standin.manifest`): refused with `invalid_manifest` and the problems,
        or the workspace grants its scopes, required and optional, and speaks its view."""
        problems = manifest_problems(manifest, new_app=new_app, handled_events=handled_events)
        if problems:
            return {"ok": False, "error": "invalid_manifest", "errors": problems}
        scopes = (manifest.get("oauth_config") or {}).get("scopes") or {}
        with self._changed:
            self.scopes = set(scopes.get("bot") or []) | set(scopes.get("bot_optional") or [])
            features = manifest.get("features") or {}
            self.experience = "assistant" if "assistant_view" in features else "agent"
        return {"ok": True, "app_id": APP_ID}

    def fail_next(
        self,
        method: str,
        status: int = 429,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Make the next call of `method` fail (default: 429 ratelimited, Retry-After 1).

        `method` is a Web API method, or "response/NAME" for the response_url `NAME`.
        """
        if status == 429 and headers is None:
            headers = {"Retry-After": "1"}
        failure = Failure(status, body or {"ok": False, "error": "ratelimited"}, headers or {})
        with self._changed:
            self._failures.setdefault(method, []).append(failure)

    def drop_next(self, method: str, how: str = "eof") -> None:
        """Make the next call of `method` end without an answer: the server reads the request
        and closes the connection ("eof") or resets it ("reset"), as a failing proxy might."""
        if how not in ("eof", "reset"):
            raise ValueError(f"unknown way to drop a connection: {how!r}")
        with self._changed:
            self._failures.setdefault(method, []).append(Failure(0, {}, {}, drop=how))

    def calls_to(
        self, method: str | tuple[str, ...], where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        """Recorded calls of a method (or of any of several), optionally filtered."""
        methods = (method,) if isinstance(method, str) else method
        with self._changed:
            return [c for c in self.calls if c.method in methods and (where is None or where(c))]

    def delete_message(self, channel: str, ts: str) -> None:
        """Someone deleted a message the bot posted: it can no longer be updated."""
        with self._changed:
            self.deleted.add((channel, ts))

    def wait_for(
        self,
        method: str | tuple[str, ...],
        where: Callable[[Call], bool] | None = None,
        count: int = 1,
        timeout: float = 20.0,
    ) -> list[Call]:
        """Block until `count` matching calls were made; they are returned."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                methods = (method,) if isinstance(method, str) else method
                found = [
                    c for c in self.calls if c.method in methods and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"no {count} x {method} within {timeout} s; saw {seen}")
                self._changed.wait(left)

    def wait_for_response(
        self, name: str, count: int = 1, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """Block until `count` posts reached the response_url `name`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.responses.get(name, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"nothing posted to response_url {name!r}")
                self._changed.wait(left)
            return list(self.responses[name])

    # -- serving -------------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _next_failure(self, method: str) -> Failure | None:
        with self._changed:
            queue = self._failures.get(method)
            return queue.pop(0) if queue else None

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            return {"ok": False, "error": "invalid_auth"}
        if self.revoked:
            return {"ok": False, "error": "token_revoked"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://newsroom.example/",
                "team": "Newsroom",
                "user": "archive",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
                **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
            }
        if method == "apps.connections.open":
            if not self.socket_url:
                return {"ok": False, "error": "socket_mode_not_enabled"}
            return {"ok": True, "url": self.socket_url}
        refusal = self._refusal(method, args)
        if refusal:
            return {"ok": False, "error": refusal}
        channel = str(args.get("channel", ""))
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "chat.postMessage":
            if channel.startswith(("U", "W")):  # a user id: the app's DM with them
                channel = "D" + channel[1:]
            message = {"type": "message", "text": args.get("text"), "ts": ts, "bot_id": BOT_ID}
            with self._changed:
                self.posted.add((channel, ts))
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":  # as Slack: only the bot's own messages, by channel and ts
            key = (channel, str(args.get("ts", "")))
            if key in self.deleted:
                return {"ok": False, "error": "message_not_found"}
            if key not in self.posted:
                return {"ok": False, "error": "cant_update_message"}
            return {"ok": True, "channel": channel, "ts": key[1], "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "users.info":  # anyone not scripted is a plain member of the workspace
            user_id = str(args.get("user"))
            user = {"id": user_id, "team_id": TEAM_ID, **self.users.get(user_id, {})}
            return {"ok": True, "user": user}
        if method == "assistant.threads.setStatus":
            return self._set_status(args)
        if method == "assistant.threads.setSuggestedPrompts":
            return self._suggest(args)
        if method == "views.publish":
            return self._publish(args)
        if method in ("reactions.add", "reactions.remove") or method.startswith(
            "assistant.threads."
        ):
            return {"ok": True}
        if method in ("chat.startStream", "chat.appendStream", "chat.stopStream"):
            return self._stream(method, args, channel, ts)
        if method == "views.open":
            return self._open_view(args)
        return {"ok": False, "error": "unknown_method"}

    def _open_view(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.open: exchange a trigger_id for a modal."""
        trigger = str(args.get("trigger_id") or "")
        with self._changed:
            issued = self._triggers.get(trigger)
            if issued is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            if trigger in self._exchanged:
                return {"ok": False, "error": "exchanged_trigger_id"}
            if time.monotonic() - issued > TRIGGER_SECONDS:
                return {"ok": False, "error": "expired_trigger_id"}
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if not isinstance(view, dict) or _view_refusal(view):
                return {"ok": False, "error": "invalid_arguments"}
            self._exchanged.add(trigger)
            view_id = f"V{len(self.views) + 1:08d}"
            opened = {
                **view,
                "id": view_id,
                "team_id": TEAM_ID,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "state": {"values": {}},
                "hash": uuid.uuid4().hex[:16],
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
            }
            self.views[view_id] = opened
        return {"ok": True, "view": opened}

    def _publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.publish: a Home tab of at most 100 blocks whose sections' text is at most
        3,000 characters (docs.slack.dev/reference/methods/views.publish ;
        docs.slack.dev/reference/block-kit/blocks/section-block)."""
        view = _json_arg(args.get("view"))
        if not isinstance(view, dict) or view.get("type") != "home" or not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        blocks = view.get("blocks") or []
        if not isinstance(blocks, list) or len(blocks) > VIEW_BLOCKS:
            return {"ok": False, "error": "invalid_arguments"}
        for block in blocks:
            text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
            if block.get("type") == "section" and len(str(text)) > SECTION_TEXT_CHARS:
                return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _refusal(self, method: str, args: dict[str, Any]) -> str | None:
        """The error Slack would answer this call with, if any."""
        scope = NEEDS_SCOPE.get(method)
        if scope and scope not in self.scopes:
            return "missing_scope"
        if method not in POSTING:
            return None
        channel = str(args.get("channel", ""))
        if channel in self.foreign_dms:
            return "channel_not_found"
        if channel in self.refuse_channels:
            return "not_in_channel"
        if channel in self.archived_channels:
            return "is_archived"
        if channel in self.restricted_channels and method != "chat.postEphemeral":
            return "restricted_action"
        return _blocks_refusal(args.get("blocks"), self.native_feedback)

    def _set_status(self, args: dict[str, Any]) -> dict[str, Any]:
        """A loading status in a thread: up to 10 `loading_messages`, rotated by Slack."""
        loading = _json_arg(args.get("loading_messages"))
        if not (args.get("channel_id") and args.get("thread_ts")) or "status" not in args:
            return {"ok": False, "error": "invalid_arguments"}
        if loading is not None and (
            not isinstance(loading, list) or len(loading) > MAX_LOADING_MESSAGES
        ):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _suggest(self, args: dict[str, Any]) -> dict[str, Any]:
        """Suggested prompts: in the agent experience without `thread_ts` (with one the call
        silently does nothing), in the assistant experience for a thread
        (docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts)."""
        prompts = _json_arg(args.get("prompts"))
        if not isinstance(prompts, list) or not 0 < len(prompts) <= MAX_PROMPTS:
            return {"ok": False, "error": "invalid_arguments"}
        if not all(isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts):
            return {"ok": False, "error": "invalid_arguments"}
        threaded = bool(args.get("thread_ts"))
        if self.experience == "assistant" and not threaded:
            return {"ok": False, "error": "invalid_thread_ts"}
        if self.experience == "assistant" or not threaded:
            with self._changed:
                self.suggested.append({"channel_id": args.get("channel_id"), "prompts": prompts})
        return {"ok": True}

    def _stream(self, method: str, args: dict[str, Any], channel: str, ts: str) -> dict[str, Any]:
        """Slack's chat streaming: a reply in a thread, to a named person in channels."""
        markdown = Call(method, args, None).markdown
        if not _chunks_valid(args.get("chunks")):
            return {"ok": False, "error": "invalid_chunks"}
        if method == "chat.startStream":
            if self.refuse_streaming:
                return {"ok": False, "error": self.refuse_streaming}
            if not args.get("thread_ts"):
                return {"ok": False, "error": "invalid_arguments"}
            if not channel.startswith("D") and not (
                args.get("recipient_user_id") and args.get("recipient_team_id")
            ):
                return {"ok": False, "error": "invalid_arguments"}
            if not self._recipient_team_matches(args):
                return {"ok": False, "error": "invalid_arguments"}
            with self._changed:
                self.posted.add((channel, ts))
                self.streams[ts] = Stream(channel, str(args["thread_ts"]), ts, markdown)
                self.streams[ts].tasks = tasks_of([Call(method, args, None)])
            return {"ok": True, "channel": channel, "ts": ts}
        stream = self.streams.get(str(args.get("ts")))
        if stream is None or stream.channel != channel:
            return {"ok": False, "error": "message_not_found"}
        if stream.stopped:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        blocks = Call(method, args, None).blocks
        if method == "chat.stopStream":  # the final message: the streamed text, then blocks
            final = [{"type": "markdown", "text": stream.markdown + markdown}, *blocks]
            if blocks_size(final) > BLOCKS_LIMIT:
                return {"ok": False, "error": "msg_blocks_too_long"}
        with self._changed:
            stream.markdown += markdown
            stream.tasks += tasks_of([Call(method, args, None)])
            if method == "chat.stopStream":
                stream.blocks = blocks
                stream.stopped = True
        return {"ok": True, "channel": channel, "ts": stream.ts}

    def _recipient_team_matches(self, args: dict[str, Any]) -> bool:
        """`recipient_team_id` is the team of the user receiving the stream: a scripted
        person's own team (`users`), else the workspace's."""
        user = args.get("recipient_user_id")
        team = args.get("recipient_team_id")
        if not user or not team:
            return True
        return team == self.users.get(str(user), {}).get("team_id", TEAM_ID)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                args = _parse_body(raw, self.headers.get("Content-Type", ""))
                if self.path.startswith("/response/"):
                    self._respond(self.path.removeprefix("/response/"), args)
                    return
                method = self.path.removeprefix("/api/").split("?", 1)[0]
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
                token = token or args.pop("token", None)
                call = Call(method, args, token)
                failure = fake._next_failure(method)
                if failure is not None:
                    call.response = failure.body
                    fake._record(call)
                    self._fail(failure)
                    return
                call.response = fake._answer(method, args, token)
                fake._record(call)
                self._send(200, call.response)

            def _respond(self, key: str, args: dict[str, Any]) -> None:
                name, issued = fake._issued.get(key, (key.split("/")[0], time.monotonic()))
                failure = fake._next_failure(f"response/{name}")
                if failure is not None:
                    self._fail(failure)
                    return
                with fake._changed:
                    fake._used[key] = fake._used.get(key, 0) + 1
                    used = fake._used[key]
                if time.monotonic() - issued > RESPONSE_URL_SECONDS:
                    self._send_text(404, "expired_url")
                    return
                if used > RESPONSE_URL_USES:
                    self._send_text(404, "used_url")
                    return
                refusal = _blocks_refusal(args.get("blocks"), fake.native_feedback)
                if refusal:
                    self._send(400, {"ok": False, "error": refusal})
                    return
                with fake._changed:
                    fake.responses.setdefault(name, []).append(args)
                    fake.response_times.setdefault(name, []).append(time.perf_counter())
                    fake._changed.notify_all()
                self._send(200, {"ok": True})

            def _send_text(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _fail(self, failure: Failure) -> None:
                path = (
                    self.path.rsplit("/", 1)[0] if self.path.startswith("/response/") else self.path
                )
                with fake._changed:
                    fake.failed.append((path, time.perf_counter()))
                if failure.drop:
                    self._drop(failure.drop)
                else:
                    self._send(failure.status, failure.body, failure.headers)

            def _drop(self, how: str) -> None:
                self.close_connection = True
                if how == "reset":  # SO_LINGER 0: closing sends a reset at once
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.connection.close()
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)

            def _send(
                self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


def _json_arg(value: Any) -> Any:
    """An argument sent as JSON or as a form field holding JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _chunks_valid(raw: Any) -> bool:
    """Streaming chunks as Slack takes them: markdown text, and task updates with an id, a
    title, a known status and sources that each have a URL and a text
    (docs.slack.dev/reference/methods/chat.appendStream)."""
    chunks = _json_arg(raw)
    if chunks is None:
        return True
    if not isinstance(chunks, list):
        return False
    for chunk in chunks:
        if not isinstance(chunk, dict):
            return False
        if chunk.get("type") == "task_update":
            if not (chunk.get("id") and chunk.get("title")):
                return False
            if chunk.get("status") not in TASK_STATUSES:
                return False
            for source in chunk.get("sources") or []:
                # A source is a URL source element: a web address and its text
                # (docs.slack.dev/reference/methods/chat.appendStream, task_update chunks).
                url = str(source.get("url") or "")
                if source.get("type") != "url" or not source.get("text"):
                    return False
                if not url.lower().startswith(("http://", "https://")):
                    return False
        elif chunk.get("type") not in ("markdown_text", "plan_update", "blocks"):
            return False
    return True


def tasks_of(calls: list[Call]) -> list[dict[str, Any]]:
    """Every task update the streaming calls among `calls` carried, in order."""
    found = []
    for call in calls:
        chunks = _json_arg(call.args.get("chunks")) or []
        found += [c for c in chunks if isinstance(c, dict) and c.get("type") == "task_update"]
    return found


def _blocks_refusal(blocks: Any, native_feedback: bool) -> str | None:
    if not blocks:
        return None
    if blocks_size(blocks) > BLOCKS_LIMIT:
        return "msg_blocks_too_long"
    parsed = json.loads(blocks) if isinstance(blocks, str) else blocks
    if not native_feedback and {"context_actions", "feedback_buttons"} & _block_types(parsed):
        return "invalid_blocks"
    return None


def _view_refusal(view: dict[str, Any]) -> str | None:
    """Why Slack would refuse a modal (None: it would open it)."""
    title = (view.get("title") or {}).get("text", "")
    blocks = view.get("blocks") or []
    inputs = any(b.get("type") == "input" for b in blocks if isinstance(b, dict))
    if view.get("type") != "modal" or not title or len(title) > VIEW_TITLE_CHARS:
        return "title"
    if not blocks or len(blocks) > VIEW_BLOCKS:
        return "blocks"
    if inputs and not view.get("submit"):
        return "an input without a submit button"
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA_CHARS:
        return "private_metadata"
    return None


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


def _parse_body(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(raw, keep_blank_values=True))
