"""A new host's build alone: `rebuild_aside` in a child process or in this one, timed.

    .venv/bin/python -m bench.new_host_build --store /tmp/scale/store/chroma --child-from 1
    .venv/bin/python -m bench.new_host_build --store /tmp/scale/store/chroma --child-from 0

A bounded run, not a test. One build of the store's local index into a fresh folder, as a
new host's bot runs it (the store opened first, as the bot opens it), then one JSON line:
wall seconds, CPU seconds of the whole process tree (this process and the child it waited
for), the articles indexed, and this process's own memory (RssAnon) and VmRSS after the
build. `--child-from 1` builds in a child process, `--child-from 0` in this one. Timings on
a shared machine drift by the minute: run the two alternately and compare within a run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.common import memory_split_mb, rss_mb


def tree_cpu_s() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build_once(store_path: Path, child_from: int) -> dict[str, float]:
    """Open the store, build its local index in a fresh folder; the figures."""
    from core.encode.embeddings import load_embedder
    from core.search.rebuild import rebuild_aside
    from core.settings import Settings
    from core.store import open_store

    settings = Settings(_env_file=None, chroma_path=store_path)  # type: ignore[call-arg]
    embedder = load_embedder()
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    try:
        with tempfile.TemporaryDirectory(prefix="newhost-build-") as work:
            wall, cpu = time.perf_counter(), tree_cpu_s()
            built = rebuild_aside(
                store, Path(work) / "index", None, embedder.dim, 0, child_from=child_from
            )
            got = {"wall_s": time.perf_counter() - wall, "cpu_s": tree_cpu_s() - cpu}
            got["articles"] = built.counts()[1]
            own, _ = memory_split_mb()
            got["own_mb"], got["rss_mb"] = own, rss_mb()[0]
            return got
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.new_host_build", description=__doc__)
    parser.add_argument("--store", type=Path, required=True, help="an embedded Chroma folder")
    parser.add_argument(
        "--child-from", type=int, required=True, help="1: a child builds; 0: this process"
    )
    args = parser.parse_args(argv)
    child_from = args.child_from if args.child_from > 0 else 2**62
    got = build_once(args.store, child_from)
    mode = "child" if args.child_from > 0 else "in-process"
    load = os.getloadavg()[0]
    print(json.dumps({"mode": mode, **{k: round(v, 1) for k, v in got.items()}, "load": load}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
