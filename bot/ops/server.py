"""``/metrics`` and ``/healthz`` over HTTP (aiohttp, on the bot's own event loop)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.ops.health import HealthMonitor
from bot.ops.metrics import CONTENT_TYPE, Metrics, Snapshot

__all__ = ["OpsServer"]

log = logging.getLogger(__name__)


class OpsServer:
    """Serves the metrics and the health of this process on ``host:port``."""

    def __init__(
        self,
        metrics: Metrics,
        snapshot: Callable[[], Awaitable[Snapshot]],
        monitor: HealthMonitor,
    ) -> None:
        self._metrics = metrics
        self._snapshot = snapshot
        self._monitor = monitor
        app = web.Application()
        app.router.add_get("/metrics", self._serve_metrics)
        app.router.add_get("/healthz", self._serve_health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(self, host: str, port: int) -> None:
        """Listen; a port in use is one clear error (an OSError naming the address)."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            reason = error.strerror or str(error)
            raise OSError(error.errno, f"cannot listen on {host}:{port}: {reason}") from None
        log.info("serving /metrics and /healthz on http://%s:%d", host, port)

    async def close(self) -> None:
        """Stop listening."""
        await self._runner.cleanup()

    async def _serve_metrics(self, request: web.Request) -> web.Response:
        body = self._metrics.exposition(await self._snapshot())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _serve_health(self, request: web.Request) -> web.Response:
        problems = await self._monitor.problems()
        if problems:
            document = {"status": "unhealthy", "reason": problems[0], "problems": problems}
            return web.Response(
                status=503, text=json.dumps(document), content_type="application/json"
            )
        return web.Response(text=json.dumps({"status": "ok"}), content_type="application/json")
