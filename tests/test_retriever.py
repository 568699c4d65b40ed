"""The LangChain retriever returns our passages as Documents with our metadata."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from core.retriever import NewsroomRetriever
from core.settings import Settings
from tests.conftest import SEED_DIR
from tests.helpers import ingest_paths


def test_retriever_invokes_like_any_langchain_retriever(settings: Settings) -> None:
    """`invoke` gives Documents, best first, carrying title, outlet and offsets."""
    ingest_paths(settings, SEED_DIR)
    retriever = NewsroomRetriever.from_settings(settings, k=3)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("who was Cienfuegos?")
    assert docs and all(isinstance(d, Document) for d in docs)
    assert "Cienfuegos" in docs[0].page_content
    meta = docs[0].metadata
    assert meta["doc_id"] == "seed-us-mexico-security"
    assert meta["source"] == "Los Angeles Times"
    assert meta["end"] > meta["start"] >= 0
    assert len(docs) <= 3
