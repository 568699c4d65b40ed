"""Plain-text helpers shared by chunking and answers: sentences with their offsets, words."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Abbreviations that end in a period but rarely end a sentence in news copy.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "lt",
        "col",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "gov",
        "sen",
        "rep",
        "atty",
        "st",
        "jr",
        "sr",
        "rev",
        "hon",
        "pres",
        "supt",
        "insp",
        "det",
        "no",
        "vs",
        "etc",
        "inc",
        "corp",
        "co",
        "ltd",
        "dept",
        "univ",
        "mt",
        "ft",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "u.n",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
    ]
)
# Linear on any input: a match never starts inside a run of terminators, and the possessive
# quantifiers never give back what they took (a run of n dots cost O(n²) with backtracking).
# Closing marks after the stop include French and German quotes: `port.» Next`, `port.“ Next`.
_BOUNDARY = re.compile(
    r"""(?<![.!?])[.!?]++["'”’»›“)\]]*+(?=\s++["'“‘«‹„(\[]?[A-Z0-9])|\n\s*\n|\n"""
)
# What a terminal acts on instead of printing: C0 controls (ESC starts colour, window-title and
# hyperlink sequences; CR overwrites the line), DEL, C1 controls (U+009B is an 8-bit CSI) and
# the bidirectional embeddings, overrides and isolates that reorder what is shown.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_CONTROL_OR_BREAK = re.compile(f"[{_CONTROLS}\t\n]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*[A-Za-z0-9]|[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a text with its character offsets: `text == source[start:end]`."""

    start: int
    end: int
    text: str


# A person's initials ("K.P. Sharma Oli", "J.D. Vance") go on with the name; the dotted
# abbreviations of US places and eras end many sentences ("… in Washington, D.C. The …",
# "… in 161 A.D. It …") and are not initials. An organisation's dotted initials ending a
# sentence ("… to the F.B.I. Agents …") are read as a name: rare in the dev sets' outlets,
# which write FBI (about 12 of 505 such stops there were sentence ends).
_INITIALS = re.compile(r"[a-z](?:\.[a-z]){1,2}")
_ENDING_INITIALS = frozenset(
    ["d.c", "n.y", "l.a", "n.c", "s.c", "n.j", "n.h", "n.m", "n.d", "s.d", "r.i", "p.r", "s.f"]
    + ["a.d", "b.c", "p.s"]
)


def _ends_with_abbreviation(text: str, end: int) -> bool:
    match = re.search(r"([A-Za-z][A-Za-z.]*)\.$", text[max(0, end - 12) : end])
    if not match:
        return False
    word = match.group(1).lower()
    if _INITIALS.fullmatch(word) and match.group(1).isupper():
        return word not in _ENDING_INITIALS
    return word in _ABBREVIATIONS or len(word) == 1


# A wire credit after a place that ends in an abbreviation: "WILMINGTON, Del. (AP) — …" is
# one dateline, not a sentence "WILMINGTON, Del." and another "(AP) — …".
_CREDIT_AFTER = re.compile(r"\s+\([A-Z][A-Za-z&]*(?: [A-Z][A-Za-z&]*){0,3}\)\s*[—–―−-]")
_CAPITALISED_ABBREVIATION = re.compile(r"(?:^|[\s,])[A-Z][A-Za-z.]{0,6}$")


def _credit_after_place(text: str, stop: int) -> bool:
    """True when the full stop at `stop` ends a capitalised abbreviation ("Del", "N.C")
    followed by a wire credit in brackets and a dash: a dateline goes on."""
    if text[stop] != "." or _CREDIT_AFTER.match(text, stop + 1) is None:
        return False  # the bracket is checked first: it is rarely there
    return _CAPITALISED_ABBREVIATION.search(text[max(0, stop - 8) : stop]) is not None


def split_sentences(text: str) -> list[Span]:
    """Split text into sentences (and paragraph lines), keeping exact offsets.

    Args:
        text: Any plain text.

    Returns:
        Non-empty, stripped spans in order; joining the gaps back gives the text.
    """
    spans: list[Span] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group(0)[0] in ".!?" and (
            _ends_with_abbreviation(text, match.start() + 1)
            or _credit_after_place(text, match.start())
        ):
            continue
        _append_span(spans, text, start, end)
        start = end
    _append_span(spans, text, start, len(text))
    return spans


def _append_span(
    spans: list[Span], text: str, start: int, end: int, header: bool = True, dateline: bool = True
) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    begin = start + lead
    # A timestamp or live-blog header glued to a sentence is cut from it, and so is a
    # section label opening a line and a headline and byline standing before a dateline: a
    # sentence starts after them.
    stamp = stamp_header(stripped) if header else 0
    label = page_label(stripped) if header and _starts_line(text, start, begin) else 0
    cut = stamp or label or (inline_dateline(stripped) if dateline else 0)
    if 0 < cut < len(stripped):
        head = stripped[:cut].rstrip()
        spans.append(Span(begin, begin + len(head), head))
        _append_span(spans, text, begin + cut, begin + len(stripped), False, bool(stamp))
        return
    spans.append(Span(begin, begin + len(stripped), stripped))


def _starts_line(text: str, start: int, begin: int) -> bool:
    """True when the span whose piece starts at `start` (its text at `begin`) opens a line:
    the piece follows a line break, or holds one before its text (only the gap is read)."""
    return start == 0 or text[start - 1] == "\n" or "\n" in text[start:begin]


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits; inner apostrophes, dots and hyphens kept)."""
    return [w.lower().strip(".") for w in _WORD.findall(text)]


def printable(text: str) -> str:
    """The text without control characters a terminal would act on (tab and newline kept)."""
    return _CONTROL.sub("", text)


def one_line(text: str) -> str:
    """A metadata value on one line: control characters removed, whitespace collapsed."""
    return " ".join(_CONTROL.sub("", " ".join(text.split())).split())


def escape_controls(text: str) -> str:
    """Control characters (tab and newline too) shown as `\\xNN` / `\\uNNNN` escapes."""
    return _CONTROL_OR_BREAK.sub(lambda m: ascii(m.group())[1:-1], text)


def has_lone_surrogate(text: str) -> bool:
    """True when the text holds half a UTF-16 pair (from a JSON `"\\ud83d"` escape or a
    non-UTF-8 command-line argument): no UTF-8 encoder, terminal or store accepts it."""
    return _SURROGATE.search(text) is not None


def counted(n: int, noun: str) -> str:
    """ "1 article", "2 articles": a count with its noun (a regular plural)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def first_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of a text, trimmed to `limit` characters."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


# Page furniture by shape (shared by the ingest cleaning and the lead): dates, clock times and
# the words a CMS prints around them ("Updated", "Published", "ET"), whatever the outlet.
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?"
_ZONE = r"(?:[ECMP][SD]?T|GMT|UTC|BST|CET|CEST)"
DATE_PATTERN = (
    rf"(?:{_WEEKDAY},?\s+)?(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})"
)
TIME_PATTERN = (
    rf"(?:\d{{1,2}}(?::\d{{2}})?\s*(?:[ap]\.?m\.?|[AP]\.?M\.?)(?![a-z])(?:\s+{_ZONE})?"
    rf"|\d{{1,2}}:\d{{2}}(?:\s+{_ZONE})?)"
)
_STAMP_WORD = (
    r"(?:(?:Last\s+)?[Uu]pdated|UPDATED|[Pp]ublished|PUBLISHED|[Pp]osted|[Mm]odified"
    r"|(?:Originally|First)\s+published|Share\s+this\s+update)"
)
_STAMP_PIECE = rf"(?:{DATE_PATTERN}|{TIME_PATTERN}|{_STAMP_WORD}|{_ZONE})"
_STAMP_JOIN = rf"(?:{_STAMP_PIECE}|on|at|and)"
_STAMP_GAP = r"[\s,;:|·•/–—-]*"
_TIMESTAMP = re.compile(rf"{_STAMP_GAP}(?:{_STAMP_JOIN}{_STAMP_GAP})+")
_HAS_DATE_OR_TIME = re.compile(rf"{DATE_PATTERN}|{TIME_PATTERN}")
_HAS_TIME_OR_STAMP = re.compile(rf"{TIME_PATTERN}|{_STAMP_WORD}")
# A live-blog entry's header at the start of a line: a clock time or an "Updated …" stamp
# (with dates and "Share this update"), then the entry's text starting with a capital.
_HEADER = re.compile(
    rf"(?:{_STAMP_PIECE}{_STAMP_GAP})(?:{_STAMP_JOIN}{_STAMP_GAP})*+(?=[“\"‘']?[A-Z])"
)
# A dateline inside a line ("… Jordan Mendoza INGLEWOOD, CA — When the stars …"): the place
# in capitals and a dash start the story; whatever stands before it is a header.
_INLINE_DATELINE = re.compile(
    r"(?<=[A-Za-z0-9.,!?”\"’)]) (?=[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*"
    r"(?:, [A-Z][A-Za-z.]+(?: [A-Z][A-Za-z.]+)?)?(?: \([A-Z][A-Za-z]*\))? [—–―−] [“\"A-Z])"
)


def is_timestamp(line: str) -> bool:
    """True when a line holds only dates, clock times and stamp words: "June 30, 2026 Updated
    July 2, 2026, 12:07 p.m. ET", "10:36 pm ET", "Updated April 20, 2026"."""
    text = line.strip()
    if not text or not _HAS_DATE_OR_TIME.search(text):
        return False
    return _TIMESTAMP.fullmatch(text) is not None


def has_clock_or_stamp(line: str) -> bool:
    """True when a line holds a clock time or a stamp word ("Updated", "Published")."""
    return _HAS_TIME_OR_STAMP.search(line) is not None


def stamp_header(line: str) -> int:
    """The length of a timestamp header glued to the start of a line ("10:36 pm ET June 12,
    2026 Share this update Celebs …", "12:46 p.m. | Some …"), 0 when there is none. A plain
    date opening a sentence ("June 5, 2025 was …") is not a header: it needs a clock time
    or a stamp word."""
    match = _HEADER.match(line)
    if match is None or not _HAS_TIME_OR_STAMP.search(match.group(0)):
        return 0
    return match.end()


def inline_dateline(line: str) -> int:
    """Where a dateline starts inside a line after other text (a glued headline and byline),
    0 when there is none."""
    for match in _INLINE_DATELINE.finditer(line):
        before = line[: match.start()].split()[-1]
        # Not inside a place name in capitals ("NEW YORK —", "ASHEVILLE, N.C. —"): the
        # word before ends a headline or a byline.
        if any(ch.islower() for ch in before) or before[-1] in '.!?”"’)':
            return match.end()
    return 0


# A section label a page prints before the story's first sentence, on the same line: a
# summary box ("AI-assisted summary The storm …", "Summary: The church …") or a list's heading
# ("Key takeaways: …", "Career highlights: She was …"). A label that is a common opening of a
# sentence ("Summary judgment was …", "Highlights of the set included …") needs its colon.
_LABEL = re.compile(
    r"(?:(?:AI|Machine)[- ](?:[Aa]ssisted|[Gg]enerated)\s+[Ss]ummary\s*:?"
    r"|(?:(?:Story|Article|Quick|Brief)\s+)?(?:[Ss]ummary|SUMMARY)\s*:"
    r"|(?:Key|KEY)\s+(?:[Tt]akeaways|[Pp]oints|TAKEAWAYS|POINTS)\s*:"
    r"|(?:(?:Career|Story|Key)\s+)?(?:[Hh]ighlights|HIGHLIGHTS)\s*:|In\s+brief\s*:|TL;?DR\s*:)"
    r"\s*(?=[“\"‘'(]?[A-Z0-9])"
)


def page_label(line: str) -> int:
    """The length of a section label opening a line ("AI-assisted summary ", "Summary: ",
    "Key takeaways: "), with the spaces after it; 0 when there is none or nothing follows."""
    match = _LABEL.match(line)
    if match is None or match.end() >= len(line.rstrip()):
        return 0
    return match.end()


# A sentence that asks the reader to act on the page ("Sign up here for the newsletter.",
# "Click here to read more."): the page's words, never the story's. Ingest's promo lines
# (`ingest.furniture`) start with these words too.
CALL_TO_ACTION_WORDS = r"Sign up|Subscribe|Click here|Tap here|Follow us"
_CALL_TO_ACTION = re.compile(rf"[“\"‘'(]?(?:{CALL_TO_ACTION_WORDS})\b")
_TO_THE_READER = re.compile(r"\b(?:you|your|you're|you’re|yours)\b", re.IGNORECASE)
_PITCH_WORD = re.compile(
    r"\b(?:inbox|newsletters?|subscri\w*|deliver\w*|e-?mail you|send you|text messages?"
    r"|alerts?|headlines|roundup|latest (?:news|updates))\b",
    re.IGNORECASE,
)


def reader_pitch(sentence: str) -> bool:
    """A sentence selling the page to the reader: it talks to "you" about an inbox, a
    newsletter, alerts or headlines."""
    return bool(_TO_THE_READER.search(sentence) and _PITCH_WORD.search(sentence))


def call_to_action(sentence: str) -> bool:
    """True when the sentence asks the reader to sign up, subscribe or click."""
    return _CALL_TO_ACTION.match(sentence.lstrip()) is not None


def page_pitch(spans: list[Span], index: int) -> bool:
    """Whether sentence `index` is the page's: a call to action, or a pitch to the reader
    that leads up to one ("Get the briefing in your inbox daily. Sign up here."). A quote
    that talks to "you" about an alert is the story's when no call to action follows."""
    j = index
    while j < len(spans) and not call_to_action(spans[j].text) and reader_pitch(spans[j].text):
        j += 1
    return j < len(spans) and call_to_action(spans[j].text)


def trailing_calls_to_action(line: str) -> int:
    """Where the calls to action that end a line begin ("The storm hit. Sign up here for
    alerts."), with the pitch before them that talks to the reader ("Get the briefing in
    your inbox daily."): the offset to cut at, 0 when the whole line is calls and pitch;
    len(line) when there is none."""
    if _CALL_TO_ACTION.search(line) is None:  # most lines: no sentence split
        return len(line)
    spans = split_sentences(line)
    keep = len(spans)
    while keep > 0 and page_pitch(spans, keep - 1):
        keep -= 1
    return spans[keep].start if keep < len(spans) else len(line)
