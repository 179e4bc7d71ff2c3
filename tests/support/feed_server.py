"""A real HTTP server on 127.0.0.1 serving feed and page fixtures, with conditional GET.

Fixture files may contain ``{base}``, ``{now_iso}`` and ``{now_rfc822}``; they are filled in
when a route is added, so links point back at this server and dates are recent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

CONTENT_TYPES = {
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Route:
    """What the server answers for one path."""

    body: bytes
    content_type: str
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a slow server)."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received and the status it answered."""

    path: str
    headers: dict[str, str]
    status: int


class FeedServer:
    """Serves routes on an ephemeral loopback port from a background thread."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def allow_entry(self) -> str:
        """The ``fetch.allow_networks`` entry that opens exactly this server."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "application/xml; charset=utf-8",
        *,
        validators: bool = True,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Route:
        """Serve ``body`` at ``path``; with ``validators`` it gets an ETag and Last-Modified."""
        data = self._fill(body).encode() if isinstance(body, str) else body
        route = Route(
            body=data,
            content_type=content_type,
            status=status,
            headers=dict(headers or {}),
            delay=delay,
        )
        if validators:
            route.etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
            route.last_modified = format_datetime(datetime.now(UTC), usegmt=True)
        with self._lock:
            self.routes[path] = route
        return route

    def add_fixture(self, path: str, fixture: str, **options: object) -> Route:
        """Serve a file from ``tests/fixtures`` (placeholders filled in)."""
        file = FIXTURES / fixture
        raw = file.read_bytes()
        encoding = "iso-8859-1" if b'encoding="ISO-8859-1"' in raw[:100] else "utf-8"
        text = self._fill(raw.decode(encoding))
        content_type = str(options.pop("content_type", CONTENT_TYPES[file.suffix]))
        return self.add(path, text.encode(encoding), content_type, **options)  # type: ignore[arg-type]

    def hits(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _fill(self, text: str) -> str:
        now = datetime.now(UTC).replace(microsecond=0)
        return (
            text.replace("{base}", self.base_url)
            .replace("{now_iso}", now.isoformat().replace("+00:00", "Z"))
            .replace("{now_rfc822}", format_datetime(now, usegmt=True))
        )

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            route = self.routes.get(path.split("?", 1)[0])
        if route is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        if route.delay:
            time.sleep(route.delay)
        reply = {"Content-Type": route.content_type, **route.headers}
        if route.etag:
            reply["ETag"] = route.etag
        if route.last_modified:
            reply["Last-Modified"] = route.last_modified
        if route.status == 200:
            # RFC 9110 13.2.2: If-None-Match, when present, decides alone.
            if "if-none-match" in headers:
                if route.etag and headers["if-none-match"] == route.etag:
                    return 304, reply, b""
            elif route.last_modified and headers.get("if-modified-since") == route.last_modified:
                return 304, reply, b""
        return route.status, reply, route.body

    def _record(self, path: str, headers: dict[str, str], status: int) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(path=path, headers=headers, status=status))


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (timeouts under test) are not errors worth printing."""

    def handle_error(self, request: object, client_address: object) -> None:
        return


def _handler_for(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, reply, body = server._answer(self.path, headers)
            server._record(self.path, headers, status)
            self.send_response(status)
            for key, value in reply.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def serve() -> Iterator[FeedServer]:
    """Start a server for the length of a fixture."""
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()
