"""Ranking and answers on the in-memory engine (`core.search.memory`): the searcher's policy
(fusion, date windows, one passage per article) and `answer_question`, in milliseconds.

The real engine (Chroma + tantivy) is tested in test_search_index.py and the others; here the
seam is proved: the same `Searcher` and the same answers over another `SearchIndex`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.answer.compose import answer_question
from core.encode.embeddings import Embedder
from core.errors import NewsroomError
from core.models import Article, Chunk
from core.search.memory import MemoryIndex
from core.search.query import parse_query
from core.search.searcher import Searcher
from core.service import ENGINES, Engine, open_engine, open_searcher
from core.settings import Settings
from tests.conftest import make_settings

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)

FERRY = Article(
    "ferry",
    "Ferry terminal opens on the waterfront",
    "The new ferry terminal on the waterfront opened on Monday. It cost $48 million to "
    "build, paid for by a state grant and a bond approved by voters.\n\n"
    "Boats leave for the islands every half hour. The ferry operator expects 3,000 "
    "riders a day by summer.",
    source="Harbor Gazette",
    published_at="2026-03-09",
    url="https://gazette.example/ferry",
)
FERRY_OLD = Article(
    "ferry-old",
    "Ferry terminal plans approved",
    "The council approved plans for a ferry terminal on the waterfront. The ferry terminal "
    "is expected to cost $40 million and to open in two years.",
    source="Harbor Gazette",
    published_at="2024-01-15",
    url="https://gazette.example/ferry-plans",
)
LIBRARY = Article(
    "library",
    "Main library to reopen after repairs",
    "The main library will reopen on May 15 after a year of repairs to its roof.\n\n"
    "The library's reading room was rebuilt. Librarians will hold a reopening party "
    "with readings for children.\n\n"
    "The library's roof repairs cost $3 million, the city said.",
    source="Valley Times",
    published_at="2026-02-01",
    url="https://times.example/library",
)
WATER = Article(
    "water",
    "Water bills to rise",
    "Water bills will rise 8 percent next year to pay for new pipes, the utility said.",
    source="Valley Times",
    published_at=None,
)


def _chunks(article: Article) -> list[Chunk]:
    """One chunk per paragraph, with its offsets in the text."""
    out, start = [], 0
    for index, part in enumerate(article.text.split("\n\n")):
        begin = article.text.index(part, start)
        out.append(Chunk(article.doc_id, index, begin, begin + len(part), part))
        start = begin + len(part)
    return out


@pytest.fixture(scope="module")
def searcher(embedder: Embedder) -> Searcher:
    """The four articles above, in an in-memory engine, ranked by the real encoder."""
    index = MemoryIndex()
    for article in (FERRY, FERRY_OLD, LIBRARY, WATER):
        chunks = _chunks(article)
        index.add_article(article, chunks, embedder.encode([c.text for c in chunks]))
    return Searcher(index, embedder)


def _doc_ids(searcher: Searcher, question: str, k: int = 10, asked: bool = True) -> list[str]:
    """The articles of the passages found, asked at NOW (`asked`: later ones left out) or
    today."""
    query = parse_query(question, NOW if asked else None)
    return [p.doc_id for p in searcher.search(query, k).passages]


def test_the_article_about_the_question_comes_first(searcher: Searcher) -> None:
    """A question about the library is answered from the library article, not the others."""
    assert _doc_ids(searcher, "when will the main library reopen?")[0] == "library"


def test_one_passage_per_article_before_a_second_one(searcher: Searcher) -> None:
    """Each article shows its best passage once before any article shows a second."""
    ids = _doc_ids(searcher, "library roof repairs", k=3)
    assert len(ids) == 3 and len(set(ids)) == 3


def test_more_passages_of_an_article_fill_in_when_few_articles_match(
    searcher: Searcher,
) -> None:
    """Asked for more passages than articles, an article gives its next passages too,
    never the same chunk twice."""
    ranked = searcher.search(parse_query("library", NOW), k=20).passages
    assert len(ranked) > len({p.doc_id for p in ranked})
    seen = [(p.doc_id, i) for p in ranked for i in p.chunk_indices]
    assert len(seen) == len(set(seen))


def test_this_week_prefers_the_recent_article(searcher: Searcher) -> None:
    """ "This week" puts the article published inside the week before an older one."""
    ids = _doc_ids(searcher, "ferry terminal cost this week")
    assert ids.index("ferry") < ids.index("ferry-old")


@pytest.mark.parametrize(
    "question, window",
    [
        ("what did the ferry terminal cost this week?", True),
        ("This week, what did the ferry terminal cost?", True),
        ("Today: what did the ferry terminal cost?", True),
        ("what did USA Today report about the ferry terminal?", False),
        ("what did the ferry operator say on the Today show?", False),
        ("what did the mayor tell ABC's This Week about the ferry?", False),
    ],
)
def test_a_relative_phrase_inside_a_name_sets_no_window(question: str, window: bool) -> None:
    """ "USA Today" or the "This Week" programme name something; only the phrase as words
    of time prefers recent articles (and gives the "nothing that recent" note)."""
    assert (parse_query(question, NOW).soft_since is not None) is window


def test_hard_date_filters_leave_articles_out(searcher: Searcher) -> None:
    """`before:` and `since:` leave out what lies outside them; `before:` the undated too."""
    assert set(_doc_ids(searcher, "ferry terminal before:2025-01-01")) == {"ferry-old"}
    assert "ferry-old" not in _doc_ids(searcher, "ferry terminal since:2025-01-01")
    assert "water" not in _doc_ids(searcher, "water bills before:2030-01-01", asked=False)
    assert "water" in _doc_ids(searcher, "water bills", asked=False)


def test_an_outlet_filter_keeps_that_outlet(searcher: Searcher) -> None:
    """`source:` keeps the named outlet's articles, by name or by host."""
    assert set(_doc_ids(searcher, 'repairs source:"Valley Times"')) <= {"library", "water"}
    assert set(_doc_ids(searcher, "terminal source:gazette.example")) <= {"ferry", "ferry-old"}


def test_an_answer_leads_with_the_sentence_that_answers(searcher: Searcher) -> None:
    """The lead is the sentence with the answer, quoted from the right article."""
    answer = answer_question("how much did the new ferry terminal cost?", searcher, now=NOW)
    assert answer.lead_passage is not None and answer.lead_passage.doc_id == "ferry"
    assert answer.lead is not None and "$48 million" in answer.lead
    assert answer.passages[0].doc_id == "ferry"
    assert answer.summary is not None and answer.summary.articles == 4


def test_recent_news_asked_and_only_older_found_says_so(searcher: Searcher) -> None:
    """ "This week" with nothing that recent among the passages: a note gives the newest
    date shown, so nobody reads a year-old quote as this week's news."""
    asked = "when will the main library reopen this week?"
    answer = answer_question(asked, searcher, now=NOW)
    assert answer.passages and answer.passages[0].doc_id == "library"
    assert answer.notes == [
        "Nothing published since 3 Mar 2026 matched; the newest passage below is from 1 Feb 2026."
    ]
    assert answer.lead is not None and "May 15" in answer.lead  # still answered
    recent = answer_question("how much did the ferry terminal cost this week?", searcher, now=NOW)
    assert recent.passages[0].doc_id == "ferry"
    assert not [n for n in recent.notes if n.startswith("Nothing published")]
    plain = answer_question("when will the main library reopen?", searcher, now=NOW)
    assert not [n for n in plain.notes if n.startswith("Nothing published")]
    # Published on the window's first day (dated to the day), asked at noon a week later.
    first_day = answer_question(
        "how much did the ferry terminal cost this week?",
        searcher,
        now=datetime(2026, 3, 16, 12, tzinfo=UTC),
    )
    assert first_day.passages[0].doc_id == "ferry"
    assert not [n for n in first_day.notes if n.startswith("Nothing published")]


def test_a_question_the_archive_cannot_answer_gets_nothing(searcher: Searcher) -> None:
    """A question about something no article covers gets no lead and no passages, and
    the archive's summary for the reply."""
    answer = answer_question("who won the basketball championship?", searcher, now=NOW)
    assert answer.lead is None and answer.passages == []
    assert answer.summary is not None and answer.summary.oldest == "2024-01-15"


def test_an_unknown_search_engine_is_named_in_one_line(tmp_path: Path) -> None:
    """SEARCH_ENGINE set to no engine says which ones there are, before loading anything."""
    with pytest.raises(NewsroomError) as caught:
        open_engine(make_settings(tmp_path, search_engine="elastic"))
    assert str(caught.value) == (
        "SEARCH_ENGINE='elastic' is not a search engine: set it to one of hybrid."
    )


def test_the_engine_named_by_the_setting_answers(tmp_path: Path, embedder: Embedder) -> None:
    """An engine registered under a name is the one `SEARCH_ENGINE` picks, given only its
    sections of the settings."""
    seen = []

    def memory(settings: Settings, _embedder: Embedder) -> Engine:
        seen.append(settings.index)
        index = MemoryIndex()
        chunks = _chunks(LIBRARY)
        index.add_article(LIBRARY, chunks, embedder.encode([c.text for c in chunks]))
        return Engine(index)

    ENGINES["memory"] = memory
    try:
        searcher = open_searcher(make_settings(tmp_path, search_engine=" Memory "))
    finally:
        del ENGINES["memory"]
    assert seen[0].engine == "memory" and searcher.archive is None
    answer = answer_question("when will the main library reopen?", searcher, now=NOW)
    assert answer.lead is not None and "May 15" in answer.lead
