"""A fidelity sweep by hand: one command traced by strace -f and by tracespec's strace-flag mode with the
same flags, both outputs normalised (tests/straceio.py's rules plus what differs between two runs of a
program: inode numbers, times, random bytes) and diffed per process.

    .venv/bin/python tests/sweep.py [--flags "-y -s 100"] [--cwd DIR] [--setup SH] [--mask RX] -- CMD...

Prints the diff (empty when the two agree) and exits 1 when they differ. The raw outputs stay in
/tmp/sweep.A (strace) and /tmp/sweep.B (tracespec)."""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from straceio import normalized, numbered_inodes  # noqa: E402

TRACESPEC = os.path.join(os.path.dirname(__file__), "..", ".venv", "bin", "tracespec")

_RULES = [
    (re.compile(r"\b(st_ino|stx_ino|d_ino|inode|ino)=\d+"), r"\1=INO"),
    (re.compile(r"\b(st_[amc]time|stx_[abcm]time|st_[amc]time_nsec)=[^,}]+"), r"\1=TIME"),
    (re.compile(r"\btv_(sec|nsec|usec)=\d+"), r"tv_\1=N"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}(\.\d+)?"), "DATE"),
    (re.compile(r"\bd_off=-?\d+"), "d_off=OFF"),
    (re.compile(r"^getrandom\(\"[^\"]*\""), 'getrandom("RANDOM"'),
    (re.compile(r"^sysinfo\(\{.*\}\)"), "sysinfo({...})"),  # uptime, free memory, process count
    (re.compile(r"^\d\d:\d\d:\d\d(\.\d+)? "), "TIME "),
    (re.compile(r" <\d+\.\d+>$"), " <T>"),
]


def norm(text: str, extra: list) -> list[list[str]]:
    procs = numbered_inodes(normalized(text, skip_signals=False))
    out = []
    for p in procs:
        lines = []
        for line in p:
            for rx, rep in _RULES + extra:
                line = rx.sub(rep, line)
            lines.append(line)
        out.append(lines)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flags", default="")
    ap.add_argument("--mask", action="append", default=[], help="REGEX masked in both (repeatable)")
    ap.add_argument("--cwd")
    ap.add_argument("--setup", help="shell commands run (in --cwd) before each of the two traces")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    flags = shlex.split(a.flags)
    out_a, out_b = "/tmp/sweep.A", "/tmp/sweep.B"
    for f in (out_a, out_b):
        if os.path.exists(f):
            os.unlink(f)
    def setup():
        if a.setup:
            subprocess.run(a.setup, shell=True, cwd=a.cwd, check=True)
    setup()
    with open(out_a + ".err", "w") as err:  # the command's standard error a regular file under both
        subprocess.run(["strace", "-f", *flags, "-o", out_a, *cmd], cwd=a.cwd, stdout=subprocess.DEVNULL, stderr=err)
    setup()
    with open(out_b + ".err", "w") as err:
        subprocess.run([TRACESPEC, "run", "-f", *flags, "-o", out_b, *cmd], cwd=a.cwd, stdout=subprocess.DEVNULL,
                       stderr=err)
    if "Traceback" in open(out_b + ".err").read():
        print(open(out_b + ".err").read())
    extra = [(re.compile(m), "MASK") for m in a.mask]
    if "-c" in flags or "-C" in flags:
        want, got = (open(f, errors="surrogateescape").read().splitlines() for f in (out_a, out_b))
        print("\n".join(want), "\n----\n", "\n".join(got))
        return 0
    want, got = (norm(open(f, errors="surrogateescape").read(), extra) for f in (out_a, out_b))
    differ = False
    if len(want) != len(got):
        print(f"processes: strace {len(want)}, tracespec {len(got)}")
        differ = True
    for i, (w, g) in enumerate(zip(want, got)):
        d = list(difflib.unified_diff(w, g, f"strace/P{i + 1}", f"tracespec/P{i + 1}", lineterm="", n=1))
        if d:
            differ = True
            print("\n".join(d))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
