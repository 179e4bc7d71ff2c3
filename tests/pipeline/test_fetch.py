"""The Fetcher against real loopback servers that misbehave on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gzip
import json
import re
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from bot.pipeline.fetch import (
    DEFAULT_ACCEPT,
    Fetcher,
    FetchLimits,
    FetchResponse,
    parse_retry_after,
    validate_url,
)
from tests.support.bombs import build_gzip_bomb
from tests.support.hostile_server import (
    FEED_BODY,
    FEED_ETAG,
    FEED_LAST_MODIFIED,
    HostileServer,
)

MIB = 1024 * 1024


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as running:
        yield running


@pytest.fixture
async def other_server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as running:
        yield running


def fetcher_for(*servers: HostileServer, **limits: object) -> Fetcher:
    """A Fetcher that may reach exactly these servers' address:port and nothing else."""
    allow = tuple(s.endpoint for s in servers) + tuple(limits.pop("allow_networks", ()))
    return Fetcher(FetchLimits(allow_networks=allow, **limits))  # type: ignore[arg-type]


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    return build_gzip_bomb(512)


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the ordinary path -----------------------------------------------------------------------


async def test_fetches_a_feed_with_its_validators(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/feed"))

    assert response == FetchResponse(server.url("/feed"), 200, response.headers, FEED_BODY)
    assert response.not_modified is False
    assert response.etag == FEED_ETAG
    assert response.last_modified == FEED_LAST_MODIFIED
    assert response.content_type == "application/rss+xml; charset=utf-8"
    assert response.headers["ETAG"] == response.headers["etag"] == FEED_ETAG


async def test_response_headers_are_read_only(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/feed"))
    with pytest.raises(TypeError):
        response.headers["etag"] = "changed"  # type: ignore[index]
    assert "Content-Type" in response.headers


async def test_sends_a_descriptive_user_agent_and_feed_accept_header(
    server: HostileServer,
) -> None:
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/echo"))
    sent = json.loads(response.body)
    assert sent["user-agent"] == FetchLimits().user_agent
    assert "newsbot" in sent["user-agent"]
    assert sent["accept"] == DEFAULT_ACCEPT
    assert sent["accept-encoding"] in ("gzip, deflate", "gzip, deflate, br")
    assert "if-none-match" not in sent
    assert "cookie" not in sent


async def test_accept_header_can_be_overridden(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/echo"), accept="text/html")
        accented = await fetcher.get(server.url("/echo"), accept="text/html; x=é")
    assert json.loads(response.body)["accept"] == "text/html"
    assert json.loads(accented.body)["accept"] == "text/html; x=é"  # sent as ISO-8859-1


async def test_accept_with_a_line_break_is_a_caller_error(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        with pytest.raises(ValueError, match="single header line"):
            await fetcher.get(server.url("/echo"), accept="text/html\r\nX-Evil: 1")
    assert server.requests == []


async def test_unsendable_validators_are_left_out(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/echo"), etag='"a"\r\nX-Evil: 1')
    assert "if-none-match" not in json.loads(response.body)
    assert "x-evil" not in json.loads(response.body)


async def test_conditional_get_with_etag_returns_not_modified(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        first = await fetcher.get(server.url("/feed"))
        again = await fetcher.get(server.url("/feed"), etag=first.etag)

    assert again.status == 304
    assert again.not_modified is True
    assert again.body == b""
    assert again.etag == FEED_ETAG
    assert server.requests[-1].headers["if-none-match"] == FEED_ETAG


async def test_conditional_get_with_last_modified(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/feed"), last_modified=FEED_LAST_MODIFIED)
    assert response.not_modified
    assert server.requests[-1].headers["if-modified-since"] == FEED_LAST_MODIFIED


async def test_no_cookie_set_by_one_feed_reaches_another(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        await fetcher.get(server.url("/set-cookie"))
        same_host = json.loads((await fetcher.get(server.url("/echo"))).body)
        other_name = json.loads((await fetcher.get(server.url("/echo", host="localhost"))).body)
    assert "cookie" not in same_host
    assert "cookie" not in other_name


# --- the address policy ----------------------------------------------------------------------

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/feed",
    "http://2130706433:{port}/feed",
    "http://127.1:{port}/feed",
    "http://0x7f000001:{port}/feed",
    "http://017700000001:{port}/feed",
    "http://0.0.0.0:{port}/feed",
    "http://0:{port}/feed",
    "http://localhost:{port}/feed",
    "http://LOCALHOST.:{port}/feed",
    "http://feeds.localhost:{port}/feed",
    "http://[::1]:{port}/feed",
    "http://[::ffff:127.0.0.1]:{port}/feed",
    "http://[::ffff:7f00:1]:{port}/feed",
    "http://[::]:{port}/feed",
    "https://127.0.0.1:{port}/feed",
]

INTERNAL_URLS = [
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250:1900/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.2.1/",
    "http://198.18.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a00:1::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[2001:db8::1]/",
]


@pytest.mark.parametrize("template", LOOPBACK_SPELLINGS)
async def test_every_spelling_of_loopback_is_refused(server: HostileServer, template: str) -> None:
    url = template.format(port=server.port)
    async with Fetcher() as fetcher:
        with pytest.raises(BlockedAddressError) as caught:
            await fetcher.get(url)
    assert url.split("/")[2].split(":")[0].strip("[]").lower().rstrip(".") in str(caught.value)
    assert server.requests == []


async def test_dotted_octal_loopback_is_refused_as_malformed(server: HostileServer) -> None:
    async with Fetcher() as fetcher:
        with pytest.raises(InvalidURLError, match=r"0177\.0\.0\.1"):
            await fetcher.get(f"http://0177.0.0.1:{server.port}/feed")
    assert server.requests == []


@pytest.mark.parametrize("url", INTERNAL_URLS)
async def test_internal_addresses_are_refused_before_connecting(url: str) -> None:
    async with Fetcher() as fetcher:
        with pytest.raises(BlockedAddressError, match="Refused to fetch"):
            await fetcher.get(url)


async def test_policy_applies_to_the_dialled_address_however_the_host_is_spelled(
    server: HostileServer,
) -> None:
    async with fetcher_for(server) as fetcher:
        for host in ("127.0.0.1", "2130706433", "127.1", "localhost"):
            response = await fetcher.get(server.url("/feed", host=host))
            assert response.body == FEED_BODY
    assert len(server.requests) == 4


async def test_allowed_address_and_port_opens_only_that_port(
    server: HostileServer, other_server: HostileServer
) -> None:
    async with fetcher_for(server) as fetcher:
        assert (await fetcher.get(server.url("/feed"))).status == 200
        with pytest.raises(BlockedAddressError, match=f"not {other_server.port}"):
            await fetcher.get(other_server.url("/feed"))
    assert other_server.requests == []


async def test_allowed_cidr_opens_every_port(
    server: HostileServer, other_server: HostileServer
) -> None:
    async with Fetcher(FetchLimits(allow_networks=("127.0.0.0/8",))) as fetcher:
        assert (await fetcher.get(server.url("/feed"))).status == 200
        assert (await fetcher.get(other_server.url("/feed"))).status == 200
        with pytest.raises(BlockedAddressError):
            await fetcher.get("http://10.0.0.1/")


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{other}/feed",
        "http://localhost:{other}/feed",
        "http://2130706433:{other}/feed",
        "http://[::1]:{other}/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3:{port}/feed",
    ],
)
async def test_redirect_to_a_refused_address_is_refused(
    server: HostileServer, other_server: HostileServer, target: str
) -> None:
    location = target.format(other=other_server.port, port=server.port)
    async with fetcher_for(server) as fetcher:
        with pytest.raises(BlockedAddressError, match="redirected from"):
            await fetcher.get(server.url(f"/redirect-to?url={quote(location)}"))
    assert other_server.requests == []


async def test_redirect_to_another_allowed_server_is_followed(
    server: HostileServer, other_server: HostileServer
) -> None:
    location = quote(other_server.url("/feed"))
    async with fetcher_for(server, other_server) as fetcher:
        response = await fetcher.get(server.url(f"/redirect-to?url={location}&status=301"))
    assert response.url == other_server.url("/feed")
    assert response.body == FEED_BODY


class ScriptedResolver:
    """Stands in for the event loop's getaddrinfo: answers each lookup from a script."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int, **_: object) -> list[tuple]:
        self.lookups.append(host)
        address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


async def test_names_are_checked_by_the_address_they_resolve_to(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = ScriptedResolver("127.0.0.1")
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolver)
    url = server.url("/feed", host="feeds.example.com")
    async with Fetcher() as fetcher:
        refusal = re.escape("feeds.example.com resolves to 127.0.0.1")
        with pytest.raises(BlockedAddressError, match=refusal):
            await fetcher.get(url)
    async with fetcher_for(server) as fetcher:
        assert (await fetcher.get(url)).body == FEED_BODY  # dialled the checked IP itself
    assert resolver.lookups == ["feeds.example.com", "feeds.example.com"]


async def test_dns_rebinding_between_connections_is_caught(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first lookup answers with the allowed server, the next with another loopback
    # address: every new connection resolves once and dials exactly what it checked.
    resolver = ScriptedResolver("127.0.0.1", "127.0.0.2")
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolver)
    url = server.url("/feed", host="rebind.example.com")
    async with fetcher_for(server) as fetcher:
        assert (await fetcher.get(url)).status == 200
        with pytest.raises(BlockedAddressError, match=re.escape("127.0.0.2")):
            await fetcher.get(url)
    assert len(server.requests) == 1


async def test_only_permitted_addresses_of_a_name_are_dialled(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def both(host: str, port: int, **_: object) -> list[tuple]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", both)
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/feed", host="split.example.com"))
    assert response.body == FEED_BODY


# --- URLs --------------------------------------------------------------------------------------

INVALID_URLS = [
    "javascript:alert(1)",
    "ftp://example.com/feed.xml",
    "file:///etc/passwd",
    "data:text/plain,hello",
    "gopher://example.com/",
    "example.com/feed",
    "//example.com/feed",
    "",
    "http://",
    "http:///no-host",
    "http://user:secret@example.com/feed",
    "http://user@example.com/feed",
    "http://exa mple.com/",
    " http://example.com/",
    "http://example.com/\nX-Injected: 1",
    "http://example.com:0/",
    "http://example.com:99999/",
    "http://[::1%25eth0]/",
    "http://[not-an-ip]/",
    "http://999.1.1.1/",
    "http://1.2.3.4.5/",
    "http://a..b/",
    "http://exa%6dple.com/",
    pytest.param("http://example.com/" + "a" * 2048, id="longer-than-2048"),
]


@pytest.mark.parametrize("url", INVALID_URLS)
async def test_invalid_urls_are_refused(url: str) -> None:
    async with Fetcher() as fetcher:
        with pytest.raises(InvalidURLError):
            await fetcher.get(url)


def test_validate_url_normalises_and_drops_the_fragment() -> None:
    assert validate_url("HTTP://Example.COM/feed#top") == "http://example.com/feed"
    assert validate_url("https://bücher.example/") == "https://xn--bcher-kva.example/"


@given(st.text(max_size=80))
def test_validate_url_raises_only_invalid_url_error(text: str) -> None:
    for candidate in (text, f"http://{text}", f"https://example.com/{text}"):
        with contextlib.suppress(InvalidURLError):
            validate_url(candidate)


# --- redirects ---------------------------------------------------------------------------------


async def test_five_redirects_are_followed(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/redirect/5"))
    assert response.url == server.url("/redirect/0")
    assert response.body == b"arrived"
    assert len(server.requests) == 6


async def test_six_redirects_are_too_many(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        with pytest.raises(TooManyRedirectsError, match="redirect/6"):
            await fetcher.get(server.url("/redirect/6"))
    assert len(server.requests) == 6


async def test_max_redirects_zero_refuses_the_first_redirect(server: HostileServer) -> None:
    async with fetcher_for(server, max_redirects=0) as fetcher:
        with pytest.raises(TooManyRedirectsError):
            await fetcher.get(server.url("/redirect/1"))


@pytest.mark.parametrize(
    "location", ["ftp://example.com/feed", "javascript:alert(1)", "file:///etc/passwd"]
)
async def test_redirect_to_a_non_http_url_is_refused(server: HostileServer, location: str) -> None:
    async with fetcher_for(server) as fetcher:
        with pytest.raises(InvalidURLError, match="redirected"):
            await fetcher.get(server.url(f"/redirect-to?url={quote(location)}"))


async def test_redirect_without_location_is_an_error_status(server: HostileServer) -> None:
    server.respond("/lost", status=302)
    async with fetcher_for(server) as fetcher:
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.get(server.url("/lost"))
    assert caught.value.status == 302


# --- error statuses and Retry-After ------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 429, 500, 502, 503])
async def test_error_statuses_raise_http_status_error(server: HostileServer, status: int) -> None:
    url = server.url(f"/status/{status}")
    async with fetcher_for(server) as fetcher:
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.get(url)
    assert caught.value.status == status
    assert caught.value.url == url
    assert caught.value.retry_after is None
    assert url in str(caught.value)


def _http_date(offset_seconds: float) -> str:
    return email.utils.formatdate(time.time() + offset_seconds, usegmt=True)


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        ("120", 120.0, 120.0),
        ("0", 0.0, 0.0),
        ("315360000", 86400.0, 86400.0),  # ten years in seconds: clamped to a day
        ("99999999999999999999999", 86400.0, 86400.0),
        (_http_date(3600), 3000.0, 3600.0),
        (_http_date(10 * 365 * 86400), 86400.0, 86400.0),
        (_http_date(-3600), 0.0, 0.0),
    ],
)
async def test_429_carries_retry_after(
    server: HostileServer, header: str, low: float, high: float
) -> None:
    async with fetcher_for(server) as fetcher:
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.get(server.url(f"/status/429?retry_after={quote(header)}"))
    assert caught.value.status == 429
    assert caught.value.retry_after is not None
    assert low <= caught.value.retry_after <= high


@pytest.mark.parametrize("header", ["soon", "-5", "1.5", "Someday, 99 Foo 2024", ""])
async def test_unparsable_retry_after_is_none(server: HostileServer, header: str) -> None:
    async with fetcher_for(server) as fetcher:
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.get(server.url(f"/status/503?retry_after={quote(header)}"))
    assert caught.value.retry_after is None


def test_parse_retry_after_against_a_fixed_clock() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 90, usegmt=True)
    assert parse_retry_after(date, now=now) == 90.0
    assert parse_retry_after(" 42 ", now=now) == 42.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0


@given(st.text(max_size=40))
def test_parse_retry_after_is_none_or_within_a_day(text: str) -> None:
    result = parse_retry_after(text, now=1_700_000_000.0)
    assert result is None or 0.0 <= result <= 86400.0


# --- size caps ---------------------------------------------------------------------------------


async def test_gzip_bomb_is_stopped_at_the_cap_without_inflating_it(
    server: HostileServer, gzip_bomb: bytes
) -> None:
    assert len(gzip_bomb) < 64 * 1024  # 512 MiB of zeros behind a few KiB on the wire
    server.respond("/bomb", headers=[("Content-Encoding", "gzip, gzip")], body=gzip_bomb)
    async with fetcher_for(server, max_body_bytes=MIB) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError, match="after decompression"):
                await fetcher.get(server.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 32 * MIB


def test_gzip_bomb_builder_makes_valid_double_gzip() -> None:
    small = build_gzip_bomb(2)
    assert gzip.decompress(gzip.decompress(small)) == bytes(2 * MIB)


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzipped),
        ("x-gzip", gzipped),
        ("gzip, gzip", lambda data: gzipped(gzipped(data))),
        ("GZIP , Gzip", lambda data: gzipped(gzipped(data))),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib wrapper
        ("deflate, gzip", lambda data: gzipped(zlib.compress(data))),
        ("identity", lambda data: data),
        ("gzip, identity", gzipped),
        ("gzip", lambda data: gzipped(data[:100]) + gzipped(data[100:])),  # two members
    ],
)
async def test_content_encodings_are_decoded(
    server: HostileServer, coding: str, encode: object
) -> None:
    payload = FEED_BODY * 50
    server.respond("/encoded", headers=[("Content-Encoding", coding)], body=encode(payload))  # type: ignore[operator]
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/encoded"))
    assert response.body == payload


async def test_empty_gzip_body_is_empty(server: HostileServer) -> None:
    server.respond("/empty", headers=[("Content-Encoding", "gzip")], body=b"")
    async with fetcher_for(server) as fetcher:
        assert (await fetcher.get(server.url("/empty"))).body == b""


async def test_brotli_is_decoded_when_a_bounded_brotli_is_installed(
    server: HostileServer,
) -> None:
    brotli = pytest.importorskip("brotli")
    if not hasattr(brotli.Decompressor, "can_accept_more_data"):
        pytest.skip("brotli too old to bound its output; newsbot does not advertise br")
    payload = FEED_BODY * 50
    server.respond("/br", headers=[("Content-Encoding", "br")], body=brotli.compress(payload))
    bomb = brotli.compress(bytes(16 * MIB))
    server.respond("/br-bomb", headers=[("Content-Encoding", "br")], body=bomb)
    async with fetcher_for(server, max_body_bytes=MIB) as fetcher:
        assert (await fetcher.get(server.url("/br"))).body == payload
        with pytest.raises(ResponseTooLargeError):
            await fetcher.get(server.url("/br-bomb"))


@pytest.mark.parametrize("coding", ["compress", "zstd", "gzip, snappy"])
async def test_unsupported_content_encoding_is_a_network_error(
    server: HostileServer, coding: str
) -> None:
    server.respond("/odd", headers=[("Content-Encoding", coding)], body=b"whatever")
    async with fetcher_for(server) as fetcher:
        with pytest.raises(NetworkError, match="Content-Encoding"):
            await fetcher.get(server.url("/odd"))


async def test_corrupt_gzip_is_a_network_error(server: HostileServer) -> None:
    server.respond(
        "/corrupt", headers=[("Content-Encoding", "gzip")], body=b"\x1f\x8b" + b"\xff" * 64
    )
    async with fetcher_for(server) as fetcher:
        with pytest.raises(NetworkError, match="not valid gzip"):
            await fetcher.get(server.url("/corrupt"))


async def test_plain_body_over_the_cap_is_refused(server: HostileServer) -> None:
    server.respond("/declared", body=b"x" * (MIB + 1))
    server.respond("/undeclared", body=b"x" * (MIB + 1), declare_length=False)
    server.respond("/exact", body=b"x" * MIB, declare_length=False)
    async with fetcher_for(server, max_body_bytes=MIB) as fetcher:
        with pytest.raises(ResponseTooLargeError):
            await fetcher.get(server.url("/declared"))
        with pytest.raises(ResponseTooLargeError):
            await fetcher.get(server.url("/undeclared"))
        assert len((await fetcher.get(server.url("/exact"))).body) == MIB


@pytest.mark.parametrize("kib", [80, 200])
async def test_oversized_response_headers_are_refused(server: HostileServer, kib: int) -> None:
    async with fetcher_for(server) as fetcher:
        with pytest.raises(ResponseTooLargeError, match="headers"):
            await fetcher.get(server.url(f"/big-headers?kib={kib}"))


async def test_header_cap_is_configurable(server: HostileServer) -> None:
    async with fetcher_for(server, max_header_bytes=100) as fetcher:
        with pytest.raises(ResponseTooLargeError, match="limit is 100"):
            await fetcher.get(server.url("/feed"))


# --- time --------------------------------------------------------------------------------------


async def test_dripping_body_hits_the_total_deadline(server: HostileServer) -> None:
    async with fetcher_for(server, deadline=1.0) as fetcher:
        with pytest.raises(FetchTimeoutError, match="1-second deadline"):
            await fetcher.get(server.url("/drip?interval=0.1"))


async def test_dripping_headers_hit_the_total_deadline(server: HostileServer) -> None:
    async with fetcher_for(server, deadline=1.0) as fetcher:
        with pytest.raises(FetchTimeoutError):
            await fetcher.get(server.url("/drip-headers?interval=0.1"))


async def test_deadline_covers_redirect_hops(server: HostileServer) -> None:
    location = quote("/drip?interval=0.1")
    async with fetcher_for(server, deadline=1.0) as fetcher:
        with pytest.raises(FetchTimeoutError, match="redirected from"):
            await fetcher.get(server.url(f"/redirect-to?url={location}"))


async def test_silent_server_hits_the_read_timeout(server: HostileServer) -> None:
    async with fetcher_for(server, read_timeout=0.3, deadline=10.0) as fetcher:
        with pytest.raises(FetchTimeoutError, match="sent nothing"):
            await fetcher.get(server.url("/drip?interval=30"))


# --- network failures --------------------------------------------------------------------------


async def test_connection_refused_is_a_network_error() -> None:
    port = free_loopback_port()
    async with Fetcher(FetchLimits(allow_networks=(f"127.0.0.1:{port}",))) as fetcher:
        with pytest.raises(NetworkError, match=f"127.0.0.1:{port}"):
            await fetcher.get(f"http://127.0.0.1:{port}/feed")


async def test_unresolvable_name_is_a_network_error() -> None:
    async with Fetcher() as fetcher:
        with pytest.raises(NetworkError, match=r"no-such-feed\.invalid"):
            await fetcher.get("http://no-such-feed.invalid/rss")


async def test_server_hanging_up_is_a_network_error(server: HostileServer) -> None:
    async with fetcher_for(server) as fetcher:
        with pytest.raises(NetworkError):
            await fetcher.get(server.url("/hang-up"))


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def localhost_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for DNS name ``localhost`` only (no IP address)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
async def tls_server(
    localhost_certificate: tuple[Path, Path],
) -> AsyncIterator[tuple[HostileServer, list[str | None]]]:
    cert, key = localhost_certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server_names: list[str | None] = []
    context.sni_callback = lambda _socket, name, _context: server_names.append(name)
    async with HostileServer(ssl_context=context) as running:
        yield running, server_names


async def test_untrusted_certificate_is_a_network_error(
    tls_server: tuple[HostileServer, list[str | None]],
) -> None:
    server, server_names = tls_server
    async with fetcher_for(server) as fetcher:
        with pytest.raises(NetworkError, match="certificate"):
            await fetcher.get(server.url("/feed", host="localhost"))
    assert server_names == ["localhost"]  # we dialled 127.0.0.1 but sent the hostname


async def test_tls_verifies_the_hostname_while_dialling_the_checked_ip(
    tls_server: tuple[HostileServer, list[str | None]],
    localhost_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _ = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(localhost_certificate[0]))
    async with fetcher_for(server) as fetcher:
        response = await fetcher.get(server.url("/feed", host="localhost"))
        assert response.body == FEED_BODY
        with pytest.raises(NetworkError, match="certificate"):
            await fetcher.get(server.url("/feed"))  # 127.0.0.1 is not in the certificate


# --- concurrency -------------------------------------------------------------------------------


async def test_per_host_limit_caps_concurrent_requests(server: HostileServer) -> None:
    async with fetcher_for(server, max_per_host=2) as fetcher:
        responses = await asyncio.gather(
            *(fetcher.get(server.url("/slow?delay=0.1")) for _ in range(6))
        )
    assert all(response.status == 200 for response in responses)
    assert server.max_in_flight == 2


async def test_global_limit_caps_requests_across_hosts(server: HostileServer) -> None:
    async with fetcher_for(server, max_per_host=2, max_connections=1) as fetcher:
        urls = [server.url("/slow?delay=0.05", host=host) for host in ("127.0.0.1", "localhost")]
        await asyncio.gather(*(fetcher.get(url) for url in urls * 2))
    assert server.max_in_flight == 1


# --- configuration and seams -------------------------------------------------------------------


@pytest.mark.parametrize(
    "limits",
    [
        {"max_redirects": 6},
        {"max_redirects": -1},
        {"deadline": 0},
        {"connect_timeout": -1.0},
        {"max_body_bytes": 0},
        {"max_per_host": 0},
        {"user_agent": "two\r\nlines"},
        {"user_agent": "newsbot ✓"},
        {"user_agent": ""},
        {"allow_networks": ("127.0.0.1",)},
        {"allow_networks": ("localhost:80",)},
        {"allow_networks": ("10.0.0.1/8",)},
        {"allow_networks": "10.0.0.0/8"},
    ],
)
def test_bad_limits_raise_value_error(limits: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the field
        FetchLimits(**limits)  # type: ignore[arg-type]


def test_allow_networks_given_as_a_list_is_stored_as_a_tuple() -> None:
    limits = FetchLimits(allow_networks=["10.0.0.0/8", "127.0.0.1:8097"])  # type: ignore[arg-type]
    assert limits.allow_networks == ("10.0.0.0/8", "127.0.0.1:8097")


async def test_every_failure_is_a_fetch_error(server: HostileServer) -> None:
    paths = ["/status/500", "/redirect/9", "/big-headers?kib=200", "/hang-up"]
    async with fetcher_for(server) as fetcher:
        for path in paths:
            with pytest.raises(FetchError):
                await fetcher.get(server.url(path))


# --- keep-alive --------------------------------------------------------------------------------


class KeepAliveServer:
    """Answers any number of requests per connection (``/feed``: 200 or 304 by ETag); it may
    close each connection after ``close_after`` responses, without saying so, or (``time_out``)
    with an unasked "408 Request Timeout" as some servers do; or (``drop_reuse``) close the
    first connection reused as the next request arrives, unanswered."""

    def __init__(
        self, close_after: int | None = None, *, time_out: bool = False, drop_reuse: bool = False
    ) -> None:
        self.close_after = close_after
        self.time_out = time_out
        self.drop_reuse = drop_reuse
        self.connections = 0
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> KeepAliveServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        answered = 0
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while self.close_after is None or answered < self.close_after:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                self.requests += 1
                if self.drop_reuse and answered == 1:  # its keep-alive time ran out just now
                    self.drop_reuse = False
                    break
                if f"if-none-match: {FEED_ETAG.lower()}" in head:
                    writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {FEED_ETAG}\r\n\r\n".encode())
                else:
                    writer.write(
                        f"HTTP/1.1 200 OK\r\nETag: {FEED_ETAG}\r\n"
                        f"Content-Length: {len(FEED_BODY)}\r\n\r\n".encode()
                        + FEED_BODY
                    )
                await writer.drain()
                answered += 1
            if self.time_out:  # a moment later, leaving the connection open
                await asyncio.sleep(0.01)
                writer.write(b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n")
                await writer.drain()
                await reader.read()
        writer.close()


async def test_keep_alive_connections_are_reused_per_origin() -> None:
    async with KeepAliveServer() as server:
        allowed = (f"127.0.0.1:{server.port}",)
        async with Fetcher(FetchLimits(allow_networks=allowed, max_per_host=1)) as fetcher:
            first = await fetcher.get(server.url("/feed"))
            for _ in range(5):
                again = await fetcher.get(server.url("/feed"), etag=first.etag)
                assert again.not_modified
            assert server.connections == 1
            # Another spelling of the same address is another origin: its own connection,
            # made (and checked) anew.
            await fetcher.get(server.url("/feed", host="localhost"))
            assert server.connections == 2
    assert server.requests == 7


async def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    async with KeepAliveServer(close_after=1) as server:
        allowed = (f"127.0.0.1:{server.port}",)
        async with Fetcher(FetchLimits(allow_networks=allowed, max_per_host=1)) as fetcher:
            for _ in range(3):
                assert (await fetcher.get(server.url("/feed"))).body == FEED_BODY
    assert server.connections == 3
    assert server.requests == 3


async def test_a_connection_the_server_closes_as_it_is_reused_is_retried_on_a_new_one() -> None:
    async with KeepAliveServer(drop_reuse=True) as server:
        allowed = (f"127.0.0.1:{server.port}",)
        async with Fetcher(FetchLimits(allow_networks=allowed, max_per_host=1)) as fetcher:
            for _ in range(3):
                assert (await fetcher.get(server.url("/feed"))).body == FEED_BODY
    assert server.connections == 2
    assert server.requests == 4  # the dropped one was sent again


async def test_an_unasked_answer_sent_while_idle_is_never_taken_for_the_next_one() -> None:
    async with KeepAliveServer(close_after=1, time_out=True) as server:
        allowed = (f"127.0.0.1:{server.port}",)
        async with Fetcher(FetchLimits(allow_networks=allowed, max_per_host=1)) as fetcher:
            for _ in range(3):
                response = await fetcher.get(server.url("/feed"))
                assert response.body == FEED_BODY
                await asyncio.sleep(0.05)  # the 408 and the close arrive while it is idle
    assert server.connections == 3


@pytest.mark.parametrize("etag", ['"a\x01b"', '"a\x7fb"', " ", '"tab\t"'])
async def test_a_validator_http_cannot_carry_is_not_sent(etag: str) -> None:
    async with KeepAliveServer() as server:
        allowed = (f"127.0.0.1:{server.port}",)
        async with Fetcher(FetchLimits(allow_networks=allowed)) as fetcher:
            response = await fetcher.get(server.url("/feed"), etag=etag)
    assert response.body == FEED_BODY  # fetched in full, as if there were no validator


async def test_requests_on_a_kept_alive_connection_share_its_origin_only(
    server: HostileServer,
) -> None:
    # A redirect from a kept-alive origin to a refused one is checked when it connects.
    async with KeepAliveServer() as keep_alive:
        allowed = (f"127.0.0.1:{keep_alive.port}", server.endpoint)
        async with Fetcher(FetchLimits(allow_networks=allowed)) as fetcher:
            await fetcher.get(keep_alive.url("/feed"))
            with pytest.raises(BlockedAddressError):
                await fetcher.get(keep_alive.url("/feed", host="127.0.0.2"))
    assert keep_alive.connections == 1


async def test_many_origins_keep_their_idle_connections_side_by_side() -> None:
    # More origins than requests in flight: each origin's idle connection stays open for its
    # next request instead of making way for another origin's.
    hosts = ("127.0.0.1", "localhost", "127.1", "2130706433", "0x7f000001")
    async with KeepAliveServer() as server:
        limits = FetchLimits(
            allow_networks=(f"127.0.0.1:{server.port}",), max_connections=2, max_per_host=1
        )
        async with Fetcher(limits) as fetcher:
            for _ in range(3):
                await asyncio.gather(*(fetcher.get(server.url("/feed", host=h)) for h in hosts))
    assert server.connections == len(hosts)
    assert server.requests == 3 * len(hosts)
