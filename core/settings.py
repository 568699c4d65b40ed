"""One typed settings object, read from the environment (and `.env`) at the entry points."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENCODERS = ("onnx-int8", "onnx", "torch")
DEFAULT_ENCODER = "onnx-int8"
# Chroma's rule for a collection's name (3-512 of these characters, alphanumeric at both
# ends), less the ".articles" our manifest collection adds to it.
_COLLECTION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9._-]{1,501})[a-zA-Z0-9]")
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
# Settings whose values never appear in an error message.
_SECRET = ("token", "secret", "key")


class Settings(BaseSettings):
    """Everything configurable. See `.env.example` for one line on each variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Store
    chroma_path: Path = Path("./data/chroma")
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "news"
    embedding_model: str = DEFAULT_MODEL
    index_path: Path | None = None
    embedding_encoder: str = DEFAULT_ENCODER

    # Ingest limits
    max_file_mb: float = 20.0
    max_chunks_per_article: int = 2000
    fetch_timeout: float = 15.0
    input_timeout: float = 120.0  # seconds any one input may take to load and chunk; 0: none
    allow_private_urls: bool = False

    # Ask
    max_question_chars: int = 1000
    answer_passages: int = 5
    query_threads: int = 1

    # Written answers (optional; empty ANSWER_MODEL keeps answers extractive)
    answer_model: str = ""
    answer_model_name: str = "local-model"
    answer_api_key: SecretStr | None = None
    answer_timeout: float = Field(default=30.0, gt=0)
    answer_max_tokens: int = Field(default=250, ge=16)

    # Slack
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_base_url: str | None = None
    port: int = 3000
    allowed_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    answer_followups: bool = True
    allow_external_users: bool = False
    bot_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit_per_minute: int = 10
    feedback_db: Path | None = None
    bot_state_db: Path | None = None
    log_level: str = "INFO"
    desks: str = ""  # per-channel defaults: JSON, or the path of a JSON file (bot.desks)
    feedback_channel: str | None = None  # where 👎 reasons go (a channel id)

    @field_validator("collection", mode="after")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not _COLLECTION.fullmatch(value) or ".." in value or _IPV4.fullmatch(value):
            raise ValueError(
                "a collection is named with 3-503 letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit, with no '..' and not shaped "
                "like an IP address"
            )
        return value

    @field_validator("allowed_channels", "bot_admins", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "chroma_host",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "slack_api_base_url",
        "feedback_db",
        "index_path",
        "bot_state_db",
        "answer_api_key",
        "feedback_channel",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret", mode="after")
    @classmethod
    def _trim_secret(cls, value: str | None) -> str | None:
        """Every secret alike: whitespace pasted around it (a trailing newline) is not part
        of it. What is left is checked by `bot.tokens.check_slack_settings`."""
        return value.strip() if value is not None else None

    @property
    def server_mode(self) -> bool:
        """True when a Chroma server is configured instead of the embedded store."""
        return bool(self.chroma_host)

    @property
    def max_file_bytes(self) -> int:
        """MAX_FILE_MB in bytes: no file, stream or page larger is read."""
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def writes_answers(self) -> bool:
        """True when a language model writes answers on top of the extractive one."""
        return bool(self.answer_model.strip())

    @property
    def store_label(self) -> str:
        """Where the store lives, for messages."""
        if self.server_mode:
            return f"the Chroma server at {self.chroma_host}:{self.chroma_port}"
        return str(self.chroma_path)

    @property
    def index_folder(self) -> Path:
        """This host's local search index (one folder per collection): INDEX_PATH, else
        `index` beside the embedded store's folder."""
        if self.index_path is not None:
            return self.index_path
        return self.chroma_path.parent / "index"

    @property
    def feedback_path(self) -> Path:
        """The SQLite file for 👍/👎 clicks: beside the embedded store unless set."""
        if self.feedback_db is not None:
            return self.feedback_db
        return self.chroma_path.parent / "feedback.sqlite3"

    @property
    def bot_state_path(self) -> Path:
        """The SQLite file bot processes share (handled events, threads, posted answers):
        beside the feedback file unless set."""
        if self.bot_state_db is not None:
            return self.bot_state_db
        return self.feedback_path.parent / "bot-state.sqlite3"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and `.env`; keyword overrides win.

    Raises:
        ConfigError: a value is malformed; the message names each variable and what is
            wrong, with the value given unless it is a secret.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    """A settings error as a person fixes it: `NAME='value': what is wrong`."""
    parts = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "a setting"
        given = error.get("input")
        shown = name.upper()
        if isinstance(given, str | int | float) and not any(s in name for s in _SECRET):
            shown += f"={str(given)[:60]!r}"
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{shown}: {message}")
    return "invalid setting: " + "; ".join(parts) + " (see .env.example)"
