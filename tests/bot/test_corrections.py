"""Answers follow corrections: a posted answer is edited in place when an article it quotes
is corrected or withdrawn, once, by one bot process, at a bounded pace.

The bots are real Bolt apps over Socket Mode against the Slack stand-in, each with its own
live archive (as separate processes have) over one real embedded store, sharing one
BOT_STATE_DB; articles are corrected through the real ingest pipeline.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.answerer import ArchiveAnswerer
from bot.corrections import WITHDRAWN
from bot.following import CLAIM_TTL, FollowedAnswers
from bot.state import PostedAnswer, SharedState
from core.encode.embeddings import load_embedder
from core.settings import Settings
from core.store import open_store
from testing.slack_standin.web_api import Call
from tests.bot.conftest import RunningBot
from tests.conftest import make_settings
from tests.helpers import ingest_paths

CHANNEL = "C0NEWSDESK"
TOPICS = ["footbridge", "ferry", "library", "stadium", "museum", "tram"]


def _article(topic: str, text: str | None = None, modified_at: str | None = None) -> dict:
    record = {
        "id": f"{topic}-story",
        "title": f"Council decides on the {topic}",
        "source": "Riverside Gazette",
        "published_at": "2026-05-04",
        "url": f"https://gazette.example/{topic}",
        "text": text
        or f"The council voted on Tuesday to close the {topic} for repairs until spring. "
        f"The {topic} repairs will cost 2 million dollars, the council said.",
    }
    if modified_at:
        record["modified_at"] = modified_at
    return record


def _ingest(settings: Settings, folder: Path, *records: dict) -> None:
    path = folder / f"batch-{len(list(folder.glob('batch-*')))}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    ingest_paths(settings, path)


@pytest.fixture
def newsroom(tmp_path: Path) -> Iterator[tuple[Settings, Callable[[], ArchiveAnswerer]]]:
    """A store of one article per topic, and live answerers over it (one per bot process),
    each syncing every 0.2 s as `bot` does every second."""
    settings = make_settings(tmp_path / "newsroom")
    (tmp_path / "feeds").mkdir()
    # Other subjects around them, as in any archive (in a handful of articles, a corrected
    # article's old version, still counted in the local index's term statistics until its
    # segments merge, makes its own rare words look common).
    others = [
        {
            "id": f"other-{n}",
            "title": f"Market report {n}",
            "text": f"Prices at the farmers "
            f"market rose on day {n}, vendors said, and apples sold out by noon.",
        }
        for n in range(40)
    ]
    _ingest(settings, tmp_path / "feeds", *[_article(t) for t in TOPICS], *others)
    answerers: list[ArchiveAnswerer] = []

    def answerer() -> ArchiveAnswerer:
        live = ArchiveAnswerer(settings)
        live.warm()
        live.start_refreshing(0.2)
        answerers.append(live)
        return live

    yield settings, answerer
    for live in answerers:
        live.close()


def _ask(bot: RunningBot, topic: str, count: int = 1) -> Call:
    """Ask about `topic` in the channel; the bot's answer (the `count`-th post there)."""
    bot.mention(f"when does the {topic} reopen after the council vote?")
    return bot.answers(CHANNEL, count, timeout=30)[-1]


def _edits(bot: RunningBot, answer: Call, count: int = 1, timeout: float = 30) -> list[Call]:
    ts = answer.response["ts"]
    return bot.web.wait_for(
        "chat.update",
        lambda c: c.args.get("channel") == CHANNEL and c.args.get("ts") == ts and c.response["ok"],
        count=count,
        timeout=timeout,
    )


def test_a_corrected_article_edits_the_answer_once_across_two_bot_processes(
    newsroom: tuple[Settings, Callable[[], ArchiveAnswerer]],
    start_bot: Callable[..., RunningBot],
    tmp_path: Path,
) -> None:
    """A reader sees the posted answer change to the corrected text, with "Updated: a source
    was corrected on 12 Nov" above it, edited once although two bot processes run."""
    settings, answerer = newsroom
    first = start_bot(answerer=answerer(), chroma_path=settings.chroma_path)
    second = start_bot(answerer=answerer(), chroma_path=settings.chroma_path)
    assert first.settings.bot_state_path == second.settings.bot_state_path
    answer = _ask(first, "footbridge")
    ferry = _ask(first, "ferry", count=2)
    assert "2 million dollars" in answer.shown

    corrected = _article(
        "footbridge",
        "The council voted on Tuesday to close the footbridge for repairs until spring. "
        "The footbridge repairs will cost 3 million dollars, the council said.",
        modified_at="2026-11-12T09:30:00+00:00",
    )
    _ingest(settings, tmp_path / "feeds", corrected)
    [edit] = _edits(first, answer)
    assert "Updated: a source was corrected on 12 Nov" in edit.shown
    assert "3 million dollars" in edit.shown and "2 million dollars" not in edit.shown
    assert "updated 12 Nov" in edit.shown  # the sources line says it too

    # Another correction, edited after the first one was long claimed and done: by then
    # either process could have edited the footbridge answer a second time.
    _ingest(settings, tmp_path / "feeds", _article("ferry", modified_at="2026-11-13"))
    _edits(first, ferry)
    ts = answer.response["ts"]
    assert (
        len([c for c in first.web.calls if c.method == "chat.update" and c.args["ts"] == ts]) == 1
    )


def test_a_correction_made_while_the_bot_was_down_is_caught_up_after_a_restart(
    newsroom: tuple[Settings, Callable[[], ArchiveAnswerer]],
    start_bot: Callable[..., RunningBot],
    tmp_path: Path,
) -> None:
    """An article corrected while the bot was stopped: its answer is edited once the bot
    is back (the change log is read from where the bots left it)."""
    settings, answerer = newsroom
    before = answerer()
    bot = start_bot(answerer=before, chroma_path=settings.chroma_path)
    answer = _ask(bot, "stadium")
    bot.done()
    bot.handler.close()
    before.close()  # the bot is down
    _ingest(settings, tmp_path / "feeds", _article("stadium", modified_at="2026-11-14"))
    again = start_bot(answerer=answerer(), chroma_path=settings.chroma_path)
    [edit] = _edits(again, answer)
    assert "Updated: a source was corrected on 14 Nov" in edit.shown


def test_a_withdrawn_article_says_so_on_the_answer_that_quoted_it(
    newsroom: tuple[Settings, Callable[[], ArchiveAnswerer]],
    start_bot: Callable[..., RunningBot],
) -> None:
    """A reader sees "A quoted article was withdrawn" on an answer whose article was deleted."""
    settings, answerer = newsroom
    bot = start_bot(answerer=answerer(), chroma_path=settings.chroma_path)
    answer = _ask(bot, "library")
    assert "library" in answer.shown
    embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
    store = open_store(settings.store, embedder.name, embedder.dim)
    try:
        assert store.delete_article("library-story")
    finally:
        store.close()
    [edit] = _edits(bot, answer)
    assert WITHDRAWN in edit.shown


def test_a_whole_archive_corrected_at_once_edits_at_most_the_cap_a_minute(
    newsroom: tuple[Settings, Callable[[], ArchiveAnswerer]],
    start_bot: Callable[..., RunningBot],
    tmp_path: Path,
) -> None:
    """Re-ingesting every article changed does not flood the channel with edits: at most
    FOLLOW_ANSWERS_PER_MINUTE in a minute; the rest wait their turn."""
    settings, answerer = newsroom
    bot = start_bot(
        answerer=answerer(), chroma_path=settings.chroma_path, follow_answers_per_minute=2
    )
    answers = [_ask(bot, topic, count=n + 1) for n, topic in enumerate(TOPICS)]
    bot.done(len(TOPICS))
    changed = [_article(t, modified_at="2026-11-12") for t in TOPICS]
    _ingest(settings, tmp_path / "feeds", *changed)
    edited = bot.web.wait_for("chat.update", count=2, timeout=30)
    assert {c.args["ts"] for c in edited} <= {a.response["ts"] for a in answers}
    with pytest.raises(AssertionError):  # a few more rounds of looking for due edits
        bot.web.wait_for("chat.update", count=3, timeout=5)
    with sqlite3.connect(bot.settings.bot_state_path) as db:
        waiting = db.execute("SELECT COUNT(*) FROM corrections WHERE done_at IS NULL")
        assert waiting.fetchone()[0] == len(TOPICS) - 2


def test_edits_are_claimed_once_and_capped_across_processes(tmp_path: Path) -> None:
    """Two processes sharing BOT_STATE_DB: each due edit is made by one of them, at most the
    cap a minute between them; the rest are made the next minute."""
    now = [1_000_000.0]
    state = SharedState(tmp_path / "state.sqlite3", clock=lambda: now[0])
    one, two = (FollowedAnswers(state, 30, 3, owner) for owner in ("host:1", "host:2"))
    for n in range(5):
        answer = PostedAnswer(f"1.{n}", None, "U0REPORTER", f"question {n}")
        one.remember(CHANNEL, "U0BOT", answer, {"a": "old", f"b{n}": "x"})
    assert one.position(7) == 7 and two.position(9) == 7  # the first process set it
    assert one.quoting({"a": "old"}) == []  # re-ingested unchanged: nothing to edit
    found = two.quoting({"a": "new", "b1": None})
    notes: dict[tuple[str, str], str] = {(c, ts): f"note {d}" for c, ts, d in found}
    assert len(found) == 6 and len(notes) == 5
    assert two.due(7, 9, notes) and not one.due(7, 9, notes)  # one process moves it
    claimed = one.claim("U0BOT") + two.claim("U0BOT") + one.claim("U0OTHERBOT")
    assert len(claimed) == 3 and len({c.answer.answer_ts for c in claimed}) == 3
    for correction in claimed:
        one.done(correction, {"a": "new"})
    now[0] += 61
    rest = two.claim("U0BOT") + one.claim("U0BOT")
    assert len(rest) == 2
    assert {c.answer.answer_ts for c in claimed + rest} == {f"1.{n}" for n in range(5)}
    now[0] += CLAIM_TTL + 1  # a process that stopped mid-edit: its claims are taken over
    assert len(one.claim("U0BOT")) == 2
    now[0] += 31 * 24 * 3600  # past the retention: forgotten, nothing due
    one.sweep()
    assert one.quoting({"a": "newer"}) == [] and one.claim("U0BOT") == []


def test_private_answers_are_not_followed(
    newsroom: tuple[Settings, Callable[[], ArchiveAnswerer]],
    start_bot: Callable[..., RunningBot],
) -> None:
    """An answer only the asker saw (`/ask`) cannot be edited, so it is not followed; one
    posted in the channel is."""
    settings, answerer = newsroom
    bot = start_bot(answerer=answerer(), chroma_path=settings.chroma_path)
    bot.command("when does the museum reopen after the council vote?", reply_to="private")
    [private] = bot.web.wait_for_response("private", timeout=30)
    assert "museum" in json.dumps(private)
    _ask(bot, "tram")
    bot.done()
    with sqlite3.connect(bot.settings.bot_state_path) as db:
        quoted = db.execute("SELECT DISTINCT doc_id FROM quoted_articles").fetchall()
    assert "museum-story" not in {d for (d,) in quoted} and ("tram-story",) in quoted
