"""The encoders (torch, ONNX fp32, ONNX int8): same model, verified files, recorded identity."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from buildtools.onnx import FILES, RECORDED, encoder_dir, ensure_built, toolchain
from core.answer.compose import answer_question
from core.encode.embeddings import REEMBEDDING, file_sha256, load_embedder
from core.errors import ConfigError, ModelMismatchError
from core.search.records import ChunkRow
from core.search.searcher import Searcher
from core.service import open_searcher
from core.settings import Settings
from core.store import open_store
from ingest.__main__ import main as ingest_main
from ingest.pipeline import Ingestor
from ingest.sources import expand
from tests.conftest import ROOT, SEED_DIR, make_settings
from tests.helpers import ingest_paths, local_rows, run_console, searcher_for

TEXTS = [
    "Who was Salvador Cienfuegos?",
    "The council approved the transit budget on Tuesday after a four-hour debate.",
    " ".join(["Prices rose again in June, the statistics office said."] * 30),  # > 256 pieces
]


def _answers(settings: Settings) -> bool:
    answer = answer_question("Who was Cienfuegos?", searcher_for(settings))
    return answer.found and "Cienfuegos" in (answer.lead or "")


def _seed_text() -> str:
    return next(SEED_DIR.iterdir()).read_text(encoding="utf-8")


@pytest.mark.integration  # a whole model loaded and run
def test_onnx_encoders_give_torch_vectors_and_the_same_word_pieces() -> None:
    """fp32 ONNX equals torch to rounding; int8 stays close; chunking sees the same tokens."""
    torch_ = load_embedder(encoder="torch")
    fp32 = load_embedder(encoder="onnx")
    int8 = load_embedder(encoder="onnx-int8")
    reference = torch_.encode(TEXTS)
    assert np.abs(fp32.encode(TEXTS) - reference).max() < 1e-5
    cosines = (int8.encode(TEXTS) * reference).sum(axis=1)
    assert cosines.min() > 0.97
    assert np.allclose(np.linalg.norm(int8.encode(TEXTS), axis=1), 1.0, atol=1e-5)
    seed = _seed_text()
    for other in (fp32, int8):
        assert other.count_tokens([seed, *TEXTS]) == torch_.count_tokens([seed, *TEXTS])
        assert other.token_offsets(seed) == torch_.token_offsets(seed)
        assert other.max_tokens == torch_.max_tokens == 256
    assert (torch_.name, fp32.name, int8.name) == (
        "all-MiniLM-L6-v2",
        "all-MiniLM-L6-v2",
        "all-MiniLM-L6-v2+int8",
    )


def test_batching_does_not_change_a_vector() -> None:
    """A text gets the same vector alone or in a padded batch of longer texts."""
    int8 = load_embedder(encoder="onnx-int8")
    together = int8.encode(TEXTS, batch_size=2)
    alone = np.stack([int8.encode_query(t) for t in TEXTS])
    assert np.abs(together - alone).max() < 1e-4


def test_a_damaged_onnx_file_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    """A file that fails its checksum is rebuilt from the bundled weights, to the same bytes."""
    ensure_built("onnx-int8")
    for name in FILES.values():
        for path in (encoder_dir() / name, (encoder_dir() / name).with_suffix(".json")):
            shutil.copy(path, tmp_path / path.name)
    damaged = tmp_path / FILES["onnx-int8"]
    good = file_sha256(damaged)
    with damaged.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\0\0\0\0")
    assert ensure_built("onnx-int8", tmp_path) == damaged
    assert file_sha256(damaged) == good
    record = json.loads(damaged.with_suffix(".json").read_text())
    assert record["sha256"] == good and record["lowest_cosine_vs_torch"] > 0.97
    if toolchain() in RECORDED:  # the toolchain `make install` sets up
        assert good == RECORDED[toolchain()]["onnx-int8"]
        assert file_sha256(tmp_path / FILES["onnx"]) == RECORDED[toolchain()]["onnx"]


def test_unknown_or_unsupported_encoders_are_refused_with_a_way_out() -> None:
    """A typo in EMBEDDING_ENCODER, or ONNX for a model we do not export, says what to set."""
    with pytest.raises(ConfigError, match="onnx-int8, onnx, torch"):
        load_embedder(encoder="int4")
    with pytest.raises(ConfigError, match="EMBEDDING_ENCODER=torch"):
        load_embedder("/some/other/model", "onnx")


@pytest.mark.integration  # torch loaded to embed (~20 s)
def test_fp32_encoders_share_a_store_and_int8_is_refused_with_the_reembed_command(
    settings: Settings,
) -> None:
    """torch and ONNX fp32 read each other's store; int8 is refused, naming the fix."""
    torch_settings = settings.model_copy(update={"embedding_encoder": "torch"})
    ingest_paths(torch_settings, SEED_DIR)
    fp32 = settings.model_copy(update={"embedding_encoder": "onnx"})
    assert _answers(fp32)
    int8 = load_embedder(encoder="onnx-int8")
    with pytest.raises(ModelMismatchError) as refused:
        open_store(settings.store, int8.name, int8.dim, create=False)
    assert "EMBEDDING_ENCODER=onnx " in str(refused.value)
    assert "`ingest --reembed`" in str(refused.value)


def _ingest_cli(
    settings: Settings, encoder: str, *args: str, monkeypatch: pytest.MonkeyPatch
) -> int:
    monkeypatch.setenv("CHROMA_PATH", str(settings.chroma_path))
    monkeypatch.setenv("EMBEDDING_ENCODER", encoder)
    return ingest_main(list(args))


def test_reembed_switches_a_store_to_the_configured_encoder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`ingest --reembed` gives every chunk and article the new vectors; asking works again."""
    monkeypatch.chdir(tmp_path)  # no .env
    settings = make_settings(tmp_path)
    assert _ingest_cli(settings, "onnx", "--quiet", str(SEED_DIR), monkeypatch=monkeypatch) == 0
    assert _ingest_cli(settings, "onnx-int8", "--reembed", "--quiet", monkeypatch=monkeypatch) == 0
    assert "-> 'all-MiniLM-L6-v2+int8'" in capsys.readouterr().out
    int8 = load_embedder(encoder="onnx-int8")
    store = open_store(settings.store, int8.name, int8.dim, create=False)
    hits = list(store.iter_chunks(include_embeddings=True))
    stored = np.array([h.embedding for h in hits])
    assert np.abs(stored - int8.encode([h.text for h in hits])).max() < 1e-5
    centroid = store.manifest_collection.get(include=["embeddings"])["embeddings"][0]
    expected = stored.mean(axis=0) / np.linalg.norm(stored.mean(axis=0))
    assert np.abs(np.asarray(centroid) - expected).max() < 1e-5
    int8_settings = settings.model_copy(update={"embedding_encoder": "onnx-int8"})
    assert _answers(int8_settings)
    assert _ingest_cli(settings, "onnx-int8", "--reembed", monkeypatch=monkeypatch) == 0
    assert "nothing to re-embed" in capsys.readouterr().out


def test_an_interrupted_reembed_is_refused_until_it_is_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store left mid-re-embed answers nobody and takes no ingest; running it again
    finishes it."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings(tmp_path)
    ingest_paths(settings.model_copy(update={"embedding_encoder": "onnx"}), SEED_DIR)
    int8 = load_embedder(encoder="onnx-int8")
    store = open_store(settings.store, int8.name, int8.dim, check_model=False)
    store.record_model(int8.name + REEMBEDDING)  # where a killed re-embed stopped
    with pytest.raises(ModelMismatchError, match="interrupted: run `ingest --reembed` again"):
        open_store(settings.store, int8.name, int8.dim, create=False)
    assert _ingest_cli(settings, "onnx-int8", "--quiet", str(SEED_DIR), monkeypatch=monkeypatch)
    assert "interrupted" in capsys.readouterr().err
    assert _ingest_cli(settings, "onnx-int8", "--reembed", monkeypatch=monkeypatch) == 0
    assert "re-embedded 7 chunks of 1 article " in capsys.readouterr().out
    assert _answers(settings)


def test_a_writer_that_opened_before_a_reembed_is_refused(settings: Settings) -> None:
    """An ingest that opened the store before a re-embed began cannot add vectors of the
    old encoder to it."""
    fp32 = settings.model_copy(update={"embedding_encoder": "onnx"})
    ingest_paths(fp32, SEED_DIR)
    embedder = load_embedder(encoder="onnx")
    writer = open_store(fp32.store, embedder.name, embedder.dim)
    int8 = load_embedder(encoder="onnx-int8")
    open_store(settings.store, int8.name, int8.dim, check_model=False).record_model(
        int8.name + REEMBEDDING
    )
    local_news = expand([str(ROOT / "tests" / "local_news")], fp32.ingest)
    report = Ingestor(writer, embedder, fp32.max_chunks_per_article).run(local_news)
    assert report.failed and all("interrupted" in reason for _, reason in report.failed)
    assert report.chunks == 0 and len(writer.articles()) == 1


@pytest.mark.integration
def test_a_running_reader_follows_a_reembed_and_answers_from_the_new_vectors(
    tmp_path: Path,
) -> None:
    """A reader that keeps its own local index (as on another host) is answering from an
    fp32 store while `ingest --reembed` converts it to int8 in another process: it takes
    the new vectors through the change log, then embeds questions with int8, and answers."""
    settings = make_settings(tmp_path)
    ingest_paths(settings.model_copy(update={"embedding_encoder": "onnx"}), SEED_DIR)
    reader = settings.model_copy(
        update={"embedding_encoder": "onnx", "index_path": tmp_path / "reader-index"}
    )
    searcher = open_searcher(reader)
    assert searcher.archive is not None
    searcher.archive.stale_grace = 0.0  # reopen its embedded client at once, not after 10 s
    try:
        assert _found(searcher)
        before = _vectors(local_rows(searcher))
        done = run_console(
            "ingest",
            "--reembed",
            "--quiet",
            settings=settings,
            cwd=tmp_path,
            env={"EMBEDDING_ENCODER": "onnx-int8"},
        )
        assert done.code == 0, done.stderr
        assert "-> 'all-MiniLM-L6-v2+int8'" in done.stdout
        for _ in range(3):  # the first sync finds the vectors unreadable by its old client
            searcher.archive.sync()
        int8 = searcher.embedder
        assert (int8.name, int8.encoder) == ("all-MiniLM-L6-v2+int8", "onnx-int8")
        local = searcher.archive.local
        assert local is not None and not local.state.pending
        rows = local_rows(searcher)
        after = _vectors(rows)
        assert len(after) == 7 and set(after) == set(before)
        fresh = dict(zip([r.id for r in rows], int8.encode([r.text for r in rows]), strict=True))
        # The local index keeps vectors packed (cosine within ~1e-5 of what it was given);
        # fp32 and int8 vectors of one text are further apart (cosine ~0.994).
        assert min(_cosine(after[i], fresh[i]) for i in fresh) > 0.9999
        assert min(_cosine(before[i], fresh[i]) for i in fresh) < 0.9995
        assert _found(searcher)
    finally:
        searcher.close()


def _vectors(rows: list[ChunkRow]) -> dict[str, np.ndarray]:
    return {r.id: np.asarray(r.vector, dtype=np.float32) for r in rows}


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _found(searcher: Searcher) -> bool:
    answer = answer_question("Who was Cienfuegos?", searcher)
    return answer.found and "Cienfuegos" in (answer.lead or "")


def test_reembed_refuses_another_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Chunk sizes belong to a model: a store of another model is not re-embedded."""
    monkeypatch.chdir(tmp_path)
    settings = make_settings(tmp_path)
    int8 = load_embedder(encoder="onnx-int8")
    open_store(settings.store, "some-other-model", int8.dim).close()
    assert _ingest_cli(settings, "onnx-int8", "--reembed", monkeypatch=monkeypatch) == 2
    assert "Choose another COLLECTION" in capsys.readouterr().err


@pytest.mark.integration
def test_ask_answers_without_importing_torch(tmp_path: Path) -> None:
    """With the default encoder, `ask` starts without torch or sentence-transformers."""
    settings = make_settings(tmp_path)
    ingest_paths(settings, SEED_DIR)
    script = (
        "import sys; from ask.__main__ import main; code = main(['who was Cienfuegos?']); "
        "heavy = {'torch', 'sentence_transformers', 'transformers'} & set(sys.modules); "
        "print('heavy:', sorted(heavy)); sys.exit(code)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "EMBEDDING_"))}
    env["CHROMA_PATH"] = str(settings.chroma_path)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Cienfuegos" in done.stdout
    assert "heavy: []" in done.stdout
