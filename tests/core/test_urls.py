"""Canonical URLs: one article, one URL, whatever tracking the link carried."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.urls import article_id, canonical_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://News.Example.COM/Story", "https://news.example.com/Story"),
        ("http://news.example:80/a", "http://news.example/a"),
        ("https://news.example:443/a", "https://news.example/a"),
        ("https://news.example:8443/a", "https://news.example:8443/a"),
        ("https://news.example/a#comments", "https://news.example/a"),
        ("https://news.example", "https://news.example/"),
        (
            "https://news.example/a?utm_source=x&utm_medium=y&id=7&fbclid=abc&gclid=1&mc_cid=2",
            "https://news.example/a?id=7",
        ),
        ("https://news.example/a?page=2&id=7", "https://news.example/a?id=7&page=2"),
        ("https://news.example/search?q=", "https://news.example/search?q="),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
    ],
)
def test_canonical_form(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_tracking_variants_share_one_id() -> None:
    a = canonical_url("https://news.example/solar?utm_source=rss&utm_medium=feed")
    b = canonical_url("HTTPS://NEWS.example/solar?fbclid=IwAR0&utm_campaign=share#top")
    assert a == b
    assert article_id(a) == article_id(b)
    assert len(article_id(a)) == 16


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
_param = st.tuples(
    st.sampled_from(["id", "page", "utm_source", "fbclid", "q", "mc_eid", "lang"]), _segment
)


@given(
    scheme=st.sampled_from(["http", "HTTP", "https"]),
    host=st.lists(_segment, min_size=1, max_size=3).map(".".join),
    path=st.lists(_segment, max_size=3).map("/".join),
    params=st.lists(_param, max_size=5),
    fragment=st.one_of(st.none(), _segment),
)
def test_canonicalisation_is_idempotent_and_drops_tracking(
    scheme: str, host: str, path: str, params: list[tuple[str, str]], fragment: str | None
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = f"{scheme}://{host}.example/{path}" + (f"?{query}" if query else "")
    url += f"#{fragment}" if fragment else ""
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "#" not in once
    assert "utm_" not in once and "fbclid" not in once and "mc_eid" not in once
    assert once.startswith(scheme.lower() + "://")
