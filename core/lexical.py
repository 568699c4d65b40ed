"""The lexical side of hybrid search: BM25 over chunks and over whole articles.

Chroma's local mode has no sparse index, so this one is ours. It is rebuilt from the
store's own committed chunks (see `core.snapshot`), so it cannot drift from Chroma.
"""

from __future__ import annotations

import numpy as np

from core.text import words

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "it's",
        "me",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "on",
        "or",
        "our",
        "ours",
        "she",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "also",
        "about",
        "after",
        "again",
        "against",
        "all",
        "am",
        "any",
        "because",
        "before",
        "below",
        "between",
        "both",
        "during",
        "each",
        "few",
        "further",
        "here",
        "just",
        "more",
        "most",
        "other",
        "out",
        "over",
        "own",
        "same",
        "should",
        "only",
        "under",
        "until",
        "up",
        "very",
        "s",
        "t",
        "now",
        "said",
        "says",
        "according",
        "one",
    ]
)


def stem(word: str) -> str:
    """A light English stemmer: plurals and possessives only (names stay recognisable)."""
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Index terms of a text: lower-cased, stop words dropped, lightly stemmed."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1 or w.isdigit()]


class Bm25:
    """A BM25 index over a list of token lists (bm25s underneath)."""

    def __init__(self, corpus_tokens: list[list[str]]):
        import bm25s

        self.size = len(corpus_tokens)
        self._index = bm25s.BM25(k1=1.2, b=0.75)
        if corpus_tokens:
            self._index.index(corpus_tokens, show_progress=False)
        df: dict[str, int] = {}
        for tokens in corpus_tokens:
            for token in set(tokens):
                df[token] = df.get(token, 0) + 1
        self._df = df

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query (zeros where nothing matches)."""
        vocab = self._index.vocab_dict if self.size else {}
        known = [t for t in query_tokens if t in vocab]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._index.get_scores(known), dtype=np.float32)

    def idf(self, token: str) -> float:
        """Inverse document frequency of a term (high for rare names)."""
        df = self._df.get(token, 0)
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))
