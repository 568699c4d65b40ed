"""The verifier on its own: what a written sentence must hold to be shown."""

from __future__ import annotations

import pytest

from core.models import WrittenSentence
from core.prompt import build_messages
from core.verify import (
    BAD_CITATION,
    FRAGMENT,
    NAME,
    NO_CITATION,
    NUMBER,
    WORDS,
    Source,
    parse_written,
    verify,
)

SOURCES = [
    Source(
        1,
        "Mexico's ex-defense chief arrested",
        "Los Angeles Times",
        "2020-10-16",
        "Former Defense Minister Salvador Cienfuegos was arrested at Los Angeles "
        "International Airport on Thursday. He faces drug trafficking charges in the U.S. "
        "The arrest followed a 2,400-page indictment and three years of investigation.",
    ),
    Source(2, "Council budget", "Riverside Gazette", None, "The council approved $3.5 million."),
]


def _check(text: str) -> str | None:
    parsed = parse_written(text, finished=True)
    assert len(parsed.sentences) == 1, parsed
    return verify(parsed.sentences[0], SOURCES).reason


@pytest.mark.parametrize(
    "text",
    [
        "[1] Salvador Cienfuegos, Mexico's former defense minister, was arrested on Thursday.",
        "Cienfuegos was arrested at Los Angeles International Airport on Thursday [1].",
        "Cienfuegos was arrested at the airport on Thursday. [1]",
        "The arrest followed a 2400-page indictment and three years of investigation [1].",
        "The Los Angeles Times reported the arrest in October 2020 [1].",
        "The council approved 3.5 million dollars [2].",
        "[1] The investigation lasted three years.",
        "[1] Trafficking charges were filed against Cienfuegos in the U.S.",
        "Cienfuegos faces drug trafficking charges in the U.S. and the council approved "
        "$3.5 million [1][2].",
    ],
)
def test_supported_sentences_are_kept(text: str) -> None:
    """Names, figures and dates from the cited passages or their bylines pass, whatever
    the citation style."""
    assert _check(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Cienfuegos was arrested on Thursday.", NO_CITATION),
        ("[3] Cienfuegos was arrested on Thursday.", BAD_CITATION),
        ("[1][2][9] Cienfuegos was arrested on Thursday.", BAD_CITATION),
        ("[1] Cienfuegos was arrested in 2019.", NUMBER),
        ("[1] Cienfuegos was arrested on Thursday after four years of investigation.", NUMBER),
        ("[1] The indictment ran to 2,500 pages.", NUMBER),
        ("[1] Cienfuegos faces three drug trafficking charges.", NUMBER),
        ("[2] The council approved 3.5 million dollars on 12 May.", NUMBER),
        ("[1] General Cienfuegos was arrested in Paris on Thursday.", NAME),
        ("[1] Cienfuegos was arrested on Monday at the airport.", NAME),
        ("[1] Obama said Cienfuegos was arrested at the airport.", NAME),
        ("[2] Cienfuegos was arrested at the airport on Thursday.", NAME),
        ("[1] Cienfuegos was arrested on Thursday, Investigation officials said.", NAME),
        ("[1] Cienfuegos smuggled weapons, ran casinos and bribed judges.", WORDS),
        ("[1] Cienfuegos was arrested", FRAGMENT),
        ("[1] Mexico's defense chief.", FRAGMENT),
    ],
)
def test_unsupported_sentences_are_removed_with_a_reason(text: str, reason: str) -> None:
    """Anything the cited passage does not hold is removed, and the reason says what."""
    assert _check(text) == reason


def test_a_date_the_prompt_showed_as_stored_counts_as_shown() -> None:
    """A publication date that is not ISO is shown as stored, and checked as shown."""
    source = Source(1, "Ferry service", "Harbor Gazette", "March 2019", "The ferry began running.")
    assert "March 2019" in build_messages("When did the ferry start?", [source])[-1].text
    sentence = parse_written("[1] The ferry began running in March.", finished=True).sentences[0]
    assert verify(sentence, [source]).kept


def test_a_sentence_is_checked_only_once_it_is_complete() -> None:
    """Mid-stream, the last sentence and a half-written citation wait for more text."""
    parsed = parse_written("[1] Cienfuegos was arrested on Thursday. [1] He faces", False)
    assert parsed.complete == 1
    assert parsed.sentences[0] == WrittenSentence("Cienfuegos was arrested on Thursday.", (1,))
    assert parse_written("Cienfuegos was arrested on Thursday. [1", False).complete == 0
    done = parse_written("Cienfuegos was arrested on Thursday [1] He faces charges [1]", True)
    assert [s.citations for s in done.sentences] == [(1,)] and done.complete == 1


def test_markup_and_reasoning_are_not_part_of_the_answer() -> None:
    """Slack control sequences, HTML and a reasoning model's thinking are dropped."""
    parsed = parse_written(
        "<think>Maybe 2019?</think><!channel> **Cienfuegos** was arrested <b>on Thursday</b> "
        "<https://evil.example|here> [1].",
        finished=True,
    )
    assert [s.text for s in parsed.sentences] == ["Cienfuegos was arrested on Thursday."]
