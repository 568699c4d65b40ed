"""Synthetic archives for scale benchmarks: real news text, reshuffled, as many as asked.

Copy `c` of each dev article gets a new id, its sentences reordered with a seed of its own,
and a publish date moved `c` quarters into the past, so a larger archive also spans more
time (as a real one does, which matters for date filters). The texts stay real English
news, so token statistics (and BM25 costs) are realistic; nothing here is an evaluation.

The embedding seam for these archives is `HashedEmbedder`: a deterministic bag-of-words
projection (each word a fixed random unit vector, a text the normalised sum), so that
vectors of texts sharing words are close, as real embeddings of news are, and the vector
index is exercised on realistically clustered data instead of uniform noise.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np

from core.language.text import split_sentences, words

QUARTER_DAYS = 91


def reshuffled(records: list[dict[str, Any]], copies: int, start: int = 0) -> Iterator[dict]:
    """`copies` reshuffled copies of every record, copy numbers from `start`."""
    for copy in range(start, start + copies):
        for record in records:
            yield reshuffle(record, copy)


def reshuffle(record: dict[str, Any], copy: int) -> dict[str, Any]:
    """One copy of a record: new id, sentences reordered, dated `copy` quarters earlier."""
    text = str(record.get("text") or "")
    sentences = [s.text for s in split_sentences(text)]
    rng = random.Random(f"{record.get('id')}:{copy}")
    rng.shuffle(sentences)
    out = dict(record)
    out["id"] = f"{record.get('id')}~{copy}"
    out["text"] = " ".join(sentences)
    if out.get("url"):
        out["url"] = f"{out['url']}?copy={copy}"
    published = str(record.get("published_at") or "")[:10]
    if published:
        try:
            day = date.fromisoformat(published) - timedelta(days=QUARTER_DAYS * copy)
            out["published_at"] = day.isoformat()
        except ValueError:
            pass
    return out


class HashedEmbedder:
    """Deterministic text vectors: the normalised sum of a fixed random vector per word.

    It stands in for the model at the embedding seam of a scale benchmark, where thousands
    of chunks a second must be "embedded" and only costs (not quality) are measured.
    """

    def __init__(self, dim: int = 384, vocabulary: int = 1 << 16):
        rng = np.random.default_rng(20261129)
        table = rng.standard_normal((vocabulary, dim)).astype(np.float32)
        self._table = table / np.linalg.norm(table, axis=1, keepdims=True)
        self._mask = vocabulary - 1
        self.dim = dim

    def _row(self, word: str) -> int:
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=4).digest()
        return int.from_bytes(digest, "little") & self._mask

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one row per text."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            rows = [self._row(w) for w in words(text)]
            if rows:
                out[i] = self._table[rows].sum(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms
