"""Constant values, errno names and struct layouts, checked against the C headers of this machine."""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess

import pytest

from tracespec.catalogue import load_catalogue
from tracespec.catalogue.structs import load_structs

HEADERS = ["fcntl.h", "sys/stat.h", "linux/stat.h", "stdio.h", "unistd.h", "sys/mman.h", "sys/wait.h",
           "sys/file.h", "sys/socket.h", "signal.h", "asm/prctl.h", "sys/resource.h", "time.h",
           "sys/random.h", "sys/eventfd.h", "sys/epoll.h", "sys/inotify.h", "sys/mount.h", "sys/prctl.h",
           "linux/close_range.h", "linux/sched.h", "linux/capability.h", "linux/securebits.h",
           "linux/seccomp.h", "linux/netlink.h", "sys/timerfd.h", "sys/time.h", "poll.h", "dirent.h",
           "sys/xattr.h", "sys/pidfd.h", "sys/shm.h", "sys/sem.h", "sys/msg.h"]
# glibc's value differs from the kernel's, which is what a traced syscall carries
KERNEL_NOT_LIBC = {"O_LARGEFILE", "SIGRTMIN",  # glibc reserves 32 and 33 for itself
                   "__O_TMPFILE"}  # glibc folds O_DIRECTORY into it; the kernel's is the bit alone
# glibc's enum gives these bit 31 as an int, printed negative by the signed check
SIGN_BIT_ENUMS = {"MS_NOUSER"}
# sets whose headers cannot be included with the others (linux/fs.h clashes with sys/mount.h)
KERNEL_HEADERS = ["stdio.h", "sys/ioctl.h", "linux/fs.h", "linux/fiemap.h", "linux/futex.h", "linux/sockios.h",
                  "linux/btrfs.h", "asm-generic/fcntl.h", "linux/soundcard.h", "asm/termbits.h"]
KERNEL_SETS = ("ioctl_request", "futex_op", "futex_flags")
# terminal settings: the kernel's termbits (glibc's termios.h, which clashes with it, has other values
# for a few), the line disciplines of linux/tty.h
TERMINAL_HEADERS = ["stdio.h", "asm/termios.h", "linux/tty.h"]
TERMINAL_SETS = ("term_iflags", "term_oflags", "term_nldly", "term_crdly", "term_tabdly", "term_bsdly", "term_vtdly",
                 "term_ffdly", "term_baud", "term_csize", "term_cflags", "term_lflags", "term_line_discs",
                 "termios_cc", "modem_flags", "tcxonc_options", "tcflsh_options")


def _compile_and_run(tmp_path, source: str) -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed (./setup installs gcc)"
    src = tmp_path / "probe.c"
    src.write_text(source)
    subprocess.run([cc, "-o", str(tmp_path / "probe"), str(src)], check=True, capture_output=True)
    return subprocess.run([str(tmp_path / "probe")], check=True, capture_output=True, text=True).stdout


def _checked_against(tmp_path, headers, names, prelude: str = "", signed: bool = False) -> dict[str, int]:
    """Each of `names` the headers define, compiled into a program that prints its value: the values
    found (by name), each asserted equal to the catalogue's."""
    c = load_catalogue().constants
    fmt, cast = ("%lld", "long long") if signed else ("%llu", "unsigned long long")
    prog = prelude + "".join(f"#include <{h}>\n" for h in headers) + "int main(void) {\n"
    for n in names:
        prog += f'#ifdef {n}\nprintf("{n} {fmt}\\n", ({cast})({n}));\n#endif\n'
    prog += "return 0;\n}\n"
    seen = {}
    for line in _compile_and_run(tmp_path, prog).splitlines():
        name, value = line.split()
        seen[name] = int(value)
        if name in SIGN_BIT_ENUMS:  # an int enum whose value is bit 31: the same bits
            value = int(value) & 0xFFFFFFFF
        assert c.values[name] == int(value), name
    return seen


def test_constant_values_match_the_headers(tmp_path):
    c = load_catalogue().constants
    kernel_only = set(KERNEL_SETS) | set(TERMINAL_SETS) | set(PACKET_SETS)  # checked against the kernel's below
    names = sorted({n for name, s in c.sets.items() if name not in kernel_only for n, _ in s.entries
                    if n not in KERNEL_NOT_LIBC})
    seen = len(_checked_against(tmp_path, HEADERS, names, prelude="#define _GNU_SOURCE\n", signed=True))
    assert seen > 300, "most constants should be checkable on a Debian machine"


def test_ioctl_futex_and_kernel_only_values_match_the_uapi_headers(tmp_path):
    c = load_catalogue().constants
    names = sorted({n for s in KERNEL_SETS for n, _ in c.sets[s].entries} | {"__O_TMPFILE"})
    seen = _checked_against(tmp_path, KERNEL_HEADERS, names)
    assert {"TCGETS", "TIOCGWINSZ", "FICLONE", "FUTEX_WAKE_PRIVATE", "__O_TMPFILE", "TCGETS2", "SNDCTL_TMR_START"} <= set(seen)
    assert len(seen) > 100


# AF_PACKET's: linux/if_arp.h and net/if_arp.h (sys/socket.h's kin) clash
PACKET_HEADERS = ["stdio.h", "linux/if_ether.h", "linux/if_arp.h", "linux/if_packet.h"]
PACKET_SETS = ("ethernet_protocols", "arp_hardware_types", "af_packet_types")


def test_packet_values_match_the_kernel_headers(tmp_path):
    c = load_catalogue().constants
    names = sorted({n for s in PACKET_SETS for n, _ in c.sets[s].entries})
    seen = _checked_against(tmp_path, PACKET_HEADERS, names)
    assert {"ETH_P_ALL", "ETH_P_IPV6", "ARPHRD_LOOPBACK", "ARPHRD_ETHER", "PACKET_HOST"} <= set(seen)
    assert len(seen) > 150


def test_terminal_values_match_the_kernel_headers(tmp_path):
    c = load_catalogue().constants
    names = sorted({n for s in TERMINAL_SETS for n, _ in c.sets[s].entries})
    seen = _checked_against(tmp_path, TERMINAL_HEADERS, names)
    assert {"ICRNL", "XTABS", "B38400", "CS8", "ECHOKE", "N_TTY", "VEOL2", "TIOCM_DTR", "TCIOFLUSH"} <= set(seen)
    assert len(seen) > 120


def test_errno_names_and_messages_match_the_c_library():
    c = load_catalogue().constants
    for number, name in errno.errorcode.items():
        info = c.errnos[number]
        assert info.message == os.strerror(number)
        assert getattr(errno, info.name) == number
    assert c.errno_name(2) == "ENOENT" and c.errno_name(11) == "EAGAIN"
    assert c.errno_message(512) == "To be restarted if SA_RESTART is set"


def test_struct_layouts_match_the_headers(tmp_path):
    layouts = load_structs()
    stat = layouts["stat"]
    prog = "#include <stdio.h>\n#include <stddef.h>\n#include <asm/stat.h>\nint main(void) {\n"
    prog += 'printf("size %zu\\n", sizeof(struct stat));\n'
    for f in stat.fields:
        prog += f'printf("{f.name} %zu %zu\\n", offsetof(struct stat, {f.name}), sizeof(((struct stat *)0)->{f.name}));\n'
    prog += "return 0;\n}\n"
    out = dict(line.split(" ", 1) for line in _compile_and_run(tmp_path, prog).splitlines())
    assert int(out["size"]) == stat.size
    widths = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "s32": 4, "s64": 8}
    for f in stat.fields:
        off, size = map(int, out[f.name].split())
        assert (off, size) == (f.offset, widths[f.type]), f.name


def test_file_system_magics_match_the_kernel_headers(tmp_path):
    """statfs's f_type names: those linux/magic.h defines have its values (the rest come from file
    systems' private headers, as strace's table has them)."""
    c = load_catalogue().constants
    names = [n for n, _ in c.sets["fsmagic"].entries]
    seen = _checked_against(tmp_path, ["stdio.h", "linux/magic.h"], names)
    assert {"TMPFS_MAGIC", "PROC_SUPER_MAGIC", "SYSFS_MAGIC", "OVERLAYFS_SUPER_MAGIC"} <= set(seen)
    assert len(seen) > 60


def test_statfs_and_rlimit_layouts_match_the_headers(tmp_path):
    """The kernel's struct statfs is glibc's on x86_64 (f_fsid's val is __val there); rlimit's two words."""
    layouts = load_structs()
    prog = "#include <stdio.h>\n#include <stddef.h>\n#include <sys/vfs.h>\n#include <sys/resource.h>\nint main(void) {\n"
    prog += 'printf("statfs %zu\\n", sizeof(struct statfs));\nprintf("rlimit %zu\\n", sizeof(struct rlimit));\n'
    checked = [("statfs", f) for f in layouts["statfs"].fields] + [("rlimit", f) for f in layouts["rlimit"].fields]
    for struct, f in checked:
        member = f.name.replace(".val[", ".__val[")
        prog += (f'printf("{f.name} %zu %zu\\n", offsetof(struct {struct}, {member}), '
                 f'sizeof(((struct {struct} *)0)->{member}));\n')
    prog += "return 0;\n}\n"
    out = dict(line.split(" ", 1) for line in _compile_and_run(tmp_path, prog).splitlines())
    assert int(out["statfs"]) == layouts["statfs"].size and int(out["rlimit"]) == layouts["rlimit"].size
    widths = {"u32": 4, "u64": 8}
    for _, f in checked:
        assert tuple(map(int, out[f.name].split())) == (f.offset, widths[f.type]), f.name


MEMPOLICY_HEADER = "/usr/include/linux/mempolicy.h"
MEMPOLICY_SETS = ("mpol_modes", "mpol_mode_flags", "get_mempolicy_flags", "mbind_flags")


@pytest.mark.skipif(not os.path.exists(MEMPOLICY_HEADER), reason="no linux/mempolicy.h here")
def test_memory_policy_values_match_the_kernel_header(tmp_path):
    """The policies are an enum there (no #ifdef tells them): each name the header's text has is printed
    by a program that includes it; those it lacks are newer (marked uapi in constants.txt)."""
    c = load_catalogue().constants
    text = open(MEMPOLICY_HEADER, encoding="utf-8").read()
    names = sorted({n for s in MEMPOLICY_SETS for n, _ in c.sets[s].entries
                    if re.search(rf"\b{re.escape(n)}\b", text)})
    prog = "#include <stdio.h>\n#include <linux/mempolicy.h>\nint main(void) {\n"
    prog += "".join(f'printf("{n} %llu\\n", (unsigned long long)({n}));\n' for n in names) + "return 0;\n}\n"
    seen = {}
    for line in _compile_and_run(tmp_path, prog).splitlines():
        name, value = line.split()
        seen[name] = int(value)
        if name in SIGN_BIT_ENUMS:  # an int enum whose value is bit 31: the same bits
            value = int(value) & 0xFFFFFFFF
        assert c.values[name] == int(value), name
    assert {"MPOL_DEFAULT", "MPOL_LOCAL", "MPOL_F_STATIC_NODES", "MPOL_F_MEMS_ALLOWED", "MPOL_MF_MOVE_ALL"} <= set(seen)
    lacking = {n for s in MEMPOLICY_SETS for n, _ in c.sets[s].entries} - set(seen)
    assert lacking <= {"MPOL_WEIGHTED_INTERLEAVE"}, "only the newer policy may be missing from the header"


CMSG_HEADERS = ["stdio.h", "linux/in.h", "asm/socket.h"]


def test_control_message_types_match_the_uapi_headers(tmp_path):
    """The names of a control message's type: SOL_IP's (linux/in.h) and SOL_SOCKET's timestamps and the
    others asm/socket.h gives (SCM_RIGHTS and its kin are checked with sys/socket.h above)."""
    c = load_catalogue().constants
    names = sorted({n for s in ("ip_cmsg_types", "scm_types") for n, _ in c.sets[s].entries})
    seen = _checked_against(tmp_path, CMSG_HEADERS, names)
    assert set(names) - set(seen) <= {"SCM_RIGHTS", "SCM_CREDENTIALS", "SCM_SECURITY"}, "all but the libc-side ones"
    assert {"IP_PKTINFO", "IP_RECVERR", "IP_ORIGDSTADDR", "SO_TIMESTAMPING_NEW", "SCM_TIMESTAMPING_PKTINFO"} <= set(seen)


def test_io_uring_and_kcmp_values_and_layouts_match_the_uapi_headers(tmp_path):
    """io_uring_setup's flags and features (#defines) and kcmp's types (an enum: printed by a program that
    names each), and the layouts of struct io_uring_params, kcmp_epoll_slot and clone_args."""
    c = load_catalogue().constants
    names = sorted({n for s in ("uring_setup_flags", "uring_setup_features") for n, _ in c.sets[s].entries})
    seen = _checked_against(tmp_path, ["stdio.h", "linux/io_uring.h"], names)
    assert set(seen) == set(names), "strace 6.1's names are all in the headers"
    kcmp = [n for n, _ in c.sets["kcmp_types"].entries]
    prog = "#include <stdio.h>\n#include <stddef.h>\n#include <linux/kcmp.h>\n#include <linux/io_uring.h>\n" \
           "#include <linux/sched.h>\nint main(void) {\n"
    prog += "".join(f'printf("{n} %d\\n", (int)({n}));\n' for n in kcmp)
    layouts = load_structs()
    checked = [(name, f) for name in ("io_uring_params", "kcmp_epoll_slot", "clone_args") for f in layouts[name].fields]
    prog += "".join(f'printf("{name} %zu\\n", sizeof(struct {name}));\n'
                    for name in ("io_uring_params", "kcmp_epoll_slot", "clone_args"))
    for name, f in checked:
        prog += (f'printf("{name}.{f.name} %zu %zu\\n", offsetof(struct {name}, {f.name}), '
                 f'sizeof(((struct {name} *)0)->{f.name}));\n')
    prog += "return 0;\n}\n"
    out = dict(line.split(" ", 1) for line in _compile_and_run(tmp_path, prog).splitlines())
    for n in kcmp:
        assert int(out[n]) == c.values[n], n
    for name in ("io_uring_params", "kcmp_epoll_slot", "clone_args"):
        assert int(out[name]) == layouts[name].size, name
    widths = {"u32": 4, "u64": 8}
    for name, f in checked:
        assert tuple(map(int, out[f"{name}.{f.name}"].split())) == (f.offset, widths[f.type]), f"{name}.{f.name}"


ADMIN_SETS = ("reboot_magic1", "reboot_magic2", "reboot_cmd", "uffd_flags", "delete_module_flags", "module_init_flags",
              "swap_flags", "kexec_arch", "kexec_load_flags", "kexec_file_load_flags", "sched_flags",
              "landlock_access_fs", "landlock_create_ruleset_flags", "futex_waiter_flags", "move_pages_flags",
              "adjtimex_modes", "adjtimex_status", "adjtimex_state", "open_resolve_flags", "semop_flags")
LAYOUTS = ("sched_attr", "kexec_segment", "landlock_path_beneath_attr", "futex_waitv", "timex", "open_how", "sembuf")
KERNEL_INTERNAL = {"SWAP_FLAG_DISCARD_ONCE", "SWAP_FLAG_DISCARD_PAGES"}  # the kernel's linux/swap.h, not glibc's
ADMIN_HEADERS = ["stdio.h", "fcntl.h", "sys/swap.h", "linux/reboot.h", "linux/userfaultfd.h", "linux/module.h",
                 "linux/kexec.h", "linux/sched.h", "linux/landlock.h", "linux/futex.h", "linux/mempolicy.h",
                 "sys/timex.h", "linux/openat2.h", "sys/sem.h"]


def test_administrators_values_and_layouts_match_the_headers(tmp_path):
    """reboot's magic numbers and commands, userfaultfd's, the module calls', swapon's, kexec's, struct
    sched_attr's, Landlock's, futex_waitv's and move_pages' flags: every name strace 6.1 has is in this
    machine's headers, with the value the catalogue gives; the structs of those calls are laid out as the
    catalogue says."""
    c = load_catalogue().constants
    names = sorted({n for s in ADMIN_SETS for n, _ in c.sets[s].entries})
    seen = _checked_against(tmp_path, ADMIN_HEADERS, names)
    assert set(seen) == set(names) - KERNEL_INTERNAL
    layouts = load_structs()
    prog = ("#include <stdio.h>\n#include <stddef.h>\n#include <linux/sched/types.h>\n#include <linux/kexec.h>\n"
            "#include <linux/landlock.h>\n#include <linux/futex.h>\n#include <sys/timex.h>\n#include <linux/openat2.h>\n"
            "#include <sys/sem.h>\nint main(void) {\n"
            'printf("LANDLOCK_RULE_PATH_BENEATH %d\\n", (int)LANDLOCK_RULE_PATH_BENEATH);\n')
    for name in LAYOUTS:
        prog += f'printf("{name} %zu\\n", sizeof(struct {name}));\n'
        for f in layouts[name].fields:
            prog += (f'printf("{name}.{f.name} %zu %zu\\n", offsetof(struct {name}, {f.name}), '
                     f'sizeof(((struct {name} *)0)->{f.name}));\n')
    out = dict(line.split(" ", 1) for line in _compile_and_run(tmp_path, prog + "return 0;\n}\n").splitlines())
    assert int(out["LANDLOCK_RULE_PATH_BENEATH"]) == c.values["LANDLOCK_RULE_PATH_BENEATH"]  # an enum there
    widths = {"u16": 2, "s16": 2, "u32": 4, "s32": 4, "u64": 8, "s64": 8}
    for name in LAYOUTS:
        assert int(out[name]) == layouts[name].size, name
        for f in layouts[name].fields:
            assert tuple(map(int, out[f"{name}.{f.name}"].split())) == (f.offset, widths[f.type]), f"{name}.{f.name}"


NEWER_THAN_THE_HEADERS = {"FSCONFIG_CMD_CREATE_EXCL", "MOVE_MOUNT_BENEATH"}  # marked uapi in constants.txt


def test_personality_and_ioprio_values_match_the_headers(tmp_path):
    """personality's types and flags (sys/personality.h), ioprio's classes and whos (linux/ioprio.h),
    fsconfig's commands (linux/mount.h) and io_uring's (linux/io_uring.h) are enums there, which #ifdef
    cannot see: each is printed by name; the two words of capget's data are two
    struct __user_cap_data_struct (linux/capability.h)."""
    c = load_catalogue().constants
    names = [n for s in ("personality_type", "personality_flags", "ioprio_class", "ioprio_who", "fsconfig_cmds",
                         "uring_register_opcodes", "uring_enter_flags", "mount_attr_flags", "move_mount_flags",
                         "fspick_flags", "fsopen_flags", "fsmount_flags", "open_tree_flags") for n, _ in c.sets[s].entries
             if n not in NEWER_THAN_THE_HEADERS]
    prog = ("#include <stdio.h>\n#include <stddef.h>\n#include <sys/personality.h>\n#include <linux/ioprio.h>\n"
            "#include <linux/capability.h>\n#include <linux/fcntl.h>\n#include <linux/mount.h>\n"
            "#include <linux/io_uring.h>\n"
            "int main(void) {\n")
    prog += "".join(f'printf("{n} %llu\\n", (unsigned long long)({n}));\n' for n in names)
    prog += ('printf("cap_data %zu %zu %zu %zu\\n", 2 * sizeof(struct __user_cap_data_struct), '
             'offsetof(struct __user_cap_data_struct, permitted), offsetof(struct __user_cap_data_struct, '
             'inheritable), sizeof(struct __user_cap_data_struct));\nreturn 0;\n}\n')
    out = dict(line.split(" ", 1) for line in _compile_and_run(tmp_path, prog).splitlines())
    for n in names:
        assert c.values[n] == int(out[n]), n
    layout = {f.name: f.offset for f in load_structs()["cap_data"].fields}
    size, permitted, inheritable, one = map(int, out["cap_data"].split())
    assert load_structs()["cap_data"].size == size
    assert (layout["permitted"], layout["inheritable"], layout["effective_hi"]) == (permitted, inheritable, one)


def test_ptrace_values_and_struct_user_offsets_match_the_headers(tmp_path):
    """ptrace's requests and options (linux/ptrace.h, asm/ptrace-abi.h), the register sets' types (elf.h)
    and the struct user offsets PTRACE_PEEKUSER's address is named by (sys/user.h)."""
    from tracespec.format.ptrace import USER_OFFSETS
    c = load_catalogue().constants
    names = sorted({n for s in ("ptrace_cmds", "ptrace_options", "nt_types") for n, _ in c.sets[s].entries})
    seen = _checked_against(tmp_path, ["stdio.h", "elf.h", "linux/ptrace.h", "asm/ptrace-abi.h"], names)
    assert {"PTRACE_SEIZE", "PTRACE_GETREGS", "PTRACE_O_EXITKILL", "NT_PRSTATUS", "NT_X86_XSTATE"} <= set(seen)
    prog = "#include <stdio.h>\n#include <stddef.h>\n#include <sys/user.h>\n#include <sys/reg.h>\nint main(void) {\n"
    for off, name in USER_OFFSETS:
        if name.startswith("8*"):
            reg = {"EFL": "EFLAGS"}.get(name[2:], name[2:])
            prog += f'printf("%d\\n", 8 * {reg});\n'
        elif name.startswith("offsetof"):
            prog += f'printf("%zu\\n", {name});\n'
        else:
            prog += 'printf("%zu\\n", sizeof(struct user));\n'
    out = _compile_and_run(tmp_path, prog + "return 0;\n}\n").split()
    assert [int(x) for x in out] == [off for off, _ in USER_OFFSETS]


# the catalogue's names of System V IPC's structs' members where glibc's differ
IPC_MEMBERS = {("ipc_perm", "key"): "__key", ("msqid_ds", "msg_cbytes"): "__msg_cbytes"}


def test_system_v_ipc_layouts_match_the_headers(tmp_path):
    """struct ipc_perm, shmid_ds, msqid_ds, semid_ds and the INFO commands' structs (sys/ipc.h, sys/shm.h,
    sys/msg.h, sys/sem.h) are laid out as the catalogue says."""
    layouts = load_structs()
    names = ("ipc_perm", "shmid_ds", "msqid_ds", "semid_ds", "shminfo", "shm_info", "msginfo", "seminfo")
    prog = ("#define _GNU_SOURCE\n#include <stdio.h>\n#include <stddef.h>\n#include <sys/ipc.h>\n#include <sys/shm.h>\n"
            "#include <sys/msg.h>\n#include <sys/sem.h>\nint main(void) {\n")
    for name in names:
        prog += f'printf("{name} %zu\\n", sizeof(struct {name}));\n'
        for f in layouts[name].fields:
            member = IPC_MEMBERS.get((name, f.name), f.name)
            prog += (f'printf("{name}.{f.name} %zu %zu\\n", offsetof(struct {name}, {member}), '
                     f'sizeof(((struct {name} *)0)->{member}));\n')
    out = dict(line.split(" ", 1) for line in _compile_and_run(tmp_path, prog + "return 0;\n}\n").splitlines())
    widths = {"u16": 2, "u32": 4, "s32": 4, "u64": 8, "s64": 8}
    for name in names:
        assert int(out[name]) == layouts[name].size, name
        for f in layouts[name].fields:
            assert tuple(map(int, out[f"{name}.{f.name}"].split())) == (f.offset, widths[f.type]), f"{name}.{f.name}"
