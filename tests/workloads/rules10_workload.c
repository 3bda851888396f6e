/* Syscalls strace decodes that tracespec printed as bare numbers (issue 19), second part: argv[1] names
 * the group, whose calls follow the marker close(-4242).
 * "admin": the administrator's calls, each made so that it fails before it acts (run as root, it must
 *   not reboot, load a module or add swap): reboot with a wrong first magic number (each command,
 *   LINUX_REBOOT_CMD_RESTART2's argument string, an unknown command and magic), userfaultfd's flags,
 *   delete_module's and finit_module's flags (a module that does not exist, a bad descriptor),
 *   init_module's image and parameters (an unreadable image), swapon's flags and priority and swapoff on
 *   /dev/null (not a swap area), kexec_load's architecture, flags and segments with flags the kernel
 *   refuses, kexec_file_load's command line and flags with bad descriptors;
 * "schedattr": sched_setattr's and sched_getattr's struct sched_attr (each size the kernel knows, a size
 *   smaller than the first version's, one larger than the kernel knows, the flags that keep the policy or
 *   the parameters, an unreadable struct);
 * "vm": process_vm_readv and process_vm_writev on the process itself: the local iovecs with their bytes,
 *   the remote ones as addresses and lengths, a failing call;
 * "sandbox": Landlock's three calls: the ABI version asked for, a ruleset made (an attribute struct
 *   larger than strace knows, one too small), a path-beneath rule added (an unknown rule type), and
 *   landlock_restrict_self with flags the kernel refuses (nothing is restricted);
 * "pages": futex_waitv's waiters (a value that differs: it returns at once; an unknown flag) and
 *   move_pages' pages, nodes and the status it writes (a page of the process's own, asked about and moved
 *   to node 0);
 * "timex": adjtimex and clock_adjtime only reading the clock (no mode, or ADJ_OFFSET_SS_READ): the struct
 *   timex the kernel wrote back and the state returned by name, an unreadable struct, a clock that
 *   cannot be adjusted;
 * "handles": name_to_handle_at on argv[2] (a handle as large as the kernel makes, one too small for it:
 *   the size the kernel needs written back, a flag it refuses) and open_by_handle_at with the handle;
 * "ptrace": a child seized and stopped (PTRACE_SEIZE, PTRACE_INTERRUPT), its memory, struct user and
 *   registers read and written back unchanged, its siginfo, event message and signal mask, its options,
 *   then resumed, detached and killed; requests the kernel refuses (attaching to itself, an unknown
 *   request). Traced without following children: the child is the parent's tracee, not the tracer's;
 * "ipcctl": System V shared memory, a message queue and a semaphore set made private, their structs read
 *   (IPC_STAT, the INFO commands), set (IPC_SET) and their ids removed; a STAT of an id that is gone;
 * "keys": add_key's payload and keyrings by name (a key added to the process's own keyring, which ends
 *   with it), request_key's, an id that names no keyring;
 * "misc2": openat2's struct open_how (flags, a mode only where it is used, resolve flags, a size too
 *   small), semop's and semtimedop's operations (a semaphore set of the process's own, removed after),
 *   process_madvise's remote iovecs and advice on a pidfd of the process itself.
 * Every call is deterministic and leaves the process and the machine as it found them. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <linux/reboot.h>
#include <time.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/timex.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define BAD_MAGIC1 0xdeadbeefU

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static void *unreadable(void)
{
    /* a page that exists but may not be read: a copy from it faults */
    return mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

struct kexec_segment_raw {
    const void *buf;
    size_t bufsz;
    const void *mem;
    size_t memsz;
};

static void admin_calls(void)
{
    static const unsigned int cmds[] = {LINUX_REBOOT_CMD_RESTART, LINUX_REBOOT_CMD_HALT, LINUX_REBOOT_CMD_CAD_ON,
                                        LINUX_REBOOT_CMD_CAD_OFF, LINUX_REBOOT_CMD_POWER_OFF,
                                        LINUX_REBOOT_CMD_SW_SUSPEND, LINUX_REBOOT_CMD_KEXEC, 0x12345678};
    /* the first magic number is wrong in every call: the kernel refuses it before it looks at the rest */
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        syscall(SYS_reboot, BAD_MAGIC1, LINUX_REBOOT_MAGIC2, cmds[i], NULL);
    syscall(SYS_reboot, BAD_MAGIC1, LINUX_REBOOT_MAGIC2A, LINUX_REBOOT_CMD_RESTART2, "again");
    syscall(SYS_reboot, BAD_MAGIC1, 0x1234, LINUX_REBOOT_CMD_RESTART2, "a restart command longer than thirty-two bytes");
    syscall(SYS_reboot, LINUX_REBOOT_MAGIC1 ^ 1, LINUX_REBOOT_MAGIC2C, LINUX_REBOOT_CMD_RESTART2, NULL);

    int uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (uffd >= 0)
        close(uffd);
    syscall(SYS_userfaultfd, 0x8000 | 1);  /* an unknown flag: EINVAL */

    syscall(SYS_delete_module, "tracespec_no_such_module", O_NONBLOCK | O_TRUNC);
    syscall(SYS_delete_module, "tracespec_no_such_module", 0);
    syscall(SYS_delete_module, "tracespec_no_such_module", 0x10);
    void *image = unreadable();
    syscall(SYS_init_module, image, 4096, "debug=1");
    syscall(SYS_init_module, NULL, 0, "");
    syscall(SYS_finit_module, -1, "", 0);
    syscall(SYS_finit_module, -1, "x=y", 3);  /* MODULE_INIT_IGNORE_MODVERSIONS|MODULE_INIT_IGNORE_VERMAGIC */
    syscall(SYS_finit_module, -1, "", 0x40);  /* unknown: EINVAL */

    syscall(SYS_swapon, "/dev/null", 0);
    syscall(SYS_swapon, "/dev/null", 0x8000 | 7);        /* SWAP_FLAG_PREFER, priority 7 */
    syscall(SYS_swapon, "/dev/null", 0x10000 | 0x40000); /* SWAP_FLAG_DISCARD|SWAP_FLAG_DISCARD_PAGES */
    syscall(SYS_swapon, "/dev/null", 0x100000 | 0x8000 | 42);
    syscall(SYS_swapoff, "/dev/null");

    struct kexec_segment_raw segs[2] = {{"abc", 3, (void *)0x100000, 4096}, {NULL, 0, (void *)0x200000, 8192}};
    /* flags the kernel refuses (an unknown bit), so that nothing is loaded or unloaded */
    syscall(SYS_kexec_load, 0x100000UL, 2UL, segs, (62UL << 16) | 0x1 | 0x100);
    syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x100UL);
    syscall(SYS_kexec_load, 0UL, 1UL, segs, (777UL << 16) | 0x2);
    syscall(SYS_kexec_load, 0UL, 17UL, segs, 0x100UL);
    syscall(SYS_kexec_file_load, -1, -1, 8UL, "quiet\0x", 0x2 | 0x4);
    syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 0x80UL);
    munmap(image, 4096);
}

/* struct sched_attr as the kernel's uapi defines it (glibc 2.36 has none) */
struct sched_attr_raw {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
    uint32_t sched_util_min;
    uint32_t sched_util_max;
};

static void schedattr_calls(void)
{
    struct sched_attr_raw attr;
    unsigned char big[80];
    memset(&attr, 0, sizeof(attr));
    syscall(SYS_sched_getattr, 0, &attr, 48, 0);
    syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0);
    syscall(SYS_sched_getattr, 0, &attr, 40, 0);  /* too small: EINVAL */
    memset(big, 0, sizeof(big));
    syscall(SYS_sched_getattr, 0, big, sizeof(big), 0);
    syscall(SYS_sched_getattr, 0, unreadable(), sizeof(attr), 0);
    syscall(SYS_sched_getattr, 0, &attr, 0, 0);
    syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 1);

    memset(&attr, 0, sizeof(attr));
    attr.size = 48;
    attr.sched_policy = SCHED_BATCH;
    attr.sched_nice = 3;
    syscall(SYS_sched_setattr, 0, &attr, 0);
    attr.sched_policy = SCHED_OTHER;
    attr.sched_nice = 0;
    syscall(SYS_sched_setattr, 0, &attr, 0);
    attr.size = sizeof(attr);
    attr.sched_flags = 0x10 | 0x8;  /* SCHED_FLAG_KEEP_PARAMS|SCHED_FLAG_KEEP_POLICY */
    syscall(SYS_sched_setattr, 0, &attr, 0);
    attr.sched_flags = 0x8;  /* SCHED_FLAG_KEEP_POLICY */
    syscall(SYS_sched_setattr, 0, &attr, 0);
    attr.sched_flags = 0x80 | 0x1;  /* an unknown flag */
    syscall(SYS_sched_setattr, 0, &attr, 0);
    attr.sched_flags = 0;
    attr.size = 0;  /* the first version's size */
    syscall(SYS_sched_setattr, 0, &attr, 0);
    attr.size = 20;  /* smaller than any version */
    syscall(SYS_sched_setattr, 0, &attr, 0);
    memset(big, 0, sizeof(big));
    memcpy(big, &attr, sizeof(attr));
    ((struct sched_attr_raw *)big)->size = sizeof(big);
    big[70] = 1;  /* bytes the kernel does not know, not zero: E2BIG */
    syscall(SYS_sched_setattr, 0, big, 0);
    syscall(SYS_sched_setattr, 0, unreadable(), 0);
    syscall(SYS_sched_setattr, 0, NULL, 0);
    attr.size = 48;
    syscall(SYS_sched_setattr, 0, &attr, 5);  /* flags must be 0 */
}

static void vm_calls(void)
{
    char src[16] = "remote bytes", dst[16] = "", half[6] = "";
    struct iovec local[2] = {{dst, 6}, {half, 6}};
    struct iovec remote[1] = {{src, 12}};
    pid_t self = getpid();
    syscall(SYS_process_vm_readv, self, local, 2, remote, 1, 0);
    struct iovec out[1] = {{"written", 7}};
    struct iovec there[2] = {{dst, 3}, {half, 4}};
    syscall(SYS_process_vm_writev, self, out, 1, there, 2, 0);
    syscall(SYS_process_vm_readv, self, local, 2, remote, 1, 1);  /* flags must be 0 */
    struct iovec bad[1] = {{(void *)8, 4}};
    syscall(SYS_process_vm_readv, self, local, 1, bad, 1, 0);  /* EFAULT */
    syscall(SYS_process_vm_writev, self, NULL, 0, NULL, 0, 0);
}

static void sandbox_calls(void)
{
    syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    struct {
        uint64_t handled_access_fs;
        uint64_t more;
    } attr = {LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, 0};
    int ruleset = syscall(SYS_landlock_create_ruleset, &attr, 8, 0);
    int larger = syscall(SYS_landlock_create_ruleset, &attr, 16, 0);  /* its tail is zero: accepted */
    if (larger >= 0)
        close(larger);
    syscall(SYS_landlock_create_ruleset, &attr, 4, 0);
    attr.handled_access_fs |= 1ULL << 40;  /* an unknown right: EINVAL */
    syscall(SYS_landlock_create_ruleset, &attr, 8, 0);
    syscall(SYS_landlock_create_ruleset, &attr, 8, 2);
    struct landlock_path_beneath_attr rule = {LANDLOCK_ACCESS_FS_READ_FILE, AT_FDCWD};
    syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    rule.parent_fd = open("/", O_PATH | O_CLOEXEC);
    syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
    close(rule.parent_fd);
    syscall(SYS_landlock_add_rule, ruleset, 7, &rule, 0);
    syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, NULL, 0);
    syscall(SYS_landlock_restrict_self, ruleset, 0x80);  /* refused: nothing is restricted */
    if (ruleset >= 0)
        close(ruleset);
}

struct futex_waitv_raw {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

static void pages_calls(void)
{
    static uint32_t word = 5;
    struct futex_waitv_raw w[2] = {{4, (uintptr_t)&word, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0},
                                   {5, (uintptr_t)&word, FUTEX_32, 0}};
    struct timespec ts = {1, 500};  /* long past, on the monotonic clock */
    /* the first waiter's value is not the word's: it returns at once (EAGAIN) */
    syscall(SYS_futex_waitv, w, 2, 0, &ts, CLOCK_MONOTONIC);
    syscall(SYS_futex_waitv, w, 1, 0, NULL, CLOCK_REALTIME);
    w[1].flags = 0x40;
    w[1].reserved = 1;
    syscall(SYS_futex_waitv, w, 2, 0, NULL, CLOCK_MONOTONIC);  /* EINVAL */
    syscall(SYS_futex_waitv, NULL, 0, 1, NULL, 77);

    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 1;
    page[4096] = 1;
    void *pages[2] = {page, page + 4096};
    int nodes[2] = {0, 0}, status[2] = {-1, -1};
    syscall(SYS_move_pages, 0, 2, pages, NULL, status, 0);
    syscall(SYS_move_pages, 0, 2, pages, nodes, status, 2);  /* MPOL_MF_MOVE, to the node they are on */
    munmap(page, 8192);
}

static void timex_calls(void)
{
    /* reads only: a mode that sets anything would change the machine's clock */
    struct timex tx;
    memset(&tx, 0, sizeof(tx));
    syscall(SYS_adjtimex, &tx);
    memset(&tx, 0, sizeof(tx));
    tx.modes = ADJ_OFFSET_SS_READ;
    syscall(SYS_adjtimex, &tx);
    syscall(SYS_adjtimex, NULL);
    memset(&tx, 0, sizeof(tx));
    syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
    memset(&tx, 0, sizeof(tx));
    syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx);
}

struct handle_raw {
    unsigned int handle_bytes;
    int handle_type;
    unsigned char f_handle[128];
};

static void handle_calls(const char *path)
{
    struct handle_raw h;
    int mount_id = 0;
    memset(&h, 0, sizeof(h));
    h.handle_bytes = sizeof(h.f_handle);
    syscall(SYS_name_to_handle_at, AT_FDCWD, path, &h, &mount_id, 0);
    int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct handle_raw small;
    memset(&small, 0, sizeof(small));
    small.handle_bytes = 0;  /* too small: EOVERFLOW, and the size needed written back */
    syscall(SYS_name_to_handle_at, dir, "", &small, &mount_id, AT_EMPTY_PATH);
    syscall(SYS_name_to_handle_at, AT_FDCWD, path, &small, &mount_id, 0x2);  /* EINVAL */
    syscall(SYS_name_to_handle_at, AT_FDCWD, path, NULL, &mount_id, AT_SYMLINK_FOLLOW);
    int fd = syscall(SYS_open_by_handle_at, dir, &h, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        close(fd);
    syscall(SYS_open_by_handle_at, dir, NULL, O_RDONLY);
    close(dir);
}

static volatile unsigned long peeked = 0x1122334455667788UL;

static void ptrace_calls(void)
{
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    long out = 0;
    int status;
    struct timespec settle = {0, 200 * 1000 * 1000};  /* the child is in pause() by then */
    nanosleep(&settle, NULL);
    syscall(SYS_ptrace, PTRACE_SEIZE, child, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT);
    syscall(SYS_ptrace, PTRACE_INTERRUPT, child, 0, 0);
    waitpid(child, &status, 0);
    syscall(SYS_ptrace, PTRACE_PEEKDATA, child, &peeked, &out);
    syscall(SYS_ptrace, PTRACE_PEEKTEXT, child, 8, &out);  /* nothing mapped there: EIO */
    syscall(SYS_ptrace, PTRACE_POKEDATA, child, &peeked, 0x42);
    syscall(SYS_ptrace, PTRACE_PEEKUSER, child, offsetof(struct user, regs.orig_rax), &out);
    syscall(SYS_ptrace, PTRACE_PEEKUSER, child, offsetof(struct user, regs.fs_base), &out);
    syscall(SYS_ptrace, PTRACE_PEEKUSER, child, offsetof(struct user, u_debugreg) + 8, &out);
    syscall(SYS_ptrace, PTRACE_PEEKUSER, child, 4096, &out);  /* beyond struct user: EIO */
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    syscall(SYS_ptrace, PTRACE_GETSIGINFO, child, 0, &si);
    unsigned long msg = 1;
    syscall(SYS_ptrace, PTRACE_GETEVENTMSG, child, 0, &msg);
    unsigned long mask = 0;
    syscall(SYS_ptrace, PTRACE_GETSIGMASK, child, 8, &mask);
    mask = 1UL << (SIGUSR1 - 1);
    syscall(SYS_ptrace, PTRACE_SETSIGMASK, child, 8, &mask);
    syscall(SYS_ptrace, PTRACE_SETSIGMASK, child, 4, &mask);  /* a size the kernel refuses */
    struct user_regs_struct regs;
    syscall(SYS_ptrace, PTRACE_GETREGS, child, 0, &regs);
    struct user_fpregs_struct fpregs;
    syscall(SYS_ptrace, PTRACE_GETFPREGS, child, 0, &fpregs);
    struct iovec iov = {&regs, sizeof(regs) + 64};
    syscall(SYS_ptrace, PTRACE_GETREGSET, child, NT_X86_XSTATE + 0x1000, &iov);  /* an unknown set: EINVAL */
    syscall(SYS_ptrace, PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | 0x1000000);
    syscall(SYS_ptrace, PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACECLONE);
    syscall(SYS_ptrace, PTRACE_ATTACH, getpid(), 0, 0);  /* itself: EPERM */
    syscall(SYS_ptrace, 0x4321, child, 0, 0);  /* unknown: EIO */
    syscall(SYS_ptrace, PTRACE_CONT, child, 0, 0);
    syscall(SYS_ptrace, PTRACE_INTERRUPT, child, 0, 0);
    waitpid(child, &status, 0);
    syscall(SYS_ptrace, PTRACE_DETACH, child, 0, SIGCONT);
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
}

union semun_raw {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *info;
};

static void ipcctl_calls(void)
{
    struct shmid_ds shm;
    struct shminfo shminfo;
    struct msqid_ds msq;
    struct msginfo msginfo;
    struct semid_ds sem;
    struct seminfo seminfo;
    int shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    shmctl(shmid, IPC_STAT, &shm);
    shm.shm_perm.mode = 0640;
    shmctl(shmid, IPC_SET, &shm);
    shmctl(shmid, IPC_INFO, (struct shmid_ds *)&shminfo);
    shmctl(shmid, SHM_INFO, (struct shmid_ds *)&shminfo);
    shmctl(shmid, IPC_RMID, NULL);
    shmctl(shmid, IPC_STAT, &shm);  /* gone: EINVAL */

    int msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    msgctl(msqid, IPC_STAT, &msq);
    msq.msg_qbytes = 8192;
    msgctl(msqid, IPC_SET, &msq);
    msgctl(msqid, IPC_INFO, (struct msqid_ds *)&msginfo);
    msgctl(msqid, MSG_INFO, (struct msqid_ds *)&msginfo);
    msgctl(msqid, IPC_RMID, NULL);

    int semid = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    union semun_raw arg;
    arg.buf = &sem;
    semctl(semid, 0, IPC_STAT, arg);
    sem.sem_perm.mode = 0660;
    semctl(semid, 0, IPC_SET, arg);
    arg.info = &seminfo;
    semctl(semid, 0, IPC_INFO, arg);
    semctl(semid, 0, SEM_INFO, arg);
    semctl(semid, 1, GETVAL);
    semctl(semid, 0, IPC_RMID);
}

static void message_calls(void)
{
    struct { long mtype; char mtext[64]; } out = {7, "a message of 40 bytes, more than -s 32:!"}, in = {0, ""};
    int msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    msgsnd(msqid, &out, 5, 0);
    msgsnd(msqid, &out, 40, IPC_NOWAIT);
    msgsnd(msqid, &out, 0, IPC_NOWAIT);
    msgrcv(msqid, &in, sizeof in.mtext, 0, 0);                       /* the text as long as msgsz says */
    msgrcv(msqid, &in, 3, 7, IPC_NOWAIT | MSG_NOERROR);              /* 40 bytes cut to 3 */
    msgrcv(msqid, &in, 2, 0, IPC_NOWAIT);                           /* the empty one: 0 */
    msgrcv(msqid, &in, sizeof in.mtext, 9, IPC_NOWAIT | MSG_EXCEPT); /* none: ENOMSG, the address */
    msgsnd(msqid, unreadable(), 4, IPC_NOWAIT);                     /* EFAULT: the address */
    msgsnd(msqid, &out, 4, 0x100000);                                /* an unknown flag */
    msgctl(msqid, IPC_RMID, NULL);
    msgsnd(msqid, &out, 4, 0);                                      /* gone: EINVAL */
}

static void key_calls(void)
{
    syscall(SYS_add_key, "user", "tracespec:test", "secret\0x", 8, -2);   /* KEY_SPEC_PROCESS_KEYRING */
    syscall(SYS_add_key, "user", "tracespec:test", NULL, 0, 12345);      /* no such keyring */
    syscall(SYS_request_key, "user", "tracespec:none", NULL, -1);        /* KEY_SPEC_THREAD_KEYRING: ENOKEY */
    syscall(SYS_request_key, "user", "tracespec:none", "callout", -42);  /* an unknown special id */
}

static void misc2_calls(const char *dir)
{
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = O_RDONLY | O_CLOEXEC | O_DIRECTORY;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH;
    int fd = syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
    if (fd >= 0)
        close(fd);
    memset(&how, 0, sizeof(how));
    how.flags = O_WRONLY | O_CREAT | O_EXCL;
    how.mode = 0600;
    fd = syscall(SYS_openat2, AT_FDCWD, "/nonexistent/dir/f", &how, sizeof(how));  /* ENOENT */
    how.flags = O_RDONLY;
    how.resolve = 0x1000;  /* unknown: EINVAL */
    syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
    syscall(SYS_openat2, AT_FDCWD, dir, &how, 8);  /* too small: EINVAL */

    int semid = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    struct sembuf ops[2] = {{0, 1, SEM_UNDO}, {1, 2, IPC_NOWAIT}};
    syscall(SYS_semop, semid, ops, 2);
    struct sembuf take = {0, -1, 0x4000};  /* an unknown flag */
    syscall(SYS_semop, semid, &take, 1);
    struct timespec wait = {0, 1000};
    struct sembuf more = {1, -5, 0};  /* more than it holds: the wait times out */
    syscall(SYS_semtimedop, semid, &more, 1, &wait);
    syscall(SYS_semtimedop, semid, &more, 1, (void *)8);  /* an unreadable timeout: EFAULT */
    semctl(semid, 0, IPC_RMID);

    int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct iovec vec[1] = {{page, 4096}};
    syscall(SYS_process_madvise, pidfd, vec, 1, MADV_COLD, 0);
    syscall(SYS_process_madvise, pidfd, vec, 1, MADV_DONTNEED, 0);  /* not an advice it takes: EINVAL */
    munmap(page, 4096);
    close(pidfd);
}

int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "";
    marker();
    if (!strcmp(group, "admin"))
        admin_calls();
    else if (!strcmp(group, "schedattr"))
        schedattr_calls();
    else if (!strcmp(group, "vm"))
        vm_calls();
    else if (!strcmp(group, "sandbox"))
        sandbox_calls();
    else if (!strcmp(group, "pages"))
        pages_calls();
    else if (!strcmp(group, "timex"))
        timex_calls();
    else if (!strcmp(group, "handles") && argc > 2)
        handle_calls(argv[2]);
    else if (!strcmp(group, "ptrace"))
        ptrace_calls();
    else if (!strcmp(group, "ipcctl"))
        ipcctl_calls();
    else if (!strcmp(group, "keys"))
        key_calls();
    else if (!strcmp(group, "messages"))
        message_calls();
    else if (!strcmp(group, "misc2") && argc > 2)
        misc2_calls(argv[2]);
    else
        return 2;
    return 0;
}
