"""ptrace as strace prints it, by request: the arguments each request uses, the struct user offsets of
PTRACE_PEEKUSER and PTRACE_POKEUSER by name, the data the kernel reads at entry or writes at exit (a
word, an event message, a siginfo, a signal mask, the registers) as strace 6.1 decodes them on x86_64.

Not decoded yet, printed as their address (strace decodes them): PTRACE_PEEKSIGINFO's arguments and
siginfo array, the register sets behind PTRACE_GETREGSET's and PTRACE_SETREGSET's iovec,
PTRACE_SECCOMP_GET_FILTER's program, PTRACE_SECCOMP_GET_METADATA's and PTRACE_GET_SYSCALL_INFO's structs."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.format.structs import sigset_text, siginfo_struct_text
from tracespec.format.values import (Style, addr_text, constants, copied, enum_text, failed, flags_text, hexval,
                                     signal_text, signed32, struct_fields, structs, unsigned)

# the requests by number (linux/ptrace.h, asm/ptrace-abi.h on x86_64)
TRACEME, PEEKTEXT, PEEKDATA, PEEKUSER, POKETEXT, POKEDATA, POKEUSER, CONT, KILL, SINGLESTEP = range(10)
GETREGS, SETREGS, GETFPREGS, SETFPREGS, ATTACH, DETACH = 0xC, 0xD, 0xE, 0xF, 0x10, 0x11
OLDSETOPTIONS, SYSCALL, SYSEMU, SYSEMU_SINGLESTEP, SINGLEBLOCK = 0x15, 0x18, 0x1F, 0x20, 0x21
(SETOPTIONS, GETEVENTMSG, GETSIGINFO, SETSIGINFO, GETREGSET, SETREGSET, SEIZE, INTERRUPT, LISTEN, PEEKSIGINFO,
 GETSIGMASK, SETSIGMASK, SECCOMP_GET_FILTER, SECCOMP_GET_METADATA, GET_SYSCALL_INFO) = range(0x4200, 0x420F)

PID_ONLY = frozenset({ATTACH, INTERRUPT, KILL, LISTEN})  # addr and data are ignored
RESUMING = frozenset({CONT, DETACH, SYSCALL, SINGLESTEP, SINGLEBLOCK, SYSEMU, SYSEMU_SINGLESTEP})  # data: a signal
ADDR_IS_NUMBER = frozenset({GETSIGMASK, SETSIGMASK, SECCOMP_GET_FILTER, SECCOMP_GET_METADATA, GET_SYSCALL_INFO})
AT_EXIT = frozenset({PEEKTEXT, PEEKDATA, PEEKUSER, GETEVENTMSG, GETSIGINFO, GETSIGMASK, PEEKSIGINFO,
                     SECCOMP_GET_FILTER, GET_SYSCALL_INFO})  # data: what the kernel wrote, printed at exit

# struct user's offsets as strace's x86_64 userent.h names them: the registers (8*NAME), then the other
# members; an offset between two is the lower name plus the rest (8*SS+8), beyond the struct an address
USER_OFFSETS = (
    tuple((8 * i, f"8*{name}") for i, name in enumerate(
        ("R15", "R14", "R13", "R12", "RBP", "RBX", "R11", "R10", "R9", "R8", "RAX", "RCX", "RDX", "RSI", "RDI",
         "ORIG_RAX", "RIP", "CS", "EFL", "RSP", "SS")))
    + tuple((off, f"offsetof(struct user, {name})") for off, name in (
        (216, "u_fpvalid"), (224, "i387"), (736, "u_tsize"), (744, "u_dsize"), (752, "u_ssize"),
        (760, "start_code"), (768, "start_stack"), (776, "signal"), (784, "reserved"), (792, "u_ar0"),
        (800, "u_fpstate"), (808, "magic"), (816, "u_comm"), (848, "u_debugreg")))
    + ((912, "sizeof(struct user)"),))

NSIG_BYTES = 8  # the kernel's sigset_t on x86_64


def user_offset_text(addr: int, style: Style) -> str:
    """strace's print_user_offset_addr: the struct user member at or below the offset, "+N" for the rest
    (-X raw: the address; -X verbose: the address, the name in a comment)."""
    below = [(off, name) for off, name in USER_OFFSETS if off <= addr]
    name = None
    if below:
        base, name = below[-1]
        if addr > base and base == USER_OFFSETS[-1][0]:  # beyond struct user
            name = None
        elif addr > base:
            name += f"+{addr - base}"
    if name is None or style.xlat == "raw":
        return addr_text(addr)
    return f"{addr_text(addr)} /* {name} */" if style.xlat == "verbose" else name


ARRAY_ABBREV = 32  # strace's print_array stops after -s elements unless -v (here the default -s, 32)


def _words(data: bytes, start: int, end: int, style: Style) -> str:
    words = [hexval(int.from_bytes(data[i:i + 4], "little")) for i in range(start, end, 4)]
    if not style.verbose and len(words) > ARRAY_ABBREV:
        words = words[:ARRAY_ABBREV] + ["..."]
    return "[" + ", ".join(words) + "]"


def regs_text(data: bytes) -> str:
    """strace's struct user_regs_struct (x86_64's arch_decode_prstatus_regset): every register in hex."""
    v = struct_fields("user_regs", data[:structs()["user_regs"].size])
    return "{" + ", ".join(f"{k}={hexval(x)}" for k, x in v.items()) + "}"


def fpregs_text(data: bytes, style: Style) -> str:
    """strace's struct user_fpregs_struct (x86_64's arch_decode_fpregset): the scalar fields in hex, then
    st_space, xmm_space and padding as arrays of 32-bit words in hex, each abbreviated as print_array does."""
    v = struct_fields("user_fpregs", data[:32])
    head = ", ".join(f"{k}={hexval(x)}" for k, x in v.items())
    return (f"{{{head}, st_space={_words(data, 32, 160, style)}, xmm_space={_words(data, 160, 416, style)}, "
            f"padding={_words(data, 416, 512, style)}}}")


def _registers(request: int, data: bytes, style: Style) -> str:
    return regs_text(data) if request in (GETREGS, SETREGS) else fpregs_text(data, style)


def _sigset(addr: int, length: int, slot, style: Style) -> str:
    """strace's print_sigset_addr_len: a mask of a length the kernel takes, else the address."""
    data = copied(slot, NSIG_BYTES) if addr else None
    if data is None or length > NSIG_BYTES or length < 8 or length % 8:
        return addr_text(addr)
    return sigset_text(int.from_bytes(data[:length], "little"), 8 * length, style)


def _written(ev: SyscallEvent, request: int, addr: int, data: int, style: Style) -> str:
    """The data argument at exit: what the kernel wrote there once the call succeeded, its address
    otherwise."""
    slot = ev.slots.get("data") if not failed(ev.ret) else None
    if request in (PEEKTEXT, PEEKDATA, PEEKUSER, GETEVENTMSG):
        got = copied(slot, 8) if data else None
        if got is None:
            return addr_text(data)
        word = int.from_bytes(got[:8], "little")
        return f"[{word}]" if request == GETEVENTMSG else f"[{addr_text(word)}]"
    if request == GETSIGINFO:
        got = copied(slot, 48) if data else None
        return addr_text(data) if got is None else siginfo_struct_text(got, style)
    if request == GETSIGMASK:
        return _sigset(data, addr, slot, style)
    return addr_text(data)


def _regset(ev: SyscallEvent, request: int, parts: list[str], data: int) -> tuple[str, str]:
    """The iovec of a register set: PTRACE_SETREGSET's at entry and the length the kernel left when it
    changed it; PTRACE_GETREGSET's when the call returns, the length as given and as the kernel left it."""
    before = copied(ev.entry_slots.get("data"), 16) if data else None
    after = copied(ev.slots.get("data"), 16) if data and ev.exit is not None else None
    if before is None:
        parts.append(addr_text(data))
        return ", ".join(parts), ""
    base, length = int.from_bytes(before[:8], "little"), int.from_bytes(before[8:16], "little")
    left = int.from_bytes(after[8:16], "little") if after is not None else length
    changed = f" => {left}" if left != length else ""
    if request == SETREGSET:
        return ", ".join(parts) + f", {{iov_base={addr_text(base)}, iov_len={length}", changed + "}"
    if ev.exit is None:
        return ", ".join(parts), ""
    return ", ".join(parts), f", {{iov_base={addr_text(base)}, iov_len={length}{changed}}}"


def ptrace(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """The request, then only what it uses: the process, the address (a struct user offset, a register
    set's type, a size), the data as the request reads or writes it."""
    c = constants()
    request, addr, data = unsigned(ev.args[0]), unsigned(ev.args[2]), unsigned(ev.args[3])
    parts = [enum_text(request, c.sets["ptrace_cmds"], style)]
    if request == TRACEME:
        return parts[0], ""
    parts.append(str(signed32(ev.args[1])))
    if request in PID_ONLY:
        return ", ".join(parts), ""
    entry = ev.entry_slots.get("data")
    if request in (SETREGS, SETFPREGS):  # the registers read, in the address's place (strace's regs_addr)
        got = copied(entry, 216 if request == SETREGS else 512) if data else None
        parts.append(addr_text(data) if got is None else _registers(request, got, style))
        return ", ".join(parts), ""
    if request in (GETREGS, GETFPREGS):  # the registers written, printed when the call returns
        if ev.exit is None:
            return ", ".join(parts), ""
        got = copied(ev.slots.get("data"), 216 if request == GETREGS else 512) if data and not failed(ev.ret) else None
        return ", ".join(parts), ", " + (addr_text(data) if got is None else _registers(request, got, style))
    if request in (PEEKUSER, POKEUSER):
        parts.append(user_offset_text(addr, style))
    elif request in (GETREGSET, SETREGSET):
        parts.append(enum_text(unsigned(addr, 4), c.sets["nt_types"], style))
    elif request in ADDR_IS_NUMBER:
        parts.append(str(addr))
    else:
        parts.append(addr_text(addr))
    if request in RESUMING:
        parts.append(signal_text(signed32(data), style))
    elif request in (SEIZE, SETOPTIONS, OLDSETOPTIONS):
        parts.append(flags_text(data, c.sets["ptrace_options"], c, style))
    elif request == SETSIGINFO:
        got = copied(entry, 48) if data else None
        parts.append(addr_text(data) if got is None else siginfo_struct_text(got, style))
    elif request == SETSIGMASK:
        parts.append(_sigset(data, addr, entry, style))
    elif request in (GETREGSET, SETREGSET):
        return _regset(ev, request, parts, data)
    elif request in AT_EXIT:
        if ev.exit is None:
            return ", ".join(parts), ""
        return ", ".join(parts), ", " + _written(ev, request, addr, data, style)
    else:
        parts.append(addr_text(data))
    return ", ".join(parts), ""
