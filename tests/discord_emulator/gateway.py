"""The emulated gateway websocket: HELLO, IDENTIFY/READY, GUILD_CREATE, heartbeats, RESUME.

Shards as on Discord: IDENTIFY with ``shard: [shard_id, shard_count]`` opens that shard's
session (replacing only that shard's previous one); its READY and GUILD_CREATEs cover the
guilds ``(guild_id >> 22) % shard_count == shard_id``, and every guild event goes to the
session of the guild's shard. Events without a guild (DMs) go to shard 0. Without ``shard``
a session is shard 0 of 1.

Events are numbered per session and kept, so a RESUME after a dropped connection replays
what the bot missed, as Discord does. ``compress=zlib-stream`` (discord.py's default when
zstandard is not installed) is honoured with one zlib stream per connection, flushed with
Z_SYNC_FLUSH after every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .state import World
from .waiting import Notifier

__all__ = ["Gateway", "GatewayConnection", "GatewaySession", "Intent", "event_guild_id", "shard_of"]


class Intent:
    """Gateway intent bits the emulator looks at."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION = 6, 7, 8, 9
OP_HELLO, OP_HEARTBEAT_ACK = 10, 11
_REPLAY_LIMIT = 5000


def _compressor(kind: str | None) -> Callable[[bytes], bytes] | None:
    if kind is None:
        return None
    if kind == "zlib-stream":
        stream = zlib.compressobj()
        return lambda data: stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH)
    if kind == "zstd-stream":
        import zstandard  # only present when discord.py would ask for zstd itself

        zstd_stream = zstandard.ZstdCompressor().compressobj()
        return lambda data: (
            zstd_stream.compress(data) + zstd_stream.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        )
    raise ValueError(f"unsupported gateway compression {kind!r}")


@dataclass(eq=False)
class GatewayConnection:
    """One websocket connection from the bot."""

    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    query: dict[str, str]
    compression: str | None
    opened_at: float = field(default_factory=time.time)
    session: GatewaySession | None = None
    heartbeats: int = 0
    received_ops: list[int] = field(default_factory=list)
    identify: dict[str, Any] | None = None
    closed: bool = False
    close_code: int | None = None
    _compress: Callable[[bytes], bytes] | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def send(self, payload: dict[str, Any]) -> bool:
        """Send one gateway message; False when the connection is already gone."""
        data = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed or self.closed:
                return False
            try:
                if self._compress is None:
                    await self.ws.send_str(data)
                else:
                    await self.ws.send_bytes(self._compress(data.encode()))
            except (ConnectionError, RuntimeError):
                return False
        return True

    async def close(self, code: int, reason: str = "") -> None:
        """Close the websocket cleanly with a close code."""
        self.close_code = code
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=reason.encode())

    def abort(self) -> None:
        """Cut the TCP connection without a close frame."""
        self.close_code = 1006
        if self.transport is not None:
            self.transport.abort()  # type: ignore[attr-defined]


@dataclass(eq=False)
class GatewaySession:
    """A gateway session: identified once, resumable until invalidated."""

    id: str
    intents: int
    shard: list[int] | None
    token: str | None = None
    """The token it identified with (tests may give each process its own)."""
    seq: int = 0
    connection: GatewayConnection | None = None
    invalidated: bool = False
    resumes: int = 0
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=_REPLAY_LIMIT))

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Number, keep and (if connected) send one event; return its sequence number."""
        self.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.events.append(payload)
        if self.connection is not None:
            await self.connection.send(payload)
        return self.seq

    def wants(self, intent: int) -> bool:
        """True when the session identified with this intent."""
        return bool(self.intents & intent)

    @property
    def shard_id(self) -> int:
        """The shard this session holds (0 when unsharded)."""
        return int(self.shard[0]) if self.shard else 0

    @property
    def shard_count(self) -> int:
        """How many shards the bot said it has (1 when unsharded)."""
        return max(int(self.shard[1]), 1) if self.shard else 1


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % shard_count


class Gateway:
    """Accepts the bot's websocket connections and plays Discord's side of the protocol."""

    def __init__(
        self,
        world: World,
        notifier: Notifier,
        *,
        token_ok: Callable[[str | None], bool],
        resume_url: Callable[[], str],
        heartbeat_interval: float,
    ) -> None:
        self.world = world
        self.notifier = notifier
        self.token_ok = token_ok
        self.resume_url = resume_url
        self.heartbeat_interval = heartbeat_interval
        self.ack_heartbeats = True
        self.allowed_intents: int | None = None
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.shard_sessions: dict[int, GatewaySession] = {}
        """The current session of each shard id."""
        self.identify_count = 0
        self.resume_count = 0
        self.failed_resumes = 0
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------------ queries
    @property
    def session(self) -> GatewaySession | None:
        """The current session of shard 0 (the only one when the bot is not sharded)."""
        return self.shard_sessions.get(0) or next(iter(self.shard_sessions.values()), None)

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The current session that receives this guild's events (DMs: shard 0's)."""
        if guild_id is None:
            return self.shard_sessions.get(0)
        for session in self.shard_sessions.values():
            if shard_of(guild_id, session.shard_count) == session.shard_id:
                return session
        return None

    def _guild_ids(self, session: GatewaySession) -> list[int]:
        return [
            guild
            for guild in self.world.guilds
            if shard_of(guild, session.shard_count) == session.shard_id
        ]

    @property
    def connection(self) -> GatewayConnection | None:
        """The live connection of the current session, if any."""
        if self.session is None or self.session.connection is None:
            return None
        return self.session.connection

    # ------------------------------------------------------------------------ handler
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for GET /gateway (the websocket upgrade)."""
        encoding = request.query.get("encoding", "json")
        if encoding != "json":
            return web.json_response({"message": "only encoding=json is emulated"}, status=400)
        kind = request.query.get("compress")
        try:
            compress = _compressor(kind)
        except (ValueError, ImportError) as exc:
            return web.json_response({"message": str(exc)}, status=400)
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        transport = request.transport
        await ws.prepare(request)
        conn = GatewayConnection(ws, transport, dict(request.query), kind, _compress=compress)
        self.connections.append(conn)
        self.notifier.notify()
        try:
            hello = {"heartbeat_interval": int(self.heartbeat_interval * 1000), "_trace": ["emu"]}
            await conn.send({"op": OP_HELLO, "t": None, "s": None, "d": hello})
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    try:
                        decoded = json.loads(message.data)
                    except ValueError:
                        await conn.close(4002, "Decode error")
                        continue
                    await self._on_message(conn, decoded)
                elif message.type is WSMsgType.BINARY:
                    await conn.close(4002, "Decode error")
        finally:
            conn.closed = True
            if conn.close_code is None:
                conn.close_code = ws.close_code
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self.notifier.notify()
        return ws

    async def _on_message(self, conn: GatewayConnection, message: dict[str, Any]) -> None:
        op = message.get("op")
        data = message.get("d")
        conn.received_ops.append(op if isinstance(op, int) else -1)
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            if self.ack_heartbeats:
                await conn.send({"op": OP_HEARTBEAT_ACK, "t": None, "s": None, "d": None})
        elif op == OP_IDENTIFY:
            async with self._lock:
                await self._identify(conn, data or {})
        elif op == OP_RESUME:
            async with self._lock:
                await self._resume(conn, data or {})
        elif op == OP_REQUEST_MEMBERS:
            async with self._lock:
                await self._request_members(conn, data or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            pass
        else:
            await conn.close(4001, "Unknown opcode")
        self.notifier.notify()

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        conn.identify = data
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if not self.token_ok(data.get("token")):
            await conn.close(4004, "Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        allowed = self.allowed_intents
        if allowed is not None and intents & Intent.PRIVILEGED & ~allowed:
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard = data.get("shard")
        if shard is not None and not (
            isinstance(shard, list) and len(shard) == 2 and 0 <= int(shard[0]) < int(shard[1])
        ):
            await conn.close(4010, "Invalid shard.")
            return
        session = GatewaySession(
            id=uuid.uuid4().hex, intents=intents, shard=shard, token=data.get("token")
        )
        previous = self.shard_sessions.get(session.shard_id)
        if previous is not None:
            previous.invalidated = True
        self.sessions[session.id] = session
        self.shard_sessions[session.shard_id] = session
        session.connection = conn
        conn.session = session
        self.identify_count += 1
        world = self.world
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**world.bot_user.payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g), "unavailable": True} for g in self._guild_ids(session)],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url(),
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["emu"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await session.dispatch("READY", ready)
        all_members = session.wants(Intent.GUILD_MEMBERS)
        for guild_id in self._guild_ids(session):
            payload = world.guild_payload(world.guilds[guild_id], all_members=all_members)
            await session.dispatch("GUILD_CREATE", payload)

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        oldest = session.events[0]["s"] if session and session.events else 1
        if (
            session is None
            or session.invalidated
            or not self.token_ok(data.get("token"))
            or seq < oldest - 1
        ):
            self.failed_resumes += 1
            await conn.send({"op": OP_INVALID_SESSION, "t": None, "s": None, "d": False})
            return
        previous = session.connection
        session.connection = conn
        conn.session = session
        if previous is not None and previous is not conn:
            previous.session = None
            await previous.close(4000, "Session resumed elsewhere")
        for payload in list(session.events):
            if payload["s"] > seq:
                await conn.send(payload)
        session.resumes += 1
        self.resume_count += 1
        await session.dispatch("RESUMED", {"_trace": ["emu"]})

    async def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.session is None:
            await conn.close(4003, "Not authenticated.")
            return
        guild_ids = data.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        for guild_id in guild_ids:
            guild = self.world.guilds.get(int(guild_id))
            if guild is None:
                continue
            members = [
                self.world.member_payload(m)
                for m in guild.members.values()
                if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
            ]
            chunk: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [str(u) for u in wanted if u not in guild.members],
            }
            if data.get("nonce"):
                chunk["nonce"] = data["nonce"]
            await conn.session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -------------------------------------------------------------------- test controls
    async def dispatch(
        self, event: str, data: dict[str, Any], *, intent: int | None = None
    ) -> bool:
        """Send an event to the session of its guild's shard (queued for replay while
        disconnected); the guild is the event's ``guild_id``, or ``id`` for GUILD_* events.

        Returns False (and sends nothing) when there is no session or the session did not
        ask for ``intent``.
        """
        session = self.session_for(event_guild_id(event, data))
        if session is None or session.invalidated:
            return False
        if intent is not None and not session.wants(intent):
            return False
        async with self._lock:
            await session.dispatch(event, data)
        return True

    def shard_connected(self, shard_id: int) -> bool:
        """True while this shard's current session has a live websocket."""
        session = self.shard_sessions.get(shard_id)
        return session is not None and session.connection is not None

    async def drop(self, code: int | None = 4000) -> None:
        """Close the live connection (``code=None``: cut TCP without a close frame)."""
        conn = self.connection
        if conn is None:
            raise RuntimeError("the bot has no live gateway connection to drop")
        if conn.session is not None:
            conn.session.connection = None
        if code is None:
            conn.abort()
        else:
            await conn.close(code, "Closed by the test")
        self.notifier.notify()

    async def send_reconnect(self) -> None:
        """Ask the bot to reconnect and resume (opcode 7)."""
        conn = self.connection
        if conn is None:
            raise RuntimeError("the bot has no live gateway connection")
        await conn.send({"op": OP_RECONNECT, "t": None, "s": None, "d": None})

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION; unless ``resumable``, the session can no longer be resumed."""
        session = self.session
        if session is None:
            raise RuntimeError("the bot has not identified")
        if not resumable:
            session.invalidated = True
        if session.connection is not None:
            await session.connection.send(
                {"op": OP_INVALID_SESSION, "t": None, "s": None, "d": resumable}
            )

    async def close_all(self) -> None:
        """Close every open connection (emulator shutdown)."""
        for conn in self.connections:
            if not conn.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(1001, "Emulator shutting down"), 2.0)


def event_guild_id(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event belongs to, if any."""
    guild = data.get("id") if event in _GUILD_EVENTS else data.get("guild_id")
    return int(guild) if guild else None


_GUILD_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})
