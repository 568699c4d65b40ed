"""Written answers through a scripted OpenAI-compatible server: what the verifier lets through.

The model is the only stand-in (testing/llm_standin.py, at the HTTP wire protocol, spoken to
by langchain-openai's real client); search, answers, `ask` and the verifier are real.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableLambda

from core.answer.compose import answer_question
from core.retriever import NewsroomRetriever
from core.settings import Settings
from core.written.writer import Writer, attach_written, create_written_chain
from testing.llm_standin import FakeChatServer, Reply
from tests.conftest import ROOT
from tests.helpers import AskInProcess, ask_in_process, searcher_for

QUESTION = "Which Secretary of State is going to the meetings in Mexico City?"
# In the passage's own words, as the prompt asks: a new verb ("will attend") is a new fact.
SUPPORTED = "[1] The meetings in Mexico City include Secretary of State Antony J. Blinken."
INVENTED_NAME = "[1] The meetings in Mexico City include Secretary of State John Kerry."
INVENTED_NUMBER = "[1] The 14 meetings in Mexico City on Friday include Blinken."
MISSING_PASSAGE = "[2] The meetings in Mexico City on Friday include Blinken."

Ask = AskInProcess


@pytest.fixture
def ask(
    seeded: Settings, llm: FakeChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Ask:
    """Run `ask` on the seeded store with ANSWER_MODEL pointing at the stand-in."""
    monkeypatch.chdir(tmp_path)
    return ask_in_process(
        monkeypatch,
        {
            "CHROMA_PATH": str(seeded.chroma_path),
            "ANSWER_MODEL": llm.base_url,
            "ANSWER_MODEL_NAME": "standin-7b",
            "ANSWER_TIMEOUT": "3",
        },
    )


def _written(ask: Ask, question: str = QUESTION) -> dict:
    code, out, err = ask("--json", question)
    assert code == 0, err
    return json.loads(out)["written"]


def test_a_supported_answer_is_printed_above_the_quote_with_its_citations(
    ask: Ask, llm: FakeChatServer
) -> None:
    """`ask` prints the model's checked sentences, labelled with the model, then the quote."""
    llm.script(Reply(SUPPORTED))
    code, out, _ = ask(QUESTION)
    assert code == 0
    label = out.index("Written by standin-7b from the passages below")
    sentence = out.index("include Secretary of State Antony J. Blinken. [1]")
    quote = out.index("“The discussions will take place")
    assert label < sentence < quote


def test_the_prompt_numbers_the_passages_with_title_outlet_and_the_earlier_question(
    seeded: Settings, llm: FakeChatServer
) -> None:
    """The model sees numbered passages with their bylines, the question and, for a
    follow-up, the thread's earlier question."""
    llm.script(Reply(SUPPORTED))
    settings = seeded.model_copy(update={"answer_model": llm.base_url})
    answer = answer_question(QUESTION, searcher_for(settings))
    attach_written(answer, Writer.from_settings(settings.answers), "and on which day?", QUESTION)
    prompt = llm.requests[-1].prompt
    assert "[1] “Biden administration is expected to enter a new security agreement" in prompt
    assert "latimes.com" in prompt or "Los Angeles Times" in prompt
    assert f"Earlier question in this conversation: {QUESTION}" in prompt
    assert prompt.rstrip().endswith("Question: and on which day?")
    assert "[2]" not in prompt.split("Question: Why did the port close?")[-1]


@pytest.mark.parametrize(
    ("text", "invented"),
    [
        (INVENTED_NAME, "Kerry"),
        (INVENTED_NUMBER, "14"),
        (MISSING_PASSAGE, "[2]"),
        ("[1] The twenty-five meetings in Mexico City include Blinken.", "twenty-five"),
        ("[1] The meetings in Mexico City include Secretary of State Åsa Ødegård.", "Åsa"),
        ("[1] The meetings in Mexico City include Blinken, see https://phish.example/x.", "phish"),
        ("[1] The meetings in Mexico City do not include Blinken.", "not include"),
        ("[1] Secretary of State Antony J. Blinken resigned before the meetings.", "resigned"),
    ],
    ids=[
        "invented name",
        "invented number",
        "citation to a passage not given",
        "number in words",
        "name in another script",
        "link",
        "negation",
        "invented verb",
    ],
)
def test_an_unsupported_sentence_is_removed_and_the_supported_one_stays(
    ask: Ask, llm: FakeChatServer, text: str, invented: str
) -> None:
    """Of two sentences, the one the passage does not support never reaches the reader."""
    llm.script(Reply(f"{text} {SUPPORTED}"))
    code, out, _ = ask(QUESTION)
    assert code == 0
    written = out.split("\n\n")[1]
    assert "include Secretary of State Antony J. Blinken" in written
    assert invented not in written


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(INVENTED_NAME + " " + INVENTED_NUMBER), "unsupported"),
        (Reply("The passages do not answer the question."), "declined"),
        (Reply("I'm sorry, I cannot answer that from these passages."), "declined"),
        (Reply(SUPPORTED, delay=6), "timeout"),
        (Reply(raw="{this is not json"), "model error"),
        (Reply(status=500), "model error"),
        (Reply(""), "empty"),
    ],
    ids=["all invented", "refusal", "apology", "timeout", "malformed", "server error", "empty"],
)
def test_without_a_supported_sentence_the_answer_is_the_extractive_one(
    ask: Ask, llm: FakeChatServer, reply: Reply, problem: str
) -> None:
    """Invented text, a refusal, a timeout or a broken server: `ask` prints exactly what it
    prints without a model, and says why in --json."""
    code, plain, _ = ask("--extractive", QUESTION)
    assert code == 0
    llm.script(reply)
    started = time.monotonic()
    code, out, _ = ask(QUESTION)
    assert code == 0
    assert out == plain
    assert time.monotonic() - started < 5  # ANSWER_TIMEOUT=3 holds even for a stalled server
    llm.script(reply)
    written = _written(ask)
    assert written["sentences"] == [] and written["problem"] == problem


def test_slack_control_sequences_from_the_model_are_dropped(ask: Ask, llm: FakeChatServer) -> None:
    """Markup the model writes (`<!channel>`, links) never survives into the answer text."""
    llm.script(Reply(f"<!channel> {SUPPORTED} <https://evil.example|Read more> <!here>"))
    written = _written(ask)
    assert written["sentences"], written
    assert "<" not in written["text"] and ">" not in written["text"]
    assert "evil.example" not in written["text"]


def test_kept_sentences_arrive_while_the_model_is_still_writing(
    seeded: Settings, llm: FakeChatServer
) -> None:
    """Each sentence is handed on once verified, before the model has finished."""
    llm.script(Reply(pieces=[SUPPORTED, " Then more", " text."], pause=1.0))
    settings = seeded.model_copy(update={"answer_model": llm.base_url, "answer_timeout": 5})
    answer = answer_question(QUESTION, searcher_for(settings))
    arrived: list[float] = []
    written = Writer.from_settings(settings.answers).write(
        QUESTION, answer.passages, on_sentence=lambda s: arrived.append(time.perf_counter())
    )
    assert len(written.sentences) == 1 and written.removed == 1
    assert arrived and arrived[0] < llm.requests[-1].sent_at[-1]


def test_logs_say_why_but_never_the_question_or_the_answer(
    ask: Ask, llm: FakeChatServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The log line counts kept and removed sentences and names reasons, not texts."""
    caplog.set_level(logging.INFO)
    llm.script(Reply(f"{INVENTED_NAME} {SUPPORTED}"))
    ask(QUESTION)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "1 sentences kept, 1 removed (1 name not in the cited passages)" in logged
    for text in ("Blinken", "Kerry", "Secretary", "Mexico City"):
        assert text not in logged


def test_the_chain_reuses_the_retriever_inside_a_users_own_chain(
    seeded: Settings, llm: FakeChatServer
) -> None:
    """`create_written_chain` is a LangChain runnable over `NewsroomRetriever`: a user can
    pipe it into their own steps and read the documents its citations number."""
    llm.script(Reply(SUPPORTED))
    settings = seeded.model_copy(update={"answer_model": llm.base_url})
    chain = create_written_chain(
        NewsroomRetriever.from_settings(settings, k=2), Writer.from_settings(settings.answers)
    )
    mine = chain | RunnableLambda(lambda out: (out["written"].text, out["documents"]))
    text, documents = mine.invoke({"question": QUESTION, "earlier": None})
    assert text == "The meetings in Mexico City include Secretary of State Antony J. Blinken. [1]"
    assert "Blinken" in documents[0].page_content


def test_a_misconfigured_model_stops_ask_with_what_to_do(
    ask: Ask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown provider or a missing GGUF file: exit 2 and one line saying what to set."""
    monkeypatch.setenv("ANSWER_MODEL", "nosuchprovider:some-model")
    code, _, err = ask(QUESTION)
    assert code == 2 and "ANSWER_MODEL=nosuchprovider:some-model" in err
    monkeypatch.setenv("ANSWER_MODEL", "local:/nowhere/model.gguf")
    code, _, err = ask(QUESTION)
    assert code == 2 and "path of a .gguf file" in err


@pytest.mark.integration
def test_the_default_path_imports_no_model_code() -> None:
    """Without ANSWER_MODEL, `ask` and `bot` start without LangChain model packages."""
    probe = (
        "import sys, ask.__main__, bot.app, bot.__main__; "
        "print([m for m in sys.modules if m.split('.')[0] in "
        "('langchain', 'langchain_openai', 'openai', 'gguf') or m in "
        "('core.written.writer', 'core.written.chat_models', "
        "'core.written.local_model', 'core.written.prompt')])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
