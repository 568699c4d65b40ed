"""One byline, one excerpter and one set of question terms for every surface (Slack, the
terminal, the written answer's prompt)."""

from __future__ import annotations

from dataclasses import replace

from ask.__main__ import render_text
from bot.render import render_answer
from core.answer.compose import answer_question
from core.answer.shown import excerpt_of, nearest_sentences, passage_byline
from core.language.lexical import tokenize
from core.models import Answer, Passage
from core.search.searcher import Searcher
from core.service import open_searcher
from core.settings import Settings
from core.written.prompt import build_messages, sources_from_passages


def _passage(text: str, **fields: object) -> Passage:
    passage = Passage(
        "d0", "Board approves bridge", "Gazette", "2023-05-04", None, None, 0, [0], text, 1.0
    )
    return replace(passage, **fields)


def _sections(answer: Answer) -> str:
    message = render_answer(answer, "id1")
    return "\n".join(b["text"]["text"] for b in message.blocks if b.get("type") == "section")


def test_slack_bolds_the_words_the_search_used_not_words_it_derives_again() -> None:
    """The words in bold in Slack are the ones the answer was searched with."""
    passage = _passage("The board approved the bridge and the tunnel on Monday.")
    answer = Answer("bridge and tunnel", passage.text, passage, [passage], [passage])
    searched = replace(answer, query_terms=("tunnel",))
    assert "*tunnel*" in _sections(searched) and "*bridge*" not in _sections(searched)
    # An answer built by hand (no terms passed) is read with the same one tokenizer.
    assert "*bridge*" in _sections(answer) and "*tunnel*" in _sections(answer)


def test_an_answer_carries_its_question_terms(seeded: Settings) -> None:
    """The answer hands the surfaces the search's own terms for the question."""
    searcher: Searcher = open_searcher(seeded)
    try:
        answer = answer_question("Who was Salvador Cienfuegos?", searcher)
    finally:
        searcher.close()
    assert answer.query_terms == tuple(tokenize(answer.question))


def test_every_surface_names_a_passage_with_the_same_parts() -> None:
    """Slack, the terminal and the prompt name a corrected article by one byline."""
    passage = _passage("The board approved the bridge.", modified_at="2023-11-12T09:30:00")
    assert passage_byline(passage) == "Board approves bridge, Gazette, 4 May 2023, updated 12 Nov"
    assert passage_byline(passage, iso=True) == (
        "Board approves bridge, Gazette, 2023-05-04, updated 2023-11-12"
    )
    answer = Answer("bridge?", passage.text, passage, [passage], [passage])
    assert "— Board approves bridge, Gazette, 2023-05-04, updated 2023-11-12" in render_text(answer)
    prompt = build_messages("bridge?", sources_from_passages([passage], "bridge?"))[-1].content
    assert "[1] “Board approves bridge” — Gazette — 4 May 2023\n" in str(prompt)


def test_both_excerpts_pick_the_sentence_with_the_question_words() -> None:
    """Chat's excerpt and the prompt's both keep the sentence that holds the question's words."""
    filler = " ".join(f"Sentence number {i} is filler text about nothing." for i in range(40))
    text = f"{filler} The mayor opened the footbridge in spring. {filler}"
    terms = set(tokenize("when did the mayor open the footbridge?"))
    assert "The mayor opened the footbridge in spring." in excerpt_of(text, terms, budget=300)
    assert "The mayor opened the footbridge in spring." in nearest_sentences(text, terms, 300)
