"""The seccomp filter: syscall numbers match the kernel's own headers, and the program is sound.

The adversarial suite shows the filter working on this machine; this checks every number in
both tables against the uapi headers (linux-libc-dev, installed by `make test`), including the
architecture we cannot run here.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from bot.sandbox import seccomp

HEADERS = {
    "x86_64": Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    "aarch64": Path("/usr/include/asm-generic/unistd.h"),
}


def kernel_numbers(header: Path) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for name, value in re.findall(r"#define __NR(?:3264)?_(\w+)\s+(\d+)\b", header.read_text()):
        numbers.setdefault(name, int(value))
    return numbers


@pytest.mark.parametrize(("arch", "table"), [("x86_64", seccomp.X86_64),
                                             ("aarch64", seccomp.AARCH64)])
def test_every_syscall_number_matches_the_kernel_headers(arch: str,
                                                         table: seccomp.Arch) -> None:
    header = HEADERS[arch]
    assert header.exists(), f"{header} is missing: make test installs linux-libc-dev"
    kernel = kernel_numbers(header)
    wrong = {name: (number, kernel.get(name)) for name, number in table.numbers.items()
             if kernel.get(name) != number}
    assert wrong == {}


@pytest.mark.parametrize("table", [seccomp.X86_64, seccomp.AARCH64])
def test_the_filter_checks_the_architecture_first_and_denies_the_dangerous_calls(
        table: seccomp.Arch) -> None:
    program = seccomp.build_filter(table)
    assert len(program) % 8 == 0
    instructions = [struct.unpack("=HBBI", program[i:i + 8]) for i in range(0, len(program), 8)]
    assert instructions[0] == (seccomp.LD_W_ABS, 0, 0, seccomp.ARCH)
    assert instructions[1][0] == seccomp.JEQ and instructions[1][3] == table.audit
    assert instructions[2] == (seccomp.RET, 0, 0, seccomp.SECCOMP_RET_KILL_PROCESS)
    compared = {k for code, _jt, _jf, k in instructions if code == seccomp.JEQ}
    for name in ("ptrace", "mount", "unshare", "setns", "bpf", "keyctl", "clock_settime",
                 "sethostname", "init_module", "io_uring_setup", "clone", "socket"):
        assert table.numbers[name] in compared, name
    assert instructions[-1][0] == seccomp.RET  # every path ends in a verdict


def test_unknown_architectures_get_no_filter() -> None:
    assert seccomp.arch_for("riscv64") is None
    assert seccomp.arch_for("x86_64") is seccomp.X86_64
