"""The httpcore network backend of the fetcher: the address guard, on asyncio's transports.

:class:`GuardedBackend` is how every new connection of :mod:`bot.pipeline.fetch` reaches the
network: it resolves the host itself, checks each address with
:class:`~bot.pipeline.netguard.AddressPolicy` and dials only permitted IPs. httpcore then
starts TLS on that stream with the URL's hostname, so SNI and the certificate check use the
name, never the address.

Connections run on asyncio's own transports. httpcore's default backend (anyio) opens a
cancel scope with a timer on every read and write and toggles reading around each one, which
cost about a fifth of the CPU of a conditional GET answered 304; here a connection keeps
reading into its buffer (up to a high-water mark), so whether an idle connection has
something waiting (the server's close, or an unasked answer) is known from its state.
"""

from __future__ import annotations

import asyncio
import ipaddress
import select
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

from bot.core.errors import BlockedAddressError
from bot.pipeline.netguard import AddressPolicy, IPAddress, parse_legacy_ipv4

__all__ = ["GuardedBackend", "StaleConnectionError", "resolve"]

_HIGH_WATER = 256 * 1024
"""Bytes a connection buffers before it stops reading from its socket."""
_LOW_WATER = 64 * 1024
"""Buffered bytes below which a connection that stopped reading starts again."""


async def resolve(host: str, port: int) -> tuple[list[IPAddress], bool]:
    """The addresses ``host`` stands for, and whether it was an IP literal (in any of the
    numeric spellings); literal forms and RFC 6761 names are handled here, other names by
    the event loop's resolver. Raises ``httpcore.ConnectError`` when there is none."""
    name = host[:-1] if host.endswith(".") else host
    name = name.lower()
    try:
        return [ipaddress.ip_address(name)], True
    except ValueError:
        pass
    try:
        legacy = parse_legacy_ipv4(name)
    except ValueError as error:
        raise httpcore.ConnectError(str(error)) from None
    if legacy is not None:
        return [legacy], True
    if name == "localhost" or name.endswith(".localhost"):
        return [ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1")], False
    if name == "invalid" or name.endswith(".invalid"):
        raise httpcore.ConnectError(f"{host} is under the reserved .invalid domain")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise httpcore.ConnectError(f"could not resolve {host} ({detail})") from None
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canonical, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"{host} has no IPv4 or IPv6 address")
    return addresses, False


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Every new connection resolves its host here, checks each address with the policy
    (:class:`BlockedAddressError` when none may be dialled), and connects to the permitted
    IPs in turn, on asyncio's own transports. Unix sockets are refused."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(timeout):
                addresses, literal = await resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took over {timeout:g} s") from None
        failure: httpcore.ConnectError | None = None
        for address in self._permitted(host, addresses, port, literal):
            left = None if timeout is None else max(timeout - (loop.time() - started), 0.0)
            try:
                return await _dial(str(address), port, left, local_address, socket_options)
            except httpcore.ConnectError as error:
                failure = error
        detail = str(failure) or type(failure).__name__
        raise httpcore.ConnectError(f"could not connect to {host} port {port} ({detail})")

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

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend signature
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Unix sockets are never dialled")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _Buffered(asyncio.Protocol):
    """One connection's incoming bytes, kept until read; its end; whether it may write."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.ended = False
        """The server closed its side, or the connection broke (``error`` then says how)."""
        self.error: Exception | None = None
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> None:
        self.ended = True
        self._wake_reader()

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self._wake_reader()
        self.resume_writing()

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait_readable(self) -> None:
        """Until bytes arrive or the connection ends."""
        waiter = self._readable = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._readable = None

    async def wait_writable(self) -> None:
        """Until the transport has room for more bytes again."""
        if self._writable is not None:
            await self._writable

    def take(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` of what arrived, removed from the buffer."""
        if len(self.buffer) <= max_bytes:
            data = bytes(self.buffer)
            self.buffer.clear()
        else:
            data = bytes(self.buffer[:max_bytes])
            del self.buffer[:max_bytes]
        if self._reading_paused and len(self.buffer) < _LOW_WATER and self.transport:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    def _wake_reader(self) -> None:
        waiter = self._readable
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class StaleConnectionError(httpcore.NetworkError):
    """The server closed a kept-alive connection as it was reused, before one byte of an
    answer: the request may be sent again on a new connection."""


class _AsyncioStream(httpcore.AsyncNetworkStream):
    """A TCP (then maybe TLS) connection on an asyncio transport, as httpcore reads it.

    httpcore writes each request (a GET: its head) in one call, so the writes count the
    requests sent; a connection that ends before answering any request but its first raises
    :class:`StaleConnectionError`."""

    def __init__(self, transport: asyncio.Transport, protocol: _Buffered) -> None:
        self._transport = transport
        self._protocol = protocol
        self._requests = 0
        self._answering = False
        """Whether any byte arrived since the last request was sent."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        protocol = self._protocol
        if not protocol.buffer and not protocol.ended:
            try:
                async with asyncio.timeout(timeout):
                    await protocol.wait_readable()
            except TimeoutError:
                raise httpcore.ReadTimeout(f"nothing arrived for {timeout:g} s") from None
        if protocol.buffer:
            self._answering = True
            return protocol.take(max_bytes)
        if self._requests > 1 and not self._answering:
            raise StaleConnectionError("the server closed the kept-alive connection")
        if protocol.error is not None:
            raise httpcore.ReadError(_describe(protocol.error)) from protocol.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        protocol = self._protocol
        self._requests += 1
        self._answering = False
        if protocol.error is not None or self._transport.is_closing():
            if self._requests > 1:
                raise StaleConnectionError("the server closed the kept-alive connection")
            raise httpcore.WriteError(_describe(protocol.error) if protocol.error else "closed")
        self._transport.write(buffer)
        try:
            async with asyncio.timeout(timeout):
                await protocol.wait_writable()
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not send for {timeout:g} s") from None

    async def aclose(self) -> None:
        # No TLS close_notify exchange: nothing more is read from a connection being closed.
        self._transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's stream signature
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.abort()
            raise httpcore.ConnectTimeout(f"the TLS handshake took over {timeout:g} s") from None
        except OSError as error:
            self._transport.abort()
            raise httpcore.ConnectError(_describe(error)) from error
        assert isinstance(transport, asyncio.Transport)
        self._transport = self._protocol.transport = transport
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._has_input()
        names = {
            "ssl_object": "ssl_object",
            "client_addr": "sockname",
            "server_addr": "peername",
            "socket": "socket",
        }
        return self._transport.get_extra_info(names[info]) if info in names else None

    def _has_input(self) -> bool:
        """Whether the server sent anything (or closed) since the last read: what arrived
        is buffered, and what the event loop has not taken in yet is still in the socket."""
        protocol = self._protocol
        if protocol.buffer or protocol.ended or self._transport.is_closing():
            return True
        sock = self._transport.get_extra_info("socket")
        fileno = -1 if sock is None else sock.fileno()
        if fileno < 0:
            return True
        poller = select.poll()
        poller.register(fileno, select.POLLIN)
        return bool(poller.poll(0))


async def _dial(
    address: str,
    port: int,
    timeout: float | None,  # noqa: ASYNC109 - passed on from httpcore
    local_address: str | None,
    socket_options: Iterable[Any] | None,
) -> _AsyncioStream:
    """A TCP connection to one IP address on the running loop."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await loop.create_connection(
                _Buffered, address, port, local_addr=(local_address, 0) if local_address else None
            )
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"connecting took over {timeout:g} s") from None
    except OSError as error:
        raise httpcore.ConnectError(_describe(error)) from error
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return _AsyncioStream(transport, protocol)


def _describe(error: BaseException) -> str:
    return (str(error) or type(error).__name__).rstrip(".")
