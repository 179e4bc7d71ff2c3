"""Log lines for machines: one JSON object per line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

__all__ = ["CONTEXT_FIELDS", "JsonFormatter", "configure_logging"]

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


def configure_logging(level: str, log_format: str) -> None:
    """Log to stderr at ``level``, as text or (``json``) one JSON object per line; quiet the
    per-request chatter of httpx, alembic and APScheduler's executors."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # a line per run
