"""A loopback HTTP/1.1 server that misbehaves on request, for testing the fetcher.

It speaks just enough HTTP by hand (one request per connection, ``Connection: close``) to
send what a well-behaved server never would: endless headers, a body dripped one byte at a
time, compression bombs, redirect loops. Every request is recorded.

Routes (query parameters in brackets):

* ``/feed`` – a small RSS document with an ETag and Last-Modified; 304 when they match
* ``/echo`` – the request headers as JSON
* ``/redirect/N`` – N redirects (302, relative Location) ending at a 200
* ``/redirect-to[url, status]`` – one redirect to ``url``
* ``/status/CODE[retry_after]`` – that status, optionally with Retry-After
* ``/drip[interval]`` – headers, then one body byte every ``interval`` seconds, forever
* ``/drip-headers[interval]`` – the status line, then one header byte per ``interval``
* ``/big-headers[kib]`` – a response with ``kib`` KiB of header fields
* ``/set-cookie`` – a 200 that sets a cookie
* ``/slow[delay]`` – a 200 after ``delay`` seconds; concurrency is tracked
* ``/hang-up`` – closes the connection without answering
* ``/hostile/NAME`` – a hostile feed document from
  :data:`tests.support.hostile_feeds.HOSTILE_FEEDS` (entity bombs in every Unicode encoding,
  billion laughs, external entities, lying charsets, floods of entries, quadratic markup,
  hostile JSON) with its Content-Type

Anything else can be added with :meth:`HostileServer.respond` (a canned response).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.support.hostile_feeds import HOSTILE_FEEDS

__all__ = ["FEED_BODY", "FEED_ETAG", "FEED_LAST_MODIFIED", "HostileServer", "SeenRequest"]

FEED_ETAG = '"feed-v1"'
FEED_LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
FEED_BODY = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>'
    b"<item><title>One</title><link>http://example.com/1</link></item></channel></rss>"
)

_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

Header = tuple[str, str]


@dataclass(frozen=True, slots=True)
class SeenRequest:
    """One request as the server received it (header names lower-cased)."""

    method: str
    target: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Canned:
    status: int
    headers: tuple[Header, ...]
    body: bytes
    declare_length: bool
    delay: float


@dataclass(slots=True)
class _Stats:
    in_flight: int = 0
    max_in_flight: int = 0
    requests: list[SeenRequest] = field(default_factory=list)


Handler = Callable[[SeenRequest, asyncio.StreamWriter], Awaitable[None]]


class HostileServer:
    """Start with ``async with HostileServer() as server``; ``server.url("/feed")``."""

    def __init__(self, host: str = "127.0.0.1", *, ssl_context: ssl.SSLContext | None = None):
        self.host = host
        self.port = 0
        self._ssl_context = ssl_context
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._canned: dict[str, _Canned] = {}
        self._stats = _Stats()
        self._routes: dict[str, Handler] = {
            "/feed": self._feed,
            "/echo": self._echo,
            "/redirect-to": self._redirect_to,
            "/drip": self._drip,
            "/drip-headers": self._drip_headers,
            "/big-headers": self._big_headers,
            "/set-cookie": self._set_cookie,
            "/slow": self._slow,
            "/hang-up": self._hang_up,
        }

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self._ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    # --- what tests use ----------------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "https" if self._ssl_context is not None else "http"

    @property
    def endpoint(self) -> str:
        """``address:port`` as an ``allow_networks`` entry."""
        return f"{self.host}:{self.port}"

    def url(self, path: str, *, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def respond(
        self,
        path: str,
        *,
        status: int = 200,
        headers: Sequence[Header] = (),
        body: bytes = b"",
        declare_length: bool = True,
        delay: float = 0.0,
    ) -> None:
        """Serve a canned response at ``path``, after ``delay`` seconds.

        Content-Length is added unless ``declare_length`` is false; then the body simply ends
        when the connection closes.
        """
        self._canned[path] = _Canned(status, tuple(headers), body, declare_length, delay)

    @property
    def requests(self) -> list[SeenRequest]:
        return list(self._stats.requests)

    @property
    def max_in_flight(self) -> int:
        """The most ``/slow`` requests that were being served at the same time."""
        return self._stats.max_in_flight

    # --- plumbing ----------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await self._read_request(reader)
            if request is None:
                return
            self._stats.requests.append(request)
            await self._dispatch(request, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.CancelledError):
                await writer.wait_closed()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> SeenRequest | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return SeenRequest(method, target, headers)

    async def _dispatch(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        path = urlsplit(request.target).path
        canned = self._canned.get(path)
        if canned is not None:
            await asyncio.sleep(canned.delay)
            await self._send(
                writer, canned.status, canned.headers, canned.body, canned.declare_length
            )
            return
        if path.startswith("/redirect/"):
            await self._redirect_chain(request, writer)
            return
        if path.startswith("/status/"):
            await self._status(request, writer)
            return
        if path.startswith("/hostile/"):
            await self._hostile(path.removeprefix("/hostile/"), writer)
            return
        handler = self._routes.get(path)
        if handler is None:
            await self._send(writer, 404, (), b"no such route")
            return
        await handler(request, writer)

    @staticmethod
    def _head(status: int, headers: Sequence[Header]) -> bytes:
        reason = _REASONS.get(status, "Whatever")
        lines = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        headers: Sequence[Header],
        body: bytes,
        declare_length: bool = True,
    ) -> None:
        all_headers = [*headers]
        if status != 304 and declare_length:
            all_headers.append(("Content-Length", str(len(body))))
        writer.write(self._head(status, all_headers))
        if status != 304:
            writer.write(body)
        await writer.drain()

    @staticmethod
    def _query(request: SeenRequest) -> dict[str, str]:
        query = parse_qs(urlsplit(request.target).query)
        return {name: values[0] for name, values in query.items()}

    # --- routes ------------------------------------------------------------------------------

    async def _feed(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        validators = [("ETag", FEED_ETAG), ("Last-Modified", FEED_LAST_MODIFIED)]
        if (
            request.headers.get("if-none-match") == FEED_ETAG
            or request.headers.get("if-modified-since") == FEED_LAST_MODIFIED
        ):
            await self._send(writer, 304, validators, b"")
            return
        headers = [("Content-Type", "application/rss+xml; charset=utf-8"), *validators]
        await self._send(writer, 200, headers, FEED_BODY)

    async def _echo(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        body = json.dumps(request.headers).encode()
        await self._send(writer, 200, [("Content-Type", "application/json")], body)

    async def _redirect_chain(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        left = int(urlsplit(request.target).path.rsplit("/", 1)[1])
        if left <= 0:
            await self._send(writer, 200, [("Content-Type", "text/plain")], b"arrived")
            return
        await self._send(writer, 302, [("Location", f"/redirect/{left - 1}")], b"")

    async def _redirect_to(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        query = self._query(request)
        status = int(query.get("status", "302"))
        await self._send(writer, status, [("Location", query["url"])], b"")

    async def _status(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        status = int(urlsplit(request.target).path.rsplit("/", 1)[1])
        query = self._query(request)
        headers = [("Retry-After", query["retry_after"])] if "retry_after" in query else []
        await self._send(writer, status, headers, b"status body")

    async def _hostile(self, name: str, writer: asyncio.StreamWriter) -> None:
        build = HOSTILE_FEEDS.get(name)
        if build is None:
            await self._send(writer, 404, (), b"no such hostile feed")
            return
        case = build()
        await self._send(writer, 200, [("Content-Type", case.content_type)], case.body)

    async def _drip(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        interval = float(self._query(request).get("interval", "0.2"))
        writer.write(self._head(200, [("Content-Length", "1000000")]))
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(interval)

    async def _drip_headers(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        interval = float(self._query(request).get("interval", "0.2"))
        writer.write(b"HTTP/1.1 200 OK\r\n")
        while True:
            writer.write(b"X-Slow: y\r\n")
            await writer.drain()
            await asyncio.sleep(interval)

    async def _big_headers(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        kib = int(self._query(request).get("kib", "80"))
        headers = [(f"X-Filler-{index}", "f" * 1000) for index in range(kib)]
        await self._send(writer, 200, headers, b"too much head")

    async def _set_cookie(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        headers = [("Set-Cookie", "session=secret-from-a-feed; Path=/")]
        await self._send(writer, 200, headers, b"have a cookie")

    async def _slow(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        delay = float(self._query(request).get("delay", "0.1"))
        stats = self._stats
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            await asyncio.sleep(delay)
        finally:
            stats.in_flight -= 1
        await self._send(writer, 200, [], b"slow and steady")

    async def _hang_up(self, request: SeenRequest, writer: asyncio.StreamWriter) -> None:
        writer.close()
