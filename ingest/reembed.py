"""`ingest --reembed`: give a collection's stored chunks the vectors of the configured encoder.

For a switch between encoders of the same model (fp32 torch or ONNX <-> int8): the chunks'
texts are in the store, so no source file is read again and chunking does not change.
While it runs, the collection records the new identity marked "(re-embedding)": processes
that start then are refused, writers of the old identity too, and running readers keep
their encoder until it is done (`core.search.archive`). Each batch of articles is written through
the change log (`ArchiveStore.replace_vectors`), so every host's local index takes the new vectors
as it takes any write. An interrupted run is finished by running it again: articles that
already hold the new vectors are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from core.encode.embeddings import REEMBEDDING, Embedder, encoders_for
from core.errors import ModelMismatchError, StoreEmptyError
from core.models import StoredArticle
from core.store import ArchiveStore, Version, chunk_ids

BATCH_CHUNKS = 512  # chunks embedded and written per logged batch


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
    store: ArchiveStore,
    embedder: Embedder,
    on_chunks: Callable[[int], object] | None = None,
    after_commit: Callable[[], object] | None = None,
) -> ReembedReport:
    """Re-embed every committed chunk of the store with `embedder`, then record its identity.

    Args:
        store: Opened with `check_model=False`.
        embedder: The configured encoder.
        on_chunks: Called with the number of chunks done after each batch (progress).
        after_commit: Called after each batch is committed (to update this host's local index).

    Raises:
        StoreEmptyError: the collection does not exist.
        ModelMismatchError: the collection holds another model's vectors (not an encoder
            switch): chunk sizes depend on the model, so it must be ingested anew.
    """
    started = time.perf_counter()
    built = store.recorded_model()
    if built is None:
        raise StoreEmptyError(
            f"Collection '{store.settings.collection}' does not exist in "
            f"{store.settings.label}: nothing to re-embed. Run `ingest PATH` first."
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
    chunks = articles = 0
    progress = True
    while progress:  # again until a pass finds nothing: a write that raced the start is caught
        todo = [a for a in store.iter_articles() if a.vectors != embedder.name]
        progress = False
        for batch in _batches(todo):
            entries = []
            rows = {hit.id: hit.text for hit in store.chunks_of(batch)}
            for article in batch:
                ids = chunk_ids(article.doc_id, Version(article.content_hash, article.n_chunks))
                if all(cid in rows for cid in ids):  # else replaced meanwhile: next pass
                    entries.append((article, ids, embedder.encode([rows[c] for c in ids])))
            store.replace_vectors(entries, embedder.name)
            progress = progress or bool(entries)
            chunks += sum(len(ids) for _, ids, _ in entries)
            articles += len(entries)
            if after_commit:
                after_commit()
            if on_chunks:
                on_chunks(sum(len(ids) for _, ids, _ in entries))
    store.record_model(embedder.name)
    if after_commit:
        after_commit()
    return ReembedReport(chunks, articles, was, embedder.name, time.perf_counter() - started)


def _batches(articles: list[StoredArticle]) -> list[list[StoredArticle]]:
    """Articles in batches of about `BATCH_CHUNKS` chunks (an article is never split)."""
    out: list[list[StoredArticle]] = [[]]
    size = 0
    for article in articles:
        if out[-1] and size + article.n_chunks > BATCH_CHUNKS:
            out.append([])
            size = 0
        out[-1].append(article)
        size += article.n_chunks
    return [b for b in out if b]
