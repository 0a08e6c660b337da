"""Packages the sandbox uid can read, wherever the bot's environment lives.

When the bot runs as root, bwrap runs as an unprivileged uid, and that uid must be able to reach
every path it binds. A virtual environment inside a directory only root may enter (root's home,
a `mktemp -d` folder) is out of its reach, although the files in it are readable by anyone.
Those packages are staged once in a root-owned directory that anyone may search, as hard links
to the same files (copies where a link cannot be made, e.g. across filesystems), and the sandbox
binds the staged entries instead. The staged tree is keyed by the exact package directories
(their names carry the versions), so an upgrade stages afresh; trees unused for a week go.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import stat
import time
from pathlib import Path

from bot.sandbox.view import Unavailable, readable_by_others

log = logging.getLogger(__name__)
DEFAULT_ROOT = Path("/var/cache/mlquiz/sandbox-site")
COMPLETE = ".complete"
UNUSED_FOR = 7 * 24 * 3600.0

Binds = list[tuple[str, str]]


def readable_binds(binds: Binds, root: Path | None = None) -> Binds:
    """`binds` as they are when the sandbox uid can read them all, else staged under `root`."""
    if all(readable_by_others(host) for host, _inside in binds):
        return binds
    root = root or DEFAULT_ROOT
    _trusted_root(root)
    key = hashlib.sha256("\n".join(f"{h}\t{i}" for h, i in binds).encode()).hexdigest()[:16]
    target = root / key
    if not (target / COMPLETE).exists():
        started = time.monotonic()
        _build(binds, root, target)
        log.info("sandbox packages staged in %s (%.1f s): the environment at %s is not "
                 "readable by the sandbox user", target, time.monotonic() - started,
                 os.path.commonpath([host for host, _inside in binds]))
    os.utime(target)
    _prune(root, keep=target)
    staged = [(str(target / Path(inside).name), inside) for _host, inside in binds]
    for host, _inside in staged:
        if not readable_by_others(host):
            raise Unavailable(f"{host} is not readable by the sandbox user (every folder above "
                              "it must be searchable by others; set MLQUIZ_SANDBOX_STAGE_DIR)")
    return staged


def _trusted_root(root: Path) -> None:
    """Create `root` (mode 0755) and make sure only we can change what is in it."""
    try:
        root.mkdir(mode=0o755, parents=True, exist_ok=True)
        info = os.stat(root)
    except OSError as error:
        raise Unavailable(f"cannot stage the sandbox packages in {root}: {error.strerror} "
                          "(set MLQUIZ_SANDBOX_STAGE_DIR to a writable folder)") from error
    if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise Unavailable(f"{root} must belong to the bot's user and be writable by it alone "
                          "to hold the sandbox packages")


def _build(binds: Binds, root: Path, target: Path) -> None:
    """Link (or copy) every bound entry into a fresh folder, then move it into place at once."""
    building = root / f".{target.name}.{os.getpid()}.building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(mode=0o755)
    try:
        for host, inside in binds:
            _place(Path(host), building / Path(inside).name)
        (building / COMPLETE).touch()
        try:
            building.rename(target)
        except OSError:  # another process staged the same tree first
            if not (target / COMPLETE).exists():
                raise
    except OSError as error:
        raise Unavailable(f"cannot stage the sandbox packages in {root}: {error}") from error
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _place(source: Path, destination: Path) -> None:
    if source.is_symlink():
        destination.symlink_to(os.readlink(source))
    elif source.is_dir():
        destination.mkdir(mode=0o755)
        for child in os.scandir(source):
            _place(Path(child.path), destination / child.name)
    else:
        _link_or_copy(source, destination)


def _link_or_copy(source: Path, destination: Path) -> None:
    mode = os.lstat(source).st_mode
    if mode & stat.S_IROTH:
        with contextlib.suppress(OSError):
            os.link(source, destination)
            return
    shutil.copy2(source, destination)
    # a copy is made readable (and, for programs, runnable) by the sandbox user
    os.chmod(destination, (mode | 0o444 | (0o111 if mode & 0o100 else 0)) & 0o755)


def _prune(root: Path, keep: Path) -> None:
    cutoff = time.time() - UNUSED_FOR
    for entry in root.iterdir():
        if entry != keep and not entry.name.startswith(".") and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
