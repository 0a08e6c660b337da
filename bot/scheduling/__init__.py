"""APScheduler wiring: a job per channel schedule, reveals, and a sweep that catches up."""

from bot.scheduling.service import Scheduler
from bot.scheduling.trigger import LocalDailyTrigger

__all__ = ["LocalDailyTrigger", "Scheduler"]
