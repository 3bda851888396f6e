"""A wide program recording one spec's syscalls: the selection as data, not C.

A wide plan is planned from a widened spec (validate.widened: the spec's syscalls, and every other the
kernel has, fetched as the spec's defaults say) for the attach mode the spec's own plan chose. Its C then
depends on the spec's options, not on which syscalls it selects, so one compiled program (kept by the
program cache, compiled ahead by ./setup for strace's defaults) serves `-e trace=execve`,
`-e trace=%file`, a spec of your own that only lists syscalls...

What a run takes from the selection is all data the loader writes or attaches: the table's rows, the
generic handler's numbers (ts_generic_nrs), the dispatchers' tail calls, the syscall tracepoints. The
programs no kept attachment or tail call names are not even loaded. The records and their layouts are
the wide plan's: its decoder reads them (with -y, the syscalls recorded only for the descriptor table
marked as such).
"""

from __future__ import annotations

from dataclasses import replace

from tracespec.plan.model import Attachment, Plan, TablePlan

_DISPATCH_ARRAYS = ("ts_enter_progs", "ts_exit_progs")
_EXEC_ARGS = "tracepoint__sched__sched_process_exec"


def restricted(wide: Plan, own: Plan) -> Plan:
    """wide recording only the syscalls own records (own: the spec's own plan, whose attach mode wide
    was planned for)."""
    nrs = frozenset(i.nr for i in own.schema.syscalls)
    events = {ev for fam in wide.families for nr, ev in fam.events if nr in nrs and ev}
    events |= {ev for nr, ev in wide.generic_events if nr in nrs and ev}
    attachments = [a for a in wide.attachments if _kept(a, events, own)]
    # a started command is armed at its execve: by execve's own programs when they are traced, else by
    # ts_tp_arm on the syscall tracepoint, as the spec's own plan does it
    attachments += [a for a in own.attachments if a.program == "ts_tp_arm"]
    tail_calls = tuple(t for t in wide.tail_calls if t.table not in _DISPATCH_ARRAYS or t.index in nrs)
    # -y: the syscalls own records only for the descriptor table are recorded by the wide program's
    # families as any other, and marked so here: their events are noted, never printed nor counted
    noted = frozenset(i.nr for i in own.schema.syscalls if i.bookkeeping)
    schema = wide.schema
    if noted:
        schema = replace(schema, syscalls=tuple(replace(i, bookkeeping=True) if i.nr in noted else i
                                                for i in schema.syscalls))
    return replace(wide, attachments=tuple(attachments), tail_calls=tail_calls, schema=schema,
                   table=_rows(wide.table, nrs),
                   generic=tuple(i for i in wide.generic if i.nr in nrs),
                   generic_events=tuple((nr, ev) for nr, ev in wide.generic_events if nr in nrs),
                   exec_arm_events=own.exec_arm_events)


def _kept(a: Attachment, events: set[str], own: Plan) -> bool:
    for prefix in ("syscalls:sys_enter_", "syscalls:sys_exit_"):
        if a.kind == "tracepoint" and a.target.startswith(prefix):
            return a.target[len(prefix):] in events
    if a.program == _EXEC_ARGS:  # execve's argv read again from the new process: only when it is traced
        return any(b.program == _EXEC_ARGS for b in own.attachments)
    return True


def _rows(table: TablePlan | None, nrs: frozenset[int]) -> TablePlan | None:
    if table is None:
        return None
    entries = []
    for e in table.entries:
        kept = [(nr, name) for nr, name in zip(e.nrs, e.names) if nr in nrs]
        if kept:
            entries.append(replace(e, nrs=tuple(nr for nr, _ in kept), names=tuple(name for _, name in kept)))
    return replace(table, entries=tuple(entries))

