"""Errors a person sees. Each message says what to do next.

The core raises these; the edges (CLI, bot) turn them into one line or a friendly reply.
"""

from __future__ import annotations


class NewsroomError(Exception):
    """Base class: its message is meant for the person running the command."""


class ConfigError(NewsroomError):
    """A setting is missing or malformed."""


class ModelMismatchError(NewsroomError):
    """The collection was built with another embedding model than the one configured."""


class StoreUnavailableError(NewsroomError):
    """The store cannot be reached (server down) or read right now."""


class StaleReaderError(StoreUnavailableError):
    """An embedded Chroma client cannot read vectors another process wrote after it opened
    (its HNSW index is the one it loaded); a new client can."""


class StoreEmptyError(NewsroomError):
    """The collection holds no articles yet."""


class LoadError(NewsroomError):
    """One input could not be turned into an article; the rest of the batch goes on."""
