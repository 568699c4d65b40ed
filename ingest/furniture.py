"""Page furniture out of an article's text, at ingest: what a scraper or a CMS export leaves
around the story and no reader would quote.

Lines are judged by their shape, never by one outlet's phrasing: a line that is only dates
and clock times ("June 30, 2026 Updated July 2, 2026, 12:07 p.m. ET"), a live-blog entry's
header glued to its first sentence ("10:36 pm ET June 12, 2026 Share this update <headline>
<byline> PLACE — …"), a dateline line ("New York CNN —"), a byline ("By NAME", "– NAME",
"Contributing: …", "NAME contributed to this report.", a reporter's bio with a contact), a
photo credit or a caption ending in one ("… on Monday. Sam Ortiz/The Ledger"), a promo or
contact line ("Sign up for …", "Click here …", "Follow NAME on X: @handle"), an editor's
note about the page ("This story has been updated …") and "Read more"/"Related"/"More:"
link lists. A section label opening a line ("AI-assisted summary", "Summary:", "Key
takeaways:") is cut from the sentence it heads. Above the story's first sentence, short
lines of names and outlets ("Jessica Durando", "USA TODAY") are bylines too. A line that
reads as a sentence of the story is kept, whatever words it holds, unless its whole shape is
one of these.

A date or a byline found in a removed line becomes the article's `published_at` or
`authors` when the article has none. What was removed is counted by kind for the ingest
summary line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from core.language.text import (
    CALL_TO_ACTION_WORDS,
    DATE_PATTERN,
    has_clock_or_stamp,
    inline_dateline,
    is_timestamp,
    page_label,
    stamp_header,
    trailing_calls_to_action,
)
from core.models import Article

# Kinds, in the order the summary line shows them.
KINDS = (
    "timestamp",
    "live-blog header",
    "dateline",
    "byline",
    "credit",
    "promo",
    "editor's note",
    "related links",
    "label",
)
_DASH = "-–—―−‒"
_NAME_WORD = r"(?:[A-Z][A-Za-z'’.-]*|[A-Z]\.|(?:de|la|van|von|der|da|del|du|bin|al|le)\b)"
_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,4}}"
_NAMES = rf"{_NAME}(?:\s*(?:,|,?\s+and|&)\s+{_NAME})*"
_BYLINE = re.compile(
    rf"(?:By|BY|Written by|Story by|Reporting by)[:\s]+{_NAMES}"
    rf"(?:\s*[,|]\s*(?:{_NAME_WORD}|for|of|the|and|&)(?:\s+(?:{_NAME_WORD}|for|of|the|and|&)){{0,7}})?"
)
_SIGN_OFF = re.compile(rf"[{_DASH}]+\s*{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*\.?")
_CONTRIBUTED = re.compile(
    rf"(?:Contributing|Contributors?|Additional reporting|Reporting)(?:\s+by)?\s*:\s*.{{1,300}}"
    rf"|{_NAMES}(?:,? of [^.]{{1,60}})?\s+contributed\s+(?:to\s+)?(?:this|the)\s+(?:report|story"
    r"|article|reporting[^.]*)\.?"
)
_AGENCY = (
    r"(?:Getty Images|AP Photo|AP|Associated Press|Reuters|AFP|Shutterstock|Imagn|EPA|Bloomberg"
    r"|USA TODAY Network|Pool|File)"
)
_CREDIT = re.compile(
    rf"(?:Photos?|Images?|Video|Photo illustration|Illustration|Credit|Photo credit)"
    rf"(?:\s+by|\s*:)\s+.{{1,120}}|\(?[^()]{{0,80}}/\s*{_AGENCY}\b\)?|\({_AGENCY}\b[^()]{{0,60}}\)"
)
_CAPTION_CREDIT = re.compile(r"\((?:Photo|Image|Credit)?[^()]{0,60}(?:/|by\s)[^()]{0,60}\)$")
_PROMO = re.compile(
    rf"(?:{CALL_TO_ACTION_WORDS}|Read more|READ MORE|Read the full|Don't miss|Want more"
    r"|Like this story|Support our|Become a subscriber|Advertisement|ADVERTISEMENT)\b.{0,200}"
    r"|(?:Listen|Watch|Download|Get)\b.{0,80}\b(?:podcast|newsletter|app|episode|here)\b.{0,160}"
)
# A contact line ends with where to reach someone: a handle or an address, a network's name,
# a phone number ("Follow NAME on X: @handle", "Email him at name@paper.com").
_CONTACT = re.compile(
    r"(?:Reach|Follow|Email|Contact|Connect with|Send|Got a tip)\b.{0,200}"
    r"(?:@[\w.]*|\bat \d{3}[\d\s().-]*)"
    r"|(?:Follow|Connect with|Find|(?:Reach|Email|Contact)\b.{0,200}@)\b.{0,200}"
    r"\bon (?:X|Twitter|Bluesky|Instagram|Threads|Facebook|LinkedIn|TikTok)\b"
    r"|[^\s@]+@[^\s@]+\.[a-z]{2,}"
)
_LINE_END = ". \u200b\u200c\u200d\ufeff"  # what may follow it: a full stop, zero-width marks
_ROLE = (
    r"(?i:reporter|journalist|writer|correspondent|editor|columnist|contributor|producer"
    r"|photographer|photojournalist|critic)"
)
# "NAME covers …", "NAME is the … reporter …", "Record reporter NAME covers …"
_BIO = re.compile(
    rf"(?:(?:[A-Z][\w’'.-]*\s+){{0,4}}{_ROLE}\s+)?{_NAMES}\s+"
    rf"(?:covers\b|(?:is (?:an?|the)|writes|reports)\b.{{0,200}}\b{_ROLE}\b).{{0,300}}"
)
# A caption whose last words are its photographer and outlet: "… on Nov. 13. Zach
# Wilkinson/The Daily News" (no full stop after the credit).
_PHOTOGRAPHER = re.compile(
    rf"(?<=[.!?”\"’)])\s+{_NAME}\s*/\s*[A-Z][\w.'’&/-]*(?:\s+[\w.'’&/-]+){{0,6}}\s*$"
)
_NOTE = re.compile(
    r"\(?Editor[’']?s?\s+[Nn]ote\s*:.{0,600}"
    r"|\(?(?:This|A version of this)\s+(?:story|article|post|piece)\s+(?:was|has been"
    r"|is|first|originally|appeared)\b.{0,300}"
)
_RELATED_HEAD = re.compile(
    r"(?:Read more|Related|See also|Also read|Read next|More coverage|Related coverage"
    r"|Related stories|Recommended|You may also like)\s*:?\s*",
    re.IGNORECASE,
)
_RELATED_LINE = re.compile(
    r"(?:RELATED|MORE|READ MORE|SEE ALSO|ALSO READ|WATCH|LISTEN)\s*:.{1,200}"
)
_DATELINE_LINE = re.compile(rf"[A-Z][\w.,'’() ]{{0,60}}\s[{_DASH}]")
_TRAILING_READ_MORE = re.compile(r"(?<=[.!?”\"’])\s+(?:Read more|Read more here|Learn more)\.?$")
_FUNCTION = frozenset(
    [
        "by",
        "and",
        "for",
        "the",
        "of",
        "with",
        "in",
        "at",
        "from",
        "special",
        "staff",
        "wire",
        "reports",
        "to",
        "&",
        "|",
        "a",
    ]
)
_BODY_WORDS = 8
_MAX_LINKS = 8


def _in_list(starts: list[str], i: int) -> bool:
    """True when the nearest non-empty line before or after also starts with that dash."""
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(starts) and not starts[j]:
            j += step
        if 0 <= j < len(starts) and starts[j] == starts[i]:
            return True
    return False


@dataclass
class Cleaned:
    """An article's text with its furniture removed, and what was removed."""

    text: str
    removed: Counter[str] = field(default_factory=Counter)
    published_at: str | None = None
    authors: list[str] = field(default_factory=list)


def clean_article(article: Article) -> tuple[Article, Counter[str]]:
    """The article without page furniture, and the removed lines counted by kind.

    A date or a byline taken out of the text fills `published_at` / `authors` when the
    article has none. When cleaning would leave no text, the article is returned unchanged.
    """
    cleaned = clean_text(article.text)
    if not cleaned.removed or len(cleaned.text) < 20:
        return article, Counter()
    changes: dict[str, object] = {"text": cleaned.text}
    if not article.published_at and cleaned.published_at:
        changes["published_at"] = cleaned.published_at
    if not article.authors and cleaned.authors:
        changes["authors"] = cleaned.authors
    return replace(article, **changes), cleaned.removed  # type: ignore[arg-type]


def clean_text(text: str) -> Cleaned:
    """The text without its furniture lines (paragraph breaks kept)."""
    out = Cleaned(text)
    lines = text.split("\n")
    kept: list[str] = []
    in_head = True  # above the story's first sentence
    related = 0  # entries still allowed of a "Read more:" / "Related:" list
    starts = [line.strip()[:1] for line in lines]
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            kept.append(raw)
            continue
        if related and _is_link_line(line):
            related -= 1
            out.removed["related links"] += 1
            continue
        related = 0
        kind = _kind(line, in_head)
        if kind == "byline" and line[0] in _DASH and _in_list(starts, i):
            kind = None  # one item of a dashed list, not a sign-off
        if kind == "related links" and _RELATED_HEAD.fullmatch(line):
            related = _MAX_LINKS
        if kind is None:
            stamp = stamp_header(line)
            if stamp and _page_stamp(line[:stamp]):
                line = _strip_header(line, stamp, out)
            label = page_label(line)
            if label:  # "AI-assisted summary The storm …": the sentence stays
                out.removed["label"] += 1
                line = line[label:]
            trailing = _TRAILING_READ_MORE.search(line)
            if trailing:
                out.removed["promo"] += 1
                line = line[: trailing.start()]
            cut = trailing_calls_to_action(line)
            if cut < len(line):  # "… in your inbox daily. Sign up here for the newsletter."
                out.removed["promo"] += 1
                line = line[:cut].rstrip()
                if not line:
                    continue
            kept.append(line if line != raw.strip() else raw)
            if in_head and _is_body(line):
                in_head = False
            continue
        out.removed[kind] += 1
        _keep_metadata(line, kind, out)
    if out.removed:
        out.text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return out


def _kind(line: str, in_head: bool) -> str | None:
    """The kind of furniture a whole line is, or None for a line of the story."""
    if is_timestamp(line) and (in_head or _page_stamp(line)):
        return "timestamp"  # a bare date or time in the story heads a timeline entry: kept
    words = line.split()
    short = len(words) <= 14
    if short and _DATELINE_LINE.fullmatch(line) and len(words) <= 7:
        return "dateline"
    if short and (_BYLINE.fullmatch(line) or _SIGN_OFF.fullmatch(line)):
        return "byline"
    if _CONTRIBUTED.fullmatch(line):
        return "byline"
    if len(words) <= 25 and _CREDIT.fullmatch(line):
        return "credit"
    if len(words) <= 60 and _CAPTION_CREDIT.search(line) and _has_agency(line):
        return "credit"
    if 8 <= len(words) <= 60 and _PHOTOGRAPHER.search(line):
        return "credit"  # a caption: a list item ("30. Pete Carroll/John Schneider") is shorter
    if short and _RELATED_HEAD.fullmatch(line):
        return "related links"
    if len(words) <= 40 and (_CONTACT.fullmatch(line.rstrip(_LINE_END)) or _PROMO.fullmatch(line)):
        return "promo"
    if len(words) <= 40 and _RELATED_LINE.fullmatch(line):
        return "related links"
    if len(words) <= 40 and line.startswith("More:") and _is_link_line(line.split("|")[-1]):
        return "related links"  # "More: <headline> | <headline>"
    if len(words) <= 80 and _NOTE.fullmatch(line) and _about_the_page(line):
        return "editor's note"
    if len(words) <= 60 and _BIO.fullmatch(line) and _CONTACT.search(line):
        return "byline"
    if in_head and len(words) <= 7 and _no_lower_word(line):
        return "byline"  # names and outlets above the story's first sentence
    return None


def _has_agency(line: str) -> bool:
    return re.search(_AGENCY, line) is not None


def _about_the_page(line: str) -> bool:
    """An editor's note talks about the page (updated, corrected, first published)."""
    return (
        re.search(
            r"\b(?:updated?|published|appeared|version|newsletter"
            r"|sign up|subscribe|produced|originally)\w*",
            line,
            re.IGNORECASE,
        )
        is not None
    )


def _no_lower_word(line: str) -> bool:
    """Names and outlets only: no word in lower case but connectors ("by", "and", "for")."""
    tokens = re.findall(r"[^\s]+", line)
    if line[-1:] in '.!?:”"':
        return False
    return all(not t[:1].islower() or t.lower().strip(",.") in _FUNCTION for t in tokens) and any(
        t[:1].isupper() for t in tokens
    )


def _is_link_line(line: str) -> bool:
    """An entry of a related-links list: a short headline, no closing full stop."""
    return len(line.split()) <= 20 and line[-1:] not in '.!?”"'


def _is_body(line: str) -> bool:
    """A line of the story: long enough, or with a word in lower case that is not a
    connector (a verb, most likely)."""
    n = len(line.split())
    return n >= _BODY_WORDS or (n >= 4 and not _no_lower_word(line))


def _page_stamp(header: str) -> bool:
    """A header the page printed, not a time the story gives: "Share this update", an
    "Updated"/"Published" stamp, or a clock time with a full date ("10:36 pm ET June 12,
    2026"). A bare time before a timeline entry ("6:25 p.m. Trump tours …") is kept."""
    if re.search(r"Share\s+this|[Uu]pdated|UPDATED|[Pp]ublished|[Pp]osted", header):
        return True
    return re.search(r"\b(?:19|20)\d\d\b", header) is not None and has_clock_or_stamp(header)


def _strip_header(line: str, stamp: int, out: Cleaned) -> str:
    """A live-blog entry without its header: the stamp, and the headline and byline up to
    the entry's dateline when there is one (else the text after the stamp is kept)."""
    _keep_metadata(line[:stamp], "timestamp", out)
    rest = line[stamp:]
    cut = inline_dateline(rest)
    if cut and cut < 250:
        rest = rest[cut:]
    out.removed["live-blog header"] += 1
    return rest


_DATE = re.compile(DATE_PATTERN)
_DATE_FORMATS = ("%B %d %Y", "%b %d %Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y")


def _keep_metadata(line: str, kind: str, out: Cleaned) -> None:
    """The first full date of a timestamp, the names of a "By" line."""
    if kind == "timestamp" and out.published_at is None:
        for found in _DATE.finditer(line):
            day = _parse_date(found.group(0))
            if day:
                out.published_at = day
                return
    if kind == "byline" and not out.authors:
        match = re.match(r"(?:By|BY|Written by|Story by|Reporting by)[:\s]+([^,|]+)", line)
        if match:  # "By A and B, Outlet": the names before the comma
            out.authors = [n.strip() for n in re.split(r"\s+(?:and|&)\s+", match.group(1))]


def _parse_date(text: str) -> str | None:
    """An ISO day from "June 30, 2026", "Sept. 4, 2025", "2025-06-01" (None without a year)."""
    value = re.sub(r"^[A-Za-z]+\.?,\s+", "", text) if "," in text.split()[0] else text
    value = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", value.replace(",", " ").replace(".", " "))
    value = " ".join(value.split())
    value = re.sub(r"^Sept\b", "Sep", value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def summary(removed: Counter[str]) -> str:
    """ "furniture removed: 3 timestamps, 1 byline …" for the ingest summary line."""
    total = sum(removed.values())
    if not total:
        return ""
    parts = [f"{removed[k]} {k}" for k in KINDS if removed[k]]
    return f"furniture removed: {total} lines ({', '.join(parts)})"
