"""Polite, guarded GETs for `ingest follow`: robots.txt, one request at a time, a delay
between two requests to one host, Retry-After and back-off remembered per host in the
state file (`ingest.follow_state`). Every request goes through `ingest.fetch` (SSRF guard,
size and time caps)."""

from __future__ import annotations

import threading
import time
import urllib.robotparser
from urllib.parse import urlsplit

from core.errors import LoadError
from core.sections import IngestSettings
from ingest.feeds import USER_AGENT, robots_rules
from ingest.fetch import HTTPStatusError, Page, fetch_url
from ingest.follow_state import FollowState
from ingest.limits import InputTimeout, time_limit

REQUEST_AGENT = f"{USER_AGENT} (+https://github.com/; see README, Following feeds)"
INLINE_WAIT = 10.0  # a Retry-After up to this is waited out within the poll
MAX_HOST_WAIT = 6 * 3600.0  # no host makes us wait longer than this
ROBOTS_TTL = 3600.0
ROBOTS_RETRY = 60.0


class HostWaiting(LoadError):
    """The host asked us to wait (Retry-After, back-off): tried again on a later poll."""


class RobotsRefused(LoadError):
    """robots.txt disallows this URL for our user agent."""


class Fetcher:
    """Polite, guarded GETs: robots.txt, one request at a time, `delay` apart per host,
    Retry-After and back-off remembered per host in the state file."""

    def __init__(
        self, settings: IngestSettings, state: FollowState, delay: float, stop: threading.Event
    ):
        self.settings = settings
        self.state = state
        self.delay = delay
        self.stop = stop
        self.requests = 0
        self._last: dict[str, float] = {}
        self._robots: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None]] = {}

    def get(self, url: str, headers: dict[str, str] | None = None) -> Page:
        """GET `url` (a 304 is a Page with status 304), after robots.txt and the host's wait.

        Raises:
            RobotsRefused, HostWaiting, HTTPStatusError, LoadError.
        """
        if urlsplit(url).path != "/robots.txt" and not self.allowed(url):
            raise RobotsRefused(f"{url}: disallowed by robots.txt")
        return self._polite(url, headers or {})

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets our user agent fetch `url`. A robots.txt that is missing
        (4xx) allows everything; one that cannot be read (5xx, unreachable) allows nothing
        for now (RFC 9309), and is asked again next time."""
        parts = urlsplit(url)
        host = parts.netloc
        cached = self._robots.get(host)
        # One that could not be read is asked again a minute later, not at every page.
        ttl = ROBOTS_TTL if cached is None or cached[1] is not None else ROBOTS_RETRY
        if cached is None or time.monotonic() - cached[0] > ttl:
            cached = (time.monotonic(), self._read_robots(f"{parts.scheme}://{host}/robots.txt"))
            self._robots[host] = cached
        rules = cached[1]
        return rules is not None and rules.can_fetch(USER_AGENT, url)

    def _read_robots(self, url: str) -> urllib.robotparser.RobotFileParser | None:
        try:
            page = self._polite(url, {})
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                return robots_rules(b"", url)
            return None
        except LoadError:
            return None
        return robots_rules(page.body, url)

    def _polite(self, url: str, headers: dict[str, str]) -> Page:
        host = urlsplit(url).netloc
        for attempt in range(3):
            self._wait_for(host)
            try:
                page = self._send(url, headers)
            except HTTPStatusError as exc:
                if exc.status != 429 and exc.status < 500:
                    raise
                wait = self._back_off(host, exc.retry_after)
                if wait > INLINE_WAIT or self.stop.is_set():
                    raise HostWaiting(
                        f"{url}: HTTP {exc.status}; {host} is asked again in {wait:.0f} s"
                    ) from exc
                if attempt == 2:
                    raise
                continue
            self._relieved(host)
            return page
        raise AssertionError("unreachable")

    def _send(self, url: str, headers: dict[str, str]) -> Page:
        self.requests += 1
        try:
            with time_limit(self.settings.input_timeout):
                return fetch_url(
                    url, self.settings, headers={"User-Agent": REQUEST_AGENT, **headers}
                )
        except InputTimeout:
            raise LoadError(
                f"{url}: not fetched within {self.settings.input_timeout:g} s (INPUT_TIMEOUT)"
            ) from None
        finally:
            self._last[urlsplit(url).netloc] = time.monotonic()

    def _wait_for(self, host: str) -> None:
        not_before, _strikes = self.state.host_wait(host)
        if not_before - time.time() > INLINE_WAIT:
            raise HostWaiting(f"{host} asked to wait until {time.ctime(not_before)}")
        pause = max(
            not_before - time.time(),
            self._last.get(host, -1e9) + self.delay - time.monotonic(),
        )
        if pause > 0:
            self.stop.wait(pause)

    def _back_off(self, host: str, retry_after: float | None) -> float:
        _not_before, strikes = self.state.host_wait(host)
        wait = retry_after if retry_after is not None else max(self.delay, 1.0) * 2**strikes
        wait = min(wait, MAX_HOST_WAIT)
        self.state.save_host(host, time.time() + wait, strikes + 1)
        return wait

    def _relieved(self, host: str) -> None:
        if self.state.host_wait(host) != (0.0, 0):
            self.state.save_host(host, 0.0, 0)
