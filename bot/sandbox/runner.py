"""Run one program in a bubblewrap sandbox and report what happened, in plain words.

Each run gets fresh user, PID, network, IPC, UTS and cgroup namespaces, a read-only view of the
interpreter and the allowed packages, a size-limited scratch tmpfs, a seccomp filter and resource
limits. bwrap is started with an empty environment, only stdin, stdout and stderr (plus the two
descriptors it consumes itself: the seccomp program and the harness file), in its own process
group, and as an unprivileged uid when the bot runs as root. The submission reaches the sandbox
on stdin, never on a command line.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import queue
import re
import selectors
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.ops import metrics
from bot.sandbox import seccomp
from bot.sandbox.cgroups import Cgroups, RunGroup
from bot.sandbox.limits import MiB, SandboxSettings
from bot.sandbox.view import Unavailable, View, build_view

log = logging.getLogger(__name__)
HARNESS = Path(__file__).with_name("harness.py")
HARNESS_INSIDE = "/opt/mlquiz/harness.py"
# Compiles the harness with the sandbox's own interpreter (its bytecode version), once.
COMPILE = ("import importlib.util, marshal, sys; "
           "code = compile(sys.stdin.read(), {name!r}, 'exec'); "
           "sys.stdout.buffer.write(importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(code))")
SCRATCH = "/sandbox"
MARK = b"\x1emlquiz-record "
MAX_RECORD = 8 * MiB
FLOOD = 8 * MiB  # output beyond the shown part that ends a run
TRUNCATED = "\n… [output truncated: more than {size} KiB]\n"
KILL_GRACE = 0.2

Status = Literal["ok", "error", "timeout", "cpu_limit", "memory_limit", "output_limit",
                 "process_limit", "file_limit", "killed"]

LIMIT_WORDS: dict[str, str] = {
    "timeout": "it ran longer than the {wall:g} s time limit and was stopped",
    "cpu_limit": "it used more than {cpu} s of CPU time and was stopped",
    "memory_limit": "it ran out of memory (the limit is {memory} MiB)",
    "output_limit": "it printed far more than the {output} KiB shown and was stopped",
    "process_limit": "it started too many processes or threads (the limit is {processes})",
    "file_limit": "it wrote more than the scratch space allows ({file} MiB a file, "
                  "{scratch} MiB in all)",
    "killed": "it was killed by signal {signal}",
}

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("memory_limit", re.compile(r"^\w*MemoryError\b|Unable to allocate|Cannot allocate memory",
                                re.M)),
    ("process_limit", re.compile(r"can't start new thread|Resource temporarily unavailable|"
                                 r"BlockingIOError: \[Errno 11\]|pthread_create failed", re.M)),
    ("file_limit", re.compile(r"File too large|No space left on device", re.M)),
)


@dataclass
class RunResult:
    status: Status
    exit_code: int | None
    stdout: str
    stderr: str
    wall_ms: float
    cpu_ms: float
    max_rss_kb: int
    limit: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The shape `mlquiz sandbox run` prints (see DESIGN.md)."""
        return {"status": self.status, "exit_code": self.exit_code, "stdout": self.stdout,
                "stderr": self.stderr, "wall_ms": round(self.wall_ms, 1),
                "cpu_ms": round(self.cpu_ms, 1), "max_rss_kb": self.max_rss_kb,
                "limit": self.limit}


class Capture:
    """Keep the first `cap` bytes of a stream; in check mode also pull out harness records."""

    def __init__(self, cap: int, records: bool) -> None:
        self.cap = cap
        self.shown = bytearray()
        self.dropped = 0
        self.pending = bytearray()
        self.parse = records
        self.records: list[dict[str, Any]] = []
        self.held_newline = False  # the newline the harness writes before each record

    def feed(self, data: bytes) -> None:
        if not self.parse:
            self._show(data)
            return
        self.pending += data
        while (newline := self.pending.find(b"\n")) >= 0:
            line = bytes(self.pending[:newline + 1])
            del self.pending[:newline + 1]
            self._line(line)
        if len(self.pending) > MAX_RECORD:
            self._show(bytes(self.pending))
            self.pending.clear()

    def finish(self) -> None:
        if self.pending:
            self._line(bytes(self.pending))
            self.pending.clear()

    def _line(self, line: bytes) -> None:
        if line == b"\n" and not self.held_newline:
            self.held_newline = True
            return
        if self.held_newline and not line.startswith(MARK):
            self._show(b"\n")
        self.held_newline = False
        if line.startswith(MARK):
            try:
                record = json.loads(line[len(MARK):])
            except ValueError:
                record = None
            if isinstance(record, dict):
                self.records.append(record)
                return
        self._show(line)

    def _show(self, data: bytes) -> None:
        room = self.cap - len(self.shown)
        self.shown += data[:max(room, 0)]
        self.dropped += max(len(data) - max(room, 0), 0)

    def text(self) -> str:
        text = self.shown.decode("utf-8", errors="replace")
        if self.dropped:
            text += TRUNCATED.format(size=self.cap // 1024)
        return text


# (slot, packages to import, set when done); slot -1 only marks a point in the queue
SpareRequest = tuple[int, tuple[str, ...], threading.Event | None]


@dataclass
class Started:
    """A sandbox process, started and waiting for its request on stdin."""

    process: subprocess.Popen[bytes]
    group: RunGroup | None
    preload: tuple[str, ...] = ()


def memfd(name: str, data: bytes) -> int:
    """An anonymous in-memory file holding `data`, read from the start by whoever gets it."""
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class Sandbox:
    """Runs programs in bubblewrap. Thread-safe; `run` blocks, so call it from a worker thread."""

    def __init__(self, settings: SandboxSettings | None = None) -> None:
        self.settings = settings or SandboxSettings()
        self.as_root = os.geteuid() == 0
        self._lock = threading.Lock()
        self._view: View | None = None
        self._filter: bytes | None = None
        self._reason: str | None = None
        self._checked = False
        self._spares: dict[int, Started] = {}
        self._closed = False
        self._harness: tuple[str, bytes] = (HARNESS_INSIDE, b"")
        self._spawner: queue.SimpleQueue[SpareRequest] | None = None
        self.cgroups: Cgroups | None = None

    # -- availability -----------------------------------------------------------------------

    def unavailable_reason(self) -> str | None:
        """None when code can run here, else why not (checked once, then remembered)."""
        with self._lock:
            if not self._checked:
                self._reason = self._probe()
                self._checked = True
            return self._reason

    def _probe(self) -> str | None:
        if not self.settings.enabled:
            return "the operator turned them off (MLQUIZ_SANDBOX_ENABLED=false)"
        if shutil.which("bwrap") is None:
            return "bubblewrap (bwrap) is not installed"
        arch = seccomp.arch_for()
        if arch is None:
            return "there is no seccomp filter for this CPU architecture"
        try:
            self._view = build_view(self.settings.python, self.settings.package_names,
                                    self.as_root, self.settings.stage_dir)
        except (Unavailable, OSError, subprocess.SubprocessError) as error:
            return str(error)
        self._filter = seccomp.build_filter(arch)
        self._harness = self._compile_harness(self._view.python)
        self.cgroups = Cgroups(self.settings.memory_mb * MiB, self.settings.processes)
        if not self.cgroups.available:
            log.info("sandbox memory limit: RLIMIT_AS (no cgroup: %s)", self.cgroups.reason)
        imports = ", ".join(sorted({"numpy", "pandas", "sklearn"} & self._import_names()))
        # generous limits: a cold import of scikit-learn takes seconds on a busy machine
        probe = self._finish(self._start(0, ()),
                             {"mode": "run", "code": f"import {imports or 'sys'}\nprint('ok')"},
                             {**self._limits(), "cpu_seconds": 60})
        if probe.status != "ok" or probe.stdout.strip() != "ok":
            detail = (probe.stderr.strip().splitlines() or [probe.limit or probe.status])[-1]
            return f"the sandbox does not start here: {detail[:200]}"
        return None

    @staticmethod
    def _compile_harness(python: str) -> tuple[str, bytes]:
        """The harness as bytecode (saves compiling it at every run), else as source."""
        source = HARNESS.read_text()
        done = subprocess.run(  # noqa: S603 - the operator's interpreter, our own source
            [python, "-I", "-S", "-c", COMPILE.format(name=HARNESS_INSIDE)],
            input=source.encode(), capture_output=True, timeout=30, env={}, check=False)
        if done.returncode == 0 and len(done.stdout) > 16:
            return HARNESS_INSIDE + "c", done.stdout
        log.info("running the sandbox harness from source: %s", done.stderr[-200:])
        return HARNESS_INSIDE, source.encode()

    @property
    def interpreter(self) -> str | None:
        """The interpreter the sandbox runs (known once the availability check has run)."""
        return self._view.python if self._view else None

    def _import_names(self) -> set[str]:
        aliases = {"scikit-learn": "sklearn"}
        return {aliases.get(name, name) for name in self.settings.package_names}

    # -- running ------------------------------------------------------------------------------

    def run(self, request: dict[str, Any], slot: int = 0, warm: bool = False,
            preload: tuple[str, ...] = ()) -> RunResult:
        """Run one harness request ({"mode": "run"|"check", "code": …}) in slot `slot`.

        With `warm`, use the slot's waiting sandbox if it has imported `preload` already, and
        start its replacement with the same imports afterwards (runs in a channel are mostly
        for the same question). The caller must hold the slot (the pool guarantees it).
        """
        reason = self.unavailable_reason()
        if reason is not None:
            raise Unavailable(reason)
        if not (warm and self.settings.warm):
            return self._finish(self._start(slot, preload), request)
        with self._lock:
            spare = self._spares.pop(slot, None)
        if spare is None or spare.preload != preload or spare.process.poll() is not None:
            if spare is not None:
                self._discard(spare)
            spare = self._start(slot, preload)
        try:
            return self._finish(spare, request)
        finally:
            self._spare_requests().put((slot, preload, None))

    def warm_up(self, slot: int, preload: tuple[str, ...] = (), wait: bool = False) -> None:
        """Start a waiting sandbox for `slot` (at start, or before a burst of runs)."""
        if self.unavailable_reason() is not None or not self.settings.warm:
            return
        done = threading.Event()
        self._spare_requests().put((slot, preload, done))
        if wait:
            done.wait(60)

    def drop_spares(self) -> None:
        """Stop every waiting sandbox, after the ones being started (tests check for leftovers)."""
        settled = threading.Event()
        self._spare_requests().put((-1, (), settled))
        settled.wait(60)
        with self._lock:
            spares, self._spares = list(self._spares.values()), {}
        for spare in spares:
            self._discard(spare)

    def _spare_requests(self) -> queue.SimpleQueue[SpareRequest]:
        """Spares are started by one thread that lives as long as the bot.

        bwrap's --die-with-parent follows the *thread* that forked it: a spare started from a
        short-lived thread would be killed the moment that thread ends.
        """
        with self._lock:
            if self._spawner is None:
                self._spawner = queue.SimpleQueue()
                requests = self._spawner

                def spawn() -> None:
                    while True:
                        slot, preload, done = requests.get()
                        if slot >= 0:
                            self._replace_spare(slot, preload)
                        if done is not None:
                            done.set()
                threading.Thread(target=spawn, name="sandbox-spares", daemon=True).start()
            return self._spawner

    def _replace_spare(self, slot: int, preload: tuple[str, ...]) -> None:
        try:
            spare = self._start(slot, preload)
        except OSError as error:
            log.warning("could not start a warm sandbox: %s", error)
            return
        with self._lock:
            unwanted = [spare] if self._closed else []
            if not self._closed:
                previous = self._spares.pop(slot, None)
                unwanted += [previous] if previous is not None else []
                self._spares[slot] = spare
        for started in unwanted:
            self._discard(started)

    def close(self) -> None:
        """Stop the waiting sandboxes; no new ones start."""
        with self._lock:
            self._closed = True
            spares, self._spares = list(self._spares.values()), {}
        for spare in spares:
            self._discard(spare)

    def _discard(self, started: Started) -> None:
        self._kill(started.process)
        self._reap(started.process)
        if started.group is not None:
            started.group.remove()

    def _limits(self) -> dict[str, int]:
        s = self.settings
        # With a cgroup, memory is limited there (resident memory, tmpfs included); the address
        # space limit stays as a loose second fence, since numpy reserves far more than it uses.
        fence = 4 if self.cgroups is not None and self.cgroups.available else 1
        return {"cpu_seconds": s.cpu_seconds, "processes": s.processes,
                "file_bytes": s.file_mb * MiB, "open_files": s.open_files,
                "address_space_bytes": s.memory_mb * MiB * fence}

    def _command(self, view: View, seccomp_fd: int, harness_fd: int, preload: tuple[str, ...]
                 ) -> list[str]:
        s = self.settings
        scratch = str(s.scratch_mb * MiB)
        args = ["bwrap", "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup", "--disable-userns", "--die-with-parent",
                "--new-session", "--as-pid-1", "--cap-drop", "ALL", "--hostname", "sandbox",
                "--clearenv", "--uid", "1000", "--gid", "1000"]
        for name, value in (("PATH", "/usr/bin:/bin"), ("HOME", SCRATCH), ("LANG", "C.UTF-8"),
                            ("OPENBLAS_NUM_THREADS", "1"), ("OMP_NUM_THREADS", "1"),
                            ("MKL_NUM_THREADS", "1"), ("NUMEXPR_NUM_THREADS", "1"),
                            ("MPLBACKEND", "Agg"), ("PYTHONHASHSEED", "0")):
            args += ["--setenv", name, value]
        args += ["--ro-bind", "/usr", "/usr"]
        for link in ("bin", "lib", "lib64", "sbin"):
            if os.path.islink(f"/{link}"):
                args += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
            elif os.path.isdir(f"/{link}"):
                args += ["--ro-bind", f"/{link}", f"/{link}"]
        args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
                 "--proc", "/proc", "--dev", "/dev",
                 "--size", scratch, "--tmpfs", "/dev/shm",  # noqa: S108 - inside the sandbox
                 "--size", scratch, "--tmpfs", "/tmp"]  # noqa: S108
        for host, inside in view.binds:
            args += ["--ro-bind", host, inside]
        harness_path = self._harness[0]
        args += ["--ro-bind-data", str(harness_fd), harness_path,
                 "--size", scratch, "--perms", "0700", "--tmpfs", SCRATCH,
                 "--remount-ro", "/", "--chdir", SCRATCH,
                 "--seccomp", str(seccomp_fd),
                 view.python, "-I", "-S", "-B", "-X", "utf8", harness_path,
                 "--path", ":".join(view.site_path)]
        if preload:
            args += ["--preload", ",".join(preload)]
        return args

    def _start(self, slot: int, preload: tuple[str, ...]) -> Started:
        assert self._view is not None and self._filter is not None
        seccomp_fd = memfd("mlquiz-seccomp", self._filter)
        harness_fd = memfd("mlquiz-harness", self._harness[1])
        identity: dict[str, Any] = {}
        if self.as_root:
            uid = self.settings.first_uid + slot
            identity = {"user": uid, "group": uid, "extra_groups": []}
        command = self._command(self._view, seccomp_fd, harness_fd, preload)

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={}, pass_fds=(seccomp_fd, harness_fd), start_new_session=True, **identity)

        group = self.cgroups.create() if self.cgroups is not None else None
        try:
            process = group.spawn(start) if group is not None else start()
        except BaseException:
            if group is not None:
                group.release()
            raise
        finally:
            os.close(seccomp_fd)
            os.close(harness_fd)
        return Started(process, group, preload)

    def _finish(self, started: Started, request: dict[str, Any],
                limits: dict[str, int] | None = None) -> RunResult:
        try:
            return self._finish_in(started, request, limits)
        finally:
            if started.group is not None:
                started.group.release()

    def _finish_in(self, started: Started, request: dict[str, Any],
                   limits: dict[str, int] | None) -> RunResult:
        process, group = started.process, started.group
        s = self.settings
        # marshal: the harness reads it without importing anything (the host writes it)
        payload = marshal.dumps({**request, "limits": limits or self._limits()})
        begun = time.perf_counter()
        out = Capture(s.output_bytes, records=True)
        err = Capture(s.output_bytes, records=False)
        timed_out, flooded = self._pump(process, payload, out, err, begun + s.wall_seconds)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall_ms = (time.perf_counter() - begun) * 1000
        out.finish()
        err.finish()
        # The harness reports the submission's own CPU time (a warm sandbox spent some before
        # the request came); without its report (a killed run) bwrap's usage is the best guess.
        cpu_ms, max_rss_kb = (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss
        for record in out.records:
            reported = record.get("usage")
            if isinstance(reported, dict):
                cpu_ms = float(reported.get("cpu_ms") or 0)
                max_rss_kb = int(reported.get("max_rss_kb") or 0)
        records = [r for r in out.records if "usage" not in r]
        if group is not None:
            max_rss_kb = max(max_rss_kb, group.peak_kb())
        result = RunResult(status="ok", exit_code=process.returncode, stdout=out.text(),
                           stderr=err.text(), wall_ms=wall_ms, cpu_ms=cpu_ms,
                           max_rss_kb=max_rss_kb, records=records)
        self._classify(result, timed_out, flooded)
        # At its memory ceiling a program can spend its CPU time in the kernel's reclaim
        # before the OOM killer comes: that is running out of memory, not a slow program.
        pressed = max_rss_kb >= s.memory_mb * 1024 * 0.9
        if group is not None and (result.status in ("killed", "error") or (
                result.status == "cpu_limit" and pressed)) and group.out_of_memory():
            result.status = "memory_limit"
            result.limit = LIMIT_WORDS["memory_limit"].format(memory=s.memory_mb)
        metrics.SANDBOX_RUNS.labels(result.status).inc()
        return result

    @staticmethod
    def _reap(process: subprocess.Popen[bytes]) -> None:
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("a sandbox process did not exit")

    def _pump(self, process: subprocess.Popen[bytes], payload: bytes, out: Capture,
              err: Capture, deadline: float) -> tuple[bool, bool]:
        """Feed stdin, drain stdout and stderr until both close or a limit ends the run."""
        assert process.stdin and process.stdout and process.stderr
        selector = selectors.DefaultSelector()
        streams = {process.stdout.fileno(): out, process.stderr.fileno(): err}
        stdin = process.stdin.fileno()
        for fd in (*streams, stdin):
            os.set_blocking(fd, False)
        selector.register(stdin, selectors.EVENT_WRITE)
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
        view = memoryview(payload)
        open_streams = len(streams)
        timed_out = flooded = False
        try:
            while open_streams:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    timed_out = True
                    break
                if out.dropped + err.dropped > FLOOD:
                    flooded = True
                    break
                for key, _events in selector.select(remaining):
                    fd = int(key.fd)
                    if fd == stdin:
                        try:
                            view = view[os.write(fd, view[:65536]):]
                        except (BrokenPipeError, BlockingIOError):
                            view = view[len(view):]
                        if not view:
                            selector.unregister(fd)
                            process.stdin.close()
                        continue
                    try:
                        data = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    if data:
                        streams[fd].feed(data)
                    else:
                        selector.unregister(fd)
                        open_streams -= 1
        finally:
            selector.close()
            if timed_out or flooded:
                self._kill(process)
            for stream in (process.stdin, process.stdout, process.stderr):
                if not stream.closed:
                    stream.close()
        return timed_out, flooded

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        """SIGTERM the process group, then SIGKILL; bwrap takes the whole PID namespace along."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            end = time.perf_counter() + KILL_GRACE
            while time.perf_counter() < end:
                if os.waitid(os.P_PID, process.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    return
                time.sleep(0.01)

    def _classify(self, result: RunResult, timed_out: bool, flooded: bool) -> None:
        s = self.settings
        code = result.exit_code
        status: Status = "ok" if code == 0 else "error"
        if timed_out:
            status = "timeout"
        elif flooded:
            status = "output_limit"
        elif code is not None and code in (-signal.SIGXCPU, 128 + signal.SIGXCPU) or (
                code in (-signal.SIGKILL, 128 + signal.SIGKILL)
                and result.cpu_ms >= s.cpu_seconds * 1000 - 50):
            status = "cpu_limit"
        else:
            evidence = (result.stderr if code else "") + "\n".join(
                f"{r.get('raised', '')}: {r.get('message', '')}" for r in result.records
                if "raised" in r)
            for name, pattern in PATTERNS:
                if pattern.search(evidence):
                    status = name  # type: ignore[assignment]
                    break
            else:
                if code is not None and (code < 0 or code > 128) and status == "error":
                    status = "killed"
        result.status = status
        if status in LIMIT_WORDS:
            number = -code if code is not None and code < 0 else (code or 0) - 128
            result.limit = LIMIT_WORDS[status].format(
                wall=s.wall_seconds, cpu=s.cpu_seconds, memory=s.memory_mb, output=s.output_kb,
                processes=s.processes, file=s.file_mb, scratch=s.scratch_mb,
                signal=_signal_name(number))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
