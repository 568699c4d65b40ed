"""Socket Mode sockets going away: closed by Slack, ended or reset under the bot, or silent.

Every fault is made by the stand-in at the wire; the bot is the production app and must be
back on a new socket, answering, within seconds, by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from testing.slack_standin import payloads
from tests.bot.conftest import RunningBot

QUESTION = "who was Cienfuegos?"


@pytest.mark.parametrize("how", ["close", "eof", "reset"])
def test_socket_mode_reconnects_at_once_when_the_socket_goes(
    bot: RunningBot, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Slack closes the WebSocket, or the TCP connection ends or resets under it: the bot
    opens a new one within seconds (measured ~0.5 s) and answers on it."""
    dropped_at = bot.socket.drop(how)
    bot.socket.wait_connected(connections=2, timeout=15)
    seconds = bot.socket.connected_at[1] - dropped_at
    with capsys.disabled():
        print(f"\nSocket Mode reconnect after {how}: {seconds:.2f} s")
    assert seconds < 3.0
    delivery, _ = bot.mention(QUESTION)
    assert bot.socket.wait_ack(delivery).ack_seconds < 1.0
    assert "Cienfuegos" in bot.answers("C0NEWSDESK")[0].shown


def test_a_refresh_slack_asks_for_moves_to_a_new_socket_at_once(
    bot: RunningBot, capsys: pytest.CaptureFixture[str]
) -> None:
    """Start-up opens one connection, not two; Slack's "disconnect: refresh_requested" gets
    a new socket within a second (replacing the old one once stalled the client for 10 s)."""
    time.sleep(1.0)  # a second connection at start-up would have come by now
    assert bot.socket.connections == 1
    asked_at = time.perf_counter()
    bot.socket.refresh()
    bot.socket.wait_connected(connections=2, timeout=15)
    seconds = bot.socket.connected_at[1] - asked_at
    with capsys.disabled():
        print(f"\nSocket Mode reconnect after Slack's refresh request: {seconds:.2f} s")
    assert seconds < 3.0
    bot.mention(QUESTION)
    assert "Cienfuegos" in bot.answers("C0NEWSDESK")[0].shown


def test_socket_mode_reconnects_when_slack_stops_answering_pings(
    start_bot: Callable[..., RunningBot],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A connection that stays open but goes silent (no pongs): a new socket about two ping
    intervals later, and questions are answered on it."""
    bot = start_bot(ping_interval=1.0)
    before = bot.socket.connections
    stalled_at = bot.socket.stall()
    bot.socket.wait_connected(connections=before + 1, timeout=15)
    seconds = bot.socket.connected_at[before] - stalled_at
    with capsys.disabled():
        print(f"\nSocket Mode reconnect after a silent stall (ping every 1 s): {seconds:.2f} s")
    assert "stopped answering pings" in caplog.text
    assert seconds < 5.0
    event = payloads.app_mention(QUESTION, "U0REPORTER", "C0NEWSDESK")
    bot.socket.wait_ack(bot.deliver_event(event))
    assert "Cienfuegos" in bot.answers("C0NEWSDESK")[0].shown


def test_socket_mode_keeps_trying_while_slack_refuses_new_connections(
    start_bot: Callable[..., RunningBot],
) -> None:
    """apps.connections.open answers 500 for a while after the socket drops: the bot keeps
    trying and is back once Slack is, without a restart."""
    bot = start_bot(ping_interval=1.0)
    for _ in range(3):  # the first reconnect attempt and both of its retries
        bot.web.fail_next("apps.connections.open", 500, {"ok": False, "error": "internal_error"})
    bot.socket.drop("reset")
    bot.socket.wait_connected(connections=2, timeout=20)
    assert len(bot.web.failed) == 3
    bot.mention(QUESTION)
    assert "Cienfuegos" in bot.answers("C0NEWSDESK")[0].shown
