"""JSON Lines: one object per syscall, a contract for scripts.

    {"ts_ns": 1700000000123456789, "ts": "1700000000.123456789", "pid": 4242, "tid": 4242, "comm": "cat", "syscall": "openat",
     "args": {"dfd": -100, "dfd_names": ["AT_FDCWD"], "filename": "/etc/hostname", "flags": 524288,
              "flags_names": ["O_RDONLY", "O_CLOEXEC"], "mode": 0},
     "ret": 3, "errno": null, "duration_ns": 2417}

ts_ns is wall-clock time (Unix epoch) of the syscall's entry, and ts the same as an exact decimal string
of seconds ("1700000000.123456789": ts_ns is beyond 2**53, where jq and JavaScript round numbers). args
are keyed by the kernel's argument names; numbers are the values their C types hold; a value that has
names (flags, enum values, signals, AT_FDCWD) has them beside it as NAME_names, a list in strace's
order (unknown flag bits last, in hex: "0x80000000"; [] for a value no name covers); paths, strings and buffers are JSON strings (bytes that
are not UTF-8 appear as lone surrogates U+DC80..U+DCFF, Python's "surrogateescape", so they round-trip);
a copied struct is an object of its fields, getdents' buffer a list of its entries (d_ino, d_off,
d_reclen, d_type, d_type_names, d_name); memory that could not be read is the pointer's number. A
cut string or buffer is listed in "truncated" (argument -> its full length, or true when unknown).
ret is the raw kernel return (null if the syscall never returned), errno its name on failure.
A process's end is {"ts_ns", "pid", "exited": status} or {"ts_ns", "pid", "killed": "SIGKILL"}.
A signal delivered is {"ts_ns", "ts", "pid", "tid", "signal": "SIGCHLD", "siginfo": {the fields strace
prints, by name, e.g. "si_code": 1, "si_code_names": ["CLD_EXITED"], "si_pid": 4243, ...}}.
The last line is {"lost": N, "syscalls": M, "unfinished": K}: N records the kernel could not deliver.
"""

from __future__ import annotations

import json

from tracespec.decode.events import (SIGFRAME_MASK_SLOT, Finished, Lost, ProcessExit, Signalled, SyscallEvent,
                                     Unfinished)
from tracespec.catalogue.dirents import DIRENT_HEADERS, DIRENTS_SIZE, DIRENTS_SLOT
from tracespec.catalogue.structs import MMSG_KINDS, MMSGHDR_SIZE, MSG_LEN_AT, POINTER_MEMBERS, mmsg_members
from tracespec.format import args as A
from tracespec.format.arrays import ARRAY_KINDS, array_json, nodemask_json
from tracespec.format.dirents import entries_json
from tracespec.format.siginfo import siginfo_json
from tracespec.format.sockaddr import sockaddr_json
from tracespec.format.structs import complete, struct_json
from tracespec.wire.records import iovec_base
from tracespec.format.values import NAMED_KINDS, constants, failed, kind_of, unsigned, value_names


_MEMORY, _NAMED = "memory", "named"
NAMES_SUFFIX = "_names"  # flags: 524288 comes with flags_names: ["O_RDONLY", "O_CLOEXEC"]
NAMED_MAX = 1 << 16  # values whose names JsonWriter.line remembers


def exact_seconds(ts_ns: int) -> str:
    """The time as a decimal string of seconds with all nine digits: exact where a JSON number is not
    (ts_ns is beyond 2**53, so jq and JavaScript round it to a few hundred nanoseconds)."""
    seconds, ns = divmod(ts_ns, 1_000_000_000)
    return f"{seconds}.{ns:09d}"


def process_end(item: ProcessExit) -> dict:
    """A task's end as the contract has it, but for its time: pid, tid, then how it ended (the exit status,
    or the signal that killed it and whether it dumped core). The exports take it from here too."""
    obj: dict = {"pid": item.tgid, "tid": item.tid}
    if item.code & 0x7F:
        obj["killed"] = constants().signal_name(item.code & 0x7F) or item.code & 0x7F
        if item.code & 0x80:
            obj["core_dumped"] = True
    else:
        obj["exited"] = (item.code >> 8) & 0xFF
    return obj


def signal_delivered(item: Signalled) -> dict:
    """A signal's delivery as the contract has it, but for its time: pid, tid, the signal's name (its
    number when it has none) and the siginfo's fields strace prints."""
    return {"pid": item.tgid, "tid": item.tid, "signal": constants().signal_name(item.sig) or item.sig,
            "siginfo": siginfo_json(item.info)}


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _iovecs_json(elements) -> list:
    """iovecs as {"len", "data"}: an element's bytes, or where they could not be read its iov_base's number
    (null for NULL), as for any memory that could not be read."""
    out = []
    for n, s in elements:
        base = iovec_base(s)
        out.append({"len": n, "data": _text(s.data) if base is None else (base or None)})
    return out


class JsonWriter:
    raw = False  # takes decoded events (a binary trace's writer takes raw records)

    def __init__(self, out, clock_offset_ns: int = 0):
        self.out = out
        self.offset = clock_offset_ns
        self.buf: list[str] = []
        self.syscalls = 0
        self.unfinished = 0
        self.dumps = json.JSONEncoder(ensure_ascii=True, separators=(", ", ": ")).encode
        # by syscall number: per argument, (argument, MEMORY if json_value reads its memory, NAMED if its
        # value has names to give beside the number, else None)
        self.fields: dict[int, tuple] = {}
        self.encoded: dict = {}  # strings as JSON, made once: keys, task and syscall names, errno names
        self.named: dict = {}  # (argument, kind, size, value) -> its names as JSON, or None: flags and enums repeat

    def _fields(self, ev: SyscallEvent) -> tuple:
        fields = self.fields[ev.nr] = tuple(
            (f, _MEMORY if kind_of(f)[0] in A.MEMORY_KINDS else _NAMED if kind_of(f)[0] in NAMED_KINDS else None)
            for f in (ev.info.args if ev.info else A.RAW_ARGS))
        return fields

    def event(self, ev: SyscallEvent, finished: bool) -> dict:
        args = {}
        truncated = {}
        fields = self.fields.get(ev.nr)
        for (f, how), v in zip(self._fields(ev) if fields is None else fields, ev.args):
            if how is not _MEMORY:  # a number: json_value's answer without asking
                args[f.name] = v
                if how is _NAMED:
                    names = value_names(v, f)
                    if names is not None:
                        args[f.name + NAMES_SUFFIX] = names
                continue
            value, cut = json_value(f, v, ev)
            args[f.name] = value
            if cut is not None:
                truncated[f.name] = cut
        if not args and ev.slots and SIGFRAME_MASK_SLOT in ev.slots:  # rt_sigreturn's restored mask
            args[SIGFRAME_MASK_SLOT] = struct_json("sigset", ev.slots[SIGFRAME_MASK_SLOT].data)
        ret = ev.ret if finished else None
        ts = ev.ts + self.offset
        obj = {
            "ts_ns": ts, "ts": exact_seconds(ts), "pid": ev.tgid, "tid": ev.tid, "comm": ev.comm,
            "syscall": ev.name, "args": args, "ret": ret,
            "errno": constants().errno_name(-ret) if failed(ret) else None,
            "duration_ns": ev.duration_ns if finished else None,
        }
        if truncated:
            obj["truncated"] = truncated
        return obj

    def _json(self, s: str) -> str:
        text = self.encoded[s] = self.dumps(s)
        return text

    def _names(self, f, v: int) -> str | None:
        """`"NAME_names": [...]` of a value, remembered (a few thousand distinct values at most: a flag
        word's combinations; forgotten all at once past NAMED_MAX, in case some argument's are not)."""
        names = value_names(v, f)
        if names is not None:
            key = f.name + NAMES_SUFFIX
            names = f"{self.encoded.get(key) or self._json(key)}: {self.dumps(names)}"
        if len(self.named) >= NAMED_MAX:
            self.named.clear()
        self.named[(f.name, f.kind, f.size, v)] = names
        return names

    def line(self, ev: SyscallEvent, finished: bool) -> str:
        """dumps(event(ev, finished)), the same text made without the dict: the objects of the fixed keys
        are written in place, and what is the same from line to line (keys, names) is encoded once. JSON
        output is 5 times slower than text otherwise (bench/decode_probe.py); tests/unit/test_jsonl_writer.py
        holds the two to the same text."""
        enc = self.encoded
        dumps = self.dumps
        parts = []
        truncated = None
        fields = self.fields.get(ev.nr)
        for (f, how), v in zip(self._fields(ev) if fields is None else fields, ev.args):
            name = f.name
            key = enc.get(name) or self._json(name)
            if how is not _MEMORY:
                parts.append(f"{key}: {v if type(v) is int else dumps(v)}")
                if how is _NAMED:
                    names = self.named.get((name, f.kind, f.size, v), False)
                    if names is False:
                        names = self._names(f, v)
                    if names is not None:
                        parts.append(names)
                continue
            value, cut = json_value(f, v, ev)
            parts.append(f"{key}: {dumps(value)}")
            if cut is not None:
                if truncated is None:
                    truncated = {}
                truncated[name] = cut
        if not parts and ev.slots and SIGFRAME_MASK_SLOT in ev.slots:  # rt_sigreturn's restored mask
            parts.append(f"{self._json(SIGFRAME_MASK_SLOT)}: "
                         f"{dumps(struct_json('sigset', ev.slots[SIGFRAME_MASK_SLOT].data))}")
        ts = ev.ts + self.offset
        comm = ev.comm
        syscall = ev.name
        if finished:
            ret = ev.ret
            if failed(ret):
                errno = constants().errno_name(-ret)
                errno = "null" if errno is None else enc.get(errno) or self._json(errno)
            else:
                errno = "null"
            ret = "null" if ret is None else ret
            duration = ev.duration_ns
            duration = "null" if duration is None else duration
        else:
            ret = errno = duration = "null"
        seconds, ns = divmod(ts, 1_000_000_000)
        tail = "}" if truncated is None else f", \"truncated\": {dumps(truncated)}}}"
        return (f'{{"ts_ns": {ts}, "ts": "{seconds}.{ns:09d}", "pid": {ev.tgid}, "tid": {ev.tid}, '
                f'"comm": {enc.get(comm) or self._json(comm)}, "syscall": {enc.get(syscall) or self._json(syscall)}, '
                f'"args": {{{", ".join(parts)}}}, "ret": {ret}, "errno": {errno}, "duration_ns": {duration}{tail}')

    def write(self, items) -> None:
        buf = self.buf
        for item in items:
            if type(item) is Finished:
                self.syscalls += 1
                buf.append(self.line(item.event, True))
            elif isinstance(item, Unfinished):
                self.syscalls += 1
                self.unfinished += 1
                buf.append(self.line(item.event, False))
            elif isinstance(item, ProcessExit) and item.code >= 0:
                ts = item.ts + self.offset
                buf.append(self.dumps({"ts_ns": ts, "ts": exact_seconds(ts), **process_end(item)}))
            elif type(item) is Signalled:
                ts = item.ts + self.offset
                buf.append(self.dumps({"ts_ns": ts, "ts": exact_seconds(ts), **signal_delivered(item)}))
            elif isinstance(item, Lost):
                ts = item.ts + self.offset
                buf.append(self.dumps({"ts_ns": ts, "ts": exact_seconds(ts), "lost_here": item.count}))
        if len(buf) > 256:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.out.write("\n".join(self.buf) + "\n")
            self.buf.clear()
        self.out.flush()

    def finish(self, lost: int, exit_code: int | None = None) -> None:
        self.buf.append(self.dumps({"lost": lost, "syscalls": self.syscalls, "unfinished": self.unfinished}))
        self.flush()


def _int_of(slot, size: int = 4) -> int | None:
    if slot is None or slot.fault or slot.absent or len(slot.data) != size:
        return None
    return int.from_bytes(slot.data, "little", signed=True)


def _full_length(ev: SyscallEvent, f) -> int | bool:
    """The length a cut buffer really had (the return value, or its length argument), else True."""
    kind, param = kind_of(f)
    if kind == "obuf" and ev.ret is not None and ev.ret >= 0:
        return ev.ret
    if kind in ("ibuf", "imsgbuf", "omsgbuf") and ev.info:  # (a message's: its text's, msgsz)
        for g, v in zip(ev.info.args, ev.args):
            if g.name == param:
                return v
    return True


def _with_parts(value: dict, members, name: str, ev: SyscallEvent, entry: int = -1) -> dict:
    """A struct's JSON with what its pointer members point to beside them (an mmsghdr entry's: under the
    msghdr's own names)."""
    for m in members:
        part = ev.slots.get(f"{name}__{m.part}")
        if part is None or part.absent or part.fault:
            continue
        key = m.part if entry < 0 else m.part.split("_", 1)[1]
        if m.iovec:
            value[key] = _iovecs_json(part.data)
        elif key == "name":
            value[key] = sockaddr_json(part.data)
        elif m.struct and complete(m.struct, part.data):
            value[key] = struct_json(m.struct, part.data)
        else:
            value[key] = _text(part.data)
    return value


def _mmsg_json(f, v: int, ev: SyscallEvent):
    """sendmmsg's and recvmmsg's entries as the text shows them (format/mmsghdr.py): each {"msg_hdr": the
    msghdr with what its pointers point to, "msg_len": N when the call returned it}; the count when
    fewer are shown than there are, the pointer when nothing was read."""
    sending = kind_of(f)[0] == "immsgvec"
    entry, after = ev.entry_slots.get(f.name), ev.slots.get(f.name)
    ok = ev.ret is not None and not failed(ev.ret)
    count = unsigned(next((x for g, x in zip(ev.info.args, ev.args) if g.name == "vlen"), 0), 4) if sending \
        else (ev.ret if ok else 0)
    data = entry if sending else (after if ok and after is not entry else None)
    if data is None or data.absent or data.fault:
        return v, None
    lengths = after if after is not entry and after is not None and not after.absent and not after.fault else None
    out = []
    for i in range(min(count, len(data.data) // MMSGHDR_SIZE)):
        at = i * MMSGHDR_SIZE
        item = {"msg_hdr": _with_parts(struct_json("msghdr", data.data[at:at + 56]), mmsg_members(i), f.name, ev, i)}
        if ok and i < ev.ret and lengths is not None and len(lengths.data) >= at + MMSGHDR_SIZE:
            item["msg_len"] = int.from_bytes(lengths.data[at + MSG_LEN_AT:at + MSG_LEN_AT + 4], "little")
        out.append(item)
    return out, (count if len(out) < count else None)


def _dirents_json(v: int, ev: SyscallEvent, slot):
    """getdents' buffer as the list of the entries the copy holds (format/dirents.py); the pointer when the
    call failed."""
    if ev.ret is None or failed(ev.ret):
        return v, None
    counted = ev.slots.get(DIRENTS_SLOT)
    count = (int.from_bytes(counted.data[:4], "little")
             if counted is not None and not counted.flags and len(counted.data) >= DIRENTS_SIZE else None)
    return entries_json(ev.info.name, slot.data[:ev.ret], ev.ret, count)


def json_value(f, v: int, ev: SyscallEvent):
    """(JSON value of an argument, what to list under "truncated" or None)."""
    kind, param = kind_of(f)
    if kind not in A.MEMORY_KINDS:
        return v, None
    if v == 0:
        return None, None
    # a struct the kernel may write to when it refuses it: as the caller gave it (a file handle: as the
    # kernel made it, once it did)
    slot = ev.slots.get(f.name)
    if kind == "iwstruct" and (param != "file_handle" or ev.exit is None or failed(ev.ret)):
        slot = ev.entry_slots.get(f.name)
    if kind in ARRAY_KINDS or kind in ("fdset", "lefttime"):
        return array_json(f, v, ev)
    if kind in ("nodemask", "onodemask"):
        return nodemask_json(f, v, ev, slot), None
    if kind == "oenum":  # the int the kernel wrote, its name beside it in the text form only
        return (v if failed(ev.ret) or slot is None or slot.absent or slot.fault else _int_of(slot)), None
    if kind == "iostruct" and param in ("int", "off64"):  # a length, an offset (sendfile's)
        size = 4 if param == "int" else 8
        entry = ev.entry_slots.get(f.name)
        return {"before": _int_of(entry, size), "after": _int_of(slot, size) if slot is not entry else None}, None
    if slot is None or slot.absent or (slot.fault and not slot.data):
        return v, None  # the memory could not be read: the pointer
    if kind in MMSG_KINDS:
        return _mmsg_json(f, v, ev)
    if kind in ("imsgbuf", "omsgbuf"):  # a System V message: {"mtype", "mtext"} (the text cut at -s)
        parts = A.msgbuf_parts(slot)
        if parts is None:
            return v, None
        mtype, data = parts
        return ({"mtype": mtype, "mtext": None if data is None else _text(data)},
                _full_length(ev, f) if slot.truncated else None)
    if kind == "obuf" and ev.info is not None and ev.info.name in DIRENT_HEADERS:
        return _dirents_json(v, ev, slot)
    if kind in ("istruct", "ostruct", "iostruct", "iwstruct", "cistruct"):
        return _with_parts(struct_json(param, slot.data), POINTER_MEMBERS.get(param, ()), f.name, ev), None
    if kind in ("sockaddr", "osockaddr"):
        return sockaddr_json(slot.data), None
    if kind in ("sockoptval", "osockoptval") and len(slot.data) == 4:
        return _int_of(slot), None
    if kind == "strv" or (kind == "envp" and isinstance(slot.data, tuple)):  # envp copied whole under -v
        cut = True if (slot.truncated or any(s.truncated for s in slot.data)) else None
        return [_text(s.data) for s in slot.data], cut
    if kind == "envp":
        return slot.data, (True if slot.truncated else None)
    if kind in ("iovec", "oiovec"):
        items = _iovecs_json(slot.data)
        cut = True if (slot.truncated or any(s.truncated for _, s in slot.data)) else None
        return items, cut
    return _text(slot.data), (_full_length(ev, f) if slot.truncated else None)
