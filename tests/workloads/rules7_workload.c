/* Classes found by sweeping real programs under strace and tracespec (issue 19), each a group:
 * "xlat": values strace prints as more than one constant (a socket's kind and flags, statx's sync type
 * and AT_ flags) or as one constant with combinations of its own (futex's operation), the classes -X
 * raw and -X verbose show apart; "exec": an execve with more arguments than -s strings and a small
 * environment, which strace -v prints whole (argv[2] names the program run). argv[1] names the group; its calls follow the marker close(-4242).
 * Every call is deterministic. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static int xlat_calls(void)
{
    struct statx sx;
    int sv[2], fw = 0;
    marker();
    close(socket(AF_INET, SOCK_STREAM, 0));
    close(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    close(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    socket(AF_INET, 0, 0);                        /* a kind of 0: the whole as flags, "0" */
    socket(AF_INET, 0x40 | SOCK_CLOEXEC, 0);      /* SOCK_CLOEXEC|0x40 */
    socket(AF_INET, 0xf, 0);                      /* 0xf, with the comment SOCK_??? */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
        close(sv[0]);
        close(sv[1]);
    }
    syscall(SYS_statx, AT_FDCWD, "/", 0, STATX_BASIC_STATS, &sx);
    syscall(SYS_statx, AT_FDCWD, "/", AT_STATX_FORCE_SYNC, STATX_TYPE, &sx);
    syscall(SYS_statx, AT_FDCWD, "/", AT_STATX_DONT_SYNC | AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx);
    syscall(SYS_statx, AT_FDCWD, "/", AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &sx);
    syscall(SYS_statx, AT_FDCWD, "/", 0x6000, 0, &sx);                       /* both sync bits: EINVAL */
    syscall(SYS_statx, AT_FDCWD, "/", 0x6000 | 0x100 | 0x10000000, 0, &sx);
    syscall(SYS_statx, AT_FDCWD, "/", 0x10000000, 0, &sx);
    syscall(SYS_futex, &fw, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    syscall(SYS_futex, &fw, FUTEX_WAKE, 1, NULL, NULL, 0);
    syscall(SYS_futex, &fw, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0);   /* 0x101, with the comment FUTEX_??? */
    syscall(SYS_futex, &fw, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL,
            FUTEX_BITSET_MATCH_ANY);                                          /* EAGAIN: fw is 0 */
    syscall(SYS_futex, &fw, 0x7f, 1, NULL, NULL, 0);
    return 0;
}

static int catalogued_calls(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC), ev = eventfd(0, EFD_CLOEXEC);
    struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.u64 = 7};
    sigset_t m;
    struct sched_param sp = {0};
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m, NULL);
    marker();
    epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e);
    e.events = EPOLLOUT | EPOLLONESHOT;
    epoll_ctl(ep, EPOLL_CTL_MOD, ev, &e);
    epoll_ctl(ep, EPOLL_CTL_DEL, ev, NULL);
    epoll_ctl(ep, 9, ev, &e);                       /* an unknown operation: EINVAL */
    close(signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK));
    syscall(SYS_signalfd4, -1, &m, 4, 0);           /* a size not the kernel's: the address */
    int in = inotify_init1(IN_NONBLOCK);
    inotify_add_watch(in, "/tmp", IN_CREATE | IN_DELETE | IN_ONLYDIR);
    inotify_add_watch(in, "/tmp", IN_ALL_EVENTS | IN_MASK_ADD);
    close(in);
    close(memfd_create("rules7", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    sched_getparam(0, &sp);
    sched_setscheduler(0, SCHED_BATCH, &sp);
    sched_setscheduler(0, 42, &sp);
    sched_getscheduler(0);                          /* 3 (SCHED_BATCH) */
    sched_get_priority_max(SCHED_FIFO);
    sched_get_priority_min(SCHED_RR);
    setpriority(PRIO_PROCESS, 0, 5);
    getpriority(PRIO_PGRP, 0);
    getpriority(7, 0);
    close(ev);
    close(ep);
    return 0;
}

static int deleted_calls(const char *path)
{
    marker();
    int fd = open(path, O_CREAT | O_RDWR, 0600);
    if (write(fd, "x", 1) != 1)
        return 1;
    unlink(path);
    if (write(fd, "y", 1) != 1)
        return 1;
    fsync(fd);
    close(fd);
    int m = memfd_create("rules7", MFD_CLOEXEC);
    if (ftruncate(m, 4096))
        return 1;
    close(m);
    mknodat(AT_FDCWD, path, S_IFIFO | 0600, 0);   /* mknod's device shows only for a device */
    unlink(path);
    mknodat(AT_FDCWD, path, S_IFCHR | 0600, makedev(1, 3));
    unlink(path);
    syscall(SYS_mknod, path, S_IFREG | 0600, 5);
    unlink(path);
    return 0;
}

static int exec_calls(const char *prog)
{
    char *args[48], num[40][4];
    char *env[] = {"A=1", "TRACESPEC_LONG_VARIABLE=0123456789012345678901234567890123456789", "Z=", NULL};
    int n = 0;
    args[n++] = (char *)prog;
    for (int i = 0; i < 40; i++) {
        snprintf(num[i], sizeof num[i], "%d", i);
        args[n++] = num[i];
    }
    args[n] = NULL;
    marker();
    execve(prog, args, env);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "exec") && argc > 2)
        return exec_calls(argv[2]);
    if (!strcmp(argv[1], "deleted") && argc > 2)
        return deleted_calls(argv[2]);
    if (!strcmp(argv[1], "catalogued"))
        return catalogued_calls();
    if (!strcmp(argv[1], "xlat"))
        return xlat_calls();
    return 2;
}
