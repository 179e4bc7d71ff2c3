"""Shared fixtures: a loopback feed server, config files in temp dirs, the CLI as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.feed_server import FeedServer, serve
from tests.support.postgres import TestPostgres, start_test_postgres

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def no_nltk_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test, and every process a test starts, runs with an empty NLTK data folder."""
    empty = tmp_path_factory.mktemp("nltk_data")
    previous = os.environ.get("NLTK_DATA")
    os.environ["NLTK_DATA"] = str(empty)
    yield
    if previous is None:
        os.environ.pop("NLTK_DATA", None)
    else:
        os.environ["NLTK_DATA"] = previous


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    yield from serve()


@pytest.fixture(scope="session")
def test_postgres() -> Iterator[TestPostgres]:
    """A PostgreSQL server for the session (see :mod:`tests.support.postgres`); started only
    when a test asks for a PostgreSQL database."""
    server = start_test_postgres()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store on each engine: a new SQLite file in a folder that does not
    exist yet, or a fresh migrated PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sub' / 'news.db'}"
        return
    server: TestPostgres = request.getfixturevalue("test_postgres")
    url = server.new_database()
    yield url
    server.drop_database(url)


@dataclass
class Workspace:
    """A temp folder with a config file; ``env`` points newsbot at it."""

    root: Path
    config: Path

    @property
    def env(self) -> dict[str, str]:
        return {"NEWSBOT_CONFIG": str(self.config)}

    @property
    def database(self) -> Path:
        return self.root / "data" / "newsbot.db"


def write_config(
    root: Path,
    *,
    urls: Sequence[str] = (),
    folders: Sequence[Path] = (),
    allow: Sequence[str] = (),
    extra: str = "",
    full_text: Sequence[str] = (),
    deadline: float = 10.0,
) -> Workspace:
    """A config file in ``root`` with these sources and allowed networks."""
    lines = [
        'data_dir = "data"',
        'log_level = "WARNING"',
        "[fetch]",
        f"allow_networks = {list(allow)!r}".replace("'", '"'),
        f"deadline = {deadline}",
        extra,
    ]
    for url in urls:
        lines += ["[[sources]]", f'url = "{url}"']
        if url in full_text:
            lines.append("extract_full_text = true")
    for folder in folders:
        lines += ["[[sources]]", f'path = "{folder}"']
    config = root / "newsbot.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Workspace(root=root, config=config)


def run_newsbot(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdin: str = "",
    cwd: Path = REPO,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` as a separate process and capture its output."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEWSBOT_", "DISCORD_"))
    }
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
