"""The command line of `ingest follow SOURCE…`: arguments, the polling loop, signals, the
summary line of each poll and the exit code.

Exit codes (for cron): 0 every request of the last poll went well, 1 some failed (the rest
landed), 2 nothing could be done (bad arguments, configuration, store).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import FrameType

from tqdm import tqdm

from core.errors import LoadError, NewsroomError
from core.language.text import escape_controls
from core.settings import Settings, load_settings
from core.store import open_store
from ingest.archive import local_index, update
from ingest.feeds import USER_AGENT, Source, read_sources
from ingest.follow import Follower
from ingest.pipeline import Ingestor
from ingest.poll import Options, PollReport

BACKFILL_BAR = 10  # a poll fetching more pages than this shows a progress bar


def build_parser() -> argparse.ArgumentParser:
    """The command line of `ingest follow`."""
    parser = argparse.ArgumentParser(
        prog="ingest follow",
        description=(
            "Follow feeds (RSS, Atom, JSON Feed), sitemaps (indexes, Google News), "
            "robots.txt Sitemap lines and homepages (their <link rel=alternate> feeds): "
            "new pages are added, re-dated ones re-fetched and replaced when their text "
            f"changed. Requests identify as {USER_AGENT!r} and obey its robots.txt rules."
        ),
        epilog=(
            "A SOURCE is a URL, or a file listing URLs one a line, each optionally followed "
            "by request headers after two spaces ('URL  Authorization: Bearer ${TOKEN}'; "
            "${NAME} is read from the environment; header values are never printed). "
            "State lives in FOLLOW_DB (default follow.sqlite3 beside CHROMA_PATH). "
            "To ingest a file or folder that is literally named 'follow', write ./follow."
        ),
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE")
    parser.add_argument("--once", action="store_true", help="poll once and exit (for cron)")
    parser.add_argument(
        "--every",
        type=_duration,
        default=300.0,
        metavar="SECONDS",
        help="time between polls (default 300; 90s, 5m, 1h also work)",
    )
    parser.add_argument(
        "--since", type=_date, metavar="DATE", help="skip pages dated before DATE (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--max-new",
        type=int,
        default=200,
        metavar="N",
        help="fetch at most N pages per poll; the rest wait for the next (default 200)",
    )
    parser.add_argument(
        "--delay",
        type=_duration,
        default=1.0,
        metavar="SECONDS",
        help="at least this long between two requests to one host (default 1)",
    )
    parser.add_argument(
        "--gone-after",
        type=_duration,
        default=3 * 86400.0,
        metavar="SECONDS",
        help="a page answering 404/410 this long counts as gone (default 3d)",
    )
    parser.add_argument(
        "--prune-gone",
        action="store_true",
        help="delete the stored article of a gone page (off: it is kept)",
    )
    parser.add_argument("--collection", help="collection name (default: COLLECTION or 'news')")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _duration(value: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (value[:-1], value[-1]) if value[-1:] in units else (value, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration (e.g. 30, 5m, 1h)") from None
    if not 0 <= seconds < 10 * 365 * 86400:
        raise argparse.ArgumentTypeError(f"{value!r} is out of range")
    return seconds


def _date(value: str) -> str:
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def follow_main(argv: list[str]) -> int:
    """`ingest follow …`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_new < 1:
        parser.error("--max-new must be at least 1")
    try:
        sources = _sources(args.sources)
    except LoadError as exc:
        print(f"ingest follow: {exc}", file=sys.stderr)
        return 2
    options = Options(
        delay=args.delay,
        max_new=args.max_new,
        since=args.since,
        gone_after=args.gone_after,
        prune_gone=args.prune_gone,
        quiet=args.quiet,
    )
    try:
        settings = load_settings(**({"collection": args.collection} if args.collection else {}))
        return _follow(settings, sources, options, None if args.once else args.every)
    except NewsroomError as exc:
        print(f"ingest follow: {exc}", file=sys.stderr)
        return 2


def _sources(given: list[str]) -> list[Source]:
    """Sources from URLs and sources files, in order, each once."""
    found: list[Source] = []
    for raw in given:
        if raw.lower().startswith(("http://", "https://")):
            found.append(Source(raw))
        elif Path(raw).is_file():
            found += read_sources(Path(raw))
        else:
            raise LoadError(
                f"{raw!r} is neither an http(s) URL nor a file listing sources; "
                "give a feed, sitemap or homepage URL"
            )
    if not found:
        raise LoadError("the sources files list no URL")
    return list(dict.fromkeys(found))


def _follow(
    settings: Settings, sources: list[Source], options: Options, every: float | None
) -> int:
    from buildtools.onnx import ensure_encoder
    from core.encode.embeddings import load_encoder

    ensure_encoder(settings.encoder)
    embedder = load_encoder(settings.encoder)
    store = open_store(settings.store, embedder.name, embedder.dim, create=True)
    archive = local_index(settings, store)

    def ingestor() -> Ingestor:
        return Ingestor(
            store,
            embedder,
            settings.max_chunks_per_article,
            after_commit=lambda: update(archive),
            input_seconds=settings.input_timeout,
        )

    stop = threading.Event()
    _on_signals(stop)
    follower = Follower(
        settings.ingest,
        store,
        ingestor,
        sources,
        options,
        stop,
        progress=None if options.quiet else _bar,
        after_delete=lambda: update(archive),
    )
    try:
        return _loop(follower, stop, every)
    finally:
        follower.close()


def _loop(follower: Follower, stop: threading.Event, every: float | None) -> int:
    polls, totals, last = 0, PollReport(), PollReport()
    while True:
        last = follower.poll()
        polls += 1
        _add(totals, last)
        _print(last, f"poll {polls}" if every is not None else "")
        if every is None or stop.wait(every):
            break
    if every is not None:
        print(f"ingest follow: stopped after {polls} polls; totals: {totals.line()}")
    return 1 if last.failed else 0


def _add(totals: PollReport, report: PollReport) -> None:
    counts = ("new", "updated", "unchanged", "robots", "gone", "withdrawn", "not_modified")
    for name in (*counts, "requests"):
        setattr(totals, name, getattr(totals, name) + getattr(report, name))
    totals.failed += report.failed
    totals.seconds += report.seconds


def _print(report: PollReport, which: str) -> None:
    for reason in dict.fromkeys(report.failed):
        print(f"  failed: {escape_controls(reason)}", file=sys.stderr)
    label = f"{which}: " if which else ""
    print(f"ingest follow: {label}{report.line()}", flush=True)


def _bar(total: int) -> Callable[[], None]:
    """A progress bar for a poll that backfills many pages (none for a few)."""
    if total <= BACKFILL_BAR:
        return lambda: None
    bar = tqdm(total=total, unit="page", desc="follow", file=sys.stderr, dynamic_ncols=True)

    def tick() -> None:
        bar.update(1)
        if bar.n >= total:
            bar.close()

    return tick


def _on_signals(stop: threading.Event) -> None:
    """SIGTERM and Ctrl-C end the loop after the request in hand; a second Ctrl-C stops
    at once."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
