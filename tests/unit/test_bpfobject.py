"""The compiled object's relocations and stored form (runtime/bpfobject), the ctypes made from BCC's type
descriptions (runtime/maps.ctype), and the program cache's keys, checks and pruning (runtime/objcache).
No kernel: instructions and objects are made up here."""

from __future__ import annotations

import ctypes
import json
import os
import struct

import pytest

from tracespec.kernel import cachedir
from tracespec.runtime import bpfobject, objcache
from tracespec.runtime.bpfobject import BpfObject, MapSpec, ObjectError, ProgramSpec
from tracespec.runtime.maps import TypeDescError, ctype


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, src << 4 | dst, off, imm)


MOV_R0_0 = insn(0xB7)
EXIT = insn(0x95)


def ld_map(dst: int, fd: int) -> bytes:
    return insn(0x18, dst, 1, 0, fd) + insn(0)


def test_map_references_become_indices_and_go_back_as_new_descriptors():
    code = ld_map(1, 7) + MOV_R0_0 + ld_map(2, 9) + ld_map(3, 7) + EXIT
    stripped, relocs = bpfobject.relocate(code, {7: 0, 9: 1})
    assert relocs == ((0, 0), (3, 1), (5, 0))
    assert all(struct.unpack_from("<i", stripped, i * 8 + 4)[0] == 0 for i, _ in relocs)
    again = bpfobject.with_map_fds(ProgramSpec("p", stripped, relocs), [41, 42])
    assert [struct.unpack_from("<i", again, i * 8 + 4)[0] for i, _ in relocs] == [41, 42, 41]
    assert again[8:24] == code[8:24]  # what is not a map reference is untouched
    assert [again[i * 8 + 1] >> 4 for i, _ in relocs] == [1, 1, 1]


def test_a_64_bit_constant_is_not_a_map_and_an_unknown_descriptor_is_refused():
    plain = insn(0x18, 1, 0, 0, 7) + insn(0) + EXIT  # r1 = 7 (ll): no source register
    assert bpfobject.relocate(plain, {7: 0}) == (plain, ())
    with pytest.raises(ObjectError, match="descriptor 5"):
        bpfobject.relocate(ld_map(1, 5) + EXIT, {7: 0})
    with pytest.raises(ObjectError, match="does not relocate"):
        bpfobject.relocate(insn(0x18, 1, 2, 0, 7) + insn(0) + EXIT, {7: 0})  # a map value's address


OBJ = BpfObject("GPL", 393664,
                (MapSpec("ts_params", 2, 4, 8, 12, 0, '"int"', '"unsigned long long"'),
                 MapSpec("ts_events", 27, 0, 0, 1 << 20, 0, "", "")),
                (ProgramSpec("ts_raw_enter", ld_map(1, 0) + EXIT, ((0, 0),)),
                 ProgramSpec("ts_raw_exit", MOV_R0_0 + EXIT, ())))


def test_stored_form_round_trips():
    assert bpfobject.loads(bpfobject.dumps(OBJ)) == OBJ


@pytest.mark.parametrize("damage", [
    lambda d: d[:-1],  # cut
    lambda d: d[:40],
    lambda d: d[:30] + bytes([d[30] ^ 1]) + d[31:],  # a flipped bit in the header
    lambda d: d[:-40] + bytes([d[-40] ^ 0x80]) + d[-39:],  # in the instructions
    lambda d: b"x" + d[1:],  # another magic
    lambda d: b"",
])
def test_damaged_stored_form_is_refused(damage):
    with pytest.raises(ObjectError):
        bpfobject.loads(damage(bpfobject.dumps(OBJ)))


def test_a_consistent_checksum_does_not_make_a_bad_header_loadable():
    import hashlib

    head = json.dumps({"license": "GPL", "kern_version": 0, "maps": [],
                       "programs": [["p", 16, [[0, 3]]]]}).encode()
    body = bpfobject.MAGIC + struct.pack("<I", len(head)) + head + ld_map(1, 0)
    with pytest.raises(ObjectError, match="map it does not have"):
        bpfobject.loads(body + hashlib.sha256(body).digest())


def test_ctypes_from_bccs_descriptions():
    key = ctype(json.loads('["ts_sum_key", [["nr", "unsigned int"], ["tgid", "unsigned int"], '
                           '["epoch", "unsigned char"], ["pad", "unsigned char", [3]]], "struct"]'))
    assert ctypes.sizeof(key) == 12 and [f[0] for f in key._fields_] == ["nr", "tgid", "epoch", "pad"]
    nested = ctype(json.loads('["outer", [["k", ["inner", [["a", "int"]], "struct"]], ["", [["x", "int"], '
                              '["y", "long long"]], "union"], ["bits", "unsigned int", 3]], "struct"]'))
    v = nested()
    v.k.a, v.y = 5, 7
    assert (v.k.a, v.x) == (5, 7)
    packed = ctype(["p", [["a", "char"], ["b", "int"]], "struct_packed"])
    assert ctypes.sizeof(packed) == 5
    for bad in ("struct evil", ["x", "notalist"], ["x", [["f"]]], ["x", [["f", "int", "what"]]], 5):
        with pytest.raises(TypeDescError):
            ctype(bad)


def test_cache_keys_follow_the_source_and_the_cache_refuses_a_directory_others_may_write(tmp_path, monkeypatch,
                                                                                         capsys):
    assert objcache.key("int a;") == objcache.key("int a;") != objcache.key("int b;")
    where = tmp_path / "c"
    monkeypatch.setenv("TRACESPEC_CACHE", str(where))
    monkeypatch.setattr(cachedir, "_warned", False)
    assert objcache.get("int a;") is None
    objcache.put("int a;", OBJ)
    assert objcache.get("int a;") == OBJ and objcache.get("int b;") is None
    os.chmod(where, 0o777)
    assert objcache.get("int a;") is None  # writable by others: not used
    assert "not using the program cache" in capsys.readouterr().err
    os.chmod(where, 0o700)
    path = where / (objcache.key("int a;") + objcache.SUFFIX)
    path.write_bytes(path.read_bytes()[:-3])
    assert objcache.get("int a;") is None  # damaged: compiled again
    monkeypatch.setenv("TRACESPEC_CACHE", "off")
    objcache.put("int c;", OBJ)
    assert objcache.get("int c;") is None


def test_cache_keys_ignore_comments_but_not_what_the_compiler_sees():
    # the banner names the spec's path, comments name its lines and the table's rows: none is compiled
    a = "/*\n * spec:    specs/failed.yaml\n */\nint a; // rows: read, write\n"
    b = "/*\n * spec:    /work/main/specs/failed.yaml\n */\nint a; // rows: openat\n"
    assert objcache.key(a) == objcache.key(b)
    assert objcache.key("int a; /* x */ int b;") == objcache.key("int a; /* y */ int b;")
    assert objcache.key("int a; /* x */ int b;") != objcache.key("int a;int b;")  # a comment is a space
    # inside literals, comment markers are data
    assert objcache.key('char *s = "/* x */";') != objcache.key('char *s = "/* y */";')
    assert objcache.key("char c = '/'; /* z */ int d;") != objcache.key("char c = '*'; /* z */ int d;")
    assert objcache.key('char *s = "\\" /* a */;') == objcache.key('char *s = "\\" /* b */;')
    assert objcache.key("int x = 1 / 2;") != objcache.key("int x = 1 / 3;")


def test_cache_keeps_the_most_recently_used(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACESPEC_CACHE", str(tmp_path))
    monkeypatch.setattr(objcache, "MAX_ENTRIES", 3)
    for i in range(3):
        objcache.put(f"int v{i};", OBJ)
        os.utime(tmp_path / (objcache.key(f"int v{i};") + objcache.SUFFIX), (1000 + i, 1000 + i))
    assert objcache.get("int v0;") == OBJ  # used: now the newest
    objcache.put("int v3;", OBJ)
    assert [objcache.get(f"int v{i};") is not None for i in range(4)] == [True, False, True, True]


def test_one_cache_directory_for_both_caches(monkeypatch, tmp_path):
    from tracespec.kernel import btf, cachedir

    for off in ("off", "OFF", "0", "no", "false"):
        monkeypatch.setenv("TRACESPEC_CACHE", off)
        assert cachedir.directory() is None
    monkeypatch.setenv("TRACESPEC_CACHE", str(tmp_path))
    assert cachedir.directory() == str(tmp_path)
    monkeypatch.delenv("TRACESPEC_CACHE")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cachedir.directory() == str(tmp_path / "xdg" / "tracespec")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert cachedir.directory() == "/var/cache/tracespec"
    assert objcache.directory is cachedir.directory and not hasattr(btf, "CACHE_DIR")
