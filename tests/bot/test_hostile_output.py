"""Nothing the bot sends can ping, link or leak: every path, every block, the fallback text.

The archive holds an article whose title, outlet, URL and text are made of Slack's control
sequences (`<!channel>`, `<!here>`, `<!everyone>`, `<@U…>`, `<#C…>`, `<!subteam^…>`,
disguised links) and of the plain words Slack would turn into pings. The bot answers it
over every path (mention, /ask, share, follow-up), and what reaches Slack is checked as
Slack would read it. Tokens are looked for in everything sent and everything logged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answerer import ArchiveAnswerer
from core.settings import Settings
from testing.slack_standin import payloads
from testing.slack_standin.interactions import buttons_of
from tests.bot.conftest import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, RunningBot
from tests.conftest import make_settings
from tests.helpers import ingest_paths

TRICKS = (
    "<!channel> <!here> <!everyone> <!here|here> <@U0HACKER> <@W0HACKER|boss> "
    "<#C0SECRET> <#C0SECRET|general> <!subteam^S0EDITORS> <!subteam^S0EDITORS|@editors> "
    "<https://evil.example/login|the official minutes> <mailto:boss@evil.example|the mayor> "
    "<!date^1392734382^{date}|Feb 18> @channel @here @everyone"
)
HOSTILE = {
    "id": "hostile-bridge",
    "title": f"Riverside footbridge vote {TRICKS}",
    "source": f"Gazette {TRICKS}",
    "url": "https://gazette.example/bridge?ref=<!channel>&who=<@U0HACKER>|innocent>",
    "published_at": "2023-05-04",
    "text": (
        "Riverside footbridge vote. The Riverside council approved the footbridge over the "
        f"canal on Tuesday. {TRICKS} The clerk read {TRICKS} into the record.\n\n"
        f"The footbridge will cost 2.4 million dollars & open in spring. {TRICKS}"
    ),
}
QUESTION = "who approved the Riverside footbridge?"
ASKER = "U0ASKER"
OUR_LINK = re.compile(r"<https://gazette\.example/[^|<>\s]*\|[^<>|]*>")
BROADCAST_WORD = re.compile(r"(?<![\w\u2060])@(channel|here|everyone)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def hostile_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store holding only the hostile article."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "hostile.jsonl"
    corpus.write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    settings = make_settings(root)
    ingest_paths(settings, corpus)
    return settings


@pytest.fixture
def hostile_bot(
    start_bot: Callable[..., RunningBot], hostile_settings: Settings
) -> Iterator[RunningBot]:
    answerer = ArchiveAnswerer(hostile_settings)
    yield start_bot(answerer=answerer)
    answerer.close()


def _mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """Every string Slack would parse as mrkdwn: the fallback and each mrkdwn text object;
    each of the latter must be `verbatim` (Slack then links nothing by itself)."""
    texts = [str(message.get("text") or "")]
    blocks = message.get("blocks") or []
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    for obj in _text_objects(blocks):
        if obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True, obj
        texts.append(obj["text"])
    return texts


def _text_objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _text_objects(item)
    elif isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for key, value in node.items():
            if key != "value":  # a button's value is data handed back to us, never shown
                yield from _text_objects(value)


def _assert_harmless(message: dict[str, Any], asker: str | None = None) -> str:
    """No control sequence but our own source link (and the asker's mention where shown),
    no broadcast word Slack could link, no bare `&`; returns all the texts joined."""
    texts = _mrkdwn_texts(message)
    for text in texts:
        controls = OUR_LINK.sub("", re.sub(r"(?m)^>", "", text))  # our links, our quotes
        if asker:
            controls = controls.replace(f"<@{asker}>", "")
        assert "<" not in controls and ">" not in controls, controls
        assert not BROADCAST_WORD.search(text), text
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", text), text
    return "\n".join(texts)


def _assert_no_tokens(*things: Any) -> None:
    dumped = json.dumps(things, default=str, ensure_ascii=False)
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "xoxb-", "xapp-"):
        assert secret not in dumped


def test_an_answer_from_a_hostile_article_pings_and_links_nothing(hostile_bot: RunningBot) -> None:
    """@mention: the threaded answer quotes the article, shows its tricks as text, and links
    only to the article's own (escaped) URL."""
    hostile_bot.mention(QUESTION)
    posted = hostile_bot.answers("C0NEWSDESK")[0]
    shown = _assert_harmless(posted.args)
    assert "*footbridge*" in shown and "&lt;!channel&gt;" in shown
    assert "&lt;!subteam^S0EDITORS&gt;" in shown and "&lt;#C0SECRET|general&gt;" in shown
    assert "@\u2060channel" in shown
    [link] = OUR_LINK.findall(shown)[:1]
    assert "%3C" in link and "%7C" in link  # the URL's own < and | are percent-encoded
    _assert_no_tokens(posted.args)


def test_ask_share_and_follow_up_answers_are_just_as_harmless(
    hostile_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """/ask (ack and private answer), the share click's public post and a thread follow-up
    quoting the earlier question: nothing pings, nothing links but our own; and neither
    what was sent nor anything logged at DEBUG holds a token."""
    caplog.set_level(logging.DEBUG)
    typed = f"{QUESTION} @channel <!here> @everyone"
    ack = hostile_bot.socket.wait_ack(hostile_bot.command(typed, user=ASKER, reply_to="ask"))
    _assert_harmless(ack.ack_payload or {})
    [private] = hostile_bot.web.wait_for_response("ask")
    assert "footbridge" in _assert_harmless(private)

    share = buttons_of(private["blocks"])["share_answer"]
    hostile_bot.click(share, ASKER, "C0NEWSDESK", "share", ephemeral=True)
    shared = hostile_bot.answers("C0NEWSDESK")[0]
    shown = _assert_harmless(shared.args, asker=ASKER)
    assert f"<@{ASKER}> asked:" in shown and "@\u2060channel" in shown

    _, first = hostile_bot.mention(typed, user=ASKER)
    hostile_bot.answers("C0NEWSDESK", count=2)
    follow_up = payloads.message(
        "and when does it open? @here", ASKER, "C0NEWSDESK", thread_ts=first["ts"]
    )
    hostile_bot.deliver_event(follow_up)
    answer = hostile_bot.answers("C0NEWSDESK", count=3)[2]
    assert "earlier question" in _assert_harmless(answer.args)

    sent = [c.args for c in hostile_bot.web.calls] + [private, ack.ack_payload]
    _assert_no_tokens(sent, caplog.text)


def test_nothing_found_and_error_replies_hold_no_tokens_or_raw_errors(
    start_bot: Callable[..., RunningBot], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The store unreadable (its database file is garbage), a question with no match, a 500
    and a dropped connection on the way: the replies are our own words, with no token and no
    exception text, and the DEBUG log holds no token either."""
    caplog.set_level(logging.DEBUG)
    broken = tmp_path / "not-a-store"
    broken.mkdir()
    (broken / "chroma.sqlite3").write_text("this is not a Chroma database")
    bot = start_bot(answerer=ArchiveAnswerer(make_settings(tmp_path, chroma_path=broken)))
    bot.web.fail_next("chat.postMessage", 500, {"ok": False, "error": "internal_error"})
    bot.web.drop_next("reactions.add", "reset")
    bot.mention(QUESTION)
    reply = bot.web.wait_for("chat.postMessage", count=2, timeout=30)[-1]
    shown = _assert_harmless(reply.args)
    assert "Traceback" not in shown and "Error" not in shown and str(broken) not in shown
    _assert_no_tokens([c.args for c in bot.web.calls], caplog.text)
