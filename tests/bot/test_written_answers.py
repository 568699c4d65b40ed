"""Written answers in Slack: streamed only once verified, posted once where streaming is not.

The bot runs as in production (real core, real Chroma, Socket Mode) against the Slack
stand-in, which speaks `chat.startStream` / `appendStream` / `stopStream`; the model is
the scripted OpenAI-compatible server (testing/llm_standin.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.answerer import ArchiveAnswerer
from bot.feedback import FeedbackStore
from core.settings import Settings
from testing.llm_standin import FakeChatServer, Reply
from testing.slack_standin import interactions, payloads
from testing.slack_standin.interactions import buttons_of
from testing.slack_standin.rules import BLOCKS_LIMIT, blocks_size
from testing.slack_standin.web_api import FakeSlackWebAPI
from tests.bot.conftest import RunningBot

QUESTION = "What did the Riverside zoning board approve?"
SUPPORTED = "[1] The Riverside zoning board approved the footbridge over the canal on Tuesday."
INVENTED = "[1] Mayor Kowalski approved 9 footbridges over the canal."
ARTICLE = "https://gazette.example/zoning-footbridge"
STREAMING = ("chat.startStream", "chat.appendStream", "chat.stopStream")


@pytest.fixture
def start_writing_bot(
    start_bot: Callable[..., RunningBot], llm: FakeChatServer
) -> Callable[..., RunningBot]:
    """Start a bot whose ANSWER_MODEL is the scripted server (`answerer` and settings
    may be given)."""

    def start(answerer: Any = None, **overrides: Any) -> RunningBot:
        # 20 s: a scripted reply takes milliseconds, but a CI machine under load can stall
        # a thread for seconds; the timeout case below sets its own short budget.
        values = {"answer_model": llm.base_url, "answer_model_name": "standin-7b"}
        return start_bot(answerer, writing=True, **{**values, "answer_timeout": 20.0, **overrides})

    return start


@pytest.fixture
def writing_bot(start_writing_bot: Callable[..., RunningBot]) -> RunningBot:
    """A writing bot over the seeded archive."""
    return start_writing_bot()


def _everything_sent(web: FakeSlackWebAPI) -> str:
    """All text the bot sent to Slack: messages, blocks, streamed markdown."""
    return "\n".join(f"{c.all_text}\n{c.markdown}" for c in web.calls)


def _ask_in_thread(bot: RunningBot) -> dict[str, Any]:
    _, event = bot.mention(QUESTION)
    return event


def test_the_verified_answer_streams_first_then_the_quote_and_passages(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """In a thread: label and cited sentences stream in, then the quoted lead, the passages
    and the buttons close the same message; citations link to their articles."""
    llm.script(Reply(SUPPORTED))
    event = _ask_in_thread(writing_bot)
    stop = writing_bot.web.wait_for("chat.stopStream")[0]
    start = writing_bot.web.calls_to("chat.startStream")[0]
    assert start.args["thread_ts"] == event["ts"]
    assert start.args["recipient_user_id"] == "U0REPORTER"
    assert start.args["recipient_team_id"] == "T0NEWS"
    stream = writing_bot.web.streams[stop.args["ts"]]
    assert stream.markdown.startswith("_Written by standin-7b from the passages below.")
    assert "The Riverside zoning board approved the footbridge over the canal on Tuesday." in (
        stream.markdown
    )
    assert f"[\\[1\\]]({ARTICLE})" in stream.markdown
    assert stream.blocks[0]["text"]["text"].startswith(">“")  # the quoted lead
    shown = json.dumps(stream.blocks)
    assert "feedback_buttons" in shown and "Riverside Gazette" in shown  # issue 10: native
    assert stream.stopped
    assert not writing_bot.web.calls_to("chat.postMessage")


def test_an_unsupported_sentence_never_reaches_slack(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """An invented name and number between supported sentences is never sent, not even
    for a moment: only verified sentences are appended."""
    llm.script(Reply(f"{SUPPORTED} {INVENTED} {SUPPORTED}"))
    _ask_in_thread(writing_bot)
    writing_bot.web.wait_for("chat.stopStream")
    sent = _everything_sent(writing_bot.web)
    assert "approved the footbridge over the canal on Tuesday" in sent
    assert "Kowalski" not in sent and "9 footbridges" not in sent


@pytest.mark.parametrize(
    ("reply", "budget"),
    [
        (Reply(INVENTED), 20.0),
        (Reply("The passages do not answer the question."), 20.0),
        (Reply(delay=4), 1.0),
    ],
    ids=["invented", "refusal", "timeout"],
)
def test_without_a_verified_sentence_the_reply_is_the_extractive_one(
    start_writing_bot: Callable[..., RunningBot], llm: FakeChatServer, reply: Reply, budget: float
) -> None:
    """Nothing supported, a refusal or a stalled model: no stream starts, and the reply is
    the quoted answer alone, as without a model."""
    writing_bot = start_writing_bot(answer_timeout=budget)
    llm.script(reply)
    _ask_in_thread(writing_bot)
    answer = writing_bot.answers("C0NEWSDESK")[0]
    assert not any(writing_bot.web.calls_to(m) for m in STREAMING)
    assert answer.blocks[0]["text"]["text"].startswith(">“")
    assert "Written by" not in _everything_sent(writing_bot.web)


def test_where_slack_will_not_stream_the_answer_is_posted_once_written_part_first(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """A refused `chat.startStream` falls back to one post: label, cited sentences with
    linked citations, then the quoted lead."""
    writing_bot.web.refuse_streaming = "feature_not_enabled"
    llm.script(Reply(f"{SUPPORTED} {INVENTED}"))
    _ask_in_thread(writing_bot)
    answer = writing_bot.answers("C0NEWSDESK")[0]
    texts = [json.dumps(b) for b in answer.blocks]
    assert "Written by standin-7b from the passages below" in texts[0]
    assert f"<{ARTICLE}|[1]>" in texts[1] and "footbridge over the canal" in texts[1]
    assert answer.blocks[2]["text"]["text"].startswith(">“")  # then the quoted lead
    assert "Kowalski" not in answer.all_text


def test_a_direct_message_streams_and_a_private_ask_gets_one_post(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """A top-level DM is answered in its thread, so the answer streams there; `/ask`
    answers through its response_url: the whole answer at once."""
    llm.script(Reply(SUPPORTED), Reply(SUPPORTED))
    event = payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im")
    writing_bot.socket.wait_ack(writing_bot.deliver_event(event))
    [stop] = writing_bot.web.wait_for("chat.stopStream")
    assert writing_bot.web.streams[stop.args["ts"]].thread_ts == event["ts"]
    assert "Written by standin-7b" in writing_bot.web.streams[stop.args["ts"]].markdown
    writing_bot.socket.wait_ack(writing_bot.command(QUESTION, reply_to="ask"))
    private = writing_bot.web.wait_for_response("ask")[0]
    assert "Written by standin-7b" in json.dumps(private["blocks"])
    assert len(writing_bot.web.calls_to("chat.startStream")) == 1


def test_markup_from_the_model_cannot_ping_or_link(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """`<!channel>`, `@here` and links the model writes arrive as harmless text."""
    llm.script(
        Reply(
            "<!channel> [1] The Riverside zoning board approved the footbridge, and a reader "
            "wrote @channel and @here in the comments. <https://evil.example|minutes>"
        )
    )
    _ask_in_thread(writing_bot)
    stop = writing_bot.web.wait_for("chat.stopStream")[0]
    markdown = writing_bot.web.streams[stop.args["ts"]].markdown
    assert "a reader wrote @\u2060channel and @\u2060here" in markdown
    for hostile in ("<!", "@channel", "@here", "evil.example"):
        assert hostile not in markdown


def test_a_link_is_shown_only_when_the_passage_holds_it_and_never_as_a_link(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """A URL the passages lack removes its sentence; one they show streams as plain text."""
    llm.script(
        Reply(
            f"{SUPPORTED} [1] The zoning board approved the footbridge, see "
            "https://phish.example/reset now. [1] Council clerk pasted "
            "https://evil.example/login into the record."
        )
    )
    _ask_in_thread(writing_bot)
    stop = writing_bot.web.wait_for("chat.stopStream")[0]
    markdown = writing_bot.web.streams[stop.args["ts"]].markdown
    assert "phish" not in _everything_sent(writing_bot.web)
    assert "pasted https\\[:\\]//evil\\[.\\]example/login into the record" in markdown
    assert "https://evil" not in markdown


# Issue 12 on issue 10's bot: the written answer goes through the same gate, progress,
# size cap, fallbacks, feedback and edits as the quoted one.

LONG_QUESTION = "what did the council decide about the Riverside footbridge budget?"
LONG_SENTENCE = (
    "[{n}] The council debated the Riverside footbridge budget, and the engineers defended "
    "the cost of the footbridge once more."
)
WHOLE = "the engineers defended the cost of the footbridge once more."


@pytest.mark.parametrize("streaming", [True, False], ids=["streamed", "posted"])
def test_a_long_written_answer_over_ten_long_passages_fits_in_one_slack_message(
    start_writing_bot: Callable[..., RunningBot],
    long_archive: Settings,
    llm: FakeChatServer,
    streaming: bool,
) -> None:
    """Ten long passages with very long URLs, and a written answer citing each of them:
    Slack takes the message (the stand-in refuses one over its size limit, streamed text
    included); the written sentences are whole and every passage they cite is shown."""
    answerer = ArchiveAnswerer(long_archive.model_copy(update={"answer_passages": 10}))
    bot = start_writing_bot(answerer=answerer)
    bot.web.refuse_streaming = None if streaming else "feature_not_enabled"
    llm.script(Reply(" ".join(LONG_SENTENCE.format(n=n) for n in range(1, 11))))
    bot.mention(LONG_QUESTION)
    if streaming:
        [stop] = bot.web.wait_for("chat.stopStream")
        assert stop.response["ok"], stop.response
        stream = bot.web.streams[stop.args["ts"]]
        written, blocks = stream.markdown, stream.blocks
        cited = {int(n) for n in re.findall(r"\[\\\[(\d+)\\\]\]\(", written)}
        size = blocks_size([{"type": "markdown", "text": written}, *blocks])
        assert not bot.web.calls_to("chat.postMessage")
    else:
        [answer] = bot.answers("C0NEWSDESK")
        assert answer.response["ok"], answer.response
        written, blocks = json.dumps(answer.blocks[:2]), answer.blocks[2:]
        cited = {int(n) for n in re.findall(r"\|\[(\d+)\]>", written)}
        size = blocks_size(answer.blocks)
    answerer.close()
    assert "Written by standin-7b" in written and size <= BLOCKS_LIMIT
    assert written.count("The council debated") == written.count(WHOLE) == len(cited) >= 3
    shown = json.dumps(blocks)
    assert all(f"*{n}.*" in shown for n in cited)


def test_the_assistant_view_shows_its_status_then_the_answer_streams_into_its_thread(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """In the assistant split view: "searching" status (no hourglass) while the archive
    is searched and the model writes, then the verified answer streams into the thread,
    closed by the quote, the passages and Slack's feedback buttons."""
    llm.script(Reply(SUPPORTED))
    started = payloads.assistant_thread_started("U0REPORTER", "D0REPORTER")
    writing_bot.socket.wait_ack(writing_bot.deliver_event(started))
    thread_ts = started["assistant_thread"]["thread_ts"]
    writing_bot.answers("D0REPORTER")  # the greeting
    asked = payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im", thread_ts=thread_ts)
    writing_bot.deliver_event(asked)
    [stop] = writing_bot.web.wait_for("chat.stopStream")
    [start] = writing_bot.web.calls_to("chat.startStream")
    [status] = writing_bot.web.calls_to("assistant.threads.setStatus")[:1]
    assert start.args["thread_ts"] == thread_ts and status.at < start.at
    assert status.args["status"] == "is searching the archive…"
    assert not writing_bot.web.calls_to("reactions.add")
    stream = writing_bot.web.streams[stop.args["ts"]]
    assert "footbridge over the canal" in stream.markdown
    assert buttons_of(stream.blocks)["feedback"]["type"] == "feedback_buttons"
    assert len(writing_bot.answers("D0REPORTER")) == 1  # nothing posted besides the greeting


def test_a_streamed_answer_takes_feedback_and_is_rewritten_in_place_when_edited(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """👎 on a streamed answer is stored; editing the question updates that same message
    with chat.update, the new written answer in its blocks, and streams nothing anew."""
    llm.script(Reply(SUPPORTED), Reply(SUPPORTED))
    _, event = writing_bot.mention(QUESTION, user="U0ASKER")
    [stop] = writing_bot.web.wait_for("chat.stopStream")
    writing_bot.done()
    stream = writing_bot.web.streams[stop.args["ts"]]
    feedback = buttons_of(stream.blocks)["feedback"]
    click = interactions.feedback_click(feedback, positive=False)
    delivery = writing_bot.click(
        click, "U0EDITOR", "C0NEWSDESK", "fb", message_ts=stream.ts, thread_ts=event["ts"]
    )
    writing_bot.socket.wait_ack(delivery)
    writing_bot.web.wait_for_response("fb")
    [vote] = FeedbackStore(writing_bot.settings.feedback_path).votes()
    assert (vote.user_id, vote.vote, vote.question) == ("U0EDITOR", "down", QUESTION)
    writing_bot.socket.wait_ack(writing_bot.edit(event, "What did the zoning board approve?"))
    [update] = writing_bot.web.wait_for("chat.update")
    assert update.response["ok"] and update.args["ts"] == stream.ts
    assert "Written by standin-7b" in update.all_text
    assert "Updated for the edited question" in update.shown
    writing_bot.settle()
    assert len(writing_bot.web.calls_to("chat.startStream")) == 1
    assert not writing_bot.web.calls_to("chat.postMessage")


def test_where_the_bot_may_not_post_the_asker_is_told_privately(
    writing_bot: RunningBot, llm: FakeChatServer
) -> None:
    """not_in_channel: the stream is refused like a post, the one-post fallback too, and
    the asker hears why from the app, as for a quoted answer."""
    writing_bot.web.refuse_channels.add("C0LOCKED")
    llm.script(Reply(SUPPORTED))
    writing_bot.mention(QUESTION, user="U0ASKER", channel="C0LOCKED")
    [notice] = writing_bot.web.wait_for("chat.postMessage", lambda c: c.response.get("ok"))
    assert notice.args["channel"] == "U0ASKER" and "`/invite` <@U0BOT>" in notice.args["text"]
    [start] = writing_bot.web.calls_to("chat.startStream")
    assert start.response["error"] == "not_in_channel"
    assert "Kowalski" not in _everything_sent(writing_bot.web)


def test_a_written_answer_counts_against_the_rate_limit(
    start_writing_bot: Callable[..., RunningBot], llm: FakeChatServer
) -> None:
    """RATE_LIMIT_PER_MINUTE=1: the second question gets the friendly notice, and the
    model is not asked again."""
    bot = start_writing_bot(rate_limit_per_minute=1)
    llm.script(Reply(SUPPORTED), Reply(SUPPORTED))
    bot.mention(QUESTION, user="U0EAGER")
    bot.web.wait_for("chat.stopStream")
    bot.mention(QUESTION, user="U0EAGER")
    [notice] = bot.web.wait_for("chat.postEphemeral")
    assert "faster than I can keep up" in notice.args["text"]
    bot.settle()
    assert len(bot.web.calls_to("chat.startStream")) == 1 and len(llm.requests) == 1
