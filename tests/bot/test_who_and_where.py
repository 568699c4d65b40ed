"""Who may ask (Slack Connect), help, the App Home tab and the assistant split view."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml
from slack_sdk import WebClient

from bot.feedback import FeedbackStore, Vote
from bot.policy import Identity, Policy
from testing.slack_standin import interactions, payloads
from testing.slack_standin.interactions import buttons_of
from testing.slack_standin.socket_mode import FakeSocketMode
from testing.slack_standin.web_api import FakeSlackWebAPI
from tests.bot.conftest import BOT_TOKEN, RunningBot
from tests.conftest import ROOT, make_settings
from tests.helpers import Clock

QUESTION = "who was Cienfuegos?"
OUTSIDER_TEAM = "T0PARTNER"


def _external_mention(bot: RunningBot, user: str = "U0PARTNER", team: str = OUTSIDER_TEAM) -> None:
    event, echo = payloads.channel_mention(QUESTION, user, "C0SHARED", user_team=team)
    bot.deliver_event(event, shared=True)
    bot.deliver_event(echo, shared=True)


def test_people_from_another_organisation_are_not_answered(bot: RunningBot) -> None:
    """In a Slack Connect channel, a mention, an /ask and a share from someone of another
    organisation get a private "members only" notice, never an answer from the archive."""
    _external_mention(bot)
    [notice] = bot.web.wait_for("chat.postEphemeral")
    assert notice.args["user"] == "U0PARTNER" and "only answer members" in notice.args["text"]
    command = interactions.slash_command(
        QUESTION, "U0PARTNER", "C0SHARED", bot.web.response_url("ask"), user_team=OUTSIDER_TEAM
    )
    ack = bot.socket.wait_ack(bot.socket.deliver("slash_commands", command))
    assert "only answer members" in (ack.ack_payload or {})["text"]
    share = {"action_id": "share_answer", "text": {}, "value": json.dumps({"q": QUESTION})}
    bot.click(share, "U0PARTNER", "C0SHARED", "share", ephemeral=True, user_team=OUTSIDER_TEAM)
    assert "only answer members" in bot.web.wait_for_response("share")[0]["text"]
    bot.settle()
    assert not bot.web.calls_to("chat.postMessage") and "ask" not in bot.web.responses


def test_external_users_are_answered_when_allowed(start_bot) -> None:  # noqa: ANN001
    """ALLOW_EXTERNAL_USERS=true: the same mention is answered."""
    bot = start_bot(allow_external_users=True)
    _external_mention(bot)
    assert "Cienfuegos" in bot.answers("C0SHARED")[0].shown


def test_members_of_the_same_org_are_insiders(
    start_bot: Callable[..., RunningBot], slack: tuple[FakeSlackWebAPI, FakeSocketMode]
) -> None:
    """An org (Enterprise Grid) workspace: someone from a sibling workspace of the same org
    is answered; someone whose org differs is not."""
    web, _ = slack
    web.enterprise_id = "E0NEWSORG"
    web.users["U0SIBLING"] = {"id": "U0SIBLING", "enterprise_user": {"enterprise_id": "E0NEWSORG"}}
    web.users["U0PARTNER"] = {"id": "U0PARTNER", "enterprise_user": {"enterprise_id": "E0OTHER"}}
    bot = start_bot()
    _external_mention(bot, "U0SIBLING", "T0SIBLING")
    bot.answers("C0SHARED")
    _external_mention(bot, "U0PARTNER", OUTSIDER_TEAM)
    bot.web.wait_for("chat.postEphemeral")
    assert len(bot.web.calls_to("chat.postMessage")) == 1


def test_a_failed_org_lookup_is_not_remembered(
    start_bot: Callable[..., RunningBot], slack: tuple[FakeSlackWebAPI, FakeSocketMode]
) -> None:
    """users.info fails once for a colleague from a sibling workspace: that question gets
    the members-only notice, but the next one is looked up again and answered."""
    web, _ = slack
    web.enterprise_id = "E0NEWSORG"
    web.users["U0SIBLING"] = {"id": "U0SIBLING", "enterprise_user": {"enterprise_id": "E0NEWSORG"}}
    web.fail_next("users.info", 200, {"ok": False, "error": "internal_error"})
    bot = start_bot()
    _external_mention(bot, "U0SIBLING", "T0SIBLING")
    bot.web.wait_for("chat.postEphemeral")
    _external_mention(bot, "U0SIBLING", "T0SIBLING")
    assert "Cienfuegos" in bot.answers("C0SHARED")[0].shown


def test_a_change_of_role_is_seen_once_the_cached_profile_expires(
    slack: tuple[FakeSlackWebAPI, FakeSocketMode], tmp_path: Path
) -> None:
    """A workspace admin is demoted: the bot keeps what users.info said only for the
    profile's lifetime, then looks again, instead of trusting it until a restart."""
    web, _ = slack
    web.users["U0EDITOR"] = {"id": "U0EDITOR", "is_admin": True}
    client = WebClient(token=BOT_TOKEN, base_url=web.base_url)
    clock = Clock()
    policy = Policy(
        make_settings(tmp_path).slack, Identity.of(client), profile_ttl=600, clock=clock
    )
    assert policy.admin(client, "U0EDITOR")
    web.users["U0EDITOR"] = {"id": "U0EDITOR", "is_admin": False}
    assert policy.admin(client, "U0EDITOR")  # still cached: one lookup so far
    assert len(web.calls_to("users.info")) == 1
    clock.now += 601
    assert not policy.admin(client, "U0EDITOR")
    assert len(web.calls_to("users.info")) == 2


def test_help_answers_with_how_to_ask_instead_of_searching(bot: RunningBot) -> None:
    """ "help" in a DM, as a mention, or `/ask help`: how to ask (mention, DM, /ask,
    filters), not a search for the word."""
    bot.deliver_event(payloads.message("help", "U0REPORTER", "D0REPORTER", "im"))
    [usage] = bot.answers("D0REPORTER")
    assert "/ask" in usage.shown and "since:" in usage.shown and "<@U0BOT>" in usage.shown
    ack = bot.socket.wait_ack(bot.command("help"))
    assert "since:" in (ack.ack_payload or {})["text"]
    bot.mention("Help")
    assert "source:" in bot.answers("C0NEWSDESK")[0].shown
    assert "ask" not in bot.web.responses


def _home(bot: RunningBot, user: str) -> str:
    bot.socket.wait_ack(bot.deliver_event(payloads.app_home_opened(user)))
    published = bot.web.wait_for("views.publish", lambda c: c.args.get("user_id") == user)[-1]
    view = published.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    return json.dumps(view, ensure_ascii=False)


def test_the_home_tab_says_how_to_ask_and_what_the_archive_holds(bot: RunningBot) -> None:
    """App Home: the ways to ask and the filters; article count, dates, outlets and when
    articles were last added. No feedback figures for an ordinary member."""
    home = _home(bot, "U0REPORTER")
    assert "/ask" in home and "since:" in home
    assert "2 articles, published" in home and "2023-05-04" in home
    assert "Los Angeles Times" in home and "Riverside Gazette" in home
    assert "Last added" in home and "Feedback in the last 7 days" not in home


def test_whoever_runs_the_bot_sees_the_weeks_feedback_on_the_home_tab(start_bot) -> None:  # noqa: ANN001
    """BOT_ADMINS (or a workspace admin): 👍/👎 counts of the last 7 days and the latest 👎
    questions."""
    bot = start_bot(bot_admins="U0EDITOR")
    store = FeedbackStore(bot.settings.feedback_path)
    store.record(Vote("a1", "U1", "down", "who paid for the footbridge?", "…"))
    store.record(Vote("a2", "U2", "up", QUESTION, "…"))
    home = _home(bot, "U0EDITOR")
    assert "👍 1" in home and "👎 1" in home and "who paid for the footbridge?" in home
    bot.web.users["U0OWNER"] = {"id": "U0OWNER", "is_owner": True}
    assert "who paid for the footbridge?" in _home(bot, "U0OWNER")
    assert "who paid for the footbridge?" not in _home(bot, "U0REPORTER")


def test_the_assistant_view_greets_suggests_and_shows_a_status_while_searching(
    bot: RunningBot,
) -> None:
    """assistant_thread_started: a greeting and suggested prompts; a question in that
    thread: the "searching" status instead of a reaction, and the answer in the thread
    (an app installed earlier, made from manifest-assistant-view.yml)."""
    manifest = yaml.safe_load((ROOT / "manifest-assistant-view.yml").read_text("utf-8"))
    assert bot.web.create_app(manifest, new_app=False)["ok"]
    started = payloads.assistant_thread_started("U0REPORTER", "D0REPORTER")
    bot.socket.wait_ack(bot.deliver_event(started))
    thread_ts = started["assistant_thread"]["thread_ts"]
    [greeting] = bot.answers("D0REPORTER")
    assert greeting.args["thread_ts"] == thread_ts
    [prompts] = bot.web.wait_for("assistant.threads.setSuggestedPrompts")
    assert "What's new this week?" in json.dumps(prompts.args)
    assert bot.web.suggested  # the assistant experience shows prompts set for a thread
    asked = payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im", thread_ts=thread_ts)
    bot.deliver_event(asked)
    answer = bot.answers("D0REPORTER", count=2)[1]
    assert answer.args["thread_ts"] == thread_ts and "Cienfuegos" in answer.shown
    status = bot.web.calls_to("assistant.threads.setStatus")[0]
    assert status.args["status"] == "is searching the archive…" and status.at < answer.at
    assert not bot.web.calls_to("reactions.add")
    assert buttons_of(answer.blocks)["feedback"]["type"] == "feedback_buttons"


def test_without_the_assistant_scope_the_status_still_shows(bot: RunningBot) -> None:
    """A workspace that did not grant assistant:write: setStatus needs only chat:write
    (docs.slack.dev/changelog/2026/03/05/set-status-scope-update), so no hourglass."""
    bot.web.scopes.discard("assistant:write")
    asked = payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im", thread_ts="17.1")
    bot.deliver_event(asked)
    bot.answered("D0REPORTER")
    [status, *_] = bot.web.calls_to("assistant.threads.setStatus")
    assert status.args["thread_ts"] == "17.1" and status.response["ok"]
    assert not bot.web.calls_to("reactions.add")
