"""A minimal discord.py bot configured like newsbot (env variables), run as a subprocess by the
emulator's own tests: ``python -m tests.discord_emulator.example_bot``."""

from __future__ import annotations

import asyncio
import os

import discord
import yarl
from discord.ext import commands


class ExampleBot(commands.Bot):
    """Syncs one global command, /echo."""

    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())

        @self.tree.command()
        async def echo(interaction: discord.Interaction, text: str) -> None:
            """Say something back."""
            await interaction.response.send_message(
                text, allowed_mentions=discord.AllowedMentions.none()
            )

    async def setup_hook(self) -> None:
        await self.tree.sync()


async def main() -> None:
    """Point discord.py at DISCORD_API_BASE / DISCORD_GATEWAY_URL and run until killed."""
    discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
    async with ExampleBot() as bot:
        await bot.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    asyncio.run(main())
