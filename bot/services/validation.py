"""Bounds on user-supplied arguments, shared by every transport."""

from __future__ import annotations

from bot.core.errors import ValidationError

__all__ = ["MAX_HOURS", "MAX_QUERY_CHARS", "check_count", "check_hours", "check_query"]

MAX_HOURS = 24 * 30
MAX_COUNT = 25
MAX_QUERY_CHARS = 200


def check_hours(hours: int) -> int:
    """A time window in hours, 1 to 720."""
    if not 1 <= hours <= MAX_HOURS:
        raise ValidationError(f"hours must be between 1 and {MAX_HOURS}, got {hours}")
    return hours


def check_count(count: int) -> int:
    """A number of items to show, 1 to 25."""
    if not 1 <= count <= MAX_COUNT:
        raise ValidationError(f"count must be between 1 and {MAX_COUNT}, got {count}")
    return count


def check_query(query: str) -> str:
    """A search text: not blank, at most 200 characters."""
    stripped = query.strip()
    if not stripped:
        raise ValidationError("the search query is empty")
    if len(stripped) > MAX_QUERY_CHARS:
        raise ValidationError(f"the search query is longer than {MAX_QUERY_CHARS} characters")
    return stripped
