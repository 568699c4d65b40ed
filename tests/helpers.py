"""Small helpers the tests share: ingest through the real pipeline, open a searcher."""

from __future__ import annotations

from pathlib import Path

from core.embeddings import load_embedder
from core.search import Searcher
from core.service import open_searcher
from core.settings import Settings
from core.store import open_store
from ingest.pipeline import Ingestor, Report
from ingest.sources import expand


def ingest_paths(settings: Settings, *paths: str | Path) -> Report:
    """Run the real ingest pipeline on paths, as `ingest PATH...` would."""
    embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
    store = open_store(settings, embedder.name, embedder.dim)
    return Ingestor(store, embedder, settings.max_chunks_per_article).run(
        expand([str(p) for p in paths], settings)
    )


def searcher_for(settings: Settings) -> Searcher:
    """A fresh reader over the settings' store."""
    return open_searcher(settings)
