"""Issue 19 tried again from outside, with variants the first fixes did not cover.

Each test names the point of issue 19 it extends. Real Chroma, the real model, the real
`ingest` and `ask`.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from bot.answerer import ArchiveAnswerer
from bot.feedback import FeedbackStore, Vote
from core.settings import Settings
from core.verify import NEGATION, Source, parse_written, verify
from tests.conftest import SEED_DIR
from tests.helpers import Run, ingest_paths, run_console

GIRAFFE = {
    "id": "zoo-giraffe",
    "title": "Zoo welcomes a baby giraffe",
    "source": "Bay Courier",
    "text": "The municipal zoo welcomed a baby giraffe named Tilly, born on Tuesday morning "
    "to a mother called Juniper.",
}


def _ask(settings: Settings, tmp_path: Path, question: str) -> Run:
    return run_console("ask", question, settings=settings, cwd=tmp_path)


def _ingest(settings: Settings, tmp_path: Path, *paths: Path) -> Run:
    names = [str(p) for p in paths]
    return run_console("ingest", "--quiet", *names, settings=settings, cwd=tmp_path)


def _clean(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code == 0, run.stderr


def _giraffe(tmp_path: Path) -> Path:
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(GIRAFFE) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def seeded(tmp_path: Path, settings: Settings) -> Path:
    """The seed article ingested by `ingest`; the folder of this host's local index."""
    _clean(_ingest(settings, tmp_path, SEED_DIR))
    (folder,) = [p for p in settings.index_folder.iterdir() if p.is_dir()]
    return folder


# Point 10: a state.json whose numbers do not fit, or that nests past Python's recursion limit.
STATES = {
    "infinite seq": lambda state: json.dumps({**state, "seq": 1e400}),
    "infinite count": lambda state: json.dumps({**state, "counts": [1e400, 1]}),
    "nested": lambda state: "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("damage", STATES)
def test_a_state_json_with_numbers_out_of_range_is_rebuilt(
    tmp_path: Path, settings: Settings, seeded: Path, damage: str
) -> None:
    """A state.json holding `1e400` or nested 100,000 deep: ask says so in one line and
    answers (no OverflowError or RecursionError traceback)."""
    state = json.loads((seeded / "state.json").read_text())
    (seeded / "state.json").write_text(STATES[damage](state))
    run = _ingest(settings, tmp_path, _giraffe(tmp_path))
    _clean(run)
    (seeded / "state.json").write_text(STATES[damage](state))
    run = _ask(settings, tmp_path, "Which giraffe did the zoo welcome?")
    _clean(run)
    assert "Tilly" in run.stdout
    assert len([line for line in run.stderr.splitlines() if "state.json" in line]) == 1


def test_a_change_log_record_with_an_infinite_count_is_skipped(
    tmp_path: Path, settings: Settings, seeded: Path
) -> None:
    """Point 12: a log record that is JSON but names a chunk count of 1e400: ingest goes on
    and its article is answerable (no OverflowError traceback)."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    client = chromadb.PersistentClient(str(settings.chroma_path))
    changes = client.get_collection("news.log")
    seq = changes.count() + 1
    changes.add(
        ids=[f"{seq:012d}"],
        embeddings=np.ones((1, 1), dtype=np.float32),
        documents=['{"at": 1, "target": {"x": ["h", 1e400]}, "replaced": {}, "writer": "w"}'],
        metadatas=[{"seq": seq}],
    )
    del changes, client
    SharedSystemClient.clear_system_cache()
    run = _ingest(settings, tmp_path, _giraffe(tmp_path))
    _clean(run)
    assert "Tilly" in _ask(settings, tmp_path, "Which giraffe did the zoo welcome?").stdout


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


HARBOR = Source(
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
    assert verify(sentence, [HARBOR]).reason == NEGATION


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


def test_a_running_bot_whose_index_folder_is_deleted_rebuilds_it(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Point 10/11: an operator deletes INDEX_PATH while the bot runs: it still answers the
    seed question, answers articles committed afterwards, and logs no traceback."""
    ingest_paths(settings, SEED_DIR)
    answerer = ArchiveAnswerer(settings)
    answerer.warm()
    answerer.start_refreshing(0.2)
    try:
        caplog.set_level(logging.INFO)
        shutil.rmtree(settings.index_folder)
        ingest_paths(settings, _giraffe(tmp_path))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any("Tilly" in p.text for p in answerer("baby giraffe Tilly").passages):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the new article never became answerable")
        assert any("Cienfuegos" in p.text for p in answerer("who was Cienfuegos?").passages)
        assert answerer.healthy is not False and not answerer.problem
    finally:
        answerer.close()
    ours = [r for r in caplog.records if r.name.startswith(("core", "bot"))]
    assert not [r for r in ours if r.exc_info or r.levelno >= logging.ERROR]


def test_the_feedback_report_drops_bidi_overrides_from_questions_and_answers(
    tmp_path: Path, settings: Settings
) -> None:
    """Point 19: a 👎 vote whose question or answer holds U+202E (right-to-left override)
    reordered what `bot feedback` showed in the operator's terminal; it is not printed."""
    feedback = tmp_path / "feedback.sqlite3"
    FeedbackStore(feedback).record(
        Vote("a1", "U1", "down", "who paid \u202egnp.exe?", "nobody \u2066paid\u2069", "C1")
    )
    run = run_console(
        "bot", "feedback", settings=settings, cwd=tmp_path, env={"FEEDBACK_DB": str(feedback)}
    )
    _clean(run)
    assert not any(c in run.stdout for c in "\u202e\u2066\u2069"), repr(run.stdout)
    assert "who paid" in run.stdout and "gnp.exe" in run.stdout


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
