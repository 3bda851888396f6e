"""A delivered signal as strace prints it: `--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ...} ---`.

Which fields a siginfo shows follows strace's printsiginfo: si_signo and si_code always; si_errno when
set; then by where the signal came from. From user space (si_code <= 0): kill and tkill give the
sender's pid and uid, a POSIX timer its id, overrun and value, SIGIO's queued form its band and fd, any
other (sigqueue, mq_notify, ...) the sender and, when set, its value. From the kernel: SIGCHLD the
child's pid, uid, status (a number when it exited, else a signal) and times; faults (SIGILL, SIGFPE,
SIGSEGV, SIGBUS, SIGTRAP) the address (and the extra fields of a few codes); SIGPOLL's codes band and
fd; SIGSYS the syscall seccomp stopped; any other the sender when known and the value when set.

Each field is (name, kind, value); the text and the JSON writers render them, so both show the same ones.
"""

from __future__ import annotations

from functools import lru_cache

from tracespec.catalogue import load_catalogue
from tracespec.decode.siginfo import Siginfo
from tracespec.format.values import DEFAULT_STYLE, Style, constants, hexval, signal_text, signed32, with_comment

SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGCHLD, SIGIO, SIGSYS = 4, 5, 7, 8, 11, 17, 29, 31
SI_USER, SI_TIMER, SI_SIGIO, SI_TKILL = 0, -2, -5, -6
CLD_EXITED = 1
BUS_MCEERR_AR, BUS_MCEERR_AO = 4, 5
SEGV_BNDERR, SEGV_PKUERR = 3, 4
POLL_CODES = range(1, 7)  # POLL_IN .. POLL_HUP
AUDIT_ARCH_NATIVE = 0xC000003E  # AUDIT_ARCH_X86_64: a SIGSYS syscall number of this arch is named
CLOCK_TICKS = 100  # USER_HZ: si_utime and si_stime are in these

# the set naming si_code for each signal, after the generic si_codes (strace's print_si_code)
CODE_SETS = {SIGTRAP: "sigtrap_codes", SIGCHLD: "sigchld_codes", SIGIO: "sigpoll_codes", SIGILL: "sigill_codes",
             SIGFPE: "sigfpe_codes", SIGSEGV: "sigsegv_codes", SIGBUS: "sigbus_codes", SIGSYS: "sigsys_codes"}
FAULT_SIGNALS = frozenset({SIGILL, SIGFPE, SIGBUS, SIGSEGV, SIGTRAP})


def code_name(code: int, signo: int) -> str | None:
    c = constants()
    name = c.sets["si_codes"].lookup(code)
    if name is None and signo in CODE_SETS:
        name = c.sets[CODE_SETS[signo]].lookup(code)
    return name


def _sender(si: Siginfo) -> list:
    return [("si_pid", "int", si.pid), ("si_uid", "id", si.uid)]


def _value(si: Siginfo) -> list:
    return [("si_int", "int", si.int_), ("si_ptr", "ptr", si.ptr)]


def siginfo_fields(si: Siginfo) -> list[tuple[str, str, int]]:
    """The fields strace prints for this siginfo, in its order: (name, kind, value)."""
    if not si.signo:
        return []
    out = [("si_signo", "signal", si.signo), ("si_code", "code", si.code)]
    if si.errno:
        out.append(("si_errno", "errno", si.errno))
    code, signo = si.code, si.signo
    if code <= 0:  # sent from user space
        if code in (SI_USER, SI_TKILL):
            out += _sender(si)
        elif code == SI_TIMER:
            out += [("si_timerid", "hex", si.pid & 0xFFFFFFFF), ("si_overrun", "int", signed32(si.uid))] + _value(si)
        elif code == SI_SIGIO:
            out += [("si_band", "int", si.band), ("si_fd", "int", si.int_)]
        else:
            out += _sender(si) + (_value(si) if si.ptr else [])
        return out
    if signo == SIGCHLD:
        status = ("si_status", "int" if code == CLD_EXITED else "signal", si.int_)
        out += _sender(si) + [status, ("si_utime", "clock", si.utime), ("si_stime", "clock", si.stime)]
    elif signo in FAULT_SIGNALS:
        out.append(("si_addr", "ptr", si.addr))
        if signo == SIGBUS and code in (BUS_MCEERR_AR, BUS_MCEERR_AO):
            out.append(("si_addr_lsb", "hex", si.addr_lsb & 0xFFFF))
        elif signo == SIGSEGV and code == SEGV_BNDERR:
            out += [("si_lower", "ptr", si.lower), ("si_upper", "ptr", si.upper)]
        elif signo == SIGSEGV and code == SEGV_PKUERR:
            out.append(("si_pkey", "uint", si.lower & 0xFFFFFFFF))
    elif signo == SIGIO:
        if code in POLL_CODES:
            out += [("si_band", "int", si.band), ("si_fd", "int", si.int_)]
    elif signo == SIGSYS:
        out += [("si_call_addr", "ptr", si.addr), ("si_syscall", "syscall", (si.int_, si.arch)),
                ("si_arch", "arch", si.arch)]
    else:
        if si.pid or si.uid:
            out += _sender(si)
        if si.ptr:
            out += _value(si)
    return out


@lru_cache(maxsize=None)
def _syscall_name(nr: int) -> str | None:
    sc = load_catalogue().by_nr(nr)
    return sc.name if sc else None


def field_text(kind: str, value, si: Siginfo, style: Style) -> str:
    if kind == "signal":
        return signal_text(value, style)
    if kind == "code":
        number = hexval(value & 0xFFFFFFFF)
        name = code_name(value, si.signo)
        return with_comment(number, name, style) if name else number
    if kind == "errno":
        name = constants().errnos.get(value)
        return with_comment(str(value), name.name, style) if name else str(value)
    if kind == "id":  # uid_t: unsigned, but (uid_t) -1 is -1
        return "-1" if value == 0xFFFFFFFF else str(value)
    if kind == "ptr":
        return hexval(value) if value else "NULL"
    if kind == "hex":
        return hexval(value)
    if kind == "clock":  # clock ticks, with the seconds they make in a comment
        if value > 0 and style.xlat != "raw":
            return f"{value} /* {value // CLOCK_TICKS}.{value % CLOCK_TICKS:02d} s */"
        return str(value)
    if kind == "syscall":
        nr, arch = value
        name = _syscall_name(nr) if arch == AUDIT_ARCH_NATIVE and nr >= 0 else None
        if name is None:
            return str(nr & 0xFFFFFFFF)
        return with_comment(str(nr), f"__NR_{name}", style)
    if kind == "arch":
        name = constants().sets["audit_arch"].lookup(value)
        if name is None:
            return hexval(value) if style.xlat == "raw" else f"{hexval(value)} /* AUDIT_ARCH_??? */"
        return with_comment(hexval(value), name, style)
    return str(value)


def signal_line(sig: int, si: Siginfo, style: Style = DEFAULT_STYLE) -> str:
    """strace's line for a delivered signal, without its pid and newline."""
    fields = ", ".join(f"{name}={field_text(kind, value, si, style)}" for name, kind, value in siginfo_fields(si))
    name = constants().signal_name(sig) or str(sig)
    return f"--- {name} {{{fields}}} ---"


def siginfo_json(si: Siginfo) -> dict:
    """The fields strace shows, by name: numbers as the kernel holds them, with NAME_names beside the
    signal, the code and the errno (the names strace prints for them)."""
    obj: dict = {}
    for name, kind, value in siginfo_fields(si):
        if kind == "syscall":
            nr, arch = value
            obj[name] = nr
            sc = _syscall_name(nr) if arch == AUDIT_ARCH_NATIVE and nr >= 0 else None
            if sc:
                obj[name + "_names"] = [sc]
            continue
        obj[name] = value
        if kind == "signal":
            obj[name + "_names"] = [n] if (n := constants().signal_name(value)) else []
        elif kind == "code":
            obj[name + "_names"] = [n] if (n := code_name(value, si.signo)) else []
        elif kind == "errno":
            obj[name + "_names"] = [e.name] if (e := constants().errnos.get(value)) else []
    return obj
