"""A prompt that takes ``/brief``, ``/latest``, ``/search``, ``/summarize`` and ``/help``."""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.core.errors import NewsbotError, ValidationError
from bot.core.ports import NoTelemetry, Telemetry
from bot.render.answers import render_answer, render_recap
from bot.render.text import render_articles, render_briefing, render_search, render_summary
from bot.services.ask import AskService
from bot.services.briefing import BriefingService
from bot.services.recap import RecapService
from bot.services.search import SearchService
from bot.services.summaries import SummaryService
from bot.transports.console.lines import InputLines

__all__ = ["HELP", "ConsoleChannel"]

log = logging.getLogger(__name__)

HELP = """Commands:
  /brief [topic] [hours]    top stories of the last hours (default 24), optionally on a topic
  /latest [source] [count]  the newest articles (default 5), optionally from one source
  /search QUERY             articles matching: words, "phrases", OR, NOT, source:host
  /summarize URL            fetch a web page and summarise it
  /recap QUERY [days]       a dated timeline of the matching story (default 7 days)
  /ask QUESTION [days]      sentences from stored articles that answer it, with sources
  /help                     this list
  /quit                     leave (so does Ctrl-D)"""

_PROMPT = "newsbot> "


class ConsoleChannel:
    """Reads commands line by line and writes their answers."""

    def __init__(
        self,
        briefings: BriefingService,
        search: SearchService,
        summaries: SummaryService,
        *,
        recap: RecapService | None = None,
        ask: AskService | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._briefings = briefings
        self._recap = recap
        self._ask = ask
        self._telemetry = telemetry or NoTelemetry()
        self._search = search
        self._summaries = summaries
        self._commands: dict[str, Callable[[list[str]], Awaitable[str]]] = {
            "brief": self._brief,
            "latest": self._latest,
            "search": self._search_command,
            "summarize": self._summarize,
            "recap": self._recap_command,
            "ask": self._ask_command,
            "help": self._help,
        }

    async def run(self, source: TextIO, sink: TextIO, *, prompt: bool) -> None:
        """Answer commands from ``source`` until end of input or ``/quit``; cancelling it
        (SIGTERM, SIGINT) stops it at once, even while it waits for input."""
        lines = InputLines(source)
        while True:
            if prompt:
                sink.write(_PROMPT)
                sink.flush()
            line = await lines.readline()
            if not line:
                if prompt:
                    sink.write("\n")
                return
            if line.strip() in ("/quit", "/exit"):
                return
            answer = await self.handle(line)
            if answer:
                sink.write(answer + "\n\n")
                sink.flush()

    async def handle(self, line: str) -> str:
        """The answer to one command line; errors become one explanatory line."""
        line = line.strip()
        if not line:
            return ""
        if not line.startswith("/"):
            return "Commands start with / (for example /brief). Type /help for the list."
        name, _, rest = line[1:].partition(" ")
        command = self._commands.get(name.lower())
        if command is None:
            return f"Unknown command /{name}. Type /help for the list."
        try:
            args = shlex.split(rest)
        except ValueError as error:
            return f"Cannot read the arguments: {error}."
        started, outcome = time.perf_counter(), "error"
        try:
            answer = await command(args)
            outcome = "ok"
            return answer
        except NewsbotError as error:
            return f"/{name}: {error}"
        except Exception:
            log.exception("console command failed: %s", line)
            return f"/{name} failed unexpectedly; the log has the details."
        finally:
            elapsed = time.perf_counter() - started
            self._telemetry.command_done(name.lower(), elapsed, outcome=outcome)

    async def _brief(self, args: list[str]) -> str:
        hours = None
        if args and args[-1].isdigit():
            hours = int(args.pop())
        topic = " ".join(args) or None
        return render_briefing(await self._briefings.brief(topic=topic, hours=hours))

    async def _latest(self, args: list[str]) -> str:
        count = 5
        if args and args[-1].isdigit():
            count = int(args.pop())
        source = " ".join(args) or None
        return render_articles(await self._search.latest(count=count, source=source))

    async def _search_command(self, args: list[str]) -> str:
        if not args:
            raise ValidationError("give something to search for, e.g. /search climate summit")
        query = _query_text(args)
        return render_search(query, await self._search.search(query))

    async def _recap_command(self, args: list[str]) -> str:
        if self._recap is None:
            raise ValidationError("/recap is not available here")
        days = int(args.pop()) if len(args) > 1 and args[-1].isdigit() else 7
        if not args:
            raise ValidationError('give a topic, e.g. /recap "drone attacks" OR militia 7')
        return render_recap(await self._recap.recap(_query_text(args), days))

    async def _ask_command(self, args: list[str]) -> str:
        if self._ask is None:
            raise ValidationError("/ask is not available here")
        days = int(args.pop()) if len(args) > 1 and args[-1].isdigit() else None
        if not args:
            raise ValidationError("ask a question, e.g. /ask who won the election")
        return render_answer(await self._ask.ask(" ".join(args), days))

    async def _summarize(self, args: list[str]) -> str:
        if len(args) != 1:
            raise ValidationError("give one URL, e.g. /summarize https://example.com/article")
        page = await self._summaries.summarize_url(args[0])
        summary = page.summary
        return render_summary(page.title, page.url, summary.sentences, summary.sentence_count)

    async def _help(self, args: list[str]) -> str:
        return HELP


def _query_text(args: list[str]) -> str:
    """The query as typed: arguments that held spaces were "quoted phrases"."""
    return " ".join(f'"{arg}"' if " " in arg else arg for arg in args)
