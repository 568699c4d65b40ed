"""Small defects an operator meets at the console: each gets one clear line, no traceback.

The real console scripts (`ingest`, `bot feedback`) on a real store in a temp dir.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from bot.feedback import FeedbackStore, Vote
from core.encode.embeddings import Embedder
from core.models import Article
from core.settings import Settings
from core.store import open_store
from ingest.chunking import LONGEST_TOKENIZED, Budget, split_article
from tests.conftest import make_settings
from tests.documents import make_pdf
from tests.helpers import Run, assert_no_traceback, run_console

STORY = (
    "The harbor board approved the new ferry schedule on Tuesday after a long debate "
    "about fares, the night crossings and the future of the old terminal building. "
)


def _failures(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("  failed: ")]


@pytest.mark.integration
def test_the_feedback_report_escapes_forged_user_and_channel_ids(
    tmp_path: Path, work: Path, settings: Settings
) -> None:
    """`bot feedback` printed a vote's user and channel ids raw: an id forged with escape
    sequences retitled or rewrote the operator's terminal. They are shown escaped."""
    feedback = tmp_path / "feedback.sqlite3"
    forged_user = "U1\x1b]0;owned\x07\x1b[2J"
    forged_channel = "C1\r\x9b31m\u202e"
    FeedbackStore(feedback).record(
        Vote("a1", forged_user, "down", "who paid?", "nobody", forged_channel)
    )
    run = run_console(
        "bot", "feedback", settings=settings, cwd=work, env={"FEEDBACK_DB": str(feedback)}
    )
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert not any(c in run.stdout for c in "\x1b\x07\r\x9b\u202e"), repr(run.stdout)
    assert "by U1\\x1b]0;owned\\x07\\x1b[2J in C1\\r\\x9b31m\\u202e" in run.stdout, run.stdout


@pytest.mark.integration
def test_an_encrypted_pdf_is_called_encrypted(
    tmp_path: Path, work: Path, settings: Settings
) -> None:
    """A password-protected PDF was told "not a readable PDF … check that the file is
    complete", sending its owner after a download that was fine."""
    plain = make_pdf([STORY, STORY], title="Harbor board")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    (tmp_path / "locked.pdf").write_bytes(locked.getvalue())
    run = run_console("ingest", str(tmp_path / "locked.pdf"), settings=settings, cwd=work)
    assert_no_traceback(run)
    [failure] = _failures(run)
    assert run.code == 1 and "locked.pdf: the PDF is encrypted (password-protected)" in failure
    assert "complete" not in failure, failure


@pytest.mark.integration
def test_a_date_with_an_impossible_offset_is_dropped_not_the_record(
    tmp_path: Path, work: Path, settings: Settings, embedder: Embedder
) -> None:
    """A published_at with offset +25:00 failed the whole record ("could not be read
    (ValueError)"); now the article lands undated, with one warning naming the date."""
    records = tmp_path / "news.jsonl"
    rows = [
        {"id": "iso", "text": STORY, "published_at": "2022-06-17T08:30:00+25:00"},
        {"id": "words", "text": STORY + " Again.", "published_at": "June 17, 2022 10:00 +2500"},
    ]
    records.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run = run_console("ingest", str(records), settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 0 and "2 added" in run.stdout and not _failures(run), run.stderr
    warnings = run.stderr.splitlines()
    assert len(warnings) == 2 and all("offset of a day or more" in w for w in warnings)
    store = open_store(settings.store, embedder.name, embedder.dim, create=False)
    try:
        assert {a.doc_id: a.published_at for a in store.articles()} == {
            "iso": None,
            "words": None,
        }
    finally:
        store.close()


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "verb"),
    [(("--delete", "x"), "delete"), (("--list",), "list"), (("--stats",), "show")],
)
def test_deleting_or_listing_where_there_is_no_store_creates_none(
    tmp_path: Path, work: Path, settings: Settings, args: tuple[str, ...], verb: str
) -> None:
    """`ingest --delete x` with CHROMA_PATH naming a folder that does not exist (a typo)
    created an empty store and its local index there, and said only that 'x' was not
    stored. It says there is no store, and creates nothing."""
    run = run_console("ingest", *args, settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"ingest: there is no store at {settings.chroma_path}, so nothing to {verb}; set "
        "CHROMA_PATH (or --collection) to where the articles are, or add some with "
        "`ingest PATH_OR_URL`"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on its own 16 MB tmpfs (root only), unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode()[:100]}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Write a filler file until the disk has no room left, then give back `leave` bytes
    (room to open the store and read it, none to write a batch)."""
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    os.truncate(filler, max(filler.stat().st_size - leave, 0))


@pytest.mark.integration
def test_a_full_store_disk_is_one_line_and_the_rest_are_not_tried(
    tmp_path: Path, work: Path, small_disk: Path
) -> None:
    """With the store's disk full, `ingest` of 600 records printed 600 identical failed
    lines (and tried every batch). Now one line with the count, the disk named as full, a
    line saying it stopped early, and a summary counting those not tried."""
    settings = make_settings(small_disk, index_path=tmp_path / "index")
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps({"id": "first", "text": STORY}) + "\n", encoding="utf-8")
    assert run_console("ingest", str(first), settings=settings, cwd=work).code == 0
    _fill(small_disk, leave=192 * 1024)
    records = tmp_path / "many.jsonl"
    records.write_text(
        "".join(
            json.dumps({"id": f"a{n}", "text": f"{STORY} Story number {n}."}) + "\n"
            for n in range(600)
        ),
        encoding="utf-8",
    )
    run = run_console("ingest", "--quiet", str(records), settings=settings, cwd=work)
    assert_no_traceback(run)
    assert run.code == 1, run.stderr
    [failure] = _failures(run)
    assert "its disk is full" in failure and failure.endswith("(256 inputs)"), failure
    assert len(run.stderr.splitlines()) == 2, run.stderr
    assert "ingest: stopped early, as the store could not be written; 344 not tried" in (run.stderr)
    assert "0 added, 0 updated, 0 unchanged, 256 failed, 344 not tried;" in run.stdout


# Runs a command and prints its peak RSS (KB) last on stderr: the wrapper's only child.
_PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


@pytest.mark.integration
def test_a_huge_one_word_record_is_refused_before_it_is_tokenized(
    tmp_path: Path, work: Path, settings: Settings
) -> None:
    """A 15 MB record of one "word" took ingest to 1.4 GB RSS and ~25 s before it was
    refused for its chunk count; it is refused from its length, at about the RSS of an
    ingest of one small file (~300 MB)."""
    record = tmp_path / "huge.jsonl"
    record.write_text(json.dumps({"id": "huge", "text": "a" * 15_000_000}) + "\n")
    run = run_console(
        "ingest", str(record), settings=settings, cwd=work, prefix=(sys.executable, "-c", _PEAK_RSS)
    )
    assert_no_traceback(run)
    *lines, peak = run.stderr.splitlines()
    [failure] = _failures(run)
    assert run.code == 1 and "huge: 15,000,000 characters would make at least" in failure
    assert lines == [failure], run.stderr
    assert int(peak) < 700_000, f"peak RSS {int(peak) // 1024} MB"


def test_no_text_given_to_the_tokenizer_is_longer_than_a_sentence_can_be(
    embedder: Embedder,
) -> None:
    """With MAX_CHUNKS_PER_ARTICLE raised so that a 1 MB one-word article is taken, the
    tokenizer is never given more than LONGEST_TOKENIZED characters at once (its memory
    grows with what it is given), and the article is still cut into chunks."""
    longest = 0

    def count_tokens(texts: list[str]) -> list[int]:
        nonlocal longest
        longest = max([longest, *map(len, texts)])
        return embedder.count_tokens(texts)

    def token_offsets(text: str) -> list[tuple[int, int]]:
        nonlocal longest
        longest = max(longest, len(text))
        return embedder.token_offsets(text)

    article = Article(doc_id="word", title="A word", text="a" * 1_000_000)
    budget = Budget(hard=embedder.content_tokens)
    chunks = split_article(article, count_tokens, token_offsets, budget, max_chunks=100_000)
    assert longest <= LONGEST_TOKENIZED
    assert "".join(c.text for c in chunks) == article.text


@pytest.mark.integration
def test_the_feedback_report_drops_bidi_overrides_from_questions_and_answers(
    tmp_path: Path, settings: Settings
) -> None:
    """Point 19: a 👎 vote whose question or answer holds U+202E (right-to-left override)
    reordered what `bot feedback` showed in the operator's terminal; it is not printed."""
    feedback = tmp_path / "feedback.sqlite3"
    FeedbackStore(feedback).record(
        Vote("a1", "U1", "down", "who paid \u202egnp.exe?", "nobody \u2066paid\u2069", "C1")
    )
    run = run_console(
        "bot", "feedback", settings=settings, cwd=tmp_path, env={"FEEDBACK_DB": str(feedback)}
    )
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert not any(c in run.stdout for c in "\u202e\u2066\u2069"), repr(run.stdout)
    assert "who paid" in run.stdout and "gnp.exe" in run.stdout
