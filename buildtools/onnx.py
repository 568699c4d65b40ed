"""Build the ONNX encoders from the bundled all-MiniLM-L6-v2 weights, offline, and verify them.

    .venv/bin/python -m buildtools.onnx  # `make install` runs it; else the first ingest/ask

- fp32 (`onnx`): the bundled weights (sha256 checked first) through torch's TorchScript ONNX
  exporter, opset 17, dynamic batch and sequence axes, output `last_hidden_state`.
- int8 (`onnx-int8`): ONNX Runtime's dynamic quantisation of the fp32 file: weights int8 per
  output channel, activations uint8 quantised at run time, MatMul only (the word-embedding
  table stays fp32). These are the settings of optimum's `avx512_vnni` dynamic config, which
  sentence-transformers' `export_dynamic_quantized_onnx_model` applies; that function needs
  optimum-onnx, whose only release requires transformers < 4.58 while sentence-transformers
  6 requires transformers >= 5, so the two cannot be installed together.

Verification. With one toolchain (torch, transformers, onnx, onnxruntime versions) both files
come out byte for byte the same on every build; `RECORDED` holds their sha256 for the
toolchain `make install` sets up, and a build with that toolchain must reproduce them. Any
other toolchain may order or name graph nodes differently, so there the build checks what
does not depend on it: the embeddings of reference sentences must match the torch fp32
model's (cosine above `MIN_COSINE`). Each build writes `<file>.json` with the file's sha256;
every load checks the file against it (`core.encode.onnx`, which owns where the files live).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core.encode.embeddings import load_embedder
from core.encode.onnx import FILES, encoder_dir, open_backend, verified_file
from core.encode.weights import (
    BUNDLED_SHA256,
    bundled_model_path,
    file_sha256,
    is_bundled,
    verify_weights,
)
from core.errors import ConfigError
from core.sections import EncoderSettings

log = logging.getLogger(__name__)

__all__ = ["FILES", "build", "encoder_dir", "ensure_built", "ensure_encoder", "main", "toolchain"]

OPSET = 17
# sha256 of each file as built by the toolchain `make install` installs (torch 2.13.0+cpu).
RECORDED = {
    "torch 2.13.0+cpu, transformers 5.24.0, onnx 1.23.2, onnxruntime 1.32.0": {
        "onnx": "23877f1fb2aaf3f9d72561a11fb93f7031fd21937cfdcfb10024e877b015d7ef",
        "onnx-int8": "eece46011138e9031d38f30d0893e790d67e0cf9d9a835480984dd464aa827aa",
    },
}
# Lowest cosine between the built encoder's and torch fp32's embedding of a reference
# sentence. fp32 differs by float rounding only; int8 by its quantisation (measured on
# news text: mean 0.994, lowest 0.981 over 245 150-word pieces).
MIN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.97}
REFERENCE_SENTENCES = [
    "who was Cienfuegos?",
    "What did the city council decide about the transit budget this week?",
    "The senator said on Tuesday that the bill would not pass before the August recess.",
    "Wildfires forced 12,000 residents to evacuate as winds reached 60 mph overnight.",
    "Inflation rose 9.1% in June, the fastest pace since 1981, the Labor Department said.",
    "a",
    "Le président a annoncé une réforme des retraites.",
    " ".join(["The court heard arguments from both sides before adjourning."] * 40),
]


def toolchain() -> str:
    """The versions that decide the exported bytes."""
    from importlib.metadata import version

    names = ("torch", "transformers", "onnx", "onnxruntime")
    return ", ".join(f"{name} {version(name)}" for name in names)


def ensure_encoder(section: EncoderSettings) -> None:
    """Build the files the configured encoder runs on when they are missing or damaged:
    what an entry point calls before it loads the encoder. Encoders without built files,
    and settings the encoder refuses (another model), need nothing built.

    Raises:
        ConfigError: the build failed its verification.
    """
    if section.encoder in FILES and is_bundled(section.model):
        ensure_built(section.encoder)


def ensure_built(encoder: str, directory: Path | None = None) -> Path:
    """The verified file of an ONNX encoder, built first if missing or damaged.

    Raises:
        ConfigError: the build failed its verification.
    """
    path = verified_file(encoder, directory)
    if path is not None:
        return path
    log.warning("building the ONNX encoders from the bundled weights (once, ~30 s)")
    build(directory or encoder_dir())
    return (directory or encoder_dir()) / FILES[encoder]


def build(directory: Path) -> dict[str, str]:
    """Export fp32, quantise to int8, verify both, and move them into `directory`.

    Returns:
        The sha256 of each file, by encoder.

    Raises:
        ConfigError: a file differs from its recorded sha256 under the recorded toolchain,
            or its embeddings are too far from torch fp32's.
    """
    folder = bundled_model_path()
    verify_weights(folder)
    directory.mkdir(parents=True, exist_ok=True)
    tools = toolchain()
    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as tmp:
        work = Path(tmp)
        _export_fp32(folder, work / FILES["onnx"])
        _quantize(work / FILES["onnx"], work / FILES["onnx-int8"])
        reference = _torch_reference()
        for encoder, name in FILES.items():
            digest = file_sha256(work / name)
            recorded = RECORDED.get(tools, {}).get(encoder)
            if recorded and digest != recorded:
                raise ConfigError(
                    f"The {encoder} export has sha256 {digest}, not the {recorded} recorded "
                    f"for {tools}: the build is not reproducing. Reinstall with `make install`."
                )
            lowest = _lowest_cosine(work / name, folder, reference)
            if lowest < MIN_COSINE[encoder]:
                raise ConfigError(
                    f"The {encoder} export's embeddings differ from torch fp32's (lowest "
                    f"cosine {lowest:.4f} < {MIN_COSINE[encoder]}); not using it."
                )
            meta = {
                "sha256": digest,
                "source_sha256": BUNDLED_SHA256,
                "toolchain": tools,
                "recorded_match": bool(recorded),
                "lowest_cosine_vs_torch": round(lowest, 6),
                "built": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            (work / name).with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
            digests[encoder] = digest
        for name in FILES.values():  # the file first: a record always describes its file
            os.replace(work / name, directory / name)
            os.replace((work / name).with_suffix(".json"), (directory / name).with_suffix(".json"))
    return digests


def _export_fp32(folder: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(folder)).eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, types: torch.Tensor
        ) -> torch.Tensor:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=types
            )
            return out.last_hidden_state  # type: ignore[no-any-return]

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones((2, 16), dtype=torch.long)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(
            LastHiddenState(model),
            (example, example, torch.zeros_like(example)),
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it advises "pre-processing" on the root logger: not needed
    try:
        quantize_dynamic(
            str(source),
            str(target),
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            reduce_range=False,
            weight_type=QuantType.QInt8,
        )
    finally:
        root.setLevel(level)


def _torch_reference() -> np.ndarray:
    model = load_embedder(encoder="torch")
    return model.encode(REFERENCE_SENTENCES)


def _lowest_cosine(path: Path, folder: Path, reference: np.ndarray) -> float:
    backend = open_backend(path, folder, 1, optimize=False)
    vectors = backend.encode(REFERENCE_SENTENCES, 1, False)
    return float((vectors * reference).sum(axis=1).min())


def main() -> int:
    """Build and verify both ONNX encoders; print where they are and their sha256."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    directory = encoder_dir()
    try:
        digests = build(directory)
    except ConfigError as exc:
        print(f"buildtools.onnx: {exc}", file=sys.stderr)
        return 2
    for encoder, digest in digests.items():
        print(f"{encoder}: {directory / FILES[encoder]} sha256 {digest}")
    tools = toolchain()
    known = "both match the sha256 recorded" if tools in RECORDED else "no sha256 recorded"
    print(f"toolchain: {tools} ({known} for it; embeddings checked against torch fp32)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
