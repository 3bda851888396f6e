"""Read struct member offsets from the kernel's BTF (/sys/kernel/btf/vmlinux).

BCC compiles against whatever headers are installed, which on a machine using generic fallback headers
do not match the running kernel's struct layouts. Offsets read here from the kernel's own type
information are passed to the BPF program as parameters instead of being compiled in.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct

from tracespec.kernel import cachedir

VMLINUX_BTF = "/sys/kernel/btf/vmlinux"

# bytes following the 12-byte btf_type, by kind (per vlen where marked)
_FIXED_EXTRA = {1: 4, 3: 12, 14: 4, 17: 4}
_PER_VLEN = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
_STRUCT, _UNION = 4, 5


class BtfError(Exception):
    pass


def _parse_members(data: bytes, want: dict[str, tuple[str, ...]]) -> dict[str, dict[str, int]]:
    magic, version, flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", data, 0)
    if magic != 0xEB9F:
        raise BtfError("not a BTF file")
    tbase = hdr_len + type_off
    sbase = hdr_len + str_off

    def name(off: int) -> str:
        end = data.index(b"\0", sbase + off)
        return data[sbase + off:end].decode("ascii", "replace")

    # index every struct/union (type id -> (name, [(member name, member type id, bit offset)]))
    types: dict[int, tuple[str, list]] = {}
    pos, tid, end = tbase, 1, tbase + type_len
    wanted_names = set(want)
    while pos < end:
        name_off, info, _size = struct.unpack_from("<III", data, pos)
        kind = (info >> 24) & 0x1F
        vlen = info & 0xFFFF
        kflag = info >> 31
        pos += 12
        if kind in (_STRUCT, _UNION):
            members = []
            for i in range(vlen):
                m_name, m_type, m_off = struct.unpack_from("<III", data, pos + 12 * i)
                members.append((m_name, m_type, (m_off & 0xFFFFFF) if kflag else m_off))
            types[tid] = (name_off, members)
        pos += _FIXED_EXTRA.get(kind, 0) + _PER_VLEN.get(kind, 0) * vlen
        tid += 1

    def find(members, member: str, base_bits: int):
        for m_name, m_type, bits in members:
            if m_name and name(m_name) == member:
                return base_bits + bits
        for m_name, m_type, bits in members:  # anonymous struct/union members
            if not m_name and m_type in types:
                hit = find(types[m_type][1], member, base_bits + bits)
                if hit is not None:
                    return hit
        return None

    out: dict[str, dict[str, int]] = {}
    for tid, (name_off, members) in types.items():
        if name_off == 0:
            continue
        sname = name(name_off)
        if sname in wanted_names and sname not in out and members:
            found = {}
            for member in want[sname]:
                bits = find(members, member, 0)
                if bits is not None and bits % 8 == 0:
                    found[member] = bits // 8
            out[sname] = found
    return out


def member_offsets(want: dict[str, tuple[str, ...]], path: str = VMLINUX_BTF) -> dict[str, dict[str, int]]:
    """{struct: {member: byte offset}} for the members found; cached per BTF content."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise BtfError(f"cannot read {path}: {e.strerror}") from None
    where = cachedir.directory()
    if where is None:
        return _parse_members(data, want)
    key = hashlib.sha256(data + json.dumps(want, sort_keys=True).encode()).hexdigest()[:32]
    cache = os.path.join(where, f"btf-{key}.json")
    try:
        with open(cache, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    result = _parse_members(data, want)
    try:
        os.makedirs(where, exist_ok=True)
        tmp = f"{cache}.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f)
        os.replace(tmp, cache)
    except OSError:
        pass  # a cache we cannot write only costs time
    return result
