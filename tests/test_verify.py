"""The verifier on its own: what a written sentence must hold to be shown."""

from __future__ import annotations

import time

import pytest

from core.language.numbers import read_tokens
from core.models import WrittenSentence
from core.written.prompt import build_messages
from core.written.verify import (
    BAD_CITATION,
    FRAGMENT,
    LINK,
    NAME,
    NEGATION,
    NO_CITATION,
    NUMBER,
    ORDER,
    TOO_LONG,
    WORD,
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
        "[1] The investigation took three years.",
        "[1] Cienfuegos faces trafficking charges in the U.S.",
        "[2] The council approved $3,500,000.",
        "[1] The arrest followed a 2,400-page indictment and 3 years of investigation.",
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
        # A new verb states a new fact: the prompt asks for the passages' own words.
        ("[1] The investigation lasted three years.", WORD),
        ("[1] Trafficking charges were filed against Cienfuegos in the U.S.", WORD),
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


HARBOR = [
    Source(
        1,
        "Storm closes the harbor",
        "Coast Courier",
        "2024-03-01",
        "The city closed the harbor for 12 days after the storm. The council voted 5 to 2 "
        "to rebuild the port. Repairs will cost 12,000 dollars. The ferry did not sail "
        "during the repairs. Mayor Alice Moreno announced the harbor plan on Monday. "
        "Details are at https://city.example/harbor.",
    ),
    Source(2, "Nordic ports", "Fjord Post", None, "Åsa Lindqvist runs the port of Ålesund."),
]


def _harbor(text: str) -> str | None:
    parsed = parse_written(text, finished=True)
    assert len(parsed.sentences) == 1, parsed
    return verify(parsed.sentences[0], HARBOR).reason


@pytest.mark.parametrize(
    "text",
    [
        "[1] The city closed the harbor for twelve days after the storm.",
        "[1] The council voted five to two to rebuild the port.",
        "[1] The council vote to rebuild the port was 5-2.",
        "[1] Repairs will cost $12k.",
        "[1] The ferry did not sail while the port was repaired.",
        "[1] Mayor Alice Moreno announced the plan for the harbor on Monday.",
        "[1] Details of the harbor plan are at https://city.example/harbor.",
        "[2] Åsa Lindqvist runs the port of Ålesund.",
    ],
)
def test_numbers_names_and_links_the_passage_holds_are_kept(text: str) -> None:
    """A figure spelled another way, a name in any script and a link the passage shows pass."""
    assert _harbor(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "[1] The city closed the harbor for twenty-five days after the storm.",
        "[1] The city closed the harbor for forty-two days after the storm.",
        "[1] The council vote to rebuild the port was seven-zero.",
        "[1] The city closed the harbor for 12k days after the storm.",
        "[1] Repairs will cost 12bn dollars.",
        "[1] Repairs will cost $12m.",
        "[1] The city closed the harbor for -12 days after the storm.",
        "[1] The city closed the harbor for zero days after the storm.",
        "[1] The city closed the harbor for one day after the storm.",
        "[1] The city closed half the harbor after the storm.",
        "[1] The city closed the harbor for 12 days after the third storm.",
        "[1] The city closed the harbor for 12 days after the 3rd storm.",
    ],
)
def test_a_number_the_passage_lacks_is_removed_however_it_is_written(text: str) -> None:
    """Words, suffixes, signs, fractions and ordinals are numbers: a new one is removed."""
    assert _harbor(text) == NUMBER


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1] Mayor Åsa Lindqvist announced the harbor plan on Monday.", NAME),
        ("[1] The council voted to rebuild the port in Ålesund.", NAME),
        ("[1] The city signed a pact with Ørsted to rebuild the port.", NAME),
        ("[1] Mayor Alice Moreno announced the harbor plan, said zed quark.", WORD),
        ("[1] The council voted to rebuild the port, see https://phish.example/reset now.", LINK),
        ("[1] The council voted to rebuild the port, see phish.example/reset now.", LINK),
        ("[1] The council voted to rebuild the port; write to reset@phish.example.", LINK),
    ],
)
def test_an_invented_name_link_or_address_is_removed(text: str, reason: str) -> None:
    """A name starting with Å or Ø, a lower-case name, a new URL or e-mail: removed."""
    assert _harbor(text) == reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1] The city did not close the harbor after the storm.", NEGATION),
        ("[1] The city never closed the harbor after the storm.", NEGATION),
        ("[1] The ferry sailed during the repairs.", NEGATION),
        ("[1] The council voted 2 to 5 to rebuild the port.", ORDER),
        ("[1] Mayor Alice Moreno resigned.", WORD),
        ("[1] Mayor Alice Moreno vetoed the harbor plan on Monday.", WORD),
    ],
)
def test_a_relation_the_passage_does_not_state_is_removed(text: str, reason: str) -> None:
    """A negation the passage lacks (or drops), numbers swapped and an invented verb."""
    assert _harbor(text) == reason


@pytest.mark.parametrize("quote", ["“We will rebuild the port.”", '"We will rebuild the port."'])
def test_a_citation_after_a_closing_quotation_mark_stays_with_the_quote(quote: str) -> None:
    """`… port.” [2] The port …`: the quote keeps its citation, the next sentence its own."""
    text = f"The mayor said: {quote} [2] The port reopened in May. [1]"
    parsed = parse_written(text, finished=True)
    assert [(s.text, s.citations) for s in parsed.sentences] == [
        (f"The mayor said: {quote}", (2,)),
        ("The port reopened in May.", (1,)),
    ]
    single = parse_written("He said: ‘We will rebuild the port.’ [1] It reopened. [1]", True)
    assert [s.citations for s in single.sentences] == [(1,), (1,)]
    source = Source(2, "Port", "Coast Courier", None, "The mayor said: “We will rebuild the port.”")
    assert verify(parsed.sentences[0], [source]).kept


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("twenty-five days, forty-two, seven-zero", ["25", "42", "7", "0"]),
        (
            "12k, 12bn, 1.2m, $3.5 million, a dozen",
            ["12000", "12000000000", "1200000", "3500000", "12"],
        ),
        (
            "-12, zero, half, 1/2, two-thirds, one and a half",
            ["-12", "0", "0.5", "0.5", "0.667", "1.5"],
        ),
        ("third, 3rd, twenty-first, two hundred and six", ["3", "3", "21", "206"]),
        (
            "the 2024/25 season, 24/7, 5-2, 5 to 2, no one",
            ["2024", "25", "24", "7", "5", "2", "5", "2"],
        ),
    ],
)
def test_numbers_are_read_the_same_however_they_are_written(text: str, numbers: list[str]) -> None:
    """What the check compares: one value per number, whatever its spelling."""
    assert [t[1:] for t in read_tokens(text) if t.startswith("#")] == numbers


def test_a_flood_in_one_sentence_is_refused_quickly() -> None:
    """A model that writes 100 KB without a full stop gets no sentence shown, at once."""
    flood = " ".join(["the council voted 5 to 2 not https://a.example Åsa"] * 2000)
    sentence = parse_written(f"[1] {flood}.", finished=True).sentences[0]
    started = time.perf_counter()
    assert verify(sentence, HARBOR).reason == TOO_LONG
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "quote", ["«We will rebuild the port.»", "„We will rebuild the port.“", "‹We will rebuild.›"]
)
def test_a_citation_after_guillemets_stays_with_the_quote(quote: str) -> None:
    """Point 4: `… port.» [2] The port …` (French, German quotes): the quote keeps its
    citation, and the next sentence is checked against its own passage only."""
    parsed = parse_written(f"The mayor said: {quote} [2] The port reopened in May. [1]", True)
    assert [(s.text, s.citations) for s in parsed.sentences] == [
        (f"The mayor said: {quote}", (2,)),
        ("The port reopened in May.", (1,)),
    ]


STORM = Source(
    1,
    "Harbor closed",
    "Riverside Gazette",
    "2021-05-02",
    "The city closed the harbor for 12 days after the storm. The ferry ran on Sunday.",
)


@pytest.mark.parametrize(
    "text",
    [
        "[1] The city no longer closed the harbor after the storm.",
        "[1] The ferry no longer ran on Sunday.",
    ],
)
def test_no_longer_is_a_negation(text: str) -> None:
    """Point 3: "no longer closed" where the passage says "closed" is removed."""
    (sentence,) = parse_written(text, True).sentences
    assert verify(sentence, [STORM]).reason == NEGATION


COSTS = Source(
    1,
    "Harbor closed",
    "Riverside Gazette",
    "2021-05-02",
    "The city closed the harbor for 12 days after the storm. Repairs will cost $3.5 million. "
    "Turnout in the city vote was 40 per cent.",
)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("[1] The city closed the harbor for 12 weeks after the storm.", False),
        ("[1] The city closed the harbor for twelve hours after the storm.", False),
        ("[1] Repairs will cost €3.5 million.", False),
        ("[1] Repairs will cost 3.5 million pounds.", False),
        ("[1] Turnout in the city vote was 40 years.", False),
        ("[1] The city closed the harbor for twelve days after the storm.", True),
        ("[1] The city closed the harbor for 12 straight days after the storm.", True),
        ("[1] Repairs will cost 3.5 million dollars.", True),
        ("[1] Turnout in the city vote was 40%.", True),
        ("[1] Turnout in the city vote was forty percent.", True),
    ],
)
def test_a_number_counts_what_the_passage_says_it_counts(text: str, kept: bool) -> None:
    """Point 1: "12 weeks" where the passage says 12 days, "€3.5 million" where it says
    $3.5 million, are removed; the same unit however written is kept."""
    (sentence,) = parse_written(text, True).sentences
    assert verify(sentence, [COSTS]).kept is kept


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("[1] Mayor Alice Moreno and 李强 said the port will reopen.", False),
        ("[1] 김철 said the port will reopen.", False),
        ("[1] Mayor Alice Moreno and 王芳 said the port will reopen.", True),
        ("[1] The port will reopen, Mayor Alice Moreno said in Riverside.", True),
    ],
)
def test_a_name_in_a_script_without_capitals_is_checked(text: str, kept: bool) -> None:
    """Point 2: a two-character Chinese or Korean name no passage holds was kept (too short
    to count as a word, and no capital to count as a name); one the passage holds is kept."""
    source = Source(
        1,
        "Harbor",
        "Riverside Gazette",
        None,
        "Mayor Alice Moreno and her deputy 王芳 said the port will reopen in Riverside.",
    )
    (sentence,) = parse_written(text, True).sentences
    assert verify(sentence, [source]).kept is kept


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("[1] Details are at https://ample.com/port.", False),
        ("[1] Details are at https://bank.example.co.", False),
        ("[1] Details are at https://bank.example.", False),
        ("[1] Write to lp@city.example.org today.", False),
        ("[1] Details are at https://bank.example.com/port/reset-form.", True),
        ("[1] Details are at www.bank.example.com/port.", True),
        ("[1] Write to help@city.example.org today.", True),
    ],
)
def test_a_link_is_held_only_as_the_passage_writes_it(text: str, kept: bool) -> None:
    """Point 2: an address that is only a piece of one the passage shows ("ample.com" of
    "bank.example.com", "lp@" of "help@") is another host or mailbox, and is removed."""
    source = Source(
        1,
        "Harbor",
        "Riverside Gazette",
        None,
        "Details are at https://bank.example.com/port/reset-form and write to "
        "help@city.example.org today.",
    )
    (sentence,) = parse_written(text, True).sentences
    assert verify(sentence, [source]).kept is kept
