"""Readiness reports the first reason in order, a hung check is not ready, and draining waits
for accepted work only as long as it is given."""

from __future__ import annotations

import asyncio
import time

from bot.ops import health
from bot.ops.health import Health
from bot.ops.inflight import InFlight


async def test_readiness_gives_the_first_reason_and_a_hung_check_is_not_ready() -> None:
    async def fine() -> str | None:
        return None

    async def down() -> str | None:
        return "the database does not answer"

    async def hung() -> str | None:
        await asyncio.sleep(60)
        return None

    assert await Health([fine, fine]).not_ready() is None
    assert await Health([fine, down, hung]).not_ready() == "the database does not answer"
    health.CHECK_SECONDS = 0.2  # type: ignore[misc]
    try:
        reason = await Health([hung, down]).not_ready()
    finally:
        health.CHECK_SECONDS = 5.0  # type: ignore[misc]
    assert reason is not None and "did not answer" in reason


async def test_drain_waits_for_accepted_work_and_reports_what_did_not_finish() -> None:
    inflight = InFlight()

    async def work(seconds: float) -> None:
        async with inflight.track():
            await asyncio.sleep(seconds)

    quick = asyncio.create_task(work(0.3))
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await inflight.drain(5) == 0
    assert quick.done() and time.monotonic() - started < 2  # waited for it, not for 5 s
    assert inflight.draining

    slow = asyncio.create_task(work(10))
    await asyncio.sleep(0)
    assert await inflight.drain(0.3) == 1  # given up at the deadline, and said so
    slow.cancel()
