"""`ingest follow` figures: how soon a new feed item is answerable, and what polling
unchanged feeds costs.

    .venv/bin/python -m bench.follow [--every 5] [--feeds 50] [--polls 5]

1. Freshness: a local site (127.0.0.1) serves one RSS feed; `ingest follow FEED --every
   5 --delay 0` runs as its own process. After its first poll, a new item appears in the
   feed. Reported: seconds from the item appearing to its poll's summary line, and to a
   fresh `ask` process quoting it, and the target (poll interval + 10 s).
   The poll line printed after the commit (store and local index) marks when it became
   answerable; one `ask` (a cold process) then confirms it.
2. Cost of nothing new: `--feeds` feeds on the local site, each with one article, are
   followed in this process through `ingest.follow.Follower` (the code `ingest follow`
   runs): one poll to fill the store, then `--polls` polls with nothing changed. Reported
   per poll: CPU seconds of the polling thread (`time.thread_time`, so the local server's
   threads are not counted), wall seconds, requests made and pages fetched.

Needs no data set; the site and the store live in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.common import log
from testing.console import console_env, following, installed
from testing.site import STORIES, Site, rss, serving, story
from testing.stores import make_settings


def freshness(every: float, work: Path) -> dict[str, float]:
    """Seconds from a new feed item to the first `ask` that answers it."""
    settings = make_settings(work)
    with serving(Site()) as site:
        site.page("/feed.rss", "application/rss+xml", rss(site.base, ["news/bridge"]))
        story(site, "bridge")
        story(site, "market")
        process = following(settings, work, f"{site.base}/feed.rss", every)
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            log(f"first poll: {first.strip()}")
            appeared = time.monotonic()
            feed = rss(site.base, ["news/bridge", "news/market"])
            site.page("/feed.rss", "application/rss+xml", feed)
            for line in process.stdout:  # each poll's line comes after its commit
                if " 1 new" in line:
                    break
            indexed = time.monotonic() - appeared
            answer = subprocess.run(
                [installed("ask"), "Where did the night market open?", "--json"],
                cwd=work,
                env=console_env(settings),
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if "Tessel square" not in answer:
                raise SystemExit("bench: the new item was ingested but `ask` did not find it")
            return {
                "every_s": every,
                "stored_and_indexed_after_s": round(indexed, 2),
                "ask_answered_it_after_s": round(time.monotonic() - appeared, 2),
                "target_s": every + 10,
            }
        finally:
            process.terminate()
            process.wait(timeout=60)


def unchanged_polls(feeds: int, polls: int, work: Path) -> dict[str, object]:
    """CPU, wall time and requests of polls that find nothing new."""
    from core.encode.embeddings import load_embedder
    from core.store import open_store
    from ingest.feeds import Source
    from ingest.follow import Follower
    from ingest.pipeline import Ingestor
    from ingest.poll import Options

    settings = make_settings(work, allow_private_urls=True)
    embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
    store = open_store(settings.store, embedder.name, embedder.dim, create=True)
    names = list(STORIES)
    with serving(Site()) as site:
        for n in range(feeds):
            name = names[n % len(names)]
            path = f"/news/{name}-{n}"
            title, text = STORIES[name]
            site.page(f"/feed{n}.rss", "application/rss+xml", _feed(site.base, path, title))
            site.page(
                path, "text/html", f"<html><body><h1>{title} {n}</h1><p>{text}</p></body></html>"
            )
        follower = Follower(
            settings.ingest,
            store,
            lambda: Ingestor(store, embedder, settings.max_chunks_per_article),
            [Source(f"{site.base}/feed{n}.rss") for n in range(feeds)],
            Options(delay=0.0),
            threading.Event(),
        )
        filled = follower.poll()
        log(f"filling poll: {filled.line()}")
        rows = []
        for _ in range(polls):
            before = len(site.requests)
            cpu, wall = time.thread_time(), time.perf_counter()
            report = follower.poll()
            rows.append(
                {
                    "cpu_s": round(time.thread_time() - cpu, 3),
                    "wall_s": round(time.perf_counter() - wall, 3),
                    "requests": len(site.requests) - before,
                    "answered_304": sum(1 for *_x, s in site.requests[before:] if s == 304),
                    "pages_fetched": sum(
                        1 for p, *_x in site.requests[before:] if p.startswith("/news/")
                    ),
                    "summary": report.line(),
                }
            )
        follower.close()
    store.close()
    return {"feeds": feeds, "polls": rows}


def _feed(base: str, path: str, title: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<link>{base}/</link><item><title>{title}</title><link>{base}{path}</link>"
        "<pubDate>Tue, 10 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--polls", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        log("freshness: one feed, a new item after the first poll")
        fresh = freshness(args.every, Path(one))
        print(json.dumps({"freshness": fresh}))
        log(f"cost: {args.feeds} unchanged feeds, {args.polls} polls")
        print(json.dumps({"unchanged": unchanged_polls(args.feeds, args.polls, Path(two))}))


if __name__ == "__main__":
    main()
