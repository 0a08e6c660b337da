"""The operator's log: plain lines for a terminal, or one JSON object a line for collectors.

`MLQUIZ_LOG_FORMAT=json` gives `{"time", "level", "logger", "message", "event"?, "platform"?,
"error"?, "traceback"?}`. `event` is the platform's delivery id of the request being worked on
(set by the engine for every command, answer and action), so every line one request causes can
be found together. Members' answer text is never logged: log calls name ids, kinds and reasons.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from pathlib import Path

EVENT: contextvars.ContextVar[str] = contextvars.ContextVar("mlquiz_event", default="")
PLATFORM: contextvars.ContextVar[str] = contextvars.ContextVar("mlquiz_platform", default="")
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s%(where)s"


class _Context(logging.Filter):
    """Adds the request being worked on to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        event = EVENT.get()
        record.event = event
        record.platform = PLATFORM.get()
        record.where = f" [event {event}]" if event else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for field in ("event", "platform"):
            value = getattr(record, field, "")
            if value:
                line[field] = value
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = type(record.exc_info[1]).__name__
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str = "INFO", fmt: str = "text", path: Path | None = None) -> None:
    """Send every log record to standard error (or to the file at `path`), once per process.

    The terminal console logs to a file, so operator lines never interleave with the chat.
    """
    handler: logging.Handler = logging.StreamHandler(sys.stderr) if path is None \
        else logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(_Context())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = level.upper()
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every job added and run at INFO: 10,000 channels, 30,000 lines a day.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
