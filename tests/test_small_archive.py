"""A small archive of local news (tests/local_news): what it answers and what it declines.

Issue 9, point 13: on a handful of articles, IDF says little, and the relevance floor
quoted a near miss ("the terminal cost $48 million") for a question about something the
archive does not hold (a bridge). These questions are near misses of that kind, written
for these articles; the answerable ones must still be answered, with the answer in the lead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.answer.compose import answer_question
from core.search.query import parse_query
from core.search.searcher import Searcher
from core.settings import Settings
from tests.conftest import make_settings
from tests.helpers import ingest_paths, searcher_for

ARCHIVE = Path(__file__).parent / "local_news"

NEAR_MISSES = [
    "how much did the new bridge cost?",
    "will it rain in the north bay tomorrow?",
    "how much will electricity bills rise?",
    "who won the mayoral election?",
    "when will the new swimming pool open?",
    "how many teachers went on strike?",
    "how much does a bus ticket cost?",
    "how many homes burned in the wildfire?",
    "how much will gas prices rise?",
]

# (question, words the lead must hold)
ANSWERABLE = [
    ("how much did the ferry terminal cost?", "$48 million"),
    ("how much will water bills rise?", "8 percent"),
    ("when will the main library reopen?", "May 15"),
    ("how much will downtown parking cost?", "$2 an hour"),
    ("how many jobs will the school district cut?", "40 positions"),
    ("Which airline cancelled the most flights?", "Coastal Skyways"),
    ("How many homes lost power?", "38,000"),
    ("What is the new vaccine called?", "Respira"),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The local-news articles ingested once into a store of their own."""
    settings = make_settings(tmp_path_factory.mktemp("local-news"))
    report = ingest_paths(settings, ARCHIVE)
    assert report.added == len(list(ARCHIVE.glob("*.md")))
    return settings


@pytest.fixture(scope="module")
def searcher(archive: Settings) -> Iterator[Searcher]:
    """One reader over that store for the module's questions, closed after them."""
    reader = searcher_for(archive)
    yield reader
    reader.close()


@pytest.mark.parametrize("question", NEAR_MISSES)
def test_near_misses_are_declined(searcher: Searcher, question: str) -> None:
    """A question about something the archive does not hold gets "nothing relevant"."""
    answer = answer_question(question, searcher)
    assert not answer.found, f"quoted {answer.lead!r}"


@pytest.mark.parametrize(("question", "expected"), ANSWERABLE)
def test_answerable_questions_are_answered_verbatim(
    searcher: Searcher, question: str, expected: str
) -> None:
    """A question the archive answers is answered, with a lead quoted verbatim."""
    answer = answer_question(question, searcher)
    assert answer.found and answer.lead is not None and answer.lead_passage is not None
    assert answer.lead in answer.lead_passage.text


def test_most_leads_hold_the_answer(searcher: Searcher) -> None:
    """The lead holds the answer for at least 5 of the 8 answerable questions.

    Not all: the learned ranker favours an article's opening sentence, and these short
    articles open with context (main's hand-tuned lead got 7 of 8 here; see
    docs/benchmarks.md, "The lead").
    """
    leads = [answer_question(q, searcher).lead or "" for q, _ in ANSWERABLE]
    held = [expected in lead for (_, expected), lead in zip(ANSWERABLE, leads, strict=True)]
    assert sum(held) >= 5, list(zip(ANSWERABLE, leads, strict=True))


def test_a_corrected_article_keeps_its_words_as_rare_as_they_were(tmp_path: Path) -> None:
    """An article corrected three times: its name for the vaccine stays as rare to the
    relevance floor as before (replaced versions of the article no longer count), and the
    question is still answered from it."""
    folder = tmp_path / "news"
    folder.mkdir()
    for name in ("vaccine.md", "flights.md", "library.md", "water-rates.md"):
        shutil.copy(ARCHIVE / name, folder)
    settings = make_settings(tmp_path)
    ingest_paths(settings, folder)
    article = folder / "vaccine.md"
    rarity = []
    for n in range(4):
        reader = searcher_for(settings)
        try:
            rarity.append(reader.idf("respira"))
            answer = answer_question("What is the new vaccine called?", reader)
        finally:
            reader.close()
        assert answer.found and "Respira" in (answer.lead or ""), f"after {n} corrections"
        text = article.read_text(encoding="utf-8")
        article.write_text(text + f"\nCorrection {n + 1}: a date was misstated.\n", "utf-8")
        assert ingest_paths(settings, folder).updated == 1
    assert rarity == [rarity[0]] * 4, rarity


def test_one_answer_reads_the_rarity_of_its_words_from_the_index(searcher: Searcher) -> None:
    """The rarity the relevance floor and the lead give each word during one answer (read
    once per word) is the index's own, word for word."""
    ranked = searcher.search(parse_query("What is the new vaccine called?"), k=10)
    for term in [*ranked.query_terms, "respira", "harbor", "zzzunheard"]:
        assert ranked.idf(term) == searcher.idf(term) == ranked.idf(term)
