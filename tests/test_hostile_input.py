"""Hostile and broken input: every loader ends in a clean article or a clear LoadError."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from core.errors import LoadError
from core.models import Article
from core.settings import Settings
from ingest.fetch import check_url, fetch_url
from ingest.sources import count_items, expand
from tests.conftest import make_settings
from tests.documents import make_pdf, news_page

FUZZ = hyp_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _load_all(path: Path, settings: Settings) -> tuple[list[Article], list[str]]:
    articles, errors = [], []
    for item in expand([str(path)], settings.ingest):
        try:
            articles += item.load()
        except LoadError as exc:
            errors.append(str(exc))
    return articles, errors


def _clean(article: Article) -> None:
    assert article.doc_id and isinstance(article.title, str)
    assert article.text.strip()
    assert not any(ord(c) < 9 for c in article.text)


@FUZZ
@given(
    data=st.binary(max_size=4096),
    suffix=st.sampled_from([".txt", ".md", ".html", ".pdf", ".json", ".jsonl"]),
)
def test_random_bytes_never_crash_a_loader(tmp_path: Path, data: bytes, suffix: str) -> None:
    """Random bytes under any supported name: a clean article or a LoadError naming the file."""
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    articles, errors = _load_all(path, make_settings(tmp_path))
    for article in articles:
        _clean(article)
    for error in errors:
        assert "fuzz" in error


@FUZZ
@given(cut=st.integers(min_value=0, max_value=2000))
def test_truncated_pdfs_fail_cleanly(tmp_path: Path, cut: int) -> None:
    """A PDF cut anywhere is either still readable or refused with a reason."""
    pdf = make_pdf([f"Line {i} of the council budget story." for i in range(30)], title="Budget")
    path = tmp_path / "cut.pdf"
    path.write_bytes(pdf[:cut])
    articles, errors = _load_all(path, make_settings(tmp_path))
    assert len(articles) + len(errors) == 1
    for article in articles:
        _clean(article)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(
    records=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["id", "title", "text", "url", "published_at", "author", "authors", "source"]
            ),
            json_values,
            max_size=8,
        ),
        max_size=6,
    )
)
def test_json_lines_with_wrong_types(tmp_path: Path, records: list[dict]) -> None:
    """Every line ends in an article or its own error; one bad line never sinks the file."""
    path = tmp_path / "feed.jsonl"
    good = {"id": "good", "text": "A perfectly ordinary article about the harbor board."}
    lines = [json.dumps(r) for r in records] + [json.dumps(good), '{"id": "cut", "te']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, errors = _load_all(path, make_settings(tmp_path))
    assert any(a.doc_id == "good" for a in articles)
    assert any("malformed JSON" in e for e in errors)
    assert len(articles) + len(errors) == len(lines)
    for article in articles:
        _clean(article)


def test_deeply_nested_and_huge_html(tmp_path: Path) -> None:
    """10,000 nested divs or a 5 MB page: an article or a clear error, quickly."""
    nested = (
        "<div>" * 10000 + "<p>" + "Deep text about the harbor. " * 20 + "</p>" + "</div>" * 10000
    )
    (tmp_path / "nested.html").write_text(f"<html><body>{nested}</body></html>")
    huge = news_page("Huge page", ["The harbor board met again today. " * 400] * 400)
    (tmp_path / "huge.html").write_text(huge)
    for name in ("nested.html", "huge.html"):
        articles, errors = _load_all(tmp_path / name, make_settings(tmp_path))
        assert len(articles) + len(errors) == 1
        for article in articles:
            _clean(article)


def test_a_file_over_the_size_cap_is_refused_with_the_setting_named(tmp_path: Path) -> None:
    """A 50 MB upload is refused before it is read, naming MAX_FILE_MB."""
    path = tmp_path / "upload.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    _, errors = _load_all(path, make_settings(tmp_path))
    assert len(errors) == 1 and "50.0 MB is over the 20 MB limit" in errors[0]
    assert "MAX_FILE_MB" in errors[0]


def test_a_json_file_over_the_size_cap_counts_as_the_one_item_that_refuses_it(
    tmp_path: Path,
) -> None:
    """The progress bar's count of an over-cap JSON array is its one refusal, not its records."""
    path = tmp_path / "feed.json"
    record = {"title": "Ferry schedule", "text": "The harbor board approved it. " * 40}
    path.write_text(json.dumps([record] * 3))
    settings = make_settings(tmp_path, max_file_mb=0.001)
    items = list(expand([str(path)], settings.ingest))
    assert len(items) == 1 and count_items([str(path)], settings.ingest) == 1
    with pytest.raises(LoadError, match="MAX_FILE_MB"):
        items[0].load()


def test_a_json_lines_pipe_nobody_writes_to_fails_at_the_input_time_limit(
    tmp_path: Path,
) -> None:
    """A named `.jsonl` pipe with no writer is skipped at INPUT_TIMEOUT, not waited on."""
    path = tmp_path / "feed.jsonl"
    os.mkfifo(path)
    items = list(expand([str(path)], make_settings(tmp_path, input_timeout=0.5).ingest))
    assert len(items) == 1
    with pytest.raises(LoadError, match="INPUT_TIMEOUT"):
        items[0].load()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://172.16.0.5/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url: str) -> None:
    """Cloud metadata endpoints and intranet hosts are not fetched unless allowed."""
    with pytest.raises(LoadError, match="ALLOW_PRIVATE_URLS"):
        check_url(url, Settings(_env_file=None).ingest)
    check_url(url, Settings(_env_file=None, allow_private_urls=True).ingest)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a", "gopher://x/"])
def test_other_schemes_are_refused(url: str) -> None:
    """Only http(s) is fetched, whatever the settings."""
    with pytest.raises(LoadError, match="only http"):
        check_url(url, Settings(_env_file=None, allow_private_urls=True).ingest)


def test_a_redirect_to_a_private_address_is_refused() -> None:
    """A public first hop that redirects to an internal address is stopped at the redirect."""
    requested: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        requested.append(request.headers["Host"] + request.url.path)
        return httpx.Response(302, headers={"Location": "http://127.0.0.1:8080/admin"})

    def resolve(host: str, port: int, **kwargs: object) -> list:
        if host == "news.example":  # the first hop resolves to a public address
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
        return socket.getaddrinfo(host, port, **kwargs)  # type: ignore[arg-type]

    with pytest.raises(LoadError, match=r"127\.0\.0\.1.*ALLOW_PRIVATE_URLS"):
        fetch_url(
            "http://news.example/story",
            Settings(_env_file=None).ingest,
            resolve=resolve,
            transport=httpx.MockTransport(respond),
        )
    assert requested == ["news.example/story"]  # the internal URL was never requested
