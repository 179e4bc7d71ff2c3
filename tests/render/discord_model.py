"""A small model of how Discord reads message text, for checking what the sanitiser produces.

Discord (simple-markdown) reads left to right: a bare link (``https://`` up to whitespace or
``<``, not ending in closing punctuation) is one opaque token, backslashes included; a backslash
before any ASCII punctuation escapes it; everything else is *active* and may start markup. The
model tries a link at every position, which is at least as eager as Discord, so it sees every
backslash a link could swallow.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "INVISIBLE_ALLOWED",
    "active_characters",
    "hidden_character_problems",
    "markup_problems",
]

_LINK = re.compile(r"(?:https?|steam)://[^\s<]+[^<.,:;\"')\]\s]")
_ESCAPABLE = re.compile(r"[^0-9A-Za-z\s]")
_LINE_NUMBER = re.compile(r"[ ]*\d+\.(?:\s|$)")
INVISIBLE_ALLOWED = "\u200b"
"""The one invisible character the sanitiser inserts, always right after an "@"."""

_ALWAYS_MARKUP = set("[<*_~|`\\")
_LINE_START_MARKUP = set("#>-+")


def active_characters(text: str) -> dict[int, str]:
    """Positions and characters Discord would read as possible markup."""
    active: dict[int, str] = {}
    index = 0
    while index < len(text):
        link = _LINK.match(text, index)
        if link:
            index = link.end()
            continue
        if text[index] == "\\" and index + 1 < len(text) and _ESCAPABLE.match(text[index + 1]):
            index += 2
            continue
        active[index] = text[index]
        index += 1
    return active


def markup_problems(text: str) -> list[str]:
    """Everything in ``text`` that would ping, link or format: empty when it reads as text."""
    problems = []
    if re.search(r"@(?:everyone|here)", text, re.IGNORECASE):
        problems.append("@everyone/@here")
    if re.search(r"<@[!&]?\d+>", text):
        problems.append("raw user/role mention")
    active = active_characters(text)
    for index, char in active.items():
        if char in _ALWAYS_MARKUP:
            problems.append(f"active {char!r} at {index}")
    line_start = 0
    for line in text.split("\n"):
        stripped = len(line) - len(line.lstrip(" "))
        first = line_start + stripped
        if first in active and active[first] in _LINE_START_MARKUP:
            problems.append(f"line starts with active {active[first]!r}")
        number = _LINE_NUMBER.match(line)
        if number:
            dot = line_start + number.group().index(".")
            if dot in active:
                problems.append("line starts a numbered list")
        line_start += len(line) + 1
    return problems


def hidden_character_problems(text: str) -> list[str]:
    """Control, format (bidi, zero-width) and surrogate characters, except an inserted U+200B
    right after "@"."""
    problems = []
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if char == INVISIBLE_ALLOWED and index > 0 and text[index - 1] == "@":
            continue
        if char == "\n":
            continue
        if category in ("Cc", "Cf", "Cs"):
            problems.append(f"U+{ord(char):04X} at {index}")
    return problems
