"""Slack as of 2026, over the wire: the agent messaging experience, rotating loading states
in threads, task updates with sources in streams, optional scopes, and the fixes found by
reading Slack's documentation (recipient_team_id, /ask acknowledged before users.info).

The bot is the production app over Socket Mode with the real core; Slack is the stand-in,
created from the shipped manifest.yml; the model is the scripted stand-in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import notices
from bot.answerer import ArchiveAnswerer
from bot.listeners import SUBSCRIPTIONS
from core.settings import Settings
from testing.llm_standin import FakeChatServer, Reply
from testing.slack_standin import interactions, payloads
from testing.slack_standin.rules import REQUIRED_SCOPES
from testing.slack_standin.web_api import Call, FakeSlackWebAPI
from tests.bot.conftest import RunningBot
from tests.conftest import ROOT, make_settings
from tests.helpers import ingest_paths

QUESTION = "What did the Riverside zoning board approve?"
SUPPORTED = "[1] The Riverside zoning board approved the footbridge over the canal on Tuesday."
ARTICLE = "https://gazette.example/zoning-footbridge"
GUEST, GUEST_TEAM = "U0GUEST", "T0GUEST"
STATUS = "assistant.threads.setStatus"


def _model(llm: FakeChatServer) -> dict[str, Any]:
    return {"answer_model": llm.base_url, "answer_model_name": "standin-7b"}


def _created(web: FakeSlackWebAPI) -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert web.create_app(manifest, handled_events=SUBSCRIPTIONS["agent_view"])["ok"]


@pytest.fixture
def agent_bot(start_bot: Callable[..., RunningBot], llm: FakeChatServer) -> RunningBot:
    """A bot that writes answers with the scripted model, in an app made from manifest.yml."""
    bot = start_bot(writing=True, answer_timeout=20.0, **_model(llm))
    _created(bot.web)
    return bot


def _showing(call: Call) -> bool:
    return bool(call.args.get("status"))


def _loading(call: Call) -> list[str]:
    loading = call.args.get("loading_messages") or []
    return list(loading)


def test_a_dm_in_the_agent_experience_is_answered_in_its_thread_with_status_and_stream(
    agent_bot: RunningBot, llm: FakeChatServer, archive_answerer: Any
) -> None:
    """Opening the Messages tab offers prompts; a DM question gets a rotating "Searching…"
    status in its thread, then the verified answer streams into that thread, its search
    shown as a task listing the article found."""
    bot, web = agent_bot, agent_bot.web
    llm.script(Reply(SUPPORTED))
    bot.socket.wait_ack(bot.deliver_event(payloads.app_home_opened("U0REPORTER", "messages")))
    [prompts] = web.wait_for("assistant.threads.setSuggestedPrompts")
    assert "thread_ts" not in prompts.args  # with one, Slack silently shows nothing
    assert web.suggested and "What's new this week?" in str(web.suggested[0]["prompts"])
    bot.socket.wait_ack(bot.deliver_event(payloads.app_context_changed("U0REPORTER")))

    asked = payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im")
    bot.deliver_event(asked)
    [stop] = web.wait_for("chat.stopStream")
    [start] = web.calls_to("chat.startStream")
    assert start.args["thread_ts"] == asked["ts"]
    statuses = web.wait_for(STATUS, count=3)  # searching, reading, cleared
    searching, reading = [c for c in statuses if _showing(c)][:2]
    assert searching.args["thread_ts"] == asked["ts"] and searching.at < start.at
    articles = archive_answerer.searcher().summary().articles
    assert f"Searching {articles:,} articles…" in _loading(searching)
    assert any(m.startswith("Reading ") and "passage" in m for m in _loading(reading))
    assert not web.calls_to("reactions.add")
    stream = web.streams[stop.args["ts"]]
    [task] = stream.tasks
    assert task["status"] == "complete" and ARTICLE in [s["url"] for s in task["sources"]]
    assert "footbridge over the canal" in stream.markdown
    assert not web.calls_to("chat.postMessage")  # the stream is the answer


def test_a_channel_mention_shows_a_rotating_status_in_its_thread(bot: RunningBot) -> None:
    """@archive in a channel: "Searching N articles…" rotates under the question's thread
    (chat:write is enough) instead of an hourglass, and goes once the answer is there."""
    _, event = bot.mention("who was Cienfuegos?")
    [answer] = bot.answered("C0NEWSDESK")
    first, *_, last = bot.web.calls_to(STATUS)
    assert first.args["thread_ts"] == answer.args["thread_ts"] == event["ts"]
    assert first.args["status"] == notices.SEARCHING_STATUS
    assert any(m.startswith("Searching ") for m in _loading(first))
    assert last.args["status"] == "" and last.at >= answer.at
    assert not bot.web.calls_to("reactions.add")


def test_where_slack_refuses_a_status_the_hourglass_shows_instead(bot: RunningBot) -> None:
    """A workspace that will not show a status in the thread: the hourglass on the question."""
    bot.web.fail_next(STATUS, 200, {"ok": False, "error": "feature_not_enabled"})
    _, event = bot.mention("who was Cienfuegos?")
    bot.answered("C0NEWSDESK")
    [added] = bot.web.calls_to("reactions.add")
    assert added.args["timestamp"] == event["ts"]
    assert len(bot.web.calls_to(STATUS)) == 1  # refused once, not tried again


def test_slow_progress_calls_never_delay_the_answer(bot: RunningBot) -> None:
    """Slack rate-limits the status and the hourglass for 30 s: the answer comes at once
    anyway, and neither progress call is retried."""
    bot.web.fail_next(STATUS, 200, {"ok": False, "error": "feature_not_enabled"})
    bot.web.fail_next("reactions.add", 429, headers={"Retry-After": "30"})
    delivery, _ = bot.mention("who was Cienfuegos?")
    [answer] = bot.answers("C0NEWSDESK", timeout=10.0)
    assert answer.at - delivery.sent_at < 10.0
    bot.done()  # the hourglass's removal follows its add (and any retry of it)
    assert len(bot.web.calls_to("reactions.add")) == 1


def test_an_external_askers_stream_names_their_team_as_recipient(
    start_bot: Callable[..., RunningBot], llm: FakeChatServer
) -> None:
    """A guest from another organisation (external users allowed) in a shared channel gets
    the streamed answer: recipient_team_id is their team, not the app's."""
    bot = start_bot(writing=True, answer_timeout=20.0, allow_external_users=True, **_model(llm))
    bot.web.users[GUEST] = {"id": GUEST, "team_id": GUEST_TEAM}
    llm.script(Reply(SUPPORTED))
    event, echo = payloads.channel_mention(QUESTION, GUEST, "C0SHARED", user_team=GUEST_TEAM)
    bot.deliver_event(event, shared=True)
    bot.deliver_event(echo, shared=True)
    [start] = bot.web.wait_for("chat.startStream")
    assert start.args["recipient_user_id"] == GUEST
    assert start.args["recipient_team_id"] == GUEST_TEAM and start.response["ok"]
    [stop] = bot.web.wait_for("chat.stopStream")
    assert "footbridge over the canal" in bot.web.streams[stop.args["ts"]].markdown


def test_ask_is_acknowledged_before_any_users_info_call(bot: RunningBot) -> None:
    """/ask from someone of another organisation whom Slack is slow to describe (users.info
    rate-limited): acknowledged at once, and told privately afterwards."""
    bot.web.fail_next("users.info", 429, headers={"Retry-After": "4"})
    command = interactions.slash_command(
        QUESTION, GUEST, "C0SHARED", bot.web.response_url("ask"), user_team=GUEST_TEAM
    )
    ack = bot.socket.wait_ack(bot.socket.deliver("slash_commands", command))
    _, retried = bot.web.wait_for("users.info", count=2)  # after Retry-After
    assert ack.acked_at is not None and ack.acked_at < retried.at and ack.ack_seconds < 1.0
    [told] = bot.web.wait_for_response("ask")
    assert notices.OUTSIDER in told["text"] and told["response_type"] == "ephemeral"


def test_the_bot_works_with_only_the_required_scopes(bot: RunningBot) -> None:
    """A workspace that declined every optional scope: mentions, DMs and /ask are answered,
    with a status for progress, and the bot calls nothing Slack refuses for a scope."""
    bot.web.scopes = set(REQUIRED_SCOPES)
    _, event = bot.mention("who was Cienfuegos?")
    bot.answered("C0NEWSDESK")
    asked = payloads.message("who was Cienfuegos?", "U0REPORTER", "D0REPORTER", "im")
    bot.deliver_event(asked)
    [dm] = bot.answered("D0REPORTER")
    assert dm.args["thread_ts"] == asked["ts"]
    bot.socket.wait_ack(bot.command("who was Cienfuegos?", reply_to="ask"))
    assert "Cienfuegos" in str(bot.web.wait_for_response("ask")[0]["blocks"])
    refused = [c.method for c in bot.web.calls if c.response.get("error") == "missing_scope"]
    assert refused == []


def test_the_stand_in_refuses_a_method_without_its_scope_as_slack_does(
    bot: RunningBot,
) -> None:
    """Without reactions:write, an hourglass Slack would refuse is refused here too, and
    the answer still comes."""
    bot.web.scopes.discard("reactions:write")
    bot.web.fail_next(STATUS, 200, {"ok": False, "error": "feature_not_enabled"})
    bot.mention("who was Cienfuegos?")
    bot.answers("C0NEWSDESK")
    [added] = bot.web.wait_for("reactions.add")
    assert added.response == {"ok": False, "error": "missing_scope"}


SCHEMELESS_ARTICLE = """---
id: schemeless-zoning
title: Zoning board approves the Riverside footbridge
source: Riverside Gazette
published_at: 2023-05-04
url: gazette.example/zoning-footbridge
---
The Riverside zoning board approved the footbridge over the canal on Tuesday.
"""


@pytest.fixture(scope="module")
def schemeless_answerer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveAnswerer]:
    """An archive whose one article gives its address without https:// (as CMS exports do)."""
    root = tmp_path_factory.mktemp("schemeless")
    article = root / "zoning.md"
    article.write_text(SCHEMELESS_ARTICLE, encoding="utf-8")
    settings: Settings = make_settings(root)
    ingest_paths(settings, article)
    answerer = ArchiveAnswerer(settings)
    yield answerer
    answerer.close()


def test_an_article_without_a_web_address_does_not_break_the_stream(
    start_bot: Callable[..., RunningBot],
    llm: FakeChatServer,
    schemeless_answerer: ArchiveAnswerer,
    tmp_path: Path,
) -> None:
    """An article whose address is not a web URL ("gazette.example/…"): Slack refuses a
    task source that is not one, and with it the streamed answer; the search task lists
    only web addresses, and the answer streams."""
    bot = start_bot(
        answerer=schemeless_answerer,
        writing=True,
        answer_timeout=20.0,
        chroma_path=schemeless_answerer.settings.chroma_path,
        **_model(llm),
    )
    llm.script(Reply(SUPPORTED))
    bot.deliver_event(payloads.message(QUESTION, "U0REPORTER", "D0REPORTER", "im"))
    [stop] = bot.web.wait_for("chat.stopStream")
    stream = bot.web.streams[stop.args["ts"]]
    assert "footbridge over the canal" in stream.markdown
    assert all(s["url"].startswith("https://") for t in stream.tasks for s in t["sources"])
