"""newsbot's one HTTP client: :class:`Fetcher` over its own small HTTP/1.1 keep-alive pool.

Rules every request follows:

* **Address policy at connect time.** The pool resolves each host itself, checks every
  resolved address with :class:`~bot.pipeline.netguard.AddressPolicy` and dials only the
  checked IPs (TLS SNI and certificate checks still use the hostname). A name that resolves to
  an internal address is refused however it is spelled, and so is every redirect hop, because
  each hop that needs a connection opens it through the same check; a kept-alive connection
  is only reused for the origin (scheme, host, port) it was checked for.
  ``localhost``/``*.localhost`` resolve to loopback and ``*.invalid`` never resolves (RFC 6761),
  numeric hosts such as ``127.1`` or ``0x7f000001`` are read the way browsers read them.
* **Redirects** are followed here (at most ``max_redirects`` <= 5), only to http/https URLs.
* **Time**: a connect timeout (resolving, connecting, TLS), a read timeout (the longest the
  server may stay silent) and a total ``deadline`` per request covering every hop and the
  body. Time spent queueing for a concurrency slot does not count.
* **Size**: the body is read raw and decoded here (gzip, deflate zlib-wrapped or raw, brotli
  when a bounded ``brotli`` module is importable; stacked codings too) in bounded steps, so
  the *decoded* size is capped without a compression bomb ever being inflated in memory.
  Response headers are capped at ``max_header_bytes`` (the sum of name + value + 4 per field).
  Independently, the h11 parser refuses a header block over 100 KiB before it is complete;
  that also surfaces as :class:`ResponseTooLargeError`, so the effective cap is
  ``min(max_header_bytes, 100 KiB)``.
* **Concurrency**: at most ``max_connections`` requests in flight, ``max_per_host`` per host;
  idle keep-alive connections are kept for a few seconds, a bounded number of them.
* **No cookies** are stored or sent, no proxies or ``.netrc`` are read from the environment.
  TLS trusts certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set (httpx's rule).

The HTTP/1.1 framing is h11's (the same parser httpx uses); the pool, the guard and the
rest are here, because a general-purpose pool costs several times the CPU of a conditional
GET that answers 304, the commonest request newsbot sends.

Every failure is one of the :class:`~bot.core.errors.FetchError` subclasses, with a sentence
that names the URL.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import re
import select
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import h11
import httpx

from bot.core.errors import (
    BlockedAddressError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    InvalidURLError,
    NetworkError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from bot.pipeline.netguard import (
    AddressPolicy,
    IPAddress,
    is_valid_hostname,
    parse_legacy_ipv4,
)

__all__ = [
    "DEFAULT_ACCEPT",
    "FetchLimits",
    "FetchResponse",
    "Fetcher",
    "ResponseHeaders",
    "parse_retry_after",
    "validate_url",
]

DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
MAX_URL_LENGTH = 2048
MAX_REDIRECTS_CEILING = 5
MAX_RETRY_AFTER_SECONDS = 86400.0
MAX_STACKED_ENCODINGS = 4
_DECODE_STEP_BYTES = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_GZIP_MAGIC = b"\x1f\x8b"
_DEFAULT_ACCEPT_BYTES = DEFAULT_ACCEPT.encode("ascii")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
"""What a URL may not contain (``\\s`` is every character ``str.isspace`` accepts)."""
_MAX_HEAD_BYTES = 100 * 1024
"""h11 refuses a response head larger than this before it is complete."""
_READ_BYTES = 64 * 1024
_KEEPALIVE_SECONDS = 5.0
"""An idle connection older than this is not reused (servers often close after 5-15 s)."""
_MAX_IDLE_CONNECTIONS = 256
"""Idle connections kept at most, over all origins (each is a file descriptor)."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Timeouts, caps and the address allow-list; validated on creation (``ValueError``)."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0
    max_redirects: int = 5
    max_body_bytes: int = 10 * 1024 * 1024
    max_header_bytes: int = 64 * 1024
    max_connections: int = 20
    max_per_host: int = 2
    user_agent: str = (
        "newsbot/0.1 (+https://github.com/newsbot/newsbot; self-hosted Discord news bot)"
    )
    allow_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "deadline"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        for name in ("max_body_bytes", "max_header_bytes", "max_connections", "max_per_host"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, not {value!r}")
        redirects = self.max_redirects
        if (
            isinstance(redirects, bool)
            or not isinstance(redirects, int)
            or not 0 <= redirects <= MAX_REDIRECTS_CEILING
        ):
            raise ValueError(
                f"max_redirects must be between 0 and {MAX_REDIRECTS_CEILING}, not {redirects!r}"
            )
        agent = self.user_agent
        printable = isinstance(agent, str) and agent.isascii() and agent.isprintable()
        if not printable or not agent.strip():
            raise ValueError(f"user_agent must be one line of printable ASCII, not {agent!r}")
        AddressPolicy.from_entries(self.allow_networks)  # raises ValueError on a bad entry
        object.__setattr__(self, "allow_networks", tuple(self.allow_networks))


class ResponseHeaders(Mapping[str, str]):
    """Read-only response headers with case-insensitive lookups.

    Values are decoded as ISO-8859-1, so they round-trip byte for byte (an ETag sent back in
    ``If-None-Match`` is exactly what the server sent). Repeated fields are joined with ``", "``.
    """

    __slots__ = ("_fields",)

    def __init__(self, raw: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]) -> None:
        fields: dict[str, str] = {}
        for raw_name, raw_value in raw:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            fields[name] = f"{fields[name]}, {value}" if name in fields else value
        self._fields = fields

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __hash__(self) -> int:
        return hash(frozenset(self._fields.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ResponseHeaders):
            return self._fields == other._fields
        return NotImplemented

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._fields!r})"


@dataclass(frozen=True, slots=True)
class FetchResponse:
    """A successful fetch: a 2xx with its decoded body, or a 304 with an empty body."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 to a conditional request."""
        return self.status == 304

    @property
    def etag(self) -> str | None:
        """The ``ETag`` header, for the next conditional request."""
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        """The ``Last-Modified`` header, for the next conditional request."""
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header as sent, parameters included."""
        return self.headers.get("content-type")


def validate_url(url: str) -> str:
    """Return ``url`` normalised if newsbot may try to fetch it, else raise InvalidURLError.

    Only the URL's form is checked here; where its host points is checked when connecting.
    """
    return str(_parse_url(url))


def _parse_url(url: str) -> httpx.URL:
    if not isinstance(url, str):
        raise InvalidURLError(f"{url!r} is not a URL string.")
    shown = url if len(url) <= 100 else f"{url[:100]}…"
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURLError(
            f"The URL {shown} is {len(url)} characters long; the limit is {MAX_URL_LENGTH}."
        )
    if _SPACE_OR_CONTROL.search(url):
        raise InvalidURLError(f"The URL {shown!r} contains spaces or control characters.")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as error:
        raise InvalidURLError(f"The URL {shown} is malformed: {error}.") from None
    if parsed.scheme not in ("http", "https"):
        scheme = parsed.scheme or "no scheme"
        raise InvalidURLError(f"The URL {shown} uses {scheme}; only http and https are fetched.")
    if parsed.userinfo:
        raise InvalidURLError(f"The URL {shown} contains a user name or password.")
    host = parsed.raw_host.decode("ascii", errors="replace")
    if not host:
        raise InvalidURLError(f"The URL {shown} has no host.")
    if not _is_valid_host(host):
        raise InvalidURLError(f"The URL {shown} has an invalid host {host!r}.")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise InvalidURLError(f"The URL {shown} has an invalid port {parsed.port}.")
    return parsed.copy_with(fragment=None) if parsed.fragment else parsed


def _is_valid_host(host: str) -> bool:
    if ":" in host:
        if "%" in host:
            return False
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:
        parse_legacy_ipv4(host)
    except ValueError:
        return False
    return is_valid_hostname(host)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date).

    Clamped to ``[0, 86400]``; ``None`` when absent or unparsable. ``now`` is a Unix time
    (default: the current time) used for HTTP-dates.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return min(float(int(text)), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    current = time.time() if now is None else now
    try:
        delay = when.timestamp() - current
    except (OverflowError, OSError, ValueError):
        return None
    return min(max(delay, 0.0), MAX_RETRY_AFTER_SECONDS)


# --- bounded body decoding -------------------------------------------------------------------


class _BodyDecodeError(Exception):
    """The body is not valid data for its Content-Encoding."""


class _DecodeStage(Protocol):
    def feed(self, data: bytes) -> None: ...

    def pull(self, max_bytes: int) -> bytes: ...


class _ZlibStage:
    """gzip (possibly multi-member) or deflate (zlib-wrapped or raw), inflated in bounded steps."""

    def __init__(self, coding: str) -> None:
        self._gzip = coding == "gzip"
        self._decompressor: zlib._Decompress | None = None
        self._pending = b""  # input not yet handed to the decompressor
        self._finished = False  # trailing bytes after the last member are ignored

    def feed(self, data: bytes) -> None:
        if not self._finished:
            self._pending += data

    def pull(self, max_bytes: int) -> bytes:
        while not self._finished:
            if self._decompressor is None:
                if len(self._pending) < 2:
                    return b""
                if not self._start_member():
                    self._finished = True
                    break
            decompressor = self._decompressor
            assert decompressor is not None
            try:
                out = decompressor.decompress(self._pending, max_bytes)
            except zlib.error as error:
                raise _BodyDecodeError(str(error)) from None
            self._pending = decompressor.unconsumed_tail
            if decompressor.eof:
                self._pending = decompressor.unused_data + self._pending
                self._decompressor = None
                if not self._gzip:
                    self._finished = True
            if out:
                return out
            if self._decompressor is not None:
                return b""
        self._pending = b""
        return b""

    def _start_member(self) -> bool:
        head = self._pending[:2]
        if self._gzip:
            if head != _GZIP_MAGIC:
                return False
            wbits = 16 + zlib.MAX_WBITS
        else:
            zlib_wrapped = head[0] & 0x0F == 8 and int.from_bytes(head, "big") % 31 == 0
            wbits = zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS
        self._decompressor = zlib.decompressobj(wbits)
        return True


class _BrotliStage:
    """brotli through a ``Decompressor`` that can bound its output (brotli >= 1.2)."""

    def __init__(self, module: object) -> None:
        self._decompressor = module.Decompressor()  # type: ignore[attr-defined]
        self._error = module.error  # type: ignore[attr-defined]
        self._pending = b""

    def feed(self, data: bytes) -> None:
        self._pending += data

    def pull(self, max_bytes: int) -> bytes:
        decompressor = self._decompressor
        try:
            if decompressor.is_finished():
                self._pending = b""
                return b""
            if decompressor.can_accept_more_data():
                if not self._pending:
                    return b""
                data, self._pending = self._pending, b""
            else:
                data = b""
            return decompressor.process(data, output_buffer_limit=max_bytes)
        except self._error as error:
            raise _BodyDecodeError(str(error)) from None


def _bounded_brotli() -> object | None:
    try:
        import brotli  # optional; looked up when a Fetcher is created
    except ImportError:
        return None
    if not hasattr(brotli.Decompressor, "can_accept_more_data"):
        return None  # older brotli cannot bound its output: a bomb would inflate fully
    return brotli


class _BodyDecoder:
    """Undo a list of content codings, yielding decoded output a step at a time."""

    def __init__(self, codings: list[str], brotli_module: object | None) -> None:
        stages: list[_DecodeStage] = []
        for coding in reversed(codings):  # the last coding applied is undone first
            if coding == "br":
                stages.append(_BrotliStage(brotli_module))
            else:
                stages.append(_ZlibStage(coding))
        self._stages = stages

    def decode(self, data: bytes) -> Iterator[bytes]:
        yield from self._through(0, data)

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._stages):
            if data:
                yield data
            return
        stage = self._stages[index]
        stage.feed(data)
        while True:
            out = stage.pull(_DECODE_STEP_BYTES)
            if not out:
                return
            yield from self._through(index + 1, out)


# --- the guarded connection pool -------------------------------------------------------------


class _ConnectFailedError(Exception):
    """No connection: the name does not resolve, or every permitted address refused."""


class _ConnectTimeoutError(Exception):
    """Resolving, connecting or the TLS handshake took longer than the connect timeout."""


class _ReadTimeoutError(Exception):
    """The server sent nothing for the read timeout."""


class _BadResponseError(Exception):
    """The server's bytes are not a valid HTTP/1.1 response."""


class _HeadTooLargeError(Exception):
    """The response head outgrew the parser's buffer."""


class _ConnectionLostError(Exception):
    """The connection broke (reset, or closed mid-response)."""


class _StaleConnectionError(Exception):
    """A reused keep-alive connection turned out closed before any response byte arrived."""


async def _resolve(host: str, port: int) -> tuple[list[IPAddress], bool]:
    """The addresses ``host`` stands for, and whether it was an IP literal (in any of the
    numeric spellings); literal forms and RFC 6761 names are handled here."""
    name = host[:-1] if host.endswith(".") else host
    name = name.lower()
    try:
        return [ipaddress.ip_address(name)], True
    except ValueError:
        pass
    try:
        legacy = parse_legacy_ipv4(name)
    except ValueError as error:
        raise _ConnectFailedError(str(error)) from None
    if legacy is not None:
        return [legacy], True
    if name == "localhost" or name.endswith(".localhost"):
        return [ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1")], False
    if name == "invalid" or name.endswith(".invalid"):
        raise _ConnectFailedError(f"{host} is under the reserved .invalid domain")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise _ConnectFailedError(f"could not resolve {host} ({detail})") from None
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canonical, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise _ConnectFailedError(f"{host} has no IPv4 or IPv6 address")
    return addresses, False


class _Connection:
    """One HTTP/1.1 connection to one origin: asyncio streams plus h11's protocol state."""

    __slots__ = ("idle_since", "origin", "parser", "reader", "writer")

    def __init__(
        self, origin: _Origin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.parser = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD_BYTES)
        self.idle_since = 0.0

    def close(self) -> None:
        # No TLS close_notify exchange: nothing more is read from a connection being closed.
        self.writer.transport.abort()

    def rest(self) -> None:
        """Stop reading while idle: whatever the server sends now stays in the socket."""
        self.writer.transport.pause_reading()
        self.idle_since = time.monotonic()

    def wake(self, now: float) -> bool:
        """Resume a resting connection; False when it is too old or the server sent anything
        (an unasked answer, or its close) while it rested, so it must not be reused."""
        transport = self.writer.transport
        if (
            now - self.idle_since >= _KEEPALIVE_SECONDS
            or transport.is_closing()
            or self.reader.at_eof()
            or self.reader.exception() is not None
            or _has_input(self.writer.get_extra_info("socket"))
        ):
            return False
        transport.resume_reading()
        return True


def _has_input(sock: Any) -> bool:
    """Whether ``sock`` has bytes (or the peer's close) waiting to be read."""
    if sock is None:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


_Origin = tuple[bytes, bytes, int]
"""scheme, host as written in the URL, port."""


class _Answer:
    """A response whose head has arrived; its body is read on demand. ``finish`` hands the
    connection back for reuse when the exchange completed cleanly, else closes it."""

    __slots__ = ("_complete", "_connection", "_pool", "raw_headers", "status")

    def __init__(self, pool: _GuardedPool, connection: _Connection, response: h11.Response) -> None:
        self._pool = pool
        self._connection = connection
        self._complete = False
        self.status: int = response.status_code
        self.raw_headers: list[tuple[bytes, bytes]] = list(response.headers)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The raw (still content-coded) body, a piece at a time."""
        while True:
            event = await self._pool.next_event(self._connection)
            if type(event) is h11.Data:
                yield bytes(event.data)
            elif type(event) is h11.EndOfMessage:
                self._complete = True
                return
            else:
                raise _BadResponseError(f"unexpected {type(event).__name__} in the response body")

    async def finish(self, *, reuse: bool) -> None:
        """Done with the answer: keep its connection when asked to and the body was read."""
        if reuse and self._complete:
            self._pool.check_in(self._connection)
        else:
            self._connection.close()


class _GuardedPool:
    """newsbot's own HTTP/1.1 client: keep-alive connections per origin, each dialled only
    to addresses the policy permits, checked when the connection is made.

    At most ``_MAX_IDLE_CONNECTIONS`` idle connections are kept (the least recently used
    origin's go first), each for at most ``_KEEPALIVE_SECONDS``. The Fetcher's slots bound
    how many are in use.
    """

    def __init__(self, policy: AddressPolicy, limits: FetchLimits, ssl_context: ssl.SSLContext):
        self._policy = policy
        self._connect_timeout = limits.connect_timeout
        self._read_timeout = limits.read_timeout
        self._ssl_context = ssl_context
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._idle_count = 0
        self._closed = False

    async def open(self, target: httpx.URL, headers: list[tuple[bytes, bytes]]) -> _Answer:
        """Send a GET for ``target`` and wait for its response head."""
        scheme, host = target.raw_scheme, target.raw_host
        port = target.port or (443 if scheme == b"https" else 80)
        origin = (scheme, host, port)
        request = h11.Request(
            method=b"GET",
            target=target.raw_path,
            headers=[(b"Host", target.netloc), *headers],
        )
        connection = self._check_out(origin)
        if connection is not None:
            try:
                answer = await self._start(connection, request, reused=True)
            except _StaleConnectionError:
                pass  # the server closed it as we reused it: once more, on a new connection
            else:
                if answer.status != 408:
                    return answer
                await answer.finish(reuse=False)  # "Request Timeout" for a connection let idle
        connection = await self._connect(origin)
        return await self._start(connection, request, reused=False)

    async def _start(self, connection: _Connection, request: h11.Request, reused: bool) -> _Answer:
        try:
            parser = connection.parser
            connection.writer.write(parser.send(request) + parser.send(h11.EndOfMessage()))
            while True:
                event = await self.next_event(connection, reused=reused)
                if type(event) is h11.Response:
                    return _Answer(self, connection, event)
                if type(event) is not h11.InformationalResponse:
                    raise _BadResponseError(
                        f"unexpected {type(event).__name__} instead of a response"
                    )
                reused = False
        except BaseException:
            connection.close()
            raise

    async def next_event(self, connection: _Connection, *, reused: bool = False) -> Any:
        """The next h11 event, reading from the socket as needed."""
        parser = connection.parser
        while True:
            try:
                event = parser.next_event()
            except h11.RemoteProtocolError as error:
                if error.error_status_hint == 431:
                    raise _HeadTooLargeError(str(error)) from None
                if reused:  # not one byte of an answer: the server had closed it
                    raise _StaleConnectionError from None
                raise _BadResponseError(str(error)) from None
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(self._read_timeout):
                    data = await connection.reader.read(_READ_BYTES)
            except TimeoutError:
                raise _ReadTimeoutError from None
            except OSError as error:
                if reused:
                    raise _StaleConnectionError from None
                raise _ConnectionLostError(str(error) or type(error).__name__) from None
            if data:
                reused = False  # the server answered: a failure from here on is real
            parser.receive_data(data)

    def _check_out(self, origin: _Origin) -> _Connection | None:
        stack = self._idle.get(origin)
        if not stack:
            return None
        now = time.monotonic()
        while stack:
            connection = stack.pop()
            self._idle_count -= 1
            if connection.wake(now):
                if not stack:
                    del self._idle[origin]
                return connection
            connection.close()
        del self._idle[origin]
        return None

    def check_in(self, connection: _Connection) -> None:
        """Keep a connection whose exchange completed, for the next request to its origin."""
        parser = connection.parser
        finished = parser.our_state is h11.DONE and parser.their_state is h11.DONE
        if self._closed or not finished or parser.trailing_data[0]:
            connection.close()  # bytes past the response's end would answer the next request
            return
        parser.start_next_cycle()
        connection.rest()
        self._close_expired(connection.idle_since)
        stack = self._idle.pop(connection.origin, None) or []
        stack.append(connection)
        self._idle[connection.origin] = stack  # most recently used origin last
        self._idle_count += 1
        while self._idle_count > _MAX_IDLE_CONNECTIONS:
            oldest_origin = next(iter(self._idle))
            oldest = self._idle[oldest_origin]
            oldest.pop(0).close()
            self._idle_count -= 1
            if not oldest:
                del self._idle[oldest_origin]

    def _close_expired(self, now: float) -> None:
        """Close the idle connections past the keep-alive time, least recently used first."""
        while self._idle:
            origin = next(iter(self._idle))
            stack = self._idle[origin]
            if now - stack[-1].idle_since < _KEEPALIVE_SECONDS:
                return
            for connection in stack:
                connection.close()
            self._idle_count -= len(stack)
            del self._idle[origin]

    async def _connect(self, origin: _Origin) -> _Connection:
        scheme, raw_host, port = origin
        host = raw_host.decode("ascii")
        failure: OSError | None = None
        try:
            async with asyncio.timeout(self._connect_timeout):
                addresses, literal = await _resolve(host, port)
                permitted = self._permitted(host, addresses, port, literal)
                tls = self._ssl_context if scheme == b"https" else None
                server_name = (str(addresses[0]) if literal else host) if tls else None
                for address in permitted:
                    try:
                        reader, writer = await asyncio.open_connection(
                            str(address), port, ssl=tls, server_hostname=server_name
                        )
                    except OSError as error:
                        failure = error
                        continue
                    return _Connection(origin, reader, writer)
        except TimeoutError:
            raise _ConnectTimeoutError from None
        raise _ConnectFailedError(f"could not connect to {host} port {port} ({_detail(failure)})")

    def _permitted(
        self, host: str, addresses: list[IPAddress], port: int, literal: bool
    ) -> list[IPAddress]:
        """The addresses the policy lets us dial; BlockedAddressError when none."""
        permitted: list[IPAddress] = []
        refused: list[tuple[IPAddress, str]] = []
        for address in addresses:
            reason = self._policy.refusal_reason(address, port)
            if reason is None:
                permitted.append(address)
            else:
                refused.append((address, reason))
        if not permitted:
            address, reason = refused[0]
            if literal:
                raise BlockedAddressError(f"{host} is {reason}")
            raise BlockedAddressError(f"{host} resolves to {address}, which is {reason}")
        return permitted

    async def aclose(self) -> None:
        """Close every idle connection; connections checked in later are closed too."""
        self._closed = True
        for stack in self._idle.values():
            for connection in stack:
                connection.close()
        self._idle.clear()
        self._idle_count = 0


# --- the fetcher -----------------------------------------------------------------------------


class _HostSlot:
    """A per-host semaphore and how many requests currently use it (to drop idle ones)."""

    __slots__ = ("semaphore", "users")

    def __init__(self, size: int) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.users = 0


_FIELD_VALUE = re.compile(rb"[\x21-\x7e\x80-\xff](?:[\t \x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?")
"""A header value HTTP (and h11) accepts: visible characters, inner spaces and tabs."""


def _header_bytes(value: str | None) -> bytes | None:
    """Encode a caller-supplied validator for a request header; drop what cannot be sent."""
    if not value:
        return None
    try:
        encoded = value.encode("latin-1")
    except UnicodeEncodeError:
        encoded = value.encode("utf-8")
    return encoded if _FIELD_VALUE.fullmatch(encoded) else None


class Fetcher:
    """The process's single HTTP client (one guarded keep-alive pool), with newsbot's rules.

    Use as ``async with Fetcher() as f``.
    """

    def __init__(self, limits: FetchLimits = FetchLimits()) -> None:
        self._limits = limits
        self._brotli = _bounded_brotli()
        codings = b"gzip, deflate, br" if self._brotli is not None else b"gzip, deflate"
        policy = AddressPolicy.from_entries(limits.allow_networks)
        self._pool = _GuardedPool(policy, limits, httpx.create_ssl_context())
        self._headers: tuple[tuple[bytes, bytes], ...] = (
            (b"Accept-Encoding", codings),
            (b"Connection", b"keep-alive"),
            (b"User-Agent", limits.user_agent.encode("ascii")),
        )
        self._connection_slots = asyncio.Semaphore(limits.max_connections)
        self._host_slots: dict[str, _HostSlot] = {}

    @property
    def limits(self) -> FetchLimits:
        """The limits this fetcher enforces."""
        return self._limits

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> FetchResponse:
        """GET ``url`` under every rule of this module.

        ``etag``/``last_modified`` (from a previous :class:`FetchResponse`) make the request
        conditional; a validator that cannot be sent as a header is left out. ``accept``
        replaces :data:`DEFAULT_ACCEPT`. Raises a :class:`~bot.core.errors.FetchError` subclass
        for every failure (``ValueError`` only for an ``accept`` with line breaks).
        """
        target = _parse_url(url)
        if accept is not None and any(ch in accept for ch in "\r\n\0"):
            raise ValueError("accept must be a single header line")
        headers = [*self._headers, (b"Accept", _header_bytes(accept) or _DEFAULT_ACCEPT_BYTES)]
        if (if_none_match := _header_bytes(etag)) is not None:
            headers.append((b"If-None-Match", if_none_match))
        if (if_modified_since := _header_bytes(last_modified)) is not None:
            headers.append((b"If-Modified-Since", if_modified_since))
        remaining = self._limits.deadline
        loop = asyncio.get_running_loop()
        redirects = 0
        while True:
            via = f" (redirected from {url})" if redirects else ""
            host = target.host
            slot = self._host_slots.get(host)
            if slot is None:
                slot = self._host_slots[host] = _HostSlot(self._limits.max_per_host)
            slot.users += 1
            try:
                async with slot.semaphore, self._connection_slots:
                    started = loop.time()
                    outcome = await self._exchange_within(target, headers, remaining, via)
                    remaining -= loop.time() - started
            finally:
                slot.users -= 1
                if slot.users == 0:
                    del self._host_slots[host]
            if isinstance(outcome, FetchResponse):
                return outcome
            if redirects >= self._limits.max_redirects:
                raise TooManyRedirectsError(
                    f"{url} redirected more than {self._limits.max_redirects} times "
                    f"(last hop {target} pointed to {outcome})."
                )
            redirects += 1
            target = outcome

    async def _exchange_within(
        self, target: httpx.URL, headers: list[tuple[bytes, bytes]], remaining: float, via: str
    ) -> FetchResponse | httpx.URL:
        try:
            if remaining <= 0:
                raise TimeoutError
            async with asyncio.timeout(remaining):
                return await self._exchange(target, headers)
        except TimeoutError:
            raise FetchTimeoutError(
                f"Fetching {target}{via} did not finish within the "
                f"{self._limits.deadline:g}-second deadline."
            ) from None
        except BlockedAddressError as error:
            raise BlockedAddressError(f"Refused to fetch {target}{via}: {error}.") from None
        except FetchError:
            raise
        except _ConnectTimeoutError:
            raise FetchTimeoutError(
                f"Connecting to {target.host} to fetch {target}{via} took longer than "
                f"{self._limits.connect_timeout:g} seconds."
            ) from None
        except _ReadTimeoutError:
            raise FetchTimeoutError(
                f"{target.host} sent nothing for {self._limits.read_timeout:g} seconds "
                f"while we fetched {target}{via}."
            ) from None
        except _HeadTooLargeError:
            raise ResponseTooLargeError(
                f"{target}{via} sent response headers larger than the parser accepts."
            ) from None
        except _ConnectFailedError as error:
            raise NetworkError(
                f"Could not connect to {target.host} to fetch {target}{via}: {_detail(error)}."
            ) from None
        except _BadResponseError as error:
            raise NetworkError(
                f"{target.host} sent an invalid HTTP response for {target}{via}: {_detail(error)}."
            ) from None
        except (_ConnectionLostError, _StaleConnectionError, OSError) as error:
            raise NetworkError(
                f"The connection failed while fetching {target}{via}: {_detail(error)}."
            ) from None

    async def _exchange(
        self, target: httpx.URL, headers: list[tuple[bytes, bytes]]
    ) -> FetchResponse | httpx.URL:
        """One request/response; a redirect's next URL, a FetchResponse, or an error."""
        answer = await self._pool.open(target, headers)
        reuse = False
        try:
            self._check_header_size(target, answer.raw_headers)
            response_headers = ResponseHeaders(answer.raw_headers)
            status = answer.status
            if status in _REDIRECT_STATUSES and "location" in response_headers:
                return self._redirect_target(target, response_headers["location"])
            if status == 304:
                # A 304 has no body; reading its end lets the connection be reused.
                async for chunk in answer.chunks():
                    if chunk:
                        break
                reuse = True
                return FetchResponse(str(target), status, response_headers, b"")
            if 200 <= status < 300:
                body = await self._read_body(target, answer, response_headers)
                reuse = True
                return FetchResponse(str(target), status, response_headers, body)
            raise HTTPStatusError(
                status, str(target), parse_retry_after(response_headers.get("retry-after"))
            )
        finally:
            await answer.finish(reuse=reuse)

    def _check_header_size(self, target: httpx.URL, raw: list[tuple[bytes, bytes]]) -> None:
        size = sum(len(name) + len(value) + 4 for name, value in raw)
        if size > self._limits.max_header_bytes:
            raise ResponseTooLargeError(
                f"{target} sent {size} bytes of response headers; the limit is "
                f"{self._limits.max_header_bytes}."
            )

    @staticmethod
    def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
        try:
            joined = current.join(location)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise InvalidURLError(
                f"{current} redirected to {location!r}, which is not a valid URL."
            ) from None
        try:
            return _parse_url(str(joined))
        except InvalidURLError as error:
            raise InvalidURLError(
                f"{current} redirected to a URL we will not fetch. {error}"
            ) from None

    def _content_codings(self, target: httpx.URL, headers: ResponseHeaders) -> list[str]:
        codings: list[str] = []
        for token in headers.get("content-encoding", "").split(","):
            coding = token.strip().lower()
            if coding in ("", "identity"):
                continue
            if coding == "x-gzip":
                coding = "gzip"
            if coding not in ("gzip", "deflate") and not (coding == "br" and self._brotli):
                raise NetworkError(
                    f"{target} uses the unsupported Content-Encoding {token.strip()!r}."
                )
            codings.append(coding)
        if len(codings) > MAX_STACKED_ENCODINGS:
            raise NetworkError(
                f"{target} stacks {len(codings)} content encodings; "
                f"at most {MAX_STACKED_ENCODINGS} are decoded."
            )
        return codings

    async def _read_body(
        self, target: httpx.URL, answer: _Answer, headers: ResponseHeaders
    ) -> bytes:
        cap = self._limits.max_body_bytes
        too_large = (
            f"The body of {target} is larger than the {cap}-byte limit (after decompression)."
        )
        codings = self._content_codings(target, headers)
        if not codings:
            declared = headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > cap:
                raise ResponseTooLargeError(too_large)
        decoder = _BodyDecoder(codings, self._brotli)
        body = bytearray()
        try:
            async for raw in answer.chunks():
                for piece in decoder.decode(raw):
                    if len(body) + len(piece) > cap:
                        raise ResponseTooLargeError(too_large)
                    body += piece
        except _BodyDecodeError as error:
            raise NetworkError(
                f"The body of {target} is not valid {', '.join(codings)} data: {error}."
            ) from None
        return bytes(body)


def _detail(error: BaseException) -> str:
    return (str(error) or type(error).__name__).rstrip(".")
