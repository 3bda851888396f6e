/*
 * tracespec's static BPF C, second part: which tasks are traced, and the events of their lives (forks,
 * ends, execs, signals). Spliced after tracespec.bpf.h, whose helpers it calls, and before the program's
 * own handlers, which call ts_traced() and ts_traced_enter().
 *
 * The generated program's #defines choose (codegen/lower.py, from the plan):
 *   the target: TS_TARGET_BITMAP or TS_TARGET_HASH (tasks tracespec names: a command or pids, with
 *   TS_ARM_ON_EXEC for a command traced from its execve, TS_NR_EXECVE and TS_NR_EXECVEAT), TS_SERVE (the
 *   recorded cgroups), TS_TARGET_CGROUP (one cgroup's id, parameter TS_P_TARGET_CGROUP_ID),
 *   TS_TARGET_COMM (a task name, TS_COMM_WORD0 and TS_COMM_WORD1: its 16 bytes as two words), else every
 *   task but tracespec's;
 *   TS_FOLLOW: children are traced from their first instruction;
 *   TS_EXEC_ARGS (with TS_EXEC_PATH_MAX, TS_EXEC_ARGS_MAX): a faulted execve argv is read from the new
 *   process;
 *   TS_SIGNALS: signals delivered; TS_SIGNALS_SENT: the ones a ptracer would see taken but the task never
 *   does (ignored, or fatal at once), with, for a cgroup, serve or comm target (tested there on a task
 *   that is not the current one), the offsets TS_P_TT_* of the task_struct members that lead to its
 *   group's id or hold its name.
 */
#ifdef TS_TARGET_BITMAP
/* Traced tasks, one bit per id up to the kernel's PID_MAX_LIMIT (TS_BITMAP_WORDS words): an array lookup
 * the verifier inlines, where a hash lookup costs tens of ns at every syscall. Bits change with atomic
 * or/and only. ts_SET_bit: is the task's bit set? ts_SET_set: set or clear it; a bit that changes
 * counts the task in or out of ts_live. (Written out per bitmap: BCC rewrites no map call in a macro.) */
BPF_ARRAY(ts_traced_bits, u64, TS_BITMAP_WORDS);
#ifdef TS_ARM_ON_EXEC
BPF_ARRAY(ts_armed_bits, u64, TS_BITMAP_WORDS);   /* started, traced from its execve */
#endif
BPF_ARRAY(ts_live, s64, 1);   /* tasks with a bit set in either bitmap */

static __always_inline int ts_bit_of(u64 *bits, u32 task)
{
    return bits && (*bits >> (task & 63)) & 1;
}

static __always_inline void ts_bit_change(u64 *bits, u32 task, int on)
{
    u32 z = 0;
    if (!bits)
        return;
    u64 mask = 1ull << (task & 63);
    u64 old = on ? __sync_fetch_and_or(bits, mask) : __sync_fetch_and_and(bits, ~mask);
    if (!(old & mask) == !on)
        return;
    s64 *live = ts_live.lookup(&z);
    if (live)
        __sync_fetch_and_add(live, on ? 1 : -1);
}

static __always_inline int ts_traced_bit(u32 task)
{
    u32 word = task >> 6;
    return ts_bit_of(ts_traced_bits.lookup(&word), task);
}

static __always_inline void ts_traced_set(u32 task, int on)
{
    u32 word = task >> 6;
    ts_bit_change(ts_traced_bits.lookup(&word), task, on);
}

#ifdef TS_ARM_ON_EXEC
static __always_inline int ts_armed_bit(u32 task)
{
    u32 word = task >> 6;
    return ts_bit_of(ts_armed_bits.lookup(&word), task);
}

static __always_inline void ts_armed_set(u32 task, int on)
{
    u32 word = task >> 6;
    ts_bit_change(ts_armed_bits.lookup(&word), task, on);
}
#endif
#endif

#ifdef TS_TARGET_HASH
BPF_HASH(ts_targets, u32, u32, 65536);          /* traced thread groups: TS_TRACED or TS_ARMED */
#endif

#if defined(TS_TARGET_BITMAP) || defined(TS_TARGET_HASH)
#define TS_TARGETS 1   /* traced tasks are named one by one (a command, pids) */

/* Is this task id marked traced? Mark or unmark it. */
static __always_inline int ts_target_is(u32 task)
{
#ifdef TS_TARGET_BITMAP
    return ts_traced_bit(task);
#else
    u32 *st = ts_targets.lookup(&task);
    return st && *st == TS_TRACED;
#endif
}

static __always_inline void ts_target_set(u32 task, int on)
{
#ifdef TS_TARGET_BITMAP
    ts_traced_set(task, on);
#else
    u32 traced = TS_TRACED;
    if (on)
        ts_targets.update(&task, &traced);
    else
        ts_targets.delete(&task);
#endif
}
#endif

/* Is this thread group traced? */
static __always_inline int ts_traced(u64 id)
{
#if defined(TS_TARGETS)
    return ts_target_is(id >> 32);
#elif defined(TS_SERVE)
    return (id >> 32) != ts_param(TS_P_SELF_TGID) && ts_serve_slot() >= 0;
#elif defined(TS_TARGET_CGROUP)
    return bpf_get_current_cgroup_id() == ts_param(TS_P_TARGET_CGROUP_ID) && (id >> 32) != ts_param(TS_P_SELF_TGID);
#elif defined(TS_TARGET_COMM)
    u64 comm[2] = {};
    if ((id >> 32) == ts_param(TS_P_SELF_TGID))
        return 0;
    bpf_get_current_comm(&comm, sizeof(comm));   /* NUL-padded, as the target's words are */
    return comm[0] == TS_COMM_WORD0 && comm[1] == TS_COMM_WORD1;
#else
    return (id >> 32) != ts_param(TS_P_SELF_TGID);
#endif
}

/* ts_traced() at a syscall's entry: a command not yet exec'd starts being traced at its execve. */
static __always_inline int ts_traced_enter(u64 id, u32 nr)
{
#if defined(TS_ARM_ON_EXEC) && defined(TS_TARGET_BITMAP)
    u32 tgid = id >> 32;
    if (ts_traced_bit(tgid))
        return 1;
    if (nr != TS_NR_EXECVE && nr != TS_NR_EXECVEAT)
        return 0;
    if (!ts_armed_bit(tgid))
        return 0;
    ts_traced_set(tgid, 1);   /* the started command's execve: traced from here on */
    ts_armed_set(tgid, 0);
    return 1;
#elif defined(TS_ARM_ON_EXEC)
    u32 tgid = id >> 32;
    u32 *st = ts_targets.lookup(&tgid);
    if (!st)
        return 0;
    if (*st == TS_ARMED) {
        if (nr != TS_NR_EXECVE && nr != TS_NR_EXECVEAT)
            return 0;
        *st = TS_TRACED;
    }
    return *st == TS_TRACED;
#else
    return ts_traced(id);
#endif
}

#if defined(TS_TARGETS) && defined(TS_FOLLOW)
/* A traced process's children are traced from their first instruction. */
TRACEPOINT_PROBE(sched, sched_process_fork)
{
    if (!ts_traced(bpf_get_current_pid_tgid()))
        return 0;
    u32 child = args->child_pid;
    ts_target_set(child, 1);
    /* the child inherits its parent's descriptors and working directory: user space mirrors that */
    ts_emit_value(args, bpf_get_current_pid_tgid(), 0, TS_FORK_KIND, child);
    return 0;
}
#endif

#if defined(TS_TARGETS) || defined(TS_SERVE) || defined(TS_TARGET_CGROUP) || defined(TS_TARGET_COMM)
/* A thread's end and its process's end are different events. Every traced thread reports its own end
 * (task_struct's exit_code, at an offset read from BTF), as strace prints "+++ exited with N +++" for
 * each. The process ends with its last thread: until then its id stays traced, even when its main thread
 * ended first (the raw exit, not exit_group), whose line then waits in ts_leaders and comes last, with
 * the process's wait status, as strace prints it. So for every target: a command's and pids' (whose
 * tasks' map keeps the process traced until then), a cgroup's, a name's and serve's (whose other threads
 * are still in the group, or have the name, as they end). */
BPF_HASH(ts_leaders, u32, s32, 4096);   /* main threads that ended before their process: their exit_code */

static __always_inline void ts_exit_emit(void *ctx, u64 id, s32 code)
{
    ts_emit_value(ctx, id, 0, TS_PROC_EXIT_KIND, code);
#ifdef TS_RECORDER
    if ((u32)id == id >> 32 && (code & 0x7f))   /* a process killed by a signal: dump what led to it */
        ts_control_emit(ctx, id, 0, TS_CONTROL_KILLED, code);
#endif
}

/* The main thread's line, kept in ts_leaders, when its process has ended: with the process's wait status,
 * as the kernel's wait_task_zombie() takes it (a group exit's code, else the main thread's own;
 * SIGNAL_GROUP_EXIT is 4 in every kernel since 2.6). Whoever takes it from the map gives it, and ends the
 * process's tracing. */
static __always_inline void ts_leader_end(void *ctx, u32 tgid, u64 signal)
{
    s32 *leader = ts_leaders.lookup(&tgid);
    if (!leader)
        return;
    s32 status = *leader;
    if (ts_leaders.delete(&tgid))
        return;   /* another thread ending at the same time reported it */
    if (ts_task_s32(signal, ts_param(TS_P_SIGNAL_FLAGS), 0) & 4)
        status = ts_task_s32(signal, ts_param(TS_P_SIGNAL_GROUP_EXIT_CODE), status);
#ifdef TS_TARGETS
    ts_target_set(tgid, 0);
#endif
    ts_exit_emit(ctx, ((u64)tgid << 32) | tgid, status);
}

/* A main thread that ends before its process (pthread_exit, the raw exit): its line kept, with its own
 * code, for the last thread to give (or itself, when the last other one ended meanwhile, before this line
 * was there to find). */
static __always_inline void ts_leader_keep(void *ctx, u32 tgid, s32 code, u64 signal)
{
    if (ts_leaders.update(&tgid, &code))
        ts_lost_one();
    if (ts_task_s32(signal, ts_param(TS_P_SIGNAL_LIVE), -1) == 0)
        ts_leader_end(ctx, tgid, signal);
}
#endif

#ifdef TS_TARGETS

TRACEPOINT_PROBE(sched, sched_process_exit)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = id, tgid = id >> 32;
    u64 task = bpf_get_current_task();
    s32 code = ts_task_s32(task, ts_param(TS_P_EXIT_CODE), -1);
    u64 signal = 0;
    if (ts_param(TS_P_TASK_SIGNAL))
        TS_READ_KERNEL(&signal, sizeof(signal), (void *)(task + ts_param(TS_P_TASK_SIGNAL)));
    /* signal->live counts the threads not yet in do_exit (0 once the last one is). Each thread counts
     * itself out early in do_exit, well before this tracepoint: the main thread and the last other one
     * can both see 0 here, or the main thread 1 and the other 0, in either order. Without BTF, a process
     * is taken to end with its main thread. */
    s32 live = ts_task_s32(signal, ts_param(TS_P_SIGNAL_LIVE), -1);
    int group_dead = live < 0 ? tid == tgid : live == 0;
    int traced = ts_target_is(tgid) || ts_target_is(tid);
    if (tid != tgid || group_dead)
        ts_target_set(tid, 0);
#if defined(TS_ARM_ON_EXEC) && defined(TS_TARGET_BITMAP)
    ts_armed_set(tid, 0);
#endif
    if (!traced)
        return 0;
    if (tid == tgid && !group_dead) {
        ts_leader_keep(args, tgid, code, signal);
        return 0;
    }
    ts_exit_emit(args, id, code);
    /* The process has ended. Its id stays traced until its main thread's line is given: by the main thread
     * itself when it sees the end here, else by the thread that finds its line in ts_leaders (the main
     * thread may still be on its way here: it then sees live at 0, and ends the process itself). */
    if (tid == tgid && group_dead)
        ts_target_set(tgid, 0);
    else if (group_dead)
        ts_leader_end(args, tgid, signal);
    return 0;
}
#endif

#ifdef TS_EXEC_ARGS
/* A successful execve replaced the memory its entry copies came from. When one of them faulted, take
 * what the kernel itself used: the filename (from this tracepoint) and the arguments it copied into the
 * new process, mm->arg_start..arg_end, NUL-separated (offsets from BTF). */
TRACEPOINT_PROBE(sched, sched_process_exec)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = id;
    struct ts_retry *rt = ts_retry.lookup(&tid);
    if (!rt || (rt->nr != TS_NR_EXECVE && rt->nr != TS_NR_EXECVEAT))
        return 0;
    u32 nr = rt->nr;
    ts_retry.delete(&tid);
    u8 *r = ts_scratch_get();
    if (!r)
        return 0;
    ts_header(r, id, bpf_ktime_get_ns(), nr, TS_EXEC_ARGS_KIND);
    u32 off = TS_HEADER_SIZE;
    u32 *info = (u32 *)&r[off & TS_OFF_MASK];
    long n = bpf_probe_read_kernel_str(&r[(off + 4) & TS_OFF_MASK], TS_EXEC_PATH_MAX + 1,
                                       (char *)args + (args->data_loc_filename & 0xFFFF));
    u32 len = n > 0 ? n - 1 : 0;
    *info = n > 0 ? len : TS_SLOT_FAULT;
    off = ts_forget(r, off + 4 + (n > 0 ? ((len + 4) & ~3u) : 0));
    u64 task_mm = ts_param(TS_P_TASK_MM), arg_start = ts_param(TS_P_MM_ARG_START), arg_end = ts_param(TS_P_MM_ARG_END);
    u64 mm = 0, start = 0, end = 0;
    if (task_mm && arg_start && arg_end) {
        TS_READ_KERNEL(&mm, sizeof(mm), (void *)((u64)bpf_get_current_task() + task_mm));
        if (mm) {
            TS_READ_KERNEL(&start, sizeof(start), (void *)(mm + arg_start));
            TS_READ_KERNEL(&end, sizeof(end), (void *)(mm + arg_end));
        }
    }
    off = ts_put_buf(r, off, start, end > start ? end - start : -1, TS_EXEC_ARGS_MAX);
    ts_emit(args, r, off);
    return 0;
}
#endif

#if defined(TS_SERVE) || defined(TS_TARGET_CGROUP) || defined(TS_TARGET_COMM)
/* A thread of a target named by its group (a cgroup, serve's recorded ones) or its name ends: its line, as
 * strace prints "+++ exited with N +++" (or "killed by") for each, and a process killed by a signal asks
 * for a recorder's dump (serve's: its group's), from exit_code, at an offset from BTF (TS_P_EXIT_CODE).
 * A main thread ending before the others (pthread_exit) has its line kept in ts_leaders and given by the
 * last of them, with the process's wait status, as for a command (above); without BTF's signal_struct,
 * each line as its thread ends. */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 tid = id, tgid = id >> 32;
    if (!ts_param(TS_P_EXIT_CODE) || !ts_traced(id))
        return 0;
    u64 task = bpf_get_current_task();
    s32 code = ts_task_s32(task, ts_param(TS_P_EXIT_CODE), 0);
    u64 signal = 0;
    if (ts_param(TS_P_TASK_SIGNAL))
        TS_READ_KERNEL(&signal, sizeof(signal), (void *)(task + ts_param(TS_P_TASK_SIGNAL)));
    s32 live = ts_task_s32(signal, ts_param(TS_P_SIGNAL_LIVE), -1);
    int group_dead = live <= 0;
    if (tid == tgid && !group_dead) {
        ts_leader_keep(args, tgid, code, signal);
        return 0;
    }
    ts_exit_emit(args, id, code);   /* before the dump it may ask for */
    if (tid != tgid && group_dead)
        ts_leader_end(args, tgid, signal);
    return 0;
}
#endif

#ifdef TS_SIGNALS
/* A signal delivered to a traced task, where strace prints "--- SIGUSR1 {si_signo=...} ---": the raw
 * tracepoint signal_deliver fires in the task itself as it takes the signal from its queue (after the
 * syscall the signal interrupted has returned), with the kernel's siginfo (args: sig, info, ka). The
 * group-exit path passes no siginfo (SEND_SIG_NOINFO: a SIGKILL the process dies of), and strace shows
 * only that death, "+++ killed by SIGKILL +++": no record. */
RAW_TRACEPOINT_PROBE(signal_deliver)
{
    u64 id = bpf_get_current_pid_tgid();
    if (!ts_traced(id))
        return 0;
    u64 info = ctx->args[1];
    if (info < 4096)
        return 0;
    u64 rbuf[(TS_HEADER_SIZE + TS_SIGINFO_SIZE + 7) / 8] = {};
    u8 *r = (u8 *)rbuf;
    ts_header(r, id, bpf_ktime_get_ns(), (u32)ctx->args[0], TS_SIGNAL_KIND);
    if (TS_READ_KERNEL(r + TS_HEADER_SIZE, TS_SIGINFO_SIZE, (void *)info))
        return 0;
    ts_emit(ctx, r, TS_HEADER_SIZE + TS_SIGINFO_SIZE);
    return 0;
}
#endif

#ifdef TS_SIGNALS_SENT
#if defined(TS_TARGET_CGROUP) || defined(TS_SERVE)
/* The cgroup v2 group's id of a task that is not the current one, read as bpf_get_current_cgroup_id()
 * reads the current task's: task->cgroups->dfl_cgrp->kn->id (offsets from BTF, TS_P_TT_*; the id was a
 * union whose u64 comes first before 5.5). 0 when an offset or a pointer is unknown. */
static __always_inline u64 ts_task_cgroup_id(u64 task)
{
    u64 cgroups = ts_param(TS_P_TT_CGROUPS), dfl = ts_param(TS_P_TT_DFL_CGRP), kn = ts_param(TS_P_TT_KN);
    u64 kn_id = ts_param(TS_P_TT_ID), p = 0, id = 0;
    if (!cgroups || !dfl || !kn || !kn_id)
        return 0;
    TS_READ_KERNEL(&p, sizeof(p), (void *)(task + cgroups));   /* struct css_set * */
    if (!p)
        return 0;
    TS_READ_KERNEL(&p, sizeof(p), (void *)(p + dfl));   /* struct cgroup * */
    if (!p)
        return 0;
    TS_READ_KERNEL(&p, sizeof(p), (void *)(p + kn));   /* struct kernfs_node * */
    if (!p)
        return 0;
    TS_READ_KERNEL(&id, sizeof(id), (void *)(p + kn_id));
    return id;
}
#endif

#ifdef TS_TARGET_COMM
/* Is a task that is not the current one named as the target? Its task->comm (offset from BTF,
 * TS_P_TT_COMM), compared as bpf_get_current_comm() gives the current task's: NUL-padded (a kernel
 * that copied a shorter name in with strlcpy left an older one's bytes after its NUL). */
static __always_inline int ts_task_comm_is(u64 task)
{
    u64 comm[2] = {};
    u64 at = ts_param(TS_P_TT_COMM);
    if (!at || TS_READ_KERNEL(&comm, sizeof(comm), (void *)(task + at)))
        return 0;
    u8 *c = (u8 *)comm;
    int ended = 0;
#pragma unroll
    for (int i = 0; i < 16; i++) {
        ended |= !c[i];
        if (ended)
            c[i] = 0;
    }
    return comm[0] == TS_COMM_WORD0 && comm[1] == TS_COMM_WORD1;
}
#endif

/* Is the task with these ids traced? (ts_traced's question, asked of a task that is not the current one) */
static __always_inline int ts_task_traced(u64 task, u32 tgid, u32 pid)
{
#if defined(TS_TARGETS)
    return ts_target_is(tgid) || ts_target_is(pid);
#else
    if (tgid == ts_param(TS_P_SELF_TGID))
        return 0;
#if defined(TS_SERVE)
    return ts_serve_slot_of(ts_task_cgroup_id(task)) >= 0;
#elif defined(TS_TARGET_CGROUP)
    return ts_task_cgroup_id(task) == ts_param(TS_P_TARGET_CGROUP_ID);
#elif defined(TS_TARGET_COMM)
    return ts_task_comm_is(task);
#else
    return 1;
#endif
#endif
}

/* A signal sent to a traced task that the kernel will never hand to it, because it is not ptraced, while
 * strace (a ptracer) sees it taken and prints "--- SIGTERM {...} ---": one ignored when sent (result 1,
 * TRACE_SIGNAL_IGNORED: SIG_IGN, or SIGCHLD, SIGWINCH, SIGURG, SIGCONT by default), or one with no handler
 * that complete_signal() made the group's death at once (delivered, result 0, and the group now exiting
 * with it as its code: its threads then take SIGKILL with no siginfo). Fired in the sender (args: sig,
 * info, task, group, result); the record's task is the one strace shows it in: a thread of the same
 * process that sent its process the signal takes it itself (at its syscall-exit stop), else the target.
 * info may be SEND_SIG_NOINFO (0: queued as sent by the current task, SI_USER) or SEND_SIG_PRIV (1:
 * SI_KERNEL). Not recorded: SIGKILL (strace never sees it), signals to a group already dying. */
RAW_TRACEPOINT_PROBE(signal_generate)
{
    u32 sig = ctx->args[0];
    u64 info = ctx->args[1], task = ctx->args[2];
    int result = (int)ctx->args[4];
    u64 pid_off = ts_param(TS_P_TASK_PID), tgid_off = ts_param(TS_P_TASK_TGID), sig_off = ts_param(TS_P_TASK_SIGNAL);
    if (!pid_off || !tgid_off || !sig_off || sig == 9 || (result != 0 && result != 1))
        return 0;
    u64 signal = 0;
    TS_READ_KERNEL(&signal, sizeof(signal), (void *)(task + sig_off));
    int exiting = ts_task_s32(signal, ts_param(TS_P_SIGNAL_FLAGS), 0) & 4;   /* SIGNAL_GROUP_EXIT */
    u16 why = TS_SIGSENT_IGNORED;
    if (result == 0) {
        if (!exiting || ts_task_s32(signal, ts_param(TS_P_SIGNAL_GROUP_EXIT_CODE), 0) != (s32)sig)
            return 0;   /* queued: signal_deliver sees it taken */
        why = TS_SIGSENT_FATAL;
    } else if (exiting) {
        return 0;
    }
    u32 tgid = ts_task_s32(task, tgid_off, 0), pid = ts_task_s32(task, pid_off, 0);
    if (!ts_task_traced(task, tgid, pid))
        return 0;
    u64 cur = bpf_get_current_pid_tgid();
    u64 id = ctx->args[3] && (cur >> 32) == tgid ? cur : ((u64)tgid << 32) | pid;
    u64 rbuf[(TS_HEADER_SIZE + TS_SIGINFO_SIZE + 7) / 8] = {};
    u8 *r = (u8 *)rbuf;
    ts_header(r, id, bpf_ktime_get_ns(), sig, TS_SIGSENT_KIND);
    ((struct ts_hdr *)r)->flags = why;
    s32 *si = (s32 *)(r + TS_HEADER_SIZE);
    if (info > 1) {
        if (TS_READ_KERNEL(si, TS_SIGINFO_SIZE, (void *)info))
            return 0;
    } else {
        si[0] = sig;   /* si_signo, si_errno, si_code, then si_pid and si_uid */
        si[2] = info ? 0x80 : 0;   /* SI_KERNEL : SI_USER */
        if (!info) {
            si[4] = cur >> 32;
            si[5] = (u32)bpf_get_current_uid_gid();
        }
    }
#ifdef TS_SERVE
    ts_serve_output_to(ctx, r, TS_HEADER_SIZE + TS_SIGINFO_SIZE, ts_serve_slot_of(ts_task_cgroup_id(task)));   /* the receiver's recorder */
#else
    ts_emit(ctx, r, TS_HEADER_SIZE + TS_SIGINFO_SIZE);
#endif
    return 0;
}
#endif
