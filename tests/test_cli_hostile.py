"""Hostile input to the newsbot command: each case is one clear line, never a traceback."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, write_config
from tests.support.feed_server import FeedServer
from tests.support.hostile_feeds import item, rss

pytestmark = pytest.mark.slow

SEED = REPO / "seeds" / "000_ca6e4b03c859531f.txt"
BODY = SEED.read_text(encoding="utf-8").split("\n", 1)[1]


def newsbot(
    args: list[str],
    *,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    timeout: float = 120,
    file_size_limit: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` with ``stdin`` as raw bytes; output as text. With
    ``file_size_limit``, no file grows past that many bytes (a real "disk full" for SQLite)."""

    def limit_files() -> None:
        if file_size_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEWSBOT_", "DISCORD_"))
    }
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        env=environment,
        cwd=REPO,
        timeout=timeout,
        check=False,
        preexec_fn=limit_files,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line on stderr (log lines aside)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("newsbot:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_bad_jsonl_lines_get_one_line_each_and_the_others_are_summarised(tmp_path: Path) -> None:
    good = json.dumps({"id": "good", "title": "Strikes", "text": BODY}).encode()
    lines = [
        good,
        b"[" * 100_000,  # RecursionError in json
        b'{"id": 1, "text": "a lone \\ud800 surrogate. And more."}',
        b'{"id": 2, "text": "\xff\xfe not utf-8"}',
        b'{"id": NaN, "text": "Not a number id. Second sentence."}',
        b'{"id": 1e999, "text": "Infinite id. Second sentence."}',
        good.replace(b'"good"', b'"also good"'),
    ]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    for where in (["--jsonl", str(source)], ["--jsonl", "-"]):
        result = newsbot(["summarize", *where], stdin=source.read_bytes())
        assert result.returncode == 1
        written = [json.loads(line) for line in result.stdout.splitlines()]
        assert [line["id"] for line in written] == ["good", "also good"]
        errors = result.stderr.strip().splitlines()
        assert "Traceback" not in result.stderr
        assert errors == [
            "newsbot: line 2: the JSON is nested too deeply",
            "newsbot: line 3: the text holds a lone surrogate escape (\\ud800-\\udfff)",
            "newsbot: line 4: not UTF-8 text (byte 20)",
            "newsbot: line 5: NaN is not valid JSON",
            "newsbot: line 6: Out of range float values are not JSON compliant",
        ]


def test_stdin_is_capped_and_binary_input_is_refused(tmp_path: Path) -> None:
    huge = newsbot(["summarize", "-"], stdin=b"Words here. " * 1_000_000)
    assert huge.returncode == 2
    assert one_line(huge) == "newsbot: config error in summarize: the input is larger than 10 MB"
    binary = bytes(range(256)) * 4096  # 1 MB
    for args, stdin in ((["-"], binary), ([str(tmp_path / "blob.bin")], b"")):
        (tmp_path / "blob.bin").write_bytes(binary)
        refused = newsbot(["summarize", *args], stdin=stdin)
        assert refused.returncode == 2
        assert one_line(refused).endswith("is binary, not text")
        assert refused.stdout == ""
    latin = newsbot(["summarize", "-"], stdin="Café à Paris. Deux phrases.".encode("latin-1"))
    assert one_line(latin) == (
        "newsbot: config error in summarize: stdin is not UTF-8 text (byte 4)"
    )


def test_a_long_jsonl_line_is_refused_alone(tmp_path: Path) -> None:
    long_line = json.dumps({"id": "long", "text": "Word. " * 2_000_000}).encode()
    short = json.dumps({"id": "short", "text": BODY}).encode()
    result = newsbot(["summarize", "--jsonl", "-"], stdin=long_line + b"\n" + short + b"\n")
    assert result.returncode == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["short"]
    assert one_line(result) == "newsbot: line 1: longer than 10 MB"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DISCORD_TOKEN": "abc\r\nX-Evil: 1"},
            "config error in DISCORD_TOKEN: contains a line break, space or control character",
        ),
        (
            {"DISCORD_TOKEN": "abc", "DISCORD_API_BASE": "http://[::1"},
            "config error in DISCORD_API_BASE: is not a valid URL: 'http://[::1'",
        ),
        (
            {"DISCORD_TOKEN": "abc", "DISCORD_API_BASE": "http://127.0.0.1:{closed}/api/v10"},
            "config error in DISCORD_API_BASE: cannot reach http://127.0.0.1:",
        ),
    ],
)
def test_run_with_a_bad_discord_setting_is_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    env = {key: value.replace("{closed}", str(closed_port())) for key, value in env.items()}
    env["NEWSBOT_DATA_DIR"] = str(tmp_path / "data")
    result = newsbot(["run"], env=env)
    assert result.returncode == 2
    assert one_line(result).startswith(f"newsbot: {expected}")


def test_run_against_an_api_that_never_answers_stops_within_the_connect_timeout(
    tmp_path: Path,
) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        base = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v10"
        env = {
            "DISCORD_TOKEN": "abc",
            "DISCORD_API_BASE": base,
            "NEWSBOT_FETCH__CONNECT_TIMEOUT": "2",
            "NEWSBOT_DATA_DIR": str(tmp_path / "data"),
        }
        result = newsbot(["run"], env=env, timeout=60)
    assert result.returncode == 2
    assert one_line(result) == (
        f"newsbot: config error in DISCORD_API_BASE: {base} did not answer within 2 seconds"
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("NEWSBOT_DATABASE_URL", "sqlite://", "the database URL 'sqlite://' names no file"),
        ("NEWSBOT_DATA_DIR", "{file}/data", "cannot create the database folder {file}/data"),
        (
            "NEWSBOT_DATABASE_URL",
            "sqlite:///{file}/sub/newsbot.db",
            "cannot create the database folder {file}/sub",
        ),
        # a parent no one may write in, root included (tests here run as root)
        ("NEWSBOT_DATA_DIR", "/proc/newsbot-data", "cannot create the database folder /proc/"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    env = {variable: value.replace("{file}", str(a_file)), "NEWSBOT_SOURCES": str(tmp_path)}
    result = newsbot(["brief"], env=env)
    assert result.returncode == 1
    assert one_line(result).startswith(f"newsbot: {expected.replace('{file}', str(a_file))}")
    assert "ERROR" not in result.stderr


def test_a_full_disk_during_fetch_is_one_line_and_reading_still_works(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/feed.xml", rss(item("Harbour bridge opens", "bridge")))
    workspace = write_config(
        tmp_path, urls=[feed_server.url("/feed.xml")], allow=[feed_server.allow_entry]
    )
    first = newsbot(["fetch"], env=workspace.env)
    assert first.returncode == 0, first.stderr
    secret = "Sentence of article text that must not be dumped. " * 40
    big = "".join(item(f"Story {n}", f"story-{n}", secret) for n in range(400))
    feed_server.add("/feed.xml", rss(big))
    room = workspace.database.stat().st_size + 16 * 1024
    full = newsbot(["fetch"], env=workspace.env, file_size_limit=room)
    assert full.returncode == 1
    assert full.stdout.strip().endswith(
        f"error: cannot write to the disk holding {workspace.database} (full or failing)"
    )  # EFBIG; a real full disk (ENOSPC, SQLITE_FULL) says "the disk holding ... is full"
    assert "Traceback" not in full.stderr and "must not be dumped" not in full.stderr
    brief = newsbot(["brief"], env=workspace.env)
    assert brief.returncode == 0 and "Harbour bridge opens" in brief.stdout
    again = newsbot(["fetch"], env=workspace.env)
    assert again.returncode == 0 and ": new: 400 new" in again.stdout
