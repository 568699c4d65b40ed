"""Progress while an answer is worked out: a rotating status in its thread, else the hourglass.

Slack shows `assistant.threads.setStatus` in any thread the app replies in, under `chat:write`
(docs.slack.dev/changelog/2026/03/05/set-status-scope-update), rotating up to 10
`loading_messages` (docs.slack.dev/reference/methods/assistant.threads.setStatus): "Searching
48,210 articles…", then, while a model writes, "Reading 8 passages…". Where Slack refuses a
status, the hourglass reaction on the question shows instead.

Progress is a nicety and must never delay the answer: its calls run on a pool of their own,
one question's calls in order, through a client that does not retry and gives up after
`PROGRESS_TIMEOUT` seconds (the answering client waits out 429s and retries 5xx).
A streamed answer shows the search as a task whose sources are the articles found
(`search_task`, a `task_update` chunk: docs.slack.dev/reference/methods/chat.appendStream).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_sdk import WebClient

from bot import notices
from bot.inbound import Question
from bot.outbox import Outbox
from core.models import Passage, StoreSummary

log = logging.getLogger(__name__)

PROGRESS_TIMEOUT = 2.0
COUNT_SECONDS = 300.0  # how long the article count in "Searching N articles…" is reused
MAX_SOURCES = 10
SEARCH_TASK = "search"


def quick_client(client: WebClient) -> WebClient:
    """A client like `client` (token, API base URL) that never retries and waits at most
    PROGRESS_TIMEOUT seconds for Slack."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        ssl=client.ssl,
        proxy=client.proxy,
        timeout=int(PROGRESS_TIMEOUT),
        retry_handlers=[],  # None would give slack_sdk's default retries
        logger=client.logger,
    )


def searching_messages(articles: int | None) -> list[str]:
    """What the status rotates through while searching."""
    first = f"Searching {articles:,} articles…" if articles else "Searching the archive…"
    return [first, "Ranking the passages that fit best…"]


def reading_messages(passages: int) -> list[str]:
    """What the status rotates through while a model writes from the passages found."""
    noun = "passage" if passages == 1 else "passages"
    return [f"Reading {passages} {noun}…", "Checking each sentence against its passage…"]


def search_task(passages: list[Passage]) -> dict[str, Any]:
    """The search as a completed task of a streamed answer, its sources the articles found
    (one per article with a web address: Slack refuses a source without a URL and a text,
    and with it the stream; an archive may hold "gazette.example/a" or a file path)."""
    sources: dict[str, dict[str, str]] = {}
    for passage in passages:
        url = passage.url or ""
        web = url.lower().startswith(("http://", "https://"))
        if web and url not in sources and len(sources) < MAX_SOURCES:
            text = passage.title or passage.source or url
            sources[url] = {"type": "url", "url": url, "text": text[:150]}
    articles = len({p.doc_id for p in passages})
    return {
        "type": "task_update",
        "id": SEARCH_TASK,
        "title": "Searched the archive",
        "status": "complete",
        "output": f"{len(passages)} passages from {articles} articles",
        "sources": list(sources.values()),
    }


class ArticleCount:
    """How many articles the archive holds, asked at most every COUNT_SECONDS.

    Args:
        summarize: What the archive holds (None when unknown).
    """

    def __init__(self, summarize: Callable[[], StoreSummary | None]):
        self.summarize = summarize
        self._lock = threading.Lock()
        self._known: tuple[float, int | None] | None = None

    def __call__(self) -> int | None:
        now = time.monotonic()
        with self._lock:
            if self._known is not None and now - self._known[0] < COUNT_SECONDS:
                return self._known[1]
        summary = self.summarize()
        count = summary.articles if summary is not None else None
        with self._lock:
            self._known = (now, count)
        return count


class Progress:
    """One question's progress, shown and taken away off the answering thread.

    Args:
        pool: Runs the calls (one question's in order, each after the one before).
        outbox: Makes the calls and reports a revoked token.
        client: The answering client; progress goes through its `quick_client`.
        question: Where the status or the hourglass goes.
        articles: The archive's article count, for the first status.
    """

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        outbox: Outbox,
        client: WebClient,
        question: Question,
        articles: Callable[[], int | None],
    ):
        self.pool, self.outbox, self.question = pool, outbox, question
        self.client = quick_client(client)
        self.articles = articles
        self.shown: str | None = None  # "status" or "reaction", once shown
        self._last: Future[None] | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Progress:
        self._then(self._show)
        return self

    def __exit__(self, *exc: object) -> None:
        self._then(self._clear)

    def reading(self, passages: int) -> None:
        """The search is done and a model reads `passages`: say so where a status shows."""

        def update() -> None:
            if self.shown == "status":
                self._status(reading_messages(passages))

        self._then(update)

    def _then(self, work: Callable[[], object]) -> None:
        """Run `work` on the pool once this question's earlier progress calls are done.
        The pool takes jobs in order, so the one waited for has started: no deadlock."""
        with self._lock:
            before = self._last

            def run() -> None:
                if before is not None:
                    before.result()
                try:
                    work()
                except Exception:  # a nicety: never let it take the answer down
                    log.exception("showing progress failed")

            self._last = self.pool.submit(run)

    def _show(self) -> None:
        q = self.question
        if q.thread_ts and self._status(searching_messages(self.articles())):
            self.shown = "status"
        elif q.message_ts:
            self.outbox.progress(self.client, q.channel, q.message_ts, on=True)
            self.shown = "reaction"

    def _status(self, loading: list[str]) -> bool:
        q = self.question
        assert q.thread_ts is not None
        return self.outbox.status(
            self.client, q.channel, q.thread_ts, notices.SEARCHING_STATUS, loading
        )

    def _clear(self) -> None:
        """Slack clears a status when the app replies; cleared here too for an answer that
        could not be posted (else it would stay for two minutes)."""
        q = self.question
        if self.shown == "reaction" and q.message_ts:
            self.outbox.progress(self.client, q.channel, q.message_ts, on=False)
        elif self.shown == "status" and q.thread_ts:
            self.outbox.status(self.client, q.channel, q.thread_ts, "")
