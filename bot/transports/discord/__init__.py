"""The Discord adapter: the only package that imports discord."""

from bot.transports.discord.client import NewsBot, build_bot, run_bot, run_rest_only
from bot.transports.discord.sink import DiscordSink

__all__ = ["DiscordSink", "NewsBot", "build_bot", "run_bot", "run_rest_only"]
