"""The ``newsbot`` command: run | console | brief | fetch | summarize | health."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from bot import __version__
from bot.config import Settings, load_discord_settings, load_settings
from bot.core.errors import ConfigError, NewsbotError
from bot.ops.logs import configure_logging

if TYPE_CHECKING:
    from bot.core.models import FeedRefresh
    from bot.pipeline.summarize import Summarizer

__all__ = ["main"]

# Modules that load the pipeline (sumy, numpy, trafilatura, ...) are imported by the commands
# that use them, so `newsbot health` (a container health check) starts in a fraction of a second.

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
_T = TypeVar("_T")


class StoppedBySignal(Exception):  # noqa: N818 (a stop, not an error)
    """A one-shot command was stopped by a signal; ``status`` is its exit status."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.status = 128 + signum


def _run_async(main: Coroutine[Any, Any, _T]) -> _T:
    """Run a one-shot command's coroutine; SIGTERM or SIGINT stop it cleanly."""
    from bot.app import run_until_stopped

    result, signum = run_until_stopped(main)
    if signum is not None:
        raise StoppedBySignal(signum)
    return result  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``newsbot`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level, settings.log.format)
    try:
        return args.handler(args, settings)
    except ConfigError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except NewsbotError as error:
        print(f"newsbot: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except StoppedBySignal as stop:
        return stop.status
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

    health = commands.add_parser(
        "health",
        help="exit 0 when the running newsbot's heartbeat is fresh and its database answers",
        description="For container health checks: reads the heartbeat the running process "
        "writes to the data folder, then asks the database for an answer.",
    )
    health.set_defaults(handler=_health)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import run_console, run_discord, run_until_stopped

    discord_settings = load_discord_settings()
    if discord_settings is not None:
        run_until_stopped(run_discord(settings, discord_settings))
        return EXIT_OK
    run_until_stopped(run_console(settings, sys.stdin, sys.stdout, brief_first=True))
    return EXIT_OK


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import run_console, run_until_stopped

    run_until_stopped(run_console(settings, sys.stdin, sys.stdout, brief_first=False))
    return EXIT_OK


def _brief(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_services
    from bot.render.text import render_briefing

    async def brief() -> str:
        async with open_services(settings) as services:
            briefing = await services.briefings.brief(topic=args.topic, hours=args.hours)
            return render_briefing(briefing)

    print(_run_async(brief()))
    return EXIT_OK


def _fetch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import open_services, refresh_configured

    async def fetch() -> list[FeedRefresh]:
        async with open_services(settings) as services:
            with _progress_bar("feeds") as progress:
                return await refresh_configured(services, tuple(args.urls), progress=progress)

    results = _run_async(fetch())
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
    from bot.app import build_summarizer

    if args.sentences is not None:
        if not 1 <= args.sentences <= 10:
            raise ConfigError("--sentences", f"must be between 1 and 10, got {args.sentences}")
        settings = _with_sentences(settings, args.sentences)
    if args.jsonl:
        if args.target:
            raise ConfigError("summarize", "give either FILE|URL|- or --jsonl IN, not both")
        with _open_input(args.jsonl) as source:
            return _summarize_jsonl(build_summarizer(settings), source, sys.stdout)
    if not args.target:
        raise ConfigError("summarize", "give a FILE, a URL, - for stdin, or --jsonl IN")
    if args.target.lower().startswith(("http://", "https://")):
        return _summarize_url(settings, args.target)
    return _summarize_file(build_summarizer(settings), args.target)


def _with_sentences(settings: Settings, sentences: int) -> Settings:
    return replace(settings, summary=replace(settings.summary, sentences=sentences))


def _summarize_url(settings: Settings, url: str) -> int:
    from bot.app import open_services
    from bot.render.text import render_summary

    async def summarize() -> str:
        async with open_services(settings) as services:
            page = await services.summaries.summarize_url(url)
            summary = page.summary
            return render_summary(page.title, page.url, summary.sentences, summary.sentence_count)

    print(_run_async(summarize()))
    return EXIT_OK


def _summarize_file(summarizer: Summarizer, target: str) -> int:
    from bot.pipeline.parse import parse_article_file
    from bot.render.text import render_summary

    if target == "-":
        title, text = "", sys.stdin.read()
    else:
        path = Path(target)
        if not path.is_file():
            raise ConfigError("summarize", f"no such file: {target}")
        entry = parse_article_file(path)
        title, text = entry.title, entry.text
    if not text.strip():
        print("newsbot: nothing to summarise: the input is empty", file=sys.stderr)
        return EXIT_FAILURE
    summary = summarizer.summarize(text, title)
    print(render_summary(title, "", summary.sentences, summary.sentence_count))
    return EXIT_OK


def _summarize_jsonl(summarizer: Summarizer, source: TextIO, sink: TextIO) -> int:
    failures = 0
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise ValueError('expected an object with a "text" string')
            title = record.get("title") or ""
            summary = summarizer.summarize(record["text"], str(title))
        except ValueError as error:
            failures += 1
            print(f"newsbot: line {number}: {error}", file=sys.stderr)
            continue
        sink.write(
            json.dumps(
                {"id": record.get("id"), "summary": list(summary.sentences)}, ensure_ascii=False
            )
            + "\n"
        )
    return EXIT_FAILURE if failures else EXIT_OK


def _open_input(name: str) -> TextIO:
    if name == "-":
        return open(sys.stdin.fileno(), encoding="utf-8", closefd=False)
    try:
        return open(name, encoding="utf-8")
    except OSError as error:
        raise ConfigError("--jsonl", f"cannot read {name}: {error.strerror}") from error


@contextmanager
def _progress_bar(unit: str) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr, shown only when stderr is a terminal; updated as (done, total)."""
    from tqdm import tqdm

    bar = tqdm(
        total=0, unit=f" {unit}", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False
    )

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _health(args: argparse.Namespace, settings: Settings) -> int:
    from bot.ops.health import STALE_AFTER_BEATS, heartbeat_path, read_heartbeat
    from bot.storage.probe import database_problem

    path = heartbeat_path(settings.data_dir)
    beat = read_heartbeat(path)
    if beat is None:
        print(f"unhealthy: no heartbeat at {path} (is newsbot running here?)")
        return EXIT_FAILURE
    age = (datetime.now(UTC) - beat.at).total_seconds()
    if age > STALE_AFTER_BEATS * beat.every_seconds:
        every = beat.every_seconds
        print(f"unhealthy: the last heartbeat is {age:.0f} s old (one every {every:g} s)")
        return EXIT_FAILURE
    if beat.problems:
        print(f"unhealthy: {'; '.join(beat.problems)}")
        return EXIT_FAILURE
    problem = database_problem(settings.effective_database_url)
    if problem:
        print(f"unhealthy: {problem}")
        return EXIT_FAILURE
    print(f"healthy: heartbeat {age:.0f} s ago (pid {beat.pid}), the database answers")
    return EXIT_OK
