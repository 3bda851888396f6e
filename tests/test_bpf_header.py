"""tracespec/bpf/tracespec.bpf.h on its own: each configuration the plans can give it compiles with BCC,
and a program calling every helper it then offers passes this kernel's verifier.

There is no clang binary here (BCC carries its own): the header is compiled through BCC, after the same
wire-format and configuration #defines a generated program has. Its text is spliced in, as codegen does:
BCC rewrites map methods (.lookup()) only in its main file, so an #include'd header's map calls compile to
calls through a pointer that the verifier refuses ("unknown opcode 8d").
"""

from __future__ import annotations

import itertools
from importlib import resources

import pytest

from tracespec.wire.layout import c_defines, c_header_struct

pytestmark = pytest.mark.bpf

HEADER = resources.files("tracespec").joinpath("bpf", "tracespec.bpf.h")
ALL_HELPERS = ("PPID", "FAILED", "LOG2", "PUT_STR", "PUT_STR_RET", "PUT_BUF", "USER_INT", "PUT_PTRCOUNT", "TASK_S32")
ATTACH = ("RAW_TP", "RAW_SYSCALLS", "SYSCALL_TP")

# calls every helper once, from a program the verifier sees whole
CALLS = """
int ts_probe(void *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    ts_emit_value(ctx, id, 0, TS_FORK_KIND, ts_param(TS_P_SELF_TGID));
#if TS_SCRATCH_SIZE
    u8 *r = ts_scratch_get();
    if (!r)
        return 0;
    u32 off = TS_EXIT_FIXED;
    ts_header(r, id, bpf_ktime_get_ns(), 1, 0);
    off = ts_forget(r, ts_put_str(r, off, id, 255));
    off = ts_forget(r, ts_put_str_ret(r, off, id, -1, 255));
    off = ts_forget(r, ts_put_buf(r, off, id, ts_user_int(id), 4096));
    off = ts_forget(r, ts_put_ptrcount(r, off, id, 64));
    *(u64 *)&r[(off & 1023)] = ts_ppid() + ts_failed(-2) + ts_log2(id) + ts_task_s32(id, 8, -1);
    ts_emit(ctx, r, off);
#endif
    return 0;
}
"""


def _program(attach: str, ringbuf: bool, scratch: int, helpers, extra: dict | None = None) -> str:
    lines = ["#include <uapi/linux/ptrace.h>"]  # struct pt_regs, as a generated program includes it
    lines += [f"#define {name} {value}" for name, value in c_defines().items()]
    lines.append(c_header_struct())
    config = {"TS_OUTPUT_RINGBUF": int(ringbuf), "TS_RING_PAGES": 64, "TS_N_PARAMS": 12,
              "TS_SCRATCH_SIZE": scratch, "TS_BOUNDED_LOOPS": 1, "TS_READ_USER": "ts_probe_read_user",
              "TS_READ_USER_STR": "ts_probe_read_user_str", "TS_READ_KERNEL": "bpf_probe_read_kernel",
              f"TS_ATTACH_{attach}": 1, "TS_P_SELF_TGID": 0, "TS_P_TASK_REAL_PARENT": 6, "TS_P_TASK_TGID": 7}
    config.update({f"TS_NEED_{h}": 1 for h in helpers})
    config.update(extra or {})
    lines += [f"#define {k} {v}" for k, v in config.items()]
    lines.append(HEADER.read_text("utf-8"))
    return "\n".join(lines) + "\n"


def _compile(text: str):
    from bcc import BPF

    from tracespec.runtime.capture import captured_stderr
    from tracespec.runtime.bcc_compile import CFLAGS

    with captured_stderr() as log:
        try:
            b = BPF(text=text.encode(), cflags=CFLAGS)
        except Exception:
            b = None
    return b, "".join(log)[-3000:]


@pytest.mark.parametrize("attach,ringbuf", list(itertools.product(ATTACH, (True, False))))
def test_header_compiles_with_nothing_optional(attach, ringbuf):
    b, log = _compile(_program(attach, ringbuf, 0, ()))
    assert b is not None, log
    b.cleanup()


@pytest.mark.parametrize("ringbuf", (True, False))
def test_every_helper_compiles_and_verifies(ringbuf):
    from bcc import BPF

    b, log = _compile(_program("RAW_TP", ringbuf, 32768, ALL_HELPERS) + CALLS)
    assert b is not None, log
    try:
        b.load_func(b"ts_probe", BPF.RAW_TRACEPOINT)
    finally:
        b.cleanup()


def test_a_helper_not_asked_for_is_not_compiled():
    """TS_NEED_* selects: a helper the configuration left out is not there to call."""
    probe = "int ts_probe(void *ctx) { return &ts_task_s32 != 0; }\n"
    b, log = _compile(_program("RAW_TP", True, 32768, ALL_HELPERS[:-1]) + probe)
    assert b is None
    assert "ts_task_s32" in log
    b, log = _compile(_program("RAW_TP", True, 32768, ALL_HELPERS) + probe)
    assert b is not None, log
    b.cleanup()


def test_header_needs_an_attach_mode():
    text = _program("RAW_TP", True, 0, ()).replace("#define TS_ATTACH_RAW_TP 1\n", "")
    b, log = _compile(text)
    assert b is None
    assert "define one of TS_ATTACH_RAW_TP" in log


TASKS = resources.files("tracespec").joinpath("bpf", "tasks.bpf.h")
# each way of choosing the traced tasks, with every task event tasks.bpf.h can record
TARGET_CONFIGS = {
    "command, bitmap": {"TS_TARGET_BITMAP": 1, "TS_BITMAP_WORDS": 65536, "TS_ARM_ON_EXEC": 1, "TS_FOLLOW": 1},
    "command, hash": {"TS_TARGET_HASH": 1, "TS_ARM_ON_EXEC": 1, "TS_FOLLOW": 1},
    "pids, no follow": {"TS_TARGET_HASH": 1},
    "cgroup": {"TS_TARGET_CGROUP": 1},
    "comm": {"TS_TARGET_COMM": 1, "TS_COMM_WORD0": 0x6873, "TS_COMM_WORD1": 0},
    "all": {},
}


@pytest.mark.parametrize("target", TARGET_CONFIGS)
def test_tasks_compile_and_verify_for_every_target(target):
    """tasks.bpf.h after the header, as codegen splices them, for each target: its probes load."""
    from bcc import BPF

    from tracespec.codegen.lower import TARGET_STATES
    from tracespec.plan.model import ParamIndex

    config = {f"TS_P_{i.name}": int(i) for i in ParamIndex} | TARGET_STATES
    config.update({"TS_STASH_SIZE": 0, "TS_RETRY": 1, "TS_RECORDER": 1, "TS_NR_EXECVE": 59, "TS_NR_EXECVEAT": 322,
                   "TS_EXEC_ARGS": 1, "TS_EXEC_PATH_MAX": 4095, "TS_EXEC_ARGS_MAX": 4096, "TS_SIGNALS": 1})
    if target != "cgroup" and target != "comm":
        config["TS_SIGNALS_SENT"] = 1
    config.update(TARGET_CONFIGS[target])
    text = _program("RAW_TP", True, 32768, ("PUT_BUF", "TASK_S32"), config) + TASKS.read_text("utf-8")
    text += "int ts_probe(void *ctx) { return ts_traced_enter(bpf_get_current_pid_tgid(), 59); }\n"
    b, log = _compile(text)
    assert b is not None, log
    named = "TS_TARGET_BITMAP" in config or "TS_TARGET_HASH" in config
    probes = {"ts_probe": BPF.RAW_TRACEPOINT, "tracepoint__sched__sched_process_exec": BPF.TRACEPOINT,
              "raw_tracepoint__signal_deliver": BPF.RAW_TRACEPOINT}
    if named or target in ("cgroup", "comm"):  # each thread's end; a main thread's kept for its process's
        probes["tracepoint__sched__sched_process_exit"] = BPF.TRACEPOINT
    if named and "TS_FOLLOW" in config:
        probes["tracepoint__sched__sched_process_fork"] = BPF.TRACEPOINT
    if "TS_SIGNALS_SENT" in config:
        probes["raw_tracepoint__signal_generate"] = BPF.RAW_TRACEPOINT
    try:
        for name, kind in probes.items():
            b.load_func(name.encode(), kind)
    finally:
        b.cleanup()


DISPATCH = resources.files("tracespec").joinpath("bpf", "dispatch.bpf.h")
# what a generated program defines before dispatch.bpf.h when TS_GENERIC is set
GENERIC_HANDLERS = """
static __always_inline int ts_enter_generic(void *ctx, u64 id, u32 nr, u64 *a)
{
    ts_emit_value(ctx, id, nr, TS_FORK_KIND, a[0]);
    return 0;
}
static __always_inline int ts_exit_generic(void *ctx, u64 id, u32 nr, s64 ret)
{
    ts_emit_value(ctx, id, nr, TS_FORK_KIND, ret);
    return 0;
}
static __always_inline int ts_generic_serves(u32 nr) { return nr != 1; }
"""
DISPATCHERS = {"RAW_TP": (("ts_raw_enter", "ts_raw_exit"), "RAW_TRACEPOINT"),
               "RAW_SYSCALLS": (("ts_rs_enter", "ts_rs_exit"), "TRACEPOINT"),
               "SYSCALL_TP": (("ts_tp_enter", "ts_tp_exit", "ts_tp_arm"), "TRACEPOINT")}


@pytest.mark.parametrize("attach", ATTACH)
def test_dispatchers_compile_and_verify_for_every_attach_mode(attach):
    """dispatch.bpf.h after tasks.bpf.h and a program's generic handler, with everything it can do."""
    from bcc import BPF

    from tracespec.codegen.lower import TARGET_STATES
    from tracespec.plan.model import ParamIndex

    config = {f"TS_P_{i.name}": int(i) for i in ParamIndex} | TARGET_STATES
    config.update({"TS_STASH_SIZE": 0, "TS_NR_EXECVE": 59, "TS_NR_EXECVEAT": 322, "TS_GENERIC": 1,
                   "TS_TARGET_BITMAP": 1, "TS_BITMAP_WORDS": 65536, "TS_ARM_ON_EXEC": 1,
                   "TS_SIGRETURN_EXIT": 1, "TS_NR_RT_SIGRETURN": 15})
    if attach != "SYSCALL_TP":
        config["TS_TAIL_CALLS"] = 1
    else:
        config["TS_EXEC_ARM_EVENTS"] = 1
    if attach == "RAW_TP":
        config.update({"TS_SIGFRAME": 1, "TS_SIGFRAME_MASK": 40, "TS_SIGFRAME_RAX": 144})
    text = _program(attach, True, 0, ("TASK_S32",), config) + TASKS.read_text("utf-8") + GENERIC_HANDLERS
    b, log = _compile(text + DISPATCH.read_text("utf-8"))
    assert b is not None, log
    names, kind = DISPATCHERS[attach]
    try:
        for name in names:
            b.load_func(name.encode(), getattr(BPF, kind))
    finally:
        b.cleanup()
