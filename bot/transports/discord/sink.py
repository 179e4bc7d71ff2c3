"""Deliveries to Discord: channel messages and DMs, with the outbox row's nonce."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord

from bot.core.errors import DeliveryError
from bot.transports.discord.follow_button import follow_view
from bot.transports.discord.messages import NO_MENTIONS

__all__ = ["DiscordSink"]

_PERMANENT_CODES = {
    10003: "unknown channel",
    10013: "unknown user",
    50001: "missing access",
    50007: "the member does not accept direct messages",
    50013: "missing permissions",
    10008: "the message was deleted",
}


class DiscordSink:
    """:class:`bot.core.ports.MessageSink` on a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def send(
        self,
        recipient_type: str,
        recipient_id: int,
        content: str,
        embeds: Sequence[Mapping[str, Any]],
        nonce: str,
        *,
        follow: str | None = None,
    ) -> str:
        await self._client.wait_until_ready()
        extra = {"view": follow_view(follow)} if follow else {}
        async with _discord_errors(recipient_type, recipient_id):
            destination = await self._destination(recipient_type, recipient_id)
            message = await destination.send(
                content or None,
                embeds=[discord.Embed.from_dict(dict(embed)) for embed in embeds],
                nonce=nonce,
                allowed_mentions=NO_MENTIONS,
                **extra,
            )
        return str(message.id)

    async def edit(
        self,
        recipient_type: str,
        recipient_id: int,
        message_id: str,
        content: str,
        embeds: Sequence[Mapping[str, Any]],
    ) -> None:
        await self._client.wait_until_ready()
        async with _discord_errors(recipient_type, recipient_id):
            destination = await self._destination(recipient_type, recipient_id)
            if not hasattr(destination, "get_partial_message"):
                raise DeliveryError(
                    f"cannot edit in {recipient_type} {recipient_id}", permanent=True
                )
            partial = destination.get_partial_message(int(message_id))
            await partial.edit(
                content=content or None,
                embeds=[discord.Embed.from_dict(dict(embed)) for embed in embeds],
                allowed_mentions=NO_MENTIONS,
            )

    async def _destination(self, recipient_type: str, recipient_id: int) -> discord.abc.Messageable:
        if recipient_type == "user":
            user = self._client.get_user(recipient_id) or await self._client.fetch_user(
                recipient_id
            )
            return user.dm_channel or await user.create_dm()
        channel = self._client.get_channel(recipient_id) or await self._client.fetch_channel(
            recipient_id
        )
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryError(f"channel {recipient_id} cannot hold messages", permanent=True)
        return channel


@asynccontextmanager
async def _discord_errors(recipient_type: str, recipient_id: int) -> AsyncIterator[None]:
    """Discord's refusals as :class:`DeliveryError`: permanent for a recipient or message
    that is gone or out of reach, transient otherwise."""
    try:
        yield
    except (discord.Forbidden, discord.NotFound) as error:
        reason = _PERMANENT_CODES.get(error.code, error.text or str(error.status))
        raise DeliveryError(
            f"Discord refused the message to {recipient_type} {recipient_id}: {reason}",
            permanent=True,
        ) from error
    except discord.HTTPException as error:
        raise DeliveryError(f"Discord answered {error.status}: {error.text}") from error
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        raise DeliveryError(f"could not reach Discord: {error}") from error
