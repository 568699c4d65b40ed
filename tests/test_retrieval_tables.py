"""bench.retrieval's split by when the evidence was published, on hand-made records."""

from __future__ import annotations

from bench.retrieval_tables import outlets_table, question_weeks


def test_questions_split_by_whether_their_own_weeks_hold_the_answer() -> None:
    """Evidence from the 21 days up to the question (or the day after, which the search
    admits), only evidence outside them, or no date."""
    records = [
        {"id": "new", "published_at": "2025-12-01T09:00:00Z"},
        {"id": "old", "published_at": "2016-07-07"},
        {"id": "later", "published_at": "2025-12-20"},
        {"id": "next day", "published_at": "2025-12-19"},
        {"id": "day 21", "published_at": "2025-11-27"},
        {"id": "undated"},
    ]
    questions = [
        {"id": 1, "question_date": "2025-12-18", "evidence_doc_ids": ["old", "new"]},
        {"id": 2, "question_date": "2025-12-18", "evidence_doc_ids": ["old", "later"]},
        {"id": 3, "question_date": "2025-12-18", "evidence_doc_ids": ["undated"]},
        {"id": 4, "evidence_doc_ids": ["new"]},
        {"id": 5, "question_date": "not a date", "evidence_doc_ids": ["new"]},
        {"id": 6, "question_date": "2025-12-18", "evidence_doc_ids": ["next day"]},
        {"id": 7, "question_date": "2025-12-18", "evidence_doc_ids": ["day 21"]},
    ]
    assert question_weeks(questions, records) == [
        "in the 21 days to the question",
        "outside those days",
        "-",
        "-",
        "-",
        "in the 21 days to the question",
        "outside those days",
    ]


def test_a_split_table_gives_each_label_its_own_figures() -> None:
    """ours / the textbook's per label, with the label column named as asked."""
    ours = [{"ans@5": True, "lead@1": True, "mrr@10": 1.0, "hit@5": True}] + [
        {"ans@5": False, "lead@1": False, "mrr@10": 0.0, "hit@5": False}
    ]
    table = outlets_table(["a", "b"], ours, None, label="evidence published")
    lines = table.splitlines()
    assert lines[0].startswith("| evidence published | n |")
    assert "| a | 1 | 1.000 / - | 1.000 / - | 1.000 / - | 1.000 / - |" in lines
    assert "| b | 1 | 0.000 / - | 0.000 / - | 0.000 / - | 0.000 / - |" in lines
