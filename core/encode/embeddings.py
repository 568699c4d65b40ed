"""The embedding model: loaded once per process, verified, and used for chunks and questions.

The encoders are a registry (`core.encode.registry`); three run the same all-MiniLM-L6-v2
weights (`EMBEDDING_ENCODER`):

- `onnx-int8` (default): ONNX Runtime on an int8 (dynamically quantised) export: 3.5x
  torch's ingest throughput per CPU second, and it starts without importing torch or
  sentence-transformers (5 s of CPU at an `ask`'s start-up). See docs/benchmarks.md.
- `onnx`: ONNX Runtime on the fp32 export; vectors equal torch's to float rounding.
- `torch`: sentence-transformers on torch, fp32 (any other EMBEDDING_MODEL uses this one).

The ONNX files are built from the bundled weights, offline, by `buildtools.onnx` (at
`make install`, or by an entry point before it loads an encoder) and checked against their
recorded sha256 on load (`core.encode.onnx`).

A collection records the identity of the vectors it holds: fp32 encoders share the model's
name (their vectors are interchangeable, see docs/benchmarks.md), int8 adds `+int8`. A store
built with the other identity is refused, with the command that re-embeds it.
"""

from __future__ import annotations

import os
import sys
from functools import cache

# The built-in encoders register themselves on import.
import core.encode.onnx  # noqa: F401
import core.encode.torch_encoder  # noqa: F401
from core.encode.registry import (
    BATCH_SIZE,
    Embedder,
    EncoderBackend,
    encoder_named,
    encoders,
    general_encoder,
)
from core.encode.weights import file_sha256, is_bundled
from core.errors import ConfigError
from core.sections import EncoderSettings
from core.settings import DEFAULT_ENCODER, DEFAULT_MODEL

__all__ = [
    "BATCH_SIZE",
    "REEMBEDDING",
    "Embedder",
    "EncoderBackend",
    "embedder_for",
    "encoders_for",
    "file_sha256",
    "identity",
    "load_embedder",
    "load_encoder",
    "mismatch_hint",
    "use_threads",
]

REEMBEDDING = " (re-embedding)"  # the identity a collection records while being re-embedded

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
    return encoder_named(encoder).identity(model)


def encoders_for(name: str) -> list[str]:
    """The encoders that can search vectors of the recorded identity `name` (bundled model
    only), in the registry's order."""
    return [e.name for e in encoders() if e.searches(name)]


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
    general = general_encoder().name
    return f"Set EMBEDDING_MODEL={built_with} and EMBEDDING_ENCODER={general}, {elsewhere}"


def load_encoder(section: EncoderSettings) -> Embedder:
    """The encoder the encoder section configures (its model and encoder; threads as set
    by `use_threads`). See `load_embedder`."""
    return load_embedder(section.model, section.encoder)


def load_embedder(
    name: str = DEFAULT_MODEL, encoder: str = DEFAULT_ENCODER, threads: int | None = None
) -> Embedder:
    """Load (once per process) the configured model with the configured encoder.

    The default, all-MiniLM-L6-v2, comes from the bundled package and is verified; any
    other name or path is handed to sentence-transformers as is (a hub id needs a hub),
    with an encoder that runs any model (`torch`) only.

    Args:
        name: EMBEDDING_MODEL.
        encoder: EMBEDDING_ENCODER: a registered encoder's name.
        threads: CPU threads (0: the library's default; None: as set by `use_threads`).

    Raises:
        ConfigError: unknown encoder, an ONNX encoder for another model, a model that
            cannot be loaded, or a file that is missing or fails its checksum.
    """
    chosen = encoder_named(encoder)
    if not chosen.any_model and not is_bundled(name):
        raise ConfigError(
            f"EMBEDDING_ENCODER={encoder} runs only the bundled {DEFAULT_MODEL}; "
            f"set EMBEDDING_ENCODER={general_encoder().name} to use {name!r}."
        )
    # One model per process whichever way it is named or the arguments are passed.
    name = DEFAULT_MODEL if is_bundled(name) else name
    return _load(name, encoder, _threads if threads is None else threads)


@cache
def _load(name: str, encoder: str, threads: int) -> Embedder:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return encoder_named(encoder).load(name, threads)
