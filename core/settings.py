"""One typed settings object, read from the environment (and `.env`) at the entry points."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError
from core.sections import (
    AnswerSettings,
    EncoderSettings,
    IndexSettings,
    IngestSettings,
    SlackSettings,
    StoreSettings,
)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_ENCODER = "onnx-int8"
# Chroma's rule for a collection's name (3-512 of these characters, alphanumeric at both
# ends), less the ".articles" our manifest collection adds to it.
_COLLECTION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9._-]{1,501})[a-zA-Z0-9]")
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
# Settings whose values never appear in an error message (their names end so; not
# ANSWER_MAX_TOKENS, whose value is harmless and needed to fix it).
_SECRET = ("token", "secret", "key")
# The store names its manifest and change log `<COLLECTION>` plus these (core/store/client.py): a
# collection named so would be another collection's manifest or log.
STORE_SUFFIXES = (".articles", ".log")


def _number(low: float, high: float, *, low_open: bool = False) -> Any:
    """A numeric setting's range: finite, from `low` (or above it, `low_open`) to `high`."""
    if low_open:
        return Field(gt=low, le=high, allow_inf_nan=False)
    return Field(ge=low, le=high, allow_inf_nan=False)


class Settings(BaseSettings):
    """Everything configurable. See `.env.example` for one line on each variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Store
    chroma_path: Path = Path("./data/chroma")
    chroma_host: str | None = None
    chroma_port: Annotated[int, _number(1, 65535)] = 8000
    collection: str = "news"
    embedding_model: str = DEFAULT_MODEL
    index_path: Path | None = None
    embedding_encoder: str = DEFAULT_ENCODER
    search_engine: str = "hybrid"  # which engine answers (core.service.ENGINES)

    # Ingest limits
    max_file_mb: Annotated[float, _number(0, 1024, low_open=True)] = 20.0
    max_chunks_per_article: Annotated[int, _number(1, 100_000)] = 2000
    fetch_timeout: Annotated[float, _number(0, 3600, low_open=True)] = 15.0
    # seconds any one input may take to load and chunk; 0: none
    input_timeout: Annotated[float, _number(0, 86_400)] = 120.0
    allow_private_urls: bool = False

    # Ask
    max_question_chars: Annotated[int, _number(10, 100_000)] = 1000
    answer_passages: Annotated[int, _number(1, 100)] = 5
    query_threads: Annotated[int, _number(1, 256)] = 1

    # Written answers (optional; empty ANSWER_MODEL keeps answers extractive)
    answer_model: str = ""
    answer_model_name: str = "local-model"
    answer_api_key: SecretStr | None = None
    answer_timeout: Annotated[float, _number(0, 3600, low_open=True)] = 30.0
    answer_max_tokens: Annotated[int, _number(16, 32_768)] = 250

    # Slack
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_base_url: str | None = None
    port: Annotated[int, _number(1, 65535)] = 3000
    allowed_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    answer_followups: bool = True
    allow_external_users: bool = False
    bot_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    rate_limit_per_minute: Annotated[int, _number(0, 10_000)] = 10  # 0: no limit
    feedback_db: Path | None = None
    bot_state_db: Path | None = None
    follow_db: Path | None = None
    log_level: str = "INFO"
    desks: str = ""  # per-channel defaults: JSON, or the path of a JSON file (bot.desks)
    feedback_channel: str | None = None  # where 👎 reasons go (a channel id)
    # Posted answers are edited when an article they quote is corrected or withdrawn, for
    # this many days after they were posted (0: never), at most this many edits a minute.
    follow_answers_days: Annotated[float, _number(0, 3650)] = 30.0
    follow_answers_per_minute: Annotated[int, _number(1, 10_000)] = 20

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

    @field_validator("collection", mode="after")
    @classmethod
    def _not_the_stores_own(cls, value: str) -> str:
        if value.endswith(STORE_SUFFIXES):
            raise ValueError(
                "a collection's name may not end in "
                + " or ".join(repr(s) for s in STORE_SUFFIXES)
                + ": the store keeps each collection's manifest and change log under those"
            )
        return value

    @field_validator("chroma_path", "index_path", mode="after")
    @classmethod
    def _a_folder(cls, value: Path | None) -> Path | None:
        if value is not None and value.exists() and not value.is_dir():
            raise ValueError("this is a file; name a folder (it is created when missing)")
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
        "follow_db",
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

    @property
    def follow_path(self) -> Path:
        """The SQLite file of `ingest follow` (sources, validators, URLs seen): beside the
        embedded store unless set."""
        if self.follow_db is not None:
            return self.follow_db
        return self.chroma_path.parent / "follow.sqlite3"

    # Sections: what each component is given (core.sections).

    @property
    def store(self) -> StoreSettings:
        """The archive store's section."""
        return StoreSettings(self.chroma_path, self.chroma_host, self.chroma_port, self.collection)

    @property
    def encoder(self) -> EncoderSettings:
        """The encoder's section."""
        return EncoderSettings(self.embedding_model, self.embedding_encoder, self.query_threads)

    @property
    def index(self) -> IndexSettings:
        """The local search index's section."""
        return IndexSettings(self.index_folder, self.search_engine.strip().lower())

    @property
    def answers(self) -> AnswerSettings:
        """The answers' section (questions, passages, the written answer's model)."""
        key = self.answer_api_key.get_secret_value() if self.answer_api_key else None
        return AnswerSettings(
            max_question_chars=self.max_question_chars,
            passages=self.answer_passages,
            model=self.answer_model,
            model_name=self.answer_model_name,
            api_key=key,
            timeout=self.answer_timeout,
            max_tokens=self.answer_max_tokens,
        )

    @property
    def ingest(self) -> IngestSettings:
        """The ingest side's section."""
        return IngestSettings(
            max_file_bytes=self.max_file_bytes,
            max_chunks_per_article=self.max_chunks_per_article,
            fetch_timeout=self.fetch_timeout,
            input_timeout=self.input_timeout,
            allow_private_urls=self.allow_private_urls,
            follow_path=self.follow_path,
            max_file_mb=self.max_file_mb,
        )

    @property
    def slack(self) -> SlackSettings:
        """The Slack bot's section."""
        return SlackSettings(
            bot_token=self.slack_bot_token,
            app_token=self.slack_app_token,
            signing_secret=self.slack_signing_secret,
            api_base_url=self.slack_api_base_url,
            port=self.port,
            allowed_channels=tuple(self.allowed_channels),
            answer_followups=self.answer_followups,
            allow_external_users=self.allow_external_users,
            admins=tuple(self.bot_admins),
            rate_limit_per_minute=self.rate_limit_per_minute,
            feedback_path=self.feedback_path,
            state_path=self.bot_state_path,
            desks=self.desks,
            feedback_channel=self.feedback_channel,
            follow_answers_days=self.follow_answers_days,
            follow_answers_per_minute=self.follow_answers_per_minute,
        )


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
        if isinstance(given, str | int | float) and not name.endswith(_SECRET):
            shown += f"={str(given)[:60]!r}"
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{shown}: {message}")
    return "invalid setting: " + "; ".join(parts) + " (see .env.example)"
