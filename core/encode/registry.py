"""The encoder seam: a backend protocol, the loaded `Embedder`, and the registry of encoders.

An encoder is one class: it declares its `name` (the value of EMBEDDING_ENCODER), the
identity its vectors are recorded under in a collection, which other encoders' vectors it
can search, and how it loads. Adding an encoder is one such class, decorated `@register`,
in a module `core.encode.embeddings` imports.

Owns: `EncoderBackend`, `Embedder`, `Encoder`, `register`, `encoder_named`, `encoder_names`.
May import: `core.errors`, `core.settings`, `core.encode.weights`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np

from core.encode.weights import is_bundled
from core.errors import ConfigError
from core.settings import DEFAULT_ENCODER, DEFAULT_MODEL

BATCH_SIZE = 32


class EncoderBackend(Protocol):
    """What runs the model: texts in, unit-length vectors out (one row per text)."""

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray: ...


class Embedder:
    """A loaded encoder with the facts the store and the chunker need.

    Attributes:
        name: The identity of its vectors, as recorded in the collection.
        encoder: The registered encoder's name (`torch`, `onnx`, `onnx-int8`).
        dim: Embedding dimension.
        max_tokens: Word pieces the model reads; anything beyond is silently dropped,
            so chunks must fit in `max_tokens - 2` (for [CLS] and [SEP]).
    """

    def __init__(
        self,
        name: str,
        encoder: str,
        dim: int,
        max_tokens: int,
        backend: EncoderBackend,
        tokenizer: Any,
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


class Encoder:
    """One way of computing a model's vectors. Subclasses set the class attributes and
    `load`; `identity` is the recorded name of their vectors.

    Attributes:
        name: The value of EMBEDDING_ENCODER that selects it.
        suffix: Appended to the model's name in the identity, for vectors that differ
            from the model's own (`+int8`); empty when they equal it to float rounding.
        compatible: Other encoders whose vectors this one can search as its own.
        any_model: True when it runs any EMBEDDING_MODEL; else the bundled model only.
    """

    name: ClassVar[str]
    suffix: ClassVar[str] = ""
    compatible: ClassVar[frozenset[str]] = frozenset()
    any_model: ClassVar[bool] = False

    def identity(self, model: str) -> str:
        """The name a collection records for this encoder's vectors of `model`."""
        return (DEFAULT_MODEL if is_bundled(model) else model) + self.suffix

    def searches(self, recorded: str) -> bool:
        """True when a collection recorded as `recorded` holds vectors of the bundled model
        this encoder can search: its own, or a compatible encoder's."""
        mine = {self.identity(DEFAULT_MODEL)}
        mine |= {
            _REGISTRY[other].identity(DEFAULT_MODEL)
            for other in self.compatible
            if other in _REGISTRY
        }
        return recorded in mine

    def load(self, model: str, threads: int) -> Embedder:
        """The loaded encoder (`model` is DEFAULT_MODEL or a name only `any_model` runs).

        Raises:
            ConfigError: the model or a file cannot be loaded or fails its checksum.
        """
        raise NotImplementedError


_REGISTRY: dict[str, Encoder] = {}


def register(cls: type[Encoder]) -> type[Encoder]:
    """Class decorator: make an encoder selectable by its `name`."""
    _REGISTRY[cls.name] = cls()
    return cls


def encoder_names() -> list[str]:
    """The registered encoders' names, in the order they were registered."""
    return list(_REGISTRY)


def encoders() -> list[Encoder]:
    """The registered encoders, in the order they were registered."""
    return list(_REGISTRY.values())


def encoder_named(name: str) -> Encoder:
    """The registered encoder EMBEDDING_ENCODER names.

    Raises:
        ConfigError: none is registered under `name`; the message lists the names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"EMBEDDING_ENCODER={name!r} is not one of {', '.join(_REGISTRY)}; "
            f"unset it to use {DEFAULT_ENCODER}."
        ) from None


def general_encoder() -> Encoder:
    """The first registered encoder that runs any EMBEDDING_MODEL (for messages)."""
    return next(e for e in _REGISTRY.values() if e.any_model)
