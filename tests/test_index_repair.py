"""The local index repairs itself: the store is the truth, the index only a copy of it.

A damaged, foreign or stale index is reported in one line and rebuilt from the store; one
that cannot be written is read as it is, and `ingest` keeps committing to the store. Real
Chroma (embedded, and one `chroma run`), the real model, the real `ingest` and `ask`.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from slack_bolt import App

from bot.answerer import ArchiveAnswerer
from bot.http import create_wsgi_app
from core.answer.compose import answer_question
from core.settings import Settings
from tests.conftest import SEED_DIR
from tests.helpers import Run, ingest_paths, run_console

QUESTION = "who was Cienfuegos?"
SEED_QUOTE = "Salvador Cienfuegos"
GIRAFFE = {
    "id": "zoo-giraffe",
    "title": "Zoo welcomes a baby giraffe",
    "source": "Bay Courier",
    "text": "The municipal zoo welcomed a baby giraffe named Tilly, born on Tuesday morning "
    "to a mother called Juniper.",
}
FERRY = {
    "id": "ferry-line",
    "title": "New ferry line opens",
    "source": "Harbor Times",
    "text": "A new ferry line from the harbor to the north shore opened on Saturday, with "
    "boats every forty minutes and a fare of four dollars.",
}
LIBRARY = {
    "id": "library-reopens",
    "title": "Library reopens",
    "source": "Bay Courier",
    "text": "The city library reopened after its renovation with a reading room for children "
    "and a rooftop garden.",
}


def _write(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _append_log_record(settings: Settings, document: str) -> int:
    """Write one record into the store's change log as another program might (not through
    our store), and drop Chroma's cached client so the next command sees it; its number."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    client = chromadb.PersistentClient(str(settings.chroma_path))
    changes = client.get_collection("news.log")
    seq = changes.count() + 1
    changes.add(
        ids=[f"{seq:012d}"],
        embeddings=np.ones((1, 1), dtype=np.float32),
        documents=[document],
        metadatas=[{"seq": seq}],
    )
    del changes, client
    SharedSystemClient.clear_system_cache()
    return seq


def _replica(settings: Settings) -> Path:
    """This host's local index folder (one per collection)."""
    (folder,) = [p for p in settings.index_folder.iterdir() if p.is_dir()]
    return folder


def _ask(settings: Settings, tmp_path: Path, *args: str, **kw: object) -> Run:
    """`ask` run as a person would (the seed question unless told)."""
    return run_console("ask", *(args or (QUESTION,)), settings=settings, cwd=tmp_path, **kw)  # type: ignore[arg-type]


def _ingest(settings: Settings, tmp_path: Path, *paths: Path, **kw: object) -> Run:
    names = [str(p) for p in paths]
    return run_console("ingest", "--quiet", *names, settings=settings, cwd=tmp_path, **kw)  # type: ignore[arg-type]


def _clean(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code == 0, run.stderr


def _warned_once(run: Run, folder: Path, words: str) -> None:
    """One line on stderr names the index folder and says what was wrong."""
    lines = [line for line in run.stderr.splitlines() if str(folder) in line]
    assert len(lines) == 1 and words in lines[0], run.stderr


@pytest.fixture
def seeded(tmp_path: Path, settings: Settings) -> Path:
    """The seed article ingested by `ingest`, which built this host's local index."""
    _clean(_ingest(settings, tmp_path, SEED_DIR))
    return _replica(settings)


STATES = ["[]", "null", '{"pending": []}', '{"outlets": [1]}']


@pytest.mark.integration
@pytest.mark.parametrize("shape", STATES)
def test_a_state_json_of_the_wrong_shape_is_rebuilt_by_ingest_and_ask(
    tmp_path: Path, settings: Settings, seeded: Path, shape: str
) -> None:
    """A state.json of the wrong shape: ingest and ask each say so in one line, rebuild the
    index, and go on; the new article is answerable (no AttributeError)."""
    state = json.loads((seeded / "state.json").read_text())
    bad = json.loads(shape)
    if isinstance(bad, dict):
        bad = {**state, **bad}
    (seeded / "state.json").write_text(json.dumps(bad))
    run = _ingest(settings, tmp_path, _write(tmp_path / "g.jsonl", GIRAFFE))
    _clean(run)
    _warned_once(run, seeded, "state.json")
    assert "1 added" in run.stdout
    (seeded / "state.json").write_text(json.dumps(bad))
    run = _ask(settings, tmp_path, "Which giraffe did the zoo welcome?")
    _clean(run)
    _warned_once(run, seeded, "state.json")
    assert "Tilly" in run.stdout


def _garbage_meta(folder: Path) -> None:
    (folder / "articles" / "meta.json").write_text("garbage\n")


def _truncated_store(folder: Path) -> None:
    for path in (folder / "chunks").glob("*.store"):
        with path.open("r+b") as f:
            f.truncate(100)


def _missing_terms(folder: Path) -> None:
    for path in (folder / "chunks").glob("*.term"):
        path.unlink()


def _lost_chunk_meta(folder: Path) -> None:
    (folder / "chunks" / "meta.json").unlink()


def _lost_both_metas_of_an_older_state(folder: Path) -> None:
    """Both meta.json lost, under a state.json written before states recorded counts."""
    state = json.loads((folder / "state.json").read_text())
    for key in ("counts", "build", "mark"):
        state.pop(key, None)
    (folder / "state.json").write_text(json.dumps(state))
    (folder / "chunks" / "meta.json").unlink()
    (folder / "articles" / "meta.json").unlink()


def _garbled_records(folder: Path) -> None:
    """Bytes overwritten inside the articles' stored records: seen only when read."""
    for path in (folder / "articles").glob("*.store"):
        with path.open("r+b") as f:
            f.seek(50)
            f.write(b"\xff" * 200)


DAMAGE = {
    "garbage meta.json": (_garbage_meta, "cannot be read"),
    "truncated store": (_truncated_store, "cannot be read"),
    "missing terms": (_missing_terms, "cannot be read"),
    "lost chunk meta.json": (_lost_chunk_meta, "holds 0 chunks"),
    "garbled records": (_garbled_records, "cannot be read"),
    "lost metas, older state": (_lost_both_metas_of_an_older_state, "holds no articles"),
}


@pytest.mark.integration
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_files_are_rebuilt_and_the_question_answered(
    tmp_path: Path, settings: Settings, seeded: Path, damage: str
) -> None:
    """Damaged tantivy files (or a lost meta.json, which emptied the chunk index without a
    word): `ask` says so in one line, rebuilds the index and answers (no ValueError)."""
    spoil, words = DAMAGE[damage]
    spoil(seeded)
    run = _ask(settings, tmp_path)
    _clean(run)
    _warned_once(run, seeded, words)
    assert SEED_QUOTE in run.stdout


@pytest.mark.integration
def test_ingest_rebuilds_a_damaged_index_and_commits(
    tmp_path: Path, settings: Settings, seeded: Path
) -> None:
    """`ingest` on a host whose index files are damaged: one line, rebuilt, article added."""
    _truncated_store(seeded)
    run = _ingest(settings, tmp_path, _write(tmp_path / "g.jsonl", GIRAFFE))
    _clean(run)
    _warned_once(run, seeded, "cannot be read")
    assert "1 added" in run.stdout
    assert "Tilly" in _ask(settings, tmp_path, "Which giraffe did the zoo welcome?").stdout


@pytest.mark.integration
def test_a_store_restored_from_a_backup_is_followed_again(
    tmp_path: Path, settings: Settings, seeded: Path
) -> None:
    """The store is restored from a backup older than what the index has seen, then more
    articles are written: the index notices, says so once, rebuilds, and answers the new
    article; articles the backup lacks are no longer answered (the store is the truth)."""
    backup = tmp_path / "backup"
    shutil.copytree(settings.chroma_path, backup)
    _clean(_ingest(settings, tmp_path, _write(tmp_path / "f.jsonl", FERRY)))
    _clean(_ingest(settings, tmp_path, _write(tmp_path / "l.jsonl", LIBRARY)))
    shutil.rmtree(settings.chroma_path)
    shutil.copytree(backup, settings.chroma_path)
    # Two writes that do not update this index bring the log back to the length it had:
    # only what the records are tells this log from the one the index followed.
    ingest_paths(settings, _write(tmp_path / "g.jsonl", GIRAFFE))
    ingest_paths(settings, _write(tmp_path / "l2.jsonl", {**LIBRARY, "id": "library-2"}))
    run = _ingest(settings, tmp_path, _write(tmp_path / "f2.jsonl", {**FERRY, "id": "ferry-2"}))
    _clean(run)
    _warned_once(run, seeded, "backup")
    assert "Tilly" in _ask(settings, tmp_path, "Which giraffe did the zoo welcome?").stdout
    answer = _ask(settings, tmp_path, "ferry fare to the north shore", "--json").stdout
    found = {p["doc_id"] for p in json.loads(answer)["passages"]}
    assert "ferry-2" in found and "ferry-line" not in found


@pytest.mark.integration
def test_an_index_ahead_of_a_shorter_restored_log_is_rebuilt(
    tmp_path: Path, settings: Settings, seeded: Path
) -> None:
    """The restored log is shorter than the position the index has applied: the next
    `ingest` rebuilds it, and its article is answerable."""
    backup = tmp_path / "backup"
    shutil.copytree(settings.chroma_path, backup)
    _clean(_ingest(settings, tmp_path, _write(tmp_path / "f.jsonl", FERRY)))
    _clean(_ingest(settings, tmp_path, _write(tmp_path / "l.jsonl", LIBRARY)))
    shutil.rmtree(settings.chroma_path)
    shutil.copytree(backup, settings.chroma_path)
    run = _ingest(settings, tmp_path, _write(tmp_path / "g.jsonl", GIRAFFE))
    _clean(run)
    _warned_once(run, seeded, "does not hold")
    assert "Tilly" in _ask(settings, tmp_path, "Which giraffe did the zoo welcome?").stdout


@pytest.mark.integration
def test_a_garbage_change_log_record_is_skipped_with_one_line(
    tmp_path: Path, settings: Settings, seeded: Path
) -> None:
    """A record in the change log that this program did not write: `ingest` says so once
    and goes on, and the article it adds is answerable."""
    seq = _append_log_record(settings, '["not", "a record"')
    run = _ingest(settings, tmp_path, _write(tmp_path / "g.jsonl", GIRAFFE))
    _clean(run)
    assert run.stderr.count(f"record {seq} of the change log") == 1, run.stderr
    assert "Tilly" in _ask(settings, tmp_path, "Which giraffe did the zoo welcome?").stdout


def _synthetic(path: Path, count: int) -> Path:
    records = [
        {
            "id": f"council-{i}",
            "title": f"Council meeting number {i}",
            "source": "Town Crier",
            "text": f"The council met for session number {i} and voted on item alpha{i} "
            "about the parking rules near the old market hall.",
        }
        for i in range(count)
    ]
    return _write(path, *records)


@pytest.mark.timeout(600)
def test_an_unwritable_index_does_not_stop_ingest_or_ask(
    tmp_path: Path, server_settings: Settings
) -> None:
    """The local index cannot be written (a file-size limit stands in for a full disk):
    `ingest` commits every article to the store, says once that the index was not
    updated, and prints its summary; `ask` answers from what the index holds, with one
    line; once it can be written again, it catches up from the change log."""
    settings = server_settings.model_copy(update={"index_path": tmp_path / "index"})
    server = {"CHROMA_HOST": str(settings.chroma_host), "CHROMA_PORT": str(settings.chroma_port)}
    env = {**server, "INDEX_PATH": str(settings.index_folder)}
    _clean(_ingest(settings, tmp_path, SEED_DIR, env=env))
    _clean(_ask(settings, tmp_path, env=env))  # builds this host's index
    limited = ("prlimit", "--fsize=4096")  # bytes any file of the process may reach
    corpus = _synthetic(tmp_path / "council.jsonl", 300)
    run = _ingest(settings, tmp_path, corpus, env=env, prefix=limited)
    _clean(run)
    assert "300 added" in run.stdout and "0 failed" in run.stdout
    notes = [line for line in run.stderr.splitlines() if "local index" in line]
    assert len(notes) == 1 and "cannot be written" in notes[0], run.stderr
    assert str(settings.index_folder) in notes[0]
    run = _ask(settings, tmp_path, env=env, prefix=limited)
    _clean(run)
    assert SEED_QUOTE in run.stdout
    assert run.stderr.count("cannot be written") == 1, run.stderr
    run = _ask(settings, tmp_path, "session number 299 item alpha299", "--json", env=env)
    _clean(run)
    assert "council-299" in {p["doc_id"] for p in json.loads(run.stdout)["passages"]}


def _wait_for(predicate: object, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def _healthz(answerer: ArchiveAnswerer) -> tuple[str, dict]:
    """GET /healthz of the bot's HTTP mode, through its WSGI application."""
    app = App(token="xoxb-unused", signing_secret="s", token_verification_enabled=False)
    wsgi = create_wsgi_app(app, lambda: answerer.healthy, "s", lambda: answerer.problem)
    got: list[str] = []
    body = b"".join(
        wsgi(
            {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"},
            lambda status, headers, exc_info=None: got.append(status),  # type: ignore[arg-type,return-value]
        )
    )
    return got[0], json.loads(body)


def test_a_running_bot_rebuilds_a_damaged_state_and_answers_new_articles(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot is running when its state.json is overwritten with the wrong shape: its
    archive-following thread says so once, rebuilds the index, and articles committed
    afterwards are answered; no traceback is logged."""
    ingest_paths(settings, SEED_DIR)
    answerer = ArchiveAnswerer(settings)
    answerer.warm()
    answerer.start_refreshing(0.2)
    try:
        folder = _replica(settings)
        caplog.set_level(logging.INFO)
        (folder / "state.json").write_text("[]")
        ingest_paths(settings, _write(tmp_path / "g.jsonl", GIRAFFE))
        assert _wait_for(
            lambda: any("Tilly" in p.text for p in answerer("baby giraffe Tilly").passages)
        )
        assert _healthz(answerer)[0] == "200 OK"
    finally:
        answerer.close()
    ours = [r for r in caplog.records if r.name.startswith(("core", "bot"))]
    assert not [r for r in ours if r.exc_info or r.levelno >= logging.ERROR]
    warnings = [r.getMessage() for r in ours if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "state.json" in warnings[0] and str(folder) in warnings[0]


def test_healthz_reports_a_bot_that_cannot_update_its_index(
    tmp_path: Path, settings: Settings
) -> None:
    """A running bot whose local index cannot be written: /healthz answers 503 with a
    one-line reason, and 200 again once it can; questions are answered meanwhile."""
    ingest_paths(settings, SEED_DIR)
    answerer = ArchiveAnswerer(settings)
    answerer.warm()
    answerer.start_refreshing(0.2)
    folder = _replica(settings)
    lock = folder.with_name(f"{folder.name}.lock")
    try:
        assert _healthz(answerer)[0] == "200 OK"
        lock.unlink()
        lock.mkdir()  # the lock file cannot be opened for writing: nothing can be written
        ingest_paths(settings, _write(tmp_path / "g.jsonl", GIRAFFE))
        assert _wait_for(lambda: _healthz(answerer)[0].startswith("503"))
        status, body = _healthz(answerer)
        assert body["status"] == "degraded" and "cannot be written" in body["problem"]
        assert str(folder) not in json.dumps(body)  # no paths to whoever asks
        assert answer_question(QUESTION, answerer.searcher()).found
        lock.rmdir()
        assert _wait_for(lambda: _healthz(answerer)[0] == "200 OK")
        assert any("Tilly" in p.text for p in answerer("baby giraffe Tilly").passages)
    finally:
        answerer.close()


@pytest.mark.integration
def test_processes_sharing_a_damaged_index_rebuild_it_once(
    tmp_path: Path, settings: Settings, seeded: Path
) -> None:
    """Three `ask` started together on one damaged INDEX_PATH: one rebuilds it (one line
    among them all), the others wait for its copy, and all three answer."""
    _garbage_meta(seeded)
    runs: list[Run] = []
    threads = [
        threading.Thread(target=lambda: runs.append(_ask(settings, tmp_path))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for run in runs:
        _clean(run)
        assert SEED_QUOTE in run.stdout
    told = [line for run in runs for line in run.stderr.splitlines() if "rebuilding" in line]
    assert len(told) == 1, told
    assert sorted(p.name for p in settings.index_folder.iterdir()) == [
        seeded.name,
        f"{seeded.name}.lock",
    ]


@pytest.mark.integration
def test_ask_answers_while_another_process_holds_the_index(
    tmp_path: Path, settings: Settings, seeded: Path
) -> None:
    """Another process holds the local index for longer than `ask` waits (a rebuild takes
    minutes) while there is a new article to apply: `ask` answers from the index as it
    is, instead of ending in a traceback."""
    import tantivy

    from core.search.replica_state import folder_lock

    ingest_paths(settings, _write(tmp_path / "g.jsonl", GIRAFFE))  # a change to apply
    with folder_lock(seeded):
        index = tantivy.Index.open(str(seeded / "chunks"))
        writer = index.writer(15_000_000, 1)  # what an older version's writer waits for
        run = _ask(settings, tmp_path)
        del writer
    _clean(run)
    assert SEED_QUOTE in run.stdout


@pytest.mark.integration
def test_a_local_index_that_cannot_be_created_is_told_in_one_line(
    tmp_path: Path, settings: Settings
) -> None:
    """INDEX_PATH lies under a file, so no local index can be created there: `ask` says so
    in one line naming it (not "the archive is empty", not a traceback)."""
    ingest_paths(settings, SEED_DIR)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    index = blocker / "index"
    run = _ask(settings, tmp_path, env={"INDEX_PATH": str(index)})
    assert "Traceback" not in run.stderr and run.code == 2, run.stderr
    (line,) = run.stderr.splitlines()
    assert str(index) in line and "cannot be written" in line and "INDEX_PATH" in line
    assert "empty" not in run.stdout + run.stderr


# Point 10: a state.json whose numbers do not fit, or that nests past Python's recursion limit.
HUGE_STATES = {
    "infinite seq": lambda state: json.dumps({**state, "seq": 1e400}),
    "infinite count": lambda state: json.dumps({**state, "counts": [1e400, 1]}),
    "nested": lambda state: "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.integration
@pytest.mark.parametrize("damage", HUGE_STATES)
def test_a_state_json_with_numbers_out_of_range_is_rebuilt(
    tmp_path: Path, settings: Settings, seeded: Path, damage: str
) -> None:
    """A state.json holding `1e400` or nested 100,000 deep: ask says so in one line and
    answers (no OverflowError or RecursionError traceback)."""
    state = json.loads((seeded / "state.json").read_text())
    (seeded / "state.json").write_text(HUGE_STATES[damage](state))
    run = _ingest(settings, tmp_path, _write(tmp_path / "g.jsonl", GIRAFFE))
    _clean(run)
    (seeded / "state.json").write_text(HUGE_STATES[damage](state))
    run = _ask(settings, tmp_path, "Which giraffe did the zoo welcome?")
    _clean(run)
    assert "Tilly" in run.stdout
    assert len([line for line in run.stderr.splitlines() if "state.json" in line]) == 1


@pytest.mark.integration
def test_a_change_log_record_with_an_infinite_count_is_skipped(
    tmp_path: Path, settings: Settings, seeded: Path
) -> None:
    """Point 12: a log record that is JSON but names a chunk count of 1e400: ingest goes on
    and its article is answerable (no OverflowError traceback)."""
    _append_log_record(
        settings, '{"at": 1, "target": {"x": ["h", 1e400]}, "replaced": {}, "writer": "w"}'
    )
    run = _ingest(settings, tmp_path, _write(tmp_path / "g.jsonl", GIRAFFE))
    _clean(run)
    assert "Tilly" in _ask(settings, tmp_path, "Which giraffe did the zoo welcome?").stdout


def test_a_running_bot_whose_index_folder_is_deleted_rebuilds_it(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Point 10/11: an operator deletes INDEX_PATH while the bot runs: it still answers the
    seed question, answers articles committed afterwards, and logs no traceback."""
    ingest_paths(settings, SEED_DIR)
    answerer = ArchiveAnswerer(settings)
    answerer.warm()
    answerer.start_refreshing(0.2)
    try:
        caplog.set_level(logging.INFO)
        shutil.rmtree(settings.index_folder)
        ingest_paths(settings, _write(tmp_path / "g.jsonl", GIRAFFE))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any("Tilly" in p.text for p in answerer("baby giraffe Tilly").passages):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the new article never became answerable")
        assert any("Cienfuegos" in p.text for p in answerer("who was Cienfuegos?").passages)
        assert answerer.healthy is not False and not answerer.problem
    finally:
        answerer.close()
    ours = [r for r in caplog.records if r.name.startswith(("core", "bot"))]
    assert not [r for r in ours if r.exc_info or r.levelno >= logging.ERROR]
