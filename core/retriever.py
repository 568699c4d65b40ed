"""The search as a LangChain retriever, for people who build their own chains on our store.

from core.retriever import NewsroomRetriever
retriever = NewsroomRetriever.from_settings(load_settings(), k=5)
docs = retriever.invoke("who was Cienfuegos?")
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from core.models import Passage
from core.search.query import parse_query
from core.search.searcher import Searcher
from core.service import open_searcher
from core.settings import Settings


def passage_document(passage: Passage) -> Document:
    """A passage as a LangChain `Document`, with our metadata."""
    metadata: dict[str, Any] = {
        "doc_id": passage.doc_id,
        "title": passage.title,
        "source": passage.source,
        "published_at": passage.published_at,
        "url": passage.url,
        "path": passage.path,
        "chunk_index": passage.chunk_index,
        "chunk_indices": passage.chunk_indices,
        "start": passage.start,
        "end": passage.end,
        "score": passage.score,
        "similarity": passage.similarity,
    }
    return Document(page_content=passage.text, metadata=metadata)


class NewsroomRetriever(BaseRetriever):
    """Hybrid search over the newsroom store (the same ranking the bot uses).

    Filters in the query work as in Slack: `since:2022-06-01`, `before:…`, `source:…`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Searcher
    k: int = 5

    @classmethod
    def from_settings(cls, settings: Settings, k: int = 5) -> NewsroomRetriever:
        """A retriever over the configured store."""
        return cls(searcher=open_searcher(settings), k=k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        """The best passages for the query: `k` of them if given (`invoke(q, k=1)`), else
        the retriever's own `k`."""
        ranked = self.searcher.search(parse_query(query), k=self.k if k is None else k)
        return [passage_document(p) for p in ranked.passages]
