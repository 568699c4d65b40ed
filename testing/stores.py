"""Settings that read nothing from `.env`, and stores filled through the real ingest
pipeline (the bundled sample article, or any files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.encode.embeddings import load_embedder
from core.settings import Settings
from core.store import open_store
from ingest.pipeline import Ingestor, Report
from ingest.sources import expand

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "examples" / "articles"


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    """Settings with a private store folder under `tmp`, nothing from `.env`."""
    values: dict[str, Any] = {"chroma_path": tmp / "chroma"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def ingest_paths(settings: Settings, *paths: str | Path) -> Report:
    """Run the real ingest pipeline on paths, as `ingest PATH...` would."""
    embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
    store = open_store(settings.store, embedder.name, embedder.dim)
    try:
        return Ingestor(store, embedder, settings.max_chunks_per_article).run(
            expand([str(p) for p in paths], settings.ingest)
        )
    finally:
        store.close()
