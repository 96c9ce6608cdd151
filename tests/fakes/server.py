"""What every local fake platform server shares: a threaded HTTP server on 127.0.0.1:0,
start/stop/with, and an async wait for a condition on what it received."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class _Listening(ThreadingHTTPServer):
    # a burst of new connections waits in the accept queue: with http.server's 5, the kernel
    # drops the rest of the burst's SYNs and each client retries one second later
    request_queue_size = 128
    daemon_threads = True


class LocalServer:
    """A fake platform API. `hold(...)` makes it keep requests to some endpoints unanswered
    (and not counted as sent) until `release()`: a bot killed meanwhile never delivered them,
    deterministically, with the handler's work committed and the answer on its way."""

    name = "fake"
    port = 0
    _server: ThreadingHTTPServer | None = None
    _holding: frozenset[str] = frozenset()
    _released: threading.Event | None = None
    held: list[Any]

    def hold(self, *endpoints: str) -> None:
        self.held = []
        self._released = threading.Event()
        self._holding = frozenset(e.lower() for e in endpoints)

    def release(self) -> None:
        self._holding = frozenset()
        if self._released is not None:
            self._released.set()

    def holds(self, endpoint: str, request: Any) -> bool:
        """In a request's thread: True (after release) for a request that was held."""
        released = self._released
        if endpoint.lower() not in self._holding or released is None:
            return False
        self.held.append(request)
        released.wait(timeout=120)
        return True

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def recent(self) -> str:
        """What to show when a wait times out."""
        return ""

    def start(self) -> Self:
        server = _Listening(("127.0.0.1", 0), self.handler_class())
        self._server, self.port = server, server.server_address[1]
        threading.Thread(target=server.serve_forever, args=(0.05,), name=self.name,
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def wait_for_async(self, predicate: Callable[[Any], bool], timeout: float = 5.0) -> None:
        """Poll `predicate(self)` while yielding to the event loop (for async tests)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s; {self.recent()}")
            await asyncio.sleep(0.01)


def send_json(handler: BaseHTTPRequestHandler, status: int, data: bytes,
              content_type: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
    """Answer with a JSON body; a client that gave up (a cancelled long poll) is fine."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass
