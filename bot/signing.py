"""HTTP mode's front door: what a request must be before Bolt parses a byte of it.

Bolt parses a body before it checks the signature, and a non-numeric timestamp, a
non-UTF-8 body or malformed JSON made it raise: a 500 and an ERROR traceback for every
request a scanner sends. Here the signature is checked on the raw bytes first (401), then
the body must be UTF-8 text of the shape its content type says (400). Refusals are logged
quietly: one INFO line per kind, then at most one summary a minute.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 300  # Slack's own window for a request's timestamp
LOG_EVERY_SECONDS = 60.0


class Refused(Exception):
    """A request turned away at the door.

    Attributes:
        status: The HTTP status line to answer.
        reason: A short, body-free reason (for the log and the JSON reply).
    """

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def check_request(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, content_type: str
) -> None:
    """Pass a genuine, well-formed Slack request; raise `Refused` for anything else.

    Raises:
        Refused: 401 for a missing, stale or wrong signature (checked first, so nothing
            unauthenticated is ever parsed), 400 for a signed body that is not UTF-8 text
            in the shape its content type announces.
    """
    check_signature(secret, timestamp, signature, body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("400 Bad Request", "body is not UTF-8") from None
    if not _well_formed(text, content_type):
        raise Refused("400 Bad Request", "malformed body")


def check_signature(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    clock: Callable[[], float] = time.time,
) -> None:
    """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{body}`, at most 5 minutes old.

    Raises:
        Refused: 401 with what was wrong (never the values themselves).
    """
    stamp = (timestamp or "").strip()
    if not (stamp.isascii() and stamp.isdigit()):
        raise Refused("401 Unauthorized", "no usable timestamp")
    if abs(clock() - int(stamp)) > MAX_AGE_SECONDS:
        raise Refused("401 Unauthorized", "timestamp outside 5 minutes")
    base = b"v0:" + stamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), (signature or "").encode("utf-8", "replace")):
        raise Refused("401 Unauthorized", "bad signature")


def _well_formed(text: str, content_type: str) -> bool:
    if content_type.startswith("application/json"):
        return isinstance(_json(text), dict)
    fields = parse_qs(text, keep_blank_values=True)
    payload = fields.get("payload")
    return payload is None or isinstance(_json(payload[0]), dict)


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


class QuietRefusals:
    """Logs refusals without letting a flood of them flood the log: the first of each
    reason at once, then one line a minute at most, counting those left out."""

    def __init__(
        self, every: float = LOG_EVERY_SECONDS, clock: Callable[[], float] = time.monotonic
    ):
        self.every, self.clock = every, clock
        self._last: dict[str, float] = {}
        self._untold: dict[str, int] = {}
        self._lock = threading.Lock()

    def note(self, refusal: Refused) -> None:
        """Count a refusal; log it when its reason was not logged within `every` seconds."""
        now = self.clock()
        with self._lock:
            last = self._last.get(refusal.reason)
            if last is not None and now - last < self.every:
                self._untold[refusal.reason] = self._untold.get(refusal.reason, 0) + 1
                return
            self._last[refusal.reason] = now
            untold = self._untold.pop(refusal.reason, 0)
        more = f" (and {untold} more like it in the last minute)" if untold else ""
        log.info("refused a request: %s -> %s%s", refusal.reason, refusal.status[:3], more)
