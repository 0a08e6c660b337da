"""mlquiz: a daily machine-learning interview practice bot (platform-neutral core)."""

__version__ = "0.1.0"
