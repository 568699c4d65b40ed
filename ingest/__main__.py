"""`ingest`: add articles to the store, list them, delete them, or show store stats;
`ingest follow SOURCE…` keeps following feeds and sitemaps (`ingest.follow_cli`).

Exit codes: 0 all good, 1 some inputs failed (the rest landed), 2 nothing could be done
(configuration, unreachable store, bad arguments).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from buildtools.onnx import ensure_encoder
from core.console import console_script, ignore_interrupts
from core.encode.embeddings import Embedder, load_encoder
from core.errors import NewsroomError
from core.language.text import counted, escape_controls, one_line
from core.search.archive import LiveArchive
from core.settings import Settings, load_settings
from core.store import ArchiveStore, open_store, store_exists
from ingest.archive import local_index, update
from ingest.pipeline import Ingestor
from ingest.reembed import reembed
from ingest.sources import count_items, display_path, expand


def build_parser() -> argparse.ArgumentParser:
    """The command line of `ingest`."""
    parser = argparse.ArgumentParser(
        prog="ingest",
        description="Add news articles (files, folders, URLs, JSON Lines, -) to the store.",
        epilog=(
            "`ingest follow SOURCE...` follows feeds and sitemaps instead (see "
            "`ingest follow --help`); a file or folder named 'follow' is ingested as ./follow."
        ),
    )
    parser.add_argument("inputs", nargs="*", metavar="PATH_OR_URL")
    parser.add_argument("--collection", help="collection name (default: COLLECTION or 'news')")
    parser.add_argument(
        "--delete",
        metavar="ID_OR_URL_OR_PATH",
        action="append",
        help="remove an article by its id, URL or file path",
    )
    parser.add_argument("--list", action="store_true", help="list stored articles")
    parser.add_argument("--stats", action="store_true", help="show what the store holds")
    parser.add_argument(
        "--reembed",
        action="store_true",
        help="re-embed the stored chunks with the configured EMBEDDING_ENCODER",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


@console_script("ingest")
def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ingest` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["follow"]:
        from ingest.follow_cli import follow_main

        _quiet_libraries()
        return follow_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    _quiet_libraries()
    modes = [
        flag
        for flag, given in (
            ("--delete", args.delete),
            ("--list", args.list),
            ("--stats", args.stats),
            ("--reembed", args.reembed),
        )
        if given
    ]
    if len(modes) > 1:
        parser.error(f"give one of {', '.join(modes)} at a time")
    if modes and args.inputs:
        parser.error(
            f"{modes[0]} adds nothing, so {len(args.inputs)} PATH_OR_URL would be ignored; "
            "run `ingest PATH_OR_URL...` on its own to add them"
        )
    if not (args.inputs or modes):
        parser.print_usage(sys.stderr)
        print(
            "ingest: give files, folders or URLs to add, "
            "or --list / --stats / --delete / --reembed",
            file=sys.stderr,
        )
        return 2
    try:
        settings = load_settings(**({"collection": args.collection} if args.collection else {}))
        if modes and not store_exists(settings.store):
            return _no_store(f"there is no store at {settings.chroma_path}", modes[0])
        ensure_encoder(settings.encoder)  # built on first use unless `make install` did
        embedder = load_encoder(settings.encoder)
        if args.reembed:
            return _reembed(settings, embedder, quiet=args.quiet)
        # Only adding creates a store or a collection: the other modes read or remove.
        store = open_store(settings.store, embedder.name, embedder.dim, create=not modes)
        if args.delete and not store.exists:
            where = f"there is no collection '{settings.collection}' in {settings.store_label}"
            return _no_store(where, modes[0])
        if args.delete:
            return _delete(store, args.delete, local_index(settings, store))
        if args.list:
            return _list(store)
        if args.stats:
            return _stats(store, settings)
        return _ingest(store, embedder, settings, args.inputs, quiet=args.quiet)
    except NewsroomError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        ignore_interrupts()
        print(
            "ingest: interrupted; articles already committed stay, re-run to finish",
            file=sys.stderr,
        )
        return 130


def _quiet_libraries() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    # Its warnings ("discarding data: None") repeat our own failed line for the page.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


def _no_store(where: str, mode: str) -> int:
    """One line for a mode that needs a store which is not there (none is created)."""
    verb = {"--delete": "delete", "--list": "list", "--stats": "show", "--reembed": "re-embed"}
    print(
        f"ingest: {where}, so nothing to {verb[mode]}; set CHROMA_PATH (or --collection) to "
        "where the articles are, or add some with `ingest PATH_OR_URL`",
        file=sys.stderr,
    )
    return 2


def _ingest(
    store: ArchiveStore, embedder: Embedder, settings: Settings, inputs: list[str], quiet: bool
) -> int:
    total = count_items(inputs, settings.ingest) if "-" not in inputs else None
    bar = tqdm(
        total=total,
        unit="item",
        desc="ingest",
        disable=True if quiet else None,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    archive = local_index(settings, store)
    ingestor = Ingestor(
        store,
        embedder,
        settings.max_chunks_per_article,
        after_commit=lambda: update(archive),
        input_seconds=settings.input_timeout,
    )
    with bar:
        report = ingestor.run(expand(inputs, settings.ingest), on_item=lambda: bar.update(1))
    _print_failures(report.failed)
    if report.swept:
        print(f"  cleaned up {report.swept} chunks left by an interrupted run", file=sys.stderr)
    if report.halted:
        print(
            f"ingest: stopped early, as the store could not be written; {report.not_tried} "
            "not tried. What was committed stays: fix the store, then run the same command "
            "again",
            file=sys.stderr,
        )
    print(f"ingest: {report.line()} into '{settings.collection}' at {settings.store_label}")
    return 1 if report.failed else 0


def _print_failures(failed: list[tuple[str, str]]) -> None:
    """One line per reason: a reason that does not name its input (the store's own error)
    is printed once with how many inputs it failed, not once per input."""
    counts = Counter(reason for _label, reason in failed)
    for reason, count in counts.items():
        times = f" ({count} inputs)" if count > 1 else ""
        print(f"  failed: {escape_controls(reason)}{times}", file=sys.stderr)


def _reembed(settings: Settings, embedder: Embedder, quiet: bool) -> int:
    store = open_store(settings.store, embedder.name, embedder.dim, create=False, check_model=False)
    total = store.summary().chunks if store.exists else 0
    archive = local_index(settings, store)
    bar = tqdm(
        total=total,
        unit="chunk",
        desc="re-embed",
        disable=True if quiet else None,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    with bar:
        report = reembed(
            store, embedder, on_chunks=bar.update, after_commit=lambda: update(archive)
        )
    print(f"ingest: {report.line()} in '{settings.collection}' at {settings.store_label}")
    return 0


def _delete(store: ArchiveStore, targets: list[str], archive: LiveArchive) -> int:
    missing = 0
    for target in targets:
        candidates = [target]
        if "://" not in target:
            candidates.append(display_path(Path(target).resolve()))
        found = store.find_article(*candidates)
        if found is None or not store.delete_article(found.doc_id):
            print(
                f"ingest: no stored article has id, URL or path {target!r} (see `ingest --list`)",
                file=sys.stderr,
            )
            missing += 1
            continue
        print(f"ingest: deleted {escape_controls(found.doc_id)}")
    update(archive)
    return 1 if missing else 0


def _list(store: ArchiveStore) -> int:
    articles = sorted(store.articles(), key=lambda a: (a.published_at or "", a.title), reverse=True)
    for a in articles:
        # Printed as stored: an article written before metadata was cleaned may hold escapes.
        date = one_line(a.published_at or "undated")[:10]
        title = one_line(a.title)[:70]
        print(
            f"{date:10}  {a.n_chunks:4} chunks  {title:70}  {one_line(a.source)}  "
            f"{escape_controls(a.doc_id)}"
        )
    print(counted(len(articles), "article"))
    return 0


def _stats(store: ArchiveStore, settings: Settings) -> int:
    summary = store.summary()
    print(f"store:      {settings.store_label}")
    print(f"collection: {settings.collection} (vectors {store.model_name})")
    print(f"articles:   {summary.articles}")
    print(f"chunks:     {summary.chunks}")
    print(f"published:  {summary.oldest or '-'} .. {summary.newest or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
