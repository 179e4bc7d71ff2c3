"""Does a database answer? Asked by ``newsbot health`` from outside the running process,
so it neither creates nor migrates anything."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

__all__ = ["database_problem"]


def database_problem(url: str, *, timeout: float = 5.0) -> str | None:
    """None when the database at ``url`` answers a query, else why not, in a few words."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "database URL is invalid"
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:" or not Path(database).is_file():
            return f"no database file at {database or '(none)'}"
        connect_args: dict[str, object] = {"timeout": timeout}
    else:
        connect_args = {"connect_timeout": max(int(timeout), 1)}
    engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(select(1)).scalar_one()
    except SQLAlchemyError as error:
        reason = str(error.orig if getattr(error, "orig", None) else error).splitlines()[0]
        return f"database unreachable: {reason}"
    finally:
        engine.dispose()
    return None
