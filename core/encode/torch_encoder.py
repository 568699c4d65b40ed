"""The `torch` encoder: sentence-transformers on torch, fp32, for any EMBEDDING_MODEL.

Owns: `TorchBackend` and `TorchEncoder`: the bundled model (its weights checked by sha256)
or a user's own model folder or hub id, handed to sentence-transformers as is.
May import: `core.errors`, `core.settings`, `core.encode.weights`, `core.encode.registry`.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import numpy as np

from core.encode.registry import Embedder, Encoder, register
from core.encode.weights import bundled_model_path, is_bundled, verify_weights
from core.errors import ConfigError
from core.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)


class TorchBackend:
    """A sentence-transformers model, called by one thread at a time."""

    def __init__(self, model: Any):
        self.model = model
        self._lock = threading.Lock()  # torch modules are not safe to call from several threads

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Unit-length vectors, one row per text."""
        with self._lock:
            return self.model.encode(  # type: ignore[no-any-return]
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )


@register
class TorchEncoder(Encoder):
    """sentence-transformers on torch, fp32: the model's own vectors. Any other
    EMBEDDING_MODEL than the bundled one runs on this encoder."""

    name = "torch"
    compatible = frozenset({"onnx"})
    any_model = True

    def load(self, model: str, threads: int) -> Embedder:
        """The model on sentence-transformers (see `Encoder.load`)."""
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        if is_bundled(model):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model never needs a hub
            folder = bundled_model_path()
            verify_weights(folder)
            source = str(folder)
        else:
            source = model
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        if threads > 0:
            torch.set_num_threads(threads)
        hf_logging.disable_progress_bar()
        try:
            loaded = SentenceTransformer(source, device="cpu")
        except Exception as exc:
            raise ConfigError(
                f"Could not load embedding model {model!r}: {exc}. Set EMBEDDING_MODEL to a "
                f"local model folder, or unset it to use the bundled {DEFAULT_MODEL}."
            ) from exc
        dim = int(loaded.get_embedding_dimension() or 0)
        identity = self.identity(model)
        log.info("loaded embedding model %s with torch (dim %d)", identity, dim)
        tokenizer = getattr(loaded.tokenizer, "backend_tokenizer", None)
        if tokenizer is None:
            raise ConfigError(
                f"Model {model!r} has no fast tokenizer; use another EMBEDDING_MODEL."
            )
        tokenizer = tokenizer.__class__.from_str(tokenizer.to_str())
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return Embedder(
            identity,
            self.name,
            dim,
            int(loaded.max_seq_length or 256),
            TorchBackend(loaded),
            tokenizer,
        )
