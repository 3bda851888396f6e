"""End to end, with real BPF: structs strace decodes on both sides of a call (issue 19), each a group of
tests/workloads/rules8_workload.c compared line for line with strace -f: clone3's struct clone_args and
what the kernel wrote behind its pidfd and parent_tid (pthread_create's, and direct calls with
CLONE_PIDFD), io_uring_setup's struct io_uring_params as given and as the kernel filled it in, and kcmp
by type, each under -y and the -X styles."""

from __future__ import annotations

import pytest

from groupcompare import compare_group, compare_tree

pytestmark = pytest.mark.bpf


def _compare_tree(group: str, syscalls: list[str], build_dir, tmp_path, options: tuple = (), keep=None
                  ) -> list[list[str]]:
    return compare_tree("rules8_workload", group, syscalls, build_dir, tmp_path, options, keep)


THREAD = ("clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS"
          "|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0xADDR, parent_tid=0xADDR, exit_signal=0, "
          "stack=0xADDR, stack_size=0xADDR, tls=0xADDR} => {parent_tid=[P2]}, 88) = P2")


def test_pthread_create_shows_the_tid_the_kernel_wrote(build_dir, tmp_path):
    procs = _compare_tree("threads", ["clone3"], build_dir, tmp_path)
    assert procs[0][0] == THREAD
    assert procs[0][1] == THREAD.replace("P2", "P3")


@pytest.mark.parametrize("options", [(), ("-y",), ("-yy",), ("-X", "raw"), ("-X", "verbose")],
                         ids=["abbrev", "y", "yy", "Xraw", "Xverbose"])
def test_clone3_with_a_pidfd_agrees_with_strace(options, build_dir, tmp_path):
    lines = _compare_tree("pidfd", ["clone3"], build_dir, tmp_path, options)[0]
    pidfd = {(): "3", ("-y",): "3<anon_inode:[pidfd]>", ("-yy",): "3<pid:P2>"}.get(options)
    if pidfd is not None:
        assert lines[0] == ("clone3({flags=CLONE_PIDFD|CLONE_PARENT_SETTID, pidfd=0xADDR, parent_tid=0xADDR, "
                            f"exit_signal=SIGCHLD, stack=NULL, stack_size=0}} => {{pidfd=[{pidfd}], "
                            "parent_tid=[P2]}, 88) = P2")
        assert lines[2].startswith("clone3({flags=CLONE_PIDFD, pidfd=0xADDR, exit_signal=SIGCHLD, stack=NULL, "
                                   "stack_size=0} => {pidfd=[3")
        assert lines[2].endswith("]}, 64) = P3")
        assert lines[3] == ("clone3({flags=CLONE_PIDFD|CLONE_THREAD, pidfd=0xADDR, exit_signal=SIGCHLD, stack=NULL, "
                            "stack_size=0}, 88) = -1 EINVAL (Invalid argument)")
        assert lines[4] == "clone3(0xADDR, 32) = -1 EINVAL (Invalid argument)"
        assert lines[5] == "clone3(0x8, 88) = -1 EFAULT (Bad address)"
    elif options == ("-X", "raw"):
        # (straceio masks numbers of five hex digits and more: 0x101000 too)
        assert lines[0].startswith("clone3({flags=0xADDR, pidfd=0xADDR, parent_tid=0xADDR, exit_signal=17, ")
        assert lines[2].startswith("clone3({flags=0x1000, pidfd=0xADDR, exit_signal=17, ")
    else:
        assert lines[0].startswith("clone3({flags=0xADDR /* CLONE_PIDFD|CLONE_PARENT_SETTID */, pidfd=0xADDR, "
                                   "parent_tid=0xADDR, exit_signal=17 /* SIGCHLD */, ")


@pytest.mark.parametrize("options", [(), ("-y",), ("-yy",)], ids=["abbrev", "y", "yy"])
def test_the_old_clone_shows_what_the_kernel_wrote_at_parent_tid_as_strace_does(options, build_dir, tmp_path):
    """clone's parent_tid: the child's tid with CLONE_PARENT_SETTID (read back, so a pointer the kernel
    could not write through stays a pointer), the pidfd with CLONE_PIDFD (before: its address)."""
    lines = _compare_tree("oldclone", ["clone", "close"], build_dir, tmp_path, options)[0]
    pidfd = {(): "3", ("-y",): "3<anon_inode:[pidfd]>", ("-yy",): "3<pid:P4>"}[options]
    clones = [line for line in lines if line.startswith("clone(")]
    assert clones[0] == "clone(child_stack=NULL, flags=CLONE_PARENT_SETTID|SIGCHLD, parent_tid=[P2]) = P2"
    assert clones[1] == "clone(child_stack=NULL, flags=CLONE_PARENT_SETTID|SIGCHLD, parent_tid=0x1) = P3"
    assert clones[2] == f"clone(child_stack=NULL, flags=CLONE_PIDFD|SIGCHLD, parent_tid=[{pidfd}]) = P4"
    assert clones[3] == ("clone(child_stack=NULL, flags=CLONE_PIDFD|CLONE_PARENT_SETTID|SIGCHLD, "
                         "parent_tid=0xADDR) = -1 EINVAL (Invalid argument)")


FEATURES = ("IORING_FEAT_SINGLE_MMAP|IORING_FEAT_NODROP|IORING_FEAT_SUBMIT_STABLE|IORING_FEAT_RW_CUR_POS"
            "|IORING_FEAT_CUR_PERSONALITY|IORING_FEAT_FAST_POLL")


@pytest.mark.parametrize("options", [(), ("-y",), ("-X", "raw"), ("-X", "verbose")],
                         ids=["abbrev", "y", "Xraw", "Xverbose"])
def test_io_uring_setup_agrees_with_strace(options, build_dir, tmp_path):
    lines = compare_group("rules8_workload", "uring", ["io_uring_setup"], build_dir, tmp_path, options)
    if options == ("-X", "raw"):
        assert lines[0].startswith("io_uring_setup(8, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, sq_entries=8, "
                                   "cq_entries=16, features=0x")
        return
    if options == ("-X", "verbose"):
        assert "io_uring_setup(4, {flags=0x18 /* IORING_SETUP_CQSIZE|IORING_SETUP_CLAMP */, " in lines[1]
        return
    ring = lines[0].rsplit(" = ", 1)[1]  # the first ring's descriptor (the test's own may come before)
    assert ring.endswith("<anon_inode:[io_uring]>") if options else ring.isdigit()
    assert lines[0].startswith(f"io_uring_setup(8, {{flags=0, sq_thread_cpu=0, sq_thread_idle=0, sq_entries=8, "
                               f"cq_entries=16, features={FEATURES}|")
    assert ", sq_off={head=0, tail=4, ring_mask=16, ring_entries=24, flags=36, dropped=32, array=" in lines[0]
    assert lines[0].endswith(", cq_off={head=8, tail=12, ring_mask=20, ring_entries=28, overflow=44, cqes=64, "
                             f"flags=40}}}}) = {ring}")
    assert lines[1].startswith("io_uring_setup(4, {flags=IORING_SETUP_CQSIZE|IORING_SETUP_CLAMP, sq_thread_cpu=0, "
                               "sq_thread_idle=0, sq_entries=4, cq_entries=64, ")
    assert lines[3].startswith(f"io_uring_setup(2, {{flags=IORING_SETUP_ATTACH_WQ, sq_thread_cpu=0, sq_thread_idle=0, "
                               f"wq_fd={ring}, sq_entries=2, ")
    # (straceio masks 0xffff0000 as an address)
    assert lines[-5:-1] == [  # (then the exit)
        "io_uring_setup(4, {flags=0xADDR /* IORING_SETUP_??? */, sq_thread_cpu=0, sq_thread_idle=0}) = -1 EINVAL "
        "(Invalid argument)",
        "io_uring_setup(4, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, resv=[0, 0x5, 0]}) = -1 EINVAL (Invalid argument)",
        "io_uring_setup(0, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, resv=[0, 0x5, 0]}) = -1 EINVAL (Invalid argument)",
        "io_uring_setup(4, 0x8) = -1 EFAULT (Bad address)"]


# -y names descriptors the trace saw made: the calls that made kcmp's
KCMP_MAKERS = ["openat", "dup", "epoll_create1", "eventfd2", "pipe2"]


@pytest.mark.parametrize("options", [(), ("-y",), ("-X", "raw"), ("-X", "verbose")],
                         ids=["abbrev", "y", "Xraw", "Xverbose"])
def test_kcmp_agrees_with_strace(options, build_dir, tmp_path):
    syscalls = ["kcmp"] + (KCMP_MAKERS if options == ("-y",) else [])
    # (the child's close of its pipe: a pipe's inode differs between the runs)
    lines = _compare_tree("kcmp", syscalls, build_dir, tmp_path, options, keep=lambda x: x.startswith("kcmp("))[0]
    if options == ("-X", "raw"):
        assert lines[3] == "kcmp(P1, P1, 0x1) = 0"
        return
    if options == ("-X", "verbose"):
        assert lines[0] == "kcmp(P1, P1, 0 /* KCMP_FILE */, 3, 4) = 0"
        return
    y = options == ("-y",)
    host, ev, ep = ("</etc/hostname>", "<anon_inode:[eventfd]>", "<anon_inode:[eventpoll]>") if y else ("", "", "")
    assert lines == [
        f"kcmp(P1, P1, KCMP_FILE, 3{host}, 4{host}) = 0",
        f"kcmp(P1, P2, KCMP_FILE, 3{host}, 3{host}) = 0",  # the child's copy, named from its table
        f"kcmp(P1, P1, KCMP_FILE, 3{host}, 99) = -1 EBADF (Bad file descriptor)",
        "kcmp(P1, P1, KCMP_VM) = 0",
        "kcmp(P1, P1, KCMP_FILES) = 0",
        "kcmp(P1, P1, KCMP_FS) = 0",
        "kcmp(P1, P1, KCMP_SIGHAND) = 0",
        "kcmp(P1, P1, KCMP_IO) = 0",
        "kcmp(P1, P1, KCMP_SYSVSEM) = 0",
        f"kcmp(P1, P1, KCMP_EPOLL_TFD, 6{ev}, {{efd=5{ep}, tfd=6{ev}, toff=0}}) = 0",
        f"kcmp(P1, P1, KCMP_EPOLL_TFD, 3{host}, 0x8) = -1 EFAULT (Bad address)",
        "kcmp(P1, P1, 0x63 /* KCMP_??? */, 0x1, 0x2) = -1 EINVAL (Invalid argument)",
        f"kcmp(P1, -1, KCMP_FILE, 3{host}, 4) = -1 ESRCH (No such process)",
    ]
