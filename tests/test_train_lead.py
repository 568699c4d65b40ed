"""The lead re-fit's report by held-out slice, on hand-made outcomes (no evaluation data)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.train_lead import slices
from bench.train_lead_fit import FOLDS, assign_folds


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_slices_show_each_outlet_beside_the_shipped_model(tmp_path: Path) -> None:
    """A re-fit that helps one outlet and hurts another shows in its own rows."""
    records = [{"id": f"q{i}", "group": f"week{i % FOLDS}"} for i in range(24)]
    outlet = ["a.com" if i < 12 else "b.com" for i in range(24)]
    _write(tmp_path / "s.corpus.jsonl", [{"id": f"d{i}", "source": outlet[i]} for i in range(24)])
    _write(
        tmp_path / "s.questions.jsonl",
        [{"id": f"q{i}", "evidence_doc_ids": [f"d{i}"]} for i in range(24)],
    )
    refit = [{"hit_substring": o == "a.com"} for o in outlet]
    before = [{"hit_substring": o == "b.com"} for o in outlet]
    folds = {"s": assign_folds(records)}
    rows = slices({"s": records}, folds, {"s": refit}, {"s": before}, tmp_path)
    by_label = {r[1]: r for r in rows}
    assert by_label["all"][2:] == ["24", "0.500", "0.500"]
    assert by_label["a.com"][2:] == ["12", "1.000", "0.000"]
    assert by_label["b.com"][2:] == ["12", "0.000", "1.000"]
    assert sum(int(r[2]) for r in rows if r[1].startswith("fold")) == 24


def test_slices_without_the_set_files_report_folds_only(tmp_path: Path) -> None:
    """Without the dev set's files at hand the report still gives every fold."""
    records = [{"id": f"q{i}", "group": f"g{i}"} for i in range(10)]
    hits = [{"hit_substring": True} for _ in records]
    rows = slices({"s": records}, {"s": assign_folds(records)}, {"s": hits}, {"s": hits}, tmp_path)
    assert [r[1] for r in rows] == ["all", *(f"fold {k}" for k in range(FOLDS))]
