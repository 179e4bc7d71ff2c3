"""The Discord adapter: the only package that imports discord."""

from bot.transports.discord.client import DiscordSettings, NewsBot, run_bot

__all__ = ["DiscordSettings", "NewsBot", "run_bot"]
