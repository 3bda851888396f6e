"""Records as the BPF program writes them: the header every record starts with, the info word in front
of each copied value, the kinds of record that are not a syscall's, and the control records.

The C side gets these as #defines and struct ts_hdr (codegen/lower.py hands them to the template), the
decoder side as struct formats: a change here changes both.
"""

from __future__ import annotations

import struct

# struct ts_hdr: ts u64 (bpf_ktime_get_ns), tgid u32, tid u32, nr u32 (syscall number), kind u16 (record
# layout), flags u16 (FLAG_*)
HEADER_FORMAT = "<QIIIHH"
HEADER = struct.Struct(HEADER_FORMAT)
HEADER_SIZE = HEADER.size
COMM_SIZE = 16  # TASK_COMM_LEN
RET_FORMAT = "q"  # an exit record's return value follows its header
ARG_FORMAT = "Q"  # an enter record's raw argument registers follow its header and comm

# record header flags
FLAG_DEFERRED = 1  # an enter record held back by an exit-time filter and emitted at exit

MAX_SLOTS = 32  # slots a record layout has at most: a retry's fault bits are one u32 (recvmmsg's exit: 3 for each message copied, and 2 more)
SLOT_INFO_SIZE = 4  # u32: stored length (low 16 bits) and SLOT_* flags (high 16 bits)
SLOT_TRUNCATED = 1 << 16  # the value was longer than the slot's max
SLOT_FAULT = 1 << 17  # the copy failed (bad address): print the pointer
SLOT_ABSENT = 1 << 18  # nothing copied on purpose (the syscall failed, or the pointer was NULL)
# a part of the copy faulted (an iovec's buffer in a page not touched yet), the rest is whole: printed as it
# is, and at entry copied again at exit, as a slot that faulted is
SLOT_AGAIN = 1 << 19
SLOT_FLAGS = {"TS_SLOT_TRUNCATED": SLOT_TRUNCATED, "TS_SLOT_FAULT": SLOT_FAULT, "TS_SLOT_ABSENT": SLOT_ABSENT,
              "TS_SLOT_AGAIN": SLOT_AGAIN}

# record kinds that are not a syscall's layout (those count up from 0)
PROC_EXIT_KIND = 0xFFF0  # a traced process's exit (not a syscall)
RETRY_KIND = 0xFFF1  # entry copies made again at exit
EXEC_ARGS_KIND = 0xFFF2  # a successful execve's arguments, read from the new process
FORK_KIND = 0xFFF3  # a traced process's fork (parent in the header, child after it)
SIGNAL_KIND = 0xFFF4  # a signal delivered to a traced task (the signal in the header's nr, its siginfo after)
SIGFRAME_KIND = 0xFFF5  # at rt_sigreturn's entry, what it restores: the signal mask (u64), then rax (s64)
# a signal sent to a traced task that, not being ptraced, it never takes from its queue (the signal in the
# header's nr, its siginfo after, the header's flags why): the header's task is the one strace would show
# it in (the sender, when a thread of the same process sent its process a signal; else the target)
SIGSENT_KIND = 0xFFF6
SIGSENT_IGNORED = 1  # dropped when sent: SIG_IGN, or an action of ignoring it (SIGCHLD, SIGWINCH, ...)
SIGSENT_FATAL = 2  # no handler and fatal: the kernel made it its group's death at once (SIGKILL for each)
FIRST_SPECIAL_KIND = PROC_EXIT_KIND  # layouts of syscalls have kinds below it

# A signal record's siginfo: the kernel's struct kernel_siginfo as signal_deliver sees it (si_signo,
# si_errno, si_code, padding, then the union of the per-code fields), x86_64's 48 bytes
SIGINFO_SIZE = 48

# array slots: bytes of each element's own framing before its payload
STRV_ELEMENT_HEAD = SLOT_INFO_SIZE  # a string of a vector: its info word
IOVEC_ELEMENT_HEAD = 8 + SLOT_INFO_SIZE  # an iovec element: its u64 length, then its info word
# an iovec element whose buffer was not copied (iov_base NULL, or unreadable) holds iov_base in place of
# its bytes, where they have room for it: strace prints the pointer there (iov_base=0x1, iov_base=NULL)
IOVEC_BASE_SIZE = 8


def align4(n: int) -> int:
    return (n + 3) & ~3


def element_bytes(capture: str, max_bytes: int) -> int:
    """Bytes per element of an array slot (as ts_put_strv and ts_put_iov write them), 0 for the others.
    A vector's strings keep room for their NUL."""
    if capture == "strv":
        return STRV_ELEMENT_HEAD + align4(max_bytes + 1)
    if capture == "iovec":
        return IOVEC_ELEMENT_HEAD + align4(max_bytes)
    return 0


# Control records (the recorder's small perf buffer): a header whose kind is one of these, then an s64.
CONTROL_TRIGGER = 1  # the trigger held (the header's nr is the syscall)
CONTROL_KILLED = 2  # a traced process was killed by a signal (the value is its exit code)
CONTROL = struct.Struct(HEADER_FORMAT + "q")


# --- The C side of the same definitions: spliced into every program's preamble (codegen/lower.py) ---

HEADER_FIELDS = ("ts", "tgid", "tid", "nr", "kind", "flags")  # struct ts_hdr's members, in HEADER_FORMAT's order
_C_TYPES = {"Q": "u64", "I": "u32", "H": "u16"}


def c_header_struct() -> str:
    """struct ts_hdr, member for member from HEADER_FORMAT."""
    types = [_C_TYPES[ch] for ch in HEADER_FORMAT.lstrip("<")]
    assert len(types) == len(HEADER_FIELDS)
    members = "".join(f"    {t} {name};\n" for t, name in zip(types, HEADER_FIELDS))
    return "struct ts_hdr {\n" + members + "};\n"


def c_defines() -> dict[str, int]:
    """The #defines the BPF side writes records with, by C name."""
    return {
        "TS_HEADER_SIZE": HEADER_SIZE,
        "TS_COMM_SIZE": COMM_SIZE,
        "TS_COMM_OFFSET": HEADER_SIZE,  # an enter record: header, comm, argument words, slots
        "TS_ARGS_OFFSET": HEADER_SIZE + COMM_SIZE,
        "TS_EXIT_FIXED": HEADER_SIZE + struct.calcsize(RET_FORMAT),  # an exit record: header, return value, slots
        "TS_SLOT_INFO_SIZE": SLOT_INFO_SIZE,
        "TS_IOV_BASE_SIZE": IOVEC_BASE_SIZE,
        **SLOT_FLAGS,
        "TS_FLAG_DEFERRED": FLAG_DEFERRED,
        "TS_PROC_EXIT_KIND": PROC_EXIT_KIND,
        "TS_RETRY_KIND": RETRY_KIND,
        "TS_EXEC_ARGS_KIND": EXEC_ARGS_KIND,
        "TS_FORK_KIND": FORK_KIND,
        "TS_SIGNAL_KIND": SIGNAL_KIND,
        "TS_SIGINFO_SIZE": SIGINFO_SIZE,
        "TS_SIGFRAME_KIND": SIGFRAME_KIND,
        "TS_SIGSENT_KIND": SIGSENT_KIND,
        "TS_SIGSENT_IGNORED": SIGSENT_IGNORED,
        "TS_SIGSENT_FATAL": SIGSENT_FATAL,
        "TS_CONTROL_TRIGGER": CONTROL_TRIGGER,
        "TS_CONTROL_KILLED": CONTROL_KILLED,
        "TS_CONTROL_SIZE": CONTROL.size,
    }
