"""The newsbot command as a user runs it: a separate process, real files, loopback feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, run_newsbot, write_config
from tests.support.feed_server import FeedServer

pytestmark = pytest.mark.slow

SEED = REPO / "seeds" / "000_ca6e4b03c859531f.txt"


def seed_sentences() -> list[str]:
    from bot.pipeline.summarize import article_paragraphs

    body = SEED.read_text(encoding="utf-8").split("\n", 1)[1]
    return [sentence for paragraph in article_paragraphs(body) for sentence in paragraph]


def test_run_without_token_briefs_the_seed_and_exits(tmp_path: Path) -> None:
    result = run_newsbot(["run"], env={"NEWSBOT_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Nothing new in the last 24 hours; the latest stories instead:" in out
    assert "U.S. forces conducted airstrikes" in out
    sentences = seed_sentences()
    shown = [s for s in sentences if s in " ".join(out.split())]
    assert 1 <= len(shown) < len(sentences)
    assert f"of {len(sentences)} sentences" in out
    assert (tmp_path / "data" / "newsbot.db").is_file()


def test_fetch_twice_reports_not_modified(tmp_path: Path, feed_server: FeedServer) -> None:
    paths = ["/rss2.xml", "/atom.xml", "/feed.json"]
    for path in paths:
        feed_server.add_fixture(path, "feeds" + path)
    workspace = write_config(
        tmp_path, urls=[feed_server.url(p) for p in paths], allow=[feed_server.allow_entry]
    )
    first = run_newsbot(["fetch"], env=workspace.env)
    assert first.returncode == 0, first.stderr
    assert [line.split(": ")[1] for line in first.stdout.splitlines()] == ["new"] * 3
    second = run_newsbot(["fetch"], env=workspace.env)
    assert second.returncode == 0, second.stderr
    assert [line.split(": ", 1)[1] for line in second.stdout.splitlines()] == ["not modified"] * 3
    assert [hit.status for p in paths for hit in feed_server.hits(p)] == [200, 304] * 3


def test_fetch_fails_only_when_every_feed_fails(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    bad = feed_server.url("/gone.xml")
    workspace = write_config(
        tmp_path, urls=[bad, feed_server.url("/rss2.xml")], allow=[feed_server.allow_entry]
    )
    mixed = run_newsbot(["fetch"], env=workspace.env)
    assert mixed.returncode == 0
    assert f"({bad}): error: HTTP 404" in mixed.stdout
    only_bad = run_newsbot(["fetch", bad], env=workspace.env)
    assert only_bad.returncode == 1
    assert only_bad.stdout.count("error") == 1


def test_tracking_variants_are_briefed_once(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    feed_server.add_fixture("/atom.xml", "feeds/atom.xml")
    workspace = write_config(
        tmp_path,
        urls=[feed_server.url("/rss2.xml"), feed_server.url("/atom.xml")],
        allow=[feed_server.allow_entry],
    )
    assert run_newsbot(["fetch"], env=workspace.env).returncode == 0
    brief = run_newsbot(["brief"], env=workspace.env)
    assert brief.returncode == 0, brief.stderr
    assert brief.stdout.count(feed_server.url("/news/solar-farm")) == 1
    assert brief.stdout.startswith("Briefing: 3 stories")


def test_brief_options(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.add_fixture("/rss2.xml", "feeds/rss2.xml")
    workspace = write_config(
        tmp_path, urls=[feed_server.url("/rss2.xml")], allow=[feed_server.allow_entry]
    )
    run_newsbot(["fetch"], env=workspace.env)
    result = run_newsbot(["brief", "--topic", "rail strike", "--hours", "6"], env=workspace.env)
    assert result.returncode == 0
    assert result.stdout.startswith("Briefing: 1 story about “rail strike”, last 6 hours")
    bad = run_newsbot(["brief", "--hours", "0"], env=workspace.env)
    assert bad.returncode == 1
    assert bad.stderr.strip() == "newsbot: hours must be between 1 and 720, got 0"


def test_console_commands_from_stdin(tmp_path: Path) -> None:
    result = run_newsbot(
        ["console"],
        env={"NEWSBOT_DATA_DIR": str(tmp_path / "data")},
        stdin="/latest 1\n/search airstrikes\n/oops\n",
    )
    assert result.returncode == 0, result.stderr
    assert "- U.S. forces conducted airstrikes" in result.stdout
    assert "1 result for “airstrikes”" in result.stdout
    assert "Unknown command /oops" in result.stdout


def test_summarize_file_and_stdin(tmp_path: Path) -> None:
    from_file = run_newsbot(["summarize", str(SEED)])
    assert from_file.returncode == 0, from_file.stderr
    total = len(seed_sentences())
    assert from_file.stdout.strip().endswith(f"(3 of {total} sentences)")
    text = SEED.read_text(encoding="utf-8").split("\n", 1)[1]
    from_stdin = run_newsbot(["summarize", "-"], stdin=text)
    assert from_stdin.returncode == 0
    assert from_stdin.stdout.strip().endswith(f"(3 of {total} sentences)")
    missing = run_newsbot(["summarize", str(tmp_path / "nope.txt")])
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_summarize_jsonl(tmp_path: Path) -> None:
    body = SEED.read_text(encoding="utf-8").split("\n", 1)[1]
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "title": "Strikes", "text": body})
        + "\n"
        + "not json\n"
        + json.dumps({"id": 7, "title": "", "text": "One short sentence only."})
        + "\n",
        encoding="utf-8",
    )
    result = run_newsbot(["summarize", "--jsonl", str(source), "--sentences", "2"])
    assert result.returncode == 1  # one bad line, reported, the rest still written
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a", 7]
    assert len(lines[0]["summary"]) == 2
    assert all(s in " ".join(body.split()) for s in lines[0]["summary"])
    assert lines[1]["summary"] == ["One short sentence only."]
    assert "line 2" in result.stderr


def test_empty_discord_token_is_one_line_and_status_2(tmp_path: Path) -> None:
    result = run_newsbot(
        ["run"], env={"NEWSBOT_DATA_DIR": str(tmp_path / "data"), "DISCORD_TOKEN": " "}
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "newsbot: config error in DISCORD_TOKEN: is set but empty; unset it to use the console"
    ]


DAILY_MAIL = REPO / "tests" / "fixtures" / "dailymail"
DAILY_MAIL_FURNITURE = (
    "By ",
    "Mailonline",
    "Daily Mail Reporter",
    "PUBLISHED",
    "UPDATED",
    "Published:",
    "Updated:",
    " EST",
    " BST",
    "Scroll down",
    "pictured",
    "Lucky find",
    "Lucky escape",
    "(left)",
    "What happens next",
    "Share this article",
)


def test_console_briefing_of_daily_mail_articles_shows_no_page_furniture(tmp_path: Path) -> None:
    workspace = write_config(tmp_path, folders=[DAILY_MAIL])
    result = run_newsbot(["console"], env=workspace.env, stdin="/brief\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "A 40-metre construction crane toppled onto the playground" in out
    assert "A retired postman who found a winning lottery ticket" in out
    assert out.startswith("Briefing: 2 stories")
    for furniture in DAILY_MAIL_FURNITURE:
        assert furniture not in out, furniture
