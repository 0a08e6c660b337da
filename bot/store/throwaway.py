"""A throwaway PostgreSQL server for tests and benchmarks, started from the installed binaries.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
(through `runuser`). `MLQUIZ_TEST_POSTGRES_URL` skips all this and uses a given server.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("PostgreSQL server binaries are needed here: run `make test` "
                "(it installs them) or `apt-get install -y postgresql`, or set "
                "MLQUIZ_TEST_POSTGRES_URL to a server you run.")


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str  # base URL without a database name
    data: Path | None = None
    bin_dir: Path | None = None
    as_user: list[str] | None = None
    options: str = ""

    def halt(self) -> None:
        """Stop the server and keep its data (a database outage); `resume` brings it back."""
        self._pg_ctl("-m", "fast", "stop")

    def resume(self) -> None:
        self._pg_ctl("-o", self.options, "-l", str(self.data / "server.log") if self.data
                     else "", "-w", "-t", "60", "start")

    def _pg_ctl(self, *args: str) -> None:
        if self.data is None or self.bin_dir is None:
            raise RuntimeError("only a server this process started can be stopped and started")
        done = subprocess.run([*(self.as_user or []), str(self.bin_dir / "pg_ctl"), "-D",
                               str(self.data / "db"), *args], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl {args[-1]}: {done.stderr.strip() or done.stdout}")

    def stop(self) -> None:
        if self.data is None or self.bin_dir is None:
            return
        subprocess.run([*(self.as_user or []), str(self.bin_dir / "pg_ctl"), "-D",
                        str(self.data / "db"), "-m", "immediate", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(self.data, ignore_errors=True)


def start() -> Server:
    given = os.environ.get("MLQUIZ_TEST_POSTGRES_URL")
    if given:
        return Server(given.rstrip("/"))
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise RuntimeError(INSTALL_HINT)
    root = Path(tempfile.mkdtemp(prefix="mlquiz-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise RuntimeError("running as root needs `runuser` to start PostgreSQL as postgres")
        shutil.chown(root, "postgres", "postgres")
        as_user = [runuser, "-u", "postgres", "--"]
    port = _free_port()
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    steps = [
        [str(bin_dir / "initdb"), "-D", str(root / "db"), "-A", "trust", "-U", "postgres",
         "--no-sync", "-E", "UTF8"],
        [str(bin_dir / "pg_ctl"), "-D", str(root / "db"), "-o", options, "-l",
         str(root / "server.log"), "-w", "-t", "60", "start"],
    ]
    for step in steps:
        result = subprocess.run([*as_user, *step], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"could not start PostgreSQL ({Path(step[0]).name}): "
                               f"{result.stderr.strip() or result.stdout.strip()} {log[-500:]}")
    return Server(f"postgresql+psycopg://postgres@127.0.0.1:{port}", root, bin_dir, as_user,
                  options)
