/*
 * tracespec's static BPF C, third part: the programs every syscall passes through, for the attach mode
 * the plan chose, which hand each syscall to its own programs (tail calls) or to the shared handler of
 * raw records. Spliced after the program's own handlers, which it calls.
 *
 * The generated program's #defines choose (codegen/lower.py, from the plan):
 *   TS_ATTACH_RAW_TP, TS_ATTACH_RAW_SYSCALLS or TS_ATTACH_SYSCALL_TP (as for tracespec.bpf.h);
 *   TS_TAIL_CALLS: syscalls with programs of their own, reached through ts_enter_progs/ts_exit_progs;
 *   TS_GENERIC: the program defines ts_enter_generic(), ts_exit_generic() and ts_generic_serves(nr), the
 *   shared handler of syscalls recorded with their raw arguments;
 *   TS_SIGFRAME: rt_sigreturn's entry reads its signal frame (TS_SIGFRAME_MASK, TS_SIGFRAME_RAX);
 *   TS_SIGRETURN_EXIT: an exit with no syscall number is rt_sigreturn's (TS_NR_RT_SIGRETURN);
 *   TS_EXEC_ARM_EVENTS: execve tracepoints the spec does not trace are attached, to arm a started command.
 */
#ifdef TS_TAIL_CALLS
/* Each traced syscall's own programs, by syscall number (filled in by tracespec before attaching). */
BPF_PROG_ARRAY(ts_enter_progs, 512);
BPF_PROG_ARRAY(ts_exit_progs, 512);
#endif

#ifdef TS_SIGFRAME
/* rt_sigreturn restores what its signal frame holds, and no exit record reports it (the restored
 * orig_ax is -1): the mask (strace's {mask=[...]}) and rax (its return value), read from the frame at
 * the user stack pointer (catalogue/sigframe.py) before its entry record. No record when they cannot
 * be read: the line is then strace's without them, rt_sigreturn() = ?. */
static __always_inline void ts_sigframe(void *ctx, u64 id, struct pt_regs *regs)
{
    u64 sp = 0;
    u64 rbuf[(TS_HEADER_SIZE + 16) / 8] = {};
    u8 *r = (u8 *)rbuf;
    TS_READ_KERNEL(&sp, sizeof(sp), &regs->sp);
    if (TS_READ_USER(r + TS_HEADER_SIZE, 8, (void *)(sp + TS_SIGFRAME_MASK)) ||
        TS_READ_USER(r + TS_HEADER_SIZE + 8, 8, (void *)(sp + TS_SIGFRAME_RAX)))
        return;
    ts_header(r, id, bpf_ktime_get_ns(), TS_NR_RT_SIGRETURN, TS_SIGFRAME_KIND);
    ts_emit(ctx, r, TS_HEADER_SIZE + 16);
}
#endif

/* rt_sigreturn restored the interrupted code's registers, orig_ax (-1) among them: its exit is the one
 * with no syscall number, when the thread's entry was rt_sigreturn (its exit handler checks), and its
 * return the rax it restored, as strace -c counts it (an interrupted sigsuspend's -EINTR an error) */
#ifdef TS_SIGRETURN_EXIT
#define TS_SIGRETURN_NR(nr, minus_one) \
    if ((nr) == (minus_one))           \
        (nr) = TS_NR_RT_SIGRETURN
#else
#define TS_SIGRETURN_NR(nr, minus_one)
#endif

#if defined(TS_ATTACH_RAW_TP)
int ts_raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 nr = ctx->args[1];
    if (!ts_traced_enter(id, nr))
        return 0;
#ifdef TS_SIGFRAME
    if (nr == TS_NR_RT_SIGRETURN)
        ts_sigframe(ctx, id, (struct pt_regs *)ctx->args[0]);
#endif
#ifdef TS_TAIL_CALLS
    ts_enter_progs.call(ctx, nr);   /* a syscall with programs of its own: does not come back */
#endif
#ifdef TS_GENERIC
    if (ts_generic_serves(nr)) {
        u64 a[6];
        ts_read_args((struct pt_regs *)ctx->args[0], a);
        return ts_enter_generic(ctx, id, nr, a);
    }
#endif
    return 0;
}

int ts_raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    if (!ts_traced(id))
        return 0;
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    u64 nr = 0;
    TS_READ_KERNEL(&nr, sizeof(nr), &regs->orig_ax);
    TS_SIGRETURN_NR(nr, (u64)-1);
#ifdef TS_TAIL_CALLS
    ts_exit_progs.call(ctx, nr);
#endif
#ifdef TS_GENERIC
    if (ts_generic_serves(nr))
        return ts_exit_generic(ctx, id, nr, ctx->args[1]);
#endif
    return 0;
}
#elif defined(TS_ATTACH_RAW_SYSCALLS)
int ts_rs_enter(struct ts_rs_enter_ctx *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 nr = ctx->id;
    if (!ts_traced_enter(id, nr))
        return 0;
#ifdef TS_TAIL_CALLS
    ts_enter_progs.call(ctx, nr);   /* a syscall with programs of its own: does not come back */
#endif
#ifdef TS_GENERIC
    if (ts_generic_serves(nr)) {
        u64 a[6] = {ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], ctx->args[4], ctx->args[5]};
        return ts_enter_generic(ctx, id, nr, a);
    }
#endif
    return 0;
}

int ts_rs_exit(struct ts_rs_exit_ctx *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    if (!ts_traced(id))
        return 0;
    u32 nr = ctx->id;
    TS_SIGRETURN_NR(nr, (u32)-1);
#ifdef TS_TAIL_CALLS
    ts_exit_progs.call(ctx, nr);
#endif
#ifdef TS_GENERIC
    if (ts_generic_serves(nr))
        return ts_exit_generic(ctx, id, nr, ctx->ret);
#endif
    return 0;
}
#elif defined(TS_ATTACH_SYSCALL_TP)
#ifdef TS_GENERIC
/* syscalls recorded with raw arguments, attached to each one's tracepoints */
int ts_tp_enter(struct ts_tp_enter_ctx *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    u32 nr = ctx->nr;
    if (!ts_traced_enter(id, nr))
        return 0;
    u64 a[6] = {};
    TS_READ_KERNEL(a, sizeof(a), (void *)&ctx->args[0]);
    return ts_enter_generic(ctx, id, nr, a);
}

int ts_tp_exit(struct ts_tp_exit_ctx *ctx)
{
    u64 id = bpf_get_current_pid_tgid();
    if (!ts_traced(id))
        return 0;
    return ts_exit_generic(ctx, id, ctx->nr, ctx->ret);
}
#endif

#ifdef TS_EXEC_ARM_EVENTS
/* Attached to execve tracepoints the spec does not trace: a started command is traced from its execve. */
int ts_tp_arm(struct ts_tp_enter_ctx *ctx)
{
    ts_traced_enter(bpf_get_current_pid_tgid(), ctx->nr);
    return 0;
}
#endif
#endif
