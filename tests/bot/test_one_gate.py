"""One gate for every surface: outsiders first, then allowed channels, then the payload."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.feedback import FeedbackStore, Vote
from bot.gate import Gate, Knock, Problem
from bot.guards import RateLimiter
from bot.policy import Identity, Policy
from testing.slack_standin import interactions, payloads
from testing.slack_standin.interactions import buttons_of
from testing.slack_standin.rules import TEAM_ID
from testing.slack_standin.web_api import FakeSlackWebAPI
from tests.bot.conftest import BOT_TOKEN, RunningBot
from tests.conftest import make_settings

QUESTION = "who was Cienfuegos?"
PARTNER, PARTNER_TEAM = "U0PARTNER", "T0PARTNER"
MEMBERS_ONLY = "only answer members"


def _view(call: Any) -> str:
    view = call.args["view"]
    return view if isinstance(view, str) else json.dumps(view, ensure_ascii=False)


def _feedback_button(bot: RunningBot) -> dict[str, Any]:
    """The 👎 of a real answer the bot gave a member."""
    bot.mention(QUESTION, user="U0REPORTER")
    answer = bot.answers("C0NEWSDESK")[0]
    return interactions.feedback_click(buttons_of(answer.blocks)["feedback"], positive=False)


def test_app_home_shows_an_admin_of_another_organisation_nothing_of_ours(
    start_bot: Callable[..., RunningBot],
) -> None:
    """Someone from a partner organisation, an admin over there, opens the App Home tab: they
    see the members-only notice, not the archive summary nor staff's 👎 questions."""
    bot = start_bot(bot_admins="U0EDITOR")
    bot.web.users[PARTNER] = {"id": PARTNER, "team_id": PARTNER_TEAM, "is_admin": True}
    bot.socket.wait_ack(bot.deliver_event(payloads.app_home_opened("U0EDITOR")))
    staff = bot.web.wait_for("views.publish", lambda c: c.args.get("user_id") == "U0EDITOR")
    assert "Riverside Gazette" in _view(staff[0])  # what a member who runs the bot sees
    store = FeedbackStore(bot.settings.feedback_path)
    store.record(Vote("a1", "U0STAFF", "down", "who leaked the merger memo?", "…"))
    bot.socket.wait_ack(bot.deliver_event(payloads.app_home_opened(PARTNER)))
    [home] = bot.web.wait_for("views.publish", lambda c: c.args.get("user_id") == PARTNER)
    shown = _view(home)
    assert MEMBERS_ONLY in shown
    for internal in ("What the archive holds", "Riverside Gazette", "merger memo", "👎"):
        assert internal not in shown


def test_every_surface_turns_an_outsider_away_before_anything_else(bot: RunningBot) -> None:
    """Mention, DM, /ask, Share, 👎 and App Home from another organisation: the members-only
    notice each time; no answer, no vote stored, no archive shown."""
    button = _feedback_button(bot)  # an answer to a member, so the 👎 is a real one
    bot.web.users[PARTNER] = {"id": PARTNER, "team_id": PARTNER_TEAM}
    event, echo = payloads.channel_mention(QUESTION, PARTNER, "C0SHARED", user_team=PARTNER_TEAM)
    bot.deliver_event(event, shared=True)
    bot.deliver_event(echo, shared=True)
    dm = payloads.message(QUESTION, PARTNER, "D0PARTNER", "im", user_team=PARTNER_TEAM)
    bot.deliver_event(dm)
    ephemeral = bot.web.wait_for("chat.postEphemeral", count=2)
    assert all(MEMBERS_ONLY in c.args["text"] for c in ephemeral)
    command = interactions.slash_command(
        QUESTION, PARTNER, "C0SHARED", bot.web.response_url("ask"), user_team=PARTNER_TEAM
    )
    ack = bot.socket.wait_ack(bot.socket.deliver("slash_commands", command))
    assert MEMBERS_ONLY in (ack.ack_payload or {})["text"]
    share = {"action_id": "share_answer", "text": {}, "value": json.dumps({"q": QUESTION})}
    bot.click(share, PARTNER, "C0SHARED", "share", ephemeral=True, user_team=PARTNER_TEAM)
    bot.click(button, PARTNER, "C0NEWSDESK", "vote", user_team=PARTNER_TEAM)
    assert MEMBERS_ONLY in bot.web.wait_for_response("share")[0]["text"]
    assert MEMBERS_ONLY in bot.web.wait_for_response("vote")[0]["text"]
    bot.socket.wait_ack(bot.deliver_event(payloads.app_home_opened(PARTNER)))
    [home] = bot.web.wait_for("views.publish", lambda c: c.args.get("user_id") == PARTNER)
    assert MEMBERS_ONLY in _view(home) and "What the archive holds" not in _view(home)
    assert len(bot.web.calls_to("chat.postMessage")) == 1  # the member's answer only
    assert "ask" not in bot.web.responses
    assert not FeedbackStore(bot.settings.feedback_path).votes()


def test_share_is_refused_outside_the_allowed_channels(
    start_bot: Callable[..., RunningBot],
) -> None:
    """ALLOWED_CHANNELS=C0OK: a signed Share click naming another channel posts nothing
    there; the clicker is told privately where the bot answers (someone from another
    organisation is told first that the bot is not theirs)."""
    bot = start_bot(allowed_channels="C0OK")
    share = {"action_id": "share_answer", "text": {}, "value": json.dumps({"q": QUESTION})}
    bot.click(share, "U0REPORTER", "C0ELSEWHERE", "share", ephemeral=True)
    bot.click(share, PARTNER, "C0ELSEWHERE", "partner", ephemeral=True, user_team=PARTNER_TEAM)
    [notice] = bot.web.wait_for_response("share")
    assert "<#C0OK>" in notice["text"] and notice["response_type"] == "ephemeral"
    assert MEMBERS_ONLY in bot.web.wait_for_response("partner")[0]["text"]
    assert not bot.web.calls_to("chat.postMessage")


def test_a_share_without_a_question_posts_nothing(bot: RunningBot, bot_log) -> None:  # noqa: ANN001
    """A Share click whose value holds `q=""` (or no JSON at all): no "asked: **" in the
    channel; the clicker is told the button no longer works; one warning line."""
    for value in (json.dumps({"q": ""}), json.dumps({"q": "   "}), "not json", json.dumps([1])):
        share = {"action_id": "share_answer", "text": {}, "value": value}
        bot.click(share, "U0REPORTER", "C0NEWSDESK", "share", ephemeral=True)
    notices = bot.web.wait_for_response("share", count=4)
    assert all("doesn't work any more" in n["text"] for n in notices)
    assert not bot.web.calls_to("chat.postMessage")
    warnings = [line for line in bot_log.getvalue().splitlines() if "share without" in line]
    assert len(warnings) == 4 and all("WARNING" in line for line in warnings)


def test_votes_for_answers_the_bot_never_gave_are_not_stored(bot: RunningBot) -> None:
    """👍/👎 clicks naming an unknown answer id, or with a value that is not JSON, store
    nothing (the admins' Home tab would show them); a real vote is stored with the bot's
    own question and answer, whatever the click's value claims."""
    real = _feedback_button(bot)
    forged = [
        {**real, "value": json.dumps({"id": "0123456789abcdef", "q": "forged?", "v": "down"})},
        {**real, "value": "not json"},
        {**real, "value": json.dumps({"id": "", "q": "forged?"})},
        {**real, "value": json.dumps({**json.loads(real["value"]), "q": "forged question"})},
    ]
    for n, button in enumerate(forged):
        bot.click(button, "U0REPORTER", "C0NEWSDESK", f"vote{n}")
    for n in range(3):
        assert "doesn't work any more" in bot.web.wait_for_response(f"vote{n}")[0]["text"]
    assert "Thanks" in bot.web.wait_for_response("vote3")[0]["text"]
    [vote] = FeedbackStore(bot.settings.feedback_path).votes()
    assert vote.question == QUESTION and "Cienfuegos" in vote.answer


@pytest.mark.integration  # the Slack stand-in
def test_the_checks_run_in_one_order_and_a_refusal_costs_nothing_later(tmp_path: Path) -> None:
    """An outsider asking too fast in a channel the bot does not serve hears only that the
    bot is not theirs, and their refused questions never count against a rate limit;
    a member's empty question counts (the rate limit comes before the input checks)."""
    with FakeSlackWebAPI(BOT_TOKEN, "xapp-unused") as web:
        web.users[PARTNER] = {"id": PARTNER, "team_id": PARTNER_TEAM}
        client = WebClient(token=BOT_TOKEN, base_url=web.base_url)
        settings = make_settings(tmp_path, allowed_channels="C0OK", rate_limit_per_minute=1)
        limiter = RateLimiter(1)
        revoked = False
        gate = Gate(
            settings.slack, Policy(settings.slack, Identity.of(client)), limiter, lambda: revoked
        )
        empty = Problem("no question", "ask me something")
        outsider = Knock("mention", PARTNER, PARTNER_TEAM, "C0ELSEWHERE")
        assert [gate.check(client, outsider, empty).step for _ in range(3)] == ["outsider"] * 3
        assert [gate.check(client, Knock("home", PARTNER, None)).step] == ["outsider"]
        assert limiter.wait_time(PARTNER) == 0  # the refused ones were never counted
        member = Knock("mention", "U0REPORTER", TEAM_ID, "C0ELSEWHERE")
        assert gate.check(client, member, empty).step == "channel"
        member = Knock("mention", "U0REPORTER", TEAM_ID, "C0OK")
        assert gate.check(client, member, empty).step == "input"
        assert gate.check(client, member).step == "rate"
        assert gate.check(client, Knock("vote", "U0REPORTER", TEAM_ID, "C0OK")) is None
        revoked = True
        assert gate.check(client, outsider).step == "revoked"


def test_once_the_app_is_uninstalled_no_surface_calls_slack(
    start_bot: Callable[..., RunningBot],
) -> None:
    """After app_uninstalled, nothing anyone does reaches Slack from the bot: no answer to a
    mention, DM, follow-up, /ask, shortcut or Share; no vote stored or thanked; no reason
    sent to the editors; no App Home tab, greeting or suggested prompts."""
    bot = start_bot(feedback_channel="C0EDITORS")
    _, asked = bot.mention(QUESTION, user="U0REPORTER")
    answer = bot.answers("C0NEWSDESK")[0]
    down = interactions.feedback_click(buttons_of(answer.blocks)["feedback"], positive=False)
    bot.click(down, "U0REPORTER", "C0NEWSDESK", "vote-before")
    [opened] = bot.web.wait_for("views.open")
    bot.deliver_event(payloads.app_uninstalled())
    bot.settle()
    before, votes = len(bot.web.calls), FeedbackStore(bot.settings.feedback_path).votes()
    bot.mention(QUESTION, user="U0REPORTER")
    bot.deliver_event(payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im"))
    follow_up = "and when was he arrested?"
    reply = payloads.message(follow_up, "U0REPORTER", "C0NEWSDESK", thread_ts=asked["ts"])
    bot.deliver_event(reply)
    bot.command(QUESTION, reply_to="ask")
    bot.shortcut(payloads.message(QUESTION, "U0EDITOR", "C0NEWSDESK"), "U0REPORTER", "about")
    share = {"action_id": "share_answer", "text": {}, "value": json.dumps({"q": QUESTION})}
    bot.click(share, "U0REPORTER", "C0NEWSDESK", "share", ephemeral=True)
    up = interactions.feedback_click(buttons_of(answer.blocks)["feedback"], positive=True)
    bot.click(up, "U0EDITOR", "C0NEWSDESK", "vote-after")
    values = {"reason": {"reason": "outdated"}, "note": {"note": "a newer story"}}
    bot.submit(opened.response["view"], "U0REPORTER", values)
    bot.deliver_event(payloads.app_home_opened("U0REPORTER"))
    bot.deliver_event(payloads.app_home_opened("U0REPORTER", tab="messages"))
    bot.deliver_event(payloads.assistant_thread_started("U0REPORTER", "D0REPORTER"))
    bot.settle()
    assert len(bot.web.calls) == before, [c.method for c in bot.web.calls[before:]]
    assert set(bot.web.responses) <= {"vote-before"}
    assert FeedbackStore(bot.settings.feedback_path).votes() == votes


def test_an_outsider_opening_the_assistant_or_messages_tab_gets_no_prompts(
    bot: RunningBot,
) -> None:
    """Someone from a partner organisation opens an assistant thread or the Messages tab
    (payloads that name no team: the bot asks Slack who they are): the thread gets the
    members-only notice instead of the greeting, and neither gets suggested prompts."""
    bot.web.users[PARTNER] = {"id": PARTNER, "team_id": PARTNER_TEAM}
    started = payloads.assistant_thread_started(PARTNER, "D0PARTNER")
    bot.deliver_event(started)
    bot.deliver_event(payloads.app_home_opened(PARTNER, tab="messages"))
    bot.settle()
    [notice] = bot.web.calls_to("chat.postMessage")
    assert MEMBERS_ONLY in notice.shown
    assert notice.args["thread_ts"] == started["assistant_thread"]["thread_ts"]
    assert not bot.web.calls_to("assistant.threads.setSuggestedPrompts")


def test_the_shortcut_passes_the_one_gate(start_bot: Callable[..., RunningBot]) -> None:
    """The shortcut is refused like `/ask`: someone from a partner organisation is told
    the bot serves members only, and a channel outside ALLOWED_CHANNELS gets the pointer
    to where it answers; neither is searched for."""
    bot = start_bot(allowed_channels="C0NEWSDESK")
    claim = payloads.message(QUESTION, "U0EDITOR", "C0NEWSDESK")
    bot.shortcut(claim, "U0PARTNER", "outsider", user_team="T0PARTNER")
    assert "only answer members" in bot.web.wait_for_response("outsider")[0]["text"]
    elsewhere = payloads.message(QUESTION, "U0EDITOR", "C0RANDOM")
    bot.shortcut(elsewhere, "U0REPORTER", "elsewhere")
    [pointer] = bot.web.wait_for_response("elsewhere")
    assert "I only answer questions in <#C0NEWSDESK>" in pointer["text"]


def test_a_reason_for_a_vote_in_a_channel_no_longer_served_is_not_posted(
    start_bot: Callable[..., RunningBot],
) -> None:
    """A 👎 given in #random; the bot restarts with ALLOWED_CHANNELS=C0NEWSDESK before the
    reason is sent: the reason passes the same gate as the vote would now (allowed
    channel), so it is neither stored nor posted to FEEDBACK_CHANNEL."""
    first = start_bot(feedback_channel="C0EDITORS")
    first.mention(QUESTION, user="U0REPORTER", channel="C0RANDOM")
    answer = first.answers("C0RANDOM")[0]
    down = interactions.feedback_click(buttons_of(answer.blocks)["feedback"], positive=False)
    first.click(down, "U0EDITOR", "C0RANDOM", "vote")
    [opened] = first.web.wait_for("views.open")
    first.settle()
    first.handler.close()
    bot = start_bot(feedback_channel="C0EDITORS", allowed_channels="C0NEWSDESK")
    values = {"reason": {"reason": "outdated"}, "note": {"note": "a newer story"}}
    bot.submit(opened.response["view"], "U0EDITOR", values)
    bot.settle()
    assert not bot.web.calls_to("chat.postMessage", lambda c: c.args["channel"] == "C0EDITORS")
    [vote] = FeedbackStore(bot.settings.feedback_path).votes()
    assert vote.vote == "down" and not vote.reason
