"""The emulated REST API under /api/v10: routing, auth, faults, rate-limit headers, handlers."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import mimetypes
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from .gateway import Intent
from .interactions import CallbackType, InteractionCallback, InteractionType, RecordedInteraction
from .state import (
    Attachment,
    Channel,
    ChannelType,
    CommandSync,
    Guild,
    MessageFlag,
    Perm,
    RecordedMessage,
)
from .validation import (
    ERROR_MESSAGES,
    DiscordError,
    validate_autocomplete_choices,
    validate_commands,
    validate_message,
)

if TYPE_CHECKING:
    from .server import Emulator

__all__ = ["Fault", "RecordedRequest", "RestApi"]

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the bot made to the emulator, and the status it got."""

    method: str
    path: str
    route: str
    query: dict[str, str]
    body: Any
    files: tuple[str, ...]
    status: int
    at: float
    fault: bool = False


@dataclass(eq=False)
class Fault:
    """An injected failure for requests matching ``method`` and ``path``.

    ``path`` is a glob on the concrete path (``/channels/*/messages``) or a route template
    (``/channels/{channel_id}/messages``). ``times=None`` fails forever. With
    ``after_processing`` the request takes effect (e.g. the message is created) and only
    then the error is returned, like a timeout between Discord's write and its answer.
    """

    method: str
    path: str
    status: int
    code: int | None = None
    times: int | None = 1
    retry_after: float = 0.25
    is_global: bool = False
    after_processing: bool = False
    message: str | None = None
    hits: int = 0

    def matches(self, method: str, path: str, route: str) -> bool:
        """True when this fault applies to the request and still has uses left."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method not in ("*", method):
            return False
        if "{" in self.path:
            return self.path == route
        return fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        """True once the fault was used ``times`` times."""
        return self.times is not None and self.hits >= self.times


@dataclass(frozen=True)
class _Upload:
    index: int
    filename: str
    data: bytes
    content_type: str | None


@dataclass
class _Call:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    uploads: list[_Upload]


@dataclass
class _Reply:
    status: int = 200
    body: Any = None


Handler = Callable[[_Call], Awaitable[_Reply]]


@dataclass
class _Route:
    method: str
    template: str
    handler: Handler
    needs_auth: bool = True
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        self.pattern = re.compile(f"^{regex}$")


class RestApi:
    """Discord's REST API as the bot uses it, with recording and fault injection."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.world = emulator.world
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.routes = self._routes()

    # ------------------------------------------------------------------------ plumbing
    def _routes(self) -> list[_Route]:
        app = "/applications/{application_id}"
        hook = "/webhooks/{application_id}/{token}"
        table = [
            ("GET", "/gateway", self.get_gateway, False),
            ("GET", "/gateway/bot", self.get_gateway_bot, True),
            ("GET", "/users/@me", self.get_me, True),
            ("POST", "/users/@me/channels", self.create_dm, True),
            ("GET", "/users/{user_id}", self.get_user, True),
            ("GET", "/oauth2/applications/@me", self.get_application, True),
            ("GET", "/applications/@me", self.get_application, True),
            ("GET", f"{app}/commands", self.get_commands, True),
            ("PUT", f"{app}/commands", self.put_commands, True),
            ("POST", f"{app}/commands", self.post_command, True),
            ("GET", f"{app}/commands/{{command_id}}", self.get_command, True),
            ("DELETE", f"{app}/commands/{{command_id}}", self.delete_command, True),
            ("GET", f"{app}/guilds/{{guild_id}}/commands/permissions", self.no_permissions, True),
            ("GET", f"{app}/guilds/{{guild_id}}/commands", self.get_commands, True),
            ("PUT", f"{app}/guilds/{{guild_id}}/commands", self.put_commands, True),
            ("POST", f"{app}/guilds/{{guild_id}}/commands", self.post_command, True),
            ("GET", f"{app}/guilds/{{guild_id}}/commands/{{command_id}}", self.get_command, True),
            (
                "DELETE",
                f"{app}/guilds/{{guild_id}}/commands/{{command_id}}",
                self.delete_command,
                True,
            ),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.callback, False),
            ("POST", hook, self.execute_webhook, False),
            ("GET", f"{hook}/messages/{{message_id}}", self.get_webhook_message, False),
            ("PATCH", f"{hook}/messages/{{message_id}}", self.edit_webhook_message, False),
            ("DELETE", f"{hook}/messages/{{message_id}}", self.delete_webhook_message, False),
            ("GET", "/channels/{channel_id}", self.get_channel, True),
            ("GET", "/channels/{channel_id}/messages", self.get_messages, True),
            ("POST", "/channels/{channel_id}/messages", self.create_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message, True),
            ("POST", "/channels/{channel_id}/typing", self.typing, True),
            ("GET", "/guilds/{guild_id}", self.get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels, True),
            ("GET", "/guilds/{guild_id}/roles", self.get_guild_roles, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member, True),
        ]
        return [_Route(method, path, handler, auth) for method, path, handler, auth in table]

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str], bool]:
        path_known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            path_known = True
            if route.method == method:
                return (
                    route,
                    {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()},
                    True,
                )
        return None, {}, path_known

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for everything under /api/v{n}/."""
        path = "/" + request.match_info["tail"]
        method = request.method
        route, params, path_known = self._match(method, path)
        template = route.template if route else path
        query = dict(request.query)
        try:
            body, uploads = await _read_body(request)
        except DiscordError as error:
            return self._finish(method, path, template, query, None, [], error.status, error.body())
        if route is None:
            status = 405 if path_known else 404
            reply_body = {
                "message": f"{status}: {'Method Not Allowed' if path_known else 'Not Found'}",
                "code": 0,
            }
            response = self._finish(
                method, path, template, query, body, uploads, status, reply_body
            )
            self.unhandled.append(self.requests[-1])
            return response
        if route.needs_auth and not self._authorized(request):
            return self._finish(
                method, path, template, query, body, uploads, 401, DiscordError(0).body()
            )
        fault = next((f for f in self.faults if f.matches(method, path, template)), None)
        if fault is not None:
            fault.hits += 1
            if not fault.after_processing:
                return self._fault_response(fault, method, path, template, query, body, uploads)
        try:
            reply = await route.handler(_Call(method, path, params, query, body, uploads))
        except DiscordError as error:
            reply = _Reply(error.status, error.body())
        self.emu.notifier.notify()
        if fault is not None:
            return self._fault_response(fault, method, path, template, query, body, uploads)
        return self._finish(method, path, template, query, body, uploads, reply.status, reply.body)

    async def serve_attachment(self, request: web.Request) -> web.StreamResponse:
        """GET /attachments/{channel_id}/{attachment_id}/{filename}: the uploaded bytes."""
        path = request.path
        fault = next((f for f in self.faults if f.matches("GET", path, path)), None)
        attachment = self.world.attachments.get(int(request.match_info["attachment_id"]))
        status = 200 if attachment is not None else 404
        if fault is not None:
            fault.hits += 1
            status = fault.status
        self._record(
            "GET",
            path,
            "/attachments/{channel_id}/{attachment_id}/{filename}",
            {},
            None,
            [],
            status,
            fault is not None,
        )
        if status != 200 or attachment is None:
            return web.Response(status=status, text="not found" if status == 404 else "error")
        return web.Response(
            body=attachment.data,
            headers={"Content-Type": attachment.content_type or "application/octet-stream"},
        )

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bot "):
            return False
        return self.emu.token_ok(header[4:])

    def _record(
        self,
        method: str,
        path: str,
        route: str,
        query: dict[str, str],
        body: Any,
        uploads: list[_Upload],
        status: int,
        fault: bool,
    ) -> None:
        self.requests.append(
            RecordedRequest(
                method,
                path,
                route,
                query,
                body,
                tuple(u.filename for u in uploads),
                status,
                time.time(),
                fault,
            )
        )
        self.emu.notifier.notify()

    def _finish(
        self,
        method: str,
        path: str,
        route: str,
        query: dict[str, str],
        body: Any,
        uploads: list[_Upload],
        status: int,
        reply: Any,
    ) -> web.Response:
        self._record(method, path, route, query, body, uploads, status, False)
        headers = _ratelimit_headers(method, route, remaining=49, reset_after=1.0)
        if reply is None or status == 204:
            return web.Response(status=204, headers=headers)
        headers.update(JSON_HEADERS)
        return web.Response(status=status, body=json.dumps(reply).encode(), headers=headers)

    def _fault_response(
        self,
        fault: Fault,
        method: str,
        path: str,
        route: str,
        query: dict[str, str],
        body: Any,
        uploads: list[_Upload],
    ) -> web.Response:
        self._record(method, path, route, query, body, uploads, fault.status, True)
        if fault.status == 429:
            headers = _ratelimit_headers(method, route, remaining=0, reset_after=fault.retry_after)
            headers.update(JSON_HEADERS)
            headers["Via"] = "1.1 google"
            headers["Retry-After"] = str(max(1, math.ceil(fault.retry_after)))
            headers["X-RateLimit-Scope"] = "global" if fault.is_global else "user"
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            reply = {
                "message": fault.message or "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.is_global,
                "code": 0,
            }
            return web.Response(status=429, body=json.dumps(reply).encode(), headers=headers)
        if fault.status in (502, 503, 504) and fault.code is None:
            text = f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>"
            return web.Response(
                status=fault.status, body=text.encode(), headers={"Content-Type": "text/html"}
            )
        code = (
            fault.code if fault.code is not None else {403: 50013, 404: 10003}.get(fault.status, 0)
        )
        message = (
            fault.message or ERROR_MESSAGES.get(code, (fault.status, f"{fault.status}: Error"))[1]
        )
        if code == 0 and fault.message is None:
            message = (
                f"{fault.status}: {'Internal Server Error' if fault.status == 500 else 'Error'}"
            )
        headers = _ratelimit_headers(method, route, remaining=49, reset_after=1.0)
        headers.update(JSON_HEADERS)
        reply = {"message": message, "code": code}
        return web.Response(status=fault.status, body=json.dumps(reply).encode(), headers=headers)

    # ------------------------------------------------------------------ users and app
    async def get_gateway(self, call: _Call) -> _Reply:
        return _Reply(body={"url": self.emu.gateway_url})

    async def get_gateway_bot(self, call: _Call) -> _Reply:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _Reply(body={"url": self.emu.gateway_url, "shards": 1, "session_start_limit": limit})

    async def get_me(self, call: _Call) -> _Reply:
        body = {**self.world.bot_user.payload(), "verified": True, "mfa_enabled": False}
        body.update(locale="en-US", email=None, bio="")
        return _Reply(body=body)

    async def get_user(self, call: _Call) -> _Reply:
        user = self.world.users.get(_snowflake(call.params["user_id"]))
        if user is None:
            raise DiscordError(10013)
        return _Reply(body=user.payload())

    async def create_dm(self, call: _Call) -> _Reply:
        recipient = _snowflake((call.body or {}).get("recipient_id"))
        if recipient not in self.world.users or recipient == self.world.bot_user.id:
            raise DiscordError(50033)
        channel = self.world.open_dm(recipient)
        return _Reply(body=self.world.channel_payload(channel))

    async def get_application(self, call: _Call) -> _Reply:
        world = self.world
        owner = next((world.users[g.owner_id] for g in world.guilds.values()), world.bot_user)
        return _Reply(
            body={
                "id": str(world.application_id),
                "name": world.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": world.bot_user.payload(),
                "owner": owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(world.guilds),
            }
        )

    # ------------------------------------------------------------------------- commands
    def _command_scope(self, call: _Call) -> tuple[int | None, dict[str, dict[str, Any]]]:
        if _snowflake(call.params["application_id"]) != self.world.application_id:
            raise DiscordError(50001)
        guild_id = call.params.get("guild_id")
        if guild_id is None:
            return None, self.world.global_commands
        gid = _snowflake(guild_id)
        if gid not in self.world.guilds:
            raise DiscordError(50001)
        return gid, self.world.guild_commands.setdefault(gid, {})

    def _store_command(
        self,
        guild_id: int | None,
        store: dict[str, dict[str, Any]],
        command: dict[str, Any],
        old: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        kind = int(command.get("type", 1))
        key = command["name"] if kind == 1 else f"{command['name']} [type {kind}]"
        previous = old.get(key)
        stored = {
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "dm_permission": True,
            "nsfw": False,
            **command,
            "id": previous["id"] if previous else str(self.world.snowflake()),
            "application_id": str(self.world.application_id),
            "type": kind,
            "version": str(self.world.snowflake()),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        store[key] = stored
        return stored

    async def put_commands(self, call: _Call) -> _Reply:
        guild_id, store = self._command_scope(call)
        commands = call.body if isinstance(call.body, list) else []
        validate_commands(commands)
        old = dict(store)
        store.clear()
        stored = [self._store_command(guild_id, store, c, old) for c in commands]
        self.world.command_syncs.append(CommandSync(guild_id, tuple(stored), time.time()))
        return _Reply(body=stored)

    async def post_command(self, call: _Call) -> _Reply:
        guild_id, store = self._command_scope(call)
        validate_commands([call.body or {}])
        stored = self._store_command(guild_id, store, call.body, dict(store))
        self.world.command_syncs.append(CommandSync(guild_id, tuple(store.values()), time.time()))
        return _Reply(status=201, body=stored)

    async def get_commands(self, call: _Call) -> _Reply:
        _, store = self._command_scope(call)
        return _Reply(body=list(store.values()))

    async def get_command(self, call: _Call) -> _Reply:
        _, store = self._command_scope(call)
        for command in store.values():
            if command["id"] == call.params["command_id"]:
                return _Reply(body=command)
        raise DiscordError(10063)

    async def delete_command(self, call: _Call) -> _Reply:
        _, store = self._command_scope(call)
        for key, command in list(store.items()):
            if command["id"] == call.params["command_id"]:
                del store[key]
                return _Reply(204)
        raise DiscordError(10063)

    async def no_permissions(self, call: _Call) -> _Reply:
        return _Reply(body=[])

    # ---------------------------------------------------------------------- interactions
    def _interaction(self, interaction_id: str, token: str) -> RecordedInteraction:
        record = self.emu.interactions_by_id.get(_snowflake(interaction_id))
        if record is None or record.token != token:
            raise DiscordError(10062)
        return record

    async def callback(self, call: _Call) -> _Reply:
        record = self._interaction(call.params["interaction_id"], call.params["token"])
        deadline = self.emu.interaction_ack_deadline
        if deadline is not None and time.time() - record.created_at > deadline:
            raise DiscordError(10062)
        if record.callbacks:
            raise DiscordError(40060)
        body = call.body or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        allowed = {
            InteractionType.APPLICATION_COMMAND: {4, 5, 9},
            InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            InteractionType.AUTOCOMPLETE: {8},
            InteractionType.MODAL_SUBMIT: {4, 5, 6, 7},
        }.get(record.type, set())
        if kind not in allowed:
            raise DiscordError(50035, f"Interaction callback type {kind} is invalid here")
        attachments: list[Attachment] = []
        message: RecordedMessage | None = None
        if kind == CallbackType.CHANNEL_MESSAGE:
            validate_message(data, has_files=bool(call.uploads))
            message = await self._create(
                record.channel_id, data, call.uploads, source="interaction", interaction=record
            )
            attachments = message.attachments
            record.original_message_id = message.id
        elif kind == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            loading = {"flags": int(data.get("flags") or 0) | MessageFlag.LOADING}
            message = await self._create(
                record.channel_id, loading, [], source="interaction", interaction=record
            )
            record.original_message_id = message.id
        elif kind in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE):
            record.original_message_id = record.component_message_id
            if kind == CallbackType.UPDATE_MESSAGE and record.component_message_id is not None:
                message = self.world.messages[record.component_message_id]
                validate_message(data, has_files=bool(call.uploads), is_edit=True)
                await self._edit(message, data, call.uploads)
                attachments = message.attachments
        elif kind == CallbackType.AUTOCOMPLETE_RESULT:
            validate_autocomplete_choices(list(data.get("choices") or []))
        record.callbacks.append(InteractionCallback(kind, data, tuple(attachments), time.time()))
        if call.query.get("with_response") not in ("1", "true", "True"):
            return _Reply(204)
        summary: dict[str, Any] = {
            "id": str(record.id),
            "type": record.type,
            "response_message_loading": kind == CallbackType.DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(message and message.ephemeral),
        }
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            summary["response_message_id"] = str(message.id)
            resource["message"] = self.world.message_payload(message)
        return _Reply(body={"interaction": summary, "resource": resource})

    def _webhook_interaction(self, call: _Call) -> RecordedInteraction:
        if _snowflake(call.params["application_id"]) != self.world.application_id:
            raise DiscordError(10015)
        record = self.emu.interactions_by_token.get(call.params["token"])
        if record is None or not record.callbacks:
            raise DiscordError(10015)
        return record

    async def execute_webhook(self, call: _Call) -> _Reply:
        record = self._webhook_interaction(call)
        body = call.body or {}
        validate_message(body, has_files=bool(call.uploads))
        original = record.original
        if (
            original is not None
            and original.loading
            and not original.deleted
            and original.interaction_id == record.id
        ):
            # As on Discord, the first followup after a "thinking" defer fills in the
            # deferred response; its visibility was decided by the defer. Once the bot
            # deleted that placeholder, a followup is a message of its own.
            filled = {k: v for k, v in body.items() if k != "flags"}
            await self._edit(original, filled, call.uploads)
            message = original
        else:
            message = await self._create(
                record.channel_id, body, call.uploads, source="followup", interaction=record
            )
            record.followup_ids.append(message.id)
        if call.query.get("wait") not in ("1", "true", "True"):
            return _Reply(204)
        return _Reply(body=self.world.message_payload(message))

    def _webhook_message(self, call: _Call) -> RecordedMessage:
        record = self._webhook_interaction(call)
        raw = call.params["message_id"]
        message_id = record.original_message_id if raw == "@original" else _snowflake(raw)
        allowed = {record.original_message_id, *record.followup_ids}
        message = self.world.messages.get(message_id or 0)
        if message is None or message.deleted or message_id not in allowed:
            raise DiscordError(10008)
        return message

    async def get_webhook_message(self, call: _Call) -> _Reply:
        return _Reply(body=self.world.message_payload(self._webhook_message(call)))

    async def edit_webhook_message(self, call: _Call) -> _Reply:
        message = self._webhook_message(call)
        validate_message(call.body or {}, has_files=bool(call.uploads), is_edit=True)
        await self._edit(message, call.body or {}, call.uploads)
        return _Reply(body=self.world.message_payload(message))

    async def delete_webhook_message(self, call: _Call) -> _Reply:
        message = self._webhook_message(call)
        await self._delete(message)
        return _Reply(204)

    # -------------------------------------------------------------------------- channels
    def _channel(self, call: _Call) -> Channel:
        channel = self.world.channels.get(_snowflake(call.params["channel_id"]))
        if channel is None:
            raise DiscordError(10003)
        if channel.guild_id is not None:
            perms = self.world.channel_permissions(channel, self.world.bot_user.id)
            if not perms & Perm.VIEW_CHANNEL:
                raise DiscordError(50001)
        return channel

    async def get_channel(self, call: _Call) -> _Reply:
        return _Reply(body=self.world.channel_payload(self._channel(call)))

    async def create_message(self, call: _Call) -> _Reply:
        channel = self._channel(call)
        body = call.body or {}
        if channel.is_dm:
            recipient = self.world.users.get(channel.recipient_id or 0)
            if recipient is None or not recipient.dms_open:
                raise DiscordError(50007)
        elif channel.type == ChannelType.GUILD_CATEGORY:
            raise DiscordError(50008)
        else:
            perms = self.world.channel_permissions(channel, self.world.bot_user.id)
            if not perms & Perm.SEND_MESSAGES or (call.uploads and not perms & Perm.ATTACH_FILES):
                raise DiscordError(50013)
        validate_message(body, has_files=bool(call.uploads))
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            since = time.time() - self.emu.nonce_window
            for message in self.world.messages.values():
                if (
                    message.channel_id == channel.id
                    and message.nonce == nonce
                    and message.created_at >= since
                    and message.source == "channel"
                ):
                    return _Reply(body=self.world.message_payload(message))
        message = await self._create(channel.id, body, call.uploads, source="channel")
        return _Reply(body=self.world.message_payload(message))

    async def get_messages(self, call: _Call) -> _Reply:
        channel = self._channel(call)
        limit = min(100, int(call.query.get("limit", 50)))
        before = _snowflake(call.query["before"]) if "before" in call.query else None
        after = _snowflake(call.query["after"]) if "after" in call.query else None
        found = [
            m
            for m in self.world.messages.values()
            if m.channel_id == channel.id
            and not m.deleted
            and not m.ephemeral
            and (before is None or m.id < before)
            and (after is None or m.id > after)
        ]
        found.sort(key=lambda m: m.id, reverse=after is None)
        found = found[:limit]
        if after is not None:
            found.reverse()
        return _Reply(body=[self.world.message_payload(m) for m in found])

    def _channel_message(self, call: _Call) -> RecordedMessage:
        channel = self._channel(call)
        message = self.world.messages.get(_snowflake(call.params["message_id"]))
        if (
            message is None
            or message.deleted
            or message.channel_id != channel.id
            or message.ephemeral
        ):
            raise DiscordError(10008)
        return message

    async def get_message(self, call: _Call) -> _Reply:
        return _Reply(body=self.world.message_payload(self._channel_message(call)))

    async def edit_message(self, call: _Call) -> _Reply:
        message = self._channel_message(call)
        if message.author_id != self.world.bot_user.id:
            raise DiscordError(50005)
        validate_message(call.body or {}, has_files=bool(call.uploads), is_edit=True)
        await self._edit(message, call.body or {}, call.uploads)
        return _Reply(body=self.world.message_payload(message))

    async def delete_message(self, call: _Call) -> _Reply:
        await self._delete(self._channel_message(call))
        return _Reply(204)

    async def typing(self, call: _Call) -> _Reply:
        self._channel(call)
        return _Reply(204)

    # ---------------------------------------------------------------------------- guilds
    def _guild(self, call: _Call) -> Guild:
        guild = self.world.guilds.get(_snowflake(call.params["guild_id"]))
        if guild is None:
            raise DiscordError(10004)
        return guild

    async def get_guild(self, call: _Call) -> _Reply:
        guild = self._guild(call)
        body = self.world.guild_payload(guild, full=False)
        body["approximate_member_count"] = len(guild.members)
        return _Reply(body=body)

    async def get_guild_channels(self, call: _Call) -> _Reply:
        guild = self._guild(call)
        return _Reply(body=[self.world.channel_payload(c) for c in guild.channels.values()])

    async def get_guild_roles(self, call: _Call) -> _Reply:
        guild = self._guild(call)
        return _Reply(body=[r.payload() for r in guild.roles.values()])

    async def get_member(self, call: _Call) -> _Reply:
        guild = self._guild(call)
        member = guild.members.get(_snowflake(call.params["user_id"]))
        if member is None:
            raise DiscordError(10007)
        return _Reply(body=self.world.member_payload(member))

    # ------------------------------------------------------------------ message storage
    async def _create(
        self,
        channel_id: int,
        body: dict[str, Any],
        uploads: list[_Upload],
        *,
        source: str,
        interaction: RecordedInteraction | None = None,
    ) -> RecordedMessage:
        world = self.world
        channel = world.channels[channel_id]
        flags = int(body.get("flags") or 0)
        if source == "channel":
            flags &= ~int(MessageFlag.EPHEMERAL | MessageFlag.LOADING)
        message = RecordedMessage(
            id=world.snowflake(),
            channel_id=channel_id,
            guild_id=channel.guild_id,
            author_id=world.bot_user.id,
            source=source,
            content=str(body.get("content") or ""),
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            allowed_mentions=body.get("allowed_mentions"),
            nonce=body.get("nonce"),
            enforce_nonce=bool(body.get("enforce_nonce", False)),
            flags=flags,
            tts=bool(body.get("tts", False)),
            message_reference=body.get("message_reference"),
        )
        message.attachments = self._attachments(message, body.get("attachments"), uploads, keep=[])
        if interaction is not None:
            message.interaction_id = interaction.id
            message.webhook_id = world.application_id
            message.interaction_metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "name": interaction.name,
                "user": world.users[interaction.user_id].payload(),
                "authorizing_integration_owners": {},
            }
        world.messages[message.id] = message
        if not message.ephemeral:
            channel.last_message_id = message.id
            await self.emu.announce_message("MESSAGE_CREATE", message)
        return message

    async def _edit(
        self, message: RecordedMessage, body: dict[str, Any], uploads: list[_Upload]
    ) -> None:
        was_loading = message.loading
        message.history.append(message.snapshot())
        if "content" in body:
            message.content = str(body["content"] or "")
        for key in ("embeds", "components"):
            if key in body:
                setattr(message, key, list(body[key] or []))
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if "flags" in body:
            keep = message.flags & int(MessageFlag.EPHEMERAL)
            message.flags = keep | (int(body["flags"] or 0) & ~int(MessageFlag.EPHEMERAL))
        message.flags &= ~int(MessageFlag.LOADING)
        if "attachments" in body or uploads:
            message.attachments = self._attachments(
                message, body.get("attachments"), uploads, keep=message.attachments
            )
        if not was_loading:
            message.edited_at = time.time()
        if not message.ephemeral:
            await self.emu.announce_message("MESSAGE_UPDATE", message)

    async def _delete(self, message: RecordedMessage) -> None:
        message.deleted = True
        if not message.ephemeral:
            data = {"id": str(message.id), "channel_id": str(message.channel_id)}
            if message.guild_id is not None:
                data["guild_id"] = str(message.guild_id)
            await self.emu.gateway.dispatch("MESSAGE_DELETE", data, intent=_message_intent(message))

    def _attachments(
        self,
        message: RecordedMessage,
        listed: list[dict[str, Any]] | None,
        uploads: list[_Upload],
        *,
        keep: list[Attachment],
    ) -> list[Attachment]:
        by_index = {u.index: u for u in uploads}
        existing = {a.id: a for a in keep}
        result: list[Attachment] = []
        if listed is None:
            result.extend(keep)
            listed = [{"id": u.index} for u in uploads]
        for item in listed:
            raw_id = int(item.get("id", -1))
            if raw_id in existing:
                result.append(existing[raw_id])
            elif raw_id in by_index:
                upload = by_index[raw_id]
                filename = item.get("filename") or upload.filename
                result.append(
                    self.emu.store_attachment(
                        message.channel_id,
                        filename,
                        upload.data,
                        content_type=_content_type(filename, upload.content_type),
                        description=item.get("description"),
                    )
                )
        return result


def _message_intent(message: RecordedMessage) -> int:
    return Intent.GUILD_MESSAGES if message.guild_id is not None else Intent.DIRECT_MESSAGES


def _content_type(filename: str, given: str | None) -> str | None:
    guessed, _ = mimetypes.guess_type(filename)
    if guessed is not None:
        return guessed
    return given


def _snowflake(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _ratelimit_headers(
    method: str, route: str, *, remaining: int, reset_after: float
) -> dict[str, str]:
    bucket = hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:16]
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


async def _read_body(request: web.Request) -> tuple[Any, list[_Upload]]:
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        body: Any = {}
        uploads: list[_Upload] = []
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart: Discord ignores it too
            name = part.name or ""
            if name == "payload_json":
                body = json.loads(await part.text())
                continue
            data = bytes(await part.read(decode=False))
            found = re.match(r"files\[(\d+)\]", name)
            index = int(found.group(1)) if found else len(uploads)
            content_type = part.headers.get("Content-Type")
            filename = part.filename or f"file{index}"
            uploads.append(_Upload(index, filename, data, content_type))
        return body, uploads
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        raise DiscordError(50109) from None
