"""Hostile and clumsy input through the real `ingest` and `ask` commands, as a person runs them.

Each bad input gets one line saying what is wrong; the good inputs of the same run still land;
nobody sees a traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.encode.embeddings import Embedder
from core.models import Article
from core.settings import Settings
from core.store import open_store
from ingest.pipeline import Ingestor
from ingest.sources import Item
from tests.conftest import SEED_DIR
from tests.documents import news_page
from tests.helpers import (
    Route,
    Run,
    assert_no_traceback,
    ingest_paths,
    interrupt_console,
    run_console,
    serving,
)

STORY = (
    "The harbor board approved the new ferry schedule on Tuesday after a long debate "
    "about fares, the night crossings and the future of the old terminal building. "
)


def _stored(settings: Settings, embedder: Embedder) -> dict[str, str]:
    """doc_id -> all chunk text of each stored article."""
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    texts: dict[str, str] = {}
    for chunk in store.iter_chunks():
        texts[chunk.doc_id] = texts.get(chunk.doc_id, "") + chunk.text
    return texts


@pytest.mark.integration
def test_folder_links_leading_outside_the_folder_are_skipped_and_named(
    tmp_path: Path, work: Path, settings: Settings, embedder: Embedder
) -> None:
    """`ingest dir/` never reads `dir/leak.txt -> ../secrets.env`; each such link is named."""
    (tmp_path / "secrets.env").write_text("SLACK_BOT_TOKEN=xoxb-1234-very-secret-token-value\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "private.txt").write_text("Private notes nobody should quote in Slack. " * 3)
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text(STORY)
    (folder / "leak.txt").symlink_to("../secrets.env")
    (folder / "outside").symlink_to(elsewhere, target_is_directory=True)
    (folder / "alias.txt").symlink_to("good.txt")  # a link that stays inside is fine
    (folder / "loop.txt").symlink_to("loop.txt")  # resolves nowhere: skipped, not a crash

    run = run_console("ingest", str(folder), "--quiet", settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    for link in ("leak.txt", "outside", "loop.txt"):
        assert f"{folder / link}: skipped, it links outside" in run.stderr, run.stderr
    stored = _stored(settings, embedder)
    assert list(stored) == [str((folder / "good.txt").resolve())]
    assert "secret" not in " ".join(stored.values())


@pytest.mark.integration
def test_one_bad_record_never_aborts_the_run(
    tmp_path: Path, work: Path, settings: Settings, embedder: Embedder
) -> None:
    """Lone surrogates, a non-UTF-8 file name, one bad record in a .json array: the rest land."""
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "good.txt").write_text(STORY)
    (Path(os.fsdecode(bytes(folder) + b"/caf\xe9.txt"))).write_text("Ferry news. " + STORY)
    lines = [
        json.dumps({"id": "line-ok", "text": "Line one. " + STORY}),
        '{"id": "half-emoji", "text": "Fares rise \\ud83d today. ' + STORY + '"}',
        '{"id": "bad-title", "title": "Ferry \\udc00", "text": "Line three. ' + STORY + '"}',
    ]
    (folder / "feed.jsonl").write_text("\n".join(lines) + "\n")
    records = [
        {"id": "array-1", "text": "First record. " + STORY},
        {"id": "array-2", "title": "no text here"},
        {"id": "array-3", "text": "Third record. " + STORY},
    ]
    (folder / "records.json").write_text(json.dumps(records))

    run = run_console("ingest", str(folder), "--quiet", settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 1
    assert "5 added, 0 updated, 0 unchanged, 3 failed" in run.stdout, run.stderr
    failed = [line for line in run.stderr.splitlines() if "failed:" in line]
    assert len(failed) == 3, run.stderr
    assert any("feed.jsonl line 2" in line and "surrogate" in line for line in failed)
    assert any("feed.jsonl line 3" in line and "'title'" in line for line in failed)
    assert any("records.json record 2" in line and "'text'" in line for line in failed)
    stored = _stored(settings, embedder)
    assert {"line-ok", "array-1", "array-3"} <= set(stored)
    assert any(doc_id.endswith("caf\\xe9.txt") for doc_id in stored)
    listing = run_console("ingest", "--list", settings=settings, cwd=work)
    assert listing.code == 0 and "5 articles" in listing.stdout


# OSC window title, colour, an OSC-8 hyperlink, 8-bit CSI, a bidi override, a carriage return.
ESCAPES = (
    "\x1b]0;pwned\x07\x1b[31;1m\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\x9b2J\u202e\r"
)
TERMINAL_ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.integration
def test_control_characters_never_reach_the_terminal(
    tmp_path: Path, work: Path, settings: Settings, embedder: Embedder
) -> None:
    """Titles and outlets with escape sequences: stripped at ingest, and again when printed."""
    feed = tmp_path / "feed.jsonl"
    record = {
        "id": "ferry-1",
        "title": f"Ferry {ESCAPES}schedule",
        "source": f"Harbor {ESCAPES}Times",
        "author": f"Ann {ESCAPES}Lee",
        "text": f"Ferry schedule. {ESCAPES}" + STORY,
    }
    feed.write_text(json.dumps(record) + "\n")
    (tmp_path / "front.md").write_text(
        f"---\ntitle: Night {ESCAPES}crossings\nsource: Bay {ESCAPES}News\n---\n" + STORY * 2
    )
    # An article stored with raw metadata (as an older ingest did): printing must clean it.
    raw = Article(
        doc_id=f"raw-{ESCAPES}1",
        title=f"Terminal {ESCAPES}building",
        text="The old ferry terminal building will close next year. " + STORY,
        source=f"Old {ESCAPES}Gazette",
    )
    store = open_store(settings.store, embedder.name, embedder.dim)
    Ingestor(store, embedder).run([Item("raw", lambda: [raw])])

    run = run_console(
        "ingest", str(feed), str(tmp_path / "front.md"), "--quiet", settings=settings, cwd=work
    )
    assert run.code == 0, run.stderr
    for article in open_store(settings.store, embedder.name, embedder.dim).articles():
        if article.doc_id != raw.doc_id:
            fields = (article.doc_id, article.title, article.source, article.authors)
            assert not any(TERMINAL_ACTIVE.search(f) for f in fields), fields

    listing = run_console("ingest", "--list", settings=settings, cwd=work)
    question = "when does the ferry schedule change?"
    answer = run_console("ask", question, settings=settings, cwd=work)
    as_json = run_console("ask", question, "--json", settings=settings, cwd=work)
    for shown in (listing, answer, as_json):
        assert shown.code == 0, shown.stderr
        assert not TERMINAL_ACTIVE.search(shown.stdout + shown.stderr), shown.out
    assert (
        "Terminal" in listing.stdout and "Old" in listing.stdout and "3 articles" in listing.stdout
    )
    assert "Harbor" in answer.stdout
    titles = [p["title"] for p in json.loads(as_json.stdout)["passages"]]
    assert any(t.startswith("Terminal \x1b]0;pwned") for t in titles)  # escaped, not lost


def _feed_fifo(path: Path, data: bytes) -> threading.Thread:
    """A writer that pours `data` into a named pipe until the reader hangs up."""

    def pour() -> None:
        try:
            with path.open("wb") as pipe:
                pipe.write(data)
        except BrokenPipeError:
            pass  # the reader stopped at its cap: what we want

    os.mkfifo(path)
    thread = threading.Thread(target=pour, daemon=True)
    thread.start()
    return thread


@pytest.mark.integration
def test_standard_input_and_named_pipes_are_capped(
    tmp_path: Path, work: Path, settings: Settings, embedder: Embedder
) -> None:
    """`ingest -` and a FIFO stop reading at MAX_FILE_MB instead of reading without end."""
    three_mb = b"\0" * (3 * 1024 * 1024)
    writer = _feed_fifo(tmp_path / "pipe.txt", three_mb)
    (tmp_path / "good.txt").write_text(STORY)
    run = run_console(
        "ingest",
        "-",
        str(tmp_path / "pipe.txt"),
        str(tmp_path / "good.txt"),
        "--quiet",
        settings=settings,
        cwd=work,
        stdin=three_mb,
        env={"MAX_FILE_MB": "1"},
    )
    writer.join(timeout=30)
    assert_no_traceback(run)
    assert run.code == 1 and "1 added, 0 updated, 0 unchanged, 2 failed" in run.stdout
    assert "stdin: over the 1 MB limit" in run.stderr and "MAX_FILE_MB" in run.stderr
    assert f"{tmp_path / 'pipe.txt'}: over the 1 MB limit" in run.stderr


class _Dribble(BaseHTTPRequestHandler):
    """A page that never finishes: one byte every 0.3 s, each within any read timeout."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"<p>")
                self.wfile.flush()
                time.sleep(0.3)
        except OSError:
            pass  # the client gave up: what we want

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def dribbling_url() -> Iterator[str]:
    """The URL of a local page that keeps the connection alive without ever ending."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Dribble)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/endless"
    server.shutdown()


@pytest.mark.integration
def test_no_input_may_take_longer_than_the_input_time_limit(
    tmp_path: Path, work: Path, settings: Settings, embedder: Embedder, dribbling_url: str
) -> None:
    """An endless page is cut off at INPUT_TIMEOUT; the other inputs of the run still land."""
    (tmp_path / "good.txt").write_text(STORY)
    (tmp_path / "dots.txt").write_text("." * 20_000)  # split in ms now, not 13 s
    started = time.monotonic()
    run = run_console(
        "ingest",
        dribbling_url,
        str(tmp_path / "dots.txt"),
        str(tmp_path / "good.txt"),
        "--quiet",
        settings=settings,
        cwd=work,
        env={"INPUT_TIMEOUT": "4", "ALLOW_PRIVATE_URLS": "true"},
        timeout=120,
    )
    assert_no_traceback(run)
    assert run.code == 1
    assert f"{dribbling_url}: took longer than 4 s" in run.stderr and "INPUT_TIMEOUT" in run.stderr
    assert "2 added, 0 updated, 0 unchanged, 1 failed" in run.stdout, run.stderr
    assert time.monotonic() - started < 100


@pytest.fixture
def site() -> Iterator[str]:
    """host:port of a loopback site: a news page and redirects a fetch must not follow."""
    page = news_page("Ferry schedule approved", [STORY * 3]).encode()
    routes: dict[str, Route] = {
        "/story": (200, {"Content-Type": "text/html; charset=utf-8"}, page),
        "/to-data": (302, {"Location": "data:text/html,<p>injected</p>"}, b""),
        "/to-js": (302, {"Location": "javascript:alert(1)"}, b""),
    }
    with serving(routes) as base:
        yield base.removeprefix("http://")


def _failures(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("  failed: ")]


@pytest.mark.integration
def test_clumsy_inputs_to_ingest_get_one_clear_line_each(
    tmp_path: Path, work: Path, settings: Settings, site: str
) -> None:
    """Bad ports, broken brackets, redirects to data:/javascript:, deep JSON; HTTP:// works."""
    (tmp_path / "deep.jsonl").write_text("[" * 100_000 + "\n")
    (tmp_path / "deep.json").write_text('{"text": ' * 100_000 + '"x"' + "}" * 100_000)
    clumsy = {
        "http://127.0.0.1:99999/": "port 99999 is out of range",
        "http://[::1/": "not a valid URL",
        f"http://{site}/to-data": "redirected to a data: URL",
        f"http://{site}/to-js": "redirected to a javascript: URL",
        str(tmp_path / "deep.jsonl"): "line 1: the JSON is nested too deeply",
        str(tmp_path / "deep.json"): "the JSON is nested too deeply",
    }
    run = run_console(
        "ingest",
        *clumsy,
        f"HTTP://{site.upper()}/story",
        "--quiet",
        settings=settings,
        cwd=work,
        env={"ALLOW_PRIVATE_URLS": "true"},
    )
    assert_no_traceback(run)
    assert run.code == 1
    assert "1 added, 0 updated, 0 unchanged, 6 failed" in run.stdout, run.stderr
    failures = _failures(run)
    assert len(failures) == 6, run.stderr
    for given, reason in clumsy.items():
        assert any(line.startswith(f"  failed: {given}") and reason in line for line in failures), (
            given,
            run.stderr,
        )


@pytest.mark.integration
def test_clumsy_questions_to_ask_get_one_clear_line_and_the_rest_are_answered(
    tmp_path: Path, work: Path, settings: Settings
) -> None:
    """A non-UTF-8 argument; a batch with Latin-1, lone-surrogate and deeply nested lines."""
    ingest_paths(settings, SEED_DIR)
    run = run_console("ask", b"\xff\xfe who was Cienfuegos?", settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 2 and "not valid UTF-8" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1

    batch = tmp_path / "questions.jsonl"
    batch.write_bytes(
        b'{"id": "q1", "question": "who was Cienfuegos?"}\n'
        + '{"id": "q2", "question": "Qui était Cienfuegos?"}\n'.encode("latin-1")
        + b'{"id": "q3", "question": "When was the Merida Initiative agreed?"}\n'
        + b'{"id": "q4", "question": "who \\ud83d was Cienfuegos?"}\n'
        + b"[" * 100_000
        + b'\n{"id": "q6", "question": "Who is Mexico\'s foreign minister?"}\n'
    )
    run = run_console("ask", "--batch", str(batch), "--json", settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 1
    entries = [json.loads(line) for line in run.stdout.splitlines()]
    assert [e.get("line") or e["id"] for e in entries] == ["q1", 2, "q3", 4, 5, "q6"]
    answered = {e["id"]: e for e in entries if "error" not in e}
    assert "Cienfuegos" in answered["q1"]["answer"] and "Ebrard" in answered["q6"]["answer"]
    errors = {e["line"]: e["error"] for e in entries if "error" in e}
    assert "not UTF-8" in errors[2] and "surrogate" in errors[4] and "nested" in errors[5]
    assert all(e["answer"] is None and e["passages"] == [] for e in entries if "error" in e)
    assert len(run.stderr.strip().splitlines()) == 3, run.stderr


@pytest.mark.integration
def test_output_piped_to_a_reader_that_went_away_ends_quietly(
    work: Path, settings: Settings
) -> None:
    """`ask … | head` once head has exited (one question or a batch), and `ingest --list |
    head`: the command stops with status 1 and nothing on stderr, not a traceback."""
    ingest_paths(settings, SEED_DIR)
    batch = work / "questions.jsonl"
    batch.write_text('{"id": "q1", "question": "who was Cienfuegos?"}\n', encoding="utf-8")
    for script, args in (
        ("ask", ("who was Cienfuegos?",)),
        ("ask", ("--batch", str(batch), "--json")),
        ("ingest", ("--list",)),
    ):
        run = run_console(script, *args, settings=settings, cwd=work, reader_gone=True)
        assert_no_traceback(run)
        assert run.code == 1 and not run.stderr.strip(), (script, run.stderr)


@pytest.mark.integration
def test_ctrl_c_ends_the_commands_with_one_line_and_status_130(
    work: Path, settings: Settings
) -> None:
    """Ctrl-C while `ask --batch -` waits for questions, and twice while `ingest -` reads:
    one "interrupted" line and exit status 130, never a traceback or a crash."""
    ingest_paths(settings, SEED_DIR)
    run = interrupt_console("ask", "--batch", "-", settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 130 and run.stderr.strip() == "ask: interrupted", run.stderr
    run = interrupt_console("ingest", "-", settings=settings, cwd=work, times=2)
    assert_no_traceback(run)
    assert run.code == 130 and run.stderr.count("interrupted") == 1, run.stderr


@pytest.mark.integration
@pytest.mark.parametrize(
    ("script", "args", "says"),
    [
        ("ingest", ("--list", "new.txt"), "--list adds nothing, so 1 PATH_OR_URL would be"),
        ("ingest", ("--delete", "old-story", "new.txt"), "--delete adds nothing"),
        ("ingest", ("--list", "--stats"), "give one of --list, --stats at a time"),
        ("ask", ("--k=-3", "who was Cienfuegos?"), "--k must be 1 or more"),
    ],
)
def test_arguments_that_would_be_ignored_are_refused(
    work: Path, settings: Settings, script: str, args: tuple[str, ...], says: str
) -> None:
    """`ingest --list new.txt` used to list and never add new.txt, without a word; `ask
    --k=-3` printed an empty "Passages:" heading. Each is refused with what to do."""
    run = run_console(script, *args, settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 2 and says in run.stderr, run.stderr


@pytest.mark.integration
def test_a_folder_that_cannot_be_listed_is_named_and_the_rest_land(
    tmp_path: Path, work: Path, settings: Settings
) -> None:
    """`ingest articles/` where `articles/locked/` cannot be listed: one failed line names
    the folder (it used to be skipped without a word, exit status 0); the rest land."""
    folder = tmp_path / "articles"
    (folder / "locked").mkdir(parents=True)
    (folder / "open.txt").write_text("Harbor board\n\n" + STORY)
    (folder / "locked" / "hidden.txt").write_text("Hidden story\n\n" + STORY)
    # Root reads any folder: run it without the capabilities that allow that.
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop the override")
        prefix = (setpriv, "--bounding-set=-dac_override,-dac_read_search")
    (folder / "locked").chmod(0)
    try:
        run = run_console("ingest", str(folder), settings=settings, cwd=work, prefix=prefix)
    finally:
        (folder / "locked").chmod(0o755)
    assert_no_traceback(run)
    assert run.code == 1 and "1 added, 0 updated, 0 unchanged, 1 failed" in run.stdout
    [failure] = _failures(run)
    assert "locked: cannot list this folder (Permission denied)" in failure, run.stderr


@pytest.mark.integration
def test_a_malformed_setting_is_named_without_a_traceback(work: Path, settings: Settings) -> None:
    """MAX_FILE_MB=abc used to end `ingest` and `ask` in a pydantic traceback, and a bad
    --collection was blamed on the folder's permissions or answered "the archive is empty"."""
    run = run_console("ingest", "--list", settings=settings, cwd=work, env={"MAX_FILE_MB": "abc"})
    assert_no_traceback(run)
    assert run.code == 2 and "invalid setting: MAX_FILE_MB='abc'" in run.stderr, run.stderr
    for script, args, name in (
        ("ask", ("who?",), "a b"),
        ("ingest", ("--list",), "a b"),
        ("ask", ("who?",), "a..b"),
        ("ingest", ("--list",), "10.0.0.1"),
    ):
        run = run_console(script, *args, "--collection", name, settings=settings, cwd=work)
        assert_no_traceback(run)
        assert run.code == 2 and f"COLLECTION='{name}': a collection is named" in run.stderr
        assert "permissions" not in run.stderr and "empty" not in run.stdout


@pytest.mark.integration
@pytest.mark.parametrize(
    ("script", "name", "value", "says"),
    [
        ("ingest", "MAX_FILE_MB", "nan", "finite"),
        ("ingest", "MAX_FILE_MB", "inf", "finite"),
        ("ingest", "INPUT_TIMEOUT", "nan", "finite"),
        ("ingest", "INPUT_TIMEOUT", "-5", "greater than or equal to 0"),
        ("ingest", "COLLECTION", "news.articles", "may not end in '.articles' or '.log'"),
        ("ask", "COLLECTION", "news.log", "may not end in '.articles' or '.log'"),
        ("ask", "INDEX_PATH", "{file}", "this is a file; name a folder"),
        ("ingest", "CHROMA_PATH", "{file}", "this is a file; name a folder"),
        ("ask", "ANSWER_TIMEOUT", "inf", "finite"),
        ("ask", "MAX_QUESTION_CHARS", "0", "greater than or equal to 10"),
        ("ask", "ANSWER_PASSAGES", "-3", "greater than or equal to 1"),
        ("ask", "QUERY_THREADS", "-1", "greater than or equal to 1"),
        ("ingest", "MAX_CHUNKS_PER_ARTICLE", "0", "greater than or equal to 1"),
        ("ingest", "FETCH_TIMEOUT", "0", "greater than 0"),
        ("ask", "ANSWER_MAX_TOKENS", "10000000", "less than or equal to 32768"),
        ("bot", "PORT", "70000", "less than or equal to 65535"),
        ("bot", "CHROMA_PORT", "0", "greater than or equal to 1"),
        ("bot", "RATE_LIMIT_PER_MINUTE", "-1", "greater than or equal to 0"),
    ],
)
def test_a_setting_out_of_range_is_named_in_one_line(
    tmp_path: Path, work: Path, settings: Settings, script: str, name: str, value: str, says: str
) -> None:
    """MAX_FILE_MB=nan, INPUT_TIMEOUT=-5, COLLECTION=news.articles (the store's own manifest)
    or INDEX_PATH=<a file> used to end in a traceback, or in a store written into the
    manifest; ANSWER_PASSAGES=-3 and the like were taken. Each is one line naming it."""
    (tmp_path / "a-file").write_text("not a folder")
    value = value.format(file=tmp_path / "a-file")
    args = {"ingest": ("--list",), "ask": ("who?",), "bot": ()}[script]
    run = run_console(script, *args, settings=settings, cwd=work, env={name: value})
    assert_no_traceback(run)
    assert run.code == 2, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(f"{script}: invalid setting: {name}={value[:60]!r}: "), line
    assert says in line, line
    assert not settings.chroma_path.exists(), "a refused setting must create no store"


@pytest.mark.integration
def test_a_page_without_text_gets_our_line_only(
    tmp_path: Path, work: Path, settings: Settings
) -> None:
    """An HTML page with no article text: one failed line saying so, and not the extraction
    library's own "WARNING discarding data: None" beside it."""
    page = tmp_path / "empty.html"
    page.write_text("<html><head><title>x</title></head><body><div></div></body></html>")
    run = run_console("ingest", str(page), settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 1 and "empty.html: no article text found" in run.stderr
    assert run.stderr.splitlines() == _failures(run), run.stderr
