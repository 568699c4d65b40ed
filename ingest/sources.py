"""Command-line inputs -> items to load: files, folders, URLs, JSON Lines records, stdin.

Each item loads independently, so one bad file (or one bad JSON line) fails alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from core.errors import LoadError
from core.language.text import escape_controls
from core.models import Article
from core.sections import IngestSettings
from ingest import extract
from ingest.fetch import fetch_url
from ingest.limits import InputTimeout, time_limit

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".json", ".jsonl"}
IGNORED_NAMES = {"SOURCE.txt", "README.md", "README.txt"}
BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark, which some exporters write first


@dataclass
class Item:
    """One thing to ingest; `load()` returns its articles or raises `LoadError`."""

    label: str
    load: Callable[[], list[Article]]


def expand(inputs: list[str], settings: IngestSettings) -> Iterator[Item]:
    """Items for every input: a folder is walked recursively, a JSON Lines file by line."""
    for raw in inputs:
        if raw == "-":
            yield from _stdin_items(settings)
        elif raw.lower().startswith(("http://", "https://")):
            yield Item(raw, partial(_load_url_item, raw, settings))
        elif "://" in raw:
            yield Item(
                raw, partial(_refuse, f"{raw}: only http:// and https:// URLs can be ingested")
            )
        else:
            yield from _path_items(Path(raw), settings)


def count_items(inputs: list[str], settings: IngestSettings) -> int | None:
    """How many items `expand` will yield (for the progress bar), None when unknown.

    A JSON file is read and parsed twice, here and by its items; one over MAX_FILE_MB is
    not read at all (it is one refused item).
    """
    total = 0
    for raw in inputs:
        path = Path(raw)
        if raw == "-" or "://" in raw:
            total += 1
        elif path.is_dir():
            found = _walk(path)
            total += sum(_count_file(p, settings) for p in found.files) + len(found.unreadable)
        else:
            total += _count_file(path, settings)
    return total


def _count_file(path: Path, settings: IngestSettings) -> int:
    suffix = path.suffix.lower()
    try:
        if suffix not in (".json", ".jsonl") or not path.is_file():
            return 1
        if path.stat().st_size > settings.max_file_bytes:
            return 1  # refused unread by its item
        if suffix == ".jsonl":
            with path.open("rb") as handle:  # an empty file is one refused item
                return max(1, sum(1 for line in handle if not _blank(line)))
        value = json.loads(path.read_bytes())
        return len(value) if isinstance(value, list) and value else 1
    except (OSError, ValueError, RecursionError):
        pass  # the item itself will say what is wrong
    return 1


def display_path(path: Path | str) -> str:
    """A path as text that can always be printed and stored: undecodable bytes and control
    characters as `\\xNN`.

    A file name that is not UTF-8 reaches Python with surrogate escapes, which no UTF-8
    encoder (hashing, Chroma, the terminal) accepts.
    """
    return escape_controls(os.fsencode(path).decode("utf-8", "backslashreplace"))


def _blank(data: bytes) -> bool:
    """Nothing but white space, and the byte-order mark some exporters write at the start
    of a file (files joined with `cat` carry one per file; `_parse_line` skips it too)."""
    return not data.replace(BOM, b"").strip()


def _refuse(message: str) -> list[Article]:
    raise LoadError(message)


@dataclass
class _Folder:
    """What walking a folder found."""

    files: list[Path]  # supported files, in order
    outside: list[Path]  # links in it that lead out of it
    unreadable: list[tuple[Path, str]]  # folders that could not be listed, and why


def _walk(folder: Path) -> _Folder:
    """Supported files under a folder, the links in it that lead out of it, and the folders
    in it that cannot be listed (each is named, rather than skipped without a word).

    Links are not followed out of the folder given: `dir/leak.txt -> ../secrets.env` must
    not end up quoted in Slack. A linked folder is never descended (its files, when they
    are inside, are reached by their own path).
    """
    root = folder.resolve()
    files: list[Path] = []
    outside: list[Path] = []
    unreadable: list[tuple[Path, str]] = []

    def refused(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else folder
        unreadable.append((where, exc.strerror or type(exc).__name__))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=refused):
        here = Path(dirpath)
        outside += [here / d for d in dirnames if _leaves(here / d, root)]
        for name in filenames:
            path = here / name
            if not _wanted(path):
                continue
            if _leaves(path, root):
                outside.append(path)
            elif path.is_file():
                files.append(path)
    return _Folder(sorted(files), sorted(outside), sorted(unreadable))


def _wanted(path: Path) -> bool:
    return (
        path.suffix.lower() in SUFFIXES
        and not path.name.startswith(".")
        and path.name not in IGNORED_NAMES
    )


def _leaves(path: Path, root: Path) -> bool:
    """True for a symbolic link whose target lies outside `root` (or that loops)."""
    if not path.is_symlink():
        return False
    try:
        return not path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return True


def _path_items(path: Path, settings: IngestSettings) -> Iterator[Item]:
    if path.is_dir():
        found = _walk(path)
        for link in found.outside:
            log.warning(
                "%s: skipped, it links outside %s (name its target to ingest it)",
                display_path(link),
                display_path(path),
            )
        for folder, why in found.unreadable:
            label = display_path(folder)
            reason = f"{label}: cannot list this folder ({why}); its articles were not read"
            yield Item(label, partial(_refuse, reason))
        for file in found.files:
            yield from _file_items(file, settings)
    elif path.exists():
        yield from _file_items(path, settings)
    else:
        label = display_path(path)
        yield Item(label, partial(_refuse, f"{label}: no such file or folder"))


def _read_capped(path: Path, settings: IngestSettings) -> bytes:
    """A file's bytes, refused above MAX_FILE_MB: by its size when it has one, else (a
    FIFO, a character device) by stopping the read just past the limit."""
    label = display_path(path)
    try:
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            raise LoadError(
                f"{label}: {size / 1048576:.1f} MB is over the {settings.max_file_mb:g} MB "
                "limit; split it, or raise MAX_FILE_MB"
            )
        with path.open("rb") as handle:
            return _read_limited(handle, label, settings)
    except OSError as exc:
        raise LoadError(f"{label}: cannot read it ({exc.strerror or type(exc).__name__})") from exc


def _read_limited(handle: BinaryIO, label: str, settings: IngestSettings) -> bytes:
    """At most MAX_FILE_MB from a stream; more is refused, not truncated."""
    data = handle.read(settings.max_file_bytes + 1)
    if len(data) > settings.max_file_bytes:
        raise LoadError(
            f"{label}: over the {settings.max_file_mb:g} MB limit; split it, or raise MAX_FILE_MB"
        )
    return data


def _file_items(path: Path, settings: IngestSettings) -> Iterator[Item]:
    suffix = path.suffix.lower()
    label = display_path(path)
    if suffix in (".json", ".jsonl"):
        yield from _record_items(path, settings)
    elif suffix not in SUFFIXES:
        reason = (
            f"{label}: unsupported file type {suffix or '(none)'}; "
            f"use one of {', '.join(sorted(SUFFIXES))}"
        )
        yield Item(label, partial(_refuse, reason))
    else:
        yield Item(label, partial(_load_file, path, settings))


def _load_file(path: Path, settings: IngestSettings) -> list[Article]:
    resolved = display_path(path.resolve())
    label = display_path(path)
    data = _read_capped(path, settings)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return [extract.article_from_pdf(data, resolved, path=resolved, label=label)]
    text = extract.decode_text(data, label)
    if suffix in HTML_SUFFIXES:
        return [extract.article_from_html(text, resolved, path=resolved, label=label)]
    return [extract.article_from_text(text, resolved, path=resolved, label=label)]


def _record_items(path: Path, settings: IngestSettings) -> Iterator[Item]:
    """One item per record of a JSON Lines file (per line) or a JSON array (per element).

    The file is read here, before its items exist, so under the input time limit of its
    own: a named pipe nobody writes to must not stall the run.
    """
    label, resolved = display_path(path), display_path(path.resolve())
    try:
        with time_limit(settings.input_timeout):
            data = _read_capped(path, settings)
            records = None if path.suffix.lower() == ".jsonl" else _json_records(data, label)
    except LoadError as exc:
        yield Item(label, partial(_refuse, str(exc)))
        return
    except InputTimeout:
        reason = f"{label}: not read within {settings.input_timeout:g} s (INPUT_TIMEOUT); skipped"
        yield Item(label, partial(_refuse, reason))
        return
    if records is None:
        if _blank(data):
            yield Item(label, partial(_refuse, f"{label}: the file is empty"))
            return
        yield from _line_items(data, label, resolved)
        return
    yield from _array_items(records, label, resolved)


def _array_items(records: list[object], label: str, resolved: str | None) -> Iterator[Item]:
    """One item per record of a JSON array; a record without id or URL is known by
    `resolved#<number>`, or, from standard input (`resolved` None), by its content."""
    for number, record in enumerate(records, 1):
        where = f"{label} record {number}" if len(records) > 1 else label
        known_as = f"{resolved}#{number}" if resolved else None
        yield Item(where, partial(_load_record, record, known_as, where))


def _json_records(data: bytes, label: str) -> list[object]:
    """The records of a `.json` file: an array of objects, or one object."""
    text = extract.decode_text(data, label)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"{label}: invalid JSON at line {exc.lineno} ({exc.msg})") from exc
    except RecursionError as exc:
        raise LoadError(f"{label}: the JSON is nested too deeply to be an article") from exc
    records = value if isinstance(value, list) else [value]
    if not records:
        raise LoadError(f"{label}: the JSON array is empty")
    return records


def _line_items(data: bytes, label: str, resolved: str | None) -> Iterator[Item]:
    """One item per line of JSON Lines that is not `_blank`. A record without id or URL is
    known by `resolved#L<line>`, or, for standard input (`resolved` None: it has no name),
    by its content."""
    for number, line in enumerate(data.split(b"\n"), 1):
        if not _blank(line):
            where = f"{label} line {number}"
            known_as = f"{resolved}#L{number}" if resolved else None
            yield Item(where, partial(_load_line, line, where, known_as))


def content_id(data: bytes) -> str:
    """The id of an article from standard input: a pipe has no name, so the article is
    known by its content. The same text piped again is unchanged; other text is another
    article, instead of replacing whatever was piped before."""
    return f"stdin#{hashlib.sha256(data.strip()).hexdigest()[:16]}"


def _record_id(record: object) -> str:
    """`content_id` of a JSON record, the same whether it came as a line or in an array."""
    return content_id(json.dumps(record, sort_keys=True).encode())


def _load_line(line: bytes, where: str, fallback_id: str | None) -> list[Article]:
    return _load_record(_parse_line(line, where), fallback_id, where)


def _load_record(record: object, fallback_id: str | None, where: str) -> list[Article]:
    """A record's article; without an id or URL of its own it is known by `fallback_id`,
    else (standard input) by its content."""
    return [extract.article_from_record(record, fallback_id or _record_id(record), where)]


def _load_text(data: bytes, label: str) -> list[Article]:
    text = extract.decode_text(data, label)
    return [extract.article_from_text(text, content_id(data), label=label)]


def _load_url_item(url: str, settings: IngestSettings) -> list[Article]:
    return [_load_url(url, settings)]


def _parse_line(line: bytes, where: str) -> object:
    try:
        # utf-8-sig: files joined with `cat` keep each one's byte-order mark mid-stream
        return json.loads(line.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise LoadError(f"{where}: not UTF-8; JSON Lines must be UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise LoadError(f"{where}: malformed JSON ({exc.msg} at column {exc.colno})") from exc
    except RecursionError as exc:
        raise LoadError(f"{where}: the JSON is nested too deeply to be an article") from exc


def _stdin_items(settings: IngestSettings) -> Iterator[Item]:
    try:
        data = _read_limited(sys.stdin.buffer, "stdin", settings)
    except LoadError as exc:
        yield Item("stdin", partial(_refuse, str(exc)))
        return
    start = data.removeprefix(BOM).lstrip()[:1]
    if start == b"{":
        yield from _line_items(data, "stdin", None)
    elif start == b"[":
        yield from _stdin_records(data)
    else:
        yield Item("stdin", partial(_load_text, data, "stdin"))


def _stdin_records(data: bytes) -> Iterator[Item]:
    """A JSON array (or object) on standard input: one item per record, as for a `.json`
    file; records without id or URL are known by their content."""
    try:
        records = _json_records(data, "stdin")
    except LoadError as exc:
        yield Item("stdin", partial(_refuse, str(exc)))
        return
    yield from _array_items(records, "stdin", None)


def _load_url(url: str, settings: IngestSettings) -> Article:
    page = fetch_url(url, settings)
    canonical = extract.canonical_url(page.final_url)
    if page.is_pdf:
        return extract.article_from_pdf(page.body, canonical, url=canonical, label=url)
    text = extract.decode_text(page.body, url) if page.charset is None else page.text
    return extract.article_from_html(text, canonical, url=canonical, label=url)
