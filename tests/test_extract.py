"""Extraction: clean text and real metadata from HTML, PDF, text and JSON records."""

from __future__ import annotations

import pytest

from core.errors import LoadError
from ingest import extract
from tests.documents import make_pdf, news_page

PARAGRAPHS = [
    "Salvador Cienfuegos, the former Mexican defense minister, was arrested in Los Angeles "
    "in October 2020 on drug trafficking charges, officials said on Friday.",
    "The case strained relations between the two countries for months, and Mexico later "
    "passed a law limiting the work of foreign agents on its soil.",
]


def test_html_gives_main_text_and_metadata_not_navigation() -> None:
    """Title, outlet, author, the publish date as published and the canonical URL."""
    html = news_page("Former Mexican general arrested", PARAGRAPHS)
    article = extract.article_from_html(html, "/tmp/page.html", path="/tmp/page.html")
    assert article.title == "Former Mexican general arrested"
    assert article.source == "Example Times"
    assert article.authors == ["Jane Doe"]
    assert article.published_at == "2022-06-17"
    assert article.url == "https://example.com/news/story"
    assert article.doc_id == article.url  # the canonical URL beats the file path
    assert "Cienfuegos" in article.text
    assert "Subscribe" not in article.text and "Sports" not in article.text


def test_pdf_text_layer_and_title() -> None:
    """A PDF's text and its document title come through pypdf."""
    pdf = make_pdf(
        ["Council approves the new budget.", "The vote was 7 to 2 on Tuesday."], title="Budget vote"
    )
    article = extract.article_from_pdf(pdf, "/tmp/b.pdf", path="/tmp/b.pdf")
    assert article.title == "Budget vote"
    assert "7 to 2" in article.text


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00\x01garbage" * 50, b"%PDF-1.4\n1 0 obj"])
def test_bad_pdfs_get_a_clear_error(data: bytes) -> None:
    """Empty, junk or truncated PDFs raise LoadError naming the file, nothing else."""
    with pytest.raises(LoadError, match="junk.pdf"):
        extract.article_from_pdf(data, "x", label="junk.pdf")


def test_text_front_matter_sets_metadata_and_first_line_is_the_title() -> None:
    """Markdown front matter gives outlet and date; without it the first line is the title."""
    text = "---\ntitle: Budget vote\nsource: City Paper\ndate: 2023-01-05\n---\nBody " * 1
    text += "of the story with enough words to count as an article."
    article = extract.article_from_text(text, "/tmp/a.md")
    assert (article.title, article.source, article.published_at) == (
        "Budget vote",
        "City Paper",
        "2023-01-05",
    )
    plain = extract.article_from_text("\n\n  First line here \nThe rest of the article text.", "p")
    assert plain.title == "First line here"


def test_non_utf8_text_is_decoded_and_binary_is_refused() -> None:
    """Legacy encodings are decoded; binary data is refused with a reason."""
    latin = "Le président a déclaré que la réforme des retraites sera votée.".encode("cp1252")
    assert "président" in extract.decode_text(latin * 3, "page.html")
    with pytest.raises(LoadError, match="binary"):
        extract.decode_text(bytes(range(256)) * 4, "blob.txt")
    with pytest.raises(LoadError, match="empty"):
        extract.decode_text(b"", "empty.txt")


def test_records_need_text_and_the_right_types() -> None:
    """A record's id wins, else its URL; wrong field types are named."""
    record = {
        "id": "r1",
        "title": "T",
        "text": "A long enough article text here.",
        "url": "https://x.org/a#frag",
        "published_at": "2022-06-01",
        "author": "A. B",
    }
    article = extract.article_from_record(record, "fallback", "line 1")
    assert (article.doc_id, article.url, article.published_at) == (
        "r1",
        "https://x.org/a",
        "2022-06-01",
    )
    no_id = extract.article_from_record({**record, "id": None}, "fallback", "line 1")
    assert no_id.doc_id == "https://x.org/a"
    with pytest.raises(LoadError, match="'text'"):
        extract.article_from_record({"title": "no text"}, "f", "line 2")
    with pytest.raises(LoadError, match="'title' must be a string"):
        extract.article_from_record({**record, "title": {"a": 1}}, "f", "line 3")
    with pytest.raises(LoadError, match="JSON object"):
        extract.article_from_record([1, 2], "f", "line 4")


def test_a_short_record_is_kept_and_an_empty_one_refused() -> None:
    """A 12-character news snippet is an article; a blank 'text' is an error."""
    short = extract.article_from_record({"id": "s", "text": "Tom Brady won"}, "f", "line 1")
    assert short.text == "Tom Brady won"
    with pytest.raises(LoadError, match="'text' field is empty"):
        extract.article_from_record({"id": "e", "text": "  \x00 "}, "f", "line 2")
