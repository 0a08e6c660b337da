"""Hostile snippets against the real bubblewrap sandbox: each one asserts what must still hold.

Every run goes through the `run` fixture, which afterwards also checks that no process of a
sandbox uid survived and that the next run still works. Limits are the short test ones
(wall 4 s, CPU 2 s, 768 MiB, 32 processes, 4 MiB a file, 8 MiB scratch, 16 KiB output).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import bot.config
from bot.bank import Question
from bot.sandbox import RunResult, Sandbox
from bot.sandbox.check import Checker, CheckReport
from bot.sandbox.seccomp import arch_for

Run = Callable[[str], RunResult]

REPO = Path(bot.config.__file__).resolve().parents[1]
CONFIG = Path(bot.config.__file__).resolve()
MiB = 1024 * 1024
SCRATCH = 8 * MiB  # scratch_mb in the test settings: the size of /sandbox, /tmp and /dev/shm
FILE_CAP = 4 * MiB  # file_mb
OUTPUT_CAP = 16 * 1024  # output_kb
MARKER = "[output truncated"
QUICK_MS = 3000  # a run that must end on its own, well before the 4 s wall limit
KILLED_MS = 6000  # a run the sandbox has to stop: wall limit plus the kill grace


def code(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


def syscall_number(name: str) -> int:
    arch = arch_for()
    assert arch is not None, "no seccomp table for this machine"
    return arch.numbers[name]


def shown_bytes(text: str) -> int:
    return len(text.replace("\n… " + MARKER, "").encode())


# -- time -------------------------------------------------------------------------------------

SPINNERS = {
    "busy-loop": "while True:\n    pass\n",
    "ignores-sigterm-and-sigxcpu": code("""
        import signal
        for sig in (signal.SIGTERM, signal.SIGXCPU, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            pass
    """),
    "regex-backtracking-in-c": code("""
        import re
        re.match(r"(a+)+$", "a" * 64 + "b")
    """),
    "sum-of-huge-range-in-c": "sum(range(10**13))\n",
}


@pytest.mark.parametrize("snippet", SPINNERS.values(), ids=SPINNERS.keys())
def test_spinning_code_is_stopped_by_a_time_limit(run: Run, snippet: str) -> None:
    """CPU-bound code, in Python or stuck in C, is stopped by the CPU or the wall limit."""
    result = run(snippet)
    assert result.status in ("cpu_limit", "timeout"), result
    assert result.limit is not None
    assert "CPU time" in result.limit or "time limit" in result.limit
    assert result.wall_ms < KILLED_MS, result


def test_sleeping_forever_times_out(run: Run) -> None:
    """An idle program uses no CPU: only the wall clock can stop it, and it does."""
    result = run("import time\ntime.sleep(10**6)\n")
    assert result.status == "timeout", result
    assert result.limit is not None and "4 s time limit" in result.limit
    assert 3500 < result.wall_ms < KILLED_MS, result


def test_blocking_read_on_stdin_does_not_hang(run: Run) -> None:
    """stdin is /dev/null once the request is read: waiting for input ends at once."""
    result = run("import sys\nprint(repr(sys.stdin.read()))\n")
    assert result.status == "ok", result
    assert result.stdout == "''\n"
    assert result.wall_ms < QUICK_MS


DAEMONS = {
    "double-fork-sleeper": code("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(120)  # keeps the inherited stdout and stderr open
            os._exit(0)
        os.wait()
        print("parent done")
    """),
    "detached-shell": code("""
        import subprocess
        subprocess.Popen(["sh", "-c", "trap '' TERM HUP; sleep 120"], start_new_session=True)
        print("parent done")
    """),
}


@pytest.mark.parametrize("snippet", DAEMONS.values(), ids=DAEMONS.keys())
def test_daemon_children_do_not_outlive_the_program(run: Run, snippet: str) -> None:
    """When the program exits the run ends promptly; the fixture checks nothing survived."""
    result = run(snippet)
    assert result.status == "ok", result
    assert result.stdout == "parent done\n"
    assert result.wall_ms < QUICK_MS, result


# -- memory -----------------------------------------------------------------------------------

def test_one_huge_allocation_is_refused(run: Run) -> None:
    """8 GiB in one go: MemoryError inside, memory_limit outside."""
    result = run("block = bytearray(8 * 1024**3)\nprint('allocated')\n")
    assert result.status == "memory_limit", result
    assert "MemoryError" in result.stderr
    assert "allocated" not in result.stdout
    assert result.limit is not None and "768 MiB" in result.limit


def test_slow_memory_growth_is_stopped(run: Run) -> None:
    """Growing 8 MiB at a time (really touched) until the address-space limit is hit."""
    result = run(code("""
        hoard = []
        while True:
            hoard.append(b"x" * (8 * 1024 * 1024))
    """))
    assert result.status == "memory_limit", result
    assert result.limit is not None and "768 MiB" in result.limit
    assert result.max_rss_kb <= 800 * 1024, result


def test_numpy_huge_array_is_refused(run: Run) -> None:
    """A numpy allocation larger than the limit fails with numpy's own memory error."""
    result = run("import numpy as np\nnp.ones((40_000, 40_000))\n")
    assert result.status == "memory_limit", result
    assert "Unable to allocate" in result.stderr or "MemoryError" in result.stderr


@pytest.mark.parametrize("folder", ["/sandbox", "/tmp", "/dev/shm"])  # noqa: S108
def test_filling_a_scratch_tmpfs_stops_at_its_size(run: Run, folder: str) -> None:
    """Many files just under the per-file cap: the tmpfs fills up and stays at its size."""
    result = run(code(f"""
        import os
        folder = {folder!r}
        try:
            for i in range(64):
                with open(f"{{folder}}/fill{{i}}", "wb") as handle:
                    handle.write(b"x" * (3 * 1024 * 1024))
        finally:
            total = sum(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))
            print("TOTAL", total)
    """))
    assert result.status == "file_limit", result
    assert "No space left on device" in result.stderr
    total = int(result.stdout.split("TOTAL")[1])
    assert 0 < total <= SCRATCH, result


def test_writing_a_file_larger_than_the_file_limit_fails(run: Run) -> None:
    """10 MiB in one file: the per-file limit (4 MiB) stops it, the file stays within it."""
    result = run(code("""
        import os
        try:
            with open("/sandbox/big", "wb") as handle:
                handle.write(b"x" * (10 * 1024 * 1024))
        finally:
            print("SIZE", os.path.getsize("/sandbox/big"))
    """))
    assert result.status == "file_limit", result
    assert "File too large" in result.stderr
    assert int(result.stdout.split("SIZE")[1]) <= FILE_CAP
    assert result.limit is not None and "4 MiB a file" in result.limit


def test_sparse_file_beyond_the_limit_fails_even_with_sigxfsz_default(run: Run) -> None:
    """Seeking far past the limit and restoring SIGXFSZ's default action still cannot succeed."""
    result = run(code("""
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        with open("/sandbox/sparse", "wb") as handle:
            handle.seek(1024**3)
            handle.write(b"x")
        print("WROTE")
    """))
    assert "WROTE" not in result.stdout
    assert result.status in ("file_limit", "killed"), result
    if result.status == "killed":
        assert result.limit is not None and "SIGXFSZ" in result.limit


# -- processes --------------------------------------------------------------------------------

def test_fork_bomb_hits_the_process_limit(run: Run) -> None:
    """os.fork in a loop: the process limit stops it and the host is untouched."""
    result = run("import os\nwhile True:\n    os.fork()\n")
    assert result.status in ("process_limit", "timeout", "cpu_limit"), result
    assert result.wall_ms < KILLED_MS
    assert result.limit is not None


def test_thread_bomb_hits_the_process_limit(run: Run) -> None:
    """Threads count as processes: the 33rd one cannot start."""
    result = run(code("""
        import threading, time
        started = []
        for _ in range(10_000):
            thread = threading.Thread(target=time.sleep, args=(30,), daemon=True)
            thread.start()
            started.append(thread)
        print("started", len(started))
    """))
    assert result.status == "process_limit", result
    assert "started" not in result.stdout
    assert result.limit is not None and "32" in result.limit


def test_a_shell_runs_as_the_sandbox_user_and_sees_no_host_process(run: Run) -> None:
    """sh may run, but as uid 1000 on host 'sandbox', seeing only the sandbox's processes."""
    result = run(code("""
        import subprocess
        script = (
            "id; hostname; "
            "for p in /proc/[0-9]*; do echo PID ${p#/proc/} $(cat $p/comm 2>/dev/null); done; "
            "command -v ps >/dev/null && ps -e -o pid=,user=,comm= | sed 's/^/PS /'"
        )
        done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
        print(done.stdout, done.stderr)
    """))
    assert result.status == "ok", result
    lines = result.stdout.splitlines()
    assert lines[0].startswith("uid=1000 gid=1000"), result.stdout
    assert lines[1] == "sandbox"
    pids = [int(line.split()[1]) for line in lines if line.startswith("PID ")]
    # bwrap's init, the harness, sh, and the subshell doing `cat`: a handful, never the host's
    assert pids and len(pids) <= 8 and max(pids) < 50, result.stdout
    assert os.getpid() not in pids or os.getpid() < 50
    for line in lines:
        if line.startswith("PS "):
            assert line.split()[2] in ("1000", "sandbox"), line
    assert "pytest" not in result.stdout


def test_kill_minus_one_only_reaches_the_sandbox(run: Run) -> None:
    """kill(-1, SIGKILL) from inside: a host process started by the test survives."""
    bystander = subprocess.Popen(["sleep", "30"])  # noqa: S607 - a host process to protect
    try:
        result = run("import os\nos.kill(-1, 9)\nprint('still here')\n")
        assert bystander.poll() is None, "a host process was killed from inside the sandbox"
    finally:
        bystander.kill()
        bystander.wait()
    assert result.status in ("ok", "error", "killed"), result
    assert result.wall_ms < QUICK_MS


@pytest.mark.parametrize(("target", "sig"), [
    ("os.getppid()", signal.SIGKILL), ("1", signal.SIGTERM), ("1", signal.SIGSTOP)],
    ids=["parent-SIGKILL", "pid-1-SIGTERM", "pid-1-SIGSTOP"])
def test_signalling_the_parent_or_pid_1(run: Run, target: str, sig: signal.Signals) -> None:
    """The parent is the namespace's init; signals it does not handle are not delivered."""
    result = run(f"import os\nos.kill({target}, {int(sig)})\nprint('survived')\n")
    assert result.status in ("ok", "error", "killed", "timeout"), result
    assert result.wall_ms < KILLED_MS


# -- output -----------------------------------------------------------------------------------

def test_stdout_flood_is_truncated_and_stopped(run: Run) -> None:
    """An endless print loop: output_limit, the first 16 KiB shown and a truncation marker."""
    result = run("while True:\n    print('x' * 1000)\n")
    assert result.status == "output_limit", result
    assert MARKER in result.stdout
    assert shown_bytes(result.stdout) <= OUTPUT_CAP + 100
    assert result.wall_ms < KILLED_MS


def test_stderr_flood_is_truncated_and_stopped(run: Run) -> None:
    result = run("import sys\nwhile True:\n    sys.stderr.write('e' * 999 + '\\n')\n")
    assert result.status == "output_limit", result
    assert MARKER in result.stderr
    assert shown_bytes(result.stderr) <= OUTPUT_CAP + 100


def test_invalid_utf8_on_stdout_is_replaced(run: Run) -> None:
    """Raw bytes that are not UTF-8 arrive as replacement characters, not as an exception."""
    result = run("import os\nos.write(1, b'start \\xff\\xfe\\xc3( \\x80 end\\n')\n")
    assert result.status == "ok", result
    assert result.stdout.startswith("start ") and result.stdout.endswith(" end\n")
    assert "\ufffd" in result.stdout


@pytest.mark.parametrize("size", [2 * MiB, 24 * MiB], ids=["2MiB", "24MiB"])
def test_one_enormous_line_without_newline(run: Run, size: int) -> None:
    """A single line with no newline: shown up to the cap and marked; a huge one ends the run."""
    result = run(f"import sys\nsys.stdout.write('y' * {size})\n")
    assert result.status in ("ok", "output_limit"), result
    assert MARKER in result.stdout
    assert shown_bytes(result.stdout) <= OUTPUT_CAP + 100
    assert result.stdout.startswith("y" * 1000)


def test_closing_stdout_then_printing(run: Run) -> None:
    """os.close(1) and then print: an error at worst, never a hang or a crash outside."""
    result = run("import os\nos.close(1)\nos.close(3)\nprint('into the void')\n")
    assert result.status in ("ok", "error"), result
    assert "into the void" not in result.stdout
    assert result.wall_ms < QUICK_MS


# -- files ------------------------------------------------------------------------------------

READ_ONLY = ["/usr/evil", "/usr/bin/python3", "/etc/evil", "/evil", "/opt/site/evil",
             "/opt/site/numpy/__init__.py", "/opt/mlquiz/harness.py", "/proc/sys/kernel/hostname",
             "/bin/sh"]


def test_writing_outside_the_scratch_space_fails(run: Run) -> None:
    """The root, /usr, /etc, the packages, the harness and /proc/sys are read-only."""
    result = run(code(f"""
        import os
        for path in {READ_ONLY!r}:
            try:
                with open(path, "a") as handle:
                    handle.write("owned")
                print("WROTE", path)
            except OSError as error:
                print("REFUSED", path, type(error).__name__)
        try:
            os.mkdir("/evil-dir")
            print("WROTE /evil-dir")
        except OSError as error:
            print("REFUSED /evil-dir", type(error).__name__)
    """))
    assert result.status == "ok", result
    lines = result.stdout.splitlines()
    assert len(lines) == len(READ_ONLY) + 1, result.stdout
    assert all(line.startswith("REFUSED ") for line in lines), result.stdout


def test_nothing_persists_between_runs(run: Run) -> None:
    """Files written in one run are gone in the next (every scratch space is fresh)."""
    places = ["/sandbox/left", "/tmp/left", "/dev/shm/left"]  # noqa: S108
    first = run(f"for p in {places!r}:\n    open(p, 'w').write('from run 1')\nprint('written')\n")
    assert first.stdout == "written\n", first
    second = run(f"import os\nprint([p for p in {places!r} if os.path.exists(p)])\n")
    assert second.status == "ok"
    assert second.stdout == "[]\n", second


def host_paths() -> list[str]:
    return ["/etc/shadow", "/etc/passwd", "/etc/hostname", "/root", "/home", "/work",
            str(REPO), str(CONFIG), str(REPO / ".env"), str(REPO / "questions"),
            str(REPO / "pyproject.toml"), "/var/lib", "/proc/1/root" + str(CONFIG)]


def test_host_files_are_not_visible(run: Run) -> None:
    """Host secrets, the bot's code, its `.env` and the question bank cannot be read or listed."""
    paths = host_paths()
    result = run(code(f"""
        import os
        for path in {paths!r}:
            try:
                if os.path.isdir(path):
                    print("LISTED", path, os.listdir(path))
                else:
                    print("READ", path, open(path, "rb").read(200))
            except OSError as error:
                print("REFUSED", path, type(error).__name__)
    """))
    assert result.status == "ok", result
    lines = result.stdout.splitlines()
    assert len(lines) == len(paths), result.stdout
    assert all(line.startswith("REFUSED ") for line in lines), result.stdout


def test_symlink_tricks_do_not_escape(run: Run) -> None:
    """Symlinks through /proc/1/root, /proc/self/root, /proc/1/cwd and ../.. stay inside."""
    targets = [f"/proc/1/root{CONFIG}", f"/proc/self/root/../../..{CONFIG}",
               f"../../../../..{CONFIG}", f"/proc/1/cwd/../..{CONFIG}",
               f"/proc/2/root/../{REPO}/.env", "/proc/1/root/etc/shadow"]
    result = run(code(f"""
        import os
        for i, target in enumerate({targets!r}):
            link = f"/sandbox/link{{i}}"
            os.symlink(target, link)
            try:
                print("READ", target, open(link, "rb").read(100))
            except OSError as error:
                print("REFUSED", target, type(error).__name__)
        try:
            os.link("/opt/mlquiz/harness.py", "/sandbox/hard")
            print("READ hardlink")
        except OSError as error:
            print("REFUSED hardlink", type(error).__name__)
    """))
    assert result.status == "ok", result
    lines = result.stdout.splitlines()
    assert len(lines) == len(targets) + 1
    assert all(line.startswith("REFUSED") for line in lines), result.stdout


def test_descriptor_exhaustion_is_bounded(run: Run) -> None:
    """Opening files until failure: EMFILE under the open-files limit, and the host is fine."""
    result = run(code("""
        held = []
        try:
            while True:
                held.append(open("/dev/null"))
        except OSError as error:
            print("STOPPED", len(held), error.errno)
    """))
    assert result.status == "ok", result
    _, count, errno_ = result.stdout.split()
    assert int(count) < 1024 and int(errno_) == 24, result.stdout  # EMFILE


# -- secrets ----------------------------------------------------------------------------------

SECRET_HUNT = code(r"""
    import os, re
    needle = re.compile(rb"can" + rb"ary-[0-9a-f]{32}")
    found = []

    def look(where, data):
        for match in needle.finditer(data):
            found.append((where, match.group()))

    def read(path, limit=1 << 20):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return b""
        try:
            return os.read(fd, limit)
        except OSError:
            return b""
        finally:
            os.close(fd)

    look("os.environ", repr(dict(os.environb)).encode())
    fds = {}
    for fd in range(4096):
        try:
            os.fstat(fd)
        except OSError:
            continue
        try:
            fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError as error:
            fds[fd] = repr(error)
    print("FDS", fds)
    for fd, target in fds.items():
        if not target.startswith("pipe:"):
            look(f"fd {fd}", read(f"/proc/self/fd/{fd}"))
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    print("PIDS", pids)
    for pid in pids:
        for name in ("environ", "cmdline"):
            look(f"/proc/{pid}/{name}", read(f"/proc/{pid}/{name}"))
        for link in ("cwd", "root"):
            for guess in ("mlquiz-canary.txt", "../mlquiz-canary.txt"):
                look(f"/proc/{pid}/{link}", read(f"/proc/{pid}/{link}/{guess}"))
        try:
            fd_names = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            fd_names = []
        for name in fd_names:
            look(f"/proc/{pid}/fd/{name}", read(f"/proc/{pid}/fd/{name}"))
        try:
            maps = open(f"/proc/{pid}/maps").read().splitlines()
            mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
        except OSError:
            continue
        with mem:
            for line in maps:
                span, perms = line.split()[:2]
                if not perms.startswith("r") or "[vvar" in line or "[vsyscall" in line:
                    continue
                start, end = (int(x, 16) for x in span.split("-"))
                try:
                    mem.seek(start)
                    look(f"/proc/{pid}/mem", mem.read(min(end - start, 64 << 20)))
                except (OSError, OverflowError, ValueError):
                    pass
    for guess in ("mlquiz-canary.txt", "../mlquiz-canary.txt", HOST_FILE):
        look(guess, read(guess))
    for top in ("/sandbox", "/tmp", "/dev/shm", "/etc", "/opt/mlquiz"):
        for folder, _dirs, files in os.walk(top):
            for name in files:
                look(os.path.join(folder, name), read(os.path.join(folder, name)))
    for name in os.listdir("/"):
        look("/" + name, read("/" + name))
    for where, value in found:
        print("FOUND", where, value)
    print("SCANNED", len(pids))
""")


@pytest.fixture
def canary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A secret in the environment, in a file in the cwd and behind an inheritable descriptor."""
    value = "canary-" + secrets.token_hex(16)
    monkeypatch.setenv("MLQUIZ_CANARY", value)
    secret_file = tmp_path / "mlquiz-canary.txt"
    secret_file.write_text(value)
    monkeypatch.chdir(tmp_path)
    fd = os.open(secret_file, os.O_RDONLY)
    os.set_inheritable(fd, True)
    try:
        yield value
    finally:
        os.close(fd)


def test_secrets_of_the_host_process_are_out_of_reach(run: Run, canary: str,
                                                      tmp_path: Path) -> None:
    """Environment, cwd file and inherited fd of the bot: none reachable by any route."""
    snippet = SECRET_HUNT.replace("HOST_FILE", repr(str(tmp_path / "mlquiz-canary.txt")))
    result = run(snippet)
    assert canary not in result.stdout and canary not in result.stderr
    assert result.status == "ok", result
    assert "FOUND" not in result.stdout, result.stdout
    assert "SCANNED" in result.stdout, result
    fds_line = next(line for line in result.stdout.splitlines() if line.startswith("FDS "))
    fds: dict[int, str] = eval(fds_line[4:])  # noqa: S307 - our own snippet's repr of a dict
    assert {0, 1, 2} <= set(fds), fds
    for fd, target in fds.items():  # the harness keeps a copy of stdout; nothing else is open
        assert target.startswith("pipe:") or target == "/dev/null", (fd, target)
    assert len(fds) <= 4, fds


def test_host_paths_are_not_disclosed(run: Run) -> None:
    """The host's directory layout (repo and virtualenv paths) must not be readable inside.

    bwrap's own command line lists every `--ro-bind HOST_PATH /opt/site/...` source; the
    program runs as PID 1 (`--as-pid-1`), so no bwrap process is visible inside at all.
    """
    needle = str(REPO)[::-1]  # reversed, so the snippet's own memory holds no copy to find
    result = run(code(f"""
        import os
        needle = {needle!r}[::-1].encode()
        for pid in (p for p in os.listdir("/proc") if p.isdigit()):
            for name in ("cmdline", "environ"):
                try:
                    data = open(f"/proc/{{pid}}/{{name}}", "rb").read()
                except OSError:
                    continue
                if needle in data:
                    print("DISCLOSED", f"/proc/{{pid}}/{{name}}")
        print("DONE")
    """))
    assert result.status == "ok", result
    assert "DONE" in result.stdout
    assert str(REPO) not in result.stdout
    assert "DISCLOSED" not in result.stdout, (
        "host paths readable inside the sandbox: " + result.stdout)


# -- network ----------------------------------------------------------------------------------

@pytest.fixture
def tcp_listener() -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    yield listener
    listener.close()


def test_tcp_to_a_host_listener_fails(run: Run, tcp_listener: socket.socket) -> None:
    """A listener on the host's 127.0.0.1 is in another network namespace: unreachable."""
    port = tcp_listener.getsockname()[1]
    result = run(code(f"""
        import socket
        for host in ("127.0.0.1", "localhost", "::1", "10.0.2.2", "172.17.0.1"):
            try:
                socket.create_connection((host, {port}), timeout=0.5).close()
                print("CONNECTED", host)
            except OSError as error:
                print("FAILED", host, type(error).__name__)
    """))
    assert result.status == "ok", result
    assert "CONNECTED" not in result.stdout
    assert result.stdout.count("FAILED") == 5
    with pytest.raises(BlockingIOError):
        tcp_listener.accept()


def test_dns_lookup_fails(run: Run) -> None:
    result = run(code("""
        import socket
        try:
            print("RESOLVED", socket.getaddrinfo("example.com", 80))
        except OSError as error:
            print("FAILED", type(error).__name__)
    """))
    assert result.status == "ok", result
    assert result.stdout.startswith("FAILED")


SOCKETS = {
    "raw-inet": ("AF_INET", "SOCK_RAW", 1),
    "raw-inet6": ("AF_INET6", "SOCK_RAW", 58),
    "netlink-route": ("AF_NETLINK", "SOCK_RAW", 0),
    "netlink-dgram": ("AF_NETLINK", "SOCK_DGRAM", 0),
    "packet": ("AF_PACKET", "SOCK_RAW", 0),
    "packet-dgram": ("AF_PACKET", "SOCK_DGRAM", 0),
    "vsock": ("AF_VSOCK", "SOCK_STREAM", 0),
    "inet-sock-packet": ("AF_INET", "SOCK_PACKET", 0),
}


def test_dangerous_socket_types_are_refused(run: Run) -> None:
    """Raw, packet, netlink and vsock sockets cannot even be created."""
    result = run(code(f"""
        import socket
        for name, (family, kind, proto) in {SOCKETS!r}.items():
            try:
                socket.socket(getattr(socket, family), getattr(socket, kind, 10), proto).close()
                print("OPENED", name)
            except OSError as error:
                print("REFUSED", name, error.errno)
    """))
    assert result.status == "ok", result
    lines = result.stdout.splitlines()
    assert len(lines) == len(SOCKETS), result.stdout
    assert all(line.startswith("REFUSED ") for line in lines), result.stdout


def test_abstract_unix_socket_on_the_host_is_unreachable(run: Run) -> None:
    """Abstract unix sockets belong to the network namespace: the host's is not visible."""
    name = f"\0mlquiz-test-{secrets.token_hex(8)}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(name)
        listener.listen(4)
        listener.setblocking(False)
        result = run(code(f"""
            import socket
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.connect({name!r})
                print("CONNECTED")
            except OSError as error:
                print("FAILED", type(error).__name__)
        """))
        assert result.status == "ok", result
        assert result.stdout.startswith("FAILED"), result.stdout
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


# -- privileges -------------------------------------------------------------------------------

def test_identity_is_uid_1000_on_host_sandbox(run: Run) -> None:
    result = run(code("""
        import os, socket
        print(os.getuid(), os.geteuid(), os.getgid(), socket.gethostname(), os.getcwd())
        print(open("/proc/self/status").read())
    """))
    assert result.status == "ok", result
    first, status = result.stdout.split("\n", 1)
    assert first == "1000 1000 1000 sandbox /sandbox"
    assert "CapEff:\t0000000000000000" in status
    assert "NoNewPrivs:\t1" in status
    assert "Seccomp:\t2" in status


def test_setuid_root_fails(run: Run) -> None:
    result = run(code("""
        import os
        for call in (lambda: os.setuid(0), lambda: os.setgid(0), lambda: os.setgroups([0])):
            try:
                call()
                print("BECAME ROOT")
            except OSError as error:
                print("REFUSED", error.errno)
        print(os.getuid())
    """))
    assert result.status == "ok", result
    assert "BECAME ROOT" not in result.stdout
    assert result.stdout.splitlines()[-1] == "1000"


NAMESPACE_CALLS = {
    # name: Python expression (with `libc`, `nr`, `ctypes` in scope) that must return -1/EPERM
    "unshare-newuser": "libc.unshare(0x10000000)",
    "unshare-newns": "libc.unshare(0x00020000)",
    "clone-newuser": "libc.syscall(nr['clone'], 0x10000000 | 17, 0, 0, 0, 0)",
    "setns": "libc.setns(0, 0)",
    "mount-tmpfs": "libc.mount(b'none', b'/sandbox', b'tmpfs', 0, None)",
    "remount-root-rw": "libc.mount(b'none', b'/', None, 0x20 | 0x1000, None)",
    "umount-proc": "libc.umount2(b'/proc', 2)",
    "chroot": "libc.chroot(b'/sandbox')",
}
DEBUG_CALLS = {
    "ptrace-traceme": "libc.ptrace(0, 0, None, None)",
    "ptrace-attach-pid-1": "libc.ptrace(16, 1, None, None)",
    "process-vm-readv": "libc.syscall(nr['process_vm_readv'], 1, 0, 0, 0, 0, 0)",
    "perf-event-open": "libc.syscall(nr['perf_event_open'], None, 0, -1, -1, 0)",
    "userfaultfd": "libc.syscall(nr['userfaultfd'], 0)",
}
KERNEL_CALLS = {
    "clock-settime": "libc.clock_settime(0, ctypes.byref((ctypes.c_long * 2)(0, 0)))",
    "settimeofday": "libc.settimeofday(ctypes.byref((ctypes.c_long * 2)(0, 0)), None)",
    "sethostname": "libc.sethostname(b'pwned', 5)",
    "keyctl": "libc.syscall(nr['keyctl'], 0, -3, 0, 0, 0)",
    "add-key": "libc.syscall(nr['add_key'], b'user', b'k', b'v', 1, -3)",
    "bpf": "libc.syscall(nr['bpf'], 0, None, 0)",
    "io-uring-setup": "libc.syscall(nr['io_uring_setup'], 8, None)",
    "init-module": "libc.syscall(nr['init_module'], None, 0, b'')",
}


@pytest.mark.parametrize("calls", [NAMESPACE_CALLS, DEBUG_CALLS, KERNEL_CALLS],
                         ids=["namespaces-and-mounts", "ptrace-and-memory",
                              "clock-hostname-keyring-bpf-modules"])
def test_privileged_system_calls_fail_with_eperm(run: Run, calls: dict[str, str]) -> None:
    """Namespaces, mounts, ptrace, clocks, hostname, keyrings, BPF and friends: EPERM."""
    numbers = {name: syscall_number(name) for name in (
        "clone", "process_vm_readv", "keyctl", "add_key", "bpf", "perf_event_open",
        "io_uring_setup", "userfaultfd", "init_module")}
    result = run(code(f"""
        import ctypes, socket
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        nr = {numbers!r}
        for name, call in {calls!r}.items():
            ctypes.set_errno(0)
            returned = eval(call)
            print(name, returned, ctypes.get_errno())
        print(socket.gethostname(), open("/proc/self/mounts").read().count("\\n"))
    """))
    assert result.status == "ok", result
    lines = result.stdout.splitlines()
    assert lines[:-1] == [f"{name} -1 1" for name in calls], result.stdout  # EPERM == 1
    assert lines[-1].startswith("sandbox ")


def test_segfault_is_reported_as_a_signal(run: Run) -> None:
    result = run("import ctypes\nctypes.string_at(0)\n")
    assert result.status in ("killed", "error"), result
    assert (result.limit is not None and "SIGSEGV" in result.limit) or (
        "Segmentation fault" in result.stderr), result


def test_deep_recursion_reports_recursion_error(run: Run) -> None:
    result = run("def down(n):\n    return down(n + 1)\ndown(0)\n")
    assert result.status == "error", result
    assert "RecursionError" in result.stderr
    assert result.wall_ms < QUICK_MS


# -- cheating the checker ---------------------------------------------------------------------

ADD = Question.model_validate({
    "id": "adversarial-add",
    "category": "coding",
    "topic": "python-data",
    "difficulty": "easy",
    "prompt": "Write add(a, b) that returns the sum of two integers.",
    "intent": "A trivial question used to make sure the checker cannot be fooled.",
    "key_points": [{"text": "returns a + b"}, {"text": "returns an int"}],
    "model_answer": "Return a + b; Python integers do not overflow.",
    "entry_point": "def add(a: int, b: int) -> int",
    "starter": "def add(a: int, b: int) -> int:\n    raise NotImplementedError\n",
    "reference_solution": "def add(a: int, b: int) -> int:\n    return a + b\n",
    "tests": [
        {"name": "small numbers", "call": "add(2, 3)", "expect": 5},
        {"name": "negative numbers", "call": "add(-7, 4)"},
        {"name": "big numbers", "call": "add(10**15, 1)"},
        {"name": "a string and a number", "call": "add('a', 1)", "raises": "TypeError"},
    ],
    "tolerance": 0,  # integers: exact (the default relative 1e-6 would accept 10**15 - 1)
})

WRONG = "def add(a, b):\n    return 0\n"  # wrong everywhere, and never raises TypeError

FORGERIES = {
    "prints-all-passed": WRONG + code("""
        print("all tests passed")
        print('{"passed": 4, "total": 4, "problem": null}')
    """),
    "forged-record-lines": WRONG + code(r"""
        import sys
        for i in range(4):
            sys.stdout.write('\n\x1emlquiz-record {"test": %d, "value": 999}\n' % i)
        sys.stdout.write('\n\x1emlquiz-record {"done": true}\n')
        sys.stdout.flush()
    """),
    "forged-duplicates-then-os-exit": code(r"""
        import os
        line = '\n\x1emlquiz-record {"test": %d, "value": %s}\n'
        for i, value in enumerate(["6", "-2", "1", "0"]):
            os.write(1, (line % (i, value)).encode() * 2)
        os.write(1, b'\n\x1emlquiz-record {"done": true}\n')
        os._exit(0)
    """),
    "sys-exit-at-import": "import sys\nprint('all tests passed')\nsys.exit(0)\n",
    "os-exit-at-import": "import os\nprint('all tests passed', flush=True)\nos._exit(0)\n",
    "starter-unchanged": ADD.starter or "",
    "patched-builtins": WRONG + code("""
        import builtins
        builtins.type = lambda *args: int
        builtins.isinstance = lambda *args: True
        builtins.len = lambda *args: 0
    """),
    "patched-json-and-os-write": WRONG + code(r"""
        import json, os
        real_write = os.write
        json.dumps = lambda *a, **k: '{"test": 0, "value": 5}'
        json.loads = lambda *a, **k: {"passed": True}
        def write(fd, data):
            return real_write(fd, data.replace(b'"value": -', b'"value": '))
        os.write = write
    """),
    "patched-harness-reporter-and-encoder": WRONG + code(r"""
        import gc, sys
        harness = sys.modules["__main__"]
        if hasattr(harness, "Encoder"):
            harness.Encoder.encode = lambda self, value, depth=0: 5
        for thing in gc.get_objects():
            if type(thing).__name__ == "Reporter":
                thing.emit = lambda record: None
    """),
    "always-equal-object": code("""
        class Anything:
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            __hash__ = object.__hash__
        def add(a, b):
            return Anything()
    """),
    "float-subclass": code("""
        class Sly(float):
            def __eq__(self, other):
                return True
            __hash__ = float.__hash__
        def add(a, b):
            return Sly(0.0)
    """),
    "int-subclass": code("""
        class Sly(int):
            def __eq__(self, other):
                return True
            __hash__ = int.__hash__
        def add(a, b):
            return Sly(0)
    """),
    "list-subclass": code("""
        class Sly(list):
            def __eq__(self, other):
                return True
            __hash__ = None
        def add(a, b):
            return Sly()
    """),
    "fake-numpy-array": code("""
        class ndarray:
            def tolist(self):
                return 0
            def __eq__(self, other):
                return True
        ndarray.__module__ = "numpy"
        def add(a, b):
            return ndarray()
    """),
    "always-raises-type-error": "def add(a, b):\n    raise TypeError('nope')\n",
    "hides-a-record-behind-a-partial-line": WRONG + code(r"""
        import sys
        sys.stdout.write('\x1emlquiz-record ')
    """),
}


@pytest.fixture(scope="module")
def checker(sandbox: Sandbox) -> Checker:
    return Checker(sandbox)


def check(checker: Checker, submission: str) -> CheckReport:
    return checker.check(ADD, submission)


@pytest.mark.parametrize("submission", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_submissions_do_not_pass(checker: Checker, submission: str) -> None:
    """Fake output, forged records, early exits, patched helpers and lying objects all fail."""
    report = check(checker, submission)
    assert not report.all_passed, report.to_json()
    assert report.passed < report.total == 4, report.to_json()
    assert report.passed <= 1, report.to_json()  # at most the one TypeError test, honestly


def test_a_lying_object_is_named_by_its_type(checker: Checker, run: Run) -> None:
    report = check(checker, FORGERIES["always-equal-object"])
    assert any("returned an object of type Anything, which the checker cannot compare"
               in outcome.detail for outcome in report.outcomes), report.to_json()


def test_forged_records_are_flagged_as_tampering(checker: Checker, run: Run) -> None:
    """A record line printed by the submission collides with the harness's own: tampered."""
    report = check(checker, FORGERIES["forged-record-lines"])
    assert report.passed == 0, report.to_json()
    assert any("tampered" in outcome.detail for outcome in report.outcomes), report.to_json()


def test_an_honest_correct_submission_passes(checker: Checker, run: Run) -> None:
    report = check(checker, "def add(a: int, b: int) -> int:\n    print('hi')\n    return a + b\n")
    assert report.all_passed, report.to_json()
    assert report.passed == report.total == 4
    assert report.problem is None
