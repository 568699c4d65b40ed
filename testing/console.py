"""Our console scripts (`ingest`, `ask`, `bot`) as a person runs them, with no developer
settings: where they are installed, and the environment they get."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.settings import Settings

# The developer's settings no test or bench sees, in-process or in a process it starts:
# their store, its local index, Slack, the encoder and answer model, and ingest's limits.
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


def installed(name: str) -> str:
    """One of our console scripts, as installed beside this interpreter."""
    return str(Path(sys.executable).with_name(name))


def console_env(settings: Settings, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a console script runs with: no developer settings, this store."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    clean.update(CHROMA_PATH=str(settings.chroma_path), ANONYMIZED_TELEMETRY="False")
    clean.update(env or {})
    return clean


def following(settings: Settings, cwd: Path, url: str, every: float) -> subprocess.Popen[str]:
    """`ingest follow URL --every S` started against a local test site (private addresses
    allowed, no politeness delay, summary lines only), its stdout a text pipe."""
    return subprocess.Popen(
        [installed("ingest"), "follow", url, "--every", str(every), "--delay", "0", "--quiet"],
        cwd=cwd,
        env=console_env(settings, {"ALLOW_PRIVATE_URLS": "true"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
