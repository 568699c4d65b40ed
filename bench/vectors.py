"""fp32 vs int8 vectors of the same chunks: how far apart, and what that does to a ranking.

    .venv/bin/python -m bench.vectors --questions ../shared/eval/NAME.questions.jsonl \
        --fp32-store DIR --int8-store DIR

Both stores hold the same chunks (the int8 one a copy of the fp32 one after `ingest
--reembed`). Read-only. Reports the cosine between each chunk's two vectors, then dense
retrieval alone (exact cosine over every chunk, chunks collapsed to articles) for each
pairing of question vectors and stored vectors: both fp32, both int8, and the two mixed
pairings a store would see if encoders were mixed. hit@5 and MRR@10 against the
questions' evidence articles, and how many of the fp32/fp32 top-10 articles each keeps.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import log, machine, markdown_table, read_jsonl, revision


def stored_vectors(directory: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Chunk ids, their articles and their vectors, sorted by chunk id."""
    from core.settings import Settings
    from core.store import open_store

    settings = Settings(_env_file=None, chroma_path=directory)  # type: ignore[call-arg]
    store = open_store(settings.store, "-", 384, create=False, check_model=False)
    hits = sorted(store.iter_chunks(include_documents=False, include_embeddings=True), key=_id)
    return [h.id for h in hits], [h.doc_id for h in hits], np.array([h.embedding for h in hits])


def _id(hit: Any) -> str:
    return str(hit.id)


def rank(queries: np.ndarray, vectors: np.ndarray, docs: list[str], k: int = 10) -> list[list[str]]:
    """The top-k articles per question by their best chunk's cosine."""
    out = []
    for scores in queries @ vectors.T:
        ranked: list[str] = []
        for i in np.argsort(-scores):
            if docs[i] not in ranked:
                ranked.append(docs[i])
                if len(ranked) == k:
                    break
        out.append(ranked)
    return out


def scores(rankings: list[list[str]], gold: list[set[str]], base: list[list[str]]) -> list[str]:
    """hit@5, MRR@10 (questions with evidence) and the mean share of base's top-10 kept."""
    hits, rr = [], []
    for ranked, wanted in zip(rankings, gold, strict=True):
        if not wanted:
            continue
        hits.append(any(d in wanted for d in ranked[:5]))
        rr.append(next((1 / (i + 1) for i, d in enumerate(ranked[:10]) if d in wanted), 0.0))
    kept = [len(set(a) & set(b)) / len(b) for a, b in zip(rankings, base, strict=True) if b]
    return [f"{np.mean(hits):.3f}", f"{np.mean(rr):.3f}", f"{np.mean(kept):.3f}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fp32 vs int8 vectors and rankings.")
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--fp32-store", type=Path, required=True)
    parser.add_argument("--int8-store", type=Path, required=True)
    args = parser.parse_args(argv)
    from core.encode.embeddings import load_embedder

    questions = read_jsonl(args.questions)
    ids32, docs, v32 = stored_vectors(args.fp32_store)
    ids8, _, v8 = stored_vectors(args.int8_store)
    if ids32 != ids8:
        raise SystemExit("the two stores do not hold the same chunks")
    log(f"{len(ids32)} chunks; embedding {len(questions)} questions with both encoders")
    texts = [q["question"] for q in questions]
    q32 = load_embedder(encoder="torch").encode(texts)
    q8 = load_embedder(encoder="onnx-int8").encode(texts)
    gold = [set(q.get("evidence_doc_ids") or []) for q in questions]
    chunk_cos = (v32 * v8).sum(axis=1)
    query_cos = (q32 * q8).sum(axis=1)
    base = rank(q32, v32, docs)
    rows = []
    for label, q, v in [
        ("fp32 questions, fp32 store", q32, v32),
        ("int8 questions, int8 store", q8, v8),
        ("int8 questions, fp32 store (mixed)", q8, v32),
        ("fp32 questions, int8 store (mixed)", q32, v8),
    ]:
        rows.append([label, *scores(rank(q, v, docs), gold, base)])
    name = args.questions.name.removesuffix(".questions.jsonl")
    print(f"## vectors: {name}, {len(ids32)} chunks, {len(questions)} questions\n")
    print(f"finished, commit {revision()}; {machine()}\n")
    print(
        markdown_table(
            ["cosine fp32 vs int8", "mean", "p1", "min"],
            [
                [
                    "chunks",
                    f"{chunk_cos.mean():.4f}",
                    f"{np.percentile(chunk_cos, 1):.4f}",
                    f"{chunk_cos.min():.4f}",
                ],
                [
                    "questions",
                    f"{query_cos.mean():.4f}",
                    f"{np.percentile(query_cos, 1):.4f}",
                    f"{query_cos.min():.4f}",
                ],
            ],
        )
    )
    print()
    header = ["dense retrieval alone", "hit@5", "MRR@10", "top-10 articles kept vs fp32/fp32"]
    print(markdown_table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
