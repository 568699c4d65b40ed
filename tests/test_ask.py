"""`ask` answers as a person reads it, and keeps the JSON contract benchmarks rely on."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from ask.__main__ import main as ask_main
from core.answer.compose import answer_question
from core.settings import Settings
from tests.conftest import SEED_DIR
from tests.helpers import ingest_paths, searcher_for

# Questions about the bundled sample article, each with a string its answer must quote.
SAMPLE_QUESTIONS = Path(__file__).with_name("questions.jsonl")


@pytest.fixture
def ask(seeded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Run the `ask` command against the seeded store from a clean folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHROMA_PATH", str(seeded.chroma_path))

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        return ask_main(list(args)), out.getvalue(), err.getvalue()

    return run


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s%]", " ", text.lower()).split())


def test_who_was_cienfuegos_leads_with_the_describing_sentence(ask) -> None:
    """The lead names him as the former defense minister and cites the LA Times article."""
    code, out, _ = ask("who was Cienfuegos?")
    assert code == 0
    lead = out.split("\n\n")[1]
    assert "former Mexican Defense Minister Salvador Cienfuegos" in " ".join(lead.split())
    assert "Los Angeles Times" in out
    assert "us-mexico-security.md" in out


def test_json_contract(ask) -> None:
    """`--json` has the fields evaluations read, passages best first."""
    code, out, _ = ask("Who is Mexico's foreign minister?", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) >= {"id", "question", "answer", "passages"}
    assert "Ebrard" in data["answer"]
    first = data["passages"][0]
    assert set(first) >= {
        "doc_id",
        "title",
        "url",
        "source",
        "published_at",
        "chunk_index",
        "text",
        "score",
    }
    assert first["doc_id"] == "seed-us-mexico-security"
    scores = [p["score"] for p in data["passages"]]
    assert scores == sorted(scores, reverse=True)


def test_every_sample_question_has_its_answer_in_the_top_five_passages(ask) -> None:
    """Questions about the sample article: each answer string is quoted in the top 5 passages."""
    questions = [json.loads(line) for line in SAMPLE_QUESTIONS.read_text().splitlines()]
    batch = "".join(
        json.dumps({"id": q["id"], "question": q["question"]}) + "\n" for q in questions
    )
    code, out, _ = ask("--batch", "-", "--json", stdin=batch)
    answers = {a["id"]: a for a in map(json.loads, out.splitlines())}
    assert code == 0 and len(answers) == len(questions)
    for q in questions:
        top = " | ".join(_normalise(p["text"]) for p in answers[q["id"]]["passages"][:5])
        assert _normalise(q["answer"]) in top, q["question"]


def test_a_batch_with_a_byte_order_mark_and_an_empty_question(ask) -> None:
    """A batch saved with UTF-8's byte-order mark keeps its first question; an empty
    question gets an error entry of its own instead of ten passages about nothing."""
    batch = (
        "\ufeff"
        + json.dumps({"id": "q1", "question": "who was Cienfuegos?"})
        + "\n"
        + json.dumps({"id": "q2", "question": "  "})
        + "\n"
    )
    code, out, err = ask("--batch", "-", "--json", stdin=batch)
    first, second = map(json.loads, out.splitlines())
    assert first["id"] == "q1" and "Cienfuegos" in first["answer"]
    assert code == 1 and second["id"] == "q2" and "empty" in second["error"], err
    assert second["passages"] == []


def test_nothing_relevant_is_said_plainly(ask) -> None:
    """An off-topic question gets no padding: a plain "nothing relevant" and a null answer."""
    code, out, _ = ask("best sourdough pizza recipe for a home oven")
    assert code == 0 and "I found nothing relevant to that among 1 article." in out
    code, out, _ = ask("best sourdough pizza recipe for a home oven", "--json")
    data = json.loads(out)
    assert data["answer"] is None and data["passages"]  # what was considered is still there


def test_empty_store_says_how_to_add_articles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asking before any ingest explains what to do next."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHROMA_PATH", str(tmp_path / "nothing-here"))
    assert ask_main(["who was Cienfuegos?"]) == 0
    assert "The archive is empty. Add articles with `ingest" in capsys.readouterr().out


def test_a_huge_question_is_answered_for_its_first_part(seeded: Settings) -> None:
    """10,000 characters: answered for the first part, with a note saying so."""
    context = "I read he was arrested in California, then sent to Mexico without charges. "
    question = "Who was Cienfuegos? " + context * 140
    assert len(question) > 10_000
    answer = answer_question(question, searcher_for(seeded), max_chars=1000)
    assert len(answer.question) <= 1000
    assert answer.notes and "first" in answer.notes[0]
    assert answer.found and "Cienfuegos" in answer.lead


def test_server_mode_answers_the_same(server_settings: Settings) -> None:
    """Against a real `chroma run`, the same question gets the same lead."""
    ingest_paths(server_settings, SEED_DIR)
    answer = answer_question("who was Cienfuegos?", searcher_for(server_settings))
    assert "former Mexican Defense Minister Salvador Cienfuegos" in answer.lead
