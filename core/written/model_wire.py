"""The HTTP connection to an OpenAI-compatible model, bounded by the answer's budget.

A timeout given to an HTTP client applies to each read, and a server that sends SSE
keep-alive comments (`: ping`) resets it forever: the request outlives the answer, holding
a thread and a socket. So every socket read and write of a model call is bounded here by
what is left of ONE deadline for the whole call, and the bytes read by a cap: at either,
the read fails and the connection is closed. `Budget.cancel()` also ends a call at once
from another thread (the socket is shut down, which wakes a blocked read).

The budget is per thread (`with budget.applied():` around the call): the client, and its
pool of connections, is shared by all answers.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore2 as httpcore  # openai>=3 talks through httpx2/httpcore2
import httpx2 as httpx

_current = threading.local()


class Budget:
    """One model call's limits: a deadline (time.monotonic()) and the bytes it may read.

    Attributes:
        over: Why the call was cut ("deadline", "size", "cancelled"), else None.
    """

    def __init__(self, deadline: float, max_bytes: int):
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.read = 0
        self.over: str | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def applied(self) -> Iterator[Budget]:
        """Bound this thread's model connections by the budget while inside."""
        previous = getattr(_current, "budget", None)
        _current.budget = self
        try:
            yield self
        finally:
            _current.budget = previous

    def cancel(self, why: str = "cancelled") -> None:
        """End the call now: its sockets are shut down, so a blocked read returns."""
        with self._lock:
            self.over = self.over or why
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _timeout(self, timeout: float | None, error: type[Exception]) -> float:
        if self.over is not None:
            raise error(f"the model call was cut: {self.over}")
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.over = "deadline"
            raise error("the answer's deadline passed")
        return left if timeout is None else min(timeout, left)

    def _watch(self, sock: Any) -> None:
        if isinstance(sock, socket.socket):
            with self._lock:
                if sock not in self._sockets:
                    self._sockets.append(sock)
            if self.over is not None:  # cancelled while connecting
                self.cancel(self.over)

    def _count(self, size: int) -> None:
        self.read += size
        if self.read > self.max_bytes:
            self.cancel("size")
            raise httpcore.ReadError("the model sent more than the answer may read")


def _budget() -> Budget | None:
    return getattr(_current, "budget", None)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = _budget()
        if budget is None:
            return self._inner.read(max_bytes, timeout)
        budget._watch(self._inner.get_extra_info("socket"))
        data = self._inner.read(max_bytes, budget._timeout(timeout, httpcore.ReadTimeout))
        if budget.over is not None:  # shut down under the read: not an end of stream
            raise httpcore.ReadError(f"the model call was cut: {budget.over}")
        budget._count(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = _budget()
        if budget is not None:
            budget._watch(self._inner.get_extra_info("socket"))
            timeout = budget._timeout(timeout, httpcore.WriteTimeout)
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = _budget()
        if budget is not None:
            timeout = budget._timeout(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        budget = _budget()
        if budget is not None:
            timeout = budget._timeout(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        if budget is not None:
            budget._watch(stream.get_extra_info("socket"))
        return _BoundedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _BoundedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _BoundedTransport(httpx.HTTPTransport):
    """httpx's own transport, its connections made through the bounded backend."""

    def __init__(self) -> None:
        super().__init__()
        # httpx takes no network backend; its pool is rebuilt with httpx's defaults and ours.
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_BoundedBackend(),
        )


def bounded_http_client(timeout: float) -> httpx.Client:
    """An HTTP client for a chat model whose calls a `Budget` bounds (see the module).

    Args:
        timeout: Seconds for each connect, read and write when no budget applies.
    """
    return httpx.Client(transport=_BoundedTransport(), timeout=timeout, follow_redirects=True)
