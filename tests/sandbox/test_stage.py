"""Packages in a folder only root may enter are staged where the sandbox uid can read them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.stage import readable_binds
from bot.sandbox.view import Unavailable


def stranger_reads(path: str) -> bool:
    """Whether the unprivileged `nobody` can read the file (as the sandbox uid would)."""
    done = subprocess.run(["runuser", "-u", "nobody", "--", "cat", path],  # noqa: S603, S607
                          capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder anyone may search (pytest's own temporary folders are 0700)."""
    path = Path(tempfile.mkdtemp(dir="/var/tmp"))  # noqa: S108 - a fresh folder of our own
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def private_site(tmp_path: Path) -> Path:
    """A site-packages inside a 0700 folder, as in root's home or a `mktemp -d` clone."""
    private = tmp_path / "private"
    site = private / "venv" / "site-packages"
    (site / "tinypkg" / "sub").mkdir(parents=True)
    (site / "tinypkg" / "__init__.py").write_text("VALUE = 42\n")
    (site / "tinypkg" / "sub" / "data.txt").write_text("data\n")
    (site / "tinypkg" / "link.py").symlink_to("__init__.py")
    (site / "tiny_mod.py").write_text("X = 1\n")
    for folder in (tmp_path, site, site / "tinypkg", site / "tinypkg" / "sub"):
        folder.chmod(0o755)
    private.chmod(0o700)
    return site


def binds_of(site: Path, *names: str) -> list[tuple[str, str]]:
    return [(str(site / name), f"/opt/site/{name}") for name in names]


def test_a_private_environment_is_staged_readable_as_hard_links(private_site: Path,
                                                                open_dir: Path) -> None:
    binds = binds_of(private_site, "tinypkg", "tiny_mod.py")
    assert not stranger_reads(str(private_site / "tiny_mod.py"))

    staged = readable_binds(binds, open_dir / "stage")

    assert [inside for _host, inside in staged] == ["/opt/site/tinypkg", "/opt/site/tiny_mod.py"]
    package = Path(staged[0][0])
    assert stranger_reads(str(package / "sub" / "data.txt"))
    assert stranger_reads(staged[1][0])
    # the same files, not copies: staging costs no disk and keeps every byte identical
    assert (package / "__init__.py").stat().st_ino == \
        (private_site / "tinypkg" / "__init__.py").stat().st_ino
    assert os.readlink(package / "link.py") == "__init__.py"


def test_staging_is_reused_and_a_new_version_stages_afresh(private_site: Path,
                                                            open_dir: Path) -> None:
    root = open_dir / "stage"
    first = readable_binds(binds_of(private_site, "tinypkg"), root)
    marker = Path(first[0][0]) / "sub" / "data.txt"
    built = marker.stat().st_ctime_ns
    again = readable_binds(binds_of(private_site, "tinypkg"), root)
    assert again == first and marker.stat().st_ctime_ns == built  # not rebuilt

    (private_site / "tinypkg-2.0.dist-info").mkdir(mode=0o755)
    upgraded = readable_binds(binds_of(private_site, "tinypkg", "tinypkg-2.0.dist-info"), root)
    assert Path(upgraded[0][0]).parent != Path(first[0][0]).parent


def test_a_file_only_its_owner_may_read_is_copied_readable(private_site: Path,
                                                          open_dir: Path) -> None:
    secret = private_site / "tiny_mod.py"
    secret.chmod(0o600)
    staged = readable_binds(binds_of(private_site, "tiny_mod.py"), open_dir / "stage")
    assert stranger_reads(staged[0][0])
    assert Path(staged[0][0]).stat().st_ino != secret.stat().st_ino
    assert secret.stat().st_mode & 0o777 == 0o600  # the original is left as it was


def test_readable_packages_are_bound_where_they_are(open_dir: Path) -> None:
    site = open_dir / "site"
    (site / "pkg").mkdir(parents=True, mode=0o755)
    (site / "pkg" / "__init__.py").write_text("")
    binds = binds_of(site, "pkg")
    assert readable_binds(binds, open_dir / "stage") == binds
    assert not (open_dir / "stage").exists()


def test_a_stage_folder_others_may_write_is_refused(private_site: Path, open_dir: Path) -> None:
    root = open_dir / "shared"
    root.mkdir()
    root.chmod(0o777)
    with pytest.raises(Unavailable, match="writable by it alone"):
        readable_binds(binds_of(private_site, "tinypkg"), root)


def test_trees_unused_for_a_week_are_removed(private_site: Path, open_dir: Path) -> None:
    root = open_dir / "stage"
    old = root / "0123456789abcdef"
    old.mkdir(parents=True)
    week_ago = time.time() - 8 * 24 * 3600
    os.utime(old, (week_ago, week_ago))
    readable_binds(binds_of(private_site, "tinypkg"), root)
    assert not old.exists()
