"""Small helpers the tests share: ingest through the real pipeline, open a searcher."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.search.records import ChunkRow
from core.search.searcher import Searcher
from core.service import open_searcher
from core.settings import Settings
from testing.console import console_env, installed
from testing.stores import ingest_paths as ingest_paths


def searcher_for(settings: Settings) -> Searcher:
    """A fresh reader over the settings' store."""
    return open_searcher(settings)


@dataclass
class Run:
    """What a console script did: exit code and its raw output streams."""

    code: int
    out: bytes
    err: bytes

    @property
    def stdout(self) -> str:
        """Standard output, decoded (undecodable bytes shown as escapes)."""
        return self.out.decode("utf-8", "backslashreplace")

    @property
    def stderr(self) -> str:
        """Standard error, decoded (undecodable bytes shown as escapes)."""
        return self.err.decode("utf-8", "backslashreplace")


def local_rows(searcher: Searcher) -> list[ChunkRow]:
    """Every chunk row a reader's local index holds, article by article."""
    archive = searcher.archive
    assert archive is not None and archive.local is not None and archive.store is not None
    doc_ids = [a.doc_id for a in archive.store.articles()]
    return [r for group in archive.local.chunks(doc_ids, []).values() for r in group]


def run_console(
    script: str,
    *args: str | bytes,
    settings: Settings,
    cwd: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 240,
    reader_gone: bool = False,
    prefix: tuple[str, ...] = (),
) -> Run:
    """Run one of our console scripts (`ingest`, `ask`) as a person would, on a store
    (`reader_gone`: its output is a pipe whose reader has already closed, as in
    `ask … | head` once head has exited; `prefix`: a command that runs it)."""
    stdout: int = subprocess.PIPE
    if reader_gone:
        read_end, stdout = os.pipe()
        os.close(read_end)
    try:
        done = subprocess.run(
            [*prefix, installed(script), *args],
            cwd=cwd,
            env=console_env(settings, env),
            input=stdin if stdin is not None else b"",
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    finally:
        if reader_gone:
            os.close(stdout)
    return Run(done.returncode, done.stdout or b"", done.stderr)


def ask_here(*args: str, settings: Settings, cwd: Path) -> Run:
    """`ask ARGS` run by its `main` in this process, with the environment and the working
    folder `run_console` would give the process: for a test whose subject is not the
    process (seconds of start-up each time saved). Chroma's cached clients are dropped
    after it, as a process's would be."""
    from chromadb.api.shared_system_client import SharedSystemClient

    from ask.__main__ import main as ask_main

    saved_env, saved_cwd, saved_streams = dict(os.environ), os.getcwd(), (sys.stdout, sys.stderr)
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(console_env(settings))
    os.chdir(cwd)
    sys.stdout, sys.stderr = out, err
    try:
        code = ask_main(list(args))
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    finally:
        sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        SharedSystemClient.clear_system_cache()
    return Run(code, out.getvalue().encode(), err.getvalue().encode())


AskInProcess = Callable[..., tuple[int, str, str]]


def ask_in_process(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> AskInProcess:
    """`ask` run in this process with `env` set: returns (exit code, stdout, stderr)."""
    from ask.__main__ import main as ask_main

    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        return ask_main(list(args)), out.getvalue(), err.getvalue()

    return run


def assert_no_traceback(run: Run) -> None:
    """The command told what went wrong in its own words: no Python traceback anywhere."""
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr


def interrupt_console(
    script: str,
    *args: str,
    settings: Settings,
    cwd: Path,
    times: int = 1,
    env: dict[str, str] | None = None,
) -> Run:
    """Run a console script reading a standard input that stays open; once it has opened
    the store (so it is inside its `main`, not importing), press Ctrl-C `times` times,
    0.05 s apart. Each press must reach the running process: a command stops ~0.2 s after
    the first, and a later press that found it gone would test nothing."""
    # As a terminal's foreground job: Ctrl-C at its default. A suite started in the
    # background by a non-interactive shell (`make test &`) hands its children SIGINT
    # ignored, and Python then installs no KeyboardInterrupt at all.
    foreground = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    foreground += "os.execv(sys.argv[1], sys.argv[1:])"
    process = subprocess.Popen(
        [sys.executable, "-c", foreground, installed(script), *args],
        cwd=cwd,
        env=console_env(settings, env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not _has_open(process.pid, "chroma.sqlite3"):
            assert process.poll() is None and time.monotonic() < deadline, "never opened it"
            time.sleep(0.1)
        # Then until it waits on its standard input, the moment the tests are about.
        while not _reads_stdin(process.pid):
            assert process.poll() is None and time.monotonic() < deadline, "never read stdin"
            time.sleep(0.05)
        for press in range(1, times + 1):
            assert process.poll() is None, f"it had stopped before Ctrl-C number {press}"
            os.kill(process.pid, signal.SIGINT)
            time.sleep(0.05)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return Run(process.returncode, out, err)


def _reads_stdin(pid: int) -> bool:
    """Whether process `pid`'s main thread is blocked in read(2) on descriptor 0 (Linux's
    /proc/PID/syscall: the syscall number, then its arguments; read is 0 on x86-64 and
    63 on arm64)."""
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return len(fields) > 1 and fields[0] in ("0", "63") and int(fields[1], 16) == 0


def _has_open(pid: int, name: str) -> bool:
    """Whether process `pid` holds a file called `name` open (Linux's /proc)."""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:  # it exited, or a descriptor closed while being read
        return False
    return any(link.endswith(name) for link in links)


class Clock:
    """A clock a test moves by hand (`clock.now += 61`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Route = tuple[int, dict[str, str], bytes]  # status, headers, body


@contextmanager
def serving(routes: dict[str, Route]) -> Iterator[str]:
    """A real HTTP server on loopback that answers GET from `routes` (404 elsewhere); yields
    its base URL. `routes` is read per request, so it may be filled once the URL is known."""

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            status, headers, body = routes.get(self.path, (404, {}, b"missing"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def open_sockets() -> int:
    """Sockets this process holds open (Linux's /proc)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed while being read
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


def model_threads() -> list[threading.Thread]:
    """Threads still running a model call."""
    return [t for t in threading.enumerate() if t.name == "answer-model"]


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    """Poll `check` until it holds or `seconds` pass (no fixed sleep)."""
    until = time.monotonic() + seconds
    while not check():
        if time.monotonic() > until:
            return False
        time.sleep(0.02)
    return True
