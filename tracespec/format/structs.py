"""Structs copied out of a traced process, printed as strace abbreviates them."""

from __future__ import annotations

from tracespec.format.values import constants, flags_text, makedev, struct_fields, symbolic_mode


def _stat(v: dict) -> str:
    mode = v.get("st_mode", 0)
    if mode & 0o170000 in (0o020000, 0o060000):  # devices show their device number, not a size
        return f"{{st_mode={symbolic_mode(mode)}, st_rdev={makedev(v.get('st_rdev', 0))}, ...}}"
    return f"{{st_mode={symbolic_mode(mode)}, st_size={v.get('st_size', 0)}, ...}}"


def _statx(v: dict) -> str:
    c = constants()
    mask = flags_text(v.get("stx_mask", 0), c.sets["statx_mask"], c)
    attrs = flags_text(v.get("stx_attributes", 0), c.sets["statx_attributes"], c)
    return (f"{{stx_mask={mask}, stx_attributes={attrs}, stx_mode={symbolic_mode(v.get('stx_mode', 0))}, "
            f"stx_size={v.get('stx_size', 0)}, ...}}")


def _timespec(v: dict) -> str:
    return f"{{tv_sec={v['tv_sec']}, tv_nsec={v['tv_nsec']}}}"


def _fdpair(v: dict) -> str:
    return f"[{v['fd0']}, {v['fd1']}]"


def _int(v: dict) -> str:
    return f"[{v['value']}]"


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


TEXT = {"stat": _stat, "statx": _statx, "timespec": _timespec, "fdpair": _fdpair, "int": _int,
        "wstatus": _wstatus}


def struct_text(name: str, data: bytes) -> str:
    v = struct_fields(name, data)
    fmt = TEXT.get(name)
    if fmt is not None:
        return fmt(v)
    return "{" + ", ".join(f"{k}={val}" for k, val in v.items()) + "}"


def struct_json(name: str, data: bytes):
    v = struct_fields(name, data)
    if name in ("int", "wstatus"):
        return v["value"]
    if name == "fdpair":
        return [v["fd0"], v["fd1"]]
    return v
