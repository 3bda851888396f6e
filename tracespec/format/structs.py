"""Structs copied out of a traced process, printed as strace abbreviates them."""

from __future__ import annotations

from tracespec.decode.siginfo import parse_siginfo
from tracespec.quote import quote
from tracespec.format.siginfo import field_text, siginfo_fields, siginfo_json
from tracespec.format.values import (DEFAULT_STYLE, Style, addr_text, constants, date_text, flags_text, hexval, makedev,
                                     mode_text, struct_fields, structs, symbolic_mode, with_comment, enum_text,
                                     signal_text)

ABBREVIATED = ", ..."  # what strace prints for the fields it leaves out without -v


def _stat(v: dict, style: Style) -> str:
    """strace's print_struct_stat: the mode, then a device's number or the size; with -v every field, the
    times each with its date."""
    mode = v.get("st_mode", 0)
    device = mode & 0o170000 in (0o020000, 0o060000)  # devices show their device number, not a size
    size = f"st_rdev={makedev(v.get('st_rdev', 0), style)}" if device else f"st_size={v.get('st_size', 0)}"
    if not style.verbose:
        return f"{{st_mode={symbolic_mode(mode, style)}, {size}, ...}}"
    parts = [f"st_dev={makedev(v['st_dev'], style)}", f"st_ino={v['st_ino']}", f"st_mode={symbolic_mode(mode, style)}",
             f"st_nlink={v['st_nlink']}", f"st_uid={v['st_uid']}", f"st_gid={v['st_gid']}",
             f"st_blksize={v['st_blksize']}", f"st_blocks={v['st_blocks']}", size]
    for t in ("st_atime", "st_mtime", "st_ctime"):
        parts.append(f"{t}={v[t]}{date_comment(v[t], v[t + '_nsec'])}")
        parts.append(f"{t}_nsec={v[t + '_nsec']}")
    return "{" + ", ".join(parts) + "}"


STATX = {name: 1 << i for i, name in enumerate(("TYPE", "MODE", "NLINK", "UID", "GID", "ATIME", "MTIME", "CTIME",
                                                "INO", "SIZE", "BLOCKS", "BTIME", "MNT_ID", "DIOALIGN"))}
STATX_SUBVOL = 0x8000


def _statx_time(v: dict, name: str) -> str:
    sec, nsec = v[name + ".tv_sec"], v[name + ".tv_nsec"]
    return f"{name}={{tv_sec={sec}, tv_nsec={nsec}}}{date_comment(sec, nsec)}"


def _statx(v: dict, style: Style) -> str:
    """strace's statx: the fields stx_mask says the kernel filled, abbreviated to mask, attributes, mode
    and size; with -v every one, the times with their dates, the ids and alignments the mask names."""
    c = constants()
    mask = v.get("stx_mask", 0)
    has = lambda *names: any(mask & STATX[n] for n in names)  # noqa: E731
    attrs = flags_text(v.get("stx_attributes", 0), c.sets["statx_attributes"], c, style)
    parts = [f"stx_mask={flags_text(mask, c.sets['statx_mask'], c, style)}"]
    if style.verbose:
        parts.append(f"stx_blksize={v['stx_blksize']}")
    parts.append(f"stx_attributes={attrs}")
    if style.verbose:
        parts += [f"{k}={v[k]}" for k, n in (("stx_nlink", "NLINK"), ("stx_uid", "UID"), ("stx_gid", "GID"))
                  if has(n)]
    if has("TYPE", "MODE"):
        parts.append(f"stx_mode={symbolic_mode(v.get('stx_mode', 0), style)}")
    if style.verbose and has("INO"):
        parts.append(f"stx_ino={v['stx_ino']}")
    if has("SIZE"):
        parts.append(f"stx_size={v.get('stx_size', 0)}")
    if not style.verbose:
        return "{" + ", ".join(parts) + ABBREVIATED + "}"
    if has("BLOCKS"):
        parts.append(f"stx_blocks={v['stx_blocks']}")
    parts.append(f"stx_attributes_mask={flags_text(v['stx_attributes_mask'], c.sets['statx_attributes'], c, style)}")
    parts += [_statx_time(v, f"stx_{t}") for t, n in (("atime", "ATIME"), ("btime", "BTIME"), ("ctime", "CTIME"),
                                                      ("mtime", "MTIME")) if has(n)]
    parts += [f"{k}={v[k]}" for k in ("stx_rdev_major", "stx_rdev_minor", "stx_dev_major", "stx_dev_minor")]
    if has("MNT_ID"):
        parts.append(f"stx_mnt_id={hexval(v['stx_mnt_id'])}")
    if has("DIOALIGN"):
        parts += [f"stx_dio_mem_align={v['stx_dio_mem_align']}", f"stx_dio_offset_align={v['stx_dio_offset_align']}"]
    if mask & STATX_SUBVOL:
        parts.append(f"stx_subvol={hexval(v['stx_subvol'])}")
    return "{" + ", ".join(parts) + "}"


def _timespec(v: dict) -> str:
    return f"{{tv_sec={v['tv_sec']}, tv_nsec={v['tv_nsec']}}}"


UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2


def date_comment(sec: int, part: int, width: int = 9) -> str:
    """strace's sprinttime_nsec (width 6: sprinttime_usec) as a comment (format/values.date_text),
    nothing when it gives none."""
    text = date_text(sec, part, width)
    return f" /* {text} */" if text else ""


def _utime(v: dict, which: str, style: Style) -> str:
    """One of utimensat's times as strace's print_timespec_t_utime: UTIME_NOW and UTIME_OMIT by name,
    another as the timespec and its date."""
    sec, nsec = v[which + ".tv_sec"], v[which + ".tv_nsec"]
    spec = f"{{tv_sec={sec}, tv_nsec={nsec}}}"
    if nsec in (UTIME_NOW, UTIME_OMIT):
        return with_comment(spec, "UTIME_NOW" if nsec == UTIME_NOW else "UTIME_OMIT", style)
    return spec + date_comment(sec, nsec)


def _utimens(v: dict, style: Style) -> str:
    return f"[{_utime(v, 'atime', style)}, {_utime(v, 'mtime', style)}]"


def _utimes(v: dict) -> str:
    """utimes' and futimesat's two timevals, each with its date (print_timeval_utimes)."""
    return "[" + ", ".join(f"{{tv_sec={v[w + '.tv_sec']}, tv_usec={v[w + '.tv_usec']}}}"
                           f"{date_comment(v[w + '.tv_sec'], v[w + '.tv_usec'], 6)}" for w in ("atime", "mtime")) + "]"


def _utimbuf(v: dict) -> str:
    """utime's two times, each with its date."""
    return (f"{{actime={v['actime']}{date_comment(v['actime'], 0)}, "
            f"modtime={v['modtime']}{date_comment(v['modtime'], 0)}}}")


def _fdpair(v: dict) -> str:
    return f"[{v['fd0']}, {v['fd1']}]"


def _int(v: dict) -> str:
    return f"[{v['value']}]"


def _ptr(v: dict) -> str:
    """printnum_ptr: [NULL] or [0x...]."""
    return f"[{hex(v['value']) if v['value'] else 'NULL'}]"


def _time_t(v: dict) -> str:
    """time's [seconds /* date */]."""
    return f"[{v['value']}{date_comment(v['value'], 0)}]"


def _id(v: dict) -> str:
    """printuid behind a pointer (getresuid, getresgid): -1 for (uid_t) -1."""
    return "[-1]" if v["value"] == 0xFFFFFFFF else f"[{v['value']}]"


def siginfo_struct_text(data: bytes, style: Style = DEFAULT_STYLE) -> str:
    """strace's printsiginfo of a siginfo_t in memory: {} when si_signo is 0 (nothing was written),
    else the fields a delivered signal's line shows."""
    si = parse_siginfo(data)
    if si.signo == 0:
        return "{}"
    return "{" + ", ".join(f"{name}={field_text(kind, value, si, style)}"
                           for name, kind, value in siginfo_fields(si)) + "}"


def _mount_attr(v: dict, style: Style) -> str:
    """strace's struct mount_attr: the attributes set and cleared, the propagation by name, the user
    namespace's descriptor."""
    c = constants()
    attrs = c.sets["mount_attr_flags"]
    return (f"{{attr_set={flags_text(v['attr_set'], attrs, c, style)}, "
            f"attr_clr={flags_text(v['attr_clr'], attrs, c, style)}, "
            f"propagation={enum_text(v['propagation'], c.sets['mount_attr_propagation'], style)}, "
            f"userns_fd={v['userns_fd']}}}")


def mq_attr_text(v: dict, style: Style = DEFAULT_STYLE, names: bool = True) -> str:
    """strace's printmqattr: the flags by name (names=False, as mq_open prints them: in hex), then the
    three counts."""
    c = constants()
    flags = flags_text(v["mq_flags"], c.sets["mq_attr_flags"], c, style) if names else hexval(v["mq_flags"])
    return (f"{{mq_flags={flags}, mq_maxmsg={v['mq_maxmsg']}, mq_msgsize={v['mq_msgsize']}, "
            f"mq_curmsgs={v['mq_curmsgs']}}}")


def _stack_t(v: dict, style: Style) -> str:
    """strace's print_stack_t (sigaltstack)."""
    c = constants()
    sp = v["ss_sp"]
    flags = flags_text(v["ss_flags"] & 0xFFFFFFFF, c.sets["sigaltstack_flags"], c, style)
    return f"{{ss_sp={hexval(sp) if sp else 'NULL'}, ss_flags={flags}, ss_size={v['ss_size']}}}"


def wait_status(status: int) -> str:
    """strace's rendering of a wait status: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}] and kin."""
    c = constants()
    sig = lambda n: c.signal_name(n) or str(n)  # noqa: E731
    low = status & 0x7F
    if (status & 0xFF) == 0x7F:
        text = f"WIFSTOPPED(s) && WSTOPSIG(s) == {sig((status >> 8) & 0xFF)}"
    elif status == 0xFFFF:
        text = "WIFCONTINUED(s)"
    elif low == 0:
        text = f"WIFEXITED(s) && WEXITSTATUS(s) == {(status >> 8) & 0xFF}"
    else:
        text = f"WIFSIGNALED(s) && WTERMSIG(s) == {sig(low)}" + (" && WCOREDUMP(s)" if status & 0x80 else "")
    return f"[{{{text}}}]"


def _wstatus(v: dict) -> str:
    return wait_status(v["value"] & 0xFFFFFFFF)


def _c_string(raw: bytes) -> bytes:
    return raw.split(b"\0", 1)[0]


UTSNAME_SHORT = ("sysname", "nodename")  # strace's uname shows these without -v


def _utsname(v: dict, style: Style) -> str:
    names = list(v) if style.verbose else [n for n in UTSNAME_SHORT if n in v]
    text = ", ".join(f"{n}={quote(_c_string(v[n]), False, style.hex_strings)}" for n in names)
    return "{" + text + ("" if style.verbose else ABBREVIATED) + "}"


def _timeval(v: dict, name: str) -> str:
    return f"{name}={{tv_sec={v[name + '.tv_sec']}, tv_usec={v[name + '.tv_usec']}}}"


def _rusage(v: dict, style: Style) -> str:
    times = f"{_timeval(v, 'ru_utime')}, {_timeval(v, 'ru_stime')}"
    if not style.verbose:
        return "{" + times + ABBREVIATED + "}"
    counts = ", ".join(f"{k}={val}" for k, val in v.items() if not k.startswith(("ru_utime.", "ru_stime.")))
    return "{" + times + ", " + counts + "}"


def _sysinfo(v: dict, style: Style) -> str:
    """strace prints sysinfo whole, with or without -v."""
    loads = ", ".join(str(v[f"loads[{i}]"]) for i in range(3))
    rest = ("totalram", "freeram", "sharedram", "bufferram", "totalswap", "freeswap", "procs", "totalhigh",
            "freehigh", "mem_unit")
    return f"{{uptime={v['uptime']}, loads=[{loads}], " + ", ".join(f"{k}={v[k]}" for k in rest) + "}"


NSIG = 64  # signals in the kernel's 8-byte sigset_t on x86_64


def _signal_short_name(n: int) -> str:
    name = constants().signal_name(n)
    return name[3:] if name and name.startswith("SIG") else str(n)


def sigset_text(bits: int, nsig: int = NSIG, style: Style = DEFAULT_STYLE) -> str:
    """strace's sprintsigmask_n: the signals a mask holds, [INT TERM]; a mask with two thirds or more of
    its signals set prints as what it lacks, ~[RTMIN RT_1] (a full one is ~[]). nsig: the bits of the
    mask read (a multiple of 32). -X raw prints the numbers, -X verbose each number and its name."""
    bits &= (1 << nsig) - 1
    prefix = ""
    if bin(bits).count("1") >= nsig * 2 // 3:
        bits ^= (1 << nsig) - 1
        prefix = "~"
    present = [n for n in range(1, nsig + 1) if bits >> (n - 1) & 1]
    if style.xlat == "raw":
        items = [str(n) for n in present]
    elif style.xlat == "verbose":
        items = [f"{n} /* {_signal_short_name(n)} */" for n in present]
    else:
        items = [_signal_short_name(n) for n in present]
    return prefix + "[" + " ".join(items) + "]"


SIG_DFL, SIG_IGN, SA_RESTORER = 0, 1, 0x04000000


def _handler(value: int) -> str:
    return {SIG_DFL: "SIG_DFL", SIG_IGN: "SIG_IGN"}.get(value, hexval(value))


def _sigaction(v: dict, style: Style) -> str:
    """strace's decode_old_sigaction for x86_64: the restorer shows only when SA_RESTORER says it is set."""
    c = constants()
    flags = v["sa_flags"]
    text = (f"{{sa_handler={_handler(v['sa_handler'])}, sa_mask={sigset_text(v['sa_mask'], style=style)}, "
            f"sa_flags={flags_text(flags, c.sets['sigaction_flags'], c, style)}")
    if flags & SA_RESTORER:
        text += f", sa_restorer={hexval(v['sa_restorer'])}"
    return text + "}"


def _sigset(v: dict, style: Style) -> str:
    return sigset_text(v["bits"], style=style)


RLIM64_INFINITY = (1 << 64) - 1


def _rlim(value: int, style: Style) -> str:
    """strace's print_rlim64_t: RLIM64_INFINITY, a multiple of 1024 above it as N*1024, else the number;
    -X raw the number, -X verbose the number with the other in a comment."""
    if value == RLIM64_INFINITY:
        text = "RLIM64_INFINITY"
    elif value > 1024 and value % 1024 == 0:
        text = f"{value // 1024}*1024"
    else:
        return str(value)
    return with_comment(str(value), text, style)


def _rlimit(v: dict, style: Style) -> str:
    return f"{{rlim_cur={_rlim(v['rlim_cur'], style)}, rlim_max={_rlim(v['rlim_max'], style)}}}"


ST_VALID = 0x20  # the kernel sets it when f_flags means something; strace shows f_flags only then
STATFS_COUNTS = ("f_bsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree")


def _statfs(v: dict, style: Style) -> str:
    """strace's print_struct_statfs, whole with or without -v: the magic by name (an unknown one in hex),
    the fsid's two words in hex, the flags when ST_VALID says they are set."""
    c = constants()
    magic = v["f_type"]
    name = c.sets["fsmagic"].lookup(magic)
    parts = [f"f_type={hexval(magic) if name is None else with_comment(hexval(magic), name, style)}"]
    parts += [f"{k}={v[k]}" for k in STATFS_COUNTS]
    fsid = ", ".join(hexval(v[f"f_fsid.val[{i}]"]) for i in range(2))
    parts += [f"f_fsid={{val=[{fsid}]}}", f"f_namelen={v['f_namelen']}", f"f_frsize={v['f_frsize']}"]
    if v["f_flags"] & ST_VALID:
        parts.append(f"f_flags={flags_text(v['f_flags'], c.sets['statfs_flags'], c, style)}")
    return "{" + ", ".join(parts) + "}"


def _interval(v: dict, unit: str) -> str:
    """struct itimerspec (unit tv_nsec) or itimerval (tv_usec): it_interval, then it_value."""
    return ", ".join(f"{part}={{tv_sec={v[part + '.tv_sec']}, {unit}={v[part + '.' + unit]}}}"
                     for part in ("it_interval", "it_value"))


def _itimerspec(v: dict) -> str:
    return "{" + _interval(v, "tv_nsec") + "}"


def _itimerval(v: dict) -> str:
    return "{" + _interval(v, "tv_usec") + "}"


SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID = 0, 2, 4


def _sigevent(v: dict, style: Style) -> str:
    """strace's print_sigevent: the value when not NULL, the signal by name for the notifications that
    send one, the notification, then the thread id or function the union holds for it."""
    c = constants()
    notify = v["sigev_notify"]
    parts = []
    if v["sigev_value"]:
        value = v["sigev_value"]
        sival_int = value & 0xFFFFFFFF
        parts.append(f"sigev_value={{sival_int={sival_int - (1 << 32) if sival_int >> 31 else sival_int}, "
                     f"sival_ptr={hexval(value)}}}")
    signo = v["sigev_signo"]
    sending = notify in (SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID)
    parts.append(f"sigev_signo={signal_text(signo, style) if sending else signo & 0xFFFFFFFF}")
    parts.append(f"sigev_notify={enum_text(notify & 0xFFFFFFFF, c.sets['sigev_notify'], style)}")
    if notify == SIGEV_THREAD_ID:
        parts.append(f"sigev_notify_thread_id={v['sigev_notify_thread_id']}")
    elif notify == SIGEV_THREAD:
        parts.append(f"sigev_notify_function={hexval(v['sigev_notify_function']) if v['sigev_notify_function'] else 'NULL'}")
        parts.append(f"sigev_notify_attributes={hexval(v['sigev_notify_attributes']) if v['sigev_notify_attributes'] else 'NULL'}")
    return "{" + ", ".join(parts) + "}"


def _kexec_segment(v: dict) -> str:
    """strace's print_seg: the two addresses (NULL for none) and their sizes."""
    return (f"{{buf={addr_text(v['buf'])}, bufsz={v['bufsz']}, mem={addr_text(v['mem'])}, "
            f"memsz={v['memsz']}}}")


def _remote_iovec(v: dict) -> str:
    """An iovec of another process (process_vm_readv's remote side): its address and length, never its
    bytes, as strace's IOV_DECODE_ADDR."""
    return f"{{iov_base={addr_text(v['iov_base'])}, iov_len={v['iov_len']}}}"


def _futex_waitv(v: dict, style: Style) -> str:
    """strace's print_waiter: the value in hex, the word's address, the flags; the reserved word only when
    it is not zero."""
    c = constants()
    text = (f"{{val={hexval(v['val'])}, uaddr={addr_text(v['uaddr'])}, "
            f"flags={flags_text(v['flags'], c.sets['futex_waiter_flags'], c, style)}")
    if v["__reserved"]:
        text += f", __reserved={hexval(v['__reserved'])}"
    return text + "}"


O_CREAT, O_TMPFILE_BIT = 0x40, 0x400000  # (the kernel's __O_TMPFILE, without O_DIRECTORY)


def _open_how(v: dict, style: Style) -> str:
    """strace's print_open_how: the flags as open's, the mode only with O_CREAT or __O_TMPFILE or when it
    is not zero, the resolve flags."""
    c = constants()
    text = f"{{flags={flags_text(v['flags'], c.sets['open_flags'], c, style)}"
    if v["flags"] & (O_CREAT | O_TMPFILE_BIT) or v["mode"]:
        text += f", mode={mode_text(v['mode'])}"
    return text + f", resolve={flags_text(v['resolve'], c.sets['open_resolve_flags'], c, style)}}}"


def _sembuf(v: dict, style: Style) -> str:
    """strace's print_sembuf: the semaphore, the operation, its flags."""
    c = constants()
    return (f"{{sem_num={v['sem_num']}, sem_op={v['sem_op']}, "
            f"sem_flg={flags_text(v['sem_flg'] & 0xFFFF, c.sets['semop_flags'], c, style)}}}")


TIMEX_COUNTS = ("tick", "ppsfreq", "jitter", "shift", "stabil", "jitcnt", "calcnt", "errcnt", "stbcnt", "tai")


def _timex(v: dict, style: Style) -> str:
    """strace's print_timex: the modes and the status by name, every other field as a number, the time
    as a timeval."""
    c = constants()
    head = ", ".join(f"{k}={v[k]}" for k in ("offset", "freq", "maxerror", "esterror"))
    mid = ", ".join(f"{k}={v[k]}" for k in ("constant", "precision", "tolerance"))
    return (f"{{modes={flags_text(v['modes'], c.sets['adjtimex_modes'], c, style)}, {head}, "
            f"status={flags_text(v['status'] & 0xFFFFFFFF, c.sets['adjtimex_status'], c, style)}, {mid}, "
            f"{_timeval(v, 'time')}, " + ", ".join(f"{k}={v[k]}" for k in TIMEX_COUNTS) + "}")


MAX_HANDLE_SZ = 128
EOVERFLOW = 75


def _handle_rest(size: int, data: bytes) -> str:
    """The type and, in hex, as many of the handle's bytes as its size says (at most MAX_HANDLE_SZ, then
    "...": strace's print_f_handle)."""
    shown = data[8:8 + min(size, MAX_HANDLE_SZ)]
    return (f", handle_type={int.from_bytes(data[4:8], 'little', signed=True)}, "
            f"f_handle={quote(shown, False, 2)}" + ("..." if size > MAX_HANDLE_SZ else ""))


def file_handle_text(entry: bytes, returned: tuple | None = None) -> str | None:
    """strace's struct file_handle. At open_by_handle_at (returned None) the handle as given; at
    name_to_handle_at (returned: its return value and the copy made when it returned, None and None
    before it has) the size asked for, the size the kernel wrote when it differs (it writes one on
    EOVERFLOW too), and once the call succeeded the type and the handle. None when the header could not
    be read: the address is printed."""
    if len(entry) < 8:
        return None
    asked = int.from_bytes(entry[:4], "little")
    text = f"{{handle_bytes={asked}"
    if returned is None:
        return text + _handle_rest(asked, entry) + "}"
    ret, exit = returned
    ok = ret is not None and not -4095 <= ret < 0
    if (ok or ret == -EOVERFLOW) and exit is not None and len(exit) >= 8:
        wrote = int.from_bytes(exit[:4], "little")
        if wrote != asked:
            text += f" => {wrote}"
        if ok:
            text += _handle_rest(wrote, exit)
    return text + "}"


# printers that the -v and -X/-x options change take the style too
def _epoll_event(v: dict, style: Style) -> str:
    """print_epoll_event (strace 6.1): the events, the data as both members (epoll_wait's array and
    epoll_ctl's struct)."""
    c = constants()
    return (f"{{events={flags_text(v['events'], c.sets['epoll_events'], c, style)}, "
            f"data={{u32={v['data.u32']}, u64={v['data.u64']}}}}}")


STYLED = {"utsname": _utsname, "epoll_event": _epoll_event, "rusage": _rusage, "sysinfo": _sysinfo, "sigaction": _sigaction, "sigset": _sigset,
          "rlimit": _rlimit, "statfs": _statfs, "utimens": _utimens, "stat": _stat, "statx": _statx,
          "sigevent": _sigevent, "stack_t": _stack_t,
          "mount_attr": _mount_attr, "mq_attr": mq_attr_text, "futex_waitv": _futex_waitv,
          "timex": _timex, "open_how": _open_how, "sembuf": _sembuf}
TEXT = {"timespec": _timespec, "itimerspec": _itimerspec, "itimerval": _itimerval, "fdpair": _fdpair, "int": _int,
        "wstatus": _wstatus, "uid": _id, "gid": _id, "uint": _int, "off64": _int, "time_t": _time_t,
        "ptr": _ptr, "ulong": _int, "utimes": _utimes, "utimbuf": _utimbuf,
        "kexec_segment": _kexec_segment, "remote_iovec": _remote_iovec}


def complete(name: str, data: bytes) -> bool:
    """Whether the copy holds the whole struct: a partial one of these prints as its address, as strace
    prints a struct it could not read."""
    return (name not in STYLED and name != "siginfo") or len(data) >= structs()[name].size


def struct_text(name: str, data: bytes, style: Style = DEFAULT_STYLE) -> str:
    if name == "siginfo":
        return siginfo_struct_text(data, style)
    v = struct_fields(name, data)
    styled = STYLED.get(name)
    if styled is not None:
        return styled(v, style)
    fmt = TEXT.get(name)
    if fmt is not None:
        return fmt(v)
    return "{" + ", ".join(f"{k}={val}" for k, val in v.items()) + "}"


def struct_json(name: str, data: bytes):
    if name == "siginfo":
        si = parse_siginfo(data)
        return {} if si.signo == 0 else siginfo_json(si)
    v = struct_fields(name, data)
    if name in ("int", "wstatus", "gid", "uid", "uint", "off64", "time_t", "ptr", "ulong"):
        return v["value"]
    if name == "fdpair":
        return [v["fd0"], v["fd1"]]
    if name == "file_handle":  # the handle's bytes, as many as its size says, in hex
        size = min(v["handle_bytes"], MAX_HANDLE_SZ)
        return {"handle_bytes": v["handle_bytes"], "handle_type": v["handle_type"], "f_handle": data[8:8 + size].hex()}
    return {k: _c_string(val).decode("utf-8", "surrogateescape") if isinstance(val, bytes) else val
            for k, val in v.items()}
