"""Shared fixtures: real Chroma in temp dirs (and a real `chroma run` server), the real model.

No test reads the developer's `.env` or `./data`: settings are built with `_env_file=None`
and every test gets its own store folder.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.encode.embeddings import Embedder, load_embedder
from core.settings import Settings
from testing.chroma_server import ChromaServer as ChromaServer
from testing.chroma_server import free_port as free_port
from testing.console import ENV_PREFIXES as ENV_PREFIXES
from testing.llm_standin import FakeChatServer
from testing.stores import SEED_DIR as SEED_DIR
from testing.stores import ingest_paths
from testing.stores import make_settings as make_settings

ROOT = Path(__file__).resolve().parent.parent
# The evaluation sets live beside a developer's checkout, never beside a newcomer's clone.
BESIDE = f"{ROOT.parent / 'shared'}{os.sep}"


def _nothing_beside(event: str, args: tuple[object, ...]) -> None:
    """Refuse any file this process opens beside the repository: the tests stand alone."""
    if event == "open" and isinstance(args[0], str | os.PathLike):
        path = os.path.abspath(os.fspath(args[0]))
        if isinstance(path, str) and path.startswith(BESIDE):
            raise PermissionError(f"{path}: a test read a file beside the repository")


sys.addaudithook(_nothing_beside)

# The unit layer (`make test-fast`: `-m "not integration"`) starts no Chroma server, no
# process and no Slack app. A test is in the integration layer when it uses one of these
# fixtures, or is marked `integration` (a test that starts one of our console scripts or
# the Slack stand-in itself, or runs a whole model).
INTEGRATION_FIXTURES = {
    "chroma_server",
    "session_chroma_server",
    "server_settings",
    "slack",
    "http_bot",
}
# Whether the running test belongs to the unit layer (checked by `_unit_starts_nothing`).
_unit_test_running = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the integration layer from the fixtures each test uses."""
    for item in items:
        if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def _unit_starts_nothing(event: str, args: tuple[object, ...]) -> None:
    """A unit-layer test that starts Python, one of our console scripts or the Slack
    stand-in is an integration test not marked so: it fails, rather than slow
    `make test-fast` down unseen."""
    if event == "testing.slack_standin.start" and _unit_test_running:
        raise RuntimeError("a unit test started the Slack stand-in: mark it integration")
    if event == "subprocess.Popen" and _unit_test_running:
        executable, argv = args[0], args[1]
        if executable is None:
            executable = argv if isinstance(argv, str | bytes | os.PathLike) else argv[0]  # type: ignore[index]
        started = Path(os.fsdecode(executable))  # type: ignore[arg-type]
        if started.parent == Path(sys.executable).parent:
            raise RuntimeError(f"a unit test started {started.name}: mark it integration")


sys.addaudithook(_unit_starts_nothing)


@pytest.fixture(autouse=True)
def _layer(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tell `_unit_starts_nothing` whether the running test is in the unit layer."""
    global _unit_test_running
    _unit_test_running = request.node.get_closest_marker("integration") is None
    yield
    _unit_test_running = False


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


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A running Chroma server of the test's own, with its own data folder: for a test that
    stops and restarts it."""
    server = ChromaServer(tmp_path / "server-data")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def session_chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One running Chroma server for the session (started by the first test needing it)."""
    server = ChromaServer(tmp_path_factory.mktemp("session-server"))
    server.start()
    yield server
    server.stop()


def _empty(server: ChromaServer) -> None:
    """Delete every collection on the server: each test finds it as a new server is."""
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=server.port)
    for collection in client.list_collections():
        client.delete_collection(collection if isinstance(collection, str) else collection.name)


@pytest.fixture
def server_settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings that point at a Chroma server holding nothing yet: the test's own
    `chroma_server` when it asks for one, else the session's server, emptied for it."""
    if "chroma_server" in request.fixturenames:
        server: ChromaServer = request.getfixturevalue("chroma_server")
    else:
        server = request.getfixturevalue("session_chroma_server")
        _empty(server)
    return make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=server.port)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One embedded store holding the sample article, shared by a module's tests."""
    settings = make_settings(tmp_path_factory.mktemp("seeded"))
    ingest_paths(settings, SEED_DIR)
    return settings


@pytest.fixture
def llm() -> Iterator[FakeChatServer]:
    """The scripted OpenAI-compatible server (`testing/llm_standin.py`)."""
    with FakeChatServer() as server:
        yield server
