"""Wiring shared by the entry points: settings -> encoder -> search engine -> searcher.

The one place an engine is chosen. `ENGINES` maps a `SEARCH_ENGINE` name to a builder that
gives the engine its sections of the settings (`settings.store`, `settings.index`): adding
an engine is one class behind `core.search.index.SearchIndex` and one entry here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from core.encode.embeddings import Embedder, load_encoder, use_threads
from core.errors import NewsroomError
from core.search.archive import LiveArchive
from core.search.building import BuildingIndex
from core.search.hybrid import HybridIndex
from core.search.index import SearchIndex
from core.search.searcher import Searcher
from core.settings import Settings
from core.store import open_store


@dataclass
class Engine:
    """A search engine as the wiring built it.

    Attributes:
        index: What the searcher ranks with.
        archive: What keeps it current (`LiveArchive`: synced once by `open_searcher`,
            in a thread by the bot), or None for an engine that needs nothing of the kind.
        building: What answers while a new host builds its local index in the background
            (the bot starts it; `ask` builds first), or None for an engine with no such wait.
    """

    index: SearchIndex
    archive: LiveArchive | None = None
    building: BuildingIndex | None = None


def _hybrid(settings: Settings, embedder: Embedder) -> Engine:
    """Chroma's nearest neighbours + this host's tantivy replica, kept current."""
    connect = functools.partial(
        open_store, settings.store, embedder.name, embedder.dim, create=False
    )
    archive = LiveArchive(
        settings.store, settings.index, embedder.name, embedder.dim, connect=connect
    )
    index = BuildingIndex(HybridIndex(archive), archive)  # hybrid's, once this host has it
    return Engine(index, archive, index)


ENGINES: dict[str, Callable[[Settings, Embedder], Engine]] = {"hybrid": _hybrid}


def open_engine(settings: Settings) -> tuple[Engine, Embedder]:
    """The model and the configured engine (nothing opened yet).

    Raises:
        NewsroomError: SEARCH_ENGINE names no engine.
    """
    build = ENGINES.get(settings.index.engine)
    if build is None:
        raise NewsroomError(
            f"SEARCH_ENGINE={settings.search_engine!r} is not a search engine: "
            f"set it to one of {', '.join(sorted(ENGINES))}."
        )
    use_threads(settings.encoder.threads)
    embedder = load_encoder(settings.encoder)
    return build(settings, embedder), embedder


def open_searcher(settings: Settings) -> Searcher:
    """A searcher over the configured engine, caught up with the store once.

    A long-running process keeps it current with `searcher.archive.start()` (the bot does);
    `searcher.close()` stops that and releases the store.

    Raises:
        StoreUnavailableError: the store cannot be reached.
        NewsroomError: SEARCH_ENGINE names no engine.
    """
    engine, embedder = open_engine(settings)
    if engine.archive is not None:
        engine.archive.sync()
    return Searcher(engine.index, embedder, archive=engine.archive)
