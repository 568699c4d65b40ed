"""A scripted OpenAI-compatible chat server on 127.0.0.1, at the wire protocol.

`POST /v1/chat/completions` answers with the next scripted `Reply`: streamed as server-sent
events when the request asks for a stream (as langchain-openai's `ChatOpenAI` does here),
else as one JSON completion. A reply can wait before its first byte (a timeout), pause
between pieces, fail with an HTTP status, or send a malformed body. Like a real server it
can send SSE keep-alive comments (`: ping`) while it "thinks" and hold the stream open
after the text, send one huge chunk, or text with lone surrogates (JSON's `"\\ud83d"`).
Requests are recorded, so tests can read the prompt the bot sent and see when the client
hung up.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer.

    Attributes:
        text: What the model "writes".
        pieces: How it is streamed; by default word by word.
        delay: Seconds before the first byte.
        pause: Seconds between pieces.
        status: An HTTP error status instead of an answer.
        raw: A body sent as is instead of well-formed events (malformed output).
        ping: Seconds between SSE keep-alive comments (`: ping`) while the server waits
            (0: none), as llama.cpp, vLLM and hosted APIs send them.
        hold: Seconds the stream stays open after the text, pinging, before it ends.
    """

    text: str = ""
    pieces: list[str] | None = None
    delay: float = 0.0
    pause: float = 0.0
    status: int = 200
    raw: str | None = None
    ping: float = 0.0
    hold: float = 0.0

    def chunks(self) -> list[str]:
        if self.pieces is not None:
            return self.pieces
        words = self.text.split(" ")
        return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


@dataclass
class Request:
    """One request the client made, and when each of its pieces left the server."""

    body: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)
    sent_at: list[float] = field(default_factory=list)
    hung_up_at: float | None = None  # time.monotonic() when a write found the client gone
    size: int = 0  # bytes of the request body

    @property
    def prompt(self) -> str:
        """Every message's content, joined (for assertions on what the model was shown)."""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


class FakeChatServer:
    """The stand-in. Use as a context manager; `script()` the replies, read `requests`."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True

    @property
    def base_url(self) -> str:
        """What ANSWER_MODEL is set to."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order (an empty reply once they run out)."""
        with self._lock:
            self.replies.extend(replies)

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> tuple[Reply, Request]:
        with self._lock:
            request = Request(body)
            self.requests.append(request)
            return (self.replies.pop(0) if self.replies else Reply()), request

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                reply, request = fake._next(body)
                request.size = length
                if not body.get("stream") or not reply.ping:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    error = {"error": {"message": "scripted failure", "type": "server_error"}}
                    self._send(reply.status, "application/json", json.dumps(error))
                elif body.get("stream"):
                    self._stream(reply, request)
                else:
                    self._send(200, "application/json", reply.raw or _completion(reply.text))

            def _stream(self, reply: Reply, request: Request) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                self.request_record = request
                if reply.raw is not None:
                    self._event(reply.raw)
                    return
                self._wait(reply.delay, reply.ping)
                for index, piece in enumerate(reply.chunks()):
                    if index:
                        self._wait(reply.pause, reply.ping)
                    if not self._event(json.dumps(_chunk({"content": piece}, None))):
                        return
                    request.sent_at.append(time.perf_counter())
                if self._wait(reply.hold, reply.ping):
                    self._event(json.dumps(_chunk({}, "stop")))
                    self._event("[DONE]")

            def _wait(self, seconds: float, ping: float) -> bool:
                """Wait, sending keep-alive comments every `ping` seconds; False once the
                client has hung up."""
                if not ping:
                    time.sleep(seconds)
                    return True
                until = time.monotonic() + seconds
                while (left := until - time.monotonic()) > 0:
                    time.sleep(min(ping, left))
                    if not self._write(b": ping\n\n"):
                        return False
                return True

            def _event(self, data: str) -> bool:
                return self._write(f"data: {data}\n\n".encode())

            def _write(self, data: bytes) -> bool:
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                    return True
                except OSError:  # the client gave up (a timeout): note when
                    record = getattr(self, "request_record", None)
                    if record is not None and record.hung_up_at is None:
                        record.hung_up_at = time.monotonic()
                    return False

            def _send(self, status: int, content_type: str, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


def _chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "standin",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(text: str) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": 0,
            "model": "standin",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )
