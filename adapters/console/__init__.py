"""The terminal adapter: the whole bot in a terminal, no accounts needed."""

from adapters.console.app import ConsoleApp, run_console

__all__ = ["ConsoleApp", "run_console"]
