"""End to end over Socket Mode: what a person in Slack sees when they ask the bot.

The bot is the production app (create_app + the Socket Mode handler) over a real store
holding the seed article; Slack is the local stand-in.
"""

from __future__ import annotations

import json

from bot.feedback import FeedbackStore
from testing.slack_standin import interactions, payloads
from testing.slack_standin.interactions import buttons_of
from tests.bot.conftest import RunningBot

SEED_TITLE = "Biden administration is expected to enter a new security agreement with Mexico"


def test_mention_is_answered_in_its_thread_with_the_passage_and_its_source(
    bot: RunningBot,
) -> None:
    """@archive who was Cienfuegos? -> a threaded reply quoting the LA Times passage."""
    delivery, event = bot.mention("who was Cienfuegos?")
    assert bot.socket.wait_ack(delivery).ack_seconds < 1.0
    answer = bot.answers("C0NEWSDESK")[0]
    assert answer.args["thread_ts"] == event["ts"]
    shown = answer.all_text
    assert "former Mexican Defense Minister Salvador *Cienfuegos*" in shown
    assert "Los Angeles Times" in shown and SEED_TITLE in shown
    assert "Cienfuegos" in answer.args["text"]  # the notification fallback


def test_progress_shows_as_a_reaction_until_the_answer_is_posted(bot: RunningBot) -> None:
    """Where Slack shows no status in the thread, an hourglass appears on the question and
    goes when the answer lands."""
    bot.web.fail_next("assistant.threads.setStatus", 200, {"ok": False, "error": "not_allowed"})
    _, event = bot.mention("who was Cienfuegos?")
    bot.answers("C0NEWSDESK")
    removed = bot.web.wait_for("reactions.remove")[0]
    added = bot.web.calls_to("reactions.add")[0]
    posted = bot.web.calls_to("chat.postMessage")[0]
    assert added.args["timestamp"] == removed.args["timestamp"] == event["ts"]
    assert added.at < removed.at and posted.at <= removed.at


def test_direct_message_is_answered_in_the_dm(bot: RunningBot) -> None:
    """A DM needs no mention and is answered in the DM itself, in a thread of the question
    (as the agent experience does: docs.slack.dev/ai/migrating-to-agent-messaging/)."""
    event = payloads.message("who was Cienfuegos?", "U0REPORTER", "D0REPORTER", "im")
    bot.socket.wait_ack(bot.deliver_event(event))
    answer = bot.answers("D0REPORTER")[0]
    assert "Cienfuegos" in answer.all_text
    assert answer.args["thread_ts"] == event["ts"]


def test_ask_answers_privately_and_share_posts_it_with_the_question(bot: RunningBot) -> None:
    """/ask -> progress in the ack, a private answer with a share button; share -> channel."""
    delivery = bot.command("who was Cienfuegos?", user="U0ASKER", reply_to="ask")
    ack = bot.socket.wait_ack(delivery)
    assert ack.ack_seconds < 1.0
    assert "Searching the archive" in (ack.ack_payload or {}).get("text", "")
    private = bot.web.wait_for_response("ask")[0]
    assert private["response_type"] == "ephemeral"
    assert "Cienfuegos" in json.dumps(private["blocks"])
    assert not bot.web.calls_to("chat.postMessage")  # nothing public yet

    share = buttons_of(private["blocks"])["share_answer"]
    bot.socket.wait_ack(bot.click(share, "U0ASKER", "C0NEWSDESK", "share", ephemeral=True))
    shared = bot.answers("C0NEWSDESK")[0]
    assert "<@U0ASKER> asked: *who was Cienfuegos?*" in shared.all_text
    assert "Los Angeles Times" in shared.all_text
    assert "share_answer" not in shared.all_text
    assert bot.web.wait_for_response("share")[0].get("delete_original") is True


def test_follow_up_in_the_thread_needs_no_mention_and_uses_the_earlier_question(
    bot: RunningBot,
) -> None:
    """A reply from the asker in the bot's thread is answered, searched with the first question."""
    _, first = bot.mention("who was Cienfuegos?", user="U0ASKER")
    bot.answers("C0NEWSDESK")
    follow_up = payloads.message(
        "when was he arrested?", "U0ASKER", "C0NEWSDESK", thread_ts=first["ts"]
    )
    bot.deliver_event(follow_up)
    second = bot.answers("C0NEWSDESK", count=2)[1]
    assert second.args["thread_ts"] == first["ts"]
    assert "earlier question: “who was Cienfuegos?”" in second.all_text
    assert "*arrested*" in second.all_text and "*Cienfuegos*" in second.all_text


def test_replies_from_others_and_unanswered_threads_are_left_alone(bot: RunningBot) -> None:
    """Only the asker's replies in threads the bot answered count as follow-ups."""
    _, first = bot.mention("who was Cienfuegos?", user="U0ASKER")
    bot.answers("C0NEWSDESK")
    other = payloads.message(
        "when was he arrested?", "U0SOMEONE", "C0NEWSDESK", thread_ts=first["ts"]
    )
    stranger_thread = payloads.message(
        "when was he arrested?", "U0ASKER", "C0NEWSDESK", thread_ts=payloads.new_ts()
    )
    top_level = payloads.message("who was Cienfuegos?", "U0ASKER", "C0NEWSDESK")
    for event in (other, stranger_thread, top_level):
        bot.socket.wait_ack(bot.deliver_event(event))
    bot.settle()
    assert len(bot.web.calls_to("chat.postMessage")) == 1


def test_follow_ups_can_be_turned_off(start_bot) -> None:  # noqa: ANN001
    """ANSWER_FOLLOWUPS=false: thread replies need a mention again."""
    bot = start_bot(answer_followups=False)
    _, first = bot.mention("who was Cienfuegos?", user="U0ASKER")
    bot.answers("C0NEWSDESK")
    reply = payloads.message(
        "when was he arrested?", "U0ASKER", "C0NEWSDESK", thread_ts=first["ts"]
    )
    bot.socket.wait_ack(bot.deliver_event(reply))
    bot.settle()
    assert len(bot.web.calls_to("chat.postMessage")) == 1


def test_a_retried_delivery_is_answered_once(bot: RunningBot) -> None:
    """Slack's retry of the same event (retry_attempt 1) is acked but not answered again."""
    event = payloads.app_mention("who was Cienfuegos?", "U0REPORTER", "C0NEWSDESK")
    first = bot.deliver_event(event, event_id="Ev0RETRY01")
    retry = bot.deliver_event(event, event_id="Ev0RETRY01", retry_attempt=1)
    bot.socket.wait_ack(first)
    bot.socket.wait_ack(retry)
    bot.answers("C0NEWSDESK")
    bot.settle()
    assert len(bot.web.calls_to("chat.postMessage")) == 1


def test_a_feedback_click_is_stored_with_question_answer_and_user(bot: RunningBot) -> None:
    """👎 on an answer lands in SQLite with who clicked, the question and the answer."""
    _, event = bot.mention("who was Cienfuegos?", user="U0ASKER")
    answer = bot.answers("C0NEWSDESK")[0]
    button = interactions.feedback_click(buttons_of(answer.blocks)["feedback"], positive=False)
    click = bot.click(
        button,
        "U0EDITOR",
        "C0NEWSDESK",
        "fb",
        message_ts="1700000000.000009",
        thread_ts=event["ts"],
        message_text=answer.args["text"],
    )
    bot.socket.wait_ack(click)
    [thanks] = bot.web.wait_for_response("fb")
    assert thanks["response_type"] == "ephemeral" and "Thanks" in thanks["text"]
    [vote] = FeedbackStore(bot.settings.feedback_path).votes()
    assert (vote.user_id, vote.vote, vote.question) == ("U0EDITOR", "down", "who was Cienfuegos?")
    assert "Salvador Cienfuegos" in vote.answer and "Los Angeles Times" in vote.answer
    assert vote.channel_id == "C0NEWSDESK"


def test_mentions_and_links_inside_an_article_are_rendered_harmless(bot: RunningBot) -> None:
    """An article's <!channel>, <@U…> and disguised links show as text and notify nobody."""
    bot.mention("who approved the Riverside footbridge?")
    answer = bot.answers("C0NEWSDESK")[0]
    shown = answer.shown
    assert "footbridge" in shown
    for trick in ("<!channel>", "<!here>", "<!everyone>", "<@U0HACKER>", "<https://evil"):
        assert trick not in shown
    assert "&lt;!channel&gt;" in shown and "&lt;@U0HACKER&gt;" in shown
    assert "@channel" not in shown and "@\u2060channel" in shown
    assert "<https://gazette.example/zoning-footbridge|" in shown  # our own link survives


def test_a_429_on_post_message_is_waited_out(bot: RunningBot) -> None:
    """Slack says 429 Retry-After: 1 -> the bot waits a second and posts the answer once."""
    bot.web.fail_next("chat.postMessage", 429, headers={"Retry-After": "1"})
    bot.mention("who was Cienfuegos?")
    first, second = bot.answers("C0NEWSDESK", count=2)
    assert second.at - first.at >= 1.0
    bot.settle()
    assert len(bot.web.calls_to("chat.postMessage")) == 2


def test_other_bots_are_ignored(bot: RunningBot) -> None:
    """Messages and mentions from bots (e.g. another bot's DM) get no reply."""
    from_bot = payloads.message(
        "who was Cienfuegos?", "U0OTHERBOT", "D0OTHER", "im", bot_id="B0OTHER"
    )
    mention = payloads.app_mention("who was Cienfuegos?", "U0OTHERBOT", "C0NEWSDESK")
    mention["bot_id"] = "B0OTHER"
    own = payloads.message("who was Cienfuegos?", "U0BOT", "D0REPORTER", "im", bot_id="B0BOT")
    for event in (from_bot, mention, own):
        bot.socket.wait_ack(bot.deliver_event(event))
    bot.settle()
    assert not bot.web.calls_to("chat.postMessage")


def test_nothing_relevant_gets_an_honest_reply_with_what_the_archive_holds(
    bot: RunningBot,
) -> None:
    """No quote from noise: the reply says how many articles there are and how to add more."""
    bot.mention("what is a good recipe for banana bread?")
    answer = bot.answers("C0NEWSDESK")[0]
    assert "nothing relevant" in answer.all_text and "2 articles" in answer.all_text
    assert "ingest PATH_OR_URL" in answer.all_text
    assert "feedback" not in answer.all_text


def test_allowed_channels_limit_where_the_bot_answers(start_bot) -> None:  # noqa: ANN001
    """ALLOWED_CHANNELS=C0OK: a mention elsewhere gets a private pointer, not an answer."""
    bot = start_bot(allowed_channels="C0OK")
    bot.mention("who was Cienfuegos?", user="U0ASKER", channel="C0ELSEWHERE")
    notice = bot.web.wait_for("chat.postEphemeral")[0]
    assert notice.args["user"] == "U0ASKER" and "<#C0OK>" in notice.args["text"]
    bot.mention("who was Cienfuegos?", channel="C0OK")
    bot.answers("C0OK")
    ack = bot.socket.wait_ack(bot.command("who was Cienfuegos?", channel="C0ELSEWHERE"))
    assert "<#C0OK>" in (ack.ack_payload or {})["text"]
    assert not bot.web.calls_to("chat.postMessage", lambda c: c.args["channel"] != "C0OK")


def test_a_user_asking_too_fast_gets_one_friendly_notice(start_bot) -> None:  # noqa: ANN001
    """RATE_LIMIT_PER_MINUTE=2: the third question gets a notice, the fourth nothing."""
    bot = start_bot(rate_limit_per_minute=2)
    for _ in range(2):
        bot.mention("who was Cienfuegos?", user="U0EAGER")
    bot.answers("C0NEWSDESK", count=2)
    for _ in range(2):
        bot.socket.wait_ack(bot.mention("who was Cienfuegos?", user="U0EAGER")[0])
    notice = bot.web.wait_for("chat.postEphemeral")[0]
    assert notice.args["user"] == "U0EAGER" and "faster than I can keep up" in notice.args["text"]
    bot.mention("who was Cienfuegos?", user="U0CALM")
    bot.answers("C0NEWSDESK", count=3)
    bot.settle()
    assert len(bot.web.calls_to("chat.postEphemeral")) == 1
    assert len(bot.web.calls_to("chat.postMessage")) == 3


def test_sharing_where_the_bot_is_not_a_member_says_how_to_fix_it(bot: RunningBot) -> None:
    """Share in a channel the bot was not invited to -> a private hint to /invite it, by
    its mention (Slack shows whatever the app is called there), not a hard-coded name."""
    bot.web.refuse_channels.add("C0PRIVATE")
    bot.socket.wait_ack(bot.command("who was Cienfuegos?", channel="C0PRIVATE", reply_to="ask"))
    private = bot.web.wait_for_response("ask")[0]
    share = buttons_of(private["blocks"])["share_answer"]
    bot.click(share, "U0REPORTER", "C0PRIVATE", "share", ephemeral=True)
    [hint] = bot.web.wait_for_response("share")
    assert "`/invite` <@U0BOT>" in hint["text"] and "@archive" not in hint["text"]
    assert hint["response_type"] == "ephemeral" and hint.get("delete_original") is not True


def test_the_bot_reconnects_when_slack_refreshes_the_connection(bot: RunningBot) -> None:
    """Slack's periodic "disconnect: refresh_requested" -> a new socket; questions answered."""
    bot.socket.refresh()
    bot.socket.wait_connected(connections=2)
    bot.mention("who was Cienfuegos?")
    assert "Cienfuegos" in bot.answers("C0NEWSDESK")[0].shown


def test_share_clicks_count_against_the_rate_limit(start_bot) -> None:  # noqa: ANN001
    """RATE_LIMIT_PER_MINUTE=10: an /ask and 15 quick share clicks post 9 shared answers,
    and the asker gets one private "slow down" notice, not 15 public answers."""
    bot = start_bot(rate_limit_per_minute=10)
    bot.socket.wait_ack(bot.command("who was Cienfuegos?", user="U0EAGER", reply_to="ask"))
    share = buttons_of(bot.web.wait_for_response("ask")[0]["blocks"])["share_answer"]
    clicks = [bot.click(share, "U0EAGER", "C0NEWSDESK", "share", ephemeral=True) for _ in range(15)]
    for click in clicks:
        bot.socket.wait_ack(click)
    bot.answers("C0NEWSDESK", count=9)
    replies = bot.web.wait_for_response("share", count=10)
    bot.settle()
    assert len(bot.web.calls_to("chat.postMessage")) == 9
    notices = [r for r in bot.web.responses["share"] if "faster than I can keep up" in str(r)]
    assert len(notices) == 1 and len(replies) == 10
