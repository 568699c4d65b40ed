"""HTTP mode under hostile or broken clients: oversized and dishonest bodies, garbage,
payloads that say nothing, trickling connections; and what the log shows of them."""

from __future__ import annotations

import contextlib
import io
import json
import selectors
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bot.answerer import ArchiveAnswerer
from core.settings import Settings
from testing.slack_standin import interactions, payloads
from tests.bot.conftest import SIGNING_SECRET
from tests.bot.http_bot import ONE_MB, HttpBot, Reply, mention_body, send, serve_http

pytestmark = pytest.mark.integration  # a bot served over HTTP to the Slack stand-in


@pytest.mark.parametrize("size", [ONE_MB + 1, 5 * ONE_MB], ids=["1 MB + 1", "5 MB"])
def test_oversized_bodies_are_refused_with_413(http_bot: HttpBot, size: int) -> None:
    """A body over 1 MB is refused before anything reads it, even correctly signed, and the
    sender gets the 413 (not a broken connection)."""
    event = payloads.event_callback(
        payloads.app_mention("who was Cienfuegos?", "U0REPORTER", "C0NEWSDESK")
    )
    body = json.dumps({**event, "padding": ""})
    body = body[:-2] + "x" * (size - len(body)) + body[-2:]
    assert len(body) == size
    reply = http_bot.post(body, "application/json")
    assert reply.status == 413 and "too large" in reply.body
    http_bot.settle()
    assert not http_bot.web.calls_to("chat.postMessage")


def test_a_large_body_under_the_cap_is_still_served(http_bot: HttpBot) -> None:
    """Just under 1 MB and signed: accepted and answered (the cap stops only what Slack never
    sends)."""
    event = payloads.event_callback(
        payloads.app_mention("who was Cienfuegos?", "U0REPORTER", "C0NEWSDESK")
    )
    body = json.dumps({**event, "padding": "x" * (ONE_MB - 2000)})
    assert len(body) <= ONE_MB
    assert http_bot.post(body, "application/json").status == 200
    assert "Cienfuegos" in http_bot.web.wait_for("chat.postMessage")[0].shown


def _raw_post(url: str, headers: dict[str, str], body: bytes, wait: float = 5.0) -> int | None:
    """POST over a bare socket that stays open (as a slow or hostile client keeps it): the
    status line the bot answers within `wait` seconds, or None when it answers nothing."""
    host, port = url.removeprefix("http://").split(":")
    lines = ["POST /slack/events HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sender = threading.Thread(target=_send_quietly, args=(sock, head + body), daemon=True)
        sender.start()
        try:
            status_line = sock.makefile("rb").readline()
        except OSError:
            return None
    parts = status_line.split()
    return int(parts[1]) if len(parts) > 1 else None


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(data)


@pytest.mark.parametrize(
    "length", ["-1", "-5", "garbage", "0x10", None], ids=["-1", "-5", "garbage", "hex", "missing"]
)
def test_a_body_without_an_honest_length_is_refused_without_reading_it(
    http_bot: HttpBot, length: str | None
) -> None:
    """Content-Length -1, garbage or missing, with 3 MB following on a connection the client
    keeps open: the bot answers 4xx at once instead of reading until the client gives up."""
    headers = {"Content-Type": "application/json"}
    if length is not None:
        headers["Content-Length"] = length
    status = _raw_post(http_bot.url, headers, b"{" + b"x" * (3 * ONE_MB))
    assert status is not None and 400 <= status < 500, status
    assert http_bot.get("/healthz").status == 200


FORGED_QUESTION = "what did the confidential source tell us about the merger"


def test_a_refused_request_leaves_no_body_in_the_log(http_bot: HttpBot, bot_log) -> None:  # noqa: ANN001
    """Forged event, command and click: the log names no question, verification token or
    response_url (Bolt logs the whole body when a signature check fails)."""
    event = payloads.event_callback(payloads.app_mention(FORGED_QUESTION, "U0X", "C0NEWSDESK"))
    command = interactions.slash_command(FORGED_QUESTION, "U0X", "C0X", "https://hooks.example/r1")
    button = {"action_id": "share_answer", "text": {}, "value": json.dumps({"q": FORGED_QUESTION})}
    click = interactions.block_actions(button, "U0X", "C0X", "https://hooks.example/r2")
    bodies = [
        payloads.json_body(event),
        payloads.form_body(command),
        payloads.interactive_body(click),
    ]
    for body, content_type in bodies:
        assert http_bot.post(body, content_type, secret="0" * 32).status == 401
    logged = bot_log.getvalue()
    for secret in ("confidential source", "legacy-verification-token", "hooks.example", "merger"):
        assert secret not in logged


def test_a_malformed_request_line_is_not_quoted_in_the_log(http_bot: HttpBot, bot_log) -> None:  # noqa: ANN001
    """A request line the HTTP server cannot parse gets 400 (it used to crash the handler,
    which answered nothing); the log says so without quoting the line, whose query string
    may carry a question or a token."""
    host, port = http_bot.url.removeprefix("http://").split(":")
    line = b"GET /slack/events?q=what+did+the+confidential+source+say HTTP/1.1 extra\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(line)
        reply = sock.makefile("rb").read()  # an error page: the request had no HTTP version
    assert b"Error code: 400" in reply, reply
    logged = bot_log.getvalue()
    assert "status 400" in logged
    assert "confidential" not in logged and "q=" not in logged


@pytest.mark.parametrize(
    "pasted", [SIGNING_SECRET + "\n", f"  {SIGNING_SECRET}\r\n", "\t" + SIGNING_SECRET]
)
def test_a_signing_secret_pasted_with_whitespace_still_verifies(
    archive: Settings, archive_answerer: ArchiveAnswerer, tmp_path: Path, pasted: str
) -> None:
    """SLACK_SIGNING_SECRET with a trailing newline (as `echo >> .env` leaves it) is trimmed
    like the tokens are: Slack's correctly signed requests are accepted, not all refused."""
    with serve_http(archive, archive_answerer, tmp_path, slack_signing_secret=pasted) as bot:
        body, content_type, _ = mention_body("who was Cienfuegos?", "Ev0PASTED")
        assert bot.post(body, content_type).status == 200
        assert "Cienfuegos" in bot.web.wait_for("chat.postMessage")[0].shown


def _post_raw(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    request = urllib.request.Request(f"{url}/slack/events", body, headers, method="POST")
    return send(request)


def test_unauthenticated_garbage_gets_a_4xx_and_one_quiet_line(
    http_bot: HttpBot,
    bot_log,  # noqa: ANN001
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A scanner's requests (non-numeric timestamp, non-UTF-8 body, malformed JSON, no
    signature at all) get 400/401, never a 500, and at most one INFO line per kind of
    refusal however many arrive: no ERROR, no traceback to flood the log."""
    good_ts = str(int(time.time()))
    json_type = {"Content-Type": "application/json"}
    garbage = [
        (b'{"type": "event_callback"}', {**json_type, "X-Slack-Request-Timestamp": "soon"}),
        (b"\xff\xfe\x00bad", {**json_type, "X-Slack-Request-Timestamp": good_ts}),
        (b'{"type": "event_callback", ', {**json_type, "X-Slack-Request-Timestamp": good_ts}),
        (b"payload=%7Bnot-json", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b'{"type": "event_callback"}', json_type),
    ]
    for _ in range(4):
        for body, headers in garbage:
            reply = _post_raw(http_bot.url, body, {"X-Slack-Signature": "v0=00", **headers})
            assert reply.status in (400, 401), (body, reply.status)
    for body, headers in garbage[1:3]:  # signed correctly, yet garbage: 400
        signature = payloads.sign_bytes(body, SIGNING_SECRET)
        assert _post_raw(http_bot.url, body, {**headers, **signature}).status == 400, body
    logged = bot_log.getvalue() + capsys.readouterr().err
    assert "ERROR" not in logged and "Traceback" not in logged
    assert len(logged.splitlines()) <= 5, logged


def _wait_for_lines(log: io.StringIO, marker: str, count: int, timeout: float = 10.0) -> list[str]:
    """The log's lines holding `marker`, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in log.getvalue().splitlines() if marker in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_signed_payloads_that_do_not_say_who_or_where_are_dropped_quietly(
    http_bot: HttpBot,
    bot_log: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Signed clicks, commands and events without a user, a channel or a response_url: each
    acked with 200 (not a 500), one warning line each without the body, a private notice
    where someone can be told, nothing posted, no ERROR and no traceback."""
    url = http_bot.web.response_url("click")
    share = {"action_id": "share_answer", "text": {}, "value": json.dumps({"q": FORGED_QUESTION})}
    vote = {"action_id": "feedback_up", "text": {}, "value": json.dumps({"id": "0" * 16})}
    no_user = interactions.block_actions(share, "U0X", "C0NEWSDESK", url)
    del no_user["user"]
    no_channel = interactions.block_actions(share, "U0X", "C0NEWSDESK", url)
    del no_channel["channel"], no_channel["container"]["channel_id"]
    no_url = interactions.block_actions(share, "U0REPORTER", "C0NEWSDESK", url)
    del no_url["response_url"]
    vote_no_user = interactions.block_actions(vote, "U0X", "C0NEWSDESK", url)
    vote_no_user["user"] = "U0X"  # not even an object
    command = interactions.slash_command(FORGED_QUESTION, "U0X", "C0NEWSDESK", url)
    commands = [
        {k: v for k, v in command.items() if k != drop} for drop in ("user_id", "channel_id")
    ]
    home = payloads.app_home_opened("U0X")
    del home["user"]
    mention = payloads.app_mention(FORGED_QUESTION, "U0X", "C0NEWSDESK")
    del mention["channel"]
    bodies = [payloads.interactive_body(p) for p in (no_user, no_channel, no_url, vote_no_user)]
    bodies += [payloads.form_body(c) for c in commands]
    bodies += [payloads.json_body(payloads.event_callback(e)) for e in (home, mention)]
    for body, content_type in bodies:
        assert http_bot.post(body, content_type).status == 200, body[:80]
    no_response_url = {k: v for k, v in command.items() if k != "response_url"}
    reply = http_bot.post(*payloads.form_body({**no_response_url, "user_id": "U0REPORTER"}))
    assert reply.status == 200 and "incomplete" in reply.body
    [notice] = http_bot.web.wait_for("chat.postEphemeral")
    assert notice.args["user"] == "U0REPORTER" and "incomplete" in notice.args["text"]
    dropped = _wait_for_lines(bot_log, "does not say who or where", 7)
    assert len(dropped) == 7 and all("WARNING" in line for line in dropped)
    assert len(_wait_for_lines(bot_log, "without a response_url", 1)) == 1
    logged = bot_log.getvalue() + capsys.readouterr().err
    assert "ERROR" not in logged and "Traceback" not in logged
    assert FORGED_QUESTION not in logged and "merger" not in logged
    assert not http_bot.web.calls_to("chat.postMessage") and "click" not in http_bot.web.responses


class _Watch:
    """Connections a hostile client holds open: when the bot answered or closed each one
    (seconds after `started`), and the most threads this process ran meanwhile."""

    def __init__(self, conns: list[socket.socket], started: float):
        self.conns, self.started = conns, started
        self.ended: dict[int, float] = {}
        self.peak_threads = threading.active_count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        selector = selectors.DefaultSelector()
        for n, conn in enumerate(self.conns):
            selector.register(conn, selectors.EVENT_READ, n)
        while len(self.ended) < len(self.conns) and not self._stop.is_set():
            self.peak_threads = max(self.peak_threads, threading.active_count())
            for key, _ in selector.select(timeout=0.05):
                with contextlib.suppress(OSError):
                    key.fileobj.recv(65536)  # type: ignore[union-attr]
                self.ended[key.data] = time.monotonic() - self.started
                selector.unregister(key.fileobj)
        selector.close()

    def wait(self, count: int, timeout: float) -> list[float]:
        """The end times, once `count` connections have ended (or at the timeout)."""
        deadline = time.monotonic() + timeout
        while len(self.ended) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return sorted(self.ended.values())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.conns:
            conn.close()


def _trickle(conns: list[socket.socket], stop: threading.Event) -> None:
    """One more byte of an endless header line on every connection, five times a second."""
    while not stop.wait(0.2):
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.send(b"a")


def test_trickling_connections_hold_few_threads_for_a_bounded_time(
    archive: Settings,
    archive_answerer: ArchiveAnswerer,
    tmp_path: Path,
    bot_log: io.StringIO,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """50 connections trickling their headers a byte at a time, with the bot's cap at 10:
    40 are turned away at once, the bot's threads stay bounded, every trickler is cut at
    the 3 s deadline however it trickles, and Slack's signed request is answered meanwhile;
    the log gets a few quiet lines, no traceback."""
    limits = {"max_arriving": 10, "arrival_seconds": 3.0, "evict_after": 0.5}
    with serve_http(archive, archive_answerer, tmp_path, limits) as bot:
        host, port = bot.url.removeprefix("http://").split(":")
        baseline = threading.active_count()
        started = time.monotonic()
        conns = [socket.create_connection((host, int(port)), timeout=5) for _ in range(50)]
        for conn in conns:
            conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        stop = threading.Event()
        trickler = threading.Thread(target=_trickle, args=(conns, stop), daemon=True)
        trickler.start()
        watch = _Watch(conns, started)
        try:
            turned_away = watch.wait(40, timeout=5)
            assert len(turned_away) == 40 and turned_away[-1] < 1.0, turned_away
            time.sleep(max(0.0, started + 0.7 - time.monotonic()))  # the tricklers age
            threads_while_held = watch.peak_threads - baseline
            body, content_type, _ = mention_body("who was Cienfuegos?", "Ev0CAPHIT")
            assert bot.post(body, content_type).status == 200
            assert "Cienfuegos" in bot.web.wait_for("chat.postMessage")[0].shown
            ended = watch.wait(50, timeout=6)
        finally:
            stop.set()
            watch.close()
        assert threads_while_held <= 10 + 3, threads_while_held  # tricklers, watcher
        late = [t for t in ended if t > 1.0]
        assert len(ended) == 50 and len(late) >= 8, ended  # one made room for Slack's
        assert all(2.9 <= t <= 4.0 for t in late[-8:]), late
    logged = bot_log.getvalue() + capsys.readouterr().err
    assert "Traceback" not in logged and "ERROR" not in logged
    assert len([line for line in logged.splitlines() if "refused a request" in line]) <= 4


def test_a_body_one_byte_short_is_cut_at_the_deadline(
    archive: Settings, archive_answerer: ArchiveAnswerer, tmp_path: Path
) -> None:
    """Connections that send 1 MB minus one byte of a 1 MB body and wait: answered 400 at
    the 2 s deadline, instead of each holding a thread and a megabyte for 30 s or more."""
    limits = {"max_arriving": 10, "arrival_seconds": 2.0}
    with serve_http(archive, archive_answerer, tmp_path, limits) as bot:
        host, port = bot.url.removeprefix("http://").split(":")
        head = (
            "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {ONE_MB}\r\n\r\n"
        ).encode()
        started = time.monotonic()
        conns = [socket.create_connection((host, int(port)), timeout=5) for _ in range(5)]
        for conn in conns:
            conn.sendall(head + b"x" * (ONE_MB - 1))
        watch = _Watch(conns, started)
        try:
            ended = watch.wait(5, timeout=6)
        finally:
            watch.close()
        assert len(ended) == 5 and all(1.9 <= t <= 3.0 for t in ended), ended
