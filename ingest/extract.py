"""Raw bytes or records -> `Article`: HTML with trafilatura, PDF with pypdf, text, JSON records."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core.errors import LoadError
from core.language.text import escape_controls, first_line, has_lone_surrogate, one_line, printable
from core.models import Article
from ingest.dates import iso_date, modified_date, publish_date

log = logging.getLogger(__name__)

_MIN_TEXT_CHARS = 20
_TRACKING_PARAMS = re.compile(r"^(utm_|fbclid$|gclid$|mc_|ref$|cmpid$)")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_FRONT_KEYS = {
    "title": "title",
    "source": "source",
    "outlet": "source",
    "author": "authors",
    "authors": "authors",
    "published_at": "published_at",
    "date": "published_at",
    "url": "url",
    "id": "id",
}


def canonical_url(url: str) -> str:
    """The URL without fragment and tracking parameters, host lower-cased."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)]
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))


def decode_text(data: bytes, label: str) -> str:
    """Decode a text file: UTF-8 (with or without BOM), else a detected legacy encoding.

    Raises:
        LoadError: the bytes look binary rather than text.
    """
    if not data.strip():
        raise LoadError(f"{label}: the file is empty")
    sample = data[:4096]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise LoadError(f"{label}: this looks like binary data, not text; check the file type")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise LoadError(f"{label}: not UTF-8 and no known text encoding fits; save it as UTF-8")
    log.warning("%s: not UTF-8, decoded as %s", label, best.encoding)
    return str(best)


def _clean(text: str) -> str:
    text = printable(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


# The search index keeps an article's id as one term, and a term has at most 65,530 bytes:
# a longer id was stored but never found. Far above any real id or URL.
MAX_ID_BYTES = 4096


def _tidy(article: Article, label: str = "") -> Article:
    """The article with control characters removed from its metadata.

    Titles, outlets and ids are printed by `ask` and `ingest --list` and posted to Slack:
    an escape sequence in a feed must not change a terminal's title, colours or links.

    Raises:
        LoadError: the id is longer than MAX_ID_BYTES.
    """

    def shown(value: str | None) -> str | None:  # identifiers keep their distinctness
        return None if value is None else escape_controls(value)

    doc_id = escape_controls(article.doc_id)
    size = len(doc_id.encode("utf-8"))
    if size > MAX_ID_BYTES:
        raise LoadError(
            f"{label or 'an article'}: its id is {size:,} bytes long, over the "
            f"{MAX_ID_BYTES:,} an id may have; give it a shorter id"
        )
    return replace(
        article,
        doc_id=doc_id,
        title=one_line(article.title),
        source=one_line(article.source),
        authors=[a for a in map(one_line, article.authors) if a],
        published_at=publish_date(one_line(article.published_at or ""), label or article.doc_id),
        url=shown(article.url),
        path=shown(article.path),
        modified_at=iso_date(one_line(article.modified_at or "")),
    )


def _require_text(text: str, label: str, minimum: int = _MIN_TEXT_CHARS) -> str:
    """The text, unless it is shorter than `minimum` characters (a page that failed to
    extract, an empty file); a record's text only has to be non-empty."""
    if len(text.strip()) < minimum:
        if minimum <= 1:
            raise LoadError(f"{label}: the 'text' field is empty")
        raise LoadError(f"{label}: no article text found (under {minimum} characters)")
    return text


def _split_authors(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [
        part.strip() for part in re.split(r";|\band\b|,(?=\s*[A-Z])", str(value)) if part.strip()
    ]


def article_from_html(
    html: str | bytes, doc_id: str, url: str | None = None, path: str | None = None, label: str = ""
) -> Article:
    """Main text and metadata of a news page (navigation, ads and footers left out)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None or isinstance(document, dict) or not document.text:
        raise LoadError(f"{label or doc_id}: no article text found in this page")
    text = _require_text(_clean(document.text), label or doc_id)
    page_url = getattr(document, "url", None) or url
    title = _clean(document.title or "") or first_line(text)
    if url is None and page_url:
        doc_id = canonical_url(page_url)
    return _tidy(
        Article(
            doc_id=doc_id,
            title=first_line(title),
            text=text,
            source=document.sitename or document.hostname or "",
            authors=_split_authors(document.author),
            published_at=document.date or None,
            url=canonical_url(page_url) if page_url else None,
            path=path,
            modified_at=modified_date(html),
        ),
        label or doc_id,
    )


def _encrypted(reader: Any) -> bool:
    """Whether a PDF that could not be read is encrypted (its text needs a password, or a
    cipher pypdf cannot run here): telling its owner to check it is complete would mislead."""
    try:
        return reader is not None and bool(reader.is_encrypted)
    except Exception:  # a trailer too broken to say: it is reported as unreadable
        return False


def article_from_pdf(
    data: bytes, doc_id: str, path: str | None = None, url: str | None = None, label: str = ""
) -> Article:
    """The text layer of a PDF (a scanned PDF without one is refused, not guessed)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    name = label or doc_id
    if not data.strip():
        raise LoadError(f"{name}: the file is empty")
    reader: PdfReader | None = None
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info: dict[str, Any] = dict(reader.metadata or {})
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        OSError,
        RecursionError,
        IndexError,
        AssertionError,
        ZeroDivisionError,
    ) as exc:
        if _encrypted(reader):
            raise LoadError(
                f"{name}: the PDF is encrypted (password-protected); save a copy without "
                "the password and ingest that"
            ) from exc
        raise LoadError(
            f"{name}: not a readable PDF ({type(exc).__name__}); check that the file is complete"
        ) from exc
    text = _require_text(_clean("\n\n".join(pages)), name)
    title = str(info.get("/Title") or "").strip() or first_line(text)
    return _tidy(
        Article(
            doc_id=doc_id,
            title=first_line(title),
            text=text,
            authors=_split_authors(info.get("/Author")),
            path=path,
            url=url,
        ),
        name,
    )


def article_from_text(text: str, doc_id: str, path: str | None = None, label: str = "") -> Article:
    """A plain-text or Markdown article; optional `---` front matter gives its metadata.

    Front matter keys: title, source (or outlet), author(s), published_at (or date), url, id.
    Without a title, the first non-empty line is the title.
    """
    fields: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, _, value = line.partition(":")
            target = _FRONT_KEYS.get(key.strip().lower())
            if target and value.strip():
                fields[target] = value.strip().strip("\"'")
        text = text[match.end() :]
    body = _require_text(_clean(text), label or doc_id)
    title = fields.get("title") or first_line(body).lstrip("#").strip()
    url = canonical_url(fields["url"]) if fields.get("url") else None
    return _tidy(
        Article(
            doc_id=fields.get("id") or doc_id,
            title=first_line(title),
            text=body,
            source=fields.get("source", ""),
            authors=_split_authors(fields.get("authors")),
            published_at=fields.get("published_at"),
            url=url,
            path=path,
        ),
        label or doc_id,
    )


def _whole_characters(value: str, key: str, label: str) -> str:
    """The value, unless JSON gave it a lone UTF-16 surrogate (`"\\ud83d"`, half an emoji),
    which no UTF-8 encoder accepts: hashing, the store and the terminal would all fail."""
    if has_lone_surrogate(value):
        raise LoadError(
            f"{label}: field {key!r} holds a broken character (a lone UTF-16 surrogate, "
            "such as half an emoji); fix the record's encoding and ingest it again"
        )
    return value


def _optional_str(record: dict[str, Any], key: str, label: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise LoadError(f"{label}: field {key!r} must be a string, got {type(value).__name__}")
    return _whole_characters(str(value), key, label).strip() or None


def article_from_record(record: Any, fallback_id: str, label: str) -> Article:
    """A JSON record `{id?, title?, text, url?, published_at?, modified_at?, author(s)?,
    source?}`."""
    if not isinstance(record, dict):
        raise LoadError(f"{label}: expected a JSON object, got {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str):
        raise LoadError(f"{label}: needs a 'text' string field")
    body = _require_text(_clean(_whole_characters(text, "text", label)), label, minimum=1)
    url = _optional_str(record, "url", label)
    url = canonical_url(url) if url else None
    record_id = _optional_str(record, "id", label)
    title = _optional_str(record, "title", label) or first_line(body)
    authors_value = record.get("authors", record.get("author"))
    if authors_value is not None and not isinstance(authors_value, (str, list)):
        raise LoadError(f"{label}: field 'author' must be a string or a list of strings")
    authors = [_whole_characters(a, "author", label) for a in _split_authors(authors_value)]
    published = _optional_str(record, "published_at", label)
    return _tidy(
        Article(
            doc_id=record_id or url or fallback_id,
            title=first_line(title),
            text=body,
            source=_optional_str(record, "source", label) or "",
            authors=authors,
            published_at=published,
            url=url,
            # when the outlet last changed it (a CMS export's), shown as "updated …"
            modified_at=_optional_str(record, "modified_at", label),
        ),
        label,
    )
