"""Making untrusted feed text safe to show in Discord.

Everything built from feeds, pages and user input goes through here before it reaches a
message or an embed. The transport also sends ``AllowedMentions.none()``; this is the second
layer, so that text neither pings nor *looks* like a ping, a link or markup it is not.

How text is neutralised (``safe_text``):

- Invisible and control characters are removed: C0/C1 controls (newlines kept, tabs become
  spaces), every format character (Unicode category Cf: bidi embeddings, overrides and isolates
  U+202A–U+202E and U+2066–U+2069, marks U+200E/U+200F/U+061C, zero-width U+200B–U+200D, U+2060,
  U+FEFF, soft hyphens, tag characters) and lone surrogates. Emoji joined with U+200D fall apart
  into their parts; that is the price of removing the zero-width tricks.
- Markdown is escaped with backslashes, which Discord removes when it renders (its escape rule
  takes any ASCII punctuation after ``\\``): ``\\ * _ ~ | ` [ <`` everywhere, and ``# > - +``
  and ``1.`` list numbers at the start of a line (headings, ``-#`` subtext, block quotes, lists).
  An escaped ``[`` can never open a masked link, so ``[https://bank.example](https://evil.example)``
  shows as typed (a lone ``]`` means nothing, so it is left alone). An escaped ``<`` can never
  open ``<@id>``, ``<@&id>``, ``<#id>``, ``</cmd:id>``, ``<:emoji:id>`` or ``<t:…>`` (timestamps
  too: feed text should not show a date in the reader's time zone that the feed did not write).
- Bare ``http(s)://`` links stay clickable: inside them nothing is backslash-escaped (Discord takes
  the whole link as one token, backslashes included), and ``[`` is percent-encoded instead.
  Because Discord's link token runs up to the next space or ``<``, a link directly followed by
  ``<`` gets a space in between, so the link cannot swallow the backslash that escapes the ``<``.
- ``@everyone``, ``@here`` and ``@`` before a user or role id get a ZERO WIDTH SPACE (U+200B)
  right after the ``@``, as ``discord.utils.escape_mentions`` does; a backslash would hide the
  highlight in the client, but the raw text would still read as a mention to anything parsing it.
  These inserted U+200B are the only invisible characters in the output, always directly after
  an ``@``.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "URL_LIMIT",
    "safe_excerpt",
    "safe_line",
    "safe_plain",
    "safe_text",
    "safe_title",
    "safe_url",
    "truncate_sentences",
]

URL_LIMIT = 2048
"""The longest URL we hand to Discord."""

_ELLIPSIS = "…"
_PREFIX_SLACK = 32
_MENTION_GUARD = "\u200b"

_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_LINE_END_SPACES = re.compile(r"(?<![ \t])[ \t]+\n")  # from a run's start: linear
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_WHITESPACE = re.compile(r"\s+")
# Discord's own link pattern (as discord.utils mirrors it): a run up to whitespace or "<",
# not ending in punctuation that usually closes a sentence.
_LINK = re.compile(r"(?:https?|steam)://[^\s<]+[^<.,:;\"')\]\s]")
_LINK_BEFORE_ANGLE = re.compile(r"((?:https?|steam)://[^\s<]+)(?=<)")
_MARKDOWN = re.compile(r"([\\*_~|`\[<])")
_LINE_START_MARKUP = re.compile(r"^([ ]*)([#>+\-])", re.MULTILINE)
_LINE_START_NUMBER = re.compile(r"^([ ]*\d+)\.(?=\s|$)", re.MULTILINE)
_MENTION = re.compile(r"@(?=everyone|here|[!&]?\d)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…](?:[\"'”’»)]|\\?\])*(?=\s)")
_TRAILING_BACKSLASHES = re.compile(r"(?<!\\)\\+$")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?")
_URL_SAFE = "!$&'()*+,;=:@/?-._~%"
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def safe_text(text: str) -> str:
    """Feed text for a message or an embed description: no pings, no markup, no hidden
    characters; newlines kept (at most one blank line in a row)."""
    return _neutralise(_clean(text))


def safe_line(text: str, limit: int | None = None) -> str:
    """``safe_text`` on one line, not cut. With ``limit``, a huge ``text`` is sanitised from a
    prefix only: the result is then exact in its first ``limit`` characters and longer than
    ``limit``, so ``len(safe_line(text, n)) <= n`` tells whether the whole text fits in ``n``."""
    if limit is None:
        return _neutralise(_one_line(_clean(text)))
    return _line_prefix(text, limit, _neutralise)


def safe_title(text: str, limit: int = 256) -> str:
    """``safe_text`` on one line, cut at a word boundary with "…" to fit ``limit``."""
    return _shorten_words(_line_prefix(text, limit, _neutralise), limit)


def safe_excerpt(text: str, limit: int) -> str:
    """``safe_text`` on one line, cut to ``limit`` like ``truncate_sentences``."""
    return truncate_sentences(_line_prefix(text, limit, _neutralise), limit)


def safe_plain(text: str, limit: int) -> str:
    """Text for places Discord shows verbatim (embed footer text, author name): one line, no
    hidden characters, no mention syntax, cut to ``limit``; markdown is left alone, because
    Discord does not render it there and escapes would show as backslashes."""
    return _shorten_words(_line_prefix(text, limit, _guard_mentions), limit)


def safe_url(url: str) -> str | None:
    """An ``http``/``https`` URL with a host that is safe to link, or None.

    Rejected: other schemes (``javascript:``, ``data:``, ``file:``, ``vbscript:``, ...), no host,
    credentials (``https://bank.example@evil.example``), backslashes, whitespace or control
    characters, a bad port, more than ``URL_LIMIT`` characters. Accepted URLs come back with the
    scheme and host lowercased, an internationalised host in IDNA form, and characters that do
    not belong in a URL percent-encoded.
    """
    url = url.strip()
    if not url or len(url) > URL_LIMIT or "\\" in url:
        return None
    if any(ch.isspace() or unicodedata.category(ch) in _DROPPED_CATEGORIES for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc:
        return None
    host = _ascii_host(parts.hostname or "")
    if host is None:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    path, query, fragment = (
        _BAD_PERCENT.sub("%25", quote(part, safe=_URL_SAFE))
        for part in (parts.path, parts.query, parts.fragment)
    )
    safe = urlunsplit((parts.scheme.lower(), netloc, path, query, fragment))
    return safe if len(safe) <= URL_LIMIT else None


def truncate_sentences(text: str, limit: int) -> str:
    """``text`` if it fits ``limit``; otherwise cut after the last sentence that fits, or, when
    that would keep less than half of ``limit``, at a word boundary with "…"."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    best = 0
    for match in _SENTENCE_END.finditer(text, 0, limit + 1):
        if match.end() <= limit:
            best = match.end()
    if best >= limit // 2:
        return _drop_dangling_backslash(text[:best].rstrip())
    return _shorten_words(text, limit)


def _clean(text: str) -> str:
    text = _NEWLINES.sub("\n", text).replace("\t", " ")
    text = "".join(
        ch for ch in text if ch == "\n" or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
    text = _LINE_END_SPACES.sub("\n", text)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def _line_prefix(text: str, limit: int, finish: Callable[[str], str]) -> str:
    """``finish`` applied to ``text`` on one line, computed on a prefix of ``text`` long enough
    to give the same first ``limit`` characters (only the last few characters of a prefix can
    differ from the whole: a link or a mention cut in two), so huge inputs cost little."""
    size = 2 * limit + 64
    while True:
        line = finish(_one_line(_clean(text[:size])))
        if size >= len(text) or len(line) > limit + _PREFIX_SLACK:
            return line
        size *= 4


def _one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _neutralise(text: str) -> str:
    text = _LINK_BEFORE_ANGLE.sub(r"\1 ", text)
    pieces = []
    position = 0
    for link in _LINK.finditer(text):
        pieces.append(_MARKDOWN.sub(r"\\\1", text[position : link.start()]))
        pieces.append(link.group().replace("[", "%5B"))
        position = link.end()
    pieces.append(_MARKDOWN.sub(r"\\\1", text[position:]))
    text = "".join(pieces)
    text = _LINE_START_MARKUP.sub(r"\1\\\2", text)
    text = _LINE_START_NUMBER.sub(r"\1\\.", text)
    return _guard_mentions(text)


def _guard_mentions(text: str) -> str:
    return _MENTION.sub("@" + _MENTION_GUARD, text)


def _shorten_words(text: str, limit: int) -> str:
    """``text`` if it fits, else cut at the last space that keeps at least half, plus "…"."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    room = limit - len(_ELLIPSIS)
    cut = text[:room]
    if not text[room].isspace():
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space >= room // 2:
            cut = cut[:space]
    return _drop_dangling_backslash(cut.rstrip()) + _ELLIPSIS


def _drop_dangling_backslash(text: str) -> str:
    """Without a final unpaired backslash, which would escape whatever follows."""
    match = _TRAILING_BACKSLASHES.search(text)
    if match and len(match.group()) % 2:
        return text[:-1]
    return text


def _ascii_host(host: str) -> str | None:
    host = host.rstrip(".")
    if not host:
        return None
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError:
            return None
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return host if _HOST.fullmatch(host) else None
