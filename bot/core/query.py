"""The parsed form of newsbot's one query language (``/search``, ``/recap``, ``/ask``,
``/subscribe``): a canonical AST. ``bot.pipeline.query`` parses text into it and matches it
against articles; storage backends translate it into their full-text syntax."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["And", "Node", "Not", "Or", "Phrase", "Query", "Source", "Term"]


@dataclass(frozen=True, slots=True)
class Term:
    """One word, lowercased as typed (stemmed only when matching)."""

    word: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more words that must appear consecutively."""

    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Source:
    """``source:value``: a host (or parent domain) or words of the source's name."""

    value: str


@dataclass(frozen=True, slots=True)
class Not:
    """Matches when ``child`` does not."""

    child: Node


@dataclass(frozen=True, slots=True)
class And:
    """Matches when every child does; at least two children, flattened, sorted."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Matches when any child does; at least two children, flattened, sorted."""

    children: tuple[Node, ...]


Node = Term | Phrase | Source | Not | And | Or


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed, canonical query."""

    root: Node

    def has_source(self) -> bool:
        """True when a ``source:`` filter appears anywhere in the query."""
        pending: list[Node] = [self.root]
        while pending:
            node = pending.pop()
            if isinstance(node, Source):
                return True
            if isinstance(node, Not):
                pending.append(node.child)
            elif isinstance(node, And | Or):
                pending.extend(node.children)
        return False
