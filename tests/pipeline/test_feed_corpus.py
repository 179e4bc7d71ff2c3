"""On the shared feed corpus (skipped when absent): feedparser's own 2,248 test documents and
about 100 real-world captures. Each parses or fails with ParseError; none crashes or hangs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.core.errors import ParseError
from bot.pipeline.parse import MAX_ENTRIES, MAX_TEXT_CHARS, TITLE_LIMIT, parse_feed

REPO = Path(__file__).resolve().parents[2]
HANG_SECONDS = 10.0
"""A hang detector, not a speed target: the slowest file parses in well under a second."""


def corpus() -> Path:
    for folder in (REPO.parent / "shared" / "data" / "feeds", Path("/work/shared/data/feeds")):
        if (folder / "manifest.jsonl").is_file():
            return folder
    pytest.skip("shared feed corpus not found")


def test_every_corpus_file_parses_or_fails_cleanly() -> None:
    folder = corpus()
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]
    parsed = refused = 0
    crashed: list[str] = []
    hung: list[str] = []
    for record in manifest:
        body = (folder / record["path"]).read_bytes()
        started = time.process_time()
        try:
            feed = parse_feed(
                body,
                url="http://127.0.0.1:8097/tests/" + record["path"],
                headers=record.get("http_headers") or {},
            )
        except ParseError:
            refused += 1
        except Exception as error:  # any other exception is the failure
            crashed.append(f"{record['path']}: {type(error).__name__}: {error}")
        else:
            parsed += 1
            assert len(feed.entries) <= MAX_ENTRIES
            for entry in feed.entries:
                assert len(entry.title) <= TITLE_LIMIT
                assert len(entry.text) <= MAX_TEXT_CHARS
        if time.process_time() - started > HANG_SECONDS:
            hung.append(record["path"])
    assert crashed == []
    assert hung == []
    assert parsed + refused == len(manifest) > 2000
    # feedparser finds entries in all but a few dozen; we read at least as many documents.
    assert parsed >= len(manifest) - 60
