"""When Slack refuses what the bot sends, the asker hears why, privately, by a path that works;
and what the bot sends stays within what Slack accepts."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.answerer import ArchiveAnswerer
from core.settings import Settings
from testing.slack_standin import interactions, payloads
from testing.slack_standin.interactions import buttons_of
from testing.slack_standin.rules import BLOCKS_LIMIT, blocks_size
from tests.bot.conftest import RunningBot

QUESTION = "who was Cienfuegos?"


@pytest.mark.parametrize(
    "where, told_by, says",
    [
        ("restricted_channels", "chat.postEphemeral", "posting there is restricted"),
        ("archived_channels", "chat.postMessage", "archived"),
        ("refuse_channels", "chat.postMessage", "`/invite` <@U0BOT>"),
    ],
    ids=["restricted_action", "is_archived", "not_in_channel"],
)
def test_an_answer_slack_refuses_is_explained_to_the_asker_privately(
    bot: RunningBot, where: str, told_by: str, says: str
) -> None:
    """The answer cannot be posted: the asker gets what happened and what to do, as an
    ephemeral message where that works, else as a DM from the app; nobody else sees it."""
    getattr(bot.web, where).add("C0LOCKED")
    bot.mention(QUESTION, user="U0ASKER", channel="C0LOCKED")
    notice = bot.web.wait_for(
        told_by, lambda c: c.args.get("channel") != "C0LOCKED" or c.method != "chat.postMessage"
    )[0]
    text = str(notice.args["text"])
    assert "couldn't post my answer" in text and says in text
    assert notice.args.get("user", "U0ASKER") == "U0ASKER"
    if told_by == "chat.postMessage":
        assert notice.args["channel"] == "U0ASKER"  # the app's DM with the asker
    assert "Traceback" not in text and "error" not in text


def test_blocks_slack_refuses_fall_back_to_plain_text_then_a_private_notice(
    bot: RunningBot,
) -> None:
    """invalid_blocks on every form of the answer: the plain-text form is tried last, and
    when even that fails the asker is told privately."""
    refused = {"ok": False, "error": "invalid_blocks"}
    bot.web.fail_next("chat.postMessage", 200, refused)
    bot.web.fail_next("chat.postMessage", 200, refused)
    bot.mention(QUESTION, user="U0ASKER")
    posts = bot.web.wait_for("chat.postMessage", count=3)
    assert "blocks" not in posts[2].args and "Cienfuegos" in posts[2].args["text"]
    for _ in range(3):
        bot.web.fail_next("chat.postMessage", 200, refused)
    bot.mention(QUESTION, user="U0ASKER")
    [notice] = bot.web.wait_for("chat.postEphemeral")
    assert notice.args["user"] == "U0ASKER" and "layout" in notice.args["text"]


def test_a_workspace_without_feedback_buttons_gets_the_classic_ones(bot: RunningBot) -> None:
    """Slack's feedback_buttons refused (invalid_blocks): the answer goes out with 👍/👎
    buttons at once, and later answers skip the refused form."""
    bot.web.native_feedback = False
    bot.mention(QUESTION)
    first, second = bot.web.wait_for("chat.postMessage", count=2)
    assert first.response["error"] == "invalid_blocks"
    assert set(buttons_of(second.blocks)) == {"feedback_up", "feedback_down"}
    bot.mention("when was he arrested?")
    third = bot.web.wait_for("chat.postMessage", count=3)[2]
    assert third.response["ok"] and "feedback_up" in buttons_of(third.blocks)


def test_ten_long_passages_fit_in_one_message_slack_takes(
    start_bot: Callable[..., RunningBot], long_archive: Settings
) -> None:
    """ANSWER_PASSAGES=10 over long articles with long titles and URLs: one message Slack
    takes (the stand-in answers msg_blocks_too_long over its limit), with ten passages."""
    answerer = ArchiveAnswerer(long_archive.model_copy(update={"answer_passages": 10}))
    bot = start_bot(answerer=answerer)
    bot.mention("what did the council decide about the Riverside footbridge budget?")
    [answer] = bot.answers("C0NEWSDESK")
    assert answer.response["ok"], answer.response
    assert blocks_size(answer.blocks) <= BLOCKS_LIMIT and "*10.*" in answer.all_text
    answerer.close()


def test_feedback_thanks_go_through_the_response_url_and_survive_its_expiry(
    bot: RunningBot,
) -> None:
    """ "Thanks" for a 👍 comes through the click's response_url (which works in DMs between
    people); once that URL expired (30 minutes), an ephemeral message carries it."""
    bot.mention(QUESTION)
    [answer] = bot.answers("C0NEWSDESK")
    up = interactions.feedback_click(buttons_of(answer.blocks)["feedback"], positive=True)
    bot.socket.wait_ack(bot.click(up, "U0EDITOR", "C0NEWSDESK", "fresh"))
    assert "Thanks" in bot.web.wait_for_response("fresh")[0]["text"]
    assert not bot.web.calls_to("chat.postEphemeral")
    late = interactions.block_actions(up, "U0EDITOR", "C0NEWSDESK", bot.web.response_url("stale"))
    bot.web.age_response_urls(31 * 60)
    bot.socket.wait_ack(bot.socket.deliver("interactive", late))
    [thanks] = bot.web.wait_for("chat.postEphemeral")
    assert thanks.args["user"] == "U0EDITOR" and "Thanks" in thanks.args["text"]
    assert "stale" not in bot.web.responses


def test_no_share_button_or_invite_hint_in_a_dm_between_people(bot: RunningBot) -> None:
    """/ask in a DM between two people: a private answer without a Share button (the bot
    cannot post there and nobody can /invite it); an older Share click there gets a hint
    that does not suggest /invite."""
    bot.web.foreign_dms.add("D0PEOPLE")
    bot.socket.wait_ack(bot.command(QUESTION, channel="D0PEOPLE", reply_to="ask"))
    private = bot.web.wait_for_response("ask")[0]
    assert "Cienfuegos" in str(private["blocks"]) and "share_answer" not in str(private)
    share = {"action_id": "share_answer", "text": {}, "value": '{"q": "who was Cienfuegos?"}'}
    bot.click(share, "U0REPORTER", "D0PEOPLE", "share", ephemeral=True)
    [hint] = bot.web.wait_for_response("share")
    assert "direct message between people" in hint["text"] and "/invite" not in hint["text"]


@pytest.mark.parametrize(
    "event", [payloads.app_uninstalled(), payloads.tokens_revoked()], ids=lambda e: e["type"]
)
def test_an_uninstalled_app_goes_quiet_with_one_clear_log_line(
    bot: RunningBot, caplog: pytest.LogCaptureFixture, event: dict
) -> None:
    """app_uninstalled / tokens_revoked: one WARNING saying what to do, then no calls to
    Slack for later questions (no invalid_auth error on every one)."""
    caplog.set_level(logging.INFO)
    bot.socket.wait_ack(bot.deliver_event(event))
    bot.settle()
    before = len(bot.web.calls)
    for _ in range(3):
        bot.socket.wait_ack(bot.mention(QUESTION)[0])
    bot.settle()
    assert len(bot.web.calls) == before
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "Reinstall the app" in lines[0].getMessage()


def test_a_token_revoked_while_serving_is_reported_once(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack starts answering token_revoked (the uninstall event was missed): one WARNING,
    then silence, not an error per question."""
    caplog.set_level(logging.INFO)
    bot.web.revoked = True
    for _ in range(3):
        bot.socket.wait_ack(bot.mention(QUESTION)[0])
    bot.settle()
    calls = len(bot.web.calls)
    bot.socket.wait_ack(bot.mention(QUESTION)[0])
    bot.settle()
    assert len(bot.web.calls) == calls
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "token_revoked" in warnings[0].getMessage()
