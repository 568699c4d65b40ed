"""A bot on a new host (no local index yet) answers while it builds one, and says so."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from bot.answerer import ArchiveAnswerer
from core.answer.compose import answer_question
from core.service import open_searcher
from core.settings import Settings
from tests.bot.http_bot import mention_body, serve_http
from tests.helpers import wait_until

QUESTION = "who was Cienfuegos?"


class HeldBuild:
    """A build-progress hook that holds the build once every article is read, until
    released: the build is then observably unfinished for as long as the test needs."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, articles: int) -> None:
        self.reached.set()
        self.release.wait(60)


@pytest.mark.integration
def test_a_new_host_answers_while_it_builds_then_switches_to_hybrid(
    archive: Settings, tmp_path: Path, bot_log: io.StringIO
) -> None:
    """A bot with a fresh INDEX_PATH answers its first question from the store's dense
    search while its index builds (/healthz and the log say so), then answers exactly as
    the hybrid search does once the build is done."""
    settings = archive.model_copy(update={"index_path": tmp_path / "new-host-index"})
    answerer = ArchiveAnswerer(settings)
    held = HeldBuild()
    archive_of = answerer.archive
    assert archive_of is not None
    archive_of.build_progress = held
    try:
        answerer.warm(build_in_background=True)  # returns while the build is held
        assert held.reached.wait(30), "the build never started"
        with serve_http(settings, answerer, tmp_path) as bot:
            health = json.loads(bot.get("/healthz").body)
            assert health == {"status": "ok", "store": "ok", "search": "dense"}
            body, content_type, _ = mention_body(QUESTION, "Ev0NEWHOST01")
            assert bot.post(body, content_type).status == 200
            first = bot.web.wait_for("chat.postMessage")[0]
            assert "Cienfuegos" in first.shown
            assert json.loads(bot.get("/healthz").body)["search"] == "dense"  # still held
            held.release.set()
            assert wait_until(lambda: answerer.search == "hybrid", 60)
            health = json.loads(bot.get("/healthz").body)
            assert health == {"status": "ok", "store": "ok", "search": "hybrid"}
            bot.settle()
        after = answerer(QUESTION)
    finally:
        held.release.set()
        answerer.close()
    elsewhere = settings.model_copy(update={"index_path": tmp_path / "built-first"})
    searcher = open_searcher(elsewhere)  # as `ask` does: the build first, then the question
    try:
        assert after == answer_question(QUESTION, searcher)
    finally:
        searcher.close()
    lines = bot_log.getvalue().splitlines()
    dense = [n for n, line in enumerate(lines) if "answering from the store's dense" in line]
    hybrid = [n for n, line in enumerate(lines) if "full hybrid search" in line]
    assert len(dense) == 1 and len(hybrid) == 1 and dense[0] < hybrid[0], lines
