"""What one sandboxed run may use. Every limit has a safe default and an `MLQUIZ_SANDBOX_` knob."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


class SandboxSettings(BaseSettings):
    """Limits and pool sizes; read from the environment and `.env` like the core settings."""

    model_config = SettingsConfigDict(env_prefix="MLQUIZ_SANDBOX_", env_file=".env",
                                      extra="ignore")

    enabled: bool = True
    wall_seconds: float = Field(default=10.0, gt=0, le=120)
    cpu_seconds: int = Field(default=8, ge=1, le=120)
    memory_mb: int = Field(default=1024, ge=128, le=64 * 1024)
    processes: int = Field(default=64, ge=4, le=4096)
    file_mb: int = Field(default=16, ge=1, le=1024)
    scratch_mb: int = Field(default=64, ge=1, le=4096)
    open_files: int = Field(default=256, ge=32, le=65536)
    output_kb: int = Field(default=64, ge=1, le=4096)
    code_kb: int = Field(default=64, ge=1, le=1024)
    # None: the number of CPU cores
    runners: int | None = Field(default=None, ge=1, le=256)
    queue: int = Field(default=16, ge=0, le=10_000)
    runs_per_minute: int = Field(default=5, ge=1, le=1000)
    # The interpreter the sandbox runs; must be readable by the sandbox user.
    python: str | None = None
    # Where packages the sandbox uid cannot reach are staged (None: /var/cache/mlquiz/...).
    stage_dir: Path | None = None
    packages: str = "numpy,pandas,scikit-learn"
    # Keep one sandbox per runner started, with the last question's packages imported, waiting
    # for a submission. Each is used once and replaced, so nothing is shared between two runs.
    warm: bool = True
    # When the bot runs as root, run slot N as this uid + N (never root on the host).
    first_uid: int = Field(default=60_000, ge=1000, le=2**31 - 2**16)

    @property
    def runner_count(self) -> int:
        return self.runners or os.cpu_count() or 1

    @property
    def output_bytes(self) -> int:
        return self.output_kb * 1024

    @property
    def package_names(self) -> list[str]:
        return [name.strip() for name in self.packages.split(",") if name.strip()]
