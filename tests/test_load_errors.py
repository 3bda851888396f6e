"""When the kernel refuses a generated program: the message names the spec part the program serves and the
verifier's reason, and --debug shows the verifier's whole log.

Unit tests over synthetic verifier logs, and one real rejection: a program made invalid on purpose (the
code generator's output patched in a child process) loaded into the kernel.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from conftest import ROOT
from tracespec.pipeline import compile_spec
from tracespec.runtime.loader import LoadError, _verifier_verdict

LOG = """\
func#0 @0
0: R1=ctx() R10=fp0
0: (bf) r6 = r1                       ; R1=ctx() R6_w=ctx()
1: (85) call bpf_get_current_pid_tgid#14      ; R0_w=scalar()
2: (79) r1 = *(u64 *)(r0 +0)
R0 invalid mem access 'scalar'
HINT: The invalid mem access 'scalar' may point to ...
processed 3 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
verification time 21 usec
stack depth 0
"""


def test_verdict_is_the_reason_before_the_statistics():
    assert _verifier_verdict(LOG) == "R0 invalid mem access 'scalar'"


@pytest.mark.parametrize("log,verdict", [
    ("", ""),
    ("processed 0 insns (limit 1000000)\n", ""),
    ("jump out of range from insn 12 to 88\nprocessed 0 insns (limit 1000000) max_states_per_insn 0\n",
     "jump out of range from insn 12 to 88"),
    ("0: (b7) r0 = 0\n1: (95) exit\nR0 !read_ok\n\n\n", "R0 !read_ok"),
    ("x" * 1000 + "\n", "x" * 200),
])
def test_verdict_of_other_logs(log, verdict):
    assert _verifier_verdict(log) == verdict


def test_rejection_names_the_program_its_spec_part_and_the_reason():
    e = LoadError("ts_enter_f0", "syscalls:sys_enter_openat", "Permission denied", LOG, "openat (s.yaml:3:5)")
    assert e.message == ("the kernel's verifier rejected the generated program ts_enter_f0 (it serves openat "
                         "(s.yaml:3:5)): R0 invalid mem access 'scalar'")
    assert "--debug" in e.hint and e.log == LOG and e.exit_code == 2


def test_too_large_and_cannot_attach():
    big = LoadError("ts_enter_f2", "x", "Argument list too long", "", "execve (s.yaml:9:5)")
    assert big.message == "the program ts_enter_f2 is too large to load (it serves execve (s.yaml:9:5))"
    assert "args.NAME.count" in big.hint
    missing = LoadError("ts_enter_f1", "syscalls:sys_enter_nope", "No such file or directory", "", "")
    assert missing.message == "cannot attach ts_enter_f1 to syscalls:sys_enter_nope: No such file or directory"


def test_each_program_names_the_rules_behind_it(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\nsyscalls:\n  - name: openat\n    filter: failed\n  - read\n  - '*'\nraw: true\n"
                    "exclude: [write]\n")
    plan = compile_spec(str(spec)).plan
    origins = {f"ts_enter_{fam.name}": plan.program_origin(f"ts_enter_{fam.name}") for fam in plan.families}
    assert f"openat ({spec}:3:5, {spec}:6:5)" in origins.values(), origins
    if plan.generic:
        assert plan.program_origin("ts_raw_enter").startswith("the syscalls recorded with raw arguments (")
    assert plan.program_origin("tracepoint__sched__sched_process_exit") == \
        "tracespec's own bookkeeping (not a spec rule)"


# Run tracespec with its generated C broken in one place: ts_enter_f0 reads memory at an address that is a
# number. BCC compiles it; the verifier refuses it when it is loaded.
BREAK_IT = r'''
import re, sys
import tracespec.pipeline as pipeline
render = pipeline.render_c
def broken(plan):
    c = render(plan)
    head = re.search(r"int ts_enter_f0\([^)]*\)\n\{\n", c)
    assert head, "no ts_enter_f0 in the generated C"
    bad = "    if (*(volatile u64 *)(unsigned long)bpf_ktime_get_ns() == 7)\n        return 1;\n"
    return c[:head.end()] + bad + c[head.end():]
pipeline.render_c = broken
from tracespec.cli import main
sys.argv = ["tracespec"] + sys.argv[1:]
sys.exit(main())
'''


@pytest.mark.bpf
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_real_rejection_names_the_spec_rule_and_debug_shows_the_log(tmp_path, debug):
    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\nsyscalls:\n  - name: openat\n    filter: 'filename startswith \"/etc\"'\n")
    r = subprocess.run([sys.executable, "-c", BREAK_IT, "run", *(["--debug"] if debug else []), str(spec),
                        "-o", str(tmp_path / "out"), "--", "true"], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)
    assert r.returncode == 2, r.stderr
    m = re.search(r"tracespec: error: the kernel's verifier rejected the generated program ts_enter_f0 "
                  rf"\(it serves openat \({re.escape(str(spec))}:3:5\)\): (.+)", r.stderr)
    assert m, r.stderr
    assert "invalid mem access" in m.group(1), r.stderr
    assert "hint: run again with --debug" in r.stderr
    assert "Traceback" not in r.stderr
    log_lines = re.findall(r"^\d+: \(\w\w\) .*$", r.stderr, flags=re.M)  # the verifier's instruction trace
    processed = re.search(r"^processed \d+ insns", r.stderr, flags=re.M)
    if debug:
        assert log_lines and processed, r.stderr
        assert r.stderr.index(processed.group(0)) < r.stderr.index("tracespec: error:")
    else:
        assert not log_lines and not processed, r.stderr
