"""An article's content hash: computed once per article, and never stale."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from core.models import Article
from core.settings import Settings
from tests.helpers import ingest_paths

STORY = "The harbour authority approved the new ferry timetable after a long debate. " * 40


def _fresh(article: Article) -> str:
    """The hash of a new article with the same fields (nothing cached)."""
    return Article(
        article.doc_id,
        article.title,
        article.text,
        article.source,
        list(article.authors),
        article.published_at,
        article.url,
        article.path,
        article.modified_at,
    ).content_hash


def test_the_hash_follows_every_change_to_the_article() -> None:
    """An article changed after it was first hashed is stored as changed, never as before."""
    article = Article("d1", "Ferry timetable", STORY, "Harbour News", ["A. Writer"], "2024-05-01")
    first = article.content_hash
    assert first == article.content_hash == _fresh(article)
    article.modified_at = "2024-05-02"  # what `ingest follow` does when the feed says so
    assert article.content_hash != first and article.content_hash == _fresh(article)
    article.authors.append("B. Writer")  # changed in place
    assert article.content_hash == _fresh(article)
    article.text = STORY + "Correction: the timetable starts in June."
    assert article.content_hash == _fresh(article)
    assert Article("d1", "x", "y") == Article("d1", "x", "y")  # the cache is not compared
    hashed = Article("d1", "x", "y")
    hashed.content_hash  # noqa: B018
    assert hashed == Article("d1", "x", "y") and "_hashed" not in repr(hashed)


@contextmanager
def _hashes_of_articles() -> Iterator[list[int]]:
    """Count sha256 digests begun from `core/models.py` (observed, nothing replaced)."""
    count = [0]
    sha256 = hashlib.sha256

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if (
            event == "c_call"
            and arg is sha256
            and frame.f_code.co_filename.endswith(str(Path("core", "models.py")))
        ):
            count[0] += 1

    sys.setprofile(profile)
    try:
        yield count
    finally:
        sys.setprofile(None)


def test_an_article_is_hashed_once_per_ingest(tmp_path: Path, settings: Settings) -> None:
    """Ingest does not read an article's whole text again each time it asks for its hash."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        (folder / f"story{n}.txt").write_text(f"Story {n}\n\n{n} {STORY}", encoding="utf-8")
    with _hashes_of_articles() as count:
        report = ingest_paths(settings, folder)
    assert report.added == 3
    assert count[0] == 3
