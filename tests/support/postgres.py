"""A throwaway PostgreSQL for the tests, and a fresh migrated database for each test.

By default the session starts the PostgreSQL 16 that the ``pgserver`` wheel ships (on a Unix
socket in a folder of its own under the temp dir, with fsync off), and stops and deletes it at
the end. ``NEWSBOT_TEST_DATABASE_URL`` (a SQLAlchemy URL such as
``postgresql+psycopg://user:password@host:5432/postgres`` of a role that may create
databases) points the suite at an existing server instead.

Each test's database is a copy of a template migrated once per session (``CREATE DATABASE ...
TEMPLATE``), dropped after the test. A run that was killed leaves its server and databases
behind; the next run stops and removes those first (their owner process is gone).
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg
from sqlalchemy.engine import URL, make_url

from bot.storage.sql import SqlStore

__all__ = ["TestPostgres", "start_test_postgres"]

TEST_DATABASE_URL = "NEWSBOT_TEST_DATABASE_URL"
_ROOT = Path(tempfile.gettempdir()) / "newsbot-test-postgres"
_PREFIX = "newsbot_test_"


class TestPostgres:
    """A PostgreSQL server the session may create and drop databases on."""

    __test__ = False  # not a test class, despite its name

    def __init__(self, admin_url: URL, stop: Callable[[], None] | None = None) -> None:
        self._admin = admin_url
        self._stop = stop
        self._session = f"{_PREFIX}{os.getpid()}_"
        self._numbers = itertools.count()
        self._drop_leftovers()
        self._template = self._session + "template"
        self._execute(f'CREATE DATABASE "{self._template}"')
        SqlStore.open(self.url_of(self._template)).close()  # the schema, by the real migrations

    def url_of(self, database: str) -> str:
        """The SQLAlchemy URL of one database on this server."""
        url = self._admin.set(drivername="postgresql+psycopg", database=database)
        return url.render_as_string(hide_password=False)

    def new_database(self, *, migrated: bool = True) -> str:
        """A fresh database with the newest schema (or, not ``migrated``, none); its URL."""
        name = f"{self._session}{next(self._numbers)}"
        template = f' TEMPLATE "{self._template}"' if migrated else ""
        self._execute(f'CREATE DATABASE "{name}"{template}')
        return self.url_of(name)

    def drop_database(self, url: str) -> None:
        """Drop a database :meth:`new_database` made (closing its leftover connections)."""
        name = make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop this session's databases, and stop the server if the session started it."""
        if self._stop is not None:
            self._stop()
            return
        for name in self._databases(lambda owner: owner == os.getpid()):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _drop_leftovers(self) -> None:
        for name in self._databases(lambda owner: not _is_running(owner)):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _databases(self, owned: Callable[[int], bool]) -> list[str]:
        """Test databases whose session's process id passes ``owned``."""
        with self._connect() as connection:
            names = [
                row[0]
                for row in connection.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s",
                    [_PREFIX.replace("_", r"\_") + "%"],
                )
            ]
        owners = {name: name.removeprefix(_PREFIX).split("_", 1)[0] for name in names}
        return [name for name, owner in owners.items() if owner.isdigit() and owned(int(owner))]

    def _execute(self, statement: str) -> None:
        with self._connect() as connection:
            connection.execute(statement)  # type: ignore[arg-type]

    def _connect(self) -> psycopg.Connection:
        conninfo = self._admin.set(drivername="postgresql").render_as_string(hide_password=False)
        return psycopg.connect(conninfo, autocommit=True)


def start_test_postgres() -> TestPostgres:
    """The server of ``NEWSBOT_TEST_DATABASE_URL``, or a new pgserver one for this session."""
    given = os.environ.get(TEST_DATABASE_URL)
    if given:
        return TestPostgres(make_url(given))
    _remove_dead_servers()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
        import pgserver

    folder = _ROOT / str(os.getpid())
    folder.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(folder / "data", cleanup_mode="delete")

    def stop() -> None:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)

    admin = make_url(server.get_uri())
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            connection.execute(f"ALTER SYSTEM SET {setting} = off")  # type: ignore[arg-type]
        connection.execute("SELECT pg_reload_conf()")
    return TestPostgres(admin, stop)


def _remove_dead_servers() -> None:
    """Stop and delete the servers of test sessions whose process is gone (killed runs)."""
    if not _ROOT.is_dir():
        return
    for folder in _ROOT.iterdir():
        if not folder.name.isdigit() or _is_running(int(folder.name)):
            continue
        pid_file = folder / "data" / "postmaster.pid"
        if pid_file.is_file():
            lines = pid_file.read_text().splitlines()
            if lines and lines[0].strip().isdigit():
                _stop_postmaster(int(lines[0]), folder)
        shutil.rmtree(folder, ignore_errors=True)


def _stop_postmaster(pid: int, folder: Path) -> None:
    """An immediate shutdown (SIGQUIT) of the postmaster serving ``folder``, if it still runs,
    waiting a few seconds for it to go."""
    try:
        process = psutil.Process(pid)
        if process.name() != "postgres" or str(folder) not in " ".join(process.cmdline()):
            return  # the process id was reused
        process.send_signal(signal.SIGQUIT)
    except psutil.Error:
        return
    deadline = time.monotonic() + 10
    while _is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
