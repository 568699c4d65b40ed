"""Wiring shared by the entry points: settings -> model -> live archive -> searcher."""

from __future__ import annotations

from core.encode.embeddings import Embedder, load_encoder, use_threads
from core.search.archive import LiveArchive
from core.search.hybrid import HybridIndex
from core.search.searcher import Searcher
from core.settings import Settings


def open_archive(settings: Settings) -> tuple[LiveArchive, Embedder]:
    """The model and a live archive over the configured store (nothing opened yet)."""
    use_threads(settings.encoder.threads)
    embedder = load_encoder(settings.encoder)
    return LiveArchive(settings, embedder.name, embedder.dim), embedder


def open_searcher(settings: Settings) -> Searcher:
    """A searcher over the configured store, caught up with it once.

    A long-running process keeps it current with `searcher.archive.start()` (the bot does);
    `searcher.close()` stops that and releases the store.

    Raises:
        StoreUnavailableError: the store cannot be reached.
    """
    archive, embedder = open_archive(settings)
    archive.sync()
    return Searcher(HybridIndex(archive), embedder, archive=archive)
