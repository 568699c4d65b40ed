"""The encoder registry and the ONNX build tool's place outside the library."""

from __future__ import annotations

import ast
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from core.encode.embeddings import encoders_for, identity, load_embedder, mismatch_hint
from core.encode.registry import Encoder, encoder_named, encoder_names
from core.errors import ConfigError
from tests.conftest import ROOT

BUNDLED = "all-MiniLM-L6-v2"


def test_each_encoder_declares_its_identity_and_what_it_can_search() -> None:
    """A store of fp32 vectors is searchable by onnx and torch, int8's only by onnx-int8."""
    assert encoder_names() == ["onnx-int8", "onnx", "torch"]
    assert [encoder_named(n).identity(BUNDLED) for n in encoder_names()] == [
        f"{BUNDLED}+int8",
        BUNDLED,
        BUNDLED,
    ]
    assert identity(f"sentence-transformers/{BUNDLED}", "onnx-int8") == f"{BUNDLED}+int8"
    assert identity("/my/model", "torch") == "/my/model"
    assert encoders_for(BUNDLED) == ["onnx", "torch"]
    assert encoders_for(f"{BUNDLED}+int8") == ["onnx-int8"]
    assert encoders_for("/my/model") == []
    assert "EMBEDDING_MODEL=/my/model and EMBEDDING_ENCODER=torch" in mismatch_hint(
        "/my/model", BUNDLED, "news"
    )
    assert all(isinstance(encoder_named(n), Encoder) for n in encoder_names())


def test_a_new_encoder_is_one_class_that_declares_what_it_searches() -> None:
    """An encoder declared beside the others says its recorded name and which stores it
    can read, with no switch to edit (not registered here: the registry stays as shipped)."""

    class Fp16(Encoder):
        name = "onnx-fp16"
        suffix = "+fp16"

    class SameVectors(Encoder):
        name = "other-runtime"
        compatible = frozenset({"onnx"})

    assert Fp16().identity(BUNDLED) == f"{BUNDLED}+fp16"
    assert Fp16().searches(f"{BUNDLED}+fp16") and not Fp16().searches(BUNDLED)
    assert SameVectors().searches(BUNDLED) and not SameVectors().searches(f"{BUNDLED}+int8")
    assert "onnx-fp16" not in encoder_names()


def test_an_unknown_encoder_names_the_registered_ones() -> None:
    """A typo in EMBEDDING_ENCODER lists what may be set and how to get the default."""
    with pytest.raises(ConfigError) as refused:
        load_embedder(encoder="onnx8")
    message = str(refused.value)
    assert ", ".join(encoder_names()) in message
    assert "unset it to use onnx-int8" in message


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_the_library_never_imports_the_build_tool() -> None:
    """`core` runs without `buildtools`; the build tool uses only public names of `core`."""
    for path in (ROOT / "core").rglob("*.py"):
        assert not any(n.startswith("buildtools") for n in _imports(path)), path
    for name in _imports(ROOT / "buildtools" / "onnx.py"):
        if name.startswith("core."):
            assert not name.rsplit(".", 1)[-1].startswith("_"), name


def test_a_library_user_without_built_files_is_told_the_command(tmp_path: Path) -> None:
    """In an environment where the ONNX files were never built, the retriever says to run
    `python -m buildtools.onnx` (and builds nothing itself)."""
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # a fresh prefix: no built files there
    python = env_dir / "bin" / "python"
    script = (
        "import sys\n"
        "from core.errors import ConfigError\n"
        "from core.retriever import NewsroomRetriever\n"
        "from core.settings import load_settings\n"
        "try:\n"
        "    NewsroomRetriever.from_settings(load_settings())\n"
        "except ConfigError as exc:\n"
        "    print('refused:', exc)\n"
        "print('buildtools imported:', 'buildtools' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "EMBEDDING_"))}
    env["CHROMA_PATH"] = str(tmp_path / "chroma")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *site.getsitepackages()])
    done = subprocess.run(
        [str(python), "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "refused: The onnx-int8 encoder's file" in done.stdout
    assert "`python -m buildtools.onnx`" in done.stdout
    assert "buildtools imported: False" in done.stdout
    assert not (env_dir / "share" / "newsroom-bot").exists()
    assert sys.prefix != str(env_dir)
