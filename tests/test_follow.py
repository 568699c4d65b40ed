"""`ingest follow`: feeds and sitemaps served by a local site that changes between polls,
followed by the real console script and checked with the real `ask`."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from testing.console import console_env, installed
from testing.site import STORIES, Site, article, atom, rss, serving, story
from tests.helpers import ask_here, run_console

PRIVATE = {"ALLOW_PRIVATE_URLS": "true"}
TOKEN = "s3cret-feed-token-123"


def json_feed(base: str) -> str:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Regions",
            "items": [
                {
                    "id": "orchard",
                    "url": f"{base}/news/orchard",
                    "date_published": "2026-11-10T08:00:00Z",
                }
            ],
        }
    )


def sitemaps(site: Site, tunnel_lastmod: str) -> None:
    base = site.base
    site.page(
        "/sitemap_index.xml",
        "application/xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/sitemap_news.xml</loc></sitemap>"
        f"<sitemap><loc>{base}/sitemap_pages.xml</loc></sitemap></sitemapindex>",
    )
    site.page(
        "/sitemap_news.xml",
        "application/xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{base}/news/ferry</loc><news:news><news:publication>"
        "<news:name>Daily</news:name><news:language>en</news:language></news:publication>"
        "<news:publication_date>2026-11-10T08:00:00Z</news:publication_date>"
        "<news:title>Ferry</news:title></news:news></url></urlset>",
    )
    site.page(
        "/sitemap_pages.xml",
        "application/xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/news/tunnel</loc><lastmod>{tunnel_lastmod}</lastmod></url>"
        "</urlset>",
    )


def build(main: Site, other: Site) -> None:
    """The site as the first poll finds it."""
    base = main.base
    main.page(
        "/robots.txt",
        "text/plain",
        f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap_index.xml\n",
    )
    main.page("/feed.rss", "application/rss+xml", rss(base, ["news/bridge", "private/secret"]))
    main.page("/feed.atom", "application/atom+xml", atom(base, "2026-11-10T08:00:00Z"))
    main.page("/feed.json", "application/feed+json", json_feed(base))
    main.page(
        "/",
        "text/html",
        "<html><head><title>Daily</title>"
        f'<link rel="alternate" type="application/rss+xml" href="{base}/home.xml">'
        "</head><body><p>Front page</p></body></html>",
    )
    main.page("/home.xml", "application/rss+xml", rss(base, ["news/museum"]))
    sitemaps(main, "2026-11-10")
    for name in ("bridge", "library", "orchard", "ferry", "tunnel", "museum", "secret"):
        story(main, name)
    other.page("/feed.xml", "application/rss+xml", rss(other.base, ["news/storm"]))
    story(other, "storm")
    other.statuses["/news/storm"] = [(429, {"Retry-After": "1"}), (200, {})]


def follow(settings: Settings, cwd: Path, *args: str) -> tuple[int, str, str]:
    run = run_console(
        "ingest",
        "follow",
        *args,
        settings=settings,
        cwd=cwd,
        env={**PRIVATE, "FEED_TOKEN": TOKEN},
    )
    return run.code, run.stdout, run.stderr


def ask(settings: Settings, cwd: Path, question: str) -> str:
    """`ask QUESTION --json` as a person would run it (in this process: `ask` only checks
    what `ingest follow`, the subject, did)."""
    run = ask_here(question, "--json", settings=settings, cwd=cwd)
    assert run.code in (0, 1), run.stderr
    return run.stdout


@pytest.mark.integration
def test_follow_once_adds_updates_and_withdraws_as_the_site_changes(
    settings: Settings, tmp_path: Path
) -> None:
    """Pointed at feeds, sitemaps, robots.txt and a homepage, `ingest follow --once` adds
    the new stories, replaces a corrected one, withdraws a gone one, skips what robots.txt
    forbids, and an unchanged feed costs one 304."""
    with serving(Site()) as main, serving(Site()) as other:
        build(main, other)
        listing = tmp_path / "sources.txt"
        listing.write_text(
            "# the newsroom's feeds\n"
            f"{main.base}/feed.rss  X-Feed-Token: ${{FEED_TOKEN}}\n"
            f"{main.base}/feed.atom\n{main.base}/feed.json\n"
            f"{main.base}/robots.txt\n{main.base}/\n{other.base}/feed.xml\n"
        )
        flags = ["--delay", "0", "--gone-after", "0", "--prune-gone", "--quiet"]
        code, out, err = follow(settings, tmp_path, str(listing), "--once", *flags)
        assert code == 0, err
        assert "7 new, 0 updated" in out and "1 skipped by robots.txt" in out, out
        assert TOKEN not in out + err
        token_sent = [h.get("x-feed-token") for p, h, _s in main.requests if p == "/feed.rss"]
        assert token_sent == [TOKEN]
        assert main.hits("/private/secret") == []
        assert other.hits("/news/storm") == [429, 200]
        assert "Zephyr bridge" in ask(settings, tmp_path, "What did the council approve?")
        assert "whale skeleton" in ask(settings, tmp_path, "What did the museum unveil?")

        # The site changes: a new story, a corrected one, a withdrawn one.
        main.page(
            "/feed.rss",
            "application/rss+xml",
            rss(main.base, ["news/bridge", "private/secret", "news/market"]),
        )
        story(main, "market")
        fixed = STORIES["library"][1].replace("seven floors", "nine floors")
        story(main, "library", modified="2026-11-12T09:30:00Z", text=fixed)
        main.page("/feed.atom", "application/atom+xml", atom(main.base, "2026-11-12T09:30:00Z"))
        main.statuses["/news/tunnel"] = [(410, {})]
        sitemaps(main, "2026-11-12")
        before = len(main.requests)
        code, out, err = follow(settings, tmp_path, str(listing), "--once", *flags)
        assert code == 0, err
        assert "1 new, 1 updated" in out and "1 gone" in out, out
        second = [(p, s) for p, _h, s in main.requests[before:]]
        assert ("/feed.json", 304) in second
        assert ("/news/orchard", 200) not in second and ("/news/bridge", 200) not in second
        answer = ask(settings, tmp_path, "How many floors does the new central library have?")
        assert "nine floors" in answer and "seven floors" not in answer
        library = [p for p in json.loads(answer)["passages"] if "library" in p["doc_id"]]
        assert library[0]["modified_at"] == "2026-11-12T09:30:00Z"
        shown = ask_here("How many floors does the library have?", settings=settings, cwd=tmp_path)
        assert "updated 2026-11-12" in shown.stdout
        assert "Tessel square" in ask(settings, tmp_path, "Where did the night market open?")

        # Gone twice past --gone-after: withdrawn through the store's delete path.
        code, out, err = follow(settings, tmp_path, str(listing), "--once", *flags)
        assert code == 0, err
        assert "0 new, 0 updated" in out and "1 withdrawn" in out, out
        listed = run_console("ingest", "--list", settings=settings, cwd=tmp_path).stdout
        assert "Tunnel inspection" not in listed and "Night market" in listed


@pytest.mark.integration
def test_a_transient_error_never_withdraws(settings: Settings, tmp_path: Path) -> None:
    """A re-dated page that answers 500 is counted as failed (exit 1), stays in the archive,
    and is not asked again before its back-off has passed."""
    with serving(Site()) as main:
        main.page("/feed.atom", "application/atom+xml", atom(main.base, "2026-11-10T08:00:00Z"))
        story(main, "library")
        feed = f"{main.base}/feed.atom"
        flags = ["--once", "--delay", "0", "--gone-after", "0", "--prune-gone", "--quiet"]
        assert follow(settings, tmp_path, feed, *flags)[0] == 0
        main.page("/feed.atom", "application/atom+xml", atom(main.base, "2026-11-12T09:30:00Z"))
        main.statuses["/news/library"] = [(500, {"Retry-After": "0"})]
        code, out, err = follow(settings, tmp_path, feed, *flags)
        assert code == 1 and "1 failed" in out and "HTTP 500" in err, out + err
        assert main.hits("/news/library") == [200, 500, 500, 500]
        code, out, err = follow(settings, tmp_path, feed, *flags)
        assert code == 0 and main.hits("/news/library") == [200, 500, 500, 500], out + err
        listed = run_console("ingest", "--list", settings=settings, cwd=tmp_path).stdout
        assert "New central library" in listed


@pytest.mark.integration
def test_a_damaged_state_file_is_set_aside_and_following_goes_on(
    settings: Settings, tmp_path: Path
) -> None:
    """A follow state file that is no database (a disk error, a wrong path): one line says
    it was set aside, the poll runs and stores the feed's story, no traceback."""
    settings.follow_path.parent.mkdir(parents=True, exist_ok=True)
    settings.follow_path.write_text("this is not a database", encoding="utf-8")
    with serving(Site()) as main:
        main.page("/feed.atom", "application/atom+xml", atom(main.base, "2026-11-10T08:00:00Z"))
        story(main, "library")
        code, out, err = follow(
            settings, tmp_path, f"{main.base}/feed.atom", "--once", "--delay", "0"
        )
    assert code == 0 and "1 new" in out, out + err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "could not be read" in line], err
    assert list(settings.follow_path.parent.glob(f"{settings.follow_path.name}.damaged-*"))


@pytest.mark.integration
def test_follow_keeps_polling_until_sigterm(settings: Settings, tmp_path: Path) -> None:
    """Without --once it polls every --every; a story published meanwhile is answerable,
    and SIGTERM ends it with a summary and exit code 0."""
    with serving(Site()) as main:
        main.page("/feed.rss", "application/rss+xml", rss(main.base, ["news/bridge"]))
        story(main, "bridge")
        process = subprocess.Popen(
            [installed("ingest"), "follow", f"{main.base}/feed.rss", "--every", "0.5"]
            + ["--delay", "0", "--quiet"],
            cwd=tmp_path,
            env=console_env(settings, PRIVATE),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            lines = _lines(process)
            assert "1 new" in next(lines)
            main.page(
                "/feed.rss",
                "application/rss+xml",
                rss(main.base, ["news/bridge", "news/market"]),
            )
            story(main, "market")
            assert any("1 new" in line for line in _until(lines, "1 new"))
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
        assert process.returncode == 0, err
        assert "stopped after" in out and "2 new" in out
        assert "Tessel square" in ask(settings, tmp_path, "Where did the night market open?")


def _lines(process: subprocess.Popen[str]) -> Iterator[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        assert time.monotonic() < deadline, "no poll line in time"
        if line.startswith("ingest follow: poll"):
            yield line


def _until(lines: Iterator[str], text: str) -> Iterator[str]:
    for number, line in enumerate(lines):
        yield line
        if text in line or number > 40:
            return


@pytest.mark.integration
def test_a_folder_named_follow_is_still_ingested(settings: Settings, tmp_path: Path) -> None:
    """`ingest ./follow` ingests a folder called follow; `ingest follow` is the subcommand."""
    folder = tmp_path / "follow"
    folder.mkdir()
    (folder / "note.txt").write_text("A note about the Zephyr bridge and its four years.\n")
    run = run_console("ingest", "./follow", settings=settings, cwd=tmp_path)
    assert run.code == 0 and "1 added" in run.stdout, run.stderr
    usage = run_console("ingest", "follow", settings=settings, cwd=tmp_path)
    assert usage.code == 2 and "SOURCE" in usage.stderr


@pytest.mark.integration
@pytest.mark.parametrize("bad", ["ftp://x/feed", "no-such-file.txt"])
def test_a_source_that_is_neither_url_nor_file_is_one_line(
    settings: Settings, tmp_path: Path, bad: str
) -> None:
    """A mistyped source is one line and exit code 2, no traceback."""
    run = run_console("ingest", "follow", bad, "--once", settings=settings, cwd=tmp_path)
    assert run.code == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1


def test_a_page_keeps_its_modification_date() -> None:
    """A corrected page's `article:modified_time` (or JSON-LD dateModified) is kept with the
    article; an article that gives none keeps the hash it was stored under before."""
    from ingest.extract import article_from_html

    title, text = STORIES["library"]
    dated = article_from_html(article(title, text, "2026-11-12T09:30:00Z"), "x", url="http://x/")
    assert dated.modified_at == "2026-11-12T09:30:00Z"
    ld = article(title, text).replace(
        "</head>",
        '<script type="application/ld+json">{"dateModified": "2026-11-13T10:00:00Z"}'
        "</script></head>",
    )
    assert article_from_html(ld, "x", url="http://x/").modified_at == "2026-11-13T10:00:00Z"
    plain = article_from_html(article(title, text), "x", url="http://x/")
    assert plain.modified_at is None
    assert plain.content_hash != dated.content_hash


@pytest.mark.integration
def test_a_private_feeds_token_stays_on_its_host(settings: Settings, tmp_path: Path) -> None:
    """The header a sources file gives a feed is sent to that feed's host only, never to a
    page it links to elsewhere, and never printed."""
    with serving(Site()) as main, serving(Site()) as other:
        main.page("/feed.rss", "application/rss+xml", rss(other.base, ["news/storm"]))
        story(other, "storm")
        listing = tmp_path / "sources.txt"
        listing.write_text(f"{main.base}/feed.rss\tAuthorization: Bearer ${{FEED_TOKEN}}\n")
        code, out, err = follow(settings, tmp_path, str(listing), "--once", "--delay", "0")
        assert code == 0 and "1 new" in out, out + err
        sent = [h.get("authorization") for p, h, _s in main.requests if p == "/feed.rss"]
        assert sent == [f"Bearer {TOKEN}"]
        assert all("authorization" not in h for _p, h, _s in other.requests)
        assert TOKEN not in out + err


@pytest.mark.integration
def test_backfill_is_bounded_by_since_and_max_new(settings: Settings, tmp_path: Path) -> None:
    """A long sitemap is not fetched by surprise: pages before --since are skipped, and at
    most --max-new are fetched per poll, the rest on the next one."""
    with serving(Site()) as main:
        urls = "".join(
            f"<url><loc>{main.base}/news/{name}</loc><lastmod>{day}</lastmod></url>"
            for name, day in (("bridge", "2019-05-01"), ("museum", "2026-11-09"))
        )
        urls += f"<url><loc>{main.base}/news/ferry</loc><lastmod>2026-11-10</lastmod></url>"
        main.page(
            "/sitemap.xml",
            "application/xml",
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>",
        )
        for name in ("bridge", "museum", "ferry"):
            story(main, name)
        flags = ["--once", "--delay", "0", "--since", "2025-01-01", "--max-new", "1"]
        code, out, err = follow(settings, tmp_path, f"{main.base}/sitemap.xml", *flags)
        assert code == 0 and "1 new" in out, out + err
        assert "1 older than --since" in out and "1 left for the next poll" in out, out
        assert main.hits("/news/ferry") == [200] and main.hits("/news/bridge") == []
        code, out, err = follow(settings, tmp_path, f"{main.base}/sitemap.xml", *flags)
        assert code == 0 and "1 new" in out and "left" not in out, out + err
        assert main.hits("/news/museum") == [200] and main.hits("/news/ferry") == [200]


def test_a_gzipped_sitemap_and_a_homepage_without_feeds_are_followed() -> None:
    """A sitemap.xml.gz is read like the sitemap inside it; a homepage that names no feed
    leads to its robots.txt's Sitemap lines; a zip bomb is refused, not unpacked."""
    import gzip

    from core.errors import LoadError
    from ingest.feeds import read_listing

    xml = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>https://news.example/a</loc><lastmod>2026-11-12</lastmod></url></urlset>"
    )
    listing = read_listing(gzip.compress(xml.encode()), "https://news.example/sitemap.xml.gz")
    assert [(e.url, e.modified) for e in listing.entries] == [
        ("https://news.example/a", "2026-11-12")
    ]
    home = read_listing(b"<html><body><p>Front page</p></body></html>", "https://news.example/")
    assert home.children == ["https://news.example/robots.txt"]
    with pytest.raises(LoadError, match="once unzipped"):
        read_listing(gzip.compress(b" " * (60 << 20)), "https://news.example/bomb.xml.gz")
