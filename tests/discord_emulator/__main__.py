"""Run the emulator by hand: ``python -m tests.discord_emulator --port 8090``.

Prints the environment variables to start ``newsbot run`` with, keeps a guild "Emulated
News" with a #general channel and a member "tester", and (unless ``--no-repl``) reads
slash commands from standard input, e.g. ``/brief`` or ``/search query:"climate"``, and
prints what the bot answers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import sys
import threading
from typing import Any

from .server import Emulator
from .waiting import EmulatorTimeoutError


def _parse_command(line: str) -> tuple[str, dict[str, Any]]:
    words = shlex.split(line.lstrip("/"))
    path = [w for w in words if ":" not in w]
    options: dict[str, Any] = {}
    for word in words:
        if ":" not in word:
            continue
        key, raw = word.split(":", 1)
        options[key] = _value(raw)
    return " ".join(path), options


def _value(raw: str) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(raw)
    return raw


async def _print_messages(emu: Emulator) -> None:
    while True:
        with contextlib.suppress(EmulatorTimeoutError):
            message = await emu.wait_for_message(timeout=3600)
            where = emu.channel(message.channel_id).name or "DM"
            flag = " (ephemeral)" if message.ephemeral else ""
            print(f"[#{where}{flag}] {message.all_text()}", flush=True)
            for attachment in message.attachments:
                print(f"  attachment {attachment.filename} ({attachment.size} bytes)", flush=True)


def _read_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str]) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(lines.put_nowait, line)
    loop.call_soon_threadsafe(lines.put_nowait, "")


async def _repl(emu: Emulator, user_id: int) -> None:
    lines: asyncio.Queue[str] = asyncio.Queue()
    # A daemon thread, so that Ctrl-C does not wait for a blocked readline.
    reader = threading.Thread(
        target=_read_lines, args=(asyncio.get_running_loop(), lines), daemon=True
    )
    reader.start()
    while True:
        line = await lines.get()
        if not line:
            return
        line = line.strip()
        if not line:
            continue
        try:
            name, options = _parse_command(line)
            await emu.invoke(name, options, user_id=user_id)
        except (LookupError, ValueError, TypeError, RuntimeError) as exc:
            print(f"! {exc}", flush=True)


async def _main(port: int, repl: bool) -> None:
    async with Emulator(port=port) as emu:
        guild = emu.add_guild(name="Emulated News")
        emu.add_text_channel(guild.id, "general")
        tester = emu.add_member(guild.id, username="tester")
        for key, value in emu.env.items():
            print(f"{key}={value}", flush=True)
        print(f"# guild {guild.id}, user tester {tester.user.id}; Ctrl-C to stop", flush=True)
        printer = asyncio.create_task(_print_messages(emu))
        try:
            if repl:
                await _repl(emu, tester.user.id)
            else:
                await asyncio.Event().wait()
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Discord API emulator for newsbot")
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    parser.add_argument("--no-repl", action="store_true", help="do not read commands from stdin")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args.port, not args.no_repl))


if __name__ == "__main__":
    main()
