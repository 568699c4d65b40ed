"""The ONNX encoders (`onnx`, `onnx-int8`) and the built files they run on.

Owns: `OnnxBackend`, where the built files live (`encoder_dir`, `FILES`), checking a built
file against the sha256 its build recorded (`verified_file`), and the two encoder classes.
The files are built from the bundled weights by `buildtools.onnx` (`make install`, or an
entry point before it loads an encoder); the library only reads them.
May import: `core.errors`, `core.settings`, `core.encode.weights`, `core.encode.registry`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.encode.registry import Embedder, Encoder, register
from core.encode.weights import bundled_model_path, file_sha256, load_tokenizer, max_tokens
from core.errors import ConfigError
from core.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

FILES = {"onnx": "all-MiniLM-L6-v2.onnx", "onnx-int8": "all-MiniLM-L6-v2-int8.onnx"}
BUILD_COMMAND = "python -m buildtools.onnx"
# Files whose content was checked in this process, by (path, size, mtime): a file is hashed
# once even when an entry point checks it before the library loads it.
_checked: set[tuple[Path, int, int]] = set()
_checked_lock = threading.Lock()


def encoder_dir() -> Path:
    """Where the built files live: inside the environment, else the user's cache."""
    inside = Path(sys.prefix) / "share" / "newsroom-bot"
    if inside.is_dir() or os.access(sys.prefix, os.W_OK):
        return inside
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "newsroom-bot"


def verified_file(encoder: str, directory: Path | None = None) -> Path | None:
    """The built file of an ONNX encoder when it matches the sha256 its build recorded
    (`<file>.json`), else None (missing, unrecorded or damaged)."""
    path = (directory or encoder_dir()) / FILES[encoder]
    record = path.with_suffix(".json")
    if not (path.is_file() and record.is_file()):
        return None
    stat = path.stat()
    key = (path.resolve(), stat.st_size, stat.st_mtime_ns)
    with _checked_lock:
        if key in _checked:
            return path
    expected = json.loads(record.read_text(encoding="utf-8")).get("sha256")
    if file_sha256(path) != expected:
        log.warning("%s does not match its recorded sha256", path)
        return None
    with _checked_lock:
        _checked.add(key)
    return path


def built_file(encoder: str) -> Path:
    """The verified built file of an ONNX encoder.

    Raises:
        ConfigError: it is missing or damaged; the message gives the command that builds it.
    """
    path = verified_file(encoder)
    if path is None:
        raise ConfigError(
            f"The {encoder} encoder's file {encoder_dir() / FILES[encoder]} is missing or "
            f"damaged. Build it with `{BUILD_COMMAND}` (or run `make install`)."
        )
    return path


class OnnxBackend:
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
        """One text's unit-length vector."""
        encoded = self.tokenizer.encode(text)
        ids = np.array([encoded.ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if self._types:
            feed["token_type_ids"] = np.zeros_like(ids)
        pooled = self.session.run(None, feed)[0][0].mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)  # type: ignore[no-any-return]

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """Unit-length vectors, one row per text (`batch_size` and `progress` unused)."""
        if self.workers == 1 or len(texts) == 1:
            return np.stack([self.embed_one(t) for t in texts])
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="encoder")
        return np.stack(list(self._pool.map(self.embed_one, texts)))


def open_backend(path: Path, folder: Path, workers: int, optimize: bool = True) -> OnnxBackend:
    """An `OnnxBackend` over the ONNX file `path` with the tokenizer of the model in `folder`.

    Args:
        optimize: Tune the session as the encoders run it (all graph optimisations, one
            thread per text); False: ONNX Runtime's defaults, as a build's check runs it.
    """
    import onnxruntime as ort

    if optimize:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # its warnings are about the graph, not about us
        options.intra_op_num_threads = 1  # parallel across texts instead: see OnnxBackend
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    else:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    tokenizer = load_tokenizer(folder)
    tokenizer.enable_truncation(max_tokens(folder))
    return OnnxBackend(session, tokenizer, workers)


class OnnxFileEncoder(Encoder):
    """An encoder of the bundled model that runs a file `buildtools.onnx` built
    (`FILES[name]`) in ONNX Runtime."""

    def load(self, model: str, threads: int) -> Embedder:
        """The bundled model on this encoder's built file (see `Encoder.load`)."""
        folder = bundled_model_path()
        path = built_file(self.name)
        workers = threads if threads > 0 else len(os.sched_getaffinity(0))
        backend = open_backend(path, folder, workers)
        dim = int(backend.session.get_outputs()[0].shape[-1])
        log.info("loaded embedding model %s with %s (dim %d)", DEFAULT_MODEL, self.name, dim)
        identity = self.identity(DEFAULT_MODEL)
        return Embedder(
            identity, self.name, dim, max_tokens(folder), backend, load_tokenizer(folder)
        )


@register
class OnnxInt8Encoder(OnnxFileEncoder):
    """ONNX Runtime on an int8 (dynamically quantised) export of the bundled model: 3.5x
    torch's ingest throughput per CPU second, and it starts without importing torch or
    sentence-transformers (docs/benchmarks.md). Its vectors are its own (`+int8`)."""

    name = "onnx-int8"
    suffix = "+int8"


@register
class OnnxEncoder(OnnxFileEncoder):
    """ONNX Runtime on the fp32 export of the bundled model: its vectors equal torch's to
    float rounding, so each searches the other's collections."""

    name = "onnx"
    compatible = frozenset({"torch"})
