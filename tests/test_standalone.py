"""The repository stands alone: its tests pass on a clone with nothing beside it, and the
benchmarks say plainly when the evaluation sets they read from `../shared/eval/` are absent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ENV_PREFIXES, ROOT

_NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "data", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"
)


def _env() -> dict[str, str]:
    scrub = (*ENV_PREFIXES, "PYTEST_")
    return {k: v for k, v in os.environ.items() if not k.startswith(scrub)}


@pytest.mark.timeout(900)
def test_the_ask_tests_pass_on_a_clone_with_nothing_beside_it(tmp_path: Path) -> None:
    """A newcomer's clone (no ../shared): the question tests run on the bundled sample."""
    clone = tmp_path / "alone" / "newsroom-bot"
    shutil.copytree(ROOT, clone, ignore=_NOT_COPIED)
    assert not (clone.parent / "shared").exists()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_ask.py"]
        + ["-k", "not server_mode"],
        cwd=clone,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_a_benchmark_says_plainly_that_the_evaluation_sets_are_missing(tmp_path: Path) -> None:
    """No traceback: one line naming the file and where the evaluation sets come from."""
    missing = tmp_path / "shared" / "eval"
    done = subprocess.run(
        [sys.executable, "bench/retrieval.py"]
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
