"""`ingest`: add articles to the store, list them, delete them, or show store stats.

Exit codes: 0 all good, 1 some inputs failed (the rest landed), 2 nothing could be done
(configuration, unreachable store, bad arguments).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tqdm import tqdm

from core.embeddings import Embedder, load_embedder
from core.errors import NewsroomError
from core.settings import Settings, load_settings
from core.store import Store, open_store
from ingest.pipeline import Ingestor
from ingest.reembed import reembed
from ingest.sources import count_items, expand


def build_parser() -> argparse.ArgumentParser:
    """The command line of `ingest`."""
    parser = argparse.ArgumentParser(
        prog="ingest",
        description="Add news articles (files, folders, URLs, JSON Lines, -) to the store.",
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ingest` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    if not (args.inputs or args.delete or args.list or args.stats or args.reembed):
        build_parser().print_usage(sys.stderr)
        print(
            "ingest: give files, folders or URLs to add, "
            "or --list / --stats / --delete / --reembed",
            file=sys.stderr,
        )
        return 2
    try:
        settings = load_settings(**({"collection": args.collection} if args.collection else {}))
        embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
        if args.reembed:
            return _reembed(settings, embedder, quiet=args.quiet)
        store = open_store(settings, embedder.name, embedder.dim)
        if args.delete:
            return _delete(store, args.delete)
        if args.list:
            return _list(store)
        if args.stats:
            return _stats(store, settings)
        return _ingest(store, embedder, settings, args.inputs, quiet=args.quiet)
    except NewsroomError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "ingest: interrupted; articles already committed stay, re-run to finish",
            file=sys.stderr,
        )
        return 130


def _ingest(
    store: Store, embedder: Embedder, settings: Settings, inputs: list[str], quiet: bool
) -> int:
    total = count_items(inputs) if "-" not in inputs else None
    bar = tqdm(
        total=total,
        unit="item",
        desc="ingest",
        disable=True if quiet else None,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    ingestor = Ingestor(store, embedder, settings.max_chunks_per_article)
    with bar:
        report = ingestor.run(expand(inputs, settings), on_item=lambda: bar.update(1))
    for _label, reason in report.failed:
        print(f"  failed: {reason}", file=sys.stderr)
    if report.swept:
        print(f"  cleaned up {report.swept} chunks left by an interrupted run", file=sys.stderr)
    print(f"ingest: {report.line()} into '{settings.collection}' at {settings.store_label}")
    return 1 if report.failed else 0


def _reembed(settings: Settings, embedder: Embedder, quiet: bool) -> int:
    store = open_store(settings, embedder.name, embedder.dim, create=False, check_model=False)
    total = store.summary().chunks if store.exists else 0
    bar = tqdm(
        total=total,
        unit="chunk",
        desc="re-embed",
        disable=True if quiet else None,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    with bar:
        report = reembed(store, embedder, on_chunks=bar.update)
    print(f"ingest: {report.line()} in '{settings.collection}' at {settings.store_label}")
    return 0


def _resolve(store: Store, target: str) -> str | None:
    candidates = {target}
    if "://" not in target:
        candidates.add(str(Path(target).resolve()))
    for article in store.articles():
        if {article.doc_id, article.url, article.path} & candidates:
            return article.doc_id
    return None


def _delete(store: Store, targets: list[str]) -> int:
    missing = 0
    for target in targets:
        doc_id = _resolve(store, target)
        if doc_id is None:
            print(
                f"ingest: no stored article has id, URL or path {target!r} (see `ingest --list`)",
                file=sys.stderr,
            )
            missing += 1
            continue
        store.delete_article(doc_id)
        print(f"ingest: deleted {doc_id}")
    store.bump_generation()
    return 1 if missing else 0


def _list(store: Store) -> int:
    articles = sorted(store.articles(), key=lambda a: (a.published_at or "", a.title), reverse=True)
    for a in articles:
        date = (a.published_at or "undated")[:10]
        print(f"{date:10}  {a.n_chunks:4} chunks  {a.title[:70]:70}  {a.source}  {a.doc_id}")
    print(f"{len(articles)} articles")
    return 0


def _stats(store: Store, settings: Settings) -> int:
    summary = store.summary()
    print(f"store:      {settings.store_label}")
    print(f"collection: {settings.collection} (vectors {store.model_name})")
    print(f"articles:   {summary.articles}")
    print(f"chunks:     {summary.chunks}")
    print(f"published:  {summary.oldest or '-'} .. {summary.newest or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
