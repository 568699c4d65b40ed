"""The per-input time limit: a stalled input fails alone, and timers already set survive."""

from __future__ import annotations

import signal
import time

from core.encode.embeddings import Embedder
from core.models import Article
from core.settings import Settings
from core.store import open_store
from ingest.pipeline import Ingestor
from ingest.sources import Item

STORY = "The harbor board approved the new ferry schedule on Tuesday after a long debate. " * 3


def _stubborn() -> list[Article]:
    """A loader that swallows every error while it waits for something that never comes."""
    while True:
        try:
            time.sleep(30)
        except Exception:  # the point: a broad except must not eat the limit
            continue


def test_a_stalled_input_fails_alone_and_an_outer_timer_is_restored(
    settings: Settings, embedder: Embedder
) -> None:
    """The stalled item is cut off at its limit; the next lands; pytest-timeout's alarm stays."""
    outer_handler = signal.getsignal(signal.SIGALRM)
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    items = [
        Item("stalled", _stubborn),
        Item("ok", lambda: [Article("ok", "Ferry schedule", STORY)]),
    ]
    store = open_store(settings.store, embedder.name, embedder.dim)
    started = time.monotonic()
    report = Ingestor(store, embedder, input_seconds=1).run(items)
    assert time.monotonic() - started < 20
    assert report.added == 1
    assert [reason for _, reason in report.failed] == [
        "stalled: took longer than 1 s; skipped (raise INPUT_TIMEOUT if it is a genuine, "
        "very large input)"
    ]
    assert signal.getsignal(signal.SIGALRM) is outer_handler
    if outer_left:  # pytest-timeout's alarm is still armed, minus the time spent
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] < outer_left
