"""`ingest follow SOURCE…`: keep the archive current from a newsroom's feeds and sitemaps.

Each poll reads every source with a conditional GET (an unchanged feed costs one 304),
compares what they list with the state file (`ingest.follow_state`), and fetches only
pages that are new, re-dated, or owed a retry; those go through the same `Ingestor` as
`ingest URL`, so a changed text replaces the article and an unchanged one costs nothing.

Politeness: requests go one at a time, at least `--delay` apart on each host, with the
user agent `newsroom-bot-follow/0.1`, whose robots.txt rules are honoured. A 429 or 5xx
makes the host wait (its `Retry-After`, else a doubling back-off); every request goes
through `ingest.fetch` (SSRF guard, size and time caps, ALLOW_PRIVATE_URLS).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from core.errors import LoadError
from core.models import Article
from core.sections import IngestSettings
from core.store import ArchiveStore, to_timestamp
from ingest import extract
from ingest.feeds import Entry, Listing, Source, read_listing
from ingest.fetch import HTTPStatusError, Page
from ingest.follow_state import FollowState, PageState, SourceState
from ingest.pipeline import Ingestor, Report
from ingest.polite import MAX_HOST_WAIT, Fetcher, HostWaiting, RobotsRefused
from ingest.poll import Options, PollReport
from ingest.sources import Item

log = logging.getLogger(__name__)

MAX_DEPTH = 3  # homepage -> feed, robots.txt -> sitemap index -> sitemap
RETRY_BASE = 30.0  # a page that failed is tried again after 30 s, 60 s, 120 s, …
GONE = (404, 410)


@dataclass
class _Wanted:
    """A page to fetch this poll and why."""

    entry: Entry
    headers: dict[str, str]
    known: PageState | None


class Follower:
    """Polls sources into a store; one `poll()` per interval."""

    def __init__(
        self,
        settings: IngestSettings,
        store: ArchiveStore,
        make_ingestor: Callable[[], Ingestor],
        sources: list[Source],
        options: Options,
        stop: threading.Event,
        progress: Callable[[int], Callable[[], None]] | None = None,
        after_delete: Callable[[], None] | None = None,
    ):
        self.settings = settings
        self.store = store
        self.make_ingestor = make_ingestor
        self.sources = sources
        self.options = options
        self.stop = stop
        self.progress = progress
        self.after_delete = after_delete
        self.state = FollowState(settings.follow_path)
        self.fetcher = Fetcher(settings, self.state, options.delay, stop)
        self.since_ts = to_timestamp(options.since) if options.since else None
        self._visited: set[str] = set()  # sources read this poll
        self._origin: dict[str, str] = {}  # page URL -> the source that listed it this poll
        self._read: dict[str, SourceState] = {}  # sources read in full this poll

    def close(self) -> None:
        """Close the state file."""
        self.state.close()

    def poll(self) -> PollReport:
        """Read every source, fetch what is new or changed, record it all."""
        started = time.perf_counter()
        first_request = self.fetcher.requests
        report = PollReport()
        self._visited = set()
        self._origin = {}
        self._read = {}
        listed: dict[str, tuple[Entry, dict[str, str]]] = {}
        for source in self.sources:
            if self.stop.is_set():
                break
            for entry, headers in self._read_source(source.url, dict(source.headers), 0, report):
                earlier = listed.get(entry.url)
                if earlier is None or (entry.newest or "") > (earlier[0].newest or ""):
                    listed[entry.url] = (entry, headers)
        wanted = self._choose(listed, report)
        attempted = self._fetch(wanted[: self.options.max_new], report)
        self._save_sources([w.entry.url for w in wanted if w.entry.url not in attempted])
        report.requests = self.fetcher.requests - first_request
        report.seconds = time.perf_counter() - started
        return report

    def _read_source(
        self, url: str, headers: dict[str, str], depth: int, report: PollReport
    ) -> Iterator[tuple[Entry, dict[str, str]]]:
        """The entries a source lists (nothing when it has not changed since last read)."""
        if url in self._visited:  # a feed both given and linked from a homepage
            return
        self._visited.add(url)
        known = self.state.source(url)
        conditional = dict(headers)
        if known.etag:
            conditional["If-None-Match"] = known.etag
        if known.last_modified:
            conditional["If-Modified-Since"] = known.last_modified
        try:
            page = self.fetcher.get(url, conditional)
            if page.status == 304:
                report.not_modified += 1
                self.state.touch_source(url)
                listing = Listing(known.kind or "feed", children=known.children or [])
            else:
                listing = read_listing(page.body, page.final_url, page.content_type)
                self._read[url] = SourceState(
                    url,
                    page.headers.get("etag"),
                    page.headers.get("last-modified"),
                    listing.kind,
                    listing.children,
                    time.time(),
                )
        except RobotsRefused:
            report.robots += 1
            return
        except HostWaiting:
            report.waiting += 1
            return
        except LoadError as exc:
            report.failed.append(str(exc))
            return
        except Exception as exc:  # a parser's bug must not stop the other sources
            log.debug("unexpected error reading %s", url, exc_info=True)
            report.failed.append(f"{url}: could not be read ({type(exc).__name__})")
            return
        if listing.kind != "index":  # an index's entries are its sitemaps
            for entry in listing.entries:
                self._origin[entry.url] = url
                yield entry, _same_host(headers, url, entry.url)
        if depth >= MAX_DEPTH:
            return
        for child in listing.children:
            if self.stop.is_set():
                return
            yield from self._read_source(child, _same_host(headers, url, child), depth + 1, report)

    def _choose(
        self, listed: dict[str, tuple[Entry, dict[str, str]]], report: PollReport
    ) -> list[_Wanted]:
        """The pages worth a request this poll, updates first, then the newest new ones,
        at most `--max-new`."""
        known = self.state.pages(list(listed))
        now = time.time()
        updates: list[_Wanted] = []
        new: list[_Wanted] = []
        for url, (entry, headers) in listed.items():
            page = known.get(url)
            if page is None:
                if self._too_old(entry):
                    report.old += 1
                else:
                    new.append(_Wanted(entry, headers, None))
            elif _redated(entry, page) or _owed_retry(page, now):
                updates.append(_Wanted(entry, headers, page))
            else:
                report.unchanged += 1
        for page in self.state.retrying():  # failed or gone pages no source lists now
            if page.url not in listed and _owed_retry(page, now):
                updates.append(_Wanted(Entry(page.url, page.modified), {}, page))
        new.sort(key=lambda w: w.entry.newest or "", reverse=True)
        wanted = updates + new
        report.left = max(0, len(wanted) - self.options.max_new)
        return wanted

    def _too_old(self, entry: Entry) -> bool:
        moment = to_timestamp(entry.newest)
        return self.since_ts is not None and moment is not None and moment < self.since_ts

    def _save_sources(self, not_done: list[str]) -> None:
        """Record the sources read in full, once their pages are done. Those that listed
        pages this poll did not get to (over --max-new, a host asking to wait, a stop)
        keep no validators, so the next poll reads them in full instead of taking a 304
        as "nothing to do"; a process killed mid-poll saved none."""
        again = {self._origin[url] for url in not_done if url in self._origin}
        for url, source in self._read.items():
            if url in again:
                source.etag = source.last_modified = None
            self.state.save_source(source)

    def _fetch(self, wanted: list[_Wanted], report: PollReport) -> set[str]:
        """Fetch and ingest the pages chosen, then record each one's outcome; returns the
        URLs tried."""
        attempted: set[str] = set()
        if not wanted:
            return attempted
        fetched: dict[str, tuple[_Wanted, Article]] = {}
        outcomes: dict[str, str] = {}
        ingestor = self.make_ingestor()
        tick = self.progress(len(wanted)) if self.progress else None
        items = self._items(wanted, fetched, outcomes, report, attempted)
        result = ingestor.run(items, on_item=tick)
        report.new += result.added
        report.updated += result.updated
        report.unchanged += result.unchanged
        self._record(fetched, outcomes, result, report)
        return attempted

    def _items(
        self,
        wanted: list[_Wanted],
        fetched: dict[str, tuple[_Wanted, Article]],
        outcomes: dict[str, str],
        report: PollReport,
        attempted: set[str],
    ) -> Iterator[Item]:
        for want in wanted:
            if self.stop.is_set():
                return
            url = want.entry.url
            attempted.add(url)
            try:
                page = self.fetcher.get(url, want.headers)
            except RobotsRefused:
                report.robots += 1
                continue
            except HostWaiting:
                report.waiting += 1
                attempted.discard(url)
                continue
            except HTTPStatusError as exc:
                outcomes[url] = "gone" if exc.status in GONE else "failed"
                self._note_failure(want, exc.status in GONE, str(exc), report)
                continue
            except LoadError as exc:
                outcomes[url] = "failed"
                self._note_failure(want, False, str(exc), report)
                continue
            except Exception as exc:  # nor one page the others
                log.debug("unexpected error fetching %s", url, exc_info=True)
                outcomes[url] = "failed"
                reason = f"{url}: could not be fetched ({type(exc).__name__})"
                self._note_failure(want, False, reason, report)
                continue
            yield Item(url, partial(self._article, want, page, fetched))

    def _article(
        self, want: _Wanted, page: Page, fetched: dict[str, tuple[_Wanted, Article]]
    ) -> list[Article]:
        """The page's article, dated by the page, else by what its source said."""
        canonical = extract.canonical_url(page.final_url)
        label = want.entry.url
        if page.is_pdf:
            article = extract.article_from_pdf(page.body, canonical, url=canonical, label=label)
        else:
            text = extract.decode_text(page.body, label) if page.charset is None else page.text
            article = extract.article_from_html(text, canonical, url=canonical, label=label)
        given = want.entry.modified
        if (
            not article.modified_at
            and given
            and given != (article.published_at or want.entry.published)
        ):
            article.modified_at = given
        fetched[want.entry.url] = (want, article)
        return [article]

    def _note_failure(self, want: _Wanted, gone: bool, reason: str, report: PollReport) -> None:
        page = want.known or PageState(want.entry.url)
        now = time.time()
        page.failures += 1
        page.fetched_at = now
        if not gone:
            page.gone_since = None
            report.failed.append(reason)
            self.state.save_page(page)
            return
        report.gone += 1
        page.gone_since = page.gone_since or now
        if page.failures >= 2 and now - page.gone_since >= self.options.gone_after:
            page.gone = True  # not asked again unless a source re-dates it
            if self.options.prune_gone and self._withdraw(want.entry.url):
                report.withdrawn += 1
            if want.entry.modified:
                page.modified = want.entry.modified
        self.state.save_page(page)

    def _withdraw(self, url: str) -> bool:
        """Delete the article a gone URL was stored as, through the store's delete path."""
        found = self.store.find_article(url, extract.canonical_url(url))
        if found is None or not self.store.delete_article(found.doc_id):
            return False
        if self.after_delete:
            self.after_delete()
        return True

    def _record(
        self,
        fetched: dict[str, tuple[_Wanted, Article]],
        outcomes: dict[str, str],
        result: Report,
        report: PollReport,
    ) -> None:
        failed = {label for label, _reason in result.failed}
        report.failed += [reason for _label, reason in result.failed]
        now = time.time()
        for url, (want, article) in fetched.items():
            if url in failed or article.doc_id in failed:
                page = want.known or PageState(url)
                page.failures += 1
                page.fetched_at = now
                self.state.save_page(page)
                continue
            modified = want.entry.modified or (want.known.modified if want.known else None)
            self.state.save_page(PageState(url, modified, article.content_hash, now))
        # An item that failed while loading (no text found) is in `failed` but not `fetched`.
        for want_url in failed - set(fetched) - set(outcomes):
            if want_url.startswith(("http://", "https://")):
                page = self.state.pages([want_url]).get(want_url) or PageState(want_url)
                page.failures += 1
                page.fetched_at = now
                self.state.save_page(page)


def _same_host(headers: dict[str, str], parent: str, child: str) -> dict[str, str]:
    """A source's headers go to the pages it leads to on its own host only: a token for
    the CMS must not be sent to a link elsewhere."""
    return headers if urlsplit(parent).netloc == urlsplit(child).netloc else {}


def _redated(entry: Entry, page: PageState) -> bool:
    """Whether a source gives a page another modification date than when it was fetched
    (the same moment written another way is the same date)."""
    if not entry.modified or entry.modified == page.modified:
        return False
    then, now = to_timestamp(page.modified), to_timestamp(entry.modified)
    return then is None or then != now


def _owed_retry(page: PageState, now: float) -> bool:
    """A page that failed is owed another try after a doubling wait; a gone one each poll
    (one request) until `--gone-after` decides."""
    if page.gone or not (page.failures or page.gone_since):
        return False
    if page.gone_since is not None:
        return True
    wait = min(RETRY_BASE * 2 ** (page.failures - 1), MAX_HOST_WAIT)
    return now - (page.fetched_at or 0) >= wait
