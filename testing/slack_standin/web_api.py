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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from testing.slack_standin.calls import Call, Failure, Stream
from testing.slack_standin.manifest import manifest_problems
from testing.slack_standin.rules import (
    APP_ID,
    RESPONSE_URL_SECONDS,
    RESPONSE_URL_USES,
    SCOPES,
    blocks_refusal,
)
from testing.slack_standin.web_methods import WebMethods


class FakeSlackWebAPI(WebMethods):
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
                refusal = blocks_refusal(args.get("blocks"), fake.native_feedback)
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


def _parse_body(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(raw, keep_blank_values=True))
