"""`ingest --reembed`: give a collection's stored chunks the vectors of the configured encoder.

For a switch between encoders of the same model (fp32 torch or ONNX <-> int8): the chunks'
texts are in the store, so no source file is read again and chunking does not change.
While it runs, the collection records the new identity marked "(re-embedding)", which every
other process refuses; an interrupted run is finished by running it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.embeddings import REEMBEDDING, Embedder, encoders_for
from core.errors import ModelMismatchError, StoreEmptyError
from core.store import Store

BATCH = 512


@dataclass(frozen=True)
class ReembedReport:
    """What a re-embed did."""

    chunks: int
    articles: int
    was: str
    now: str
    seconds: float

    def line(self) -> str:
        """One line for the terminal."""
        if not self.chunks and self.was == self.now:
            return f"nothing to re-embed: the vectors are already {self.now!r}"
        return (
            f"re-embedded {self.chunks} chunks of {self.articles} "
            f"article{'' if self.articles == 1 else 's'} "
            f"({self.was!r} -> {self.now!r}) in {self.seconds:.1f} s"
        )


def reembed(
    store: Store, embedder: Embedder, on_chunks: Callable[[int], object] | None = None
) -> ReembedReport:
    """Re-embed every committed chunk of the store with `embedder`, then record its identity.

    Args:
        store: Opened with `check_model=False`.
        embedder: The configured encoder.
        on_chunks: Called with the number of chunks done after each batch (progress).

    Raises:
        StoreEmptyError: the collection does not exist.
        ModelMismatchError: the collection holds another model's vectors (not an encoder
            switch): chunk sizes depend on the model, so it must be ingested anew.
    """
    started = time.perf_counter()
    built = store.built_with
    if built is None:
        raise StoreEmptyError(
            f"Collection '{store.settings.collection}' does not exist in "
            f"{store.settings.store_label}: nothing to re-embed. Run `ingest PATH` first."
        )
    was = built.removesuffix(REEMBEDDING)
    if was == embedder.name and not built.endswith(REEMBEDDING):
        return ReembedReport(0, 0, was, embedder.name, 0.0)
    if not (encoders_for(was) and encoders_for(embedder.name)):
        raise ModelMismatchError(
            f"Collection '{store.settings.collection}' holds vectors of {was!r}, another "
            f"model than {embedder.name!r}; re-embedding switches encoders of one model only. "
            "Choose another COLLECTION and ingest your articles into it."
        )
    store.sweep()  # leftovers of an interrupted write would be re-embedded for nothing
    store.record_model(embedder.name + REEMBEDDING)
    chunks = [(hit.id, hit.doc_id, hit.text) for hit in store.iter_chunks()]
    sums: dict[str, np.ndarray] = {}
    for begin in range(0, len(chunks), BATCH):
        part = chunks[begin : begin + BATCH]
        vectors = embedder.encode([text for _, _, text in part])
        store.replace_vectors([cid for cid, _, _ in part], vectors, {})
        for (_, doc_id, _), vector in zip(part, vectors, strict=True):
            sums[doc_id] = sums[doc_id] + vector if doc_id in sums else vector.copy()
        if on_chunks:
            on_chunks(len(part))
    centroids = {doc: total / (np.linalg.norm(total) or 1.0) for doc, total in sums.items()}
    store.replace_vectors([], np.zeros((0, embedder.dim), dtype=np.float32), centroids)
    store.record_model(embedder.name)
    return ReembedReport(
        len(chunks), len(centroids), was, embedder.name, time.perf_counter() - started
    )
