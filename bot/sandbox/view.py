"""What the sandbox can see: an interpreter, its standard library and a curated site directory.

Nothing else of the host is visible. Third-party packages are bound one top-level entry at a time
from the bot's own environment (numpy, pandas, scikit-learn and what they depend on), so the
bot's own code, its virtual environment's other packages, `.env` and the database never appear.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

SITE = "/opt/site"
SKIP_TOP = {"..", "__pycache__", "bin", "share", "include", "etc"}


class Unavailable(RuntimeError):
    """Code runs cannot be offered on this server; the message says why in plain words."""


@dataclass(frozen=True)
class View:
    python: str
    prefix: str
    binds: tuple[tuple[str, str], ...]  # (host path, path in the sandbox), read-only

    @property
    def site_path(self) -> list[str]:
        return [SITE]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", requirement.strip(), maxsplit=1)[0]


def distributions(names: list[str]) -> list[metadata.Distribution]:
    """The named distributions and everything they require (extras left out)."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if _normal(name) in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as missing:
            raise Unavailable(f"the package {name} is not installed for the sandbox") from missing
        found[_normal(name)] = dist
        todo += [_requirement_name(req) for req in dist.requires or () if "extra ==" not in req]
    return list(found.values())


def package_binds(names: list[str]) -> list[tuple[str, str]]:
    binds: dict[str, str] = {}
    for dist in distributions(names):
        root = Path(str(dist.locate_file("")))
        for file in dist.files or ():
            top = file.parts[0]
            if top in SKIP_TOP or top.endswith(".pth"):
                continue
            source = root / top
            if source.exists():
                binds[str(source)] = f"{SITE}/{top}"
    return sorted(binds.items())


def readable_by_others(path: str) -> bool:
    """Whether an unprivileged stranger can reach and read `path` (every parent searchable)."""
    current = Path(path).resolve()
    for folder in [*reversed(current.parents)]:
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(current).st_mode & stat.S_IROTH)


def choose_python(configured: str | None, strangers: bool) -> str:
    """The interpreter to run: the configured one, else ours, else the system's same version.

    When the sandbox runs under a different uid (`strangers`), the interpreter must be readable
    by anyone; a pyenv under /root, for example, is not, while /usr/bin/python3.X is.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = Path(sys.base_prefix) / "bin" / f"python{version}"
    candidates = [configured] if configured else [
        str(base), f"/usr/local/bin/python{version}", f"/usr/bin/python{version}"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and (not strangers
                                                        or readable_by_others(candidate)):
            return str(Path(candidate).resolve())
    raise Unavailable(f"no Python {version} interpreter that the sandbox user can read "
                      "(set MLQUIZ_SANDBOX_PYTHON)")


def interpreter_prefix(python: str) -> str:
    """Where the interpreter keeps its standard library (asked of the interpreter itself)."""
    done = subprocess.run(  # noqa: S603 - the operator's interpreter, no user input
        [python, "-I", "-S", "-c", "import sys; print(sys.base_prefix)"],
                          capture_output=True, text=True, timeout=20, env={}, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise Unavailable(f"the interpreter {python} does not start")
    return done.stdout.strip()


def build_view(configured_python: str | None, packages: list[str], strangers: bool,
               stage_root: Path | None = None) -> View:
    """What the sandbox sees; with `strangers`, packages it cannot reach are staged first."""
    from bot.sandbox.stage import readable_binds

    python = choose_python(configured_python, strangers)
    prefix = interpreter_prefix(python)
    binds = package_binds(packages)
    if strangers:
        binds = readable_binds(binds, stage_root)
    if not (prefix == "/usr" or prefix.startswith("/usr/")):
        binds.insert(0, (prefix, prefix))
    return View(python=python, prefix=prefix, binds=tuple(binds))
