"""Search: the engine seam, its engines, the live archive that follows commits, the searcher.

Owns: questions -> candidate chunks -> fused, one passage per article.
May import: `core.store`, `core.encode`, `core.language`, records and settings.
"""
