"""The newsroom desk's workflow over the wire: the message shortcut, desk channels (default
filters, auto-answer, private replies), 👎 reasons for the editors, and the editors' view of
what people asked (Home tab and `bot feedback`)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.answerer import ArchiveAnswerer
from bot.desks import Desks
from bot.feedback import FeedbackStore, Vote
from bot.responder import ANSWER_WORKERS
from bot.shortcut import ASK_ABOUT
from core.errors import ConfigError
from core.models import Answer
from core.settings import Settings
from testing.slack_standin import interactions, payloads
from testing.slack_standin.interactions import buttons_of
from testing.slack_standin.rules import TRIGGER_SECONDS
from tests.bot.conftest import RunningBot, status_shown
from tests.bot.http_bot import serve_http
from tests.conftest import ROOT

QUESTION = "who was Cienfuegos?"
FOOTBRIDGE = "who approved the footbridge?"
NOTHING = "what did the quokka orchestra play at the glacier?"
BOT = Path(sys.executable).with_name("bot")


def test_the_message_shortcut_answers_privately_with_a_share_button(bot: RunningBot) -> None:
    """ "Ask the archive" on a colleague's message: only the reporter sees an answer about
    it, with a Share button; sharing posts it in the channel, naming who asked."""
    claim = payloads.message("Cienfuegos was the defense minister, right", "U0EDITOR", "C0NEWSDESK")
    bot.socket.wait_ack(bot.shortcut(claim, "U0REPORTER", "about"))
    [answer] = bot.web.wait_for_response("about")
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "About the message" in shown and "Cienfuegos" in shown
    share = buttons_of(answer["blocks"])["share_answer"]
    assert not bot.web.calls_to("chat.postMessage")  # nothing public until shared
    bot.click(share, "U0REPORTER", "C0NEWSDESK", "shared", ephemeral=True)
    [posted] = bot.answers("C0NEWSDESK")
    assert "<@U0REPORTER> asked" in posted.shown and "Cienfuegos" in posted.shown


def test_the_shortcut_on_a_message_without_words_says_what_to_do(bot: RunningBot) -> None:
    """Pointing the shortcut at a file without text gets one private line, no search."""
    upload = payloads.file_share("", "U0EDITOR", "C0NEWSDESK", channel_type="channel")
    bot.shortcut(upload, "U0REPORTER", "empty")
    [notice] = bot.web.wait_for_response("empty")
    assert notice["response_type"] == "ephemeral" and "no words I can search" in notice["text"]


def test_a_desk_channel_searches_with_its_defaults_unless_the_question_says(
    start_bot: Callable[..., RunningBot],
) -> None:
    """#zoning's desk searches the Riverside Gazette since 2024: the 2023 footbridge story
    is not found there (the answer says which defaults applied) until the question sets
    its own `since:`; other channels are unaffected."""
    desks = {"C0ZONING": {"sources": ["Riverside Gazette"], "since": "2024-01-01"}}
    bot = start_bot(desks=json.dumps(desks))
    bot.mention(FOOTBRIDGE, channel="C0ZONING")
    [scoped] = bot.answers("C0ZONING")
    assert "desk searches source:Riverside Gazette, since:2024-01-01" in scoped.shown
    assert "found nothing relevant" in scoped.shown
    bot.mention(f"{FOOTBRIDGE} since:2023-01-01", channel="C0ZONING")
    own = bot.answers("C0ZONING", count=2)[1]
    assert "footbridge" in own.shown.lower() and "Riverside Gazette" in own.shown
    assert "desk searches source:Riverside Gazette." in own.shown  # its own since: won
    bot.mention(QUESTION, channel="C0NEWSDESK")
    [elsewhere] = bot.answers("C0NEWSDESK")
    assert "Los Angeles Times" in elsewhere.shown and "desk searches" not in elsewhere.shown


def test_a_questions_own_filters_win_over_its_desks() -> None:
    """A question naming its own outlet or dates is searched with those, not the desk's."""
    desk = Desks.parse('{"C0S": {"sources": ["Riverside Gazette"], "days": 30}}')("C0S")
    searched, note = desk.scope('who won? source:"Harbor Gazette" since:2020-01-01')
    assert "Riverside" not in searched and searched.count("since:") == 1 and note is None
    searched, note = desk.scope("who won?")
    assert 'source:"Riverside Gazette"' in searched and "since:" in searched and note


def test_an_auto_answer_channel_answers_questions_without_a_mention(
    start_bot: Callable[..., RunningBot],
) -> None:
    """In #ask-the-archive a top-level question is answered in its thread without a
    mention; chatter, messages to someone else, other bots and thread talk are not."""
    bot = start_bot(desks='{"C0ASK": {"auto_answer": true}}')
    for chatter in [
        payloads.message("thanks everyone, great work today", "U0EDITOR", "C0ASK"),
        payloads.message("<@U0MARIA> did you see the council story?", "U0EDITOR", "C0ASK"),
        payloads.bot_message("Who won the election? New results are in.", "C0ASK"),
        payloads.message("what time is lunch?", "U0EDITOR", "C0ASK", thread_ts="1710000000.1"),
        payloads.message("who was Cienfuegos?", "U0EDITOR", "C0OTHER"),
    ]:
        bot.socket.wait_ack(bot.deliver_event(chatter))
    question = payloads.message(QUESTION, "U0REPORTER", "C0ASK")
    bot.deliver_event(question)
    [answer] = bot.answered("C0ASK")
    assert answer.args["thread_ts"] == question["ts"] and "Cienfuegos" in answer.shown
    assert len(bot.web.calls_to("chat.postMessage")) == 1


def test_a_private_desk_answers_only_the_asker(start_bot: Callable[..., RunningBot]) -> None:
    """In a desk set to private, a mention is answered with an ephemeral message only the
    asker sees, in the thread, with a Share button; nothing is posted for the channel."""
    bot = start_bot(desks='{"C0LEGAL": {"private": true}}')
    _, event = bot.mention(QUESTION, user="U0REPORTER", channel="C0LEGAL")
    [private] = bot.web.wait_for("chat.postEphemeral", lambda c: c.args.get("channel") == "C0LEGAL")
    assert private.args["user"] == "U0REPORTER" and private.args["thread_ts"] == event["ts"]
    assert "Cienfuegos" in private.shown and "share_answer" in buttons_of(private.blocks)
    bot.done()  # the status is cleared: the answer's work is over
    assert not bot.web.calls_to("chat.postMessage")


def test_a_link_unfurled_in_an_auto_answered_question_is_not_answered_twice(
    start_bot: Callable[..., RunningBot],
) -> None:
    """Slack unfurls a link in a question by changing the message (no `edited` mark, the
    same words): in a private auto-answer channel the asker got the answer a second time."""
    bot = start_bot(desks='{"C0ASK": {"auto_answer": true, "private": true}}')
    asked = payloads.message(f"{QUESTION} <https://gazette.example/a>", "U0REPORTER", "C0ASK")
    bot.deliver_event(asked)

    def in_thread(ts: str) -> Callable[[Any], bool]:
        return lambda call: call.args.get("thread_ts") == ts

    bot.web.wait_for("chat.postEphemeral", in_thread(asked["ts"]))
    unfurled = payloads.message_changed(asked, asked["text"])
    del unfurled["message"]["edited"]
    unfurled["message"]["attachments"] = [{"from_url": "https://gazette.example/a", "id": 1}]
    bot.socket.wait_ack(bot.deliver_event(unfurled))
    bot.settle()
    assert len(bot.web.calls_to("chat.postEphemeral", in_thread(asked["ts"]))) == 1


def test_a_down_vote_reason_reaches_the_editors_channel(
    start_bot: Callable[..., RunningBot],
) -> None:
    """👎 opens an optional "what was wrong?" modal; the reason and line sent are stored
    with the vote and posted to FEEDBACK_CHANNEL with the question (mentions neutralised)."""
    bot = start_bot(feedback_channel="C0EDITORS")
    _, event = bot.mention(QUESTION, user="U0ASKER")
    answer = bot.answers("C0NEWSDESK")[0]
    down = interactions.feedback_click(buttons_of(answer.blocks)["feedback"], positive=False)
    bot.click(down, "U0EDITOR", "C0NEWSDESK", "fb", thread_ts=event["ts"])
    [opened] = bot.web.wait_for("views.open")
    assert opened.response["ok"], opened.response
    assert "Thanks" in bot.web.wait_for_response("fb")[0]["text"]
    note = "There is a newer story <!channel>"
    bot.submit(
        opened.response["view"],
        "U0EDITOR",
        {"reason": {"reason": "outdated"}, "note": {"note": note}},
    )
    [told] = bot.answers("C0EDITORS")
    assert "Outdated" in told.shown and "<@U0EDITOR>" in told.shown
    assert "who was Cienfuegos" in told.shown and "<#C0NEWSDESK>" in told.shown
    assert "<!channel>" not in told.all_text and "newer story" in told.shown
    [vote] = FeedbackStore(bot.settings.feedback_path).votes()
    assert (vote.vote, vote.reason, vote.note) == ("down", "outdated", note)


def test_a_reason_for_a_vote_never_given_is_not_posted(
    start_bot: Callable[..., RunningBot],
) -> None:
    """A submission naming an answer the person never voted on reaches no one."""
    bot = start_bot(feedback_channel="C0EDITORS")
    forged = {
        "type": "modal",
        "id": "V0FORGED",
        "callback_id": "feedback_reason",
        "private_metadata": json.dumps({"id": "0123456789abcdef"}),
        "blocks": [],
    }
    bot.socket.wait_ack(bot.submit(forged, "U0EDITOR", {}))
    bot.mention(QUESTION, channel="C0EDITORS")  # a sentinel: answered after the forgery
    [only] = bot.answers("C0EDITORS")
    assert "Outdated" not in only.shown and "No reason" not in only.shown


def _ask_and_wait(bot: RunningBot, questions: list[str]) -> None:
    for n, text in enumerate(questions, start=1):
        bot.mention(text, user="U0REPORTER")
        bot.answered("C0NEWSDESK", count=n)


def test_the_home_tab_shows_admins_what_was_asked_and_what_found_nothing(
    start_bot: Callable[..., RunningBot],
) -> None:
    """An admin's Home tab counts the week's questions per day, the no-answer rate, and
    lists the most-asked questions that found nothing; a reporter's shows none of it."""
    bot = start_bot(bot_admins="U0EDITOR")
    _ask_and_wait(bot, [QUESTION, NOTHING, NOTHING.upper()])
    bot.deliver_event(payloads.app_home_opened("U0EDITOR"))
    [home] = bot.web.wait_for("views.publish")
    shown = json.dumps(home.args["view"], ensure_ascii=False)
    assert "3 asked, 2 found nothing (67% no-answer rate)" in shown
    assert "quokka orchestra" in shown and "(2×)" in shown
    bot.deliver_event(payloads.app_home_opened("U0REPORTER"))
    reporter = bot.web.wait_for("views.publish", count=2)[1]
    assert "no-answer rate" not in json.dumps(reporter.args["view"])


def test_questions_full_of_ampersands_do_not_take_the_admins_home_tab_down(
    start_bot: Callable[..., RunningBot],
) -> None:
    """Five unanswerable questions of "&&&…" (each `&` shown as `&amp;`) made the gaps
    section longer than Slack's 3,000 characters: views.publish was refused and the admin
    saw no Home tab at all. It is published, cut to fit."""
    bot = start_bot(bot_admins="U0EDITOR", rate_limit_per_minute=0)
    _ask_and_wait(bot, [f"quokka{n} " + "&" * 200 for n in range(5)])
    bot.deliver_event(payloads.app_home_opened("U0EDITOR"))
    [home] = bot.web.wait_for("views.publish")
    assert home.response["ok"], home.response
    assert "found nothing" in json.dumps(home.args["view"])


def test_bot_feedback_prints_reasons_and_question_statistics(
    start_bot: Callable[..., RunningBot], tmp_path: Path, bot_log: io.StringIO
) -> None:
    """`bot feedback` prints the questions per day, the no-answer rate and the gaps as a
    table, and `--json` the same for a program; the bot's log never holds a question."""
    bot = start_bot()
    _ask_and_wait(bot, [NOTHING, NOTHING])
    votes = FeedbackStore(bot.settings.feedback_path)
    votes.record(Vote("a1", "U0EDITOR", "down", NOTHING, ""))
    votes.explain("a1", "U0EDITOR", "missing", "we covered it\x1b[2J in May")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FEEDBACK_"))},
        "ANONYMIZED_TELEMETRY": "False",
        "FEEDBACK_DB": str(bot.settings.feedback_path),
        "BOT_STATE_DB": str(bot.settings.bot_state_path),
    }
    run = [str(BOT), "feedback", "--since", "1d"]
    table = subprocess.run(run, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    assert "2 asked, 2 found nothing (100% no-answer rate)" in table.stdout
    assert "2×  what did the quokka orchestra play at the glacier" in table.stdout
    assert "reason:   missing: we covered it [2J in May" in table.stdout
    done = subprocess.run(
        [*run, "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    report = json.loads(done.stdout)
    assert report["questions"]["asked"] == 2 and report["questions"]["no_answer_rate"] == 1.0
    assert report["questions"]["gaps"][0]["times"] == 2
    assert report["votes"][0]["reason"] == "missing"
    assert "quokka" not in bot_log.getvalue() and "answered in" in bot_log.getvalue()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{not json", "DESKS is not valid JSON"),
        ('{"C0X": {"auto": true}}', "unknown key 'auto'"),
        ('{"C0X": {"since": "last week"}}', "YYYY-MM-DD"),
        ("/nonexistent/desks.json", "cannot read"),
    ],
)
def test_a_malformed_desks_setting_is_named_in_one_line(value: str, says: str) -> None:
    """DESKS written wrongly stops the start with one line saying what is wrong."""
    with pytest.raises(ConfigError, match=says):
        Desks.parse(value)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{"C0X": {"days": 1000000}}', "days must be"),
        ('{"C0X": {"since": "2030-01-01", "before": "2020-01-01"}}', "since must be before"),
        ('{"C0X": {"sources": ["Gazette\\" since:2099-01-01"]}}', "quote"),
        ('{"#sports": {"days": 30}}', "channel ID such as C0123ABCD"),
        ('{"C0X": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
)
def test_a_desk_that_would_break_or_empty_every_search_stops_the_start(
    value: str, says: str
) -> None:
    """A desk whose window cannot be computed (every question there failed with an internal
    error), whose dates leave nothing to find, whose outlet name smuggles in a filter, or
    that is keyed by a channel's name (it would never apply) is named at the start instead
    of being accepted."""
    with pytest.raises(ConfigError, match=says):
        Desks.parse(value)


def test_a_desk_outside_allowed_channels_stops_the_start(
    start_bot: Callable[..., RunningBot],
) -> None:
    """An auto-answer desk in a channel ALLOWED_CHANNELS leaves out never answered: its
    questions were ignored in silence (a mention got a pointer elsewhere). The start names
    the contradiction instead."""
    with pytest.raises(ConfigError, match="C0ASK is not in ALLOWED_CHANNELS"):
        start_bot(desks='{"C0ASK": {"auto_answer": true}}', allowed_channels="C0NEWSDESK")
    bot = start_bot(desks='{"C0ASK": {"auto_answer": true}}', allowed_channels="C0NEWSDESK,C0ASK")
    bot.deliver_event(payloads.message(QUESTION, "U0REPORTER", "C0ASK"))
    assert "Cienfuegos" in bot.answered("C0ASK")[0].shown


def test_the_manifest_declares_the_message_shortcut() -> None:
    """manifest.yml puts "Ask the archive" in messages' menus, under the callback the bot
    listens to, within Slack's limits (name 24, description 150 characters)."""
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    [shortcut] = [s for s in manifest["features"]["shortcuts"] if s["type"] == "message"]
    assert shortcut["callback_id"] == ASK_ABOUT
    assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]


@pytest.mark.integration  # the Slack stand-in and a bot over HTTP
def test_the_shortcut_and_the_reason_modal_work_over_signed_http(
    archive: Settings, archive_answerer: ArchiveAnswerer, tmp_path: Path
) -> None:
    """In HTTP mode the shortcut is acknowledged at once and answered privately; a 👎's
    reason modal is opened, and its signed submission (acknowledged with an empty 200,
    which closes it) reaches the editors' channel; an unsigned one is refused."""
    with serve_http(archive, archive_answerer, tmp_path, feedback_channel="C0EDITORS") as bot:
        claim = payloads.message(QUESTION, "U0EDITOR", "C0NEWSDESK")
        shortcut = interactions.message_action(
            claim, "U0REPORTER", bot.web.response_url("about"), bot.web.trigger_id()
        )
        reply = bot.post(*payloads.interactive_body(shortcut))
        assert reply.status == 200 and reply.seconds < 1.0
        [answer] = bot.web.wait_for_response("about")
        assert answer["response_type"] == "ephemeral" and "Cienfuegos" in json.dumps(answer)
        share = buttons_of(answer["blocks"])["share_answer"]
        click = interactions.block_actions(
            share, "U0REPORTER", "C0NEWSDESK", bot.web.response_url("s"), ephemeral=True
        )
        bot.post(*payloads.interactive_body(click))
        [shared] = bot.web.wait_for("chat.postMessage")
        down = interactions.feedback_click(buttons_of(shared.blocks)["feedback"], positive=False)
        click = interactions.block_actions(
            down,
            "U0EDITOR",
            "C0NEWSDESK",
            bot.web.response_url("fb"),
            trigger_id=bot.web.trigger_id(),
        )
        assert bot.post(*payloads.interactive_body(click)).status == 200
        [opened] = bot.web.wait_for("views.open")
        values = {"reason": {"reason": "missing"}, "note": {"note": "the 2020 arrest story"}}
        submission = interactions.view_submission(opened.response["view"], "U0EDITOR", values)
        forged = bot.post(*payloads.interactive_body(submission), secret="0" * 32)
        assert forged.status == 401
        reply = bot.post(*payloads.interactive_body(submission))
        assert (reply.status, reply.body) == (200, "")
        [told] = bot.web.wait_for("chat.postMessage", lambda c: c.args["channel"] == "C0EDITORS")
        assert "Missing article" in told.shown and "the 2020 arrest story" in told.shown


def test_the_reason_modal_opens_while_every_answering_worker_is_busy(
    start_bot: Callable[..., RunningBot], archive_answerer: ArchiveAnswerer
) -> None:
    """A 👎 clicked while the bot is busy answering others still opens the reason modal:
    its trigger_id expires 3 s after the click, so the click does not queue behind them."""
    release = threading.Event()

    def answerer(question: str) -> Answer:
        if "harbour" in question:
            release.wait(30)
        return archive_answerer(question)

    bot = start_bot(answerer=answerer)
    try:
        bot.mention(QUESTION, user="U0ASKER")
        [answer] = bot.answered("C0NEWSDESK")
        for n in range(ANSWER_WORKERS + 1):  # every worker busy, one more waiting
            bot.mention(f"what about the harbour, part {n}?", user=f"U0BUSY{n}")
        bot.web.wait_for("assistant.threads.setStatus", status_shown, count=1 + ANSWER_WORKERS)
        down = interactions.feedback_click(buttons_of(answer.blocks)["feedback"], positive=False)
        bot.click(down, "U0EDITOR", "C0NEWSDESK", "fb")
        [opened] = bot.web.wait_for("views.open", timeout=TRIGGER_SECONDS)
        assert opened.response["ok"], opened.response
        assert not release.is_set()
    finally:
        release.set()
