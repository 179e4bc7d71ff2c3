"""The query language's AST as an SQLite FTS5 match expression."""

from __future__ import annotations

import re

from bot.core.query import And, Node, Not, Or, Phrase, Query, Source, Term

__all__ = ["fts5_expression"]

_WORD = re.compile(r"\w+")


def fts5_expression(query: Query) -> str | None:
    """An FTS5 expression matching at least every article ``query`` matches, or None when
    the index cannot narrow it (a query made only of ``source:`` filters).

    Words, phrases, ``AND``, ``OR`` and ``NOT`` translate exactly; a ``source:`` filter is
    not in the index, so it translates to "anything" and the caller checks it on the hits."""
    return _node(query.root)


def _node(node: Node) -> str | None:
    if isinstance(node, Term):
        return _quoted(_WORD.findall(node.word))
    if isinstance(node, Phrase):
        return _quoted([word for part in node.words for word in _WORD.findall(part)])
    if isinstance(node, Source):
        return None
    if isinstance(node, Or):
        sides = [_node(child) for child in node.children]
        if any(side is None for side in sides):
            return None
        return "(" + " OR ".join(side for side in sides if side) + ")"
    if isinstance(node, And):
        required = [
            expression
            for child in node.children
            if not isinstance(child, Not) and (expression := _node(child))
        ]
        excluded = [
            expression
            for child in node.children
            if isinstance(child, Not) and (expression := _node(child.child))
        ]
        if not required:
            return None  # FTS5 cannot say "everything but": the caller filters
        expression = "(" + " AND ".join(required) + ")"
        return expression + "".join(f" NOT {term}" for term in excluded)
    return None  # a lone NOT: the parser refuses it, and the index cannot say it


def _quoted(words: list[str]) -> str | None:
    return '"' + " ".join(words) + '"' if words else None
