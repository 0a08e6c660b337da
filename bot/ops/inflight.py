"""Work an adapter has accepted and not yet finished, so shutdown can wait for it.

A request counts from the moment the platform hands it over (before the acknowledgement) until
its replies are sent and its rows written. On SIGTERM an adapter stops taking new requests,
then `drain` waits for the count to reach zero, and to stay there for a moment, since the
platform libraries start a request's work in a task of its own just after acknowledging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from bot.ops import metrics

log = logging.getLogger(__name__)
SETTLE = 0.2  # seconds the count must stay at zero


class InFlight:
    def __init__(self) -> None:
        self.count = 0
        self.draining = False
        self._changed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self.count += 1
        metrics.IN_FLIGHT.inc()
        try:
            yield
        finally:
            self.count -= 1
            metrics.IN_FLIGHT.dec()
            self._changed.set()

    async def not_ready(self) -> str | None:
        """Readiness: a process that is draining takes no new work."""
        return "shutting down" if self.draining else None

    async def drain(self, seconds: float) -> int:
        """Wait up to `seconds` for accepted work to finish; returns how much did not."""
        self.draining = True
        deadline = time.monotonic() + seconds
        quiet_since: float | None = None
        while (now := time.monotonic()) < deadline:
            if self.count:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= SETTLE:
                return 0
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(0.05, deadline - now))
        if self.count:
            log.warning("stopped with %s request(s) unfinished after %.0f s (MLQUIZ_DRAIN_SECONDS)",
                        self.count, seconds)
        return self.count
