"""newsbot's one HTTP client: :class:`Fetcher`, an ``httpx.AsyncClient`` with newsbot's rules.

Rules every request follows:

* **Address policy at connect time.** The client's httpcore pool dials through a network
  backend that resolves each host itself, checks every resolved address with
  :class:`~bot.pipeline.netguard.AddressPolicy` and connects only to the checked IPs (TLS
  SNI and certificate checks still use the hostname). A name that resolves to an internal
  address is refused however it is spelled, and so is every redirect hop, because each hop
  that needs a connection opens it through the same backend; a kept-alive connection is only
  reused for the origin (scheme, host, port) it was checked for.
  ``localhost``/``*.localhost`` resolve to loopback and ``*.invalid`` never resolves (RFC 6761),
  numeric hosts such as ``127.1`` or ``0x7f000001`` are read the way browsers read them.
* **Redirects** are followed here, not by httpx (at most ``max_redirects`` <= 5), only to
  http/https URLs.
* **Time**: a connect timeout (resolving, connecting, TLS), a read timeout (the longest the
  server may stay silent) and a total ``deadline`` per request covering every hop and the
  body. Time spent queueing for a concurrency slot does not count.
* **Size**: the body is read raw (``Response.aiter_raw``) and decoded here (gzip, deflate
  zlib-wrapped or raw, brotli when a bounded ``brotli`` module is importable; stacked codings
  too) in bounded steps, so the *decoded* size is capped without a compression bomb ever being
  inflated in memory. Response headers are capped at ``max_header_bytes`` (the sum of name +
  value + 4 per field). Independently, httpcore's h11 parser refuses a header block over
  100 KiB before it is complete; that also surfaces as :class:`ResponseTooLargeError`, so the
  effective cap is ``min(max_header_bytes, 100 KiB)``.
* **Concurrency**: at most ``max_connections`` requests in flight, ``max_per_host`` per host.
  Each origin has its own httpcore pool of ``max_per_host`` connections, kept alive for
  ``KEEPALIVE_SECONDS``, for up to ``MAX_IDLE_ORIGINS`` origins: many hosts x their per-host
  slots stay open side by side instead of evicting each other's idle connections.
* **No cookies** are stored or sent, no proxies or ``.netrc`` are read from the environment.
  TLS trusts certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set (httpx's rule).

Every failure is one of the :class:`~bot.core.errors.FetchError` subclasses, with a sentence
that names the URL.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import re
import ssl
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

import httpcore
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
from bot.pipeline.netbackend import GuardedBackend, StaleConnectionError
from bot.pipeline.netguard import AddressPolicy, is_valid_hostname, parse_legacy_ipv4

__all__ = [
    "DEFAULT_ACCEPT",
    "KEEPALIVE_SECONDS",
    "MAX_IDLE_ORIGINS",
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
MAX_IDLE_ORIGINS = 128
"""Origins whose idle keep-alive connections are kept (``max_per_host`` each, every one a
file descriptor); past that the least recently used origin's are closed."""
KEEPALIVE_SECONDS = 5.0
"""An idle connection older than this is closed (servers often close after 5-15 s)."""
_DECODE_STEP_BYTES = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_GZIP_MAGIC = b"\x1f\x8b"
_DEFAULT_ACCEPT_BYTES = DEFAULT_ACCEPT.encode("ascii")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
"""What a URL may not contain (``\\s`` is every character ``str.isspace`` accepts)."""


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


# --- the transport ----------------------------------------------------------------------------


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own HTTP transport (request and response conversion, error mapping) over an
    httpcore pool that dials through :class:`~bot.pipeline.netbackend.GuardedBackend`.

    httpx 0.28's transport takes no network backend, so the pool is built by the caller and
    kept where ``AsyncHTTPTransport`` keeps its own (``_pool``); everything else is httpx's.
    """

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        # No super().__init__(): it would build a second pool and SSL context, unused.
        self._pool = pool

    def is_idle(self) -> bool:
        """Whether no request is using (or opening) any of the pool's connections."""
        return all(connection.is_idle() for connection in self._pool.connections)


_Origin = tuple[bytes, bytes, int]
"""scheme, host as written in the URL, port."""


class _OriginPools(httpx.AsyncBaseTransport):
    """One small httpcore pool per origin, each dialling through the same guarded backend.

    httpcore's pool scans all its connections on every request and again on every response,
    and counts the idle ones once per idle one; in one pool for many hosts that cost grows
    with the square of the connections. Here each pool holds at most ``per_origin``
    connections, and one origin's idle connections never make way for another's. An origin's
    pool is closed once it has been unused for ``KEEPALIVE_SECONDS``, or, beyond
    ``MAX_IDLE_ORIGINS`` pools, least recently used first; never while a request uses it.
    """

    def __init__(
        self, backend: GuardedBackend, ssl_context: ssl.SSLContext, per_origin: int
    ) -> None:
        self._backend = backend
        self._ssl_context = ssl_context
        self._per_origin = per_origin
        self._pools: dict[_Origin, tuple[_GuardedTransport, float]] = {}
        """By origin, least recently used first, with when each was last used."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        origin = (scheme, url.raw_host, url.port or (443 if scheme == b"https" else 80))
        now = time.monotonic()
        entry = self._pools.pop(origin, None)
        transport = self._new_pool() if entry is None else entry[0]
        self._pools[origin] = (transport, now)
        await self._close_unused(now)
        return await transport.handle_async_request(request)

    def _new_pool(self) -> _GuardedTransport:
        return _GuardedTransport(
            httpcore.AsyncConnectionPool(
                ssl_context=self._ssl_context,
                max_connections=self._per_origin,
                max_keepalive_connections=self._per_origin,
                keepalive_expiry=KEEPALIVE_SECONDS,
                network_backend=self._backend,
            )
        )

    async def _close_unused(self, now: float) -> None:
        """Close the pools unused for the keep-alive time, and the least recently used ones
        beyond the limit; a pool still in use counts as used now."""
        while self._pools:
            origin = next(iter(self._pools))
            transport, used = self._pools[origin]
            if len(self._pools) <= MAX_IDLE_ORIGINS and now - used < KEEPALIVE_SECONDS:
                return
            del self._pools[origin]
            if transport.is_idle():
                await transport.aclose()
            else:
                self._pools[origin] = (transport, now)

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        for transport, _ in pools.values():
            await transport.aclose()


class _NoCookies(httpx.Cookies):
    """Cookies that stay empty: no feed gets a cookie back, not even its own."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _Client(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` without a cookie jar (it would read every response's
    ``Set-Cookie`` into one, and a no-op jar still costs a urllib request per response)."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("newsbot's HTTP client keeps no cookies")


class _Redirected(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a response hook for a redirect with a Location: httpx would build the next
    request itself (and fail on some Locations); the Fetcher follows it with its own checks."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _stop_at_redirects(response: httpx.Response) -> None:
    if response.status_code in _REDIRECT_STATUSES and "location" in response.headers:
        raise _Redirected(response)


def _tls_server_name(host: str) -> str | None:
    """For a host spelled as a legacy IPv4 number (``127.1``), the address TLS must check."""
    try:
        address = parse_legacy_ipv4(host)
    except ValueError:
        return None
    return None if address is None or str(address) == host else str(address)


def _is_header_overflow(error: BaseException) -> bool:
    """True when h11 gave up because the response head exceeded its buffer (HTTP 431)."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "error_status_hint", None) == 431:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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
    """The process's single HTTP client (one ``httpx.AsyncClient`` over one guarded pool),
    with newsbot's rules.

    Use as ``async with Fetcher() as f``.
    """

    def __init__(self, limits: FetchLimits = FetchLimits()) -> None:
        self._limits = limits
        self._brotli = _bounded_brotli()
        codings = "gzip, deflate, br" if self._brotli is not None else "gzip, deflate"
        backend = GuardedBackend(AddressPolicy.from_entries(limits.allow_networks))
        pools = _OriginPools(backend, httpx.create_ssl_context(), limits.max_per_host)
        self._client = _Client(
            transport=pools,
            headers={"Accept-Encoding": codings, "User-Agent": limits.user_agent},
            timeout=httpx.Timeout(
                connect=limits.connect_timeout,
                read=limits.read_timeout,
                write=limits.read_timeout,
                pool=limits.connect_timeout,
            ),
            follow_redirects=False,
            trust_env=False,
            event_hooks={"response": [_stop_at_redirects]},
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
        await self._client.aclose()

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
        headers = {"Accept": _header_bytes(accept) or _DEFAULT_ACCEPT_BYTES}
        if (if_none_match := _header_bytes(etag)) is not None:
            headers["If-None-Match"] = if_none_match
        if (if_modified_since := _header_bytes(last_modified)) is not None:
            headers["If-Modified-Since"] = if_modified_since
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
        self, target: httpx.URL, headers: dict[str, bytes], remaining: float, via: str
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
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise FetchTimeoutError(
                f"Connecting to {target.host} to fetch {target}{via} took longer than "
                f"{self._limits.connect_timeout:g} seconds."
            ) from None
        except httpx.TimeoutException:
            raise FetchTimeoutError(
                f"{target.host} sent nothing for {self._limits.read_timeout:g} seconds "
                f"while we fetched {target}{via}."
            ) from None
        except (httpx.HTTPError, httpx.StreamError, OSError) as error:
            raise self._network_error(target, via, error) from None

    @staticmethod
    def _network_error(target: httpx.URL, via: str, error: BaseException) -> FetchError:
        if _is_header_overflow(error):
            return ResponseTooLargeError(
                f"{target}{via} sent response headers larger than the parser accepts."
            )
        if isinstance(error, httpx.ConnectError):
            return NetworkError(
                f"Could not connect to {target.host} to fetch {target}{via}: {_detail(error)}."
            )
        if isinstance(error, httpx.ProtocolError):
            return NetworkError(
                f"{target.host} sent an invalid HTTP response for {target}{via}: {_detail(error)}."
            )
        return NetworkError(
            f"The connection failed while fetching {target}{via}: {_detail(error)}."
        )

    async def _exchange(
        self, target: httpx.URL, headers: dict[str, bytes]
    ) -> FetchResponse | httpx.URL:
        """One request/response; a redirect's next URL, a FetchResponse, or an error."""
        server_name = _tls_server_name(target.host) if target.scheme == "https" else None
        request = self._client.build_request(
            "GET",
            target,
            headers=headers,
            extensions={"sni_hostname": server_name} if server_name else None,
        )
        try:
            response = await self._send(request)
        except _Redirected as redirect:  # httpx closed it: a redirect's body is not wanted
            response_headers = self._checked_headers(target, redirect.response)
            return self._redirect_target(target, response_headers["location"])
        try:
            response_headers = self._checked_headers(target, response)
            status = response.status_code
            if status == 304:
                # A 304 has no body; reading its end lets the connection be reused.
                async for chunk in response.aiter_raw():
                    if chunk:
                        break
                return FetchResponse(str(target), status, response_headers, b"")
            if 200 <= status < 300:
                body = await self._read_body(target, response, response_headers)
                return FetchResponse(str(target), status, response_headers, body)
            raise HTTPStatusError(
                status, str(target), parse_retry_after(response_headers.get("retry-after"))
            )
        finally:
            await response.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Send the request; once more on another connection when the server closed the
        kept-alive one it went out on before answering (a GET may be repeated)."""
        try:
            return await self._client.send(request, stream=True)
        except httpx.NetworkError as error:
            if not isinstance(error.__cause__, StaleConnectionError):
                raise
        return await self._client.send(request, stream=True)

    def _checked_headers(self, target: httpx.URL, response: httpx.Response) -> ResponseHeaders:
        """The response's headers, if they are within the size limit."""
        raw = response.headers.raw
        size = sum(len(name) + len(value) + 4 for name, value in raw)
        if size > self._limits.max_header_bytes:
            raise ResponseTooLargeError(
                f"{target} sent {size} bytes of response headers; the limit is "
                f"{self._limits.max_header_bytes}."
            )
        return ResponseHeaders(raw)

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
        self, target: httpx.URL, response: httpx.Response, headers: ResponseHeaders
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
            async for raw in response.aiter_raw():
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
