"""Dates read from articles, pages, feeds and sitemaps, as ISO 8601: a publish date that
cannot be read is one clear reason (`publish_date`), any other date is dropped quietly
(`iso_date`); `modified_date` finds when a page says it was last changed."""

from __future__ import annotations

import logging
import re
import warnings
from datetime import UTC, datetime

from core.language.text import one_line
from core.store import to_timestamp

# Warnings keep the logger name they had before the dates moved out of `ingest.extract`.
log = logging.getLogger("ingest.extract")

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"-?\d+(\.\d+)?")  # a minus: epoch seconds before 1970
_COMPACT = re.compile(r"(19|20)\d{6}(\d{2}){0,3}")  # 20220617, 202206171030, …
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_NUMERIC_DAY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b")
# Zone abbreviations dateutil does not know by itself (RSS and US feeds use them).
_ZONES = {
    name: int(hours * 3600)
    for name, hours in {
        "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
        "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8, "HST": -10,
        "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "IST": 5.5, "JST": 9,
    }.items()
}  # fmt: skip


class _NotADate(ValueError):
    """Why a publish date cannot be read."""


def publish_date(value: str, label: str) -> str | None:
    """A publish date the date filters and the archive's date range can read: ISO 8601.

    ISO values are kept as given (so stored articles do not all count as changed); epoch
    seconds or milliseconds, compact dates (20220617, 202206171030) and dates written out
    ("June 17, 2022", "17/06/2022", RFC 2822 with its zone) are converted. Anything else is
    dropped with a warning, since a date nobody can read would hide the article from every
    `since:`/`before:` question, and so is a date that could be read two ways: one without
    its year ("May 5" would land in some default year), or "05/06/2022", which is 5 June
    or 6 May depending on who wrote it.
    """
    if not value:
        return None
    try:
        return _as_iso(value)
    except (ValueError, OverflowError, OSError) as exc:
        reason = str(exc) if isinstance(exc, _NotADate) else "not a date"
        log.warning(
            "%s: published_at %r is %s; stored without one (write it as YYYY-MM-DD)",
            label,
            value[:40],
            reason,
        )
        return None


def _as_iso(value: str) -> str:
    """A date as ISO 8601: ISO values as given, others read and converted (a date alone
    when it has no time of day); raises ValueError, OverflowError or OSError when unreadable."""
    if _ISO_DAY.match(value) and to_timestamp(value) is not None:
        return value
    moment = _read_date(value)
    _check_offset(moment)
    if (moment.hour, moment.minute, moment.second, moment.tzinfo) == (0, 0, 0, None):
        return moment.date().isoformat()
    return moment.isoformat()


def _check_offset(moment: datetime) -> None:
    """dateutil reads an offset such as `+25:00`, which no datetime can be written or
    compared with (it would fail the whole record later): such a date is no date."""
    try:
        moment.utcoffset()
    except ValueError:
        raise _NotADate("given with a time zone offset of a day or more") from None


def _read_date(value: str) -> datetime:
    """`publish_date`'s parsing; raises ValueError (or `_NotADate`, saying why)."""
    from dateutil import parser
    from dateutil.parser import UnknownTimezoneWarning

    if _DIGITS.fullmatch(value):
        if _COMPACT.fullmatch(value):
            try:
                # 8, 10, 12 or 14 digits: the format's first 6, 8, 10 or 12 characters
                return datetime.strptime(value, "%Y%m%d%H%M%S"[: len(value) - 2])
            except ValueError:
                pass  # not a calendar date: perhaps epoch seconds after all
        if 9 <= len(value.split(".")[0].lstrip("-")) <= 13:
            seconds = float(value)
            return datetime.fromtimestamp(seconds / 1000 if abs(seconds) > 1e11 else seconds, UTC)
        raise _NotADate("not a date")
    if not _YEAR.search(value):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnknownTimezoneWarning)
                parser.parse(value)
        except (ValueError, OverflowError):
            raise _NotADate("not a date") from None
        raise _NotADate("a date without its year")
    numeric = _NUMERIC_DAY.match(value)
    first, second = (int(numeric[1]), int(numeric[2])) if numeric else (0, 0)
    if numeric and first <= 12 and second <= 12 and first != second:
        raise _NotADate("ambiguous (day/month or month/day)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownTimezoneWarning)
        try:
            return parser.parse(value, default=datetime(2000, 1, 1), tzinfos=_ZONES)
        except UnknownTimezoneWarning:  # a zone nobody can place: keep the day, drop the zone
            return parser.parse(value, default=datetime(2000, 1, 1), ignoretz=True)


_MODIFIED_META = (
    "//meta[@property='article:modified_time']/@content",
    "//meta[@itemprop='dateModified']/@content",
    "//meta[@property='og:updated_time']/@content",
)
_JSON_LD_MODIFIED = re.compile(r'"dateModified"\s*:\s*"([^"]{4,40})"')


def modified_date(html: str | bytes) -> str | None:
    """When the page says it was last changed (`article:modified_time`, JSON-LD
    `dateModified`), as ISO 8601; None when it does not say or cannot be read."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, TypeError, lxml.etree.ParserError):
        return None
    found = [str(v) for path in _MODIFIED_META for v in tree.xpath(path)]
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        found += _JSON_LD_MODIFIED.findall(str(script))
    for value in found:
        date = iso_date(one_line(value))
        if date:
            return date
    return None


def iso_date(value: str | None) -> str | None:
    """A date from a page, feed or sitemap as ISO 8601, or None (quietly) when unreadable."""
    if not value:
        return None
    try:
        return _as_iso(value)
    except (ValueError, OverflowError, OSError):
        return None
