"""The lead: what a question asks for, the candidates a sentence offers, the marked answer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ask.__main__ import answer_json, render_text
from bot.render import render_answer
from core.answer.candidates import LEXICAL, build_pool, not_a_sentence
from core.answer.kinds import AnswerKind, SpanKind, answer_kind, candidates, matching
from core.answer.lead import MODEL_PATH, choose_lead, load_model
from core.encode.embeddings import Embedder
from core.language.lexical import tokenize
from core.language.text import split_sentences
from core.models import Answer, Passage


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which airline cancelled the most flights?", AnswerKind.ORG),
        ("How many homes lost power?", AnswerKind.NUMBER),
        ("What is the new vaccine called?", AnswerKind.NAME),
        ("who was the mayor's chief of staff?", AnswerKind.PERSON),
        ("When did the ferry start running?", AnswerKind.DATE),
        ("Where did the windstorm hit hardest?", AnswerKind.PLACE),
        ("In which county did the wildfires start?", AnswerKind.PLACE),
        ("Did the council approve paid parking?", AnswerKind.YES_NO),
        ("What did the board decide?", AnswerKind.OTHER),
        ("ferry terminal location", AnswerKind.PLACE),
        ("Crews found what may be rot. How many weeks will the bridge be shut?", AnswerKind.NUMBER),
        ("Why did the town cancel its fireworks this year?", AnswerKind.OTHER),
        ("What was the magnitude of the quake?", AnswerKind.NUMBER),
        ("Which head of state resigned?", AnswerKind.PERSON),
        ("The mayor named a new chief, who came from which city?", AnswerKind.PLACE),
    ],
)
def test_question_kinds(question: str, kind: AnswerKind) -> None:
    """The wh-word and the noun after "which"/"what" say what kind of answer is wanted."""
    assert answer_kind(question) == kind


def test_candidates_of_a_sentence() -> None:
    """Numbers, dates, names and quoted titles are found with their exact offsets."""
    sentence = (
        "On June 17, 2022, Coastal Skyways cancelled 1,900 flights, or 12% of its "
        "schedule, said spokesperson Lee Harmon; the show “Night Shift” was delayed."
    )
    found = candidates(sentence)
    assert all(sentence[c.start : c.end] == c.text for c in found)
    by_kind = {(c.kind, c.text) for c in found}
    assert (SpanKind.DATE, "June 17, 2022") in by_kind
    assert (SpanKind.NAME, "Coastal Skyways") in by_kind
    assert (SpanKind.NUMBER, "1,900") in by_kind
    assert (SpanKind.NUMBER, "12%") in by_kind
    assert (SpanKind.TITLE, "Night Shift") in by_kind
    assert not any(c.kind == SpanKind.NUMBER and "2022" in c.text for c in found)


def test_candidates_the_question_names_do_not_count() -> None:
    """A sentence that only repeats the question's own names offers no answer."""
    question = "Which airline did Lee Harmon praise?"
    terms = set(tokenize(question))
    kind = answer_kind(question)
    assert matching(kind, candidates("Lee Harmon praised the crews at dawn."), terms) == []
    offered = matching(kind, candidates("Lee Harmon praised Coastal Skyways."), terms)
    assert [c.text for c in offered] == ["Coastal Skyways"]


def _storm_chunk(text: str, index: int = 0) -> Passage:
    """Chunk `index` of one article about a storm, ranked lower the later it comes."""
    return Passage(
        doc_id="storm",
        title="Storm grounds flights",
        source="Harbor Gazette",
        published_at="2026-03-03",
        url=None,
        path=None,
        chunk_index=index,
        chunk_indices=[index],
        text=text,
        score=1.0 - index / 10,
    )


def test_a_dateline_is_not_the_lede() -> None:
    """The first line of an article ("Seattle Harbor Gazette —") is not a candidate lead:
    the sentence after it is the one marked as the article's first."""
    text = (
        "Seattle Harbor Gazette —\n\nCoastal Skyways cancelled 1,900 flights on Friday.\n\n"
        "Crews worked through the night to clear the runways."
    )
    passage = _storm_chunk(text)
    question = "Which airline cancelled flights?"
    pool = build_pool(question, tokenize(question), [passage], lambda term: 1.0)
    first = pool.sentences[0]
    assert first.span.text == "Coastal Skyways cancelled 1,900 flights on Friday."
    assert pool.features[0, LEXICAL.index("article_lede")] == 1.0


@pytest.mark.parametrize(
    "furniture",
    [
        "March 3, 2026 Updated March 4, 2026, 9:15 a.m. ET",
        "Updated March 4, 2026, 9:15 a.m. ET",
        "10:36 pm ET March 3, 2026 Share this update",
        "Dana Whitfield and Rowan Ellery, Harbor Gazette",
    ],
)
def test_a_timestamp_or_byline_is_never_the_lead(furniture: str, embedder: Embedder) -> None:
    """A store built before the ingest cleaning still answers with a sentence, never with
    the page's "Updated …" line or byline; the first sentence counts as the article's lede."""
    text = f"{furniture}\n\nCoastal Skyways cancelled 1,900 flights on Friday."
    question = "When did Coastal Skyways cancel flights?"
    pool = build_pool(question, tokenize(question), [_storm_chunk(text)], lambda term: 1.0)
    assert [s.span.text for s in pool.sentences] == [
        "Coastal Skyways cancelled 1,900 flights on Friday."
    ]
    assert pool.features[0, LEXICAL.index("article_lede")] == 1.0
    lead = choose_lead(
        question,
        tokenize(question),
        embedder.encode_query(question),
        [_storm_chunk(text)],
        lambda term: 1.0,
        embedder,
    )
    assert lead.text == "Coastal Skyways cancelled 1,900 flights on Friday."


def test_a_live_blog_header_is_cut_from_the_sentence_after_it() -> None:
    """A live-blog entry's header glued to its first sentence is not part of the lead."""
    text = (
        "10:36 pm ET March 3, 2026 Share this update Crowds fill the pier for the reopening "
        "Dana Whitfield PORTLAND, Maine — When the gates opened, the line stretched two blocks."
    )
    assert [s.text for s in split_sentences(text)] == [
        "10:36 pm ET March 3, 2026 Share this update",
        "Crowds fill the pier for the reopening Dana Whitfield",
        "PORTLAND, Maine — When the gates opened, the line stretched two blocks.",
    ]
    question = "How long was the line when the pier gates opened?"
    pool = build_pool(question, tokenize(question), [_storm_chunk(text)], lambda term: 1.0)
    assert pool.sentences[0].span.text.startswith("PORTLAND, Maine — When the gates opened")


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "AI-assisted summary Coastal Skyways cancelled 1,900 flights on Friday.",
            ["AI-assisted summary", "Coastal Skyways cancelled 1,900 flights on Friday."],
        ),
        (
            "Summary: Crews worked through the night.\nSummary judgment came on Monday.",
            ["Summary:", "Crews worked through the night.", "Summary judgment came on Monday."],
        ),
        (
            "The airport reopened. Career highlights: she ran it for a decade.",
            ["The airport reopened.", "Career highlights: she ran it for a decade."],
        ),
    ],
)
def test_a_section_label_opening_a_line_is_cut_from_its_sentence(
    text: str, sentences: list[str]
) -> None:
    """A label a page prints before a line's first sentence is a span of its own (never
    a lead: no verb); inside a line, or without its colon, the words stay in the sentence."""
    assert [s.text for s in split_sentences(text)] == sentences
    question = "How many flights did Coastal Skyways cancel?"
    pool = build_pool(question, tokenize(question), [_storm_chunk(text)], lambda term: 1.0)
    assert all(not s.span.text.startswith(("AI-assisted", "Summary:")) for s in pool.sentences)


@pytest.mark.parametrize(
    "sentence",
    [
        "WILMINGTON, Del. (AP) — Coastal Skyways cancelled 1,900 flights on Friday.",
        "TAMPA, Fla. (USA TODAY) — Crews cleared the runways overnight.",
        "At 10 p.m. Coastal Skyways cancelled the last flight.",
        "June 5, 2026 was the wettest day on record, the Harbor Gazette said.",
        "Storm weakens and moves out to sea",
        "By Tuesday, crews had cleared the runways.",
        "NEW YORK – Coastal Skyways cancelled 1,900 flights on Friday.",
        "ASHEVILLE, N.C. — Crews cleared the runways of the regional airport.",
    ],
)
def test_a_sentence_that_starts_with_a_time_or_a_place_stays_whole(sentence: str) -> None:
    """Times, dates and datelines in the story are not headers: the sentence is one candidate."""
    assert [s.text for s in split_sentences(sentence)] == [sentence]
    assert not not_a_sentence(sentence)


@pytest.mark.parametrize(
    "text, sentences",
    [
        (
            "KATHMANDU (Reuters) - Prime Minister K.P. Sharma Oli resigned on Tuesday.",
            ["KATHMANDU (Reuters) - Prime Minister K.P. Sharma Oli resigned on Tuesday."],
        ),
        (
            "Vice President J.D. Vance visited the airport. Crews cleared the runways.",
            ["Vice President J.D. Vance visited the airport.", "Crews cleared the runways."],
        ),
        (
            "The flights left Washington, D.C. Crews cleared the runways.",
            ["The flights left Washington, D.C.", "Crews cleared the runways."],
        ),
        (
            "He met George W. Bush in 2004. Then he left.",
            ["He met George W. Bush in 2004.", "Then he left."],
        ),
        (
            "The aqueduct was built around 140 A.D. It still carries water.",
            ["The aqueduct was built around 140 A.D.", "It still carries water."],
        ),
    ],
)
def test_a_persons_initials_do_not_end_the_sentence(text: str, sentences: list[str]) -> None:
    """ "K.P. Sharma Oli" is one name: the lead quoted "… Prime Minister K.P." before. The
    dotted abbreviation of a US place or an era still ends a sentence."""
    assert [s.text for s in split_sentences(text)] == sentences


def test_a_call_to_action_is_never_a_candidate() -> None:
    """A store built before the cleaning keeps "Sign up here …" and its pitch ("… in your
    inbox.") in its chunks: they are the page's sentences, and the lead never quotes them."""
    text = (
        "Coastal Skyways cancelled 1,900 flights on Friday after the storm. "
        "Get the Coastal Skyways flights newsletter in your inbox. "
        "Sign up here for the Coastal Skyways storm newsletter on flights."
    )
    question = "How many flights did Coastal Skyways cancel?"
    pool = build_pool(question, tokenize(question), [_storm_chunk(text)], lambda term: 1.0)
    assert [s.span.text for s in pool.sentences] == [
        "Coastal Skyways cancelled 1,900 flights on Friday after the storm."
    ]


def test_a_quote_to_the_reader_about_alerts_is_a_candidate() -> None:
    """Talking to "you" about alerts makes a pitch only before a call to action: the
    sheriff's words are the story."""
    quote = '"If you get an alert on your phone, leave now," the sheriff told residents.'
    text = f"Coastal Skyways cancelled 1,900 flights on Friday after the storm. {quote}"
    question = "What did the sheriff tell residents to do after an alert?"
    pool = build_pool(question, tokenize(question), [_storm_chunk(text)], lambda term: 1.0)
    assert quote in [s.span.text for s in pool.sentences]


class _Recording:
    """The real model, noting every text it is asked to embed."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return self.embedder.encode(texts)


def test_a_sentence_two_overlapping_chunks_share_is_embedded_once(embedder: Embedder) -> None:
    """Adjacent chunks overlap: the sentence they share is embedded once per question."""
    shared = "Coastal Skyways cancelled 1,900 flights on Friday after the storm."
    texts = [
        f"The storm reached the coast on Thursday night with strong winds. {shared}",
        f"{shared} Crews worked through the night to clear the runways at the airport.",
    ]
    passages = [_storm_chunk(text, index) for index, text in enumerate(texts)]
    question = "Which airline cancelled flights after the storm?"
    recording = _Recording(embedder)
    lead = choose_lead(
        question,
        tokenize(question),
        embedder.encode_query(question),
        passages,
        lambda term: 1.0,
        recording,
    )
    assert recording.texts.count(shared) == 1
    assert len(recording.texts) == len(set(recording.texts)) == 3
    assert lead.text == shared


def test_the_shipped_ranker_says_where_it_comes_from() -> None:
    """The fitted model carries its provenance: data, commit, date, folds, held-out figures."""
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    provenance = data["provenance"]
    assert {"trained", "commit", "data", "folds", "held_out"} <= set(provenance)
    assert len(provenance["data"]) == 3
    assert all(len(d["questions_sha256"]) == 64 for d in provenance["data"].values())
    model = load_model()
    assert len(model.lexical.weights) == len(model.lexical.features)


def _answer(lead: str, span: tuple[int, int] | None) -> Answer:
    passage = Passage(
        doc_id="vaccine",
        title="County clinics to offer new shot",
        source="Harbor Gazette",
        published_at="2026-03-03",
        url="https://example.com/vaccine",
        path=None,
        chunk_index=0,
        chunk_indices=[0],
        text=f"Regulators approved a new vaccine on Tuesday. {lead}",
        score=1.0,
    )
    return Answer(
        "What is the new vaccine called?", lead, passage, [passage], [passage], [], None, span
    )


LEAD = "The new vaccine, called Respira, is given in a single dose."


def test_slack_bolds_the_marked_answer_and_quotes_the_rest_verbatim() -> None:
    """In Slack the answer span is bold inside the quoted lead; the words are unchanged."""
    start = LEAD.index("Respira")
    message = render_answer(_answer(LEAD, (start, start + len("Respira"))), "a1")
    lead_block = message.blocks[0]["text"]["text"]
    assert "*Respira*" in lead_block
    assert lead_block.replace("*", "").startswith(f">“{LEAD}”")


def test_without_a_marked_answer_slack_bolds_the_question_words() -> None:
    """No confident answer: the lead is emphasised as before (the question's words)."""
    message = render_answer(_answer(LEAD, None), "a1")
    lead_block = message.blocks[0]["text"]["text"]
    assert "*vaccine*" in lead_block and "*Respira*" not in lead_block


def test_terminal_and_json_show_the_marked_answer() -> None:
    """`ask` marks the span in bold on a terminal and gives its offsets in --json."""
    start = LEAD.index("Respira")
    answer = _answer(LEAD, (start, start + len("Respira")))
    assert "\033[1mRespira\033[0m" in render_text(answer, bold=True)
    assert "\033[1m" not in render_text(answer)
    assert answer_json(answer)["answer_span"] == [start, start + len("Respira")]
