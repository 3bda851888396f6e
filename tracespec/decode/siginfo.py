"""A delivered signal's siginfo bytes (the kernel's struct kernel_siginfo, x86_64) -> its fields.

The struct is si_signo, si_errno, si_code, then a union whose member si_code and the signal choose (the
sender's pid and uid, a child's status and times, a fault's address, ...). Every reading of the union is
taken here; which of them a line shows is strace's rule, the formatter's (format/siginfo.py).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from tracespec.wire.layout import SIGINFO_SIZE

# offsets into the union's members, as include/uapi/asm-generic/siginfo.h lays them out on x86_64
_HEAD = struct.Struct("<iii")  # si_signo, si_errno, si_code (then 4 bytes of padding)
_AT16 = struct.Struct("<iI")  # si_pid, si_uid (kill, rt, sigchld); si_timerid, si_overrun (timer)
_AT24 = struct.Struct("<iI")  # si_int / si_status / si_fd / si_syscall, then si_arch
_PTR = struct.Struct("<Q")  # si_ptr (24), si_addr / si_call_addr (16), si_lower (32), si_upper (40)
_LONG = struct.Struct("<q")  # si_band (16), si_utime (32), si_stime (40)


class Siginfo(NamedTuple):
    signo: int
    errno: int
    code: int
    pid: int  # also si_timerid (SI_TIMER)
    uid: int  # also si_overrun (SI_TIMER), as unsigned
    int_: int  # si_int (si_value's low half); also si_status, si_fd, si_syscall
    ptr: int  # si_ptr (si_value whole)
    addr: int  # si_addr (faults), si_call_addr (SIGSYS); si_band as unsigned
    band: int  # si_band (SIGPOLL)
    arch: int  # si_arch (SIGSYS)
    addr_lsb: int  # si_addr_lsb (SIGBUS BUS_MCEERR_*)
    lower: int  # si_lower (SIGSEGV SEGV_BNDERR); also si_pkey's word
    upper: int  # si_upper
    utime: int  # si_utime (SIGCHLD), clock ticks
    stime: int  # si_stime


def parse_siginfo(data: bytes) -> Siginfo:
    data = data[:SIGINFO_SIZE].ljust(SIGINFO_SIZE, b"\0")
    signo, errno, code = _HEAD.unpack_from(data, 0)
    pid, uid = _AT16.unpack_from(data, 16)
    int_, arch = _AT24.unpack_from(data, 24)
    return Siginfo(
        signo=signo, errno=errno, code=code, pid=pid, uid=uid, int_=int_,
        ptr=_PTR.unpack_from(data, 24)[0], addr=_PTR.unpack_from(data, 16)[0],
        band=_LONG.unpack_from(data, 16)[0], arch=arch,
        addr_lsb=struct.unpack_from("<h", data, 24)[0],
        lower=_PTR.unpack_from(data, 32)[0], upper=_PTR.unpack_from(data, 40)[0],
        utime=_LONG.unpack_from(data, 32)[0], stime=_LONG.unpack_from(data, 40)[0],
    )
