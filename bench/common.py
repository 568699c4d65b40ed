"""What the bench scripts share: paths, JSON Lines, subprocess environment, machine facts."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from testing.console import ENV_PREFIXES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The developer's settings a bench never passes on to a process it starts, the same the
# tests keep out: their store, its local index, Slack, encoder, answer model, ingest limits.
SCRUB = ENV_PREFIXES


def log(message: str) -> None:
    """Progress for the person running the bench (stderr, so stdout stays the report)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def require_inputs(*paths: str | Path) -> None:
    """Stop with one plain line when an input file is missing (no traceback).

    The evaluation sets are not part of the repository: the commands in the scripts'
    docstrings read them from `../shared/eval/`, which a clone alone does not have.
    """
    for path in paths:
        if not Path(path).is_file():
            raise SystemExit(
                f"bench: {path} not found. The evaluation sets are not in this repository: "
                "the examples read them from ../shared/eval/ beside it. Pass your own JSON "
                "Lines files with --corpus / --questions (formats in docs/benchmarks.md)."
            )


def read_jsonl(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The records of a JSON Lines file, the first `limit` if given."""
    require_inputs(path)
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
                if limit is not None and len(records) >= limit:
                    break
    return records


def asked_at(question: dict[str, Any]) -> datetime | None:
    """The question's date as the time of asking (for "this week")."""
    value = question.get("question_date")
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Write records one JSON object a line."""
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def store_env(chroma_path: Path, encoder: str | None = None) -> dict[str, str]:
    """The environment for `ingest`/`ask`: the given store (and encoder), nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUB)}
    env["CHROMA_PATH"] = str(chroma_path.resolve())
    if encoder:
        env["EMBEDDING_ENCODER"] = encoder
    env["ANONYMIZED_TELEMETRY"] = "False"
    return env


def run_cli(
    args: Sequence[str],
    chroma_path: Path,
    cwd: Path,
    ok: tuple[int, ...] = (0,),
    encoder: str | None = None,
) -> tuple[str, float]:
    """Run one of our console scripts on a store; its stdout and wall time.

    `cwd` should be a folder without a `.env`, so the developer's settings stay out.
    Exit codes outside `ok` stop the bench; stderr of an accepted non-zero exit is logged
    (`ingest` exits 1 when some inputs failed and the rest landed).
    """
    out, wall, _ = time_cli(args, chroma_path, cwd, ok, encoder)
    return out, wall


def time_cli(
    args: Sequence[str],
    chroma_path: Path,
    cwd: Path,
    ok: tuple[int, ...] = (0,),
    encoder: str | None = None,
) -> tuple[str, float, float]:
    """As `run_cli`, and the CPU seconds (user + system) the command used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=cwd,
        env=store_env(chroma_path, encoder),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in ok:
        raise SystemExit(f"{args[0]} exited {done.returncode}:\n{done.stderr[-3000:]}")
    if done.returncode:
        log(f"{args[0]} exited {done.returncode}: {done.stderr.strip()[-1000:]}")
    return done.stdout, seconds, cpu


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _status_mb(*keys: str) -> list[float]:
    """Fields of /proc/self/status given in kB (VmRSS, RssAnon, …), in MB."""
    found = dict.fromkeys(keys, float("nan"))
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in found:
                found[key] = int(value.split()[0]) / 1024
    return [found[key] for key in keys]


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), in MB.

    Not ru_maxrss: Linux carries it over fork and exec, so a child started by a big process
    reports its parent's size as its own peak."""
    current, peak = _status_mb("VmRSS", "VmHWM")
    return current, peak


def memory_split_mb() -> tuple[float, float]:
    """This process's resident memory split: its own (RssAnon: heap, model, caches) and
    file pages mapped in (RssFile: e.g. an mmapped index; page cache the kernel can drop
    and that processes mapping the same files share), in MB."""
    own, mapped = _status_mb("RssAnon", "RssFile")
    return own, mapped


def machine() -> str:
    """One line on the machine: CPU model, cores, memory, Python."""
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as handle:
        mem_gb = int(handle.readline().split()[1]) / 1024 / 1024
    return (
        f"{model}, {os.cpu_count()} cores, {mem_gb:.1f} GB RAM, "
        f"Python {platform.python_version()}, load avg {os.getloadavg()[0]:.2f}"
    )


def revision() -> str:
    """The git commit the bench ran on, marked when core/ or ingest/ had local changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "core", "ingest")
    return f"{commit} (core/ingest modified)" if dirty else commit


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table; '-' when absent."""
    return "-" if value is None else f"{value:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
