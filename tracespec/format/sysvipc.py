"""System V IPC's control calls as strace prints them: shmctl's, msgctl's and semctl's command, and the
struct it reads (IPC_SET, printed at entry) or writes (the STAT and INFO commands, printed when the call
returns): its permissions, then the fields each struct has (IPC_SET: only those the kernel takes)."""

from __future__ import annotations

from tracespec.decode.events import SyscallEvent
from tracespec.format.values import (Style, addr_text, constants, copied, enum_text, failed, mode_text, signed32,
                                     struct_fields, structs, unsigned)

IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO = 0, 1, 2, 3
IPC_64 = 0x100
# the commands whose struct the kernel writes: (the struct of a STAT, of an INFO) per call
STAT = {"shmctl": {IPC_STAT, 13, 15}, "msgctl": {IPC_STAT, 11, 13}, "semctl": {IPC_STAT, 18, 20}}
INFO = {"shmctl": {IPC_INFO: "shminfo", 14: "shm_info"}, "msgctl": {IPC_INFO: "msginfo", 12: "msginfo"},
        "semctl": {IPC_INFO: "seminfo", 19: "seminfo"}}
DS = {"shmctl": "shmid_ds", "msgctl": "msqid_ds", "semctl": "semid_ds"}
CMDS = {"shmctl": "shmctl_flags", "msgctl": "msgctl_flags", "semctl": "semctl_flags"}


def _cmd(cmd: int, cset, style: Style) -> str:
    """strace's PRINTCTL: IPC_64 apart, then the command by name."""
    text = enum_text(cmd & ~IPC_64, cset, style)
    return enum_text(IPC_64, constants().sets["ipc_64"], style) + "|" + text if cmd & IPC_64 else text


def _perm(data: bytes, setting: bool) -> str:
    """strace's print_ipc_perm: the owner and mode; the key and creator too, but for IPC_SET."""
    p = struct_fields("ipc_perm", data[:48])
    text = f"{{uid={p['uid']}, gid={p['gid']}, mode={mode_text(p['mode'])}"
    if not setting:
        text += f", key={p['key'] & 0xFFFFFFFF}, cuid={p['cuid']}, cgid={p['cgid']}"
    return text + "}"


def _ds(call: str, data: bytes, setting: bool) -> str:
    """struct shmid_ds, msqid_ds or semid_ds: IPC_SET's has the fields the kernel takes only."""
    v = struct_fields(DS[call], data[:structs()[DS[call]].size])
    perm = _perm(data, setting)
    head = f"{call[:3]}_perm={perm}"
    if call == "shmctl":
        rest = [] if setting else [f"{k}={v[k]}" for k in ("shm_segsz", "shm_cpid", "shm_lpid", "shm_nattch",
                                                           "shm_atime", "shm_dtime", "shm_ctime")]
    elif call == "msgctl":
        rest = ([] if setting else [f"{k}={v[k]}" for k in ("msg_stime", "msg_rtime", "msg_ctime", "msg_qnum")])
        rest.append(f"msg_qbytes={v['msg_qbytes']}")
        if not setting:
            rest += [f"msg_lspid={v['msg_lspid']}", f"msg_lrpid={v['msg_lrpid']}"]
    else:
        rest = [] if setting else [f"{k}={v[k]}" for k in ("sem_otime", "sem_ctime", "sem_nsems")]
    return "{" + ", ".join([head] + rest) + "}"


def _info(name: str, data: bytes) -> str:
    v = struct_fields(name, data[:structs()[name].size])
    return "{" + ", ".join(f"{k}={x}" for k, x in v.items()) + "}"


def ipcctl(ev: SyscallEvent, style: Style, fd_text) -> tuple[str, str]:
    """shmctl, msgctl, semctl: the id (semctl's semaphore number too), the command, the buffer."""
    call = ev.info.name
    c = constants()
    ids = ev.args[:2] if call == "semctl" else ev.args[:1]
    raw_cmd = unsigned(ev.args[len(ids)], 4)
    cmd = raw_cmd & ~IPC_64
    addr = unsigned(ev.args[len(ids) + 1])
    name = ev.info.args[len(ids) + 1].name
    enter = ", ".join([str(signed32(i)) for i in ids] + [_cmd(raw_cmd, c.sets[CMDS[call]], style)])
    if cmd == IPC_SET:
        data = copied(ev.entry_slots.get(name), structs()[DS[call]].size) if addr else None
        return f"{enter}, {addr_text(addr) if data is None else _ds(call, data, True)}", ""
    info = INFO[call].get(cmd)
    if cmd not in STAT[call] and info is None:
        return f"{enter}, {addr_text(addr)}", ""
    if ev.exit is None:
        return enter, ""
    size = structs()[info].size if info else structs()[DS[call]].size
    data = copied(ev.slots.get(name), size) if addr and not failed(ev.ret) else None
    if data is None:
        return enter, f", {addr_text(addr)}"
    return enter, ", " + (_info(info, data) if info else _ds(call, data, False))
