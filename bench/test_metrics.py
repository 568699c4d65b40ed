"""The benchmark's metric functions on hand-made rankings (no evaluation data)."""

from __future__ import annotations

from bench.metrics import contains_answer, mean_metrics, normalize, ranked_docs, score_question


def _passages(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"doc_id": d, "text": t} for d, t in pairs]


def test_normalize_drops_punctuation_and_curly_quotes() -> None:
    """Quotes, commas and case do not decide whether an answer was found."""
    assert normalize("  “Squid  Game,”\n") == "squid game"
    assert normalize("Tampa, Florida") == normalize("tampa florida")


def test_answer_can_be_required_to_match_whole_words() -> None:
    """In the strict variant a number inside a longer number is not the answer."""
    assert contains_answer(["It was agreed in 2008."], ["2008"], words=True)
    assert not contains_answer(["It was agreed in 20081."], ["2008"], words=True)
    assert contains_answer(["It was agreed in 20081."], ["2008"])


def test_ranking_collapses_to_documents_first_occurrence() -> None:
    """Several passages of one article count once, at their best rank."""
    assert ranked_docs(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_score_question_ranks_and_recall() -> None:
    """hit@k, MRR@10 and recall@5 follow the first gold document's document rank."""
    question = {"evidence_doc_ids": ["c", "x"], "answer": "Blue whale"}
    passages = _passages(("a", "t"), ("a", "t"), ("b", "t"), ("c", "the blue whale"))
    row = score_question(question, passages, declined=False)
    assert row["rank"] == 3
    assert (row["hit@1"], row["hit@5"]) == (False, True)
    assert row["mrr@10"] == 1 / 3
    assert row["recall@5"] == 0.5
    assert row["ans@5"] is True
    assert row["declined"] is None


def test_questions_without_evidence_score_only_declining() -> None:
    """A null query counts for the decline rate and nothing else."""
    rows = [
        score_question({"evidence_doc_ids": [], "answer": "x"}, [], declined=True),
        score_question({"evidence_doc_ids": [], "answer": "x"}, [], declined=False),
    ]
    means = mean_metrics(rows)
    assert means["declined"] == (0.5, 2)
    assert means["hit@5"] == (None, 0)


def test_yes_no_answers_are_not_scored_for_ans5() -> None:
    """'Yes' somewhere in a passage says nothing about retrieval."""
    question = {"evidence_doc_ids": ["a"], "answer": "Yes"}
    row = score_question(question, _passages(("a", "yes it did")), declined=False)
    assert row["ans@5"] is None


def test_lead_metrics_read_the_lead_sentence() -> None:
    """lead@1 looks for the answer in the lead only; a declined question counts as a miss."""
    question = {"evidence_doc_ids": ["a"], "answer": "Coastal Skyways"}
    passages = _passages(("a", "Flights were cancelled. Coastal Skyways cancelled 1,900."))
    hit = score_question(question, passages, False, lead="Coastal Skyways cancelled 1,900.")
    assert (hit["lead@1"], hit["lead@1 words"], hit["lead from top passage"]) == (True,) * 3
    assert hit["ans@1"] is True
    miss = score_question(question, passages, False, lead="Flights were cancelled.")
    assert (miss["lead@1"], miss["lead from top passage"]) == (False, True)
    declined = score_question(question, passages, True, lead=None)
    assert (declined["lead@1"], declined["lead chars"]) == (False, None)


def test_pipelines_without_a_lead_get_no_lead_metrics() -> None:
    """The textbook pipeline has no lead: its lead metrics stay empty, not zero."""
    question = {"evidence_doc_ids": ["a"], "answer": "blue whale"}
    row = score_question(question, _passages(("a", "the blue whale")), declined=False)
    assert row["lead@1"] is None and row["lead from top passage"] is None
