"""What BCC's compile of a program's C leaves to load: its maps (as BCC would create them), its programs'
instructions, and where those refer to a map. This is all a load needs, so it can be kept (runtime/objcache)
and loaded again without the compiler.

BCC creates the maps while it compiles and writes their descriptors into the instructions (a 64-bit load of
an immediate whose source register is BPF_PSEUDO_MAP_FD). Here each such instruction is noted with the index
of its map instead, and a load writes the descriptor of the map it created.

Stored form: a magic line, a JSON header (lengths, names, numbers, BCC's type descriptions of keys and
values: data, read by json and by runtime/maps.ctype, never evaluated), the instructions, and a SHA-256 of
all that before it, so that a cut or damaged file is a miss, not a load of something else.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass

MAGIC = b"tracespec-bpf-object 1\n"
LD_IMM64 = 0x18  # BPF_LD | BPF_IMM | BPF_DW: two instruction slots
PSEUDO_MAP_FD = 1


class ObjectError(ValueError):
    """A stored object that cannot be what a compile left (damaged, or of another version)."""


@dataclass(frozen=True)
class MapSpec:
    name: str
    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    key_desc: str  # BCC's JSON description of the key's C type ("" when it gave none)
    leaf_desc: str


@dataclass(frozen=True)
class ProgramSpec:
    name: str
    insns: bytes  # with every map reference's immediate zeroed
    relocations: tuple[tuple[int, int], ...]  # (instruction index, map index)


@dataclass(frozen=True)
class BpfObject:
    license: str
    kern_version: int
    maps: tuple[MapSpec, ...]
    programs: tuple[ProgramSpec, ...]

    def map_index(self, name: str) -> int:
        for i, m in enumerate(self.maps):
            if m.name == name:
                return i
        raise KeyError(name)

    def program(self, name: str) -> ProgramSpec:
        for p in self.programs:
            if p.name == name:
                return p
        raise KeyError(name)


def relocate(insns: bytes, fd_to_map: dict[int, int]) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    """The instructions with each map descriptor replaced by 0, and (index, map index) for each."""
    out = bytearray(insns)
    relocations = []
    i, n = 0, len(insns) // 8
    while i < n:
        code, regs, _, imm = struct.unpack_from("<BBhi", out, i * 8)
        if code == LD_IMM64:
            if regs >> 4 == PSEUDO_MAP_FD:
                if imm not in fd_to_map:
                    raise ObjectError(f"instruction {i} refers to descriptor {imm}, which is no map of the object")
                relocations.append((i, fd_to_map[imm]))
                struct.pack_into("<i", out, i * 8 + 4, 0)
            elif regs >> 4:
                raise ObjectError(f"instruction {i} is a 64-bit load of a kind this loader does not relocate "
                                  f"({regs >> 4})")
            i += 2
            continue
        i += 1
    return bytes(out), tuple(relocations)


def with_map_fds(program: ProgramSpec, map_fds: list[int]) -> bytes:
    out = bytearray(program.insns)
    for insn, index in program.relocations:
        regs = out[insn * 8 + 1]
        out[insn * 8 + 1] = (regs & 0x0F) | PSEUDO_MAP_FD << 4
        struct.pack_into("<i", out, insn * 8 + 4, map_fds[index])
    return bytes(out)


def dumps(obj: BpfObject) -> bytes:
    header = {
        "license": obj.license, "kern_version": obj.kern_version,
        "maps": [[m.name, m.type, m.key_size, m.value_size, m.max_entries, m.flags, m.key_desc, m.leaf_desc]
                 for m in obj.maps],
        "programs": [[p.name, len(p.insns), [list(r) for r in p.relocations]] for p in obj.programs],
    }
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    body = MAGIC + struct.pack("<I", len(head)) + head + b"".join(p.insns for p in obj.programs)
    return body + hashlib.sha256(body).digest()


def loads(data: bytes) -> BpfObject:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4 + 32:
        raise ObjectError("not a stored BPF object of this version")
    body, digest = data[:-32], data[-32:]
    if hashlib.sha256(body).digest() != digest:
        raise ObjectError("the stored BPF object is damaged (its checksum does not match)")
    (n,) = struct.unpack_from("<I", body, len(MAGIC))
    start = len(MAGIC) + 4
    try:
        header = json.loads(body[start:start + n].decode("utf-8"))
        maps = tuple(MapSpec(str(a), int(b), int(c), int(d), int(e), int(f), str(g), str(h))
                     for a, b, c, d, e, f, g, h in header["maps"])
        pos = start + n
        programs = []
        for name, size, relocs in header["programs"]:
            insns = body[pos:pos + int(size)]
            if len(insns) != size or size % 8:
                raise ObjectError("the stored BPF object is cut short")
            programs.append(ProgramSpec(str(name), insns, tuple((int(i), int(m)) for i, m in relocs)))
            pos += size
        for p in programs:
            for i, m in p.relocations:
                if not (0 <= m < len(maps) and 0 <= i < len(p.insns) // 8):
                    raise ObjectError("the stored BPF object refers to a map it does not have")
        return BpfObject(str(header["license"]), int(header["kern_version"]), maps, tuple(programs))
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as e:
        if isinstance(e, ObjectError):
            raise
        raise ObjectError(f"the stored BPF object's header is not readable: {e}") from None
