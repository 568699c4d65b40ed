"""A model cannot hold `ask` past ANSWER_TIMEOUT, flood it, break its output or be sent
more than the question that is answered (issue 19, points 5-9).

Over the wire against testing/llm_standin.py, which behaves as a real OpenAI-compatible SSE
server can: keep-alive comments (`: ping`), one huge chunk, lone surrogates.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from core.answer.compose import answer_question
from core.settings import Settings
from core.written.sentence_feed import SentenceFeed
from core.written.verify import parse_written
from core.written.writer import MAX_SENTENCES, Writer
from testing.llm_standin import FakeChatServer, Reply
from tests.helpers import (
    AskInProcess,
    ask_in_process,
    model_threads,
    open_sockets,
    run_console,
    searcher_for,
    wait_until,
)

QUESTION = "Which Secretary of State is going to the meetings in Mexico City?"
# In the passage's own words: the written-answer check removes a verb the passage lacks.
SUPPORTED = "[1] The meetings in Mexico City include Secretary of State Antony J. Blinken."
TIMEOUT = 2.0
MARGIN = 1.5  # seconds past ANSWER_TIMEOUT for a loaded machine

Ask = AskInProcess


@pytest.fixture
def ask(
    seeded: Settings, llm: FakeChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Ask:
    """Run `ask` in-process on the seeded store, ANSWER_MODEL the stand-in, a 2 s budget."""
    monkeypatch.chdir(tmp_path)
    return ask_in_process(
        monkeypatch,
        {
            "CHROMA_PATH": str(seeded.chroma_path),
            "ANSWER_MODEL": llm.base_url,
            "ANSWER_TIMEOUT": str(TIMEOUT),
        },
    )


@pytest.mark.integration
def test_a_lone_surrogate_from_the_model_does_not_stop_ask_printing(
    seeded: Settings, llm: FakeChatServer, tmp_path: Path
) -> None:
    """Half an emoji in the model's text: `ask` still prints the written and quoted answer,
    no UnicodeEncodeError."""
    llm.script(Reply(SUPPORTED.replace("include", "include \ud83d")))
    run = run_console(
        "ask", QUESTION, settings=seeded, cwd=tmp_path, env={"ANSWER_MODEL": llm.base_url}
    )
    assert run.code == 0, run.stderr
    out = run.out.decode("utf-8")
    assert "Traceback" not in run.stderr
    assert "Written by" in out and "include \ufffd Secretary of State Antony J. Blinken" in out
    assert "“The discussions will take place" in out


def test_keep_alive_comments_do_not_hold_ask_past_its_timeout(
    ask: Ask, llm: FakeChatServer
) -> None:
    """A server that keeps the stream open with `: ping` comments: `ask` is done within
    ANSWER_TIMEOUT, the model's thread has ended and its connection is closed."""
    sockets = open_sockets()
    llm.script(Reply(SUPPORTED, ping=0.1, hold=60), Reply(ping=0.1, delay=60))
    for _ in range(2):  # pinging after the text, and pinging before any
        code, out, _ = ask(QUESTION)
        assert code == 0 and "“The discussions will take place" in out
        assert time.monotonic() - llm.requests[-1].received_at < TIMEOUT + MARGIN
        assert not model_threads()
    assert wait_until(lambda: all(r.hung_up_at for r in llm.requests), 1.0)
    assert wait_until(lambda: open_sockets() <= sockets, 1.0)


def test_one_huge_chunk_is_cut_at_the_size_cap(ask: Ask, llm: FakeChatServer) -> None:
    """A model that sends 8 MB in one chunk: `ask` answers within ANSWER_TIMEOUT with the
    quote alone, and says the written answer was too long."""
    llm.script(Reply(pieces=[SUPPORTED + " Blinken will attend the meetings." * 250_000]))
    code, out, _ = ask("--json", QUESTION)
    assert time.monotonic() - llm.requests[-1].received_at < TIMEOUT + MARGIN
    assert code == 0
    written = json.loads(out)["written"]
    assert written["sentences"] == [] and written["problem"] == "too long"
    assert wait_until(lambda: llm.requests[-1].hung_up_at is not None, 1.0)


def test_a_model_that_writes_on_and_on_is_read_up_to_the_caps(
    ask: Ask, llm: FakeChatServer
) -> None:
    """Hundreds of sentences, whatever ANSWER_MAX_TOKENS asked: only the first ones are
    read and checked, and the connection is closed."""
    llm.script(Reply(" ".join([SUPPORTED] * 400), ping=0.1, hold=60))
    code, out, _ = ask("--json", QUESTION)
    written = json.loads(out)["written"]
    assert code == 0 and written["sentences"]
    assert len(written["sentences"]) + written["removed"] <= MAX_SENTENCES
    assert wait_until(lambda: llm.requests[-1].hung_up_at is not None, 1.0)


def test_checking_a_long_answer_costs_time_in_proportion_to_its_length(
    seeded: Settings, llm: FakeChatServer
) -> None:
    """A 20 KB answer streamed word by word is checked in well under a second of CPU (each
    token is not a new parse of everything before it)."""
    clause = ", and the meetings in Mexico City"
    sentence = SUPPORTED[:-1] + clause * 30 + "."
    text = " ".join([sentence] * 19)
    assert len(text) > 19_000
    llm.script(Reply(text))
    settings = seeded.model_copy(
        update={"answer_model": llm.base_url, "answer_timeout": 30.0, "answer_max_tokens": 4000}
    )
    answer = answer_question(QUESTION, searcher_for(settings))
    writer = Writer.from_settings(settings.answers)
    cpu = time.thread_time()
    written = writer.write(QUESTION, answer.passages)
    cpu = time.thread_time() - cpu
    assert len(written.sentences) + written.removed == 19
    assert cpu < 1.0, f"{cpu:.2f} s of CPU"


def test_only_the_answered_part_of_a_long_question_is_sent_to_the_model(
    ask: Ask, llm: FakeChatServer
) -> None:
    """A 100 KB question: the note says the first characters were answered, and only those
    go to the model."""
    llm.script(Reply(SUPPORTED))
    question = QUESTION + " and" * 25_000 + " TAILMARK"
    code, out, _ = ask("--json", question)
    data = json.loads(out)
    assert code == 0 and "Your question was long" in data["notes"][0]
    answered = int(data["notes"][0].split("first ")[1].split(" ")[0])
    request = llm.requests[-1]
    assert request.size < 10_000
    assert "TAILMARK" not in request.prompt
    asked = request.prompt.rsplit("Question: ", 1)[1]
    assert asked.startswith(QUESTION) and len(asked) == answered


def test_batch_mode_writes_answers_like_one_question(
    ask: Ask, llm: FakeChatServer, tmp_path: Path
) -> None:
    """`ask --batch` with ANSWER_MODEL set: each JSON result has its written answer."""
    llm.script(Reply(SUPPORTED), Reply(SUPPORTED))
    batch = tmp_path / "questions.jsonl"
    batch.write_text("\n".join(json.dumps({"id": n, "question": QUESTION}) for n in (1, 2)) + "\n")
    code, out, _ = ask("--batch", str(batch), "--json")
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in results] == [1, 2]
    for result in results:
        [sentence] = result["written"]["sentences"]
        assert sentence["text"].startswith("The meetings in Mexico City include")
    assert len(llm.requests) == 2
    code, out, _ = ask("--batch", str(batch), "--json", "--extractive")
    assert code == 0 and all("written" not in json.loads(line) for line in out.splitlines())


def test_batch_mode_refuses_a_malformed_model_as_one_question_does(
    ask: Ask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A malformed ANSWER_MODEL: `ask --batch` exits 2 with the same one line as `ask "q"`."""
    monkeypatch.setenv("ANSWER_MODEL", "nosuchprovider:some-model")
    batch = tmp_path / "questions.jsonl"
    batch.write_text(json.dumps({"id": 1, "question": QUESTION}) + "\n")
    single = ask(QUESTION)
    batched = ask("--batch", str(batch), "--json")
    assert single[0] == batched[0] == 2
    assert batched[1] == ""
    assert batched[2] == single[2] and "ANSWER_MODEL=nosuchprovider:some-model" in single[2]


@pytest.mark.parametrize(
    "text",
    [
        SUPPORTED + " [2] The port closed on 1.5 Monday. [1, 2] He said: “We will rebuild.” x",
        "Blinken will attend in 2008. [1] The port closed. [2][3] He said “no.” [2] Then more.",
        "<think>hmm. ok. </think> [1] Alice went home. [2] Bob <b>stayed</b>! [1] **Bold** here?",
        "- [1] A list item here.\n- [2] Another item there.\n1. [3] Third one is it [4]",
    ],
    ids=["citations first", "citations after", "markup", "list"],
)
def test_sentences_checked_as_they_stream_are_those_of_the_whole_text(text: str) -> None:
    """However the model's text is split into tokens, the sentences checked one by one are
    exactly those of the finished text, each once."""
    whole = parse_written(text, finished=True)
    rng = random.Random(19)
    for _ in range(50):
        feed, got, at = SentenceFeed(), [], 0
        while at < len(text):
            size = rng.randint(1, 6)
            got += feed.feed(text[at : at + size])
            at += size
        assert got + feed.finish() == whole.sentences[: whole.complete]
