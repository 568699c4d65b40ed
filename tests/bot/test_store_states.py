"""The archive behind the bot: empty, unreachable and back, and growing while the bot runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.answerer import ArchiveAnswerer
from core.settings import Settings
from tests.bot.conftest import HOSTILE_ARTICLE, RunningBot
from tests.conftest import SEED_DIR, ChromaServer, make_settings
from tests.helpers import ingest_paths


def test_an_empty_archive_gets_a_reply_saying_how_to_add_articles(
    start_bot: Callable[..., RunningBot],
    tmp_path: Path,
) -> None:
    """No articles yet: the reply says so and names `ingest`, instead of failing."""
    bot = start_bot(answerer=ArchiveAnswerer(make_settings(tmp_path / "empty")))
    bot.mention("who was Cienfuegos?")
    reply = bot.answers("C0NEWSDESK")[0]
    assert "archive is empty" in reply.shown and "ingest PATH_OR_URL" in reply.shown


def test_an_unreachable_store_gets_a_clear_reply_and_the_bot_recovers(
    start_bot: Callable[..., RunningBot],
    server_settings: Settings,
    chroma_server: ChromaServer,
) -> None:
    """Chroma server down -> "search is unavailable" and the bot lives on; back up -> answers."""
    ingest_paths(server_settings, SEED_DIR)
    answerer = ArchiveAnswerer(server_settings)
    bot = start_bot(answerer=answerer)
    bot.mention("who was Cienfuegos?")
    assert "Cienfuegos" in bot.answers("C0NEWSDESK")[0].shown

    chroma_server.stop()
    delivery, _ = bot.mention("who was Cienfuegos?")
    assert bot.socket.wait_ack(delivery).ack_seconds < 1.0
    down = bot.answers("C0NEWSDESK", count=2)[1]
    assert "Search is unavailable right now" in down.shown
    assert "Cannot reach" not in down.shown  # no raw error text for Slack users
    assert answerer.healthy is False

    chroma_server.start()
    bot.mention("who was Cienfuegos?")
    back = bot.answers("C0NEWSDESK", count=3)[2]
    assert "Salvador *Cienfuegos*" in back.shown
    assert answerer.healthy is True


def test_articles_from_a_separate_ingest_run_are_answerable_without_a_restart(
    start_bot: Callable[..., RunningBot],
    tmp_path: Path,
) -> None:
    """`ingest` in another process adds an article; the running bot quotes it seconds later."""
    settings = make_settings(tmp_path / "growing")
    ingest_paths(settings, SEED_DIR)
    answerer = ArchiveAnswerer(settings)
    answerer.warm()
    answerer.start_refreshing(interval=0.5)
    try:
        bot = start_bot(answerer=answerer)
        bot.mention("who approved the Riverside footbridge?")
        assert "nothing relevant" in bot.answers("C0NEWSDESK")[0].shown

        article = tmp_path / "zoning.md"
        article.write_text(HOSTILE_ARTICLE, encoding="utf-8")
        _run_ingest(settings, article)
        deadline = time.monotonic() + 15
        for count in range(2, 100):
            bot.mention("who approved the Riverside footbridge?")
            reply = bot.answers("C0NEWSDESK", count=count)[-1]
            if "Riverside Gazette" in reply.shown or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert "Riverside Gazette" in reply.shown and "*footbridge*" in reply.shown
    finally:
        answerer.close()


def _run_ingest(settings: Settings, path: Path) -> None:
    """The real `ingest` command, in its own process, as an operator would run it."""
    ingest = Path(sys.executable).with_name("ingest")
    env = {**os.environ, "CHROMA_PATH": str(settings.chroma_path), "ANONYMIZED_TELEMETRY": "False"}
    done = subprocess.run(
        [str(ingest), "--quiet", str(path)],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_a_bot_started_while_the_store_is_down_answers_once_it_is_up(
    start_bot: Callable[..., RunningBot],
    server_settings: Settings,
    chroma_server: ChromaServer,
) -> None:
    """No store at start: the bot still connects, says search is unavailable, then recovers."""
    ingest_paths(server_settings, SEED_DIR)
    chroma_server.stop()
    answerer = ArchiveAnswerer(server_settings)
    bot = start_bot(answerer=answerer)
    bot.mention("who was Cienfuegos?")
    assert "Search is unavailable" in bot.answers("C0NEWSDESK")[0].shown

    chroma_server.start()
    bot.mention("who was Cienfuegos?")
    assert "Salvador *Cienfuegos*" in bot.answers("C0NEWSDESK", count=2)[1].shown
