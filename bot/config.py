"""Settings from the environment and `.env` (prefix `MLQUIZ_`); secrets never get logged."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def data_dir() -> Path:
    """The user's mlquiz data directory, created on first use."""
    folder = Path(user_data_dir("mlquiz", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_database_url() -> str:
    """A SQLite file in the user's data directory."""
    return f"sqlite:///{data_dir() / 'mlquiz.db'}"


class Settings(BaseSettings):
    """Core settings shared by every adapter."""

    model_config = SettingsConfigDict(env_prefix="MLQUIZ_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    bank_path: Path | None = None
    default_timezone: str = "UTC"
    default_post_time: str = "09:00"
    default_reveal_hours: float = Field(default=8.0, gt=0, le=24 * 6)
    max_answer_chars: int = Field(default=8000, ge=100, le=100_000)
    log_level: str = "INFO"
    # text: one plain line a record; json: one JSON object a line (docs/operations.md)
    log_format: Literal["text", "json"] = "text"
    # /healthz, /readyz and /metrics on this port (any adapter); unset: not served
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "0.0.0.0"  # noqa: S104 - probes and Prometheus come from outside the pod
    # On SIGTERM: seconds to finish work already accepted (inside Kubernetes' 30 s grace)
    drain_seconds: float = Field(default=25.0, ge=0, le=600)
    # Processes that grade answers for the chat adapters (None: one per CPU core; 0: grade in
    # the bot's own process, as the console does).
    grading_workers: int | None = Field(default=None, ge=0, le=64)
    # How often each process re-reads the schedules and catches up on anything missed.
    scheduler_sweep_seconds: float = Field(default=60.0, gt=0)
