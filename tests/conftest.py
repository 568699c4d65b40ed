"""Shared fixtures: real Chroma in temp dirs (and a real `chroma run` server), the real model.

No test reads the developer's `.env` or `./data`: settings are built with `_env_file=None`
and every test gets its own store folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.encode.embeddings import Embedder, load_embedder
from core.settings import Settings
from tests.llm_standin import FakeChatServer

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "examples" / "articles"

# The developer's settings no test sees, in-process or in a process it starts: their store,
# its local index, Slack, the encoder and answer model, and ingest's limits.
ENV_PREFIXES = (
    "CHROMA_",
    "SLACK_",
    "EMBEDDING_",
    "COLLECTION",
    "ANSWER_",
    "INDEX_PATH",
    "MAX_",
    "ALLOW_",
    "INPUT_",
    "FOLLOW_",
)


@pytest.fixture(autouse=True, scope="session")
def _clean_env() -> Iterator[None]:
    """No test sees the developer's store, index, Slack or model variables. Session-wide, so
    that module- and session-scoped fixtures (`seeded`, the bot's stores) are built without
    them too: a function-scoped fixture would run after those."""
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith(ENV_PREFIXES)]:
            patch.delenv(key)
        yield


@pytest.fixture(autouse=True)
def _fresh_chroma_clients() -> Iterator[None]:
    """Chroma caches one system per path; drop it between tests."""
    yield
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def make_settings(tmp: Path, **overrides: object) -> Settings:
    """Settings for a test: a private store folder, nothing from `.env`."""
    values: dict[str, object] = {"chroma_path": tmp / "chroma"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A clean working folder (no `.env`) to run the commands from."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded-store settings in a temp dir."""
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled all-MiniLM-L6-v2 (loads in well under a second)."""
    return load_embedder()


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """A real `chroma run` process on loopback, started and stopped by the tests."""

    def __init__(self, path: Path, port: int | None = None):
        self.path = path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).with_name("chroma")
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        self.process = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(self.path),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("chroma run exited at start") from None
                time.sleep(0.2)
        raise RuntimeError("chroma run did not listen within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A running Chroma server with its own data folder."""
    server = ChromaServer(tmp_path / "server-data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server_settings(tmp_path: Path, chroma_server: ChromaServer) -> Settings:
    """Settings that point at the test's Chroma server."""
    return make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=chroma_server.port)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One embedded store holding the sample article, shared by a module's tests."""
    from tests.helpers import ingest_paths

    settings = make_settings(tmp_path_factory.mktemp("seeded"))
    ingest_paths(settings, SEED_DIR)
    return settings


@pytest.fixture
def llm() -> Iterator[FakeChatServer]:
    """The scripted OpenAI-compatible server (`tests/llm_standin.py`)."""
    with FakeChatServer() as server:
        yield server
