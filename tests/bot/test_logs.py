"""What the bot writes to its logs: never a token, never what people asked."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactSecrets, redact
from testing.slack_standin import interactions, payloads
from testing.slack_standin.interactions import buttons_of
from tests.bot.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, RunningBot

QUESTION = "who was Cienfuegos, the defense minister?"


def _converse(bot: RunningBot) -> None:
    """A mention, a DM, an /ask with its share click, and a feedback click."""
    bot.mention(QUESTION)
    bot.deliver_event(payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im"))
    bot.socket.wait_ack(bot.command(QUESTION, reply_to="ask"))
    private = bot.web.wait_for_response("ask")[0]
    bot.click(
        buttons_of(private["blocks"])["share_answer"],
        "U0REPORTER",
        "C0NEWSDESK",
        "share",
        ephemeral=True,
    )
    posted = bot.answers("C0NEWSDESK", count=2)[0]
    up = interactions.feedback_click(buttons_of(posted.blocks)["feedback"], positive=True)
    bot.click(up, "U0REPORTER", "C0NEWSDESK", "fb")
    bot.answers("D0REPORTER")
    bot.web.wait_for_response("fb")


def test_no_token_reaches_the_logs_even_at_debug(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Every library at DEBUG through a whole conversation: no token, no signing secret."""
    caplog.set_level(logging.DEBUG)
    _converse(bot)
    assert "chat.postMessage" in caplog.text or "answered in" in caplog.text
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET):
        assert secret not in caplog.text


def test_our_log_lines_carry_no_message_text(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot's and the core's own lines (at DEBUG) say counts and ids, not the question."""
    caplog.set_level(logging.DEBUG)
    _converse(bot)
    ours = [
        r
        for r in caplog.records
        if r.name.startswith(("bot", "core")) and not r.name.startswith("bot.bolt")
    ]
    assert any("answered in" in r.getMessage() for r in ours)
    for record in ours:
        assert "Cienfuegos" not in record.getMessage()


def test_token_shapes_are_masked_by_the_log_filter() -> None:
    """A token that slips into a log line is masked before it is written."""
    line = f"calling with {BOT_TOKEN} and {APP_TOKEN} and secret {SIGNING_SECRET}"
    assert BOT_TOKEN not in redact(line) and APP_TOKEN not in redact(line)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (line,), None)
    RedactSecrets([SIGNING_SECRET]).filter(record)
    shown = record.getMessage()
    assert "xoxb-…redacted" in shown and "xapp-…redacted" in shown
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET):
        assert secret not in shown


def test_tokens_and_bodies_inside_logged_exceptions_are_masked(bot_log) -> None:  # noqa: ANN001
    """A traceback whose exception carries a token or a request body is written masked."""
    body = {"token": "legacy-verification-token", "event": {"text": QUESTION}}
    try:
        raise RuntimeError(f"calling with {BOT_TOKEN} failed for {body}")
    except RuntimeError:
        logging.getLogger("bot.responder").exception("answering failed")
    logged = bot_log.getvalue()
    assert "answering failed" in logged and "RuntimeError" in logged
    assert "xoxb-…redacted" in logged
    for secret in (BOT_TOKEN, "legacy-verification-token", "Cienfuegos"):
        assert secret not in logged
