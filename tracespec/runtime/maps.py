"""A BPF map of a loaded object, read and written from Python: keys and values as ctypes objects whose
types come from BCC's description of the C types (so the C stays their one definition).

Indexing follows BCC's tables, whose interface the rest of tracespec was written against: m[key] is the
value (a ctypes object; for a per-CPU map an array of one value per possible CPU), `key in m`, del m[key],
m.keys(), m.Key and m.Leaf the types, m.map_fd the descriptor. Keys and values may be any ctypes object of
the right size.
"""

from __future__ import annotations

import ctypes
import json

from tracespec.runtime import bpfsys

# BCC's names of C's scalar types, as its descriptions spell them
_SCALARS = {
    "_Bool": ctypes.c_bool, "char": ctypes.c_char, "signed char": ctypes.c_byte,
    "unsigned char": ctypes.c_ubyte, "short": ctypes.c_short, "unsigned short": ctypes.c_ushort,
    "int": ctypes.c_int, "unsigned int": ctypes.c_uint, "long": ctypes.c_long, "unsigned long": ctypes.c_ulong,
    "long long": ctypes.c_longlong, "unsigned long long": ctypes.c_ulonglong,
    "__int128": ctypes.c_int64 * 2, "unsigned __int128": ctypes.c_uint64 * 2,
}


class TypeDescError(ValueError):
    pass


def ctype(desc):
    """The ctypes type of one of BCC's JSON type descriptions: a scalar's name, or
    [name, [[field, type], [field, type, [count]], [field, type, bits]...], "struct"|"union"|"struct_packed"]."""
    if isinstance(desc, str):
        if desc not in _SCALARS:
            raise TypeDescError(f"unknown C type {desc!r}")
        return _SCALARS[desc]
    if not (isinstance(desc, list) and len(desc) >= 2 and isinstance(desc[1], list)):
        raise TypeDescError(f"not a type description: {desc!r}")
    fields, anonymous = [], []
    for f in desc[1]:
        if not isinstance(f, list) or len(f) not in (2, 3) or not isinstance(f[0], str):
            raise TypeDescError(f"not a field description: {f!r}")
        if len(f) == 2:
            fields.append((f[0], ctype(f[1])))
        elif isinstance(f[2], list) and len(f[2]) == 1 and isinstance(f[2][0], int):
            fields.append((f[0], ctype(f[1]) * f[2][0]))
        elif isinstance(f[2], int) and not isinstance(f[2], bool):
            fields.append((f[0], ctype(f[1]), f[2]))
        elif f[2] in ("struct", "union", "struct_packed"):
            name = f[0] or f"__anon{len(anonymous)}"
            if not f[0]:
                anonymous.append(name)
            fields.append((name, ctype(f)))
        else:
            raise TypeDescError(f"not a field description: {f!r}")
    kind = desc[2] if len(desc) > 2 else "struct"
    base = ctypes.Union if kind == "union" else ctypes.Structure
    body = {"_anonymous_": anonymous, "_fields_": fields}
    if kind == "struct_packed":
        body["_pack_"] = 1
    return type(str(desc[0]) or "anon", (base,), body)


def _type_of(desc: str, size: int):
    """The type described, or bytes of the map's size where BCC gave no description."""
    if desc:
        try:
            t = ctype(json.loads(desc))
            if ctypes.sizeof(t) == size:
                return t
        except (ValueError, TypeDescError):
            pass
    return ctypes.c_ubyte * size


class Map:
    def __init__(self, name: str, fd: int, map_type: int, key_size: int, value_size: int, max_entries: int,
                 key_desc: str = "", leaf_desc: str = ""):
        self.name = name
        self.map_fd = fd
        self.map_type = map_type
        self.max_entries = max_entries
        self.key_size, self.value_size = key_size, value_size
        self.Key = _type_of(key_desc, key_size) if key_size else None
        self.sLeaf = _type_of(leaf_desc, value_size) if value_size else None
        self.percpu = map_type in bpfsys.PERCPU_MAP_TYPES
        if self.percpu:
            self.ncpus = len(bpfsys.possible_cpus())
            # the kernel hands a per-CPU value over as one slot of 8-byte-aligned size per possible CPU
            slot = (value_size + 7) // 8 * 8
            if ctypes.sizeof(self.sLeaf) != slot:
                self.sLeaf = type("slot", (ctypes.Structure,), {"_fields_": [("v", self.sLeaf),
                                                                             ("_pad", ctypes.c_ubyte * (slot - value_size))]}) \
                    if slot != value_size else self.sLeaf
            self.Leaf = self.sLeaf * self.ncpus
        else:
            self.Leaf = self.sLeaf

    def _key(self, key):
        if ctypes.sizeof(key) != self.key_size:
            raise TypeError(f"a key of {ctypes.sizeof(key)} bytes for map {self.name}, whose keys have {self.key_size}")
        return key

    def __getitem__(self, key):
        value = self.Leaf()
        if not bpfsys.map_lookup(self.map_fd, self._key(key), value):
            raise KeyError(key)
        return value

    getvalue = __getitem__

    def __setitem__(self, key, value) -> None:
        if ctypes.sizeof(value) != ctypes.sizeof(self.Leaf):
            raise TypeError(f"a value of {ctypes.sizeof(value)} bytes for map {self.name}, whose values have "
                            f"{ctypes.sizeof(self.Leaf)}")
        bpfsys.map_update(self.map_fd, self._key(key), value)

    def __delitem__(self, key) -> None:
        if not bpfsys.map_delete(self.map_fd, self._key(key)):
            raise KeyError(key)

    def __contains__(self, key) -> bool:
        return bpfsys.map_lookup(self.map_fd, self._key(key), self.Leaf())

    def keys(self):
        """The keys present, each a new Key (a snapshot walk: keys added meanwhile may be missed)."""
        out = []
        prev = None
        while True:
            k = self.Key()
            if not bpfsys.map_next_key(self.map_fd, prev, k):
                return out
            out.append(k)
            prev = k

    def __iter__(self):
        return iter(self.keys())
