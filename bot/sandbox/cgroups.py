"""A memory cgroup per run, where the host lets us create one (v2 or v1).

A cgroup counts what `RLIMIT_AS` cannot: the resident memory of the whole process tree, files
written to the sandbox's tmpfs included. Where no cgroup can be created (an unprivileged bot
without a delegated subtree), the runner relies on `RLIMIT_AS` alone, set inside the sandbox by
the harness. Processes are limited by `RLIMIT_NPROC` (each runner slot has its own uid when the
bot runs as root) and, on cgroup v2, also by the run's pids controller.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

log = logging.getLogger(__name__)
ROOT = Path("/sys/fs/cgroup")
_names = itertools.count()


@dataclass
class RunGroup:
    """The cgroup directory of one run."""

    path: Path
    version: int
    home: Path  # v1: the cgroup our own threads live in

    def spawn(self, start: Callable[[], Popen[bytes]]) -> Popen[bytes]:
        """Start the run's process inside the cgroup, so no child is ever born outside it.

        On v1 the starting thread moves in for the fork and back out after it (v1 moves single
        threads); on v2, which moves whole processes only, the new process tree is moved right
        after the start, while the program still waits for its request on stdin.
        """
        if self.version == 1:
            tid = str(threading.get_native_id())
            (self.path / "tasks").write_text(tid)
            try:
                return start()
            finally:
                (self.home / "tasks").write_text(tid)
        process = start()
        self._add_tree(process.pid)
        return process

    def _add_tree(self, pid: int) -> None:
        moved: set[int] = set()
        for _ in range(50):
            new = [p for p in _tree(pid) if p not in moved]
            if not new:
                return
            for member in new:
                with contextlib.suppress(OSError):
                    (self.path / "cgroup.procs").write_text(str(member))
                moved.add(member)

    def peak_kb(self) -> int:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return int((self.path / name).read_text()) // 1024
        except (OSError, ValueError):
            return 0

    def out_of_memory(self) -> bool:
        try:
            if self.version == 1:
                control = (self.path / "memory.oom_control").read_text().split()
                flags = dict(zip(control[::2], control[1::2], strict=False))
                failures = [self.path / "memory.failcnt", self.path / "memory.memsw.failcnt"]
                return int(flags.get("oom_kill", "0")) > 0 or any(
                    f.exists() and int(f.read_text()) > 0 for f in failures)
            events = (self.path / "memory.events").read_text().split()
            counts = dict(zip(events[::2], map(int, events[1::2]), strict=False))
            return counts.get("oom_kill", 0) > 0 or counts.get("max", 0) > 0
        except (OSError, ValueError):
            return False

    def release(self) -> None:
        """Delete the directory now if the run is gone, else soon (off the reply's path)."""
        try:
            self.path.rmdir()
        except FileNotFoundError:
            return
        except OSError:
            _cleaner().put(self)

    def remove(self) -> None:
        """Kill whatever is left and delete the directory."""
        for _ in range(100):
            try:
                left = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                return
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)
        log.warning("could not remove the cgroup %s", self.path)


_pending: queue.SimpleQueue[RunGroup] | None = None
_pending_lock = threading.Lock()


def _cleaner() -> queue.SimpleQueue[RunGroup]:
    """One background thread removes cgroups whose processes were still exiting."""
    global _pending
    with _pending_lock:
        if _pending is None:
            _pending = queue.SimpleQueue()
            pending = _pending

            def clean() -> None:
                while True:
                    pending.get().remove()
            threading.Thread(target=clean, name="cgroup-cleaner", daemon=True).start()
        return _pending


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError, ValueError):
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def _own_path(controller: str) -> str:
    """Our cgroup path in the v1 hierarchy of `controller`, or on v2 when it is ''."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _id, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controller == "" and controllers == ""):
            return path.lstrip("/")
    return ""


class Cgroups:
    """Creates a memory cgroup per run; `available` is False where that is not allowed."""

    def __init__(self, memory_bytes: int, max_pids: int) -> None:
        self.memory_bytes = memory_bytes
        self.max_pids = max_pids
        self.version = 0
        self.base: Path | None = None
        self.home = ROOT
        self.reason = ""
        try:
            self._detect()
            self.remove_stale()
        except OSError as error:
            self.reason = f"cgroups are not usable here: {error.strerror or error}"
            self.version = 0

    @property
    def available(self) -> bool:
        return self.version != 0

    def _detect(self) -> None:
        unified = ROOT / "cgroup.controllers"
        if unified.exists() and "memory" in unified.read_text().split():
            home = ROOT / _own_path("")
            base = home / "mlquiz"
            base.mkdir(exist_ok=True)
            # Controllers must be enabled down the tree; `base` itself holds no process.
            for folder in (home, base):
                (folder / "cgroup.subtree_control").write_text("+memory +pids")
            self.version, self.base, self.home = 2, base, home
            return
        memory = ROOT / "memory"
        if not (memory / "tasks").exists():
            self.reason = "this host offers no memory cgroup"
            return
        home = memory / _own_path("memory")
        base = home / "mlquiz"
        base.mkdir(exist_ok=True)
        self.version, self.base, self.home = 1, base, home

    def remove_stale(self) -> int:
        """Delete run cgroups that outlived their bot process; returns how many.

        They are left by a crash, or by an exit before the cleaner got to them. A folder counts
        as stale when the process that made it is gone, or when it is empty and ten minutes old
        (its creator's pid may have been reused).
        """
        if self.base is None:
            return 0
        removed = 0
        # os.listdir: pathlib's glob finds nothing on cgroupfs
        for folder in [self.base / n for n in os.listdir(self.base) if n.startswith("run-")]:
            owner = folder.name.split("-")[1]
            try:
                empty = not (folder / "cgroup.procs").read_text().strip()
                old = time.time() - folder.stat().st_mtime > 600
            except OSError:
                continue
            if not Path(f"/proc/{owner}").exists() or (empty and old):
                RunGroup(folder, self.version, self.home).remove()
                removed += not folder.exists()
        return removed

    def create(self) -> RunGroup | None:
        """A fresh cgroup for one run, or None (the run then relies on rlimits only)."""
        if not self.available or self.base is None:
            return None
        path = self.base / f"run-{os.getpid()}-{next(_names)}"
        try:
            path.mkdir()
            if self.version == 1:
                (path / "memory.limit_in_bytes").write_text(str(self.memory_bytes))
                swap = path / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    swap.write_text(str(self.memory_bytes))
            else:
                (path / "memory.max").write_text(str(self.memory_bytes))
                swap = path / "memory.swap.max"
                if swap.exists():
                    swap.write_text("0")
                (path / "pids.max").write_text(str(self.max_pids))
        except OSError as error:
            log.warning("could not set up a cgroup for a run: %s", error)
            RunGroup(path, self.version, self.home).remove()
            return None
        return RunGroup(path, self.version, self.home)
