"""ANSWER_MODEL -> a LangChain chat model and the name shown beside its answers.

Three forms:
- an OpenAI-compatible server's base URL (`http://localhost:8080/v1`): langchain-openai's
  `ChatOpenAI`, with ANSWER_MODEL_NAME and ANSWER_API_KEY;
- `local:smollm2` or `local:/path/model.gguf`: a GGUF file run in-process (`local_model`);
- anything else is a spec for LangChain's `init_chat_model` (`openai:gpt-4.1-mini`,
  `anthropic:…`, `ollama:qwen3:1.7b`); the provider's package is an optional extra.

Only this module's callers import LangChain's model packages, and only when ANSWER_MODEL is
set: the default, extractive path stays as cheap to start as before. OpenAI's protocol goes
through `core.written.model_wire`'s client, so the answer's deadline and size cap bound the
connection itself (see core.written.writer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import ConfigError
from core.sections import AnswerSettings

LOCAL_PREFIX = "local:"


@dataclass
class ChatModel:
    """A chat model and the name people see: "Written by {label} from the passages below"."""

    model: Any  # a langchain_core BaseChatModel
    label: str


def open_chat_model(answers: AnswerSettings) -> ChatModel:
    """The chat model the answers' section configures (nothing is called yet, except
    loading a local file).

    Raises:
        ConfigError: the spec is malformed or its provider package is missing; the message
            says what to install or set.
    """
    spec = answers.model.strip()
    if not spec:
        raise ConfigError("ANSWER_MODEL is empty: answers stay extractive.")
    if spec.startswith(("http://", "https://")):
        return _openai_compatible(spec, answers)
    if spec.startswith(LOCAL_PREFIX):
        return _local(spec.removeprefix(LOCAL_PREFIX), answers)
    return _init_chat_model(spec, answers)


def _openai_compatible(url: str, answers: AnswerSettings) -> ChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ConfigError(
            "ANSWER_MODEL is a server URL, which needs langchain-openai: pip install -e '.[openai]'"
        ) from None
    from core.written.model_wire import bounded_http_client

    model = ChatOpenAI(
        base_url=url,
        model=answers.model_name,
        api_key=answers.api_key or "unused",  # type: ignore[arg-type]
        timeout=answers.timeout,
        max_retries=0,  # the answer's own deadline is short: a retry would only miss it
        max_tokens=answers.max_tokens,  # type: ignore[call-arg]
        temperature=0,
        streaming=True,
        http_client=bounded_http_client(answers.timeout),
    )
    return ChatModel(model, answers.model_name or urlsplit(url).hostname or url)


def _local(name: str, answers: AnswerSettings) -> ChatModel:
    from core.written.local_model import (
        BUNDLED,
        BUNDLED_LABEL,
        LocalChatModel,
        bundled_model_path,
    )

    if name == BUNDLED:
        path, label = bundled_model_path(), BUNDLED_LABEL
    else:
        path = Path(name).expanduser()
        if path.suffix != ".gguf" or not path.is_file():
            raise ConfigError(
                f"ANSWER_MODEL=local:{name}: give local:{BUNDLED} or the path of a .gguf file."
            )
        label = path.stem
    return ChatModel(LocalChatModel(path=path, max_tokens=answers.max_tokens), label)


def _init_chat_model(spec: str, answers: AnswerSettings) -> ChatModel:
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise ConfigError(
            f"ANSWER_MODEL={spec} needs LangChain's model loader and the provider's package: "
            "pip install -e '.[openai]' (or [anthropic], [ollama])"
        ) from None
    extra: dict[str, Any] = {}
    if spec.startswith("openai:"):
        from core.written.model_wire import bounded_http_client

        extra["http_client"] = bounded_http_client(answers.timeout)
    try:
        model = init_chat_model(
            spec,
            temperature=0,
            max_tokens=answers.max_tokens,
            timeout=answers.timeout,
            max_retries=0,
            **extra,
        )
    except ImportError as exc:
        raise ConfigError(
            f"ANSWER_MODEL={spec} needs its provider's package ({exc.name or exc}). Install "
            "the extra, e.g. pip install -e '.[openai]', '.[anthropic]' or '.[ollama]'."
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"ANSWER_MODEL={spec} is not a model LangChain knows ({exc}). Use provider:model, "
            "e.g. openai:gpt-4.1-mini, or an OpenAI-compatible base URL."
        ) from None
    except Exception as exc:  # e.g. a provider wanting its API key in the environment
        raise ConfigError(
            f"ANSWER_MODEL={spec} could not be set up: {type(exc).__name__}. See the "
            "provider's LangChain page for the variables it needs (e.g. OPENAI_API_KEY)."
        ) from None
    return ChatModel(model, spec.split(":", 1)[-1] if ":" in spec else spec)
