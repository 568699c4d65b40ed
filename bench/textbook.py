"""The textbook LangChain pipeline, the peer our search is measured against.

RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200) over each article's
text, langchain-chroma's `Chroma` with the same all-MiniLM-L6-v2 (our bundled copy, through
a small `Embeddings` wrapper), and `similarity_search(question, k)`. Nothing is tuned: this
is what a user would copy from a tutorial.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from bench.common import log

COLLECTION = "textbook"
ADD_BATCH = 1024


class ModelEmbeddings(Embeddings):
    """LangChain embeddings over our loaded sentence-transformers model (batch 32)."""

    def __init__(self, embedder: Any):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.encode(list(texts), batch_size=32).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.encode_query(text).tolist()


@dataclass
class Built:
    """The opened textbook store and what building it took."""

    store: Any
    chunks: int
    added: int
    split_seconds: float
    embed_seconds: float


def split_corpus(records: list[dict[str, Any]]) -> tuple[list[Document], list[str]]:
    """The textbook chunks of a corpus and a stable id for each (`<doc_id>:<n>`)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks: list[Document] = []
    ids: list[str] = []
    for record in records:
        meta = {
            k: record[k]
            for k in ("id", "title", "source", "published_at", "url")
            if record.get(k) is not None
        }
        meta["doc_id"] = meta.pop("id")
        pieces = splitter.split_documents([Document(page_content=record["text"], metadata=meta)])
        chunks += pieces
        ids += [f"{meta['doc_id']}:{i}" for i in range(len(pieces))]
    return chunks, ids


def open_textbook(records: list[dict[str, Any]], directory: Path, embedder: Any) -> Built:
    """Open (and fill where needed) the textbook store for a corpus in `directory`.

    Chunks already in the collection (same id) are not embedded again, so a cached
    directory costs only the split.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    started = time.perf_counter()
    chunks, ids = split_corpus(records)
    split_seconds = time.perf_counter() - started
    client = chromadb.PersistentClient(
        path=str(directory), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = Chroma(COLLECTION, embedding_function=ModelEmbeddings(embedder), client=client)
    present = set(store.get(include=[])["ids"])
    extra = len(present - set(ids))
    if extra:
        log(f"textbook store {directory} holds {extra} chunks of another corpus: results mix them")
    missing = [i for i, chunk_id in enumerate(ids) if chunk_id not in present]
    log(f"textbook: {len(ids)} chunks, {len(ids) - len(missing)} cached, embedding {len(missing)}")
    started = time.perf_counter()
    for begin in range(0, len(missing), ADD_BATCH):
        batch = missing[begin : begin + ADD_BATCH]
        store.add_documents([chunks[i] for i in batch], ids=[ids[i] for i in batch])
        if begin and begin % (ADD_BATCH * 5) == 0:
            log(f"textbook: {begin + len(batch)}/{len(missing)} chunks embedded")
    embed_seconds = time.perf_counter() - started
    return Built(store, len(ids), len(missing), split_seconds, embed_seconds)


def search(store: Any, question: str, k: int = 10) -> list[dict[str, Any]]:
    """`similarity_search(question, k)` as passages in our `--json` shape (best first)."""
    return [
        {
            "doc_id": doc.metadata.get("doc_id"),
            "title": doc.metadata.get("title", ""),
            "text": doc.page_content,
        }
        for doc in store.similarity_search(question, k=k)
    ]
