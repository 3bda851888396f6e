"""Write a run's results: all numbers as JSON, and a markdown summary of them (columns: bench/README.md)."""

from __future__ import annotations

import json
import os

import sustained
from workload import LOOPS


def _write_atomically(path: str, text: str) -> None:
    """Through a .tmp file (ignored by git), so an interrupted run leaves no half-written result."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write(results: dict, directory: str, stem: str) -> tuple[str, str]:
    os.makedirs(directory, exist_ok=True)
    json_path = os.path.join(directory, stem + ".json")
    md_path = os.path.join(directory, stem + ".md")
    _write_atomically(json_path, json.dumps(results, indent=1) + "\n")
    _write_atomically(md_path, markdown(results))
    return md_path, json_path


def _num(v, fmt: str = "{:,.1f}") -> str:
    return "—" if v is None else fmt.format(v)


def _ratio_strace(v) -> str:
    if v is None:
        return "—"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def _lost(r: dict) -> str:
    if not r.get("traced", True):
        return "not traced"
    if r["lost_max"] is None:
        return "n/a"
    return f"{r['lost_max']:,}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _source(src: dict) -> str:
    if src.get("source") == "commit":
        return f"commit {src['commit'][:12]} (--rev {src['rev']}), unpacked from git"
    if src.get("source") == "work tree":
        changed = src.get("uncommitted_changes") or []
        dirty = f", plus uncommitted changes to {len(changed)} file(s)" if changed else ", no uncommitted changes"
        return f"the work tree, at commit {src.get('commit', '?')[:12]}{dirty}"
    return src.get("path", "?")


def _cost_table(rows: list[dict]) -> list[str]:
    out = ["| tracer | syscalls/run | runs | ns/syscall (median) | min – max | overhead ns | × untraced | "
           "× strace | lost (worst run) | tracer's own lost count | run wall s |",
           "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        if r["status"] != "ok":
            out.append(f"| {r['label']} | | | {r['status']} | | | | | | | |")
            continue
        runs = len(r["ns_per_syscall"]["runs"])
        tried = runs + len(r["failed_runs"])
        mark = (" †" if r["runs_with_foreign_bpf"] else "") + (" ‡" if r["runs_with_other_load"] else "")
        ns = r["ns_per_syscall"]
        wall = r["wall_s"]
        own = r["self_reported_lost_max"]
        out.append(
            f"| {r['label']}{mark} | {r['syscalls']:,} | {runs if runs == tried else f'{runs} of {tried}'} | "
            f"{ns['median']:,.1f} | {ns['min']:,.1f} – {ns['max']:,.1f} | "
            f"{_num(r['overhead_ns'])} | {_num(r['ratio_untraced'], '{:.2f}')} | "
            f"{_ratio_strace(r['ratio_strace'])} | {_lost(r)} | {_num(own, '{:,}')} | {wall['median']:.2f} |")
    return out


def _startup(s: dict) -> list[str]:
    if s.get("status") != "ok":
        return [f"Not measured: {s.get('reason', 'skipped')}"]
    names = {
        "python": "Python interpreter start-up",
        "imports": "importing tracespec (CLI and the modules `run` uses)",
        "spec_to_c": "spec → BPF C: catalogue, validation, plan, code generation (`compile_spec`)",
        "decoder": "generating and loading the decoder (`load_decoder`)",
        "preflight": "preflight checks and importing BCC (`preflight.check_all`)",
        "bcc_load": "BCC: clang compiles the C, the kernel loads it (`loader.load`)",
        "attach": "attaching the programs (`Loaded.attach`)",
        "exec": "gate opened → /bin/true's execve (`GatedCommand.release` to the event)",
        "other": "other: between those steps (arguments, output file, fork)",
    }
    t, pt, w = s["total_s"], s["probed_total_s"], s["run_wall_s"]
    out = [f"`{s['command']}`, {_plural(s['reps'], 'run')}. The parts come from separate runs of the same command "
           "through bench/startup_probe.py, which times tracespec's steps from inside; in each such run "
           "they add up to its total (medians shown, so the column need not add up exactly).", "",
           "| | median s | min – max s |", "|---|--:|--:|",
           f"| **launch → first event** | **{t['median']:.3f}** | {t['min']:.3f} – {t['max']:.3f} |",
           f"| the same, under startup_probe.py | {pt['median']:.3f} | {pt['min']:.3f} – {pt['max']:.3f} |"]
    for key, label in names.items():
        p = s["parts_s"].get(key)
        if p:
            out.append(f"| &nbsp;&nbsp;{label} | {p['median']:.3f} | {p['min']:.3f} – {p['max']:.3f} |")
    out.append(f"| whole `tracespec run` of /bin/true, launch to exit | {w['median']:.3f} | "
               f"{w['min']:.3f} – {w['max']:.3f} |")
    if s.get("runs_with_foreign_bpf"):
        out += ["", f"† {s['runs_with_foreign_bpf']} of these runs started while BPF programs the "
                "benchmark did not load were attached (another tracer on the machine)."]
    if s.get("steps_not_found"):
        out += ["", "Steps not found in this tracespec (their time is in *other*): "
                + ", ".join(s["steps_not_found"])]
    return out


def markdown(res: dict) -> str:
    m = res["machine"]
    v = m["versions"]
    lines = [
        f"# tracespec overhead benchmark: {m['date']}, {m['hostname']}",
        "",
        f"`{res['command']}` ({res['mode']} mode, {_plural(res['reps'], 'repetition')}, "
        f"{res['duration_s'] / 60:.1f} min). Columns are explained in bench/README.md.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| kernel | {m['kernel']} ({m['arch']}) |",
        f"| CPU | {m['cpu']}, {m['cores']} cores |",
        f"| memory | {m['memory_gib']} GiB |",
    ]
    lines += [f"| {k} | {val} |" for k, val in v.items()]
    lines.append(f"| tracespec measured | {_source(m.get('tracespec_source', {}))} |")
    lines += ["", "## Cost per syscall", ""]
    for loop in res["loops"]:
        rows = [r for r in res["results"] if r["loop"] == loop]
        lines += [f"### {loop}: {LOOPS[loop].what}", ""] + _cost_table(rows) + [""]
    lines += ["## Time from `tracespec run` to its first event", ""] + _startup(res["startup"]) + [""]
    if "sustained" in res:  # results written before the section existed have none
        lines += ["## Sustained rate: text to a file with no loss", ""] + \
            sustained.markdown_lines(res["sustained"]) + [""]
    problems = [r for r in res["results"] if r["status"] != "ok" or r.get("failed_runs")]
    notes = [r for r in res["results"] if r.get("note")]
    lines += ["## Skipped, failed and not traced", ""]
    if not problems and not notes:
        lines.append("Nothing: every tracer ran every loop.")
    grouped: dict[tuple[str, str, str], list[str]] = {}  # (label, what, message) -> loops
    for r in problems:
        if r["status"] == "ok":
            key = (r["label"], "some runs failed", r["failed_runs"][0])
        else:
            key = (r["label"], r["status"], r["reason"])
        grouped.setdefault(key, []).append(r["loop"])
    for (label, what, message), loops in grouped.items():
        lines.append(f"- {label} ({', '.join(loops)}): {what}: {message}")
    for r in notes:
        lines.append(f"- {r['loop']} / {r['label']}: measured, not traced: {r['note']}")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in res["notes"]] + [""]
    return "\n".join(lines)
