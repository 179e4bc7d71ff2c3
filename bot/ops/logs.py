"""Log lines for machines: one JSON object per line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

__all__ = ["CONTEXT_FIELDS", "JsonFormatter"]

CONTEXT_FIELDS = ("feed_id", "guild_id", "channel_id", "delivery_id")
"""Ids a log call may pass with ``extra=`` that are copied into the JSON object."""


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message"}`` plus the context ids a record carries and,
    for an exception, its traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                document[name] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False, default=str)
