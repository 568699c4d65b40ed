"""The archive store: THE contract both `ingest` and the bot open the archive through.

Owns: the collection, its manifest and change log, the write protocols (replace, delete,
re-embed), the sweep of half-written articles, and typed reads.
May import: `core.errors`, `core.models`, `core.settings`.
"""
