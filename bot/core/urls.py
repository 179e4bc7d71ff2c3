"""Canonical article URLs and the stable ids derived from them."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["article_id", "canonical_url", "host_name", "is_tracking_parameter"]

_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "igsh",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "wt.mc_id",
        "wt_mc",
        "s_cid",
        "ncid",
        "ocid",
        "cmpid",
        "sr_share",
        "ref_src",
        "ref_url",
        "spm",
        "__twitter_impression",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "icid",
    }
)
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "hsa_", "itm_", "ga_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_parameter(name: str) -> bool:
    """True for query parameters that only track the reader (utm_*, fbclid, gclid, mc_* ...)."""
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Lowercase scheme and host, no default port, no fragment, no tracking parameters.

    Meaningful query parameters are kept, sorted so that their order does not matter.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if host else host
    except UnicodeError:
        host = host.lower()
    host = host.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = parts.path or ("/" if netloc else "")
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_parameter(name)
    )
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def article_id(key: str) -> str:
    """A stable 16-hex-digit id for an article key (its canonical URL, or a GUID)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def host_name(url: str) -> str:
    """The host of a URL without ``www.``, for naming a source; the URL itself if it has none."""
    return (urlsplit(url).hostname or url).removeprefix("www.")
