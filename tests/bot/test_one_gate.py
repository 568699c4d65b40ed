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
from testing.slack_standin import payloads
from testing.slack_standin.payloads import buttons_of
from testing.slack_standin.web_api import TEAM_ID, FakeSlackWebAPI
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
    return payloads.feedback_click(buttons_of(answer.blocks)["feedback"], positive=False)


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
    command = payloads.slash_command(
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
        gate = Gate(settings, Policy(settings, Identity.of(client)), limiter, lambda: revoked)
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
