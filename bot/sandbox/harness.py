"""The program that runs *inside* the sandbox, in front of every submission.

It is copied into the sandbox (never imported by the bot) and uses the standard library only.
It reads one JSON request on stdin, lowers its own resource limits so the submission can never
raise them again, and then either runs the submission as a program (`run`) or calls it once per
hidden test (`check`).

In `check` mode the harness only *reports values*: each test's call result is encoded as plain
JSON and written as a marked record on stdout. Whether a value is right is decided outside the
sandbox, against the reference solution's values, which never enter it. So a submission that
prints "all tests passed", exits early, patches helpers or returns objects whose `__eq__` always
says yes can at best report a wrong or missing value: it cannot forge a pass.
"""

from __future__ import annotations

import marshal
import os
import resource
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imports cost milliseconds at every start, so only what a run needs
    from types import CodeType
    from typing import Any

SOURCES: dict[str, str] = {}

MARK = "\x1emlquiz-record "
MAX_ITEMS = 100_000
MAX_DEPTH = 32
MAX_MESSAGE = 500


class Unencodable(TypeError):
    """A returned value that cannot be reported as plain data."""


def on_cpu_limit(_signum: int, _frame: object) -> None:
    """End the run at the soft CPU limit.

    The program is PID 1 of its namespace, which ignores SIGXCPU unless it handles it; the hard
    limit's SIGKILL stays the backstop if the program replaces this handler.
    """
    os._exit(128 + 24)


def apply_limits(limits: dict[str, int]) -> None:
    """Lower soft and hard limits together: the submission cannot raise a hard limit again.

    CPU time counts from here: a warm sandbox has already spent some importing its packages.
    """
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + 1 + limits["cpu_seconds"]
    pairs = {
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_NPROC: (limits["processes"],) * 2,
        resource.RLIMIT_FSIZE: (limits["file_bytes"],) * 2,
        resource.RLIMIT_NOFILE: (limits["open_files"],) * 2,
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_MEMLOCK: (0, 0),
    }
    if limits.get("address_space_bytes"):
        pairs[resource.RLIMIT_AS] = (limits["address_space_bytes"],) * 2
    for which, (soft, hard) in pairs.items():
        resource.setrlimit(which, (soft, hard))
    import _signal  # type: ignore[import-not-found]  # `signal` would import enum each start

    _signal.signal(_signal.SIGXCPU, on_cpu_limit)


class Encoder:
    """Turn a returned value into JSON made only of lists, numbers, strings and tagged objects.

    Types are checked exactly (`type(x) is list`, never `isinstance`), so a subclass with a
    custom `__eq__`, `__iter__` or `__float__` is refused instead of trusted.
    """

    def __init__(self) -> None:
        self.items = 0

    def encode(self, value: Any, depth: int = 0) -> object:  # noqa: ANN401 - any value at all
        self.items += 1
        if self.items > MAX_ITEMS or depth > MAX_DEPTH:
            raise Unencodable("returned a value too large or too deeply nested to check")
        kind = type(value)
        if value is None or kind is bool or kind is str or kind is int:
            return value
        if kind is float:
            finite = value - value == 0  # False for inf and nan (no `math` import at start)
            return value if finite else {"float": repr(value)}
        if kind is complex:
            parts = (value.real, value.imag)
            return {"complex": [self.encode(part, depth + 1) for part in parts]}
        if kind is list or kind is tuple:
            return [self.encode(item, depth + 1) for item in value]
        if kind is dict:
            return {"dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                             for k, v in value.items()]}
        if kind is set or kind is frozenset:
            return {"set": [self.encode(item, depth + 1) for item in value]}
        module = getattr(kind, "__module__", "") or ""
        name = kind.__name__
        if module == "numpy":
            if name == "ndarray":
                return self.encode(value.tolist(), depth + 1)
            if hasattr(value, "item"):
                return self.encode(value.item(), depth + 1)
        if module.startswith("pandas"):
            if name == "DataFrame":
                return {"frame": {
                    "columns": self.encode(list(value.columns.tolist()), depth + 1),
                    "index": self.encode(list(value.index.tolist()), depth + 1),
                    "data": self.encode(value.to_numpy().tolist(), depth + 1)}}
            if name == "Series":
                return {"series": {
                    "name": self.encode(value.name, depth + 1),
                    "index": self.encode(list(value.index.tolist()), depth + 1),
                    "data": self.encode(value.tolist(), depth + 1)}}
            if name.endswith("Index"):
                return self.encode(value.tolist(), depth + 1)
        if module == "pandas._libs.missing" or name in ("NAType", "NaTType"):
            return {"float": "nan"}
        raise Unencodable(f"returned an object of type {name}, which the checker cannot compare; "
                          "return numbers, strings, lists, dicts, numpy arrays or pandas objects")


def short(text: object) -> str:
    shown = str(text)
    return shown if len(shown) <= MAX_MESSAGE else shown[:MAX_MESSAGE] + "…"


def user_traceback(error: BaseException) -> str:
    """The traceback from the submission's own frames on, without the harness's."""
    tb = error.__traceback__
    mine = user_traceback.__code__.co_filename  # works from source and precompiled alike
    while tb is not None and tb.tb_frame.f_code.co_filename == mine:
        tb = tb.tb_next
    import linecache
    import traceback

    for filename, source in SOURCES.items():
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return "".join(traceback.format_exception(type(error), error, tb))


class Reporter:
    """Write marked records to the stdout descriptor the harness started with."""

    def __init__(self, checking: bool) -> None:
        self.fd = os.dup(1)
        self.write = os.write
        if checking:  # json costs milliseconds to import; a plain run does not need it
            import json

            self.dumps = json.dumps

    def emit(self, record: dict[str, Any]) -> None:
        try:  # noqa: SIM105 - contextlib would cost an import at every start
            sys.stdout.flush()
        except BaseException:  # noqa: S110 - a broken stdout must not stop the report
            pass
        self.emit_line(self.dumps(record, ensure_ascii=True, allow_nan=False))

    def emit_line(self, line: str) -> None:
        data = ("\n" + MARK + line + "\n").encode()
        while data:
            data = data[self.write(self.fd, data):]


def compile_source(source: str, filename: str) -> CodeType:
    SOURCES[filename] = source
    return compile(source, filename, "exec")


def run_program(code: str) -> int:
    try:
        program = compile_source(code, "main.py")
    except SyntaxError as error:
        import traceback

        sys.stderr.write("".join(traceback.format_exception_only(type(error), error)))
        return 1
    try:
        exec(program, {"__name__": "__main__", "__builtins__": __builtins__})  # noqa: S102
    except SystemExit as done:
        status = done.code
        if status is None or isinstance(status, int):
            return status or 0
        sys.stderr.write(f"{status}\n")
        return 1
    except BaseException as error:
        sys.stderr.write(user_traceback(error))
        return 1
    return 0


def check(spec: dict[str, Any], reporter: Reporter) -> int:
    setup = compile_source(spec.get("setup") or "", "setup.py")
    try:
        program = compile_source(spec["code"], "solution.py")
    except SyntaxError as error:
        reporter.emit({"load_error": "SyntaxError", "message": short(error)})
        return 0
    for index, test in enumerate(spec["tests"]):
        namespace = {"__name__": "solution", "__builtins__": __builtins__}
        try:
            exec(setup, namespace)  # noqa: S102
        except BaseException as error:
            reporter.emit({"test": index, "setup_error": type(error).__name__,
                           "message": short(error)})
            continue
        try:
            exec(program, namespace)  # noqa: S102
        except BaseException as error:
            reporter.emit({"test": index, "load_error": type(error).__name__,
                           "message": short(error)})
            continue
        try:
            value = eval(compile(test["call"], "test", "eval"), namespace)  # noqa: S307
        except BaseException as error:
            reporter.emit({"test": index, "raised": type(error).__name__, "message": short(error)})
            continue
        try:
            encoded = Encoder().encode(value)
        except BaseException as error:
            reporter.emit({"test": index, "unencodable": short(error)})
            continue
        reporter.emit({"test": index, "value": encoded})
    reporter.emit({"done": True})
    return 0


def preload(modules: list[str]) -> None:
    """Import packages before the request arrives (a warm sandbox); failures are the run's."""
    for module in modules:
        try:  # noqa: SIM105 - contextlib would cost an import at every start
            __import__(module)
        except Exception:  # noqa: S110 - the submission will see the same failure itself
            pass


def main() -> int:
    options = dict(zip(sys.argv[1::2], sys.argv[2::2], strict=False))
    sys.path.extend(p for p in options.get("--path", "").split(":") if p)
    preload([m for m in options.get("--preload", "").split(",") if m])
    spec = marshal.loads(sys.stdin.buffer.read())  # noqa: S302 - written by the bot, not a user
    before = resource.getrusage(resource.RUSAGE_SELF)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    apply_limits(spec["limits"])
    sys.argv = ["main.py"]
    checking = spec["mode"] == "check"
    reporter = Reporter(checking)
    status = check(spec, reporter) if checking else run_program(spec["code"])
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    spent = (mine.ru_utime + mine.ru_stime - before.ru_utime - before.ru_stime
             + children.ru_utime + children.ru_stime)
    rss = max(mine.ru_maxrss, children.ru_maxrss)
    flush()
    reporter.emit_line(f'{{"usage": {{"cpu_ms": {spent * 1000:.3f}, "max_rss_kb": {rss}}}}}')
    return status


def flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - see preload()
            stream.flush()
        except BaseException:  # noqa: S110 - a closed stream has nothing left to say
            pass


if __name__ == "__main__":
    code = main()
    flush()
    # Skip the interpreter's teardown: with scikit-learn loaded it takes half a second, and the
    # sandbox is thrown away anyway.
    os._exit(code)
