"""Polling a bot's readiness endpoint from a test, on the loop (never blocking it)."""

from __future__ import annotations

import asyncio
import time

import aiohttp


async def readiness(port: int, status: int, timeout: float = 60.0) -> str:
    """Poll `/readyz` on `port` until it answers `status`; returns the body."""
    deadline = time.monotonic() + timeout
    body = ""
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as got:
                    body = await got.text()
                    if got.status == status:
                        return body
            except aiohttp.ClientError as error:
                body = str(error)
            await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never answered {status}: {body}")
