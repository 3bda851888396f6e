/* Syscalls strace decodes that tracespec printed as bare numbers (issue 19): argv[1] names the group,
 * whose calls follow the marker close(-4242).
 * "altstack": sigaltstack's stack_t both ways (asked for, set, disabled, an unknown flag), NULL, an
 *   unreadable one, and a failing call whose old stack stays an address;
 * "ids": getresuid and getresgid's three ids written back (and a NULL one: the call fails), then
 *   setreuid, setresuid, setfsuid and setresgid with -1 (unchanged) and an id above 2^31, which strace
 *   prints unsigned;
 * "caps": capget and capset with each header version (two words of capabilities or one), an unknown
 *   version, a NULL or unreadable header or data, and capabilities above the known ones;
 * "persona": personality asked for (0xffffffff), set with a flag, set to an unknown type with an unknown
 *   flag, and back;
 * "ioprio": ioprio_set and ioprio_get of each class and who (in a process group of its own), an unknown
 *   class and who;
 * "xattr": extended attributes of the file argv[2] set (with each flag), read back (whole, asked for
 *   their size, missing, too small), listed, removed: their values as strings, without a last NUL;
 * "remap": mremap's flags, and its new address only when the mapping may move there;
 * "offsets": sendfile's offset as given and as the kernel left it, copy_file_range's and splice's as
 *   given, the flags of splice, tee and vmsplice (vmsplice's iovec too);
 * "clock": times, gettimeofday and time (the values, which differ from run to run, are scrubbed by the
 *   test);
 * "misc": membarrier's commands (QUERY's return), pidfd_open's and mlock2's flags, getcpu's CPU (pinned
 *   to CPU 0);
 * "mount": in a mount namespace of its own, mount of each kind (a new mount with its type and data, a
 *   remount, a bind, a propagation change, the old magic), umount2, setns's types;
 * "syslog": syslog's actions (sizes, a read, the console level, an unknown one), sync_file_range's flags;
 * "ipc": System V shared memory, semaphores and message queues made, attached and removed (keys, flags
 *   above the permission bits, commands);
 * "sigwait": rt_sigtimedwait timing out and taking a queued signal (its siginfo, its name after the
 *   return), rt_sigqueueinfo's siginfo, waitid's;
 * "seccomp": each seccomp operation (an available action and an unknown one, the notification sizes,
 *   an allow-all filter with flags, strict mode refused, an unknown operation);
 * "newmount": in a mount namespace of its own, the mount API of Linux 5.2 (fsopen, fsconfig's commands,
 *   fsmount, move_mount, open_tree, mount_setattr's struct, fspick) on the directory argv[2];
 * "uring": io_uring_enter's flags, io_uring_register's opcodes;
 * "mq": a POSIX message queue made (its attributes), opened again, sent to, received from (timing out,
 *   too small a buffer), its attributes read and set, a notification asked for and cancelled;
 * "fanotify": fanotify_init's class and flags, fanotify_mark's flags and events, get_robust_list's
 *   head and length written back, pkey_alloc's access rights;
 * "utimes": utime's utimbuf, utimes' and futimesat's timevals (each with its date) on the file argv[2],
 *   io_setup's context written back.
 * Every call is deterministic and leaves the process as it found it (run as root). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/aio_abi.h>
#include <linux/io_uring.h>
#include <linux/membarrier.h>
#include <linux/seccomp.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/fsuid.h>
#include <sys/ipc.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <utime.h>
#include <unistd.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static char altstack[16384];

static void altstack_calls(void)
{
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0}, old;
    sigaltstack(NULL, &old);
    sigaltstack(&ss, &old);
    sigaltstack(&ss, NULL);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, &old);
    sigaltstack((stack_t *)1, NULL);
    ss.ss_flags = 0x10;
    sigaltstack(&ss, (stack_t *)8);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
}

static void id_calls(void)
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    syscall(SYS_getresuid, NULL, &e, &s);
    setreuid(-1, 0);
    setresuid(-1, -1, 4294967294u);
    setresuid(-1, -1, 0);
    setfsuid(-1);
    setresgid(-1, -1, -1);
    syscall(SYS_setuid, 0);
}

static void cap_calls(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    syscall(SYS_capget, &h, d);
    syscall(SYS_capset, &h, d);
    struct __user_cap_data_struct fewer[2];
    memcpy(fewer, d, sizeof d);
    fewer[1].effective = 0;
    fewer[0].inheritable = 0;
    fewer[1].inheritable = 0xfffffe00;  /* above CAP_CHECKPOINT_RESTORE: no names */
    syscall(SYS_capset, &h, fewer);
    h.version = _LINUX_CAPABILITY_VERSION_1;
    syscall(SYS_capget, &h, d);
    h.version = _LINUX_CAPABILITY_VERSION_2;
    syscall(SYS_capget, &h, d);
    h.version = 0x12345;
    syscall(SYS_capget, &h, NULL);
    syscall(SYS_capget, NULL, d);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    syscall(SYS_capget, &h, (void *)8);
    syscall(SYS_capset, (void *)8, d);
}

static void persona_calls(void)
{
    int was = personality(0xffffffff);
    personality(PER_LINUX | ADDR_NO_RANDOMIZE);
    personality(0xffffffff);
    personality(0x10001);  /* an unknown type, an unknown flag */
    personality(PER_LINUX32);
    personality(was);
}

static void ioprio_calls(void)
{
    setpgid(0, 0);  /* a process group of its own: its best priority is this process's */
    int was = syscall(SYS_ioprio_get, 1, 0);
    syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 4);
    syscall(SYS_ioprio_get, 1, 0);
    syscall(SYS_ioprio_get, 2, 0);
    syscall(SYS_ioprio_set, 1, 0, 3 << 13);
    syscall(SYS_ioprio_get, 3, 4242424);  /* a user with no process: ESRCH */
    syscall(SYS_ioprio_set, 9, 0, (5 << 13) | 4);
    syscall(SYS_ioprio_set, 1, 0, was);
}

static void xattr_calls(const char *path)
{
    char buf[256];
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    setxattr(path, "user.text", "some value", 10, 0);
    lsetxattr(path, "user.bytes", "\1\2\0\3", 4, XATTR_CREATE);
    fsetxattr(fd, "user.asciz", "ends in NUL", 12, 0);
    fsetxattr(fd, "user.text", "again", 5, XATTR_CREATE);  /* EEXIST */
    setxattr(path, "user.none", "x", 1, XATTR_REPLACE);  /* ENODATA */
    setxattr(path, "user.long", "a value longer than thirty-two bytes", 36, 0);
    getxattr(path, "user.text", buf, sizeof buf);
    getxattr(path, "user.text", NULL, 0);
    lgetxattr(path, "user.asciz", buf, sizeof buf);
    fgetxattr(fd, "user.bytes", buf, sizeof buf);
    fgetxattr(fd, "user.long", buf, sizeof buf);
    getxattr(path, "user.none", buf, sizeof buf);  /* ENODATA */
    getxattr(path, "user.text", buf, 2);  /* ERANGE */
    listxattr(path, buf, sizeof buf);
    llistxattr(path, NULL, 0);
    flistxattr(fd, buf, 3);  /* ERANGE */
    removexattr(path, "user.text");
    lremovexattr(path, "user.bytes");
    fremovexattr(fd, "user.asciz");
    fremovexattr(fd, "user.long");
    close(fd);
    unlink(path);
}

static void remap_calls(void)
{
    void *fixed = (void *)0x7e0000000000;
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *q = mremap(p, 8192, 16384, MREMAP_MAYMOVE);
    mremap(q, 16384, 8192, 0);
    q = mremap(q, 8192, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, fixed);
    mremap(q, 8192, 8192, MREMAP_FIXED, fixed);  /* EINVAL: FIXED without MAYMOVE */
    syscall(SYS_mremap, q, 8192, 8192, 0x40, 0);  /* EINVAL: an unknown flag (glibc refuses it itself) */
    munmap(q, 8192);
}

static void offset_calls(void)
{
    int pipefd[2];
    int in = open("/proc/self/exe", O_RDONLY), out = open("/dev/null", O_WRONLY);
    off_t off = 2;
    sendfile(out, in, &off, 5);
    sendfile(out, in, NULL, 5);
    off = 1L << 40;
    sendfile(out, in, &off, 5);  /* at the end of the file: 0, the offset as it was */
    loff_t o1 = 1, o2 = 0;
    copy_file_range(in, &o1, -1, &o2, 4, 0);  /* EBADF */
    copy_file_range(in, NULL, -1, NULL, 4, 0);
    pipe(pipefd);
    splice(in, &o1, pipefd[1], NULL, 4, SPLICE_F_MOVE | SPLICE_F_MORE);
    tee(pipefd[0], out, 4, SPLICE_F_NONBLOCK);  /* EINVAL: not a pipe */
    struct iovec iov = {.iov_base = "gift", .iov_len = 4};
    vmsplice(pipefd[1], &iov, 1, SPLICE_F_GIFT);
    vmsplice(pipefd[1], &iov, 1, 0x10);  /* EINVAL: an unknown flag */
    close(pipefd[0]);
    close(pipefd[1]);
    close(in);
    close(out);
}

static void clock_calls(void)
{
    struct tms t;
    struct timeval tv;
    struct timezone tz;
    time_t now;
    times(&t);
    times(NULL);
    syscall(SYS_gettimeofday, &tv, NULL);
    syscall(SYS_gettimeofday, &tv, &tz);
    syscall(SYS_gettimeofday, (void *)8, NULL);  /* EFAULT */
    syscall(SYS_time, NULL);
    syscall(SYS_time, &now);
}

static void misc_calls(void)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof one, &one);
    unsigned cpu;
    syscall(SYS_getcpu, &cpu, NULL, NULL);
    syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU, 0);
    syscall(SYS_membarrier, 0x4000, 2, 0);  /* EINVAL: unknown command and flag */
    int self = getpid();
    close(syscall(SYS_pidfd_open, self, 0));
    close(syscall(SYS_pidfd_open, self, O_NONBLOCK));
    syscall(SYS_pidfd_open, self, 1);  /* EINVAL */
    static char page[4096] __attribute__((aligned(4096)));
    mlock2(page, sizeof page, MLOCK_ONFAULT);
    munlock(page, sizeof page);
    syscall(SYS_mlock2, page, sizeof page, 2);  /* EINVAL */
}

static void mount_calls(const char *dir)
{
    unshare(CLONE_NEWNS);
    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
    mkdir(dir, 0755);
    mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=700");
    mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_NOSUID, "size=2m");
    mount(dir, dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
    mount(dir, dir, "ignored", MS_BIND, "ignored");
    mount("tmpfs", dir, "tmpfs", MS_MGC_VAL | MS_NOATIME, NULL);
    mount("tmpfs", dir, "tmpfs", 0x80000000UL << 1, NULL);  /* EINVAL: above the known flags */
    umount2(dir, MNT_DETACH);
    umount2(dir, MNT_DETACH);
    umount2(dir, 0);
    umount2(dir, 0);
    int fd = open("/proc/self/ns/mnt", O_RDONLY);
    setns(fd, CLONE_NEWNS);
    setns(fd, 0);
    setns(fd, CLONE_NEWNET | 1);  /* EINVAL */
    close(fd);
    rmdir(dir);
}

static void syslog_calls(void)
{
    char buf[64];
    klogctl(10, NULL, 0);  /* SIZE_BUFFER */
    klogctl(9, NULL, 0);  /* SIZE_UNREAD */
    klogctl(3, buf, sizeof buf);  /* READ_ALL */
    klogctl(3, (char *)8, sizeof buf);  /* EFAULT */
    klogctl(8, NULL, 4);  /* CONSOLE_LEVEL */
    klogctl(8, NULL, 42);  /* EINVAL: no such level */
    klogctl(77, buf, 3);  /* EINVAL */
    sync_file_range(1, 0, 0, SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    sync_file_range(1, 0, 0, 8);  /* EINVAL */
}

static void ipc_calls(void)
{
    int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    shmget(0x7e57ab1e, 4096, 0);  /* ENOENT */
    shmget(IPC_PRIVATE, 4096, SHM_NORESERVE | 0644);
    void *at = shmat(shm, NULL, SHM_RDONLY);
    shmdt(at);
    shmat(shm, NULL, 0x100000);
    shmctl(shm, IPC_RMID, NULL);
    shmctl(shm, 99, NULL);  /* EINVAL */
    int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | IPC_EXCL | 0600);
    semget(0x7e57ab1e, 1, 0);  /* ENOENT */
    semctl(sem, 0, IPC_RMID);
    int msq = msgget(IPC_PRIVATE, IPC_CREAT | 0640);
    msgget(IPC_PRIVATE, 0);
    msgctl(msq, IPC_RMID, NULL);
    msgctl(msq, 77, NULL);  /* EINVAL */
}

static void sigwait_calls(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    struct timespec soon = {0, 1000};
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigtimedwait(&set, NULL, &soon);  /* EAGAIN */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_value.sival_int = 5;
    syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &si);
    memset(&si, 0, sizeof si);
    sigtimedwait(&set, &si, &soon);
    syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, (void *)8);  /* EFAULT */
    if (fork() == 0)
        _exit(3);
    siginfo_t w;
    memset(&w, 0, sizeof w);
    waitid(P_ALL, 0, &w, WEXITED);
    memset(&w, 0, sizeof w);
    waitid(P_ALL, 0, &w, WEXITED | WNOHANG);  /* ECHILD */
}

static void seccomp_calls(void)
{
    unsigned int action = SECCOMP_RET_KILL_PROCESS;
    syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
    action = 0x12345678;
    syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);  /* EOPNOTSUPP */
    struct seccomp_notif_sizes sizes;
    syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes);
    syscall(SYS_seccomp, 99, 0, NULL);  /* EINVAL */
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    struct sock_filter allow[] = {{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}};
    struct sock_fprog prog = {1, allow};
    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_TSYNC, &prog);
    syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 1, NULL);  /* EINVAL */
}

/* the mount API's constants, from linux/mount.h (which clashes with sys/mount.h) */
#define TS_FSOPEN_CLOEXEC 1
#define TS_FSCONFIG_SET_FLAG 0
#define TS_FSCONFIG_SET_STRING 1
#define TS_FSCONFIG_CMD_CREATE 6
#define TS_FSMOUNT_CLOEXEC 1
#define TS_MOUNT_ATTR_RDONLY 1
#define TS_MOUNT_ATTR_NOSUID 2
#define TS_MOUNT_ATTR_NODEV 4
#define TS_MOVE_MOUNT_F_EMPTY_PATH 4
#define TS_OPEN_TREE_CLONE 1
#define TS_FSPICK_CLOEXEC 1

struct ts_mount_attr {
    unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

static void newmount_calls(const char *dir)
{
    unshare(CLONE_NEWNS);
    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    mkdir(dir, 0755);
    int fs = syscall(SYS_fsopen, "tmpfs", TS_FSOPEN_CLOEXEC);
    syscall(SYS_fsconfig, fs, TS_FSCONFIG_SET_STRING, "size", "1m", 0);
    syscall(SYS_fsconfig, fs, TS_FSCONFIG_SET_FLAG, "ro", NULL, 0);
    syscall(SYS_fsconfig, fs, TS_FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    syscall(SYS_fsconfig, fs, 42, NULL, NULL, 0);  /* EOPNOTSUPP */
    int mnt = syscall(SYS_fsmount, fs, TS_FSMOUNT_CLOEXEC, TS_MOUNT_ATTR_NODEV | TS_MOUNT_ATTR_NOSUID);
    syscall(SYS_move_mount, mnt, "", AT_FDCWD, dir, TS_MOVE_MOUNT_F_EMPTY_PATH);
    int tree = syscall(SYS_open_tree, AT_FDCWD, dir, TS_OPEN_TREE_CLONE | O_CLOEXEC);
    struct ts_mount_attr attr = {.attr_set = TS_MOUNT_ATTR_RDONLY};
    syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr);
    close(syscall(SYS_fspick, AT_FDCWD, dir, TS_FSPICK_CLOEXEC));
    close(tree);
    close(mnt);
    close(fs);
    umount2(dir, MNT_DETACH);
    rmdir(dir);
}

static void uring_calls(void)
{
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    int ring = syscall(SYS_io_uring_setup, 4, &params);
    syscall(SYS_io_uring_enter, ring, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0);
    syscall(SYS_io_uring_enter, ring, 0, 0, 0x4000, NULL, 0);  /* EINVAL: an unknown flag */
    syscall(SYS_io_uring_register, ring, IORING_REGISTER_PROBE, NULL, 0);  /* EINVAL */
    syscall(SYS_io_uring_register, ring, IORING_UNREGISTER_BUFFERS, NULL, 0);  /* ENXIO */
    syscall(SYS_io_uring_register, ring, 9999, NULL, 0);  /* EINVAL */
    close(ring);
}

static void mq_calls(void)
{
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64}, old, nonblock = {.mq_flags = O_NONBLOCK};
    mq_unlink("/tracespec-rules9");
    mqd_t q = mq_open("/tracespec-rules9", O_CREAT | O_RDWR | O_EXCL, 0600, &attr);
    mqd_t again = mq_open("/tracespec-rules9", O_RDONLY);
    mq_open("/tracespec-rules9", O_CREAT | O_WRONLY, 0644, NULL);
    mq_send(q, "hello", 5, 3);
    char buf[64];
    unsigned int prio;
    mq_receive(q, buf, sizeof buf, &prio);
    struct timespec soon = {0, 1000};
    mq_timedreceive(q, buf, sizeof buf, &prio, &soon);  /* ETIMEDOUT */
    mq_timedreceive(q, buf, 2, &prio, &soon);  /* EMSGSIZE */
    mq_getattr(q, &old);
    mq_setattr(q, &nonblock, &old);
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    mq_notify(q, &ev);
    mq_notify(q, NULL);
    mq_close(again);
    mq_close(q);
    mq_unlink("/tracespec-rules9");
}

static void fanotify_calls(void)
{
    int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY);
    fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN | FAN_CLOSE_WRITE | FAN_ONDIR, AT_FDCWD, "/");
    fanotify_mark(fan, FAN_MARK_REMOVE | FAN_MARK_MOUNT, FAN_ACCESS, AT_FDCWD, "/");  /* ENOENT */
    fanotify_init(FAN_CLASS_CONTENT | FAN_REPORT_FID, O_RDWR);  /* EINVAL */
    close(fan);
    void *head;
    size_t len;
    syscall(SYS_get_robust_list, 0, &head, &len);
    syscall(SYS_get_robust_list, 0, (void *)8, &len);  /* EFAULT */
    syscall(SYS_pkey_alloc, 0, 2);
    syscall(SYS_pkey_alloc, 1, 8);  /* EINVAL */
}

static void utimes_calls(const char *path)
{
    close(open(path, O_CREAT | O_WRONLY, 0644));
    struct utimbuf ub = {1000000000, 1700000000};
    syscall(SYS_utime, path, &ub);
    syscall(SYS_utime, path, NULL);
    ub.actime = 0;  /* the epoch: no date */
    syscall(SYS_utime, path, &ub);
    struct timeval tv[2] = {{1000000000, 5}, {1700000000, 999999}};
    syscall(SYS_utimes, path, tv);
    syscall(SYS_utimes, path, NULL);
    syscall(SYS_futimesat, AT_FDCWD, path, tv);
    syscall(SYS_utimes, path, (void *)8);  /* EFAULT */
    unlink(path);
    aio_context_t ctx = 0;
    syscall(SYS_io_setup, 4, &ctx);
    syscall(SYS_io_destroy, ctx);
    syscall(SYS_io_setup, 4, (void *)8);  /* EFAULT */
}

int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "";
    marker();
    if (!strcmp(group, "altstack"))
        altstack_calls();
    else if (!strcmp(group, "ids"))
        id_calls();
    else if (!strcmp(group, "caps"))
        cap_calls();
    else if (!strcmp(group, "persona"))
        persona_calls();
    else if (!strcmp(group, "ioprio"))
        ioprio_calls();
    else if (!strcmp(group, "xattr") && argc > 2)
        xattr_calls(argv[2]);
    else if (!strcmp(group, "remap"))
        remap_calls();
    else if (!strcmp(group, "offsets"))
        offset_calls();
    else if (!strcmp(group, "clock"))
        clock_calls();
    else if (!strcmp(group, "misc"))
        misc_calls();
    else if (!strcmp(group, "mount") && argc > 2)
        mount_calls(argv[2]);
    else if (!strcmp(group, "syslog"))
        syslog_calls();
    else if (!strcmp(group, "ipc"))
        ipc_calls();
    else if (!strcmp(group, "sigwait"))
        sigwait_calls();
    else if (!strcmp(group, "seccomp"))
        seccomp_calls();
    else if (!strcmp(group, "newmount") && argc > 2)
        newmount_calls(argv[2]);
    else if (!strcmp(group, "uring"))
        uring_calls();
    else if (!strcmp(group, "mq"))
        mq_calls();
    else if (!strcmp(group, "fanotify"))
        fanotify_calls();
    else if (!strcmp(group, "utimes") && argc > 2)
        utimes_calls(argv[2]);
    else
        return 2;
    return 0;
}
