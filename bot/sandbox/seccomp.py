"""The seccomp filter bubblewrap loads before it starts a submission.

A classic-BPF program, assembled here so there is no native dependency: it denies the system
calls Python code has no business making (debugging other processes, namespaces, mounts, kernel
keyrings, BPF, module loading, clock and hostname changes, io_uring) with EPERM, refuses raw,
packet, netlink and vsock sockets, refuses `clone` with namespace flags and answers `clone3` with
ENOSYS so the C library falls back to `clone`, whose flags this filter can inspect. Unknown
architectures, and the x32 ABI on x86-64, are killed outright.
"""

from __future__ import annotations

import errno
import platform
import struct
from dataclasses import dataclass

# BPF opcodes (linux/filter.h, linux/bpf_common.h)
LD_W_ABS = 0x20
JEQ = 0x15
JGE = 0x35
JSET = 0x45
AND = 0x54
RET = 0x06

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

# struct seccomp_data offsets
NR, ARCH, ARG0, ARG1 = 0, 4, 16, 24

CLONE_NAMESPACES = (0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000
                    | 0x20000000 | 0x40000000)
ALLOWED_SOCKET_FAMILIES = (1, 2, 10)  # AF_UNIX, AF_INET, AF_INET6
DENIED_SOCKET_TYPES = (3, 10)  # SOCK_RAW, SOCK_PACKET
SOCKET_TYPE_MASK = 0xF  # strips SOCK_NONBLOCK and SOCK_CLOEXEC

DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "unshare", "setns",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "vhangup", "personality",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init", "lookup_dcookie",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "iopl", "ioperm", "uselib",
)


@dataclass(frozen=True)
class Arch:
    audit: int
    numbers: dict[str, int]
    x32_bit: bool = False


# Numbers from the kernel's uapi headers (asm/unistd_64.h and asm-generic/unistd.h).
X86_64 = Arch(0xC000003E, {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
    "pidfd_getfd": 438, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
    "move_mount": 429, "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
    "fspick": 433, "mount_setattr": 442, "unshare": 272, "setns": 308, "keyctl": 250,
    "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
    "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163,
    "quotactl": 179, "syslog": 103, "vhangup": 153, "personality": 135, "settimeofday": 164,
    "clock_settime": 227, "clock_adjtime": 305, "adjtimex": 159, "sethostname": 170,
    "setdomainname": 171, "open_by_handle_at": 304, "name_to_handle_at": 303,
    "fanotify_init": 300, "lookup_dcookie": 212, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "iopl": 172, "ioperm": 173, "uselib": 134,
    "socket": 41, "socketpair": 53, "clone": 56, "clone3": 435,
}, x32_bit=True)

AARCH64 = Arch(0xC00000B7, {
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
    "pidfd_getfd": 438, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
    "move_mount": 429, "open_tree": 428, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
    "fspick": 433, "mount_setattr": 442, "unshare": 97, "setns": 268, "keyctl": 219,
    "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
    "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
    "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89,
    "quotactl": 60, "syslog": 116, "vhangup": 58, "personality": 92, "settimeofday": 170,
    "clock_settime": 112, "clock_adjtime": 266, "adjtimex": 171, "sethostname": 161,
    "setdomainname": 162, "open_by_handle_at": 265, "name_to_handle_at": 264,
    "fanotify_init": 262, "lookup_dcookie": 18, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "socket": 198, "socketpair": 199, "clone": 220, "clone3": 435,
})

ARCHES = {"x86_64": X86_64, "amd64": X86_64, "aarch64": AARCH64, "arm64": AARCH64}


def arch_for(machine: str | None = None) -> Arch | None:
    """The syscall table of this machine, or None where we have no filter (code runs refused)."""
    return ARCHES.get((machine or platform.machine()).lower())


def errno_ret(code: int) -> int:
    return SECCOMP_RET_ERRNO | code


class Program:
    """A tiny assembler: instructions with forward jumps to named labels."""

    def __init__(self) -> None:
        self.code: list[tuple[int, str | int, str | int, int]] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, k: int = 0, jt: str | int = 0, jf: str | int = 0) -> None:
        self.code.append((code, jt, jf, k))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> bytes:
        out = bytearray()
        for index, (code, jt, jf, k) in enumerate(self.code):
            out += struct.pack("=HBBI", code, self._offset(index, jt), self._offset(index, jf), k)
        return bytes(out)

    def _offset(self, index: int, target: str | int) -> int:
        if isinstance(target, int):
            return target
        offset = self.labels[target] - index - 1
        if not 0 <= offset <= 255:
            raise ValueError(f"jump to {target} out of range")
        return offset


def build_filter(arch: Arch) -> bytes:
    """The filter as bytes, ready to hand to `bwrap --seccomp FD`."""
    numbers = arch.numbers
    program = Program()
    program.op(LD_W_ABS, ARCH)
    program.op(JEQ, arch.audit, jt=1)
    program.op(RET, SECCOMP_RET_KILL_PROCESS)
    program.op(LD_W_ABS, NR)
    if arch.x32_bit:
        program.op(JGE, 0x40000000, jt="kill")
    program.op(JEQ, numbers["clone"], jt="clone")
    program.op(JEQ, numbers["clone3"], jt="enosys")
    program.op(JEQ, numbers["socket"], jt="socket")
    for name in DENIED:
        if name in numbers:
            program.op(JEQ, numbers[name], jt="eperm")
    program.op(RET, SECCOMP_RET_ALLOW)

    program.label("clone")
    program.op(LD_W_ABS, ARG0)
    program.op(JSET, CLONE_NAMESPACES, jt="eperm")
    program.op(RET, SECCOMP_RET_ALLOW)

    program.label("socket")
    program.op(LD_W_ABS, ARG0)
    for family in ALLOWED_SOCKET_FAMILIES:
        program.op(JEQ, family, jt="socket_type")
    program.op(RET, errno_ret(errno.EAFNOSUPPORT))
    program.label("socket_type")
    program.op(LD_W_ABS, ARG1)
    program.op(AND, SOCKET_TYPE_MASK)
    for kind in DENIED_SOCKET_TYPES:
        program.op(JEQ, kind, jt="eperm")
    program.op(RET, SECCOMP_RET_ALLOW)

    program.label("eperm")
    program.op(RET, errno_ret(errno.EPERM))
    program.label("enosys")
    program.op(RET, errno_ret(errno.ENOSYS))
    program.label("kill")
    program.op(RET, SECCOMP_RET_KILL_PROCESS)
    return program.assemble()
