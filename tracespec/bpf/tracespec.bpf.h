/*
 * tracespec's static BPF C: the maps every program has and the helpers its handlers call. BCC C (map
 * methods such as .lookup() are BCC's rewriter syntax).
 *
 * The generated program defines, before this header:
 *   the wire format (struct ts_hdr, TS_HEADER_SIZE, TS_SLOT_*, ... from tracespec/wire/layout.py),
 *   TS_OUTPUT_RINGBUF (1: BPF ring buffer of TS_RING_PAGES pages; 0: perf buffers), TS_WAKE_BYTES,
 *   TS_N_PARAMS, TS_SCRATCH_SIZE (0: no scratch), TS_BOUNDED_LOOPS,
 *   TS_READ_USER, TS_READ_USER_STR, TS_READ_KERNEL (the probe-read helpers this kernel offers),
 *   TS_ATTACH_RAW_TP, TS_ATTACH_RAW_SYSCALLS or TS_ATTACH_SYSCALL_TP,
 *   TS_TARGET_BITMAP (with TS_BITMAP_WORDS, and TS_ARM_ON_EXEC) or TS_TARGET_HASH: how traced tasks are kept,
 *   TS_SUMMARY (with TS_HIST_BUCKETS, TS_SUMMARY_KEYS, TS_SUMMARY_EPOCH_PARAM, TS_SUMMARY_BY_TGID/_TID),
 *   TS_SERVE and its TS_SERVE_* numbers for `tracespec serve` (records go to per-cgroup recorders),
 *   TS_P_FD_* (with TS_NEED_FD_INODE) and TS_P_SK_* (with TS_NEED_SOCK_ENDS, and TS_SOCK_ENDS_SIZE):
 *   the ts_params slots of the offsets ts_fd_inode and ts_put_sock_ends walk,
 *   and TS_NEED_<HELPER> for each optional helper its handlers call (the planner decides which: clang
 *   compiling helpers nobody calls cost BCC about 0.2 s of every start).
 */
#ifndef TRACESPEC_BPF_H
#define TRACESPEC_BPF_H

/* bpf_probe_read_user and bpf_probe_read_user_str under names of tracespec's own. BCC's rewriter looks
 * up every call it sees of a function by those two names in /proc/kallsyms, and bcc 0.26's lookup
 * rebuilds its table of every kernel symbol each time (KSyms::resolve_name compares the table's size with
 * the symbols', which differ whenever two symbols share a name): 40-80 ms per call site, 1.2 s of
 * failed.yaml's compile. The helpers are the same; `long` is their return type in the kernel's uapi. */
static long (*ts_probe_read_user)(void *dst, u32 size, const void *unsafe_ptr) =
    (void *)BPF_FUNC_probe_read_user;
static long (*ts_probe_read_user_str)(void *dst, u32 size, const void *unsafe_ptr) =
    (void *)BPF_FUNC_probe_read_user_str;

/* a slot to copy again at exit when it was an entry's: it faulted, or a part of it did */
#define TS_SLOT_REDO (TS_SLOT_FAULT | TS_SLOT_AGAIN)

#define TS_OFF_MASK 16383        /* records are built at offsets below 16 KiB */
#define TS_LEN_MASK 8191         /* one copy is at most 8 KiB */
/* x is computed here, from nothing clang can see through: it neither moves x's computation elsewhere nor
 * rewrites the arithmetic around it into branches (BPF has no instruction setting a register from a test) */
#define TS_OPAQUE(x) asm volatile("" : "+r"(x))

/* Tests that set 0 or 1 without a branch, for filters: BPF has no instruction setting a register from a
 * comparison, so clang branches for one, and the verifier walks both ways */
static __always_inline u32 ts_nonzero(u64 x)
{
    u64 t = x | (0 - x);   /* top bit set exactly when x is not 0 */
    TS_OPAQUE(t);
    return t >> 63;
}

static __always_inline u32 ts_eq(u64 a, u64 b)
{
    return ts_nonzero(a ^ b) ^ 1;
}

static __always_inline u32 ts_ult(u64 a, u64 b)   /* a < b: the borrow out of a - b */
{
    u64 t = (~a & b) | (~(a ^ b) & (a - b));
    TS_OPAQUE(t);
    return t >> 63;
}

static __always_inline u32 ts_slt(s64 a, s64 b)   /* a < b, signed: unsigned once the sign bits flip */
{
    return ts_ult((u64)a ^ (1ULL << 63), (u64)b ^ (1ULL << 63));
}

/* 1 if any of the bits of mask are set in w, else 0; 1 if all of them are: a filter's leaves ORed or ANDed
 * together */
static __always_inline u32 ts_any(u64 w, u64 mask)
{
    return ts_nonzero(w & mask);
}

static __always_inline u32 ts_all(u64 w, u64 mask)
{
    return ts_any((w & mask) ^ mask, mask) ^ 1;
}

/* helpers that other helpers call */
#if defined(TS_NEED_PUT_STR_RET) && !defined(TS_NEED_PUT_STR)
#define TS_NEED_PUT_STR 1
#endif

#if TS_OUTPUT_RINGBUF
BPF_RINGBUF_OUTPUT(ts_events, TS_RING_PAGES);
#if TS_WAKE_BYTES
/* Wakeups batched: a wakeup is an irq_work, and in a VM one cost about as much as the rest of a record
 * (the kernel's own rule wakes the reader whenever it has caught up, often every record when it keeps
 * up). Each CPU counts the bytes it wrote and wakes the reader when they reach TS_WAKE_BYTES; between
 * wakeups the reader finds the records at its next poll. */
BPF_PERCPU_ARRAY(ts_wake, u64, 1);

static __always_inline u64 ts_wake_flags(u32 size)
{
    u32 z = 0;
    u64 *n = ts_wake.lookup(&z);
    if (!n)
        return 0;
    u64 v = *n + size + 8;   /* the ring's own header of each record: 8 bytes */
    if (v < TS_WAKE_BYTES) {
        *n = v;
        return BPF_RB_NO_WAKEUP;
    }
    *n = 0;
    return BPF_RB_FORCE_WAKEUP;
}
#else
#define ts_wake_flags(size) 0
#endif
#else
BPF_PERF_OUTPUT(ts_events);
#endif
BPF_PERCPU_ARRAY(ts_lost, u64, 1);              /* records the buffer had no room for */
BPF_ARRAY(ts_params, u64, TS_N_PARAMS);         /* set by tracespec before attaching (TS_P_*) */
#if TS_SCRATCH_SIZE
#define TS_FORGET_AT (TS_SCRATCH_SIZE - 4)      /* a scratch word no record reaches */
#define TS_FORGET64_AT (TS_SCRATCH_SIZE - 16)   /* and a double word */
struct ts_scratch {
    u8 b[TS_SCRATCH_SIZE];
};
BPF_PERCPU_ARRAY(ts_scratch, struct ts_scratch, 1);   /* records too big for the stack */
#endif

static __always_inline u64 ts_param(u32 i)
{
    u64 *v = ts_params.lookup(&i);
    return v ? *v : 0;
}

static __always_inline void ts_lost_one(void)
{
    u32 z = 0;
    u64 *n = ts_lost.lookup(&z);
    if (n)
        (*n)++;
}

#ifdef TS_SERVE
/* tracespec serve: a flight recorder per cgroup v2 group, added and removed while the program runs. The
 * group's id leads to its recorder's slot; slot s's overwritable buffer on CPU c is entry
 * s * TS_SERVE_NCPUS + c of ts_serve_events (user space opens those, and deletes the group's entry before
 * closing them). A task in no recorded group costs this one lookup. Configured by TS_SERVE_MAX
 * (recorders), TS_SERVE_NCPUS, and the count indices TS_SERVE_CALLS, _LOST, _ERRORS, _ERRNO_BASE in
 * strides of TS_SERVE_STRIDE per slot. */
struct ts_serve_events_table_t {
    int key;
    u32 leaf;
    int (*perf_submit) (void *, void *, u32);
    int (*perf_submit_skb) (void *, u32, void *, u32);
    u32 max_entries;
};
/* BPF_PERF_OUTPUT's section would size the array by the CPUs alone; this one keeps max_entries */
__attribute__((section("maps/perf_array")))
struct ts_serve_events_table_t ts_serve_events = { .max_entries = TS_SERVE_MAX * TS_SERVE_NCPUS };
BPF_HASH(ts_serve_slots, u64, u32, TS_SERVE_MAX);   /* cgroup id -> recorder slot */
BPF_PERCPU_ARRAY(ts_serve_counts, u64, TS_SERVE_MAX * TS_SERVE_STRIDE);

/* The recorder slot of a cgroup v2 group (its id), or -1: not recorded. */
static __always_inline int ts_serve_slot_of(u64 cg)
{
    u32 *slot = ts_serve_slots.lookup(&cg);
    return slot && *slot < TS_SERVE_MAX ? (int)*slot : -1;
}

static __always_inline int ts_serve_slot(void)
{
    return ts_serve_slot_of(bpf_get_current_cgroup_id());
}

static __always_inline void ts_serve_count(int slot, u32 k)
{
    u32 i = (u32)slot * TS_SERVE_STRIDE + k;
    u64 *n = ts_serve_counts.lookup(&i);
    if (n)
        (*n)++;
}

/* perf_submit always writes to the current CPU's entry (BCC puts CUR_CPU_IDENTIFIER in its place): here
 * the entry is the recorder's, so the identifier is this function's argument for its one call */
#pragma push_macro("CUR_CPU_IDENTIFIER")
#undef CUR_CPU_IDENTIFIER
#define CUR_CPU_IDENTIFIER ts_serve_index
static __always_inline int ts_serve_submit(void *ctx, void *data, u32 size, u32 ts_serve_index)
{
    return ts_serve_events.perf_submit(ctx, data, size);
}
#pragma pop_macro("CUR_CPU_IDENTIFIER")

/* To recorder `slot`'s buffer on this CPU (nothing when slot is -1). */
static __always_inline void ts_serve_output_to(void *ctx, void *data, u32 size, int slot)
{
    if (slot < 0)
        return;
    if (ts_serve_submit(ctx, data, size, (u32)slot * TS_SERVE_NCPUS + bpf_get_smp_processor_id()))
        ts_serve_count(slot, TS_SERVE_LOST);
}

static __always_inline void ts_serve_output(void *ctx, void *data, u32 size)
{
    /* -1: the task left every recorded group since its syscall began */
    ts_serve_output_to(ctx, data, size, ts_serve_slot());
}

/* A recorded syscall's return, counted for the recorder's metrics. */
#define ts_returned(ret) ts_serve_returned(ret)
static __always_inline void ts_serve_returned(s64 ret)
{
    int slot = ts_serve_slot();
    if (slot < 0)
        return;
    ts_serve_count(slot, TS_SERVE_CALLS);
    if ((u64)ret < (u64)-4095)
        return;
    ts_serve_count(slot, TS_SERVE_ERRORS);
    u32 err = -ret;
    if (err < TS_SERVE_STRIDE - TS_SERVE_ERRNO_BASE)
        ts_serve_count(slot, TS_SERVE_ERRNO_BASE + err);
}
#else
#define ts_returned(ret)   /* counted only for serve's recorders */
#endif

static __always_inline void ts_emit(void *ctx, void *data, u32 size)
{
    asm volatile("" : "+r"(size));  /* keep the mask below: the verifier needs to see the bound */
#ifdef TS_SERVE
    ts_serve_output(ctx, data, size & TS_OFF_MASK);   /* to the task's group's recorder */
    return;
#endif
#if TS_OUTPUT_RINGBUF
    if (ts_events.ringbuf_output(data, size & TS_OFF_MASK, ts_wake_flags(size & TS_OFF_MASK)))
        ts_lost_one();
#else
    if (ts_events.perf_submit(ctx, data, size & TS_OFF_MASK))
        ts_lost_one();
#endif
}

static __always_inline void ts_header(u8 *r, u64 id, u64 ts, u32 nr, u16 kind)
{
    struct ts_hdr *h = (struct ts_hdr *)r;
    h->ts = ts;
    h->tgid = id >> 32;
    h->tid = (u32)id;
    h->nr = nr;
    h->kind = kind;
    h->flags = 0;
}

/* A small record of the header and one value (forks, exits, control records), built on the stack. */
static __always_inline void ts_emit_value(void *ctx, u64 id, u32 nr, u16 kind, s64 value)
{
    u64 rbuf[4] = {};
    u8 *r = (u8 *)rbuf;
    ts_header(r, id, bpf_ktime_get_ns(), nr, kind);
    *(s64 *)(r + TS_HEADER_SIZE) = value;
    ts_emit(ctx, r, TS_CONTROL_SIZE);
}

/* ---- a syscall's state between its entry and its exit ---- */
#ifdef TS_INFLIGHT
/* Syscalls in flight, by thread: an entry a filter, a summary or an exit's copies need at exit. */
struct ts_inflight {
    u64 ts;
    u64 args[6];
    u32 nr;
    u32 bits;    /* filter leaves known at entry */
    u32 unknown; /* filter leaves whose memory faulted at entry: decided at exit */
    u32 len;     /* length of the stashed enter record */
    u32 deferred;   /* the enter record waits in ts_stash for the exit to decide */
    u32 pad;
};
BPF_TABLE("lru_hash", u32, struct ts_inflight, ts_inflight, 65536);
#endif

#ifdef TS_RETRY
/* Entry copies to make again at exit, by thread: memory not paged in yet when the syscall began, which
 * the kernel then touches. */
struct ts_retry {
    u64 args[6];
    u32 nr;
    u32 faults;  /* bit i: slot i could not be copied at entry */
};
BPF_HASH(ts_retry, u32, struct ts_retry, 4096);
#ifdef TS_RETRY_BITMAP
/* A bit per task id: the thread may have an entry in ts_retry. Set before the entry is stored, cleared by
 * the exit that looks for it: an exit tests the bit, an array lookup the verifier inlines, and looks the
 * hash map up only when it is set (a stale bit costs that one lookup). Without atomic bit operations
 * (TS_RETRY_BITMAP undefined), every exit looks the hash map up. */
BPF_ARRAY(ts_retry_bits, u64, TS_RETRY_BITMAP_WORDS);

static __always_inline void ts_retry_mark(u32 tid)
{
    u32 word = tid >> 6;
    u64 *bits = ts_retry_bits.lookup(&word);
    if (bits)
        __sync_fetch_and_or(bits, 1ull << (tid & 63));
}

static __always_inline int ts_retry_take(u32 tid)
{
    u32 word = tid >> 6;
    u64 *bits = ts_retry_bits.lookup(&word);
    u64 mask = 1ull << (tid & 63);
    if (!bits || !(*bits & mask))
        return 0;
    __sync_fetch_and_and(bits, ~mask);
    return 1;
}
#else
#define ts_retry_mark(tid)
#define ts_retry_take(tid) 1
#endif
#endif

#if TS_STASH_SIZE
/* Enter records a filter could not decide at entry, by thread: emitted by the exit if it passes. */
struct ts_stash {
    u8 b[TS_STASH_SIZE];
};
BPF_F_TABLE("hash", u32, struct ts_stash, ts_stash, 16384, BPF_F_NO_PREALLOC);

/* A stashed enter record of len bytes (TS_STASH_SIZE is a power of two), marked deferred and emitted.
 * Not through ts_emit(): its mask is the scratch's (TS_OFF_MASK), more than a stash entry holds, and the
 * verifier bounds the read by the entry's size. */
static __always_inline void ts_stash_emit(void *ctx, struct ts_stash *st, u32 len)
{
    u32 n = len & (TS_STASH_SIZE - 1);
    ((struct ts_hdr *)st)->flags |= TS_FLAG_DEFERRED;
#ifdef TS_SERVE
    ts_serve_output(ctx, (void *)st, n);
#elif TS_OUTPUT_RINGBUF
    if (ts_events.ringbuf_output((void *)st, n, ts_wake_flags(n)))
        ts_lost_one();
#else
    if (ts_events.perf_submit(ctx, (void *)st, n))
        ts_lost_one();
#endif
}
#endif

#ifdef TS_RECORDER
BPF_PERF_OUTPUT(ts_control);   /* when to dump: triggers and deaths by signal (the records stay put) */

/* Tells user space to dump the recorder: a control record (header, then one value). */
static __always_inline void ts_control_emit(void *ctx, u64 id, u32 nr, u16 what, s64 value)
{
    u64 rbuf[4] = {};
    u8 *r = (u8 *)rbuf;
    ts_header(r, id, bpf_ktime_get_ns(), nr, what);
#ifdef TS_SERVE
    ((struct ts_hdr *)r)->flags = (u16)ts_serve_slot();   /* tracespec serve: whose recorder to dump */
#endif
    *(s64 *)(r + TS_HEADER_SIZE) = value;
    ts_control.perf_submit(ctx, r, TS_CONTROL_SIZE);
}
#endif

#ifdef TS_NEED_PPID
/* The parent's process id: task->real_parent->tgid, at offsets from BTF; 0 when the kernel has no BTF. */
static __always_inline u64 ts_ppid(void)
{
    u64 real_parent = ts_param(TS_P_TASK_REAL_PARENT), tgid = ts_param(TS_P_TASK_TGID);
    u64 parent = 0;
    u32 ppid = 0;
    if (!real_parent || !tgid)
        return 0;
    TS_READ_KERNEL(&parent, sizeof(parent), (void *)((u64)bpf_get_current_task() + real_parent));
    if (parent)
        TS_READ_KERNEL(&ppid, sizeof(ppid), (void *)(parent + tgid));
    return ppid;
}
#endif

#ifdef TS_NEED_FAILED
static __always_inline int ts_failed(s64 ret)
{
    return ts_ult((u64)ret, (u64)-4095) ^ 1;   /* (u64)ret >= (u64)-4095, without a branch (see ts_eq) */
}
#endif

#ifdef TS_NEED_LOG2
/* floor(log2(v)), 0 for 0 and 1 */
static __always_inline u32 ts_log2(u64 v)
{
    u32 r = 0, s;
    s = (v > 0xFFFFFFFFULL) << 5; v >>= s; r |= s;
    s = (v > 0xFFFF) << 4; v >>= s; r |= s;
    s = (v > 0xFF) << 3; v >>= s; r |= s;
    s = (v > 0xF) << 2; v >>= s; r |= s;
    s = (v > 0x3) << 1; v >>= s; r |= s;
    return r | (u32)(v >> 1);
}
#endif

#if TS_SCRATCH_SIZE
static __always_inline u8 *ts_scratch_get(void)
{
    u32 z = 0;
    struct ts_scratch *s = ts_scratch.lookup(&z);
    return s ? (u8 *)s : 0;
}

/* The offset after a slot, with its exact value hidden from the verifier: whatever path a copy took, the
 * states that follow look alike and are verified once, instead of once per combination of paths. */
static __always_inline u32 ts_forget(u8 *r, u32 off)
{
    /* The verifier does not track what map memory holds: a value read back from it is just "a u32".
     * Records end below 16 KiB, so the last word of the 32 KiB scratch is free for this. */
    *(volatile u32 *)&r[TS_FORGET_AT] = off;
    return *(volatile u32 *)&r[TS_FORGET_AT] & TS_OFF_MASK;
}

static __always_inline s64 ts_forget_s64(u8 *r, s64 x)
{
    /* The same for a count carried through a loop: two paths through one iteration that leave it with
     * different ranges are two states for every later iteration; forgotten, the second is pruned. */
    *(volatile s64 *)&r[TS_FORGET64_AT] = x;
    return *(volatile s64 *)&r[TS_FORGET64_AT];
}
#endif

#ifdef TS_NEED_PUT_STR
/* Copies a NUL-terminated string of at most max bytes into the slot at off; returns the next offset.
 * The slot starts with an info word: length in the low 16 bits, TS_SLOT_* flags above. */
static __always_inline u32 ts_put_str(u8 *r, u32 off, u64 ptr, u32 max)
{
    u32 *info = (u32 *)&r[off & TS_OFF_MASK];
    if (!ptr) {
        *info = TS_SLOT_ABSENT;
        return off + 4;
    }
    long n = TS_READ_USER_STR(&r[(off + 4) & TS_OFF_MASK], max + 1, (void *)ptr);
    if (n <= 0) {
        *info = TS_SLOT_FAULT;
        return off + 4;
    }
    u32 len = n - 1;
    u32 flags = 0;
    if (len == max) {
        /* the copy filled the slot: the string is longer if the next byte is not its end */
        char next = 0;
        if (TS_READ_USER(&next, 1, (void *)(ptr + max)) == 0 && next)
            flags = TS_SLOT_TRUNCATED;
    }
    *info = len | flags;
    return off + 4 + ((len + 4) & ~3u);
}
#endif

#ifdef TS_NEED_PUT_STR_RET
/* ts_put_str for a string the kernel wrote (getcwd): nothing when the syscall failed. */
static __always_inline u32 ts_put_str_ret(u8 *r, u32 off, u64 ptr, s64 ret, u32 max)
{
    if (ret < 0) {
        *(u32 *)&r[off & TS_OFF_MASK] = TS_SLOT_ABSENT;
        return off + 4;
    }
    return ts_put_str(r, off, ptr, max);
}
#endif

#ifdef TS_NEED_PUT_BUF
/* Copies len bytes (at most max) into the slot at off; a negative len copies nothing. */
static __always_inline u32 ts_put_buf(u8 *r, u32 off, u64 ptr, s64 len, u32 max)
{
    u32 *info = (u32 *)&r[off & TS_OFF_MASK];
    if (len < 0 || !ptr) {
        *info = TS_SLOT_ABSENT;
        return off + 4;
    }
    u32 flags = 0;
    u64 n = len;
    if (n > max) {
        n = max;
        flags = TS_SLOT_TRUNCATED;
    }
    /* Hide the clamp from the optimiser, or it drops the mask and passes a copy of n whose bound the
     * verifier cannot see ("unbounded memory access"). */
    asm volatile("" : "+r"(n));
    n &= TS_LEN_MASK;
    if (n && TS_READ_USER(&r[(off + 4) & TS_OFF_MASK], n, (void *)ptr)) {
        *info = TS_SLOT_FAULT;
        return off + 4;
    }
    *info = (u32)n | flags;
    return off + 4 + ((n + 3) & ~3ull);
}
#endif

#ifdef TS_NEED_USER_INT
/* An int in user memory (a length behind a pointer), or -1 when there is none to read. */
static __always_inline s64 ts_user_int(u64 ptr)
{
    s32 v = 0;
    if (!ptr || TS_READ_USER(&v, sizeof(v), (void *)ptr))
        return -1;
    return v;
}
#endif

#ifdef TS_NEED_USER_U64
/* A u64 in user memory (a pointer or a length inside a struct the kernel reads), or 0 when there is
 * none to read: a pointer member of a NULL or unreadable struct copies nothing. */
static __always_inline u64 ts_user_u64(u64 ptr)
{
    u64 v = 0;
    if (!ptr || TS_READ_USER(&v, sizeof(v), (void *)ptr))
        return 0;
    return v;
}
#endif

#ifdef TS_NEED_PUT_PTRCOUNT
/* Counts the pointers of a NULL-terminated array (execve's envp), up to limit. */
static __always_inline u32 ts_put_ptrcount(u8 *r, u32 off, u64 ptr, u32 limit)
{
    u32 *info = (u32 *)&r[off & TS_OFF_MASK];
    if (!ptr) {
        *info = TS_SLOT_ABSENT;
        return off + 4;
    }
    u32 n = 0;
    u32 flags = TS_SLOT_TRUNCATED;
    /* The slot's place waits in map memory while the loop runs: a register or the stack would carry it
     * through all limit iterations, and two callers' paths that reach here with different offsets (a
     * constant on one, a forgotten value on the other) would be verified through the loop twice; the
     * array's address is forgotten for the same reason (a range known on one path, not on another). */
    *(volatile u32 *)&r[TS_FORGET_AT] = off;
    ptr = ts_forget_s64(r, ptr);
#if TS_BOUNDED_LOOPS
#pragma clang loop unroll(disable)
#else
#pragma unroll
#endif
    for (u32 i = 0; i < limit; i++) {
        u64 p = 0;
        if (TS_READ_USER(&p, sizeof(p), (void *)(ptr + 8 * i))) {
            flags = TS_SLOT_FAULT;
            break;
        }
        if (!p) {
            flags = 0;
            break;
        }
        n++;
    }
    off = *(volatile u32 *)&r[TS_FORGET_AT] & TS_OFF_MASK;
    *(u32 *)&r[off] = n | flags;
    return off + 4;
}
#endif

#ifdef TS_NEED_FD_INODE
/* The inode number of the current task's descriptor fd (what -y shows as socket:[N] or pipe:[N]):
 * task->files->fdt->fd[fd]->f_inode->i_ino, at the offsets TS_P_FD_* from BTF, bounded by the table's
 * max_fds; 0 when it cannot be read. */
static __always_inline u64 ts_fd_file(s32 fd)
{
    u64 files_at = ts_param(TS_P_FD_FILES);
    u64 p = 0, file = 0;
    u32 max_fds = 0;
    if (fd < 0 || !files_at)
        return 0;
    TS_READ_KERNEL(&p, sizeof(p), (void *)((u64)bpf_get_current_task() + files_at));   /* files_struct */
    if (!p)
        return 0;
    u64 fdt = 0;
    TS_READ_KERNEL(&fdt, sizeof(fdt), (void *)(p + ts_param(TS_P_FD_FDT)));
    if (!fdt)
        return 0;
    TS_READ_KERNEL(&max_fds, sizeof(max_fds), (void *)(fdt + ts_param(TS_P_FD_MAX_FDS)));
    if ((u32)fd >= max_fds)
        return 0;
    p = 0;
    TS_READ_KERNEL(&p, sizeof(p), (void *)(fdt + ts_param(TS_P_FD_FD)));   /* struct file ** */
    if (!p)
        return 0;
    TS_READ_KERNEL(&file, sizeof(file), (void *)(p + 8 * (u64)(u32)fd));
    return file;
}

static __always_inline u64 ts_fd_inode(s32 fd)
{
    u64 file = ts_fd_file(fd), p = 0, ino = 0;
    if (!file)
        return 0;
    TS_READ_KERNEL(&p, sizeof(p), (void *)(file + ts_param(TS_P_FD_F_INODE)));
    if (!p)
        return 0;
    TS_READ_KERNEL(&ino, sizeof(ino), (void *)(p + ts_param(TS_P_FD_I_INO)));
    return ino;
}

static __always_inline void ts_put_u64(u8 *r, u32 at, u64 v)
{
    *(u32 *)&r[at & TS_OFF_MASK] = (u32)v;   /* two words: the slot's payload is only 4-aligned */
    *(u32 *)&r[(at + 4) & TS_OFF_MASK] = (u32)(v >> 32);
}

/* The slot of the inodes of the descriptors a syscall made: the one it returned (n == 1), or the two it
 * wrote into the int[2] at ptr (n == 2, when it returned 0); each a u64, 0 when not found. */
static __always_inline u32 ts_put_fd_inodes(u8 *r, u32 off, s64 ret, u64 ptr, u32 n)
{
    u32 *info = (u32 *)&r[off & TS_OFF_MASK];
    s32 fds[2] = {(s32)ret, -1};
    if (ret < 0 || (n == 2 && ret != 0)) {
        *info = TS_SLOT_ABSENT;
        return off + 4;
    }
    if (n == 2 && (!ptr || TS_READ_USER(fds, sizeof(fds), (void *)ptr))) {
        *info = TS_SLOT_FAULT;
        return off + 4;
    }
    ts_put_u64(r, off + 4, ts_fd_inode(fds[0]));
    if (n == 2)
        ts_put_u64(r, off + 12, ts_fd_inode(fds[1]));
    *info = 8 * n;
    return off + 4 + 8 * n;
}
#endif

#ifdef TS_NEED_DIRENTS
/* getdents' entries at ptr, counted as strace counts them (catalogue/dirents.py): walked by d_reclen over
 * the ret bytes the call wrote, while a whole header (header bytes) is left. The slot holds the count and
 * whether bytes were left over; truncated past TS_DIRENTS_MAX entries, a fault where the memory could
 * not be read, absent when the call failed. */
static __always_inline u32 ts_dirent_header(u32 nr)   /* the bytes before d_name */
{
    /* without a branch: two constants would be two states through the whole loop for the verifier */
    return TS_DIRENT64_HEADER + ts_eq(nr, TS_NR_GETDENTS) * (TS_DIRENT_HEADER - TS_DIRENT64_HEADER);
}

static __always_inline u32 ts_put_dirents(u8 *r, u32 off, u64 ptr, s64 ret, u32 header)
{
    u32 *info = (u32 *)&r[off & TS_OFF_MASK];
    if (ret < 0) {
        *info = TS_SLOT_ABSENT;
        return off + 4;
    }
    u64 left = ret, pos = 0;
    u32 count = 0, flags = TS_SLOT_TRUNCATED;
    for (u32 i = 0; i < TS_DIRENTS_MAX; i++) {
        if (left < header) {
            flags = 0;
            break;
        }
        count++;
        u16 reclen = 0;
        if (TS_READ_USER(&reclen, sizeof(reclen), (void *)(ptr + pos + TS_D_RECLEN))) {
            flags = TS_SLOT_FAULT;
            break;
        }
        if (reclen > left || reclen < header) {
            left = reclen > left ? 0 : left - header;
            flags = 0;
            break;
        }
        left -= reclen;
        pos += reclen;
    }
    if (flags) {
        *info = flags;
        return off + 4;
    }
    *(u32 *)&r[(off + 4) & TS_OFF_MASK] = count;
    *(u32 *)&r[(off + 8) & TS_OFF_MASK] = left != 0;
    *info = 8;
    return off + 12;
}
#endif

#ifdef TS_NEED_SOCK_ENDS
/* -yy: the family, ports and addresses of the socket behind descriptor fd, as the syscall leaves them
 * (file->private_data->sk's struct sock_common, at the offsets TS_P_SK_* from BTF): TS_SOCK_ENDS_SIZE
 * bytes laid out as catalogue/descriptors.py says. Nothing when ok is 0 (an accept that failed: no
 * descriptor); a fault when fd is not a socket's (its struct socket's file is not fd's: a failed call's
 * fd may be any file, whose private_data is something else). Its plans have TS_NEED_FD_INODE too
 * (ts_fd_file). */
/* A UNIX socket: the length of its name (0: none) after the family, its peer's inode (peer->sk_socket->
 * file->f_inode->i_ino, 0 when the peer has no file yet: a connection not accepted) at 8, the first 32
 * bytes of its name's sun_path at 16. A netlink socket: its port id at 8. */
static __always_inline u32 ts_put_sock_other(u8 *r, u32 off, u64 sk, u16 family)
{
    __builtin_memset(&r[(off + 4) & TS_OFF_MASK], 0, TS_SOCK_ENDS_SIZE);
    if (family == 16) {
        u32 portid = 0;
        if (ts_param(TS_P_SK_PORTID))
            TS_READ_KERNEL(&portid, sizeof(portid), (void *)(sk + ts_param(TS_P_SK_PORTID)));
        *(u32 *)&r[(off + 4) & TS_OFF_MASK] = family;
        *(u32 *)&r[(off + 12) & TS_OFF_MASK] = portid;
        *(u32 *)&r[off & TS_OFF_MASK] = TS_SOCK_ENDS_SIZE;
        return off + 4 + TS_SOCK_ENDS_SIZE;
    }
    u64 peer = 0, addr = 0, p = 0, ino = 0;
    s32 len = 0;
    if (ts_param(TS_P_SK_PEER))
        TS_READ_KERNEL(&peer, sizeof(peer), (void *)(sk + ts_param(TS_P_SK_PEER)));
    if (peer && ts_param(TS_P_SK_SK_SOCKET))
        TS_READ_KERNEL(&p, sizeof(p), (void *)(peer + ts_param(TS_P_SK_SK_SOCKET)));   /* struct socket */
    if (p && ts_param(TS_P_SK_FILE)) {
        u64 file = 0;
        TS_READ_KERNEL(&file, sizeof(file), (void *)(p + ts_param(TS_P_SK_FILE)));
        p = 0;
        if (file)
            TS_READ_KERNEL(&p, sizeof(p), (void *)(file + ts_param(TS_P_FD_F_INODE)));
        if (p)
            TS_READ_KERNEL(&ino, sizeof(ino), (void *)(p + ts_param(TS_P_FD_I_INO)));
    }
    if (ts_param(TS_P_SK_ADDR))
        TS_READ_KERNEL(&addr, sizeof(addr), (void *)(sk + ts_param(TS_P_SK_ADDR)));   /* struct unix_address */
    if (addr && ts_param(TS_P_SK_LEN))
        TS_READ_KERNEL(&len, sizeof(len), (void *)(addr + ts_param(TS_P_SK_LEN)));
    len = len > 2 && len <= 110 ? len - 2 : 0;   /* past sun_family */
    if (len && TS_READ_KERNEL(&r[(off + 20) & TS_OFF_MASK], 32, (void *)(addr + ts_param(TS_P_SK_NAME) + 2)))
        len = 0;
    *(u32 *)&r[(off + 4) & TS_OFF_MASK] = family | (u32)len << 16;
    ts_put_u64(r, off + 12, ino);
    *(u32 *)&r[off & TS_OFF_MASK] = TS_SOCK_ENDS_SIZE;
    return off + 4 + TS_SOCK_ENDS_SIZE;
}

static __always_inline u32 ts_put_sock_ends(u8 *r, u32 off, s64 fd, int ok)
{
    u32 *info = (u32 *)&r[off & TS_OFF_MASK];
    u64 file = ok ? ts_fd_file((s32)fd) : 0, sock = 0, sk = 0;
    u64 pd = ts_param(TS_P_SK_PRIVATE_DATA), skp = ts_param(TS_P_SK_SK);
    if (file && pd && skp)
        TS_READ_KERNEL(&sock, sizeof(sock), (void *)(file + pd));
    if (sock && ts_param(TS_P_SK_FILE)) {
        u64 back = 0;
        TS_READ_KERNEL(&back, sizeof(back), (void *)(sock + ts_param(TS_P_SK_FILE)));
        if (back != file)
            sock = 0;
    }
    if (sock)
        TS_READ_KERNEL(&sk, sizeof(sk), (void *)(sock + skp));
    if (!sk) {
        *info = ok ? TS_SLOT_FAULT : TS_SLOT_ABSENT;
        return off + 4;
    }
    u16 family = 0, num = 0, dport = 0;
    u32 saddr = 0, daddr = 0;
    TS_READ_KERNEL(&family, sizeof(family), (void *)(sk + ts_param(TS_P_SK_SKC_FAMILY)));
    if (family == 1 || family == 16)   /* AF_UNIX, AF_NETLINK: their own layouts */
        return ts_put_sock_other(r, off, sk, family);
    TS_READ_KERNEL(&num, sizeof(num), (void *)(sk + ts_param(TS_P_SK_SKC_NUM)));
    TS_READ_KERNEL(&dport, sizeof(dport), (void *)(sk + ts_param(TS_P_SK_SKC_DPORT)));
    TS_READ_KERNEL(&saddr, sizeof(saddr), (void *)(sk + ts_param(TS_P_SK_SKC_RCV_SADDR)));
    TS_READ_KERNEL(&daddr, sizeof(daddr), (void *)(sk + ts_param(TS_P_SK_SKC_DADDR)));
    *(u32 *)&r[(off + 4) & TS_OFF_MASK] = family | (u32)num << 16;
    *(u32 *)&r[(off + 8) & TS_OFF_MASK] = dport;
    *(u32 *)&r[(off + 12) & TS_OFF_MASK] = saddr;
    *(u32 *)&r[(off + 16) & TS_OFF_MASK] = daddr;
    if (TS_READ_KERNEL(&r[(off + 20) & TS_OFF_MASK], 16, (void *)(sk + ts_param(TS_P_SK_SKC_V6_RCV_SADDR))))
        __builtin_memset(&r[(off + 20) & TS_OFF_MASK], 0, 16);
    if (TS_READ_KERNEL(&r[(off + 36) & TS_OFF_MASK], 16, (void *)(sk + ts_param(TS_P_SK_SKC_V6_DADDR))))
        __builtin_memset(&r[(off + 36) & TS_OFF_MASK], 0, 16);
    *info = TS_SOCK_ENDS_SIZE;
    return off + 4 + TS_SOCK_ENDS_SIZE;
}
#endif

#ifdef TS_NEED_TASK_S32
static __always_inline s32 ts_task_s32(u64 base, u64 off, s32 unknown)
{
    s32 v = unknown;
    if (base && off)
        TS_READ_KERNEL(&v, sizeof(v), (void *)(base + off));
    return v;
}
#endif

#ifdef TS_SUMMARY
/* The summary: per syscall (and process with TS_SUMMARY_BY_TGID, and thread with TS_SUMMARY_BY_TID),
 * counts, times and a log2 histogram of durations, per CPU (no atomics; user space adds the CPUs up).
 * The epoch (parameter TS_SUMMARY_EPOCH_PARAM, which user space flips at each interval) keeps one
 * interval's counts apart from the next while they are read. */
struct ts_skey {
    u32 nr;
    u32 tgid;
    u32 tid;
    u32 epoch;
};
struct ts_sval {
    u64 calls;
    u64 errors;
    u64 total_ns;
    u64 min_ns;
    u64 max_ns;
    u64 hist[TS_HIST_BUCKETS];
    char comm[16];
};
struct ts_ekey {
    struct ts_skey k;
    u32 err;
    u32 pad;
};
BPF_F_TABLE("percpu_hash", struct ts_skey, struct ts_sval, ts_summary, TS_SUMMARY_KEYS, BPF_F_NO_PREALLOC);
BPF_F_TABLE("percpu_hash", struct ts_ekey, u64, ts_errnos, TS_SUMMARY_KEYS, BPF_F_NO_PREALLOC);
BPF_PERCPU_ARRAY(ts_szero, struct ts_sval, 1);   /* stays zero: the first value of a new key */

static __always_inline void ts_account(u64 id, u32 nr, s64 ret, u64 took)
{
    struct ts_skey k = {};
    k.nr = nr;
    k.epoch = ts_param(TS_SUMMARY_EPOCH_PARAM);
#ifdef TS_SUMMARY_BY_TGID
    k.tgid = id >> 32;
#endif
#ifdef TS_SUMMARY_BY_TID
    k.tid = id;
#endif
    struct ts_sval *v = ts_summary.lookup(&k);
    if (!v) {
        u32 z = 0;
        struct ts_sval *zero = ts_szero.lookup(&z);
        if (!zero)
            return;
        ts_summary.insert(&k, zero);
        v = ts_summary.lookup(&k);
        if (!v) {
            ts_lost_one();
            return;
        }
    }
    v->calls++;
    v->total_ns += took;
    if (v->calls == 1 || took < v->min_ns)
        v->min_ns = took;
    if (took > v->max_ns)
        v->max_ns = took;
    u32 b = ts_log2(took);
    if (b >= TS_HIST_BUCKETS)
        b = TS_HIST_BUCKETS - 1;
    v->hist[b]++;
#ifdef TS_SUMMARY_BY_TGID
    bpf_get_current_comm(v->comm, sizeof(v->comm));
#endif
    if (ts_failed(ret)) {
        v->errors++;
        struct ts_ekey ek = {};
        ek.k = k;
        ek.err = -ret;
        u64 *n = ts_errnos.lookup(&ek);
        if (n) {
            (*n)++;
        } else {
            u64 one = 1;
            if (ts_errnos.update(&ek, &one))
                ts_lost_one();
        }
    }
}
#endif

#ifdef TS_NEED_TABLE
/* The table-driven programs (ts_enter_table, ts_exit_table in the generated program) record every
 * family the planner could describe as a row of 64-bit words (codegen/table_c.py: TS_TR_* and TS_TS_*
 * say where each field sits), written the same bytes as the family's own programs would. The row and
 * the arguments go to the end of the scratch, past any record, and are read back from there: to the
 * verifier they are then plain numbers, so it checks the programs once, not once per row. */
#define TS_TROW_AT (TS_SCRATCH_SIZE - 256)     /* 16 row words */
#define TS_TARGS_AT (TS_SCRATCH_SIZE - 128)    /* the six arguments (8 words kept) */

struct ts_trow_words {
    u64 w[TS_TROW_WORDS];
};
BPF_ARRAY(ts_table_rows, struct ts_trow_words, TS_TABLE_NRS);   /* by syscall number: set by tracespec */

/* The row of syscall nr into the scratch (where ts_trow reads it); 0 for a syscall the table does not
 * serve. The rows are data the loader writes (codegen/table_c.map_rows), not C: clang compiles none of
 * them, and the program is the same whichever families the table serves. */
static __always_inline int ts_table_row(u32 nr, u8 *r)
{
    struct ts_trow_words *row = ts_table_rows.lookup(&nr);
    if (!row || !((row->w[0] >> TS_TR_PRESENT) & 1))
        return 0;
    /* word by word, and only the words the plan's rows use: a memcpy into u8 scratch is byte by byte */
    u64 *to = (u64 *)&r[TS_TROW_AT];
#pragma unroll
    for (int i = 0; i < TS_TROW_USED; i++)
        to[i] = row->w[i];
    return 1;
}

static __always_inline u64 ts_trow(u8 *r, u32 i)
{
    TS_OPAQUE(i);   /* masked as written: clang, knowing i's range, drops the mask the verifier needs */
    return *(volatile u64 *)&r[TS_TROW_AT + ((i & 15) << 3)];
}

static __always_inline void ts_targs_set(u8 *r, u64 *a)
{
    u64 *t = (u64 *)&r[TS_TARGS_AT];
    t[0] = a[0];
    t[1] = a[1];
    t[2] = a[2];
    t[3] = a[3];
    t[4] = a[4];
    t[5] = a[5];
}

static __always_inline u64 ts_targ(u8 *r, u32 i)
{
    return *(volatile u64 *)&r[TS_TARGS_AT + ((i & 7) << 3)];
}

/* An argument's value as its C type of size bytes holds it, widened to s64. */
static __always_inline s64 ts_tlen_arg(u64 v, u32 size, u32 sgn)
{
    if (size == 1)
        return sgn ? (s64)(s8)v : (s64)(u8)v;
    if (size == 2)
        return sgn ? (s64)(s16)v : (s64)(u16)v;
    if (size == 4)
        return sgn ? (s64)(s32)v : (s64)(u32)v;
    return (s64)v;
}

/* One slot of a row (word sw) at off; at exit, a string is absent when the syscall failed, and other
 * memory when the return value says the kernel did not write it (TS_TW_*: as codegen/lower.py's
 * _written_guard and _len_expr decide for a family's own programs). Returns the next offset. */
static __always_inline u32 ts_table_slot(u8 *r, u32 off, u64 sw, s64 ret, int at_exit)
{
    u64 ptr = ts_targ(r, (sw >> TS_TS_PTR) & 7);
    u32 max = (sw >> TS_TS_MAX) & 0xFFFF;
    if ((sw >> TS_TS_STRING) & 1) {
        if (at_exit && ret < 0) {
            *(u32 *)&r[off & TS_OFF_MASK] = TS_SLOT_ABSENT;
            return off + 4;
        }
        return ts_put_str(r, off, ptr, max & 4095);
    }
    u32 written = (sw >> TS_TS_WRITTEN) & 3;
    int unwritten = 0;
    if (at_exit) {
        if (written == TS_TW_POSITIVE)
            unwritten = ret <= 0;
        else if (written == TS_TW_RESTART)
            unwritten = ret < -TS_RESTART_ERRNO_MAX || ret > -TS_RESTART_ERRNO_MIN;
        else if (written == TS_TW_OK)
            unwritten = ret < 0;   /* (TS_TW_ALWAYS: what the kernel holds whatever it returned) */
    }
    u32 from = (sw >> TS_TS_LEN) & 3;
    u64 lv = ts_targ(r, (sw >> TS_TS_LEN_ARG) & 7);
    s64 len;
    if (from == TS_TL_CONST || from == TS_TL_DEREF) {
        len = unwritten ? -1 : from == TS_TL_DEREF ? ts_user_int(lv) : (s64)max;
    } else {
        len = from == TS_TL_RET ? ret : ts_tlen_arg(lv, (sw >> TS_TS_LEN_SIZE) & 15, (sw >> TS_TS_LEN_SIGNED) & 1);
        u32 elem = (sw >> TS_TS_ELEM) & 0xFFFF;
        u32 over = (sw >> TS_TS_BITS_OVER) & 3;
        if (((sw >> TS_TS_BITS) & 1) && over) {
            /* an unsigned count of bits, `over` more than the kernel reads, in whole longs; more than the
             * copy holds (a huge count too, which must not turn negative) asks for a byte more: truncated */
            u64 bits = lv - over;
            len = bits > 8 * (u64)max ? (s64)max + 1 : (s64)(((bits + 63) >> 6) << 3);
        } else if ((sw >> TS_TS_BITS) & 1) {
            len = len < 0 ? 0 : ((len + 63) >> 6) << 3;   /* bits, in whole longs */
        } else if (elem) {
            len = len * elem;
        } else {
            /* bytes before the counted ones (a System V message's mtype; 0 in other rows): added to any
             * length, without a test of its own, which would double the paths the verifier walks */
            len += (sw >> TS_TS_PLUS) & 15;
        }
        if ((written != TS_TW_OK || over) && unwritten)
            len = -1;
    }
    /* (each way of finding the length leaves a range of its own, and the verifier walks the copy once per
     * way: forgetting len here through map memory halves the table's verifier time, but cost read's and
     * write's programs ~20 ns each, bench/ab_probe.py: every event pays, the verifier once) */
    return ts_put_buf(r, off, ptr, len, max);
}
#endif

/* Array copiers, one per shape the planner found (it lists them after this header as
 * TS_DEFINE_PUT_STRV / TS_DEFINE_PUT_IOV lines, and TS_DEFINE_PUT_ELEMS, below): COUNT elements of at
 * most MAX bytes, each in a sub-slot of SUB bytes, so the verifier checks one element at a time instead
 * of every combination of lengths. The info word holds how many were copied, and TS_SLOT_TRUNCATED when
 * the array goes on; an element
 * that faulted makes the slot TS_SLOT_FAULT (copied again at exit). With bounded loops (5.3+) the loop
 * stays a loop the verifier walks, and each element's place goes through map memory (ts_forget) so that
 * neither the compiler nor the verifier carries an address from one iteration to the next; before 5.3
 * it is unrolled (those kernels take no loops). */
#if TS_BOUNDED_LOOPS
#define TS_ARRAY_LOOP _Pragma("clang loop unroll(disable)")
#define TS_ELEMENT_AT(r, at) ts_forget(r, at)
#else
#define TS_ARRAY_LOOP _Pragma("unroll")
#define TS_ELEMENT_AT(r, at) (at)
#endif
/* What a loop leaves (how many elements, its flags), forgotten once it ends: it ends at any iteration
 * (a fault, a NULL, the count), each with counts of its own, and the code after the loop would be
 * verified once per way out; forgotten, they are one state there. */
#if TS_BOUNDED_LOOPS
#define TS_LOOP_LEFT(r, v) ((u32)ts_forget_s64(r, v))
#else
#define TS_LOOP_LEFT(r, v) (v)   /* unrolled: each way out is code of its own anyway */
#endif
/* A count the loop stops at, hidden from the optimiser in each iteration: seen, clang folds it into the
 * loop's trip count, which is then no constant, and leaves the loop rolled (kernels before 5.3 refuse any
 * loop; later ones walk it without knowing the record's end) */
#if TS_BOUNDED_LOOPS
#define TS_STOP_AT(c) (c)
#else
#define TS_STOP_AT(c) ({ u64 ts_c_ = (c); TS_OPAQUE(ts_c_); ts_c_; })
#endif

/* An argv-style array of strings. */
#define TS_DEFINE_PUT_STRV(COUNT, MAX, SUB)                                                     \
static __always_inline u32 ts_put_strv_##COUNT##_##MAX(u8 *r, u32 off, u64 ptr)                 \
{                                                                                               \
    u32 start = off;                                                                            \
    if (!ptr) {                                                                                 \
        *(u32 *)&r[start & TS_OFF_MASK] = TS_SLOT_ABSENT;                                       \
        return off + 4;                                                                         \
    }                                                                                           \
    u32 n = 0;                                                                                  \
    u32 flags = 0;                                                                              \
    u64 p = 0;                                                                                  \
    TS_ARRAY_LOOP                                                                               \
    for (u32 i = 0; i < COUNT; i++) {                                                           \
        if (TS_READ_USER(&p, sizeof(p), (void *)(ptr + 8 * i))) {                               \
            flags = TS_SLOT_FAULT;                                                              \
            break;                                                                              \
        }                                                                                       \
        if (!p)                                                                                 \
            break;                                                                              \
        u32 at = TS_ELEMENT_AT(r, start + 4 + i * SUB);                                         \
        ts_put_str(r, at, p, MAX);                                                              \
        if (*(u32 *)&r[at & TS_OFF_MASK] & TS_SLOT_FAULT)                                       \
            flags = TS_SLOT_FAULT;                                                              \
        n++;                                                                                    \
    }                                                                                           \
    n = TS_LOOP_LEFT(r, n);                                                                     \
    flags = TS_LOOP_LEFT(r, flags);                                                             \
    if (n == COUNT && !flags && TS_READ_USER(&p, sizeof(p), (void *)(ptr + 8 * COUNT)) == 0 && p) \
        flags = TS_SLOT_TRUNCATED;                                                              \
    *(u32 *)&r[start & TS_OFF_MASK] = n | flags;                                                \
    return start + 4 + n * SUB;                                                                 \
}

/* An iovec array: each element's length (two u32), then its bytes. When limited (readv's exit), no
 * more than total bytes in all: what the syscall returned; a failed call's (total < 0) is absent
 * (TS_IOV_RET: a msghdr's, which strace shows as the pointer) or each element's length and iov_base
 * (TS_IOV_RET_OR_BASES: readv's, which strace shows as the pointers). */
#define TS_IOV_WHOLE 0
#define TS_IOV_RET 1
#define TS_IOV_RET_OR_BASES 2
#define TS_DEFINE_PUT_IOV(COUNT, MAX, SUB)                                                      \
static __always_inline u32 ts_put_iov_##COUNT##_##MAX(u8 *r, u32 off, u64 ptr, u64 cnt, s64 total, \
                                                      int limited)                              \
{                                                                                               \
    u32 start = off;                                                                            \
    if (!ptr || (limited == TS_IOV_RET && total < 0)) {                                         \
        *(u32 *)&r[start & TS_OFF_MASK] = TS_SLOT_ABSENT;                                       \
        return off + 4;                                                                         \
    }                                                                                           \
    u32 n = 0;                                                                                  \
    u32 flags = 0;                                                                              \
    u32 again = 0;  /* an element's buffer faulted: the array is whole, that buffer is not */      \
    u64 v[2];                                                                                   \
    s64 take;                                                                                   \
    TS_ARRAY_LOOP                                                                               \
    for (u32 i = 0; i < COUNT; i++) {                                                           \
        if (TS_STOP_AT(cnt) <= i)                                                               \
            break;                                                                              \
        v[0] = v[1] = 0;                                                                        \
        if (TS_READ_USER(v, sizeof(v), (void *)(ptr + 16 * i))) {                               \
            flags = TS_SLOT_FAULT;                                                              \
            break;                                                                              \
        }                                                                                       \
        u32 at = TS_ELEMENT_AT(r, start + 4 + i * SUB);                                         \
        *(u32 *)&r[at & TS_OFF_MASK] = (u32)v[1];                                               \
        *(u32 *)&r[(at + 4) & TS_OFF_MASK] = (u32)(v[1] >> 32);                                 \
        take = v[1];                                                                            \
        if (limited && total < 0) {                                                             \
            take = -1;  /* failed (TS_IOV_RET_OR_BASES): no bytes, the base in their place */    \
        } else if (limited) {                                                                   \
            if (take > total)                                                                   \
                take = total;                                                                   \
            total = ts_forget_s64(r, total - take);                                             \
        }                                                                                       \
        ts_put_buf(r, at + 8, v[0], take, MAX);                                                 \
        if (MAX >= TS_IOV_BASE_SIZE &&  /* not copied: iov_base in place of the bytes */           \
            (*(volatile u32 *)&r[(at + 8) & TS_OFF_MASK] & (TS_SLOT_FAULT | TS_SLOT_ABSENT))) {     \
            *(u32 *)&r[(at + 12) & TS_OFF_MASK] = (u32)v[0];                                    \
            *(u32 *)&r[(at + 16) & TS_OFF_MASK] = (u32)(v[0] >> 32);                            \
        }                                                                                       \
        if (!limited)  /* an entry's copy (an exit's is made once: no state more to walk); read  \
                        * back, not taken from what clang knows it wrote: a known bit per path is a \
                        * state per path for the verifier in every later iteration */              \
            again |= *(volatile u32 *)&r[(at + 8) & TS_OFF_MASK] & TS_SLOT_FAULT;               \
        n++;                                                                                    \
    }                                                                                           \
    n = TS_LOOP_LEFT(r, n);                                                                     \
    flags = TS_LOOP_LEFT(r, flags);                                                             \
    again = TS_LOOP_LEFT(r, again);                                                             \
    if (n == COUNT && cnt > COUNT && !flags)                                                    \
        flags = TS_SLOT_TRUNCATED;                                                              \
    *(u32 *)&r[start & TS_OFF_MASK] = n | flags | (again / TS_SLOT_FAULT) * TS_SLOT_AGAIN;      \
    return start + 4 + n * SUB;                                                                 \
}

/* An array of ELEM-byte structs (sendmmsg's and recvmmsg's mmsghdr), len bytes of it, COUNT elements at
 * most: copied whole, or, when that faults (the array runs into memory that cannot be read), the elements
 * before the first that cannot be, with TS_SLOT_TRUNCATED: shorter than len and than COUNT elements, the
 * copy says where it stopped (strace prints the elements it read, then that address). */
#define TS_DEFINE_PUT_ELEMS(COUNT, ELEM)                                                        \
static __always_inline u32 ts_put_elems_##COUNT##_##ELEM(u8 *r, u32 off, u64 ptr, s64 len)      \
{                                                                                               \
    u32 start = off;                                                                            \
    u32 next = ts_put_buf(r, off, ptr, len, COUNT * ELEM);                                      \
    if (!(*(u32 *)&r[start & TS_OFF_MASK] & TS_SLOT_FAULT))                                     \
        return next;                                                                            \
    u32 n = 0;                                                                                  \
    TS_ARRAY_LOOP                                                                               \
    for (u32 i = 0; i < COUNT; i++) {                                                           \
        if (TS_STOP_AT(len) < (i + 1) * ELEM)                                                   \
            break;                                                                              \
        u32 at = TS_ELEMENT_AT(r, start + 4 + i * ELEM);                                        \
        if (TS_READ_USER(&r[at & TS_OFF_MASK], ELEM, (void *)(ptr + i * ELEM)))                 \
            break;                                                                              \
        n++;                                                                                    \
    }                                                                                           \
    if (!n)                                                                                     \
        return next;                                                                            \
    *(u32 *)&r[start & TS_OFF_MASK] = (n * ELEM) | TS_SLOT_TRUNCATED;                           \
    return start + 4 + n * ELEM;                                                                \
}

/* The contexts each kind of attachment hands its programs. */
#if defined(TS_ATTACH_RAW_TP)
/* The six syscall arguments sit in pt_regs from r10 to di: copy that span once, then pick them out. */
struct ts_argregs {
    u64 r10, r9, r8, ax, cx, dx, si, di;
};

static __always_inline void ts_read_args(struct pt_regs *regs, u64 *a)
{
    struct ts_argregs g = {};
    TS_READ_KERNEL(&g, sizeof(g), &regs->r10);
    a[0] = g.di;
    a[1] = g.si;
    a[2] = g.dx;
    a[3] = g.r10;
    a[4] = g.r8;
    a[5] = g.r9;
}

/* What a syscall's own programs take from their context. Only per-syscall tracepoints gate in the
 * programs themselves: on the other two, the dispatcher has gated before its tail call. */
#define TS_HANDLERS_GATE 0
#define TS_EXIT_ARGS_IN_REGS 1   /* at exit, pt_regs still holds the arguments: ts_exit_args() */
typedef u64 ts_exit_nr_t;   /* pt_regs->orig_ax, read whole */

static __always_inline u32 ts_enter_nr(struct bpf_raw_tracepoint_args *ctx)
{
    return ctx->args[1];
}

static __always_inline void ts_enter_args(struct bpf_raw_tracepoint_args *ctx, u64 *a)
{
    ts_read_args((struct pt_regs *)ctx->args[0], a);
}

static __always_inline s64 ts_exit_ret(struct bpf_raw_tracepoint_args *ctx)
{
    return ctx->args[1];
}

static __always_inline u64 ts_exit_nr(struct bpf_raw_tracepoint_args *ctx)
{
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    u64 nr = 0;
    TS_READ_KERNEL(&nr, sizeof(nr), &regs->orig_ax);
    return nr;
}

/* the arguments again at exit: pt_regs still holds them */
static __always_inline void ts_exit_args(struct bpf_raw_tracepoint_args *ctx, u64 *a)
{
    ts_read_args((struct pt_regs *)ctx->args[0], a);
}
#elif defined(TS_ATTACH_RAW_SYSCALLS)
struct ts_rs_enter_ctx {
    u64 common;
    s64 id;
    u64 args[6];
};

struct ts_rs_exit_ctx {
    u64 common;
    s64 id;
    s64 ret;
};

#define TS_HANDLERS_GATE 0
#define TS_EXIT_ARGS_IN_REGS 0   /* the exit's context has no arguments */
typedef u32 ts_exit_nr_t;
static __always_inline void ts_exit_args(void *ctx, u64 *a) {}

static __always_inline u32 ts_enter_nr(struct ts_rs_enter_ctx *ctx)
{
    return ctx->id;
}

static __always_inline void ts_enter_args(struct ts_rs_enter_ctx *ctx, u64 *a)
{
    a[0] = ctx->args[0];
    a[1] = ctx->args[1];
    a[2] = ctx->args[2];
    a[3] = ctx->args[3];
    a[4] = ctx->args[4];
    a[5] = ctx->args[5];
}

static __always_inline u32 ts_exit_nr(struct ts_rs_exit_ctx *ctx)
{
    return ctx->id;
}

static __always_inline s64 ts_exit_ret(struct ts_rs_exit_ctx *ctx)
{
    return ctx->ret;
}
#elif defined(TS_ATTACH_SYSCALL_TP)
/* syscalls:sys_enter_* records: the syscall number, then one 8-byte slot per argument. Programs copy the
 * six slots with a helper rather than read them directly: the kernel refuses to attach a program whose
 * direct reads go past a record, and the copy lets one program serve syscalls of any arity (the slots
 * past a syscall's own arguments are never used). */
struct ts_tp_enter_ctx {
    u64 common;
    s32 nr;
    u32 pad;
    u64 args[6];
};

struct ts_tp_exit_ctx {
    u64 common;
    s32 nr;
    u32 pad;
    s64 ret;
};

#define TS_HANDLERS_GATE 1   /* each syscall's programs are attached to its own tracepoints */
#define TS_EXIT_ARGS_IN_REGS 0   /* the exit's context has no arguments */
typedef u32 ts_exit_nr_t;
static __always_inline void ts_exit_args(void *ctx, u64 *a) {}

static __always_inline u32 ts_enter_nr(struct ts_tp_enter_ctx *ctx)
{
    return ctx->nr;
}

static __always_inline void ts_enter_args(struct ts_tp_enter_ctx *ctx, u64 *a)
{
    TS_READ_KERNEL(a, 6 * sizeof(u64), (void *)&ctx->args[0]);
}

static __always_inline u32 ts_exit_nr(struct ts_tp_exit_ctx *ctx)
{
    return ctx->nr;
}

static __always_inline s64 ts_exit_ret(struct ts_tp_exit_ctx *ctx)
{
    return ctx->ret;
}
#else
#error "tracespec.bpf.h: define one of TS_ATTACH_RAW_TP, TS_ATTACH_RAW_SYSCALLS, TS_ATTACH_SYSCALL_TP"
#endif

#endif /* TRACESPEC_BPF_H */
