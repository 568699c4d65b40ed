"""Search: the engine seam, its engines, the live archive that follows commits, the searcher.

Owns: questions -> candidate chunks -> fused, one passage per article.
May import: `core.store`, `core.encode`, `core.language`, records and settings.

    searcher.py        the ranking policy (fusion, date windows, freshness, passages)
    index.py           the seam: `SearchIndex`, over the records of records.py
    hybrid.py          the `hybrid` engine: Chroma's nearest chunks + the local tantivy index
      archive.py       its live archive: follows the store's change log (delta.py, rebuild.py)
      replicator.py    the local index following the log, over tantivy_index.py, replica_state.py
      processes.py     a build's child dies with the bot and logs through it; freed memory
    building.py        while a new host builds: the store's dense search, then hybrid.py
    memory.py          an engine in memory, for fast tests
    query.py           a question's text and filters

A new engine is one class implementing `SearchIndex`, registered in `core.service.ENGINES`.
"""
