"""The struct printers strace's rules give (utsname, rusage, sysinfo, sigaction, signal masks), -v, and
socket addresses cut to the length the kernel returned; the new layouts checked against the headers."""

from __future__ import annotations

import shutil
import struct
import subprocess

from tracespec.format.sockaddr import sockaddr_text
from tracespec.format.structs import complete, sigset_text, struct_text
from tracespec.format.values import Style, structs

VERBOSE = Style(verbose=True)
UTS = b"".join(s.ljust(65, b"\0") for s in (b"Linux", b"box", b"6.1", b"#1", b"x86_64", b"(none)"))


def test_utsname_abbreviated_and_whole():
    assert struct_text("utsname", UTS) == '{sysname="Linux", nodename="box", ...}'
    assert struct_text("utsname", UTS, VERBOSE) == ('{sysname="Linux", nodename="box", release="6.1", '
                                                   'version="#1", machine="x86_64", domainname="(none)"}')


def test_rusage_shows_its_times_and_with_v_its_counters():
    data = struct.pack("<18q", 1, 2, 3, 4, *range(5, 19))
    assert struct_text("rusage", data) == "{ru_utime={tv_sec=1, tv_usec=2}, ru_stime={tv_sec=3, tv_usec=4}, ...}"
    assert struct_text("rusage", data, VERBOSE).endswith("ru_maxrss=5, ru_ixrss=6, ru_idrss=7, ru_isrss=8, "
                                                         "ru_minflt=9, ru_majflt=10, ru_nswap=11, ru_inblock=12, "
                                                         "ru_oublock=13, ru_msgsnd=14, ru_msgrcv=15, "
                                                         "ru_nsignals=16, ru_nvcsw=17, ru_nivcsw=18}")


def test_sysinfo_is_whole():
    data = struct.pack("<q9QHxxxxxxQQI4x", 7, 1, 2, 3, 10, 11, 12, 13, 14, 15, 99, 0, 0, 1)
    assert struct_text("sysinfo", data) == ("{uptime=7, loads=[1, 2, 3], totalram=10, freeram=11, sharedram=12, "
                                            "bufferram=13, totalswap=14, freeswap=15, procs=99, totalhigh=0, "
                                            "freehigh=0, mem_unit=1}")


def test_signal_masks_as_strace_prints_them():
    assert sigset_text(0) == "[]"
    assert sigset_text((1 << 1) | (1 << 14)) == "[INT TERM]"
    assert sigset_text(~((1 << 31) | (1 << 32))) == "~[RTMIN RT_1]"
    assert sigset_text(~0) == "~[]"
    assert sigset_text(1 << 63) == "[RT_32]"  # the last real-time signal, as strace names it


def test_sigaction_restorer_only_with_sa_restorer():
    act = struct.pack("<4Q", 0x4000, 0x04000000 | 0x10000000, 0x1234, 1 << 1)
    assert struct_text("sigaction", act) == ("{sa_handler=0x4000, sa_mask=[INT], sa_flags=SA_RESTORER|SA_RESTART, "
                                             "sa_restorer=0x1234}")
    assert struct_text("sigaction", struct.pack("<4Q", 1, 0, 0x1234, 0)) == \
        "{sa_handler=SIG_IGN, sa_mask=[], sa_flags=0}"


def test_a_partial_copy_is_not_decoded():
    assert not complete("sigaction", b"\0" * 8) and complete("sigaction", b"\0" * 32)


def test_a_truncated_inet_address_prints_its_bytes():
    full = struct.pack("<H", 2) + struct.pack(">H", 47123) + bytes([127, 0, 0, 1]) + b"\0" * 8
    assert sockaddr_text(full) == '{sa_family=AF_INET, sin_port=htons(47123), sin_addr=inet_addr("127.0.0.1")}'
    assert sockaddr_text(full[:8]) == '{sa_family=AF_INET, sa_data="\\270\\23\\177\\0\\0\\1"}'
    assert sockaddr_text(struct.pack("<HHII", 16, 0, 0, 0)) == "{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}"


HEADERS = {"utsname": ("sys/utsname.h", "struct utsname"), "rusage": ("sys/resource.h", "struct rusage"),
           "sysinfo": ("sys/sysinfo.h", "struct sysinfo"), "stack_t": ("signal.h", "stack_t"),
           "cap_header": ("linux/capability.h", "struct __user_cap_header_struct"),
           "mount_attr": ("linux/mount.h", "struct mount_attr"), "tms": ("sys/times.h", "struct tms"),
           "timezone": ("sys/time.h", "struct timezone")}
WIDTHS = {"u16": 2, "u32": 4, "u64": 8, "s32": 4, "s64": 8}


def test_new_layouts_match_the_headers(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed (./setup installs gcc)"
    prog = "#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n" + "".join(f"#include <{h}>\n" for h, _ in HEADERS.values())
    prog += "int main(void) {\n"
    for name, (_, ctype) in HEADERS.items():
        prog += f'printf("{name} %zu\\n", sizeof({ctype}));\n'
        for f in structs()[name].fields:
            prog += (f'printf("{name}.{f.name} %zu %zu\\n", offsetof({ctype}, {f.name}), '
                     f'sizeof((({ctype} *)0)->{f.name}));\n')
    prog += "return 0;\n}\n"
    (tmp_path / "p.c").write_text(prog)
    subprocess.run([cc, "-o", str(tmp_path / "p"), str(tmp_path / "p.c")], check=True, capture_output=True)
    out = dict(line.split(" ", 1) for line in subprocess.run([str(tmp_path / "p")], check=True, text=True,
                                                              capture_output=True).stdout.splitlines())
    for name in HEADERS:
        layout = structs()[name]
        assert int(out[name]) == layout.size, name
        for f in layout.fields:
            width = int(f.type[1:]) if f.type.startswith("c") else WIDTHS[f.type]
            assert tuple(map(int, out[f"{name}.{f.name}"].split())) == (f.offset, width), f"{name}.{f.name}"


def test_ipv6_addresses_print_in_each_of_straces_styles():
    """strace's print_sockaddr_data_in6: port, flow, address by -X; a link-local address's scope as an
    interface; no scope in a 24-byte (RFC 2133) sockaddr_in6."""
    import ipaddress

    def sin6(addr: str, scope: int) -> bytes:
        return struct.pack("<H", 10) + struct.pack(">HI", 9, 0) + ipaddress.IPv6Address(addr).packed + \
            struct.pack("<I", scope)

    loop, link = sin6("::1", 0), sin6("fe80::1", 1)
    assert sockaddr_text(loop) == ('{sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), '
                                   'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}')
    assert sockaddr_text(link).endswith(', sin6_scope_id=if_nametoindex("lo")}')  # index 1 is lo
    assert sockaddr_text(sin6("ff02::1", 1)).endswith('sin6_scope_id=if_nametoindex("lo")}')  # multicast link-local
    assert sockaddr_text(sin6("2001:db8::1", 1)).endswith("sin6_scope_id=1}")
    assert sockaddr_text(loop[:24]).endswith('inet_pton(AF_INET6, "::1", &sin6_addr)}')
    raw = ('{sa_family=0xa, sin6_port="\\x00\\x09", sin6_flowinfo="\\x00\\x00\\x00\\x00", sin6_addr="'
           + "\\x00" * 15 + '\\x01", sin6_scope_id=0}')
    assert sockaddr_text(loop, Style(xlat="raw")) == raw
    assert sockaddr_text(link, Style(xlat="verbose")).endswith(
        '/* inet_pton(AF_INET6, "fe80::1") */, sin6_scope_id=1 /* if_nametoindex("lo") */}')
    assert 'inet_pton(AF_INET6, "\\x3a\\x3a\\x31", &sin6_addr)' in sockaddr_text(loop, Style(hex_strings=2))
