"""The LangChain retriever returns our passages as Documents with our metadata."""

from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from core.retriever import NewsroomRetriever
from core.service import open_searcher
from core.settings import Settings
from tests.conftest import SEED_DIR, make_settings
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


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store with the sample article and three short ones, shared by the standard tests."""
    settings = make_settings(tmp_path_factory.mktemp("archive"))
    feed = tmp_path_factory.mktemp("feed") / "more.jsonl"
    feed.write_text(
        "".join(
            json.dumps({"id": f"extra-{i}", "title": title, "text": text}) + "\n"
            for i, (title, text) in enumerate(EXTRA, 1)
        )
    )
    ingest_paths(settings, SEED_DIR, feed)
    return settings


EXTRA = [
    (
        "Cienfuegos case strains ties",
        "The arrest of Salvador Cienfuegos in Los Angeles strained ties between Mexico and "
        "the United States. Mexican officials said they were not told in advance.",
    ),
    (
        "Mexico limits foreign agents",
        "After Cienfuegos was sent home, Mexico passed a law limiting foreign agents. "
        "U.S. officials called the law a setback for security cooperation.",
    ),
    (
        "Merida Initiative under review",
        "Officials from both countries reviewed the Merida Initiative, the 2008 security "
        "agreement, after the Cienfuegos affair.",
    ),
]


class TestNewsroomRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's own conformance tests for retrievers, run against ours."""

    @pytest.fixture(autouse=True)
    def _store(self, archive: Settings) -> None:
        self.settings = archive

    @property
    def retriever_constructor(self) -> type[NewsroomRetriever]:
        return NewsroomRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"searcher": open_searcher(self.settings)}

    @property
    def retriever_query_example(self) -> str:
        return "who was Cienfuegos?"
