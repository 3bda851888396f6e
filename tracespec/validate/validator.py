"""Spec + catalogue + kernel profile -> ValidatedSpec, or one located SpecError.

Resolves selectors (names with did-you-mean, strace classes, globs) and exclusions, checks each syscall
exists on the target kernel, decides how every argument is fetched (spec defaults, then rules in order,
then per-argument overrides), and type-checks the filters.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import replace

from tracespec.catalogue import ArgKind, Capture, Catalogue, Phase, Syscall
from tracespec.catalogue.syscalls import CLASSES
from tracespec.catalogue.descriptors import DESCRIPTOR_BOOKKEEPING
from tracespec.catalogue.dirents import DIRENT_HEADERS, DIRENTS_COPY
from tracespec.catalogue.kinds import array_param
from tracespec.catalogue.structs import MMSG_ENTRIES, MMSG_ENTRIES_UNROLLED, MMSG_KINDS
from tracespec.errors import SpecError, did_you_mean
from tracespec.kernel import KernelProfile
from tracespec.kernel.profile import fmt_version
from tracespec.spec import ArgOptions, FetchOptions, Rule, Selector, Spec
from tracespec.spec.parse import COUNT_MAX, DEFAULT_COUNT
from tracespec.validate.filters import ArgType, FilterScope, check_filter
from tracespec.validate.typed import TExpr, leaves

TRIGGER_FIELDS = ("syscall", "ret", "errno", "failed", "pid", "tid", "ppid", "uid", "gid", "cgroup")
from tracespec.validate.model import ArgPlan, Fetch, SelectedSyscall, ValidatedSpec

MAX_FILTER_LEAVES = 32  # width of the in-flight entry's bits word (struct ts_inflight in program.c.j2)
CLASS_ALIASES = {"net": "network", "%stat": "stat_like", "%statfs": "statfs_like"}
SOCKADDR_MAX = 128  # sizeof(struct sockaddr_storage)
ARRAY_BYTES_MAX = 4096  # an array of fixed-size elements copies at most this many bytes (then "...")
NODEMASK_WORD = 8  # a node mask is an array of longs
FDSET_BYTES_MAX = 1024  # a descriptor set: the first 8192 descriptors (glibc's fd_set holds 1024)
# What every argument becomes when the spec asks for raw values (strace -e raw=all prints hex).
_RAW_KIND = ArgKind("hex")


ENVP_STRINGS_UNROLLED = 16  # -v: execve's environment strings copied where loops are unrolled (24 is over 4.19's limit)


class _Validator:
    def __init__(self, spec: Spec, catalogue: Catalogue, profile: KernelProfile):
        self.spec = spec
        self.cat = catalogue
        self.profile = profile

    def err(self, message, loc, hint=None) -> SpecError:
        return SpecError(message, loc, hint, source=self.spec.text)

    def available(self, sc: Syscall) -> bool:
        return sc.since is None or sc.since <= self.profile.version

    # -- selection --------------------------------------------------------------------------------
    def select(self, sel: Selector, what: str) -> list[Syscall]:
        if sel.kind == "name":
            sc = self.cat.get(sel.pattern)
            if sc is None:
                raise self.err(f"unknown syscall {sel.pattern!r} in {what}", sel.loc,
                               hint=did_you_mean(sel.pattern, self.cat.names) or "`tracespec list` prints them all")
            if not self.available(sc):
                raise self.err(f"{sc.name} needs Linux {fmt_version(sc.since)}; the target is {self.profile.name}",
                               sel.loc, hint="drop it, or check against a newer kernel with --kernel")
            return [sc]
        if sel.kind == "class":
            cls = CLASS_ALIASES.get(sel.pattern, sel.pattern)
            if cls not in CLASSES:
                raise self.err(f"unknown syscall class {sel.pattern!r}", sel.loc,
                               hint=did_you_mean(sel.pattern, CLASSES) or "classes: " + ", ".join(sorted(CLASSES)))
            return [sc for sc in self.cat.in_class(cls) if self.available(sc)]
        matched = [sc for sc in self.cat.syscalls if fnmatch.fnmatchcase(sc.name, sel.pattern)]
        if not matched:
            raise self.err(f"the glob {sel.pattern!r} matches no syscall", sel.loc,
                           hint="`tracespec list` prints the names")
        return [sc for sc in matched if self.available(sc)]

    def run(self) -> ValidatedSpec:
        chosen: dict[int, list[Rule]] = {}
        for rule in self.spec.rules:
            found = self.select(rule.selector, "syscalls")
            if not found:
                raise self.err(f"{rule.selector} selects no syscall that {self.profile.name} has", rule.selector.loc)
            for sc in found:
                chosen.setdefault(sc.nr, []).append(rule)
        for sel in self.spec.excludes:
            for sc in self.select(sel, "exclude"):
                chosen.pop(sc.nr, None)
        if not chosen:
            raise self.err("the exclusions remove every selected syscall", self.spec.excludes[0].loc)
        plain = [self.selected(self.cat.by_nr(nr), chosen[nr]) for nr in sorted(chosen)]
        self.traced_names = frozenset(s.syscall.name for s in plain)
        selected = []
        for sel in plain:
            rule = next((r for r in chosen[sel.syscall.nr] if r.filter is not None), None)
            if rule is not None:
                f = check_filter(rule.filter, self.scope([sel], f"the filter of {rule.loc.path}"))
                sel = SelectedSyscall(sel.syscall, sel.args, f, sel.rules, sel.raw)
            selected.append(sel)
        global_filter = None
        if self.spec.filter is not None:
            global_filter = check_filter(self.spec.filter, self.scope(selected, "the global filter"))
        self.count_leaves(global_filter, None, "the global filter")
        for sel in selected:
            if sel.filter is not None:
                self.count_leaves(sel.filter, global_filter, f"the filter of {sel.syscall.name}")
        every = {s.nr for s in self.cat.syscalls if self.available(s)} <= set(chosen)
        trigger = None
        if self.spec.recorder is not None and self.spec.recorder.trigger is not None:
            trigger = self.trigger(self.spec.recorder.trigger, selected)
        exec_nrs = tuple(sc.nr if sc is not None else -1 for sc in (self.cat.get("execve"), self.cat.get("execveat")))
        bookkeeping = self.bookkeeping(set(chosen)) if self.spec.fd_paths else ()
        return ValidatedSpec(self.spec, self.profile, tuple(selected), global_filter, every, trigger, exec_nrs,
                             bookkeeping)

    def bookkeeping(self, chosen: set[int]) -> tuple[SelectedSyscall, ...]:
        """The descriptor bookkeeping syscalls the spec leaves out (and the kernel has), by number, each
        copying only the memory the descriptor table reads (a path opened, pipe's int[2]), as the spec's
        defaults copy it but whatever its raw: says, since the table needs the values."""
        out = []
        for name, copied in DESCRIPTOR_BOOKKEEPING.items():
            sc = self.cat.get(name)
            if sc is None or sc.nr in chosen or not self.available(sc):
                continue
            args = tuple(self.arg_plan(sc, a, [], raw=False) if a.name in copied else ArgPlan(a, a.kind, None)
                         for a in sc.args)
            out.append(SelectedSyscall(sc, args, None, (self.spec.loc,)))
        return tuple(sorted(out, key=lambda s: s.syscall.nr))

    def count_leaves(self, own: TExpr | None, shared: TExpr | None, what: str) -> None:
        """A syscall's filter is its own AND the global one; the kernel keeps one bit per condition of it
        in a u32 while the syscall is in flight, so 32 conditions at most."""
        before = sum(1 for _ in leaves(shared)) if shared is not None else 0
        for i, leaf in enumerate(leaves(own) if own is not None else (), start=before):
            if i >= MAX_FILTER_LEAVES:
                also = f" (with the global filter's {before})" if before else ""
                raise self.err(f"{what} has more than {MAX_FILTER_LEAVES} conditions{also}", leaf.loc,
                               hint="compare a field with several values at once: pid in [1, 2, 3]")

    def trigger(self, expr, selected) -> TExpr:
        """The recorder's trigger is decided when a syscall returns, from numbers the kernel has at hand
        then: which syscall, its result, and who made it. Arguments, strings and durations are not kept
        that long for every syscall."""
        typed = check_filter(expr, self.scope([], "the recorder's trigger"))
        for leaf in leaves(typed):
            f = leaf.field
            if f.name not in TRIGGER_FIELDS:
                raise self.err(f"the recorder's trigger cannot use {f.name}", leaf.loc,
                               hint="it may use " + ", ".join(TRIGGER_FIELDS))
            if f.name == "syscall":
                values = getattr(leaf, "values", None) or (leaf.value,)
                for v in values:
                    if not any(s.syscall.name == v for s in selected):
                        raise self.err(f"the trigger names {v}, which the spec does not trace", leaf.loc,
                                       hint="add it to syscalls: the trigger sees only traced syscalls")
        return typed

    # -- per syscall ------------------------------------------------------------------------------
    def selected(self, sc: Syscall, rules: list[Rule]) -> SelectedSyscall:
        filtered = [r for r in rules if r.filter is not None]
        if len(filtered) > 1:
            a, b = filtered[0], filtered[1]
            raise self.err(f"{sc.name} is selected by two rules with filters (lines {a.loc.line} and {b.loc.line})",
                           b.loc, hint="combine the conditions into one filter")
        for r in rules:
            for opt in r.args:
                if sc.arg(opt.name) is None:
                    raise self.err(f"{sc.name} has no argument {opt.name!r}", opt.loc,
                                   hint=did_you_mean(opt.name, [a.name for a in sc.args]) or
                                   f"its arguments: {', '.join(a.name for a in sc.args) or 'none'}")
        args = tuple(self.arg_plan(sc, a, rules) for a in sc.args)
        raw = self.spec.raw
        for r in rules:
            if r.raw is not None:
                raw = r.raw
        return SelectedSyscall(sc, args, None, tuple(r.loc for r in rules), raw)

    def arg_plan(self, sc: Syscall, arg, rules: list[Rule], raw: bool | None = None) -> ArgPlan:
        kind = arg.kind
        info = kind.info
        raw = self.spec.raw if raw is None else raw
        # which spec defaults apply: paths, strings (and argv), or buffers (and iovecs)
        group = {"path": "path", "str": "string", "ostr": "string", "strv": "string", "envp": "string"}.get(
            kind.name, "buffer" if info.capture in (Capture.BUFFER, Capture.IOVEC) else None)
        defaults = {"path": self.spec.paths, "string": self.spec.strings, "buffer": self.spec.buffers}
        opts: FetchOptions = defaults.get(group, FetchOptions())
        arg_opt: ArgOptions | None = None
        for r in rules:
            if r.raw is not None:
                raw = r.raw
            rule_opts = {"path": r.paths, "string": r.strings, "buffer": r.buffers}.get(group)
            if rule_opts is not None:
                opts = rule_opts.over(opts)
            for o in r.args:
                if o.name == arg.name:
                    arg_opt = o
        if arg_opt is not None:
            if arg_opt.raw is not None:
                raw = arg_opt.raw
            self.check_arg_options(sc, arg, arg_opt)
            opts = FetchOptions(arg_opt.max, arg_opt.mode, arg_opt.loc).over(opts)
        if raw:
            return ArgPlan(arg, _RAW_KIND, None)
        cap = info.capture
        if cap == Capture.NONE:
            return ArgPlan(arg, kind, None)
        count = (arg_opt.count if arg_opt is not None and arg_opt.count else None) or DEFAULT_COUNT
        if kind.name == "oenum":  # an int, its value named by the kind's set
            return ArgPlan(arg, kind, Fetch(cap, info.at, self.cat.structs["int"].size, "full", struct="int",
                                            written=info.written))
        if kind.name in MMSG_KINDS:  # sendmmsg's, recvmmsg's messages: the first entries, and their parts
            count_from, elem = array_param(kind)
            layout = self.cat.structs[elem]
            entries = MMSG_ENTRIES if self.profile.has("bounded_loops") else MMSG_ENTRIES_UNROLLED
            return ArgPlan(arg, kind, Fetch(cap, info.at, entries * layout.size, "full", count_from,
                                            struct=layout.name, elem=layout.size, written=info.written,
                                            count=entries, parts_max=self.spec.buffers.max or DEFAULT_COUNT))
        if cap == Capture.STRUCT:
            layout = self.cat.structs[kind.param]
            # the memory its pointer members point to (msghdr's iovecs) is copied as buffers are
            return ArgPlan(arg, kind, Fetch(cap, info.at, layout.size, "full", struct=layout.name,
                                            written=info.written, count=count,
                                            parts_max=self.spec.buffers.max or DEFAULT_COUNT))
        if info.array:
            # strace prints an array's first -s elements (its max_strlen), then "...": the spec's count
            # of elements, else its buffers' max (what -s sets), as many as ARRAY_BYTES_MAX holds
            count_from, elem = array_param(kind)
            layout = self.cat.structs[elem]
            elements = (arg_opt.count if arg_opt is not None and arg_opt.count else None) or opts.max
            elements = max(1, min(elements, ARRAY_BYTES_MAX // layout.size))
            return ArgPlan(arg, kind, Fetch(cap, info.at, elements * layout.size, "full", count_from,
                                            struct=layout.name, elem=layout.size, written=info.written))
        if info.bits_over:  # a node mask: strace prints its first -s longs, then "..." (or the spec's count)
            longs = (arg_opt.count if arg_opt is not None and arg_opt.count else None) or opts.max
            longs = max(1, min(longs, ARRAY_BYTES_MAX // NODEMASK_WORD))
            return ArgPlan(arg, kind, Fetch(cap, info.at, longs * NODEMASK_WORD, "full", kind.param, bits=True,
                                            bits_over=info.bits_over, written=info.written))
        if kind.name == "fdset":
            return ArgPlan(arg, kind, Fetch(cap, info.at, FDSET_BYTES_MAX, "full", kind.param, bits=True,
                                            written=info.written))
        if cap == Capture.SOCKADDR:
            return ArgPlan(arg, kind, Fetch(cap, info.at, SOCKADDR_MAX, "full", kind.param,
                                            deref=info.at == Phase.EXIT))
        if cap == Capture.STRV or (cap == Capture.PTRCOUNT and not self.spec.abbrev):
            # strace cuts argv after its first -s strings, and counts the environment; -v prints both
            # whole: as many strings as the BPF program copies at most (COUNT_MAX), or the spec's count.
            # Where loops are unrolled (before 5.3) argv keeps its count and the environment takes
            # ENVP_STRINGS_UNROLLED strings, what 4.19's 4,096 instructions leave beside it
            if not self.spec.abbrev and (arg_opt is None or not arg_opt.count):
                if self.profile.has("bounded_loops"):
                    count = COUNT_MAX
                elif kind.name == "envp":
                    count = ENVP_STRINGS_UNROLLED
            return ArgPlan(arg, kind, Fetch(Capture.STRV, Phase.ENTER, opts.max, "full", count=count))
        if cap == Capture.PTRCOUNT:
            return ArgPlan(arg, kind, Fetch(cap, Phase.ENTER, 0, "full"))
        if cap == Capture.IOVEC:
            return ArgPlan(arg, kind, Fetch(cap, info.at, opts.max, "full", kind.param, count=count,
                                            written=info.written))
        at = info.at
        size_from = kind.param if cap == Capture.BUFFER else None
        deref = False
        if kind.name == "obuf":
            size_from = "ret"
        elif kind.name == "osockoptval":
            deref = True
        if arg_opt is not None and arg_opt.at is not None:
            at = Phase.ENTER if arg_opt.at == "entry" else Phase.EXIT  # the spec's words are entry | exit
        if arg_opt is not None and arg_opt.size is not None:
            size_from, deref = arg_opt.size, False
        mode = opts.mode or "full"
        if cap == Capture.BUFFER:
            mode = "full"
        mx = opts.max + info.plus
        if kind.name == "obuf" and sc.name in DIRENT_HEADERS and not self.spec.abbrev:
            # -v prints getdents' entries: as many as the argument's own max holds, else DIRENTS_COPY
            # bytes' worth (-s, the buffers' max, has no say: strace prints every entry, whatever -s)
            mx = arg_opt.max if arg_opt is not None and arg_opt.max is not None else DIRENTS_COPY
        return ArgPlan(arg, kind, Fetch(cap, at, mx, mode, size_from, deref=deref, plus=info.plus))

    def check_arg_options(self, sc: Syscall, arg, o: ArgOptions) -> None:
        cap = arg.kind.info.capture
        if o.mode is not None and cap != Capture.STRING:
            raise self.err(f"mode applies to strings; {sc.name}'s {arg.name} is {arg.kind.info.doc}", o.loc)
        if o.max is not None and cap not in (Capture.STRING, Capture.BUFFER, Capture.STRV, Capture.IOVEC):
            raise self.err(f"max applies to strings and buffers; {sc.name}'s {arg.name} is {arg.kind.info.doc}", o.loc)
        array = arg.kind.info.array or arg.kind.name == "fdset" or arg.kind.info.bits_over > 0
        if (o.at is not None or o.size is not None) and (cap != Capture.BUFFER or array):
            raise self.err(f"at and size apply to buffers; {sc.name}'s {arg.name} is {arg.kind.info.doc}", o.loc)
        if o.max is not None and array:
            raise self.err(f"{sc.name}'s {arg.name} is {arg.kind.info.doc}: it takes a count of elements, not a max",
                           o.loc)
        if o.count is not None and cap not in (Capture.STRV, Capture.IOVEC) and not (arg.kind.info.array or
                                                                                    arg.kind.info.bits_over):
            raise self.err(f"count applies to arrays (argv, iovecs, arrays of structs); {sc.name}'s {arg.name} is {arg.kind.info.doc}",
                           o.loc)
        if o.size is not None and o.size != "ret" and sc.arg(o.size) is None:
            raise self.err(f"{sc.name} has no argument {o.size!r} to take a length from", o.loc,
                           hint=did_you_mean(o.size, [a.name for a in sc.args]) or "name an argument or 'ret'")
        if o.size == "ret" and o.at == "entry":
            raise self.err("a length from the return value is known only at exit", o.loc,
                           hint="use at: exit, or take the length from an argument")
        if o.mode == "inline" and o.max is not None and o.max > 255:
            raise self.err(f"inline fetches hold at most 255 bytes, not {o.max}", o.loc, hint="use mode: full")

    # -- filters ----------------------------------------------------------------------------------
    def scope(self, selected: list[SelectedSyscall], what: str) -> FilterScope:
        per_name: dict[str, list[tuple[str, ArgType | str]]] = {}
        for s in selected:
            for ap in s.args:
                per_name.setdefault(ap.arg.name, []).append((s.syscall.name, self.arg_type(ap)))
        args, missing, unfilterable = {}, {}, {}
        all_names = [s.syscall.name for s in selected]
        for name, entries in per_name.items():
            have = {sc for sc, _ in entries}
            lacking = tuple(n for n in all_names if n not in have)
            if lacking:
                missing[name] = lacking
                continue
            reasons = [t for _, t in entries if isinstance(t, str)]
            if reasons:
                unfilterable[name] = reasons[0]
                continue
            types = {t.type for _, t in entries}
            if len(types) > 1:
                unfilterable[name] = "it is a string in some syscalls and a number in others"
                continue
            args[name] = entries[0][1]
        return FilterScope(args, missing, unfilterable, self.traced_names, self.cat.constants,
                           self.spec.text, what)

    def arg_type(self, ap: ArgPlan) -> ArgType | str:
        if ap.fetch is None or ap.kind.info.number:  # a number, whatever is copied behind it
            return ArgType("int", Phase.ENTER)
        if ap.fetch.elem or ap.fetch.bits:
            return f"it is {ap.kind.info.doc}; filters compare numbers and strings"
        if ap.fetch.capture in (Capture.STRING, Capture.BUFFER) and ap.fetch.at == Phase.ENTER:
            return ArgType("str", Phase.ENTER)
        if ap.fetch.at != Phase.ENTER:
            return "its contents are known only when the syscall returns, and filters cannot look into them"
        return f"it is {ap.kind.info.doc}; filters compare numbers and strings"


def validate(spec: Spec, catalogue: Catalogue, profile: KernelProfile) -> ValidatedSpec:
    """Resolve and check a spec for a target kernel."""
    if profile.syscall_formats is not None:
        catalogue = catalogue.with_formats(profile.syscall_formats)
    return _Validator(spec, catalogue, profile).run()


def widened(v: ValidatedSpec, catalogue: Catalogue, keep: Callable[[Syscall], bool]) -> ValidatedSpec:
    """v with every other syscall the kernel has that keep() takes, each fetched as the spec's defaults
    (its strings, paths and buffers options, its raw) fetch a syscall no rule names: the spec a wide
    program is planned from, of which a run records only v's syscalls (plan/restrict.py)."""
    if v.profile.syscall_formats is not None:
        catalogue = catalogue.with_formats(v.profile.syscall_formats)
    val = _Validator(v.spec, catalogue, v.profile)
    have = {s.syscall.nr for s in v.syscalls}
    more = tuple(val.selected(sc, []) for sc in catalogue.syscalls
                 if sc.nr not in have and val.available(sc) and keep(sc))
    return replace(v, syscalls=tuple(sorted(v.syscalls + more, key=lambda s: s.syscall.nr)))
