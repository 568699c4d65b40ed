"""Settings by section: each component is given only the part of `Settings` it reads.

`Settings` (core.settings) reads the environment once, at an entry point; its properties
`store`, `index`, `encoder`, `answers`, `ingest` and `slack` hand out these frozen values.
A component's constructor takes its section, so its signature says what it depends on and a
test builds one section, not the whole environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class StoreSettings:
    """Where the archive lives: the embedded store's folder, or a Chroma server."""

    chroma_path: Path = Path("./data/chroma")
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "news"

    @property
    def server_mode(self) -> bool:
        """True when a Chroma server is configured instead of the embedded store."""
        return bool(self.chroma_host)

    @property
    def label(self) -> str:
        """Where the store lives, for messages."""
        if self.server_mode:
            return f"the Chroma server at {self.chroma_host}:{self.chroma_port}"
        return str(self.chroma_path)


@dataclass(frozen=True)
class EncoderSettings:
    """Which model embeds chunks and questions, by which backend, on how many threads."""

    model: str = "all-MiniLM-L6-v2"
    encoder: str = "onnx-int8"
    threads: int = 1


@dataclass(frozen=True)
class IndexSettings:
    """This host's local search index (one folder per collection), and the search engine."""

    folder: Path = Path("./data/index")
    engine: str = "hybrid"  # a name in core.service.ENGINES


@dataclass(frozen=True)
class AnswerSettings:
    """How a question is read and answered, and the optional written answer's model."""

    max_question_chars: int = 1000
    passages: int = 5
    model: str = ""
    model_name: str = "local-model"
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    max_tokens: int = 250

    @property
    def writes(self) -> bool:
        """True when a language model writes answers on top of the extractive one."""
        return bool(self.model.strip())


@dataclass(frozen=True)
class IngestSettings:
    """What one input may cost, and where `ingest follow` keeps its state."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_chunks_per_article: int = 2000
    fetch_timeout: float = 15.0
    input_timeout: float = 120.0
    allow_private_urls: bool = False
    follow_path: Path = Path("./data/follow.sqlite3")
    max_file_mb: float = 20.0  # as configured, for messages (`max_file_bytes` is derived)


@dataclass(frozen=True)
class SlackSettings:
    """The bot's Slack side: credentials, who may ask where, and its own state files."""

    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    api_base_url: str | None = None
    port: int = 3000
    allowed_channels: tuple[str, ...] = ()
    answer_followups: bool = True
    allow_external_users: bool = False
    admins: tuple[str, ...] = ()
    rate_limit_per_minute: int = 10
    feedback_path: Path = Path("./data/feedback.sqlite3")
    state_path: Path = Path("./data/bot-state.sqlite3")
    desks: str = ""
    feedback_channel: str | None = None
    follow_answers_days: float = 30.0
    follow_answers_per_minute: int = 20
