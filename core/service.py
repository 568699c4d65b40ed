"""Wiring shared by the entry points: settings -> model -> store -> searcher."""

from __future__ import annotations

from core.embeddings import load_embedder, use_threads
from core.search import Searcher
from core.settings import Settings
from core.store import open_store


def open_searcher(settings: Settings) -> Searcher:
    """A searcher over the configured store (read side: nothing is created)."""
    use_threads(settings.query_threads)
    embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
    store = open_store(settings, embedder.name, embedder.dim, create=False)
    return Searcher(store, embedder)
