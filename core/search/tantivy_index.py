"""The tantivy side of the local index: two indexes in one folder, what a chunk and an
article are in them, and every read a question makes.

`chunks/` holds one document per chunk (its BM25 terms, outlet terms, publish time, the
update that added it, and its row and packed vector, stored); `articles/` one per article
(its terms over title, outlet and text, and its record). Two indexes, so that each keeps
its own BM25 length statistics. Following the store (what to add or remove, and when) is
`core.search.replicator`'s. May import records, `core.language` and `core.store` records.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np

from core.language.lexical import tokenize
from core.models import StoredArticle
from core.search.records import EARLIEST, UNDATED, ChunkRow, Filters, origin_terms
from core.search.replica_state import (
    LOCK_WAIT_SECONDS,
    IndexBusyError,
    IndexDamagedError,
    IndexUnwritableError,
    reason,
)
from core.store import ChunkHit, to_timestamp

# Terms in at most this many chunks have their live chunks counted for IDF (`idf`).
LIVE_COUNT_UP_TO = 2_000
_WRITER_HEAP = 64_000_000
_SCALE = np.dtype("<f4")  # a packed vector: its scale, then one int8 per dimension

P = ParamSpec("P")
R = TypeVar("R")


def _schema(stored: tuple[str, ...], epoch: bool = False) -> Any:
    """The fields both indexes share (id, BM25 terms, outlet terms, publish time), then the
    chunk's update epoch when asked, then the stored-only byte fields named."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("doc_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("origin", tokenizer_name="whitespace", index_option="basic")
    builder.add_integer_field("ts", stored=False, indexed=True, fast=True)
    if epoch:
        builder.add_integer_field("epoch", stored=False, indexed=True, fast=True)
    for name in stored:
        builder.add_bytes_field(name, stored=True, indexed=False, fast=False)
    return builder.build()


def reading(method: Callable[P, R]) -> Callable[P, R]:
    """A read of the replica: tantivy's errors (a truncated or garbled file) become
    `IndexDamagedError`, which its owner answers by rebuilding it."""

    @functools.wraps(method)
    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except ValueError as exc:
            raise IndexDamagedError(f"cannot be read ({reason(exc)})") from exc

    return read


class TantivyIndex:
    """The two tantivy indexes of one replica folder, and the reads of a question.

    Args:
        folder: `<INDEX_PATH>/<replica name>`; created when missing.
        dim: The embedding dimension.
        open_files: Open the indexes now (else the caller calls `_open_indexes`).

    Raises:
        IndexDamagedError: its index files cannot be read.
        IndexUnwritableError: its folder cannot be created.
    """

    def __init__(self, folder: Path, dim: int, open_files: bool = True):
        import tantivy

        self._t = tantivy
        self.folder = folder
        self.dim = dim
        try:
            for path in (folder, folder / "chunks", folder / "articles"):
                path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexUnwritableError(f"cannot be written ({reason(exc)})") from exc
        self.chunk_schema = _schema(("row", "vector"), epoch=True)
        self.article_schema = _schema(("record",))
        if open_files:
            self._open_indexes()

    def _open_indexes(self) -> None:
        t = self._t
        try:
            self._chunks = t.Index(self.chunk_schema, path=str(self.folder / "chunks"))
            self._articles = t.Index(self.article_schema, path=str(self.folder / "articles"))
        except ValueError as exc:
            raise IndexDamagedError(f"has index files that cannot be read ({reason(exc)})") from exc

    def counts(self) -> list[int]:
        """[chunks, articles] the indexes hold."""
        try:
            return [
                int(self._chunks.searcher().num_docs),
                int(self._articles.searcher().num_docs),
            ]
        except ValueError as exc:
            raise IndexDamagedError(f"cannot be read ({reason(exc)})") from exc

    # -- writing --------------------------------------------------------------------------------

    def add(
        self, record: StoredArticle, rows: list[ChunkHit], chunks: Any, articles: Any, epoch: int
    ) -> None:
        """Add an article's version and its chunks to the writers (no commit)."""
        t = self._t
        ts = published_ts(record.published_at)
        ts = UNDATED if ts is None else ts
        origin = " ".join(origin_terms(record.source, record.url))
        article_terms = tokenize(f"{record.title}\n{record.source}")
        for hit in rows:
            terms = tokenize(f"{record.title}\n{hit.text}")
            article_terms += terms
            start, end = hit.start, hit.end
            row = [hit.id, record.content_hash, hit.index, start, end, hit.text]
            chunks.add_document(
                t.Document(
                    doc_id=record.doc_id,
                    terms=" ".join(terms),
                    origin=origin,
                    ts=ts,
                    epoch=epoch,
                    row=json.dumps(row, ensure_ascii=False).encode("utf-8"),
                    vector=pack_vector(hit.embedding),
                )
            )
        articles.add_document(
            t.Document(
                doc_id=record.doc_id,
                terms=" ".join(article_terms),
                origin=origin,
                ts=ts,
                record=json.dumps(asdict(record), ensure_ascii=False).encode("utf-8"),
            )
        )

    def _open_writers(self) -> tuple[Any, Any]:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        chunks = None
        while True:
            try:
                chunks = chunks or self._chunks.writer(_WRITER_HEAP, 1)
                return chunks, self._articles.writer(_WRITER_HEAP, 1)
            except ValueError as exc:
                if "LockBusy" not in str(exc):
                    raise IndexUnwritableError(f"cannot be written ({reason(exc)})") from exc
                if time.monotonic() > deadline:
                    del chunks
                    raise IndexBusyError(
                        f"Another process is updating the index in {self.folder}; try again."
                    ) from exc
                time.sleep(0.1)

    def _reload_own(self) -> None:
        self._chunks.reload()
        self._articles.reload()

    # -- reading -------------------------------------------------------------------------------

    @reading
    def search_articles(self, terms: list[str], filters: Filters, k: int) -> list[str]:
        """Doc ids of the k articles with the best whole-article BM25, best first."""
        index, schema = self._articles, self.article_schema
        hits = self._search(index, schema, terms, filters, k)
        searcher = index.searcher()
        return [searcher.doc(address)["doc_id"][0] for _, address in hits]

    @reading
    def search_chunks(self, terms: list[str], filters: Filters, k: int) -> list[str]:
        """Doc ids of the k chunks with the best BM25, best first (one entry per chunk)."""
        index, schema = self._chunks, self.chunk_schema
        hits = self._search(index, schema, terms, filters, k)
        searcher = index.searcher()
        return [searcher.doc(address)["doc_id"][0] for _, address in hits]

    def _search(
        self, index: Any, schema: Any, terms: list[str], filters: Filters, k: int
    ) -> list[tuple[float, Any]]:
        query = self._terms_query(schema, terms)
        if query is None:
            return []
        restrict = self._filter_query(schema, filters)
        if restrict is not None:
            t = self._t
            query = t.Query.boolean_query([(t.Occur.Must, query), (t.Occur.Must, restrict)])
        return list(index.searcher().search(query, k, count=False).hits)

    def _terms_query(self, schema: Any, terms: list[str]) -> Any:
        t = self._t
        unique = list(dict.fromkeys(terms))
        if not unique:
            return None
        clauses = [(t.Occur.Should, t.Query.term_query(schema, "terms", w)) for w in unique]
        counts = {w: terms.count(w) for w in unique}
        if any(c > 1 for c in counts.values()):  # a repeated question word counts again
            clauses = [
                (t.Occur.Should, t.Query.boost_query(q, float(counts[w])))
                for w, (_, q) in zip(unique, clauses, strict=True)
            ]
        return t.Query.boolean_query(clauses)

    def _filter_query(self, schema: Any, filters: Filters) -> Any:
        t = self._t
        clauses = []
        if filters.since is not None or filters.before is not None:
            low = filters.since if filters.since is not None else EARLIEST
            high = filters.before - 1 if filters.before is not None else None
            clauses.append(
                (t.Occur.Must, t.Query.range_query(schema, "ts", t.FieldType.Integer, low, high))
            )
        if filters.sources:
            origin = t.Query.term_set_query(schema, "origin", list(filters.sources))
            clauses.append((t.Occur.Must, origin))
        return t.Query.boolean_query(clauses) if clauses else None

    @reading
    def articles(self, doc_ids: Iterable[str]) -> dict[str, StoredArticle]:
        """The indexed records of the given articles, by doc_id."""
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted:
            return {}
        t = self._t
        searcher = self._articles.searcher()
        query = t.Query.term_set_query(self.article_schema, "doc_id", wanted)
        out = {}
        for _, address in searcher.search(query, len(wanted), count=False).hits:
            record = StoredArticle(**json.loads(searcher.doc(address)["record"][0]))
            out[record.doc_id] = record
        return out

    @reading
    def chunks(self, doc_ids: list[str], terms: list[str]) -> dict[str, list[ChunkRow]]:
        """Every chunk of the given articles, in order, with its BM25 score for `terms`."""
        if not doc_ids:
            return {}
        t = self._t
        schema = self.chunk_schema
        searcher = self._chunks.searcher()
        members = t.Query.term_set_query(schema, "doc_id", list(doc_ids))
        limit = count_matches(searcher, members)
        if not limit:
            return {}
        out: dict[str, list[ChunkRow]] = {}
        rows: dict[tuple[int, int], ChunkRow] = {}
        for _, address in searcher.search(members, limit, count=False).hits:
            doc = searcher.doc(address)
            cid, digest, index, start, end, text = json.loads(doc["row"][0])
            vector = unpack_vector(doc["vector"][0], self.dim)
            row = ChunkRow(cid, doc["doc_id"][0], digest, index, start, end, text, vector)
            rows[(address.segment_ord, address.doc)] = row
            out.setdefault(row.doc_id, []).append(row)
        scored = self._terms_query(schema, terms)
        if scored is not None:
            query = t.Query.boolean_query([(t.Occur.Must, members), (t.Occur.Must, scored)])
            for score, address in searcher.search(query, limit, count=False).hits:
                rows[(address.segment_ord, address.doc)].lexical = float(score)
        for group in out.values():
            group.sort(key=lambda r: r.index)
        return out

    @reading
    def delta(self, after: int) -> list[tuple[ChunkRow, int | None, str, str | None]]:
        """Chunks indexed by updates after epoch `after`, for a vector index that predates
        them: (row, publish time, outlet, url) each."""
        t = self._t
        searcher = self._chunks.searcher()
        query = t.Query.range_query(
            self.chunk_schema, "epoch", t.FieldType.Integer, after + 1, None
        )
        count = count_matches(searcher, query)
        if not count:
            return []
        hits = searcher.search(query, count, count=False).hits
        docs = [searcher.doc(address) for _, address in hits]
        records = self.articles(d["doc_id"][0] for d in docs)
        out = []
        for doc in docs:
            record = records.get(doc["doc_id"][0])
            if record is None:
                continue
            cid, digest, index, start, end, text = json.loads(doc["row"][0])
            vector = unpack_vector(doc["vector"][0], self.dim)
            row = ChunkRow(cid, record.doc_id, digest, index, start, end, "", vector)
            out.append((row, published_ts(record.published_at), record.source, record.url))
        return out

    @reading
    def idf(self, term: str) -> float:
        """Inverse document frequency of an index term over chunks (high for rare names)."""
        return self._idf(self._chunks.searcher(), term)

    def idf_reader(self) -> Callable[[str], float]:
        """`idf` for one question: one searcher (opened at the first term), each term once."""
        searcher: list[Any] = []
        known: dict[str, float] = {}

        @reading
        def idf(term: str) -> float:
            if term not in known:
                if not searcher:
                    searcher.append(self._chunks.searcher())
                known[term] = self._idf(searcher[0], term)
            return known[term]

        return idf

    def _idf(self, searcher: Any, term: str) -> float:
        size = searcher.num_docs
        df = searcher.doc_freq("terms", term)
        if 0 < df <= LIVE_COUNT_UP_TO:
            # doc_freq counts deleted chunks until their segment is merged away, so each
            # correction of an article made its rare words look more common; counting the
            # live postings of a rare term costs well under a millisecond.
            query = self._t.Query.term_query(self.chunk_schema, "terms", term)
            df = count_matches(searcher, query)
        return float(np.log(1 + (size - df + 0.5) / (df + 0.5)))

    @reading
    def count(self, filters: Filters) -> int:
        """How many articles pass the filters."""
        searcher = self._articles.searcher()
        query = self._filter_query(self.article_schema, filters)
        if query is None:
            return int(searcher.num_docs)
        return count_matches(searcher, query)

    def date_range(self) -> tuple[str | None, str | None]:
        """The oldest and newest publish dates, by a pass over the articles' date column."""
        t = self._t
        searcher = self._articles.searcher()
        dated = t.Query.range_query(self.article_schema, "ts", t.FieldType.Integer, EARLIEST, None)
        ends: list[str | None] = []
        for order in (t.Order.Asc, t.Order.Desc):
            hits = searcher.search(dated, 1, count=False, order_by_field="ts", order=order).hits
            if hits:
                record = json.loads(searcher.doc(hits[0][1])["record"][0])
                ends.append((record.get("published_at") or "")[:10] or None)
        return (ends[0], ends[-1]) if ends else (None, None)


def pack_vector(vector: Any) -> bytes:
    """A chunk's vector as the replica stores it: int8 per dimension and one float32 scale.

    A quarter of float32's bytes. The vector is only read back to pick an article's best
    chunks (`core.search.searcher`) and to search chunks newer than an embedded client exactly
    (`core.search.archive.Delta`); the rounding moves a unit vector's cosine by well under 0.01
    (`tests/test_search_index.py`), and the dev sets rank the same (docs/benchmarks.md).
    """
    v = np.asarray(vector, dtype=np.float32).ravel()
    peak = float(np.abs(v).max()) if v.size else 0.0
    scale = peak / 127.0 if peak > 0 else 1.0
    q = np.clip(np.rint(v / scale), -127, 127).astype(np.int8)
    return np.array([scale], dtype=_SCALE).tobytes() + q.tobytes()


def unpack_vector(data: bytes, dim: int) -> np.ndarray:
    """A stored vector of `dim` dimensions as float32: packed (`pack_vector`, 4 + dim bytes),
    or the plain float32 that replicas built before packing hold (4 × dim bytes)."""
    if len(data) == 4 * dim:
        return np.frombuffer(data, dtype=np.float32)
    scale = np.frombuffer(data[: _SCALE.itemsize], dtype=_SCALE)[0]
    return np.frombuffer(data[_SCALE.itemsize :], dtype=np.int8).astype(np.float32) * scale


def count_matches(searcher: Any, query: Any) -> int:
    """How many documents match (tantivy wants a positive limit even to count)."""
    return int(searcher.search(query, 1, count=True).count or 0)  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=65_536)
def published_ts(published_at: str | None) -> int | None:
    """`to_timestamp`, parsed once per stored date (every candidate of every question
    asks for its article's)."""
    return to_timestamp(published_at)
