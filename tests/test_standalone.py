"""The repository stands alone: its tests read nothing beside it, and the benchmarks say
plainly when the evaluation sets they read from `../shared/eval/` are absent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ENV_PREFIXES, ROOT


def _env() -> dict[str, str]:
    scrub = (*ENV_PREFIXES, "PYTEST_")
    return {k: v for k, v in os.environ.items() if not k.startswith(scrub)}


def test_no_test_reads_anything_beside_the_repository() -> None:
    """A newcomer's clone (no ../shared): nothing the tests run in this process can read
    the evaluation sets beside the repository (the guard in tests/conftest.py)."""
    beside = ROOT.parent / "shared" / "eval" / "realtimeqa.questions.jsonl"
    with pytest.raises(PermissionError, match="beside the repository"):
        beside.read_text(encoding="utf-8")


def test_no_test_or_stand_in_names_a_path_beside_the_repository() -> None:
    """Nor do the tests or the stand-ins name one for the processes they start."""
    beside = re.compile(r"""\.\./shared|/work/shared|shared/eval|/ ["']shared["']""")
    guards = (Path(__file__), ROOT / "tests" / "conftest.py")
    named = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("tests", "testing")
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in (".py", ".jsonl", ".md", ".json") and path not in guards
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if beside.search(line)
    ]
    assert not named, named


@pytest.mark.integration
def test_a_benchmark_says_plainly_that_the_evaluation_sets_are_missing(tmp_path: Path) -> None:
    """No traceback: one line naming the file and where the evaluation sets come from."""
    missing = tmp_path / "shared" / "eval"
    done = subprocess.run(
        [sys.executable, "-m", "bench.retrieval"]
        + ["--corpus", str(missing / "x.corpus.jsonl")]
        + ["--questions", str(missing / "x.questions.jsonl")],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert str(missing / "x.corpus.jsonl") in done.stderr
    assert "../shared/eval" in done.stderr
