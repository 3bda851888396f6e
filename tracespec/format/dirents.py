"""getdents and getdents64 under -v: the entries themselves, as strace's decode_dents prints them
(getdents64(3, [{d_ino=..., d_off=..., d_reclen=24, d_type=DT_DIR, d_name="."}, ...], 32768) = 48).

strace reads each entry where it lies, walking the ret bytes the call wrote by d_reclen. tracespec reads
them from the copy the BPF program made (catalogue/dirents.py), which may be shorter than ret: what lies
past its end is printed as strace prints memory it cannot read, so that the line is the one strace would
print had the process's memory ended there: an entry whose header is past it as "... /* 0xADDR */", a name
that runs past it as its address and then "...".

The names are paths to strace: -s does not cut them, -x and -xx apply.

JSON (entries_json) lists the entries whole in the copy, as objects, with or without -v.
"""

from __future__ import annotations

from tracespec.catalogue.dirents import D_NAME_LEN_MAX, D_RECLEN, DIRENT_HEADERS
from tracespec.quote import quote
from tracespec.format.values import Style, constants, enum_text

FORCE_HEX = 2  # as -xx: bytes left over that make no entry (strace's QUOTE_FORCE_HEX)


def _u64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 8], "little")


class _Reader:
    """The copy of the buffer at `addr`: which bytes of it are known, and their text."""

    def __init__(self, addr: int, data: bytes, style: Style):
        self.addr, self.data, self.style = addr, data, style

    def has(self, start: int, n: int) -> bool:
        return start + n <= len(self.data)

    def name(self, start: int, n: int) -> tuple[str, bool]:
        """strace's printpathn of at most n bytes (the NUL among them): the quoted name, or its address
        when the copy ends before the NUL (False: strace's read failed, and it stops after this entry)."""
        n = min(n, D_NAME_LEN_MAX)
        chunk = self.data[start:start + n]
        nul = chunk.find(b"\0")
        if nul >= 0:
            return quote(chunk[:nul], hex_strings=self.style.hex_strings), True
        if len(chunk) < n:  # the copy ends before the name does
            return f"{self.addr + start:#x}", False
        return quote(chunk[:n - 1], truncated=True, hex_strings=self.style.hex_strings), True


def entries_text(syscall: str, addr: int, data: bytes, ret: int, style: Style) -> str:
    """The ret bytes getdents (syscall) wrote at addr, of which `data` is the copy, as strace -v prints
    them."""
    header = DIRENT_HEADERS[syscall]
    types = constants().sets["dirent_types"]
    r = _Reader(addr, data, style)
    out: list[str] = []
    pos, left = 0, ret
    while True:
        if left < header:
            if not left:  # nothing was written (ret 0): an empty array
                return "[]"
            # bytes that make no entry, in hex; strace prints them without the brackets when they come first
            tail = quote(data[pos:pos + left], hex_strings=FORCE_HEX) if r.has(pos, left) else f"{addr + pos:#x}"
            if not out:
                return tail
            out.append(tail)
            break
        if not r.has(pos, header):  # the header cannot be read: the array ends with where it is
            if not out:
                return f"{addr:#x}"
            out.append(f"... /* {addr + pos:#x} */")
            break
        reclen = int.from_bytes(data[pos + D_RECLEN:pos + D_RECLEN + 2], "little")
        text = f"{{d_ino={_u64(data, pos)}, d_off={_u64(data, pos + 8)}, d_reclen={reclen}"
        follows = 0  # the offset of the next entry, 0 when this is the last
        if reclen > left:  # the kernel never writes these two; strace says what it found
            text += f" /* {reclen - left} bytes overflow */"
            reclen, rest = left, 0
        elif reclen < header:
            text += f" /* {header - reclen} bytes underflow */"
            reclen, rest = header, left - header
        else:
            rest = left - reclen
            follows = pos + reclen if rest else 0
        left = rest
        readable = True
        length = reclen - header  # the name, its NUL and padding (getdents: and d_type, last)
        if syscall == "getdents64":
            text += f", d_type={enum_text(data[pos + header - 1], types, style)}"
            if length:
                shown, readable = r.name(pos + header, length)
                text += f", d_name={shown}"
        elif length:
            if length > 1:
                shown, readable = r.name(pos + header, length - 1)
                text += f", d_name={shown}"
            at = pos + reclen - 1
            if r.has(at, 1):
                text += f", d_type={enum_text(data[at], types, style)}"
            else:
                text += f", d_type={addr + at:#x}"
                readable = False
        out.append(text + "}")
        if not follows:
            break
        if not readable:
            out.append("...")
            break
        pos = follows
    return "[" + ", ".join(out) + "]"


def entries_json(syscall: str, data: bytes, ret: int, counted: int | None) -> tuple[list, int | bool | None]:
    """(the entries of the ret bytes getdents wrote, what to list under "truncated" or None) for JSON:
    each entry whole in the copy `data` as {"d_ino", "d_off", "d_reclen", "d_type", "d_type_names",
    "d_name"}, numbers as their C types hold them (getdents64's d_off is signed), d_name a JSON string.
    When the copy ends before the entries do, the count of them all (`counted`, the BPF program's walk)
    or True when it is not known. A length the kernel never writes (past ret, or shorter than the header)
    ends the list after its entry; bytes left over that make no entry are not an entry."""
    header = DIRENT_HEADERS[syscall]
    types = constants().sets["dirent_types"]
    wide = syscall == "getdents64"
    out: list = []
    pos, left = 0, ret
    while left >= header:
        if pos + header > len(data):
            return out, counted if counted is not None else True
        reclen = int.from_bytes(data[pos + D_RECLEN:pos + D_RECLEN + 2], "little")
        size = min(max(reclen, header), left)  # the bytes of this entry strace walks
        if wide:
            dtype_at, name_at, name_len = pos + header - 1, pos + header, size - header
        else:
            dtype_at, name_at, name_len = pos + size - 1, pos + header, max(size - header - 1, 0)
        chunk = data[name_at:name_at + min(name_len, D_NAME_LEN_MAX)]
        nul = chunk.find(b"\0")
        if dtype_at >= len(data) or (nul < 0 and len(chunk) < min(name_len, D_NAME_LEN_MAX)):
            return out, counted if counted is not None else True  # the copy ends inside this entry
        dtype = data[dtype_at] if size > header or wide else None
        name = chunk[:nul] if nul >= 0 else chunk
        off = int.from_bytes(data[pos + 8:pos + 16], "little", signed=wide)
        entry = {"d_ino": _u64(data, pos), "d_off": off, "d_reclen": reclen}
        if dtype is not None:
            name_of = types.lookup(dtype)
            entry["d_type"], entry["d_type_names"] = dtype, [name_of] if name_of is not None else []
        entry["d_name"] = name.decode("utf-8", "surrogateescape")
        out.append(entry)
        if reclen > left or reclen < header:
            break
        pos, left = pos + reclen, left - reclen
    return out, None
