"""This host's local search index as the writers see it: opened beside the store, and
brought up to date after each commit, so that a bot on this host answers new articles at
once. Shared by `ingest` and `ingest follow` (`ingest.__main__`, `ingest.follow_cli`)."""

from __future__ import annotations

import logging

from core.search.archive import LiveArchive
from core.search.replica_state import IndexBusyError
from core.settings import Settings
from core.store import ArchiveStore

log = logging.getLogger("ingest")


def local_index(settings: Settings, store: ArchiveStore) -> LiveArchive:
    """This host's local search index, updated after each commit so that a bot here answers
    new articles at once. With a Chroma server, only a local index that already exists is
    updated (the bots' hosts keep their own)."""
    return LiveArchive(
        settings.store,
        settings.index,
        store.model_name,
        store.dim,
        store=store,
        build_missing=not settings.server_mode,
        answers_questions=False,
    )


def update(archive: LiveArchive) -> None:
    """Apply what was committed to the local index; a bot busy updating it applies it too."""
    try:
        archive.sync()
    except IndexBusyError as exc:  # a bot is updating it: it will apply this commit too
        log.warning("%s", exc)
