"""Messages as Slack really sends them: edits, thread chatter, files, the double event for a
channel mention, and the subtypes that are not questions."""

from __future__ import annotations

from testing.slack_standin import payloads
from tests.bot.conftest import RunningBot

CHANNEL = "C0NEWSDESK"


def _posts(bot: RunningBot) -> int:
    return len(bot.web.calls_to("chat.postMessage"))


def test_an_edited_mention_updates_its_answer_in_place(bot: RunningBot) -> None:
    """Fixing the question of a mention: the bot's answer is replaced (chat.update), not
    followed by a second answer."""
    _, event = bot.mention("who was Cienfuegos?")
    [first] = bot.answered(CHANNEL)
    bot.socket.wait_ack(bot.edit(event, "when was Cienfuegos arrested?"))
    [update] = bot.web.wait_for("chat.update")
    assert update.args["channel"] == CHANNEL and update.args["ts"] == first.response["ts"]
    assert "*arrested*" in update.shown and "Updated for the edited question" in update.shown
    bot.settle()
    assert _posts(bot) == 1


def test_an_edit_that_leaves_the_question_as_it_was_changes_nothing(start_bot) -> None:  # noqa: ANN001
    """Same words (spacing, case): no update, no new answer, and no use of the rate limit."""
    bot = start_bot(rate_limit_per_minute=1)
    _, event = bot.mention("who was Cienfuegos?")
    bot.answered(CHANNEL)
    bot.socket.wait_ack(bot.edit(event, "Who was   Cienfuegos?"))
    bot.settle()
    assert not bot.web.calls_to("chat.update") and _posts(bot) == 1
    assert not bot.web.calls_to("chat.postEphemeral")


def test_an_edited_direct_message_updates_its_answer(bot: RunningBot) -> None:
    """DMs get the same rule through `message_changed`."""
    event = payloads.message("who was Cienfuegos?", "U0REPORTER", "D0REPORTER", "im")
    bot.deliver_event(event)
    [first] = bot.answered("D0REPORTER")
    bot.socket.wait_ack(bot.edit(event, "when was Cienfuegos arrested?"))
    [update] = bot.web.wait_for("chat.update")
    assert update.args["ts"] == first.response["ts"] and "*arrested*" in update.shown
    bot.settle()
    assert _posts(bot) == 1


def test_a_deleted_question_and_other_subtypes_get_no_answer(bot: RunningBot) -> None:
    """message_deleted, channel_join and another integration's post are not questions."""
    event = payloads.message("who was Cienfuegos?", "U0REPORTER", "D0REPORTER", "im")
    bot.deliver_event(event)
    bot.answers("D0REPORTER")
    _, mention = bot.mention("who was Cienfuegos?")
    bot.answers(CHANNEL)
    for other in (
        payloads.message_deleted(event),
        payloads.channel_join("U0NEWBIE", CHANNEL),
        payloads.bot_message("who was Cienfuegos?", CHANNEL, thread_ts=mention["ts"]),
    ):
        bot.socket.wait_ack(bot.deliver_event(other))
    bot.settle()
    assert _posts(bot) == 2 and not bot.web.calls_to("chat.update")


def test_thread_chatter_is_not_answered_but_a_follow_up_question_is(bot: RunningBot) -> None:
    """In the bot's thread, thanks, acknowledgements and messages to someone else get no
    reply; a question (with or without a question mark) does."""
    _, first = bot.mention("who was Cienfuegos?", user="U0ASKER")
    bot.answers(CHANNEL)
    chatter = [
        "thanks!",
        "ok, got it",
        "Great, thank you so much :tada:",
        "<@U0BOB> can you check this?",
        "<@U0BOB|bob> could you look at the second source?",
        "<!subteam^S0EDITORS> worth a story?",
    ]
    for text in chatter:
        reply = payloads.message(text, "U0ASKER", CHANNEL, thread_ts=first["ts"])
        bot.socket.wait_ack(bot.deliver_event(reply))
    bot.settle()
    assert _posts(bot) == 1
    follow_up = payloads.message(
        "and when was he arrested", "U0ASKER", CHANNEL, thread_ts=first["ts"]
    )
    bot.deliver_event(follow_up)
    second = bot.answers(CHANNEL, count=2)[1]
    assert second.args["thread_ts"] == first["ts"] and "*arrested*" in second.all_text


def test_a_follow_up_also_sent_to_the_channel_is_answered_once(bot: RunningBot) -> None:
    """A thread reply with "Also send to channel" (thread_broadcast) is a follow-up."""
    _, first = bot.mention("who was Cienfuegos?", user="U0ASKER")
    bot.answers(CHANNEL)
    bot.deliver_event(
        payloads.thread_broadcast("when was he arrested?", "U0ASKER", CHANNEL, first["ts"])
    )
    second = bot.answers(CHANNEL, count=2)[1]
    assert second.args["thread_ts"] == first["ts"]
    bot.settle()
    assert _posts(bot) == 2


def test_a_legacy_mention_in_the_bots_thread_is_answered_once(bot: RunningBot) -> None:
    """Slack sends app_mention and message.channels for one mention; written the legacy way
    (`<@U…|archive>`) in a thread the bot answered, it still gets one answer, not two."""
    _, first = bot.mention("who was Cienfuegos?", user="U0ASKER")
    bot.answers(CHANNEL)
    bot.mention("when was he arrested?", user="U0ASKER", thread_ts=first["ts"], legacy=True)
    bot.answers(CHANNEL, count=2)
    bot.settle()
    assert _posts(bot) == 2


def test_a_direct_message_with_a_file_is_answered_and_says_files_are_not_read(
    bot: RunningBot,
) -> None:
    """A DM carrying a file (subtype file_share) is answered from its words, with a note
    that files are not read; a file without words gets a plain hint."""
    bot.deliver_event(payloads.file_share("who was Cienfuegos?", "U0REPORTER", "D0REPORTER"))
    [answer] = bot.answers("D0REPORTER")
    assert "Salvador *Cienfuegos*" in answer.all_text
    assert "don't read attached files" in answer.all_text
    bot.deliver_event(payloads.file_share("", "U0REPORTER", "D0REPORTER"))
    hint = bot.answers("D0REPORTER", count=2)[1]
    assert "don't read attached files" in hint.shown and "Ask me a question" in hint.shown
