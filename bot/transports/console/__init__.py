"""The terminal channel: the Discord bot's commands, typed at a prompt."""

from bot.transports.console.channel import ConsoleChannel

__all__ = ["ConsoleChannel"]
