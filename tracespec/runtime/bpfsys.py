"""The kernel's BPF interface, called directly: the bpf() commands tracespec uses (maps, program loads, raw
tracepoints) and the perf events that attach a program to a tracepoint or carry a perf buffer.

BCC is the compiler (runtime/bcc_compile); loading what it compiled, and everything after, needs no more of
it: so a program taken from the cache (runtime/objcache) starts without LLVM in memory. Each bpf_attr is a
zeroed buffer with the fields set at their offsets in include/uapi/linux/bpf.h; a kernel older than the
buffer accepts it, since the bytes it does not know are zero. ctypes lets go of Python's lock during each
call, so program loads (the verifier) run in parallel from threads.
"""

from __future__ import annotations

import ctypes
import os
import struct

# syscall numbers by machine (arch/*/entry/syscalls): bpf, perf_event_open
_SYSCALLS = {"x86_64": (321, 298), "aarch64": (280, 241), "riscv64": (280, 241), "ppc64le": (361, 319),
             "s390x": (351, 331)}
SYS_BPF, SYS_PERF_EVENT_OPEN = _SYSCALLS.get(os.uname().machine, _SYSCALLS["x86_64"])

# bpf() commands
MAP_CREATE, MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM, MAP_DELETE_ELEM, MAP_GET_NEXT_KEY, PROG_LOAD = 0, 1, 2, 3, 4, 5
RAW_TRACEPOINT_OPEN = 17
ATTR_SIZE = 128  # every field used here lies in the first 128 bytes of union bpf_attr

# map and program types
MAP_TYPE_PERCPU_HASH, MAP_TYPE_PERCPU_ARRAY, MAP_TYPE_LRU_PERCPU_HASH = 5, 6, 10
PERCPU_MAP_TYPES = frozenset({MAP_TYPE_PERCPU_HASH, MAP_TYPE_PERCPU_ARRAY, MAP_TYPE_LRU_PERCPU_HASH})
PROG_TYPE_TRACEPOINT, PROG_TYPE_RAW_TRACEPOINT = 5, 17

# perf events
PERF_TYPE_SOFTWARE, PERF_TYPE_TRACEPOINT = 1, 2
PERF_COUNT_SW_BPF_OUTPUT = 10
PERF_SAMPLE_RAW = 1 << 10
PERF_ATTR_SIZE = 112  # PERF_ATTR_SIZE_VER5
PERF_FLAG_FD_CLOEXEC = 1 << 3
PERF_EVENT_IOC_ENABLE = 0x2400  # _IO('$', 0)
PERF_EVENT_IOC_SET_BPF = 0x40042408  # _IOW('$', 8, __u32)

OBJ_NAME_LEN = 16

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.ioctl.restype = ctypes.c_int


class BpfError(OSError):
    """A bpf() or perf_event_open() call the kernel refused: errno and strerror as OSError has them."""


def _bpf(cmd: int, attr: bytearray) -> int:
    buf = (ctypes.c_char * len(attr)).from_buffer(attr)
    r = _libc.syscall(SYS_BPF, ctypes.c_int(cmd), buf, ctypes.c_uint(len(attr)))
    if r < 0:
        err = ctypes.get_errno()
        raise BpfError(err, os.strerror(err))
    return r


def _addr(obj) -> int:
    return ctypes.addressof(obj)


def _name16(name: str) -> bytes:
    return name.encode("ascii", "replace")[:OBJ_NAME_LEN - 1]


def map_create(map_type: int, key_size: int, value_size: int, max_entries: int, flags: int, name: str) -> int:
    attr = bytearray(ATTR_SIZE)
    struct.pack_into("<IIIII", attr, 0, map_type, key_size, value_size, max_entries, flags)
    named = bytearray(attr)
    named[28:28 + len(_name16(name))] = _name16(name)
    try:
        return _bpf(MAP_CREATE, named)
    except BpfError as e:
        if e.errno != 22:  # EINVAL: a kernel before 4.15, which knows no map names
            raise
    return _bpf(MAP_CREATE, attr)


def _elem(cmd: int, fd: int, key, value=None, flags: int = 0) -> int:
    attr = bytearray(ATTR_SIZE)
    struct.pack_into("<IIQQQ", attr, 0, fd, 0, _addr(key) if key is not None else 0,
                     _addr(value) if value is not None else 0, flags)
    return _bpf(cmd, attr)


def map_lookup(fd: int, key, value) -> bool:
    """Fill value (a ctypes buffer) with key's; False when there is no such key."""
    try:
        _elem(MAP_LOOKUP_ELEM, fd, key, value)
    except BpfError as e:
        if e.errno == 2:  # ENOENT
            return False
        raise
    return True


def map_update(fd: int, key, value, flags: int = 0) -> None:
    _elem(MAP_UPDATE_ELEM, fd, key, value, flags)


def map_delete(fd: int, key) -> bool:
    try:
        _elem(MAP_DELETE_ELEM, fd, key)
    except BpfError as e:
        if e.errno == 2:
            return False
        raise
    return True


def map_next_key(fd: int, key, next_key) -> bool:
    """The key after key (the first one when key is None) into next_key; False at the end."""
    try:
        _elem(MAP_GET_NEXT_KEY, fd, key, next_key)
    except BpfError as e:
        if e.errno == 2:
            return False
        raise
    return True


LOG_SIZE = 1 << 24  # enough for the tail of a rejected 1M-instruction walk, which is the reason


def prog_load(prog_type: int, insns: bytes, license: str, kern_version: int, name: str) -> int:
    """A program's descriptor. Refused: BpfError with errno and strerror of the load itself, and `log`
    set to the verifier's words (a second load, with a log: the first goes without, as logging costs)."""
    code = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(license.encode("ascii", "replace"))
    attr = bytearray(ATTR_SIZE)
    struct.pack_into("<IIQQ", attr, 0, prog_type, len(insns) // 8, _addr(code), _addr(lic))
    struct.pack_into("<I", attr, 40, kern_version)
    attr[48:48 + len(_name16(name))] = _name16(name)
    try:
        return _bpf(PROG_LOAD, attr)
    except BpfError as e:
        first = e
    log = ctypes.create_string_buffer(LOG_SIZE)
    struct.pack_into("<IIQ", attr, 24, 1, LOG_SIZE, _addr(log))
    try:
        fd = _bpf(PROG_LOAD, attr)
    except BpfError:
        first.log = log.value.decode("utf-8", "replace")
        raise first from None
    return fd  # refused once, loaded with a log: the kernel was short of something for a moment


def raw_tracepoint_open(name: str, prog_fd: int) -> int:
    tp = ctypes.create_string_buffer(name.encode("ascii"))
    attr = bytearray(ATTR_SIZE)
    struct.pack_into("<QI", attr, 0, _addr(tp), prog_fd)
    return _bpf(RAW_TRACEPOINT_OPEN, attr)


def perf_event_open(attr: bytearray, pid: int, cpu: int) -> int:
    buf = (ctypes.c_char * len(attr)).from_buffer(attr)
    fd = _libc.syscall(SYS_PERF_EVENT_OPEN, buf, ctypes.c_int(pid), ctypes.c_int(cpu), ctypes.c_int(-1),
                       ctypes.c_ulong(PERF_FLAG_FD_CLOEXEC))
    if fd < 0:
        err = ctypes.get_errno()
        raise BpfError(err, os.strerror(err))
    return fd


def perf_attr(kind: int, config: int, flags: int = 0, wakeup_events: int = 1) -> bytearray:
    """A perf_event_attr: one sample per event, raw data (a BPF program's output, a tracepoint's record)."""
    attr = bytearray(PERF_ATTR_SIZE)
    struct.pack_into("<IIQQQ", attr, 0, kind, PERF_ATTR_SIZE, config, 1, PERF_SAMPLE_RAW)
    struct.pack_into("<QI", attr, 40, flags, wakeup_events)
    return attr


def _ioctl(fd: int, request: int, arg: int) -> None:
    if _libc.ioctl(ctypes.c_int(fd), ctypes.c_ulong(request), ctypes.c_ulong(arg)) < 0:
        err = ctypes.get_errno()
        raise BpfError(err, os.strerror(err))


def perf_enable(fd: int) -> None:
    _ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)


def attach_tracepoint(tracefs: str, category: str, event: str, prog_fd: int) -> int:
    """A perf event on the tracepoint running the program (on every CPU: a tracepoint's BPF program is the
    event's, whichever CPU it fires on); its descriptor, which detaches the program when closed."""
    with open(os.path.join(tracefs, "events", category, event, "id"), encoding="ascii") as f:
        tp_id = int(f.read())
    fd = perf_event_open(perf_attr(PERF_TYPE_TRACEPOINT, tp_id), -1, 0)
    try:
        _ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog_fd)
        perf_enable(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _cpu_list(path: str) -> list[int]:
    """/sys/devices/system/cpu/online's form: 0-3,5,7-8."""
    with open(path, encoding="ascii") as f:
        text = f.read().strip()
    cpus: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def online_cpus() -> list[int]:
    return _cpu_list("/sys/devices/system/cpu/online")


def possible_cpus() -> list[int]:
    return _cpu_list("/sys/devices/system/cpu/possible")
