"""The ``newsbot`` command: run | console | brief | fetch | summarize."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from bot import __version__
from bot.app import (
    build_summarizer,
    configure_logging,
    open_services,
    refresh_configured,
    run_console,
    run_discord,
)
from bot.config import Settings, load_discord_settings, load_settings
from bot.core.errors import ConfigError, NewsbotError
from bot.core.models import FeedRefresh
from bot.pipeline.parse import parse_article_file
from bot.pipeline.summarize import Summarizer
from bot.render.text import render_briefing, render_summary

__all__ = ["main"]

_SURROGATE = re.compile(r"[\ud800-\udfff]")

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
MAX_INPUT_BYTES = 10 * 1024 * 1024
"""Largest article (file or stdin) and largest ``--jsonl`` line ``summarize`` reads."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsbot`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings)
    try:
        return args.handler(args, settings)
    except ConfigError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except NewsbotError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Self-hosted news bot: feeds in, summaries, briefings, search and alerts.",
    )
    parser.add_argument("--version", action="version", version=f"newsbot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the bot (Discord with DISCORD_TOKEN set, else the console channel)",
        description="With DISCORD_TOKEN set, start the Discord bot. Without it, refresh the "
        "configured sources, print a briefing, then answer console commands until end of input.",
    )
    run.set_defaults(handler=_run)

    console = commands.add_parser("console", help="an interactive prompt with the bot's commands")
    console.set_defaults(handler=_console)

    brief = commands.add_parser("brief", help="print the top stories of a time window")
    brief.add_argument("--topic", help="only stories matching these words")
    brief.add_argument("--hours", type=int, help="window length in hours (default from config)")
    brief.set_defaults(handler=_brief)

    fetch = commands.add_parser("fetch", help="refresh the configured feeds once")
    fetch.add_argument("urls", nargs="*", metavar="URL", help="only these configured feeds")
    fetch.set_defaults(handler=_fetch)

    summarize = commands.add_parser(
        "summarize",
        help="summarise an article file, a URL, stdin (-), or a JSONL file (--jsonl)",
    )
    summarize.add_argument("target", nargs="?", metavar="FILE|URL|-")
    summarize.add_argument(
        "--jsonl",
        metavar="IN",
        help='read {"id","title","text"} lines from IN (- for stdin), '
        'write {"id","summary":[...]} lines to stdout',
    )
    summarize.add_argument("--sentences", type=int, help="sentences per summary")
    summarize.set_defaults(handler=_summarize)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    discord_settings = load_discord_settings()
    if discord_settings is not None:
        asyncio.run(run_discord(settings, discord_settings))
        return EXIT_OK
    asyncio.run(run_console(settings, sys.stdin, sys.stdout, brief_first=True))
    return EXIT_OK


def _console(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(run_console(settings, sys.stdin, sys.stdout, brief_first=False))
    return EXIT_OK


def _brief(args: argparse.Namespace, settings: Settings) -> int:
    async def brief() -> str:
        async with open_services(settings) as services:
            briefing = await services.briefings.brief(topic=args.topic, hours=args.hours)
            return render_briefing(briefing)

    print(asyncio.run(brief()))
    return EXIT_OK


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    async def fetch() -> list[FeedRefresh]:
        async with open_services(settings) as services:
            return await refresh_configured(services, tuple(args.urls))

    results = asyncio.run(fetch())
    for result in results:
        print(_refresh_line(result))
    if not results:
        print("No feeds configured: add [[sources]] to the config file or set NEWSBOT_SOURCES.")
        return EXIT_OK
    failed = all(result.status == "error" for result in results)
    return EXIT_FAILURE if failed else EXIT_OK


def _refresh_line(result: FeedRefresh) -> str:
    where = f"{result.feed.name} ({result.feed.url})"
    if result.status == "error":
        return f"{where}: error: {result.error}"
    if result.status == "new":
        return f"{where}: new: {result.new_articles} new, {result.seen_articles} already stored"
    if result.status == "seen":
        return f"{where}: seen: {result.seen_articles} articles, all already stored"
    return f"{where}: {result.status}"


def _summarize(args: argparse.Namespace, settings: Settings) -> int:
    if args.sentences is not None:
        if not 1 <= args.sentences <= 10:
            raise ConfigError("--sentences", f"must be between 1 and 10, got {args.sentences}")
        settings = _with_sentences(settings, args.sentences)
    if args.jsonl:
        if args.target:
            raise ConfigError("summarize", "give either FILE|URL|- or --jsonl IN, not both")
        with _open_input(args.jsonl) as source:
            return _summarize_jsonl(build_summarizer(settings), source, sys.stdout.buffer)
    if not args.target:
        raise ConfigError("summarize", "give a FILE, a URL, - for stdin, or --jsonl IN")
    if args.target.lower().startswith(("http://", "https://")):
        return _summarize_url(settings, args.target)
    return _summarize_file(build_summarizer(settings), args.target)


def _with_sentences(settings: Settings, sentences: int) -> Settings:
    return replace(settings, summary=replace(settings.summary, sentences=sentences))


def _summarize_url(settings: Settings, url: str) -> int:
    async def summarize() -> str:
        async with open_services(settings) as services:
            page = await services.summaries.summarize_url(url)
            summary = page.summary
            return render_summary(page.title, page.url, summary.sentences, summary.sentence_count)

    print(asyncio.run(summarize()))
    return EXIT_OK


def _summarize_file(summarizer: Summarizer, target: str) -> int:
    if target == "-":
        title, text = "", _text(_read_capped(sys.stdin.buffer), "stdin")
    else:
        path = Path(target)
        if not path.is_file():
            raise ConfigError("summarize", f"no such file: {target}")
        try:
            with path.open("rb") as file:
                _text(_read_capped(file), target)
        except OSError as error:
            raise ConfigError("summarize", f"cannot read {target}: {error.strerror}") from None
        entry = parse_article_file(path)
        title, text = entry.title, entry.text
    if not text.strip():
        print("newsbot: nothing to summarise: the input is empty", file=sys.stderr)
        return EXIT_FAILURE
    summary = summarizer.summarize(text, title)
    print(render_summary(title, "", summary.sentences, summary.sentence_count))
    return EXIT_OK


def _read_capped(source: BinaryIO) -> bytes:
    data = source.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ConfigError("summarize", f"the input is larger than {MAX_INPUT_BYTES // 2**20} MB")
    return data


def _text(data: bytes, name: str) -> str:
    """``data`` as UTF-8 text; binary input (NUL bytes, invalid UTF-8) is refused."""
    if b"\0" in data:
        raise ConfigError("summarize", f"{name} is binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            "summarize", f"{name} is not UTF-8 text (byte {error.start + 1})"
        ) from None


def _summarize_jsonl(summarizer: Summarizer, source: BinaryIO, sink: BinaryIO) -> int:
    """One output line per good input line; one error line on stderr for each bad one."""
    failures = 0
    for number, line in enumerate(_lines(source), 1):
        if not line.strip():
            continue
        try:
            record = _record(line)
            summary = summarizer.summarize(record["text"], record["title"])
            answer = {"id": record["id"], "summary": list(summary.sentences)}
            sink.write(json.dumps(answer, ensure_ascii=False, allow_nan=False).encode() + b"\n")
        except ValueError as error:  # includes JSON and UTF-8 decoding errors
            failures += 1
            print(f"newsbot: line {number}: {error}", file=sys.stderr)
    sink.flush()
    return EXIT_FAILURE if failures else EXIT_OK


def _lines(source: BinaryIO) -> Iterator[bytes]:
    """The input's lines; one longer than ``MAX_INPUT_BYTES`` comes as ``b"\\0"``, which
    :func:`_record` refuses (the rest of it is skipped)."""
    while line := source.readline(MAX_INPUT_BYTES + 1):
        if len(line) > MAX_INPUT_BYTES and not line.endswith(b"\n"):
            while (rest := source.readline(MAX_INPUT_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield b"\0"
            continue
        yield line


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _record(line: bytes) -> dict[str, str | int | float | None]:
    """The ``id``, ``title`` and ``text`` of one JSONL line; ValueError says what is wrong."""
    if line == b"\0":
        raise ValueError(f"longer than {MAX_INPUT_BYTES // 2**20} MB")
    if b"\0" in line:
        raise ValueError("binary, not text")
    try:
        record = json.loads(line.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte {error.start + 1})") from None
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError('expected an object with a "text" string')
    identifier, title = record.get("id"), record.get("title") or ""
    if not isinstance(identifier, str | int | float | None):
        raise ValueError('"id" must be a string or a number')
    if not isinstance(title, str):
        raise ValueError('"title" must be a string')
    for value in (identifier, title, record["text"]):
        if isinstance(value, str) and _SURROGATE.search(value):
            raise ValueError("the text holds a lone surrogate escape (\\ud800-\\udfff)")
    return {"id": identifier, "title": title, "text": record["text"]}


def _open_input(name: str) -> BinaryIO:
    if name == "-":
        return open(sys.stdin.fileno(), "rb", closefd=False)
    try:
        return open(name, "rb")
    except OSError as error:
        raise ConfigError("--jsonl", f"cannot read {name}: {error.strerror}") from error
