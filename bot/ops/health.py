"""`/healthz`, `/readyz` and `/metrics` over HTTP, for load balancers, Kubernetes and Prometheus.

`/healthz` says the process is alive and its event loop answers. `/readyz` says it can do its
work now: not shutting down, the platform connection up, the database answering and the grading
workers alive; otherwise 503 with the first reason found. Each check is asked afresh, so
readiness follows a database that goes away and comes back, without a restart. `/metrics` is
only ever served on MLQUIZ_HEALTH_PORT, never on a public port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)
CHECK_SECONDS = 5.0
# Each check returns None when all is well, else the reason in a few words.
Check = Callable[[], Awaitable[str | None]]


class Health:
    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks

    async def not_ready(self) -> str | None:
        for check in self.checks:
            try:
                reason = await asyncio.wait_for(check(), CHECK_SECONDS)
            except TimeoutError:
                reason = f"a readiness check did not answer within {CHECK_SECONDS:g} s"
            if reason is not None:
                return reason
        return None

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(self, _request: web.Request) -> web.Response:
        reason = await self.not_ready()
        if reason is None:
            return web.json_response({"ok": True})
        return web.json_response({"ok": False, "reason": reason}, status=503)

    @staticmethod
    async def metrics(_request: web.Request) -> web.Response:
        body = await asyncio.to_thread(generate_latest)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def add_routes(self, app: web.Application, with_metrics: bool) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        if with_metrics:
            app.router.add_get("/metrics", self.metrics)

    async def serve(self, port: int, host: str = "0.0.0.0") -> web.AppRunner:  # noqa: S104
        """Serve the three endpoints on their own port; the caller cleans the runner up."""
        app = web.Application()
        self.add_routes(app, with_metrics=True)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("health, readiness and metrics on port %s", port)
        return runner
