"""`ingest` end to end: folders, JSON Lines, stdin, URLs; idempotence; updates; bad inputs."""

from __future__ import annotations

import io
import json
import logging
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.encode.embeddings import Embedder
from core.errors import ModelMismatchError
from core.models import Article
from core.settings import Settings
from core.store import SWEEP_AFTER_SECONDS, open_store
from ingest.__main__ import main as ingest_main
from ingest.chunking import Budget, split_article
from tests.conftest import SEED_DIR
from tests.documents import make_pdf, news_page
from tests.helpers import Route, ingest_paths, serving

STORY = (
    "The city council approved the new transit budget on Tuesday after a long debate "
    "about bus routes, fares and the future of the downtown light rail line. "
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings):  # noqa: ANN201
    """Run the `ingest` command in a clean folder against the test's store."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # no developer .env is read from here
    monkeypatch.setenv("CHROMA_PATH", str(settings.chroma_path))

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        code = ingest_main(list(args))
        return code, out.getvalue(), err.getvalue()

    return run


def _store(settings: Settings, embedder: Embedder):  # noqa: ANN202
    return open_store(settings.store, embedder.name, embedder.dim)


def _records(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_folder_ingest_then_rerun_changes_nothing(
    cli, tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """A second run over the same articles reports them unchanged and writes nothing."""
    folder = tmp_path / "in"
    shutil.copytree(SEED_DIR, folder)
    (folder / "nested").mkdir()
    (folder / "nested" / "page.html").write_text(
        news_page("Transit budget approved", [STORY * 3]), encoding="utf-8"
    )
    code, out, _ = cli(str(folder), "--quiet")
    assert code == 0
    assert "2 added, 0 updated, 0 unchanged, 0 failed" in out
    head = _store(settings, embedder).head()
    code, out, _ = cli(str(folder), "--quiet")
    assert code == 0
    assert "0 added, 0 updated, 2 unchanged, 0 failed; 0 chunks written" in out
    assert _store(settings, embedder).head() == head  # nothing logged: readers have no work


def test_changed_article_replaces_all_its_old_chunks(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """After an update, only the new version's chunks remain: no stale chunk survives."""
    path = tmp_path / "feed.jsonl"
    _records(path, [{"id": "story-1", "title": "Budget", "text": STORY * 20}])
    assert ingest_paths(settings, path).added == 1
    _records(path, [{"id": "story-1", "title": "Budget (corrected)", "text": STORY * 3}])
    report = ingest_paths(settings, path)
    assert (report.added, report.updated) == (0, 1)
    store = _store(settings, embedder)
    [article] = store.articles()
    chunks = list(store.iter_chunks())
    assert article.title == "Budget (corrected)"
    assert len(chunks) == article.n_chunks
    assert {c.content_hash for c in chunks} == {article.content_hash}


def test_the_sweep_survives_an_article_updated_after_a_reembed(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """A re-embed logs an article's version as both target and replaced, twice; once the
    article is updated by a write the sweep has not passed yet, those records name the old
    version's chunks more than once. The sweep still finishes, and nothing stale is left."""
    path = _records(tmp_path / "feed.jsonl", [{"id": "story-1", "title": "Budget", "text": STORY}])
    assert ingest_paths(settings, path).added == 1
    store = _store(settings, embedder)
    [old] = store.articles()
    hits = sorted(store.chunks_of([old]), key=lambda h: h.index)
    vectors = embedder.encode([h.text for h in hits])
    store.replace_vectors([(old, [h.id for h in hits], vectors)], embedder.name)
    new = Article("story-1", "Budget (corrected)", STORY * 2)
    chunks = split_article(
        new, embedder.count_tokens, embedder.token_offsets, Budget(hard=embedder.content_tokens)
    )
    store.write_articles(
        [(new, chunks, embedder.encode([c.text for c in chunks]))], store.manifest(["story-1"])
    )
    assert store.sweep(now=time.time() + SWEEP_AFTER_SECONDS + 1) == 0
    [article] = store.articles()
    assert {c.content_hash for c in store.iter_chunks()} == {article.content_hash}


def test_bad_inputs_fail_alone_and_good_ones_land(
    cli, tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """Empty files, junk PDF, truncated JSON line, non-UTF-8 page: each named, the rest
    stored."""
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "empty.jsonl").write_bytes(b"\n\n")
    (folder / "junk.pdf").write_bytes(b"\x89\x00\xffnot a pdf at all" * 20)
    (folder / "cut.pdf").write_bytes(make_pdf(["A budget story. " * 5])[:150])
    (folder / "good.pdf").write_bytes(make_pdf(["Council approves the transit budget. " * 3]))
    (folder / "legacy.html").write_bytes(
        news_page(
            "Réforme votée",
            ["Le président a déclaré que la réforme sera votée. " * 4],
            charset="windows-1252",
            url="https://example.fr/r",
        ).encode("cp1252")
    )
    good = {"id": "ok-1", "title": "Fine", "text": STORY}
    (folder / "feed.jsonl").write_text(
        json.dumps(good) + "\n" + '{"id": "cut", "text": "trunc' + "\n", encoding="utf-8"
    )
    code, out, err = cli(str(folder), "--quiet")
    assert code == 1
    assert "3 added, 0 updated, 0 unchanged, 5 failed" in out
    assert "empty.txt: the file is empty" in err and "empty.jsonl: the file is empty" in err
    assert "junk.pdf" in err and "cut.pdf: not a readable PDF" in err
    assert "feed.jsonl line 2: malformed JSON" in err
    store = _store(settings, embedder)
    titles = sorted(a.title for a in store.articles())
    assert titles == [
        "Council approves the transit budget. Council approves the transit "
        "budget. Council approves the transit budget.",
        "Fine",
        "Réforme votée",
    ]
    assert len(list(store.iter_chunks())) == sum(a.n_chunks for a in store.articles())


def test_list_stats_and_delete(cli, settings: Settings, embedder: Embedder) -> None:
    """Operators can see what is stored and remove an article by id, URL or path."""
    cli(str(SEED_DIR), "--quiet")
    code, out, _ = cli("--list")
    assert code == 0 and "seed-us-mexico-security" in out and out.endswith("\n1 article\n")
    code, out, _ = cli("--stats")
    assert "articles:   1" in out and "chunks:" in out
    code, _, err = cli("--delete", "no-such-article")
    assert code == 1 and "no stored article" in err
    code, out, _ = cli("--delete", str(SEED_DIR / "us-mexico-security.md"))
    assert code == 0 and "deleted seed-us-mexico-security" in out
    store = _store(settings, embedder)
    assert store.articles() == [] and list(store.iter_chunks()) == []


def test_stdin_json_lines(cli, settings: Settings, embedder: Embedder) -> None:
    """`ingest -` reads JSON Lines from standard input."""
    lines = json.dumps({"id": "in-1", "title": "From a pipe", "text": STORY}) + "\n"
    code, out, _ = cli("-", "--quiet", stdin=lines)
    assert code == 0 and "1 added" in out
    assert [a.doc_id for a in _store(settings, embedder).articles()] == ["in-1"]


def test_articles_piped_in_turn_are_kept_apart_and_a_repeat_is_unchanged(
    cli, settings: Settings, embedder: Embedder
) -> None:
    """A pipe has no name: two texts piped one after the other are two articles (the second
    used to replace the first), the same text piped again is unchanged, and JSON Lines or a
    JSON array without ids on stdin likewise."""
    council = "Council approves transit budget\n\n" + STORY
    wildfire = "Wildfire grant awarded\n\n" + STORY.replace("harbor", "county")
    assert "1 added" in cli("-", "--quiet", stdin=council)[1]
    assert "1 added" in cli("-", "--quiet", stdin=wildfire)[1]
    assert "0 added, 0 updated, 1 unchanged" in cli("-", "--quiet", stdin=council)[1]
    titles = {a.title for a in _store(settings, embedder).articles()}
    assert titles == {"Council approves transit budget", "Wildfire grant awarded"}

    records = [{"title": f"Record {n}", "text": f"{STORY} Number {n}."} for n in (1, 2, 3)]
    lines = "".join(json.dumps(r) + "\n" for r in records[:2])
    assert "2 added" in cli("-", "--quiet", stdin=lines)[1]
    code, out, _ = cli("-", "--quiet", stdin=json.dumps(records[1:]))
    assert code == 0 and "1 added, 0 updated, 1 unchanged" in out
    assert len(_store(settings, embedder).articles()) == 5


def test_publish_dates_in_other_formats_become_iso_or_are_dropped_with_a_warning(
    tmp_path: Path, settings: Settings, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """Dates written out, day-first, in epoch seconds or milliseconds are stored as ISO 8601,
    so `since:` and the archive's date range can read them; an ISO date is kept as given;
    a value that is no date is dropped with a warning (the article is still ingested)."""
    given = {
        "iso": ("2022-06-17T08:30:00-04:00", "2022-06-17T08:30:00-04:00"),
        "words": ("June 17, 2022", "2022-06-17"),
        "day-first": ("17/06/2022", "2022-06-17"),
        "rfc-2822": ("Fri, 17 Jun 2022 10:00:00 GMT", "2022-06-17T10:00:00+00:00"),
        "us-zone": ("June 17, 2022 10:00 PM EST", "2022-06-17T22:00:00-05:00"),
        "compact": ("202206171030", "2022-06-17T10:30:00"),
        "epoch": (1655424000, "2022-06-17T00:00:00+00:00"),
        "epoch-ms": ("1655424000000", "2022-06-17T00:00:00+00:00"),
        "no-date": ("sometime soon", None),
        "no-year": ("May 5", None),
        "ambiguous": ("05/06/2022", None),
    }
    path = _records(
        tmp_path / "dates.jsonl",
        [
            {"id": key, "text": f"{STORY} Filed as {key}.", "published_at": value}
            for key, (value, _) in given.items()
        ],
    )
    with caplog.at_level(logging.WARNING, logger="ingest.extract"):
        report = ingest_paths(settings, path)
    assert (report.added, report.failed) == (len(given), [])
    stored = {a.doc_id: a.published_at for a in _store(settings, embedder).articles()}
    assert stored == {key: expected for key, (_, expected) in given.items()}
    warnings = [r.getMessage() for r in caplog.records if "stored without one" in r.getMessage()]
    assert len(warnings) == 3 and "dates.jsonl line 9" in warnings[0], warnings
    assert "'sometime soon' is not a date" in warnings[0]
    assert "'May 5' is a date without its year" in warnings[1]
    assert "'05/06/2022' is ambiguous" in warnings[2]


def test_an_id_too_long_to_search_is_refused_and_the_rest_land(
    tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """An id over 4 KB (the search index's term limit is 64 KB: such an article was stored
    but never found) fails its record with a clear reason; the next record lands."""
    path = _records(
        tmp_path / "ids.jsonl",
        [{"id": "X" * 70_000, "text": STORY}, {"id": "fine", "text": STORY + " Again."}],
    )
    report = ingest_paths(settings, path)
    assert report.added == 1 and len(report.failed) == 1
    assert "70,000 bytes long" in report.failed[0][1] and "shorter id" in report.failed[0][1]
    assert [a.doc_id for a in _store(settings, embedder).articles()] == ["fine"]


def test_a_byte_order_mark_does_not_cost_the_first_record(
    cli, tmp_path: Path, settings: Settings, embedder: Embedder
) -> None:
    """Exporters that write UTF-8's byte-order mark first: the first line of a JSON Lines
    file (and of one joined on after it), or of JSON Lines on stdin, is still a record (it
    used to fail as malformed)."""
    first = json.dumps({"id": "bom-1", "title": "First", "text": STORY})
    second = json.dumps({"id": "bom-2", "title": "Second", "text": STORY + " Again."})
    path = tmp_path / "bom.jsonl"  # two exports joined with `cat`: a mark opens each
    path.write_bytes(b"\xef\xbb\xbf" + f"{first}\r\n".encode() + b"\xef\xbb\xbf" + second.encode())
    code, out, err = cli(str(path), "--quiet")
    assert code == 0 and "2 added" in out and "failed: " not in err, err
    piped = "\ufeff" + json.dumps({"id": "bom-3", "title": "Third", "text": STORY + " Once more."})
    code, out, err = cli("-", "--quiet", stdin=piped)
    assert code == 0 and "1 added" in out, err
    ids = {a.doc_id for a in _store(settings, embedder).articles()}
    assert ids == {"bom-1", "bom-2", "bom-3"}


@pytest.fixture
def web() -> Iterator[str]:
    """A local web server with a news page and a redirect to it."""
    pages: dict[str, Route] = {}
    with serving(pages) as base:
        page = news_page("Transit budget approved", [STORY * 3], url=f"{base}/story").encode()
        pages["/story"] = (200, {"Content-Type": "text/html; charset=utf-8"}, page)
        pages["/old"] = (301, {"Location": "/story"}, b"")
        pages["/big"] = (200, {"Content-Type": "text/html"}, b"x" * (2 * 1024 * 1024))
        yield base


def test_url_ingest_follows_redirects_and_caps_size(
    cli, web: str, monkeypatch: pytest.MonkeyPatch, settings: Settings, embedder: Embedder
) -> None:
    """A URL is fetched, extracted and stored under its canonical URL; oversize is refused."""
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "true")
    monkeypatch.setenv("MAX_FILE_MB", "1")
    code, out, err = cli(f"{web}/old", f"{web}/big", f"{web}/nothing", "--quiet")
    assert code == 1 and "1 added" in out
    assert "over the 1 MB limit" in err and "HTTP 404" in err
    [article] = _store(settings, embedder).articles()
    assert article.url == f"{web}/story" and article.published_at == "2022-06-17"


def test_private_addresses_and_other_schemes_are_refused(cli, web: str) -> None:
    """By default loopback URLs and file:// are not fetched, with a way out named."""
    code, _, err = cli(f"{web}/story", "file:///etc/passwd", "--quiet")
    assert code == 1
    assert "ALLOW_PRIVATE_URLS" in err and "only http:// and https://" in err


def test_a_store_built_with_another_model_is_refused(
    settings: Settings, embedder: Embedder
) -> None:
    """Mixing embedding models would return nonsense: refuse and say what to do."""
    ingest_paths(settings, SEED_DIR)
    with pytest.raises(ModelMismatchError, match="EMBEDDING_MODEL=all-MiniLM-L6-v2"):
        open_store(settings.store, "some-other-model", embedder.dim)


def test_server_mode_ingest_is_idempotent(server_settings: Settings, embedder: Embedder) -> None:
    """Against a real `chroma run`, ingest stores the seed once and re-runs change nothing."""
    assert ingest_paths(server_settings, SEED_DIR).added == 1
    again = ingest_paths(server_settings, SEED_DIR)
    assert (again.added, again.unchanged, again.chunks) == (0, 1, 0)
    store = open_store(server_settings.store, embedder.name, embedder.dim)
    assert [a.source for a in store.articles()] == ["Los Angeles Times"]


def test_a_record_repeated_with_new_text_in_one_file_keeps_the_last(
    tmp_path: Path, settings: Settings, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    """Two versions of one id in one export: one article, the later text, no stale chunks,
    and a warning naming the later record, so the counts are not a mystery."""
    path = _records(
        tmp_path / "dupes.jsonl",
        [
            {"id": "same", "title": "First", "text": STORY * 4},
            {"id": "same", "title": "Second", "text": STORY * 2},
        ],
    )
    with caplog.at_level(logging.WARNING, logger="ingest.pipeline"):
        report = ingest_paths(settings, path)
    assert (report.added, report.updated, report.failed) == (1, 0, [])
    [warning] = [r.getMessage() for r in caplog.records if "came earlier" in r.getMessage()]
    assert "dupes.jsonl line 2" in warning and "same" in warning and STORY not in warning
    store = _store(settings, embedder)
    [article] = store.articles()
    assert article.title == "Second"
    assert len(list(store.iter_chunks())) == article.n_chunks
