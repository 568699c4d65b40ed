"""Lexical engines side by side: tantivy and SQLite FTS5 on the same chunks and questions.

    .venv/bin/python -m bench.lexical_engines --corpus ../shared/eval/realtimeqa.corpus.jsonl \
        --questions ../shared/eval/realtimeqa.questions.jsonl --sizes 100000 300000

For each size, a synthetic archive (bench/synthetic.py: the corpus' articles reshuffled and
re-dated, copy after copy) is cut into ~150-word sentence-aligned chunks, tokenised with
`core.language.lexical.tokenize` (title + chunk, as the search indexes them), and indexed by both
engines in a temp dir. Then, per engine: bulk build time, disk size, the cost of adding one
more article and committing (what one ingest commit costs), and the top-200 BM25 query
latency over the questions: unfiltered, with a `before:` date filter that keeps about half
the archive, and with an 8-day window. Wall and CPU milliseconds are both printed.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.common import log, machine, markdown_table, percentile, read_jsonl, revision
from bench.synthetic import reshuffled
from core.language.lexical import tokenize
from core.language.text import split_sentences
from core.store import to_timestamp

CHUNK_WORDS = 150
TOP = 200
DAY = 86400


def chunk_rows(records: Iterator[dict[str, Any]], limit: int) -> list[tuple[str, int, list[str]]]:
    """(doc id, publish time, index terms) of ~150-word chunks, `limit` of them."""
    rows: list[tuple[str, int, list[str]]] = []
    for record in records:
        title = str(record.get("title") or "")
        stamp = to_timestamp(record.get("published_at")) or 0
        piece: list[str] = []
        size = 0
        for span in split_sentences(str(record.get("text") or "")):
            piece.append(span.text)
            size += len(span.text.split())
            if size >= CHUNK_WORDS:
                rows.append((str(record["id"]), stamp, tokenize(f"{title}\n{' '.join(piece)}")))
                piece, size = piece[-1:], len(piece[-1].split())
        if len(piece) > 1 or not rows or rows[-1][0] != record["id"]:
            rows.append((str(record["id"]), stamp, tokenize(f"{title}\n{' '.join(piece)}")))
        if len(rows) >= limit:
            return rows[:limit]
    return rows


class Tantivy:
    """tantivy: pre-tokenised terms (our tokenizer), BM25, a fast i64 date column."""

    name = "tantivy 0.27"

    def __init__(self, folder: Path):
        import tantivy

        self.t = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("doc_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("terms", tokenizer_name="whitespace", index_option="freq")
        builder.add_integer_field("ts", stored=False, indexed=True, fast=True)
        self.schema = builder.build()
        folder.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=str(folder))

    def add(self, rows: list[tuple[str, int, list[str]]]) -> None:
        writer = self.index.writer(256_000_000, num_threads=1)
        for doc_id, ts, terms in rows:
            writer.add_document(self.t.Document(doc_id=doc_id, terms=" ".join(terms), ts=ts))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def query(self, terms: list[str], before: int | None, since: int | None) -> list[Any]:
        t = self.t
        clauses = [(t.Occur.Should, t.Query.term_query(self.schema, "terms", w)) for w in terms]
        query = t.Query.boolean_query(clauses)
        if before is not None or since is not None:
            window = t.Query.range_query(
                self.schema, "ts", t.FieldType.Integer, since, before, True, False
            )
            query = t.Query.boolean_query([(t.Occur.Must, query), (t.Occur.Must, window)])
        searcher = self.index.searcher()
        return searcher.search(query, TOP, count=False).hits


class Fts5:
    """SQLite FTS5 (Python's sqlite3): pre-tokenised terms, bm25(), a date column."""

    name = f"SQLite FTS5 {sqlite3.sqlite_version}"

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(folder / "fts.sqlite3")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE chunk (id INTEGER PRIMARY KEY, doc_id TEXT, ts INTEGER)")
        self.db.execute("CREATE INDEX chunk_ts ON chunk (ts)")
        self.db.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(terms, content='', detail=none, "
            "tokenize=\"unicode61 tokenchars '.-''’'\")"
        )

    def add(self, rows: list[tuple[str, int, list[str]]]) -> None:
        with self.db:
            for doc_id, ts, terms in rows:
                rowid = self.db.execute(
                    "INSERT INTO chunk (doc_id, ts) VALUES (?, ?)", (doc_id, ts)
                ).lastrowid
                self.db.execute(
                    "INSERT INTO fts (rowid, terms) VALUES (?, ?)", (rowid, " ".join(terms))
                )

    def query(self, terms: list[str], before: int | None, since: int | None) -> list[Any]:
        match = " OR ".join(f'"{w}"' for w in terms)
        if before is None and since is None:
            sql = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT ?"
            return self.db.execute(sql, (match, TOP)).fetchall()
        sql = (
            "SELECT fts.rowid FROM fts JOIN chunk ON chunk.id = fts.rowid "
            "WHERE fts MATCH ? AND chunk.ts >= ? AND chunk.ts < ? ORDER BY bm25(fts) LIMIT ?"
        )
        return self.db.execute(sql, (match, since or 0, before or 1 << 62, TOP)).fetchall()


def disk_mb(folder: Path) -> float:
    """Bytes under a folder, in MB."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def measure(engine: Any, rows: list, extra: list, queries: list[list[str]]) -> dict[str, Any]:
    """Build, one-article commit and query latencies for one engine."""
    build = timed(lambda: engine.add(rows))
    commits = [timed(lambda r=r: engine.add([r]))[0] for r in extra]
    stamps = sorted(r[1] for r in rows)
    middle, newest = stamps[len(stamps) // 2], stamps[-1]
    out: dict[str, Any] = {"build_s": build[0] / 1000, "build_cpu_s": build[1] / 1000}
    out["commit_ms"] = percentile(commits, 50)
    for label, before, since in (
        ("all", None, None),
        ("half", middle, None),
        ("8 days", newest, newest - 8 * DAY),
    ):
        engine.query(queries[0], before, since)  # warm
        times = [timed(lambda q=q, b=before, s=since: engine.query(q, b, s)) for q in queries]
        out[label] = (
            percentile([t[0] for t in times], 50),
            percentile([t[0] for t in times], 95),
            percentile([t[1] for t in times], 50),
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000])
    args = parser.parse_args(argv)
    records = read_jsonl(args.corpus)
    queries = [tokenize(q["question"]) for path in args.questions for q in read_jsonl(path)]
    queries = [q for q in queries if q]
    table = []
    for size in args.sizes:
        copies = size // 10_000 + 2
        log(f"cutting {size} chunks")
        rows = chunk_rows(reshuffled(records, copies), size + 20)
        rows, extra = rows[:size], rows[size:]
        for engine_type in (Tantivy, Fts5):
            folder = Path(tempfile.mkdtemp(prefix="lexical-"))
            try:
                engine = engine_type(folder / "index")
                log(f"{engine.name}: indexing {size} chunks")
                got = measure(engine, rows, extra, queries)
                size_mb = disk_mb(folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            cells = [
                f"{got[k][0]:.1f} / {got[k][1]:.1f} ({got[k][2]:.1f})"
                for k in ("all", "half", "8 days")
            ]
            table.append(
                [
                    f"{size:,}",
                    engine.name,
                    f"{got['build_s']:.1f} / {got['build_cpu_s']:.1f}",
                    f"{size_mb:.0f}",
                    f"{got['commit_ms']:.1f}",
                    *cells,
                ]
            )
            log(str(table[-1]))
    print(f"finished {time.strftime('%Y-%m-%d %H:%M')}, commit {revision()}; {machine()}")
    print(f"{len(queries)} questions, top {TOP} by BM25; cells: p50 / p95 ms wall (CPU p50 ms)\n")
    header = [
        "chunks",
        "engine",
        "bulk build s (wall / CPU)",
        "disk MB",
        "1-article commit ms",
        "query: no filter",
        "query: before (half)",
        "query: 8-day window",
    ]
    print(markdown_table(header, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
