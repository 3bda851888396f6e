/* Structs strace decodes on both sides of a call (issue 19): argv[1] names the group, whose calls follow
 * the marker close(-4242).
 * "threads": pthread_create, which glibc makes with clone3 and CLONE_PARENT_SETTID (strace prints the
 *   tid the kernel wrote, => {parent_tid=[N]});
 * "pidfd": clone3 called directly with CLONE_PIDFD (=> {pidfd=[N]}), with and without
 *   CLONE_PARENT_SETTID, a short struct of 64 bytes, and failing calls (a bad flag pair, a struct too
 *   small, a bad address);
 * "uring": io_uring_setup, whose struct io_uring_params the kernel fills in, with flags, with
 *   IORING_SETUP_ATTACH_WQ (a descriptor in the struct), and failing (unknown flags, reserved words set,
 *   no entries, a bad address);
 * "kcmp": kcmp of every type, KCMP_FILE of two processes' descriptors and KCMP_EPOLL_TFD's struct, an
 *   unknown type, a process that does not exist.
 * "oldclone": clone's parent_tid as the kernel wrote it (CLONE_PARENT_SETTID, CLONE_PIDFD).
 * Every call is deterministic. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/kcmp.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static void *thread_main(void *arg)
{
    return arg;
}

static int thread_calls(void)
{
    pthread_t t;
    marker();
    for (int i = 0; i < 2; i++) {
        if (pthread_create(&t, NULL, thread_main, NULL) != 0)
            return 1;
        pthread_join(t, NULL);
    }
    return 0;
}

static long clone3_child(struct clone_args *ca, size_t size)
{
    long r = syscall(SYS_clone3, ca, size);
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid(r, NULL, 0);
    return r;
}

static int pidfd_calls(void)
{
    int pidfd = -1, ptid = 0;
    struct clone_args ca;
    marker();
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
    ca.pidfd = (uintptr_t)&pidfd;
    ca.parent_tid = (uintptr_t)&ptid;
    ca.exit_signal = SIGCHLD;
    clone3_child(&ca, sizeof ca);
    close(pidfd);
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uintptr_t)&pidfd;
    ca.exit_signal = SIGCHLD;
    clone3_child(&ca, 64);                          /* the struct as Linux 5.3 defined it */
    ca.flags = CLONE_PIDFD | CLONE_THREAD;          /* EINVAL */
    clone3_child(&ca, sizeof ca);
    clone3_child(&ca, 32);                          /* smaller than any struct clone_args: EINVAL */
    clone3_child((struct clone_args *)8, sizeof ca); /* EFAULT */
    close(pidfd);
    return 0;
}

/* The old clone's parent_tid: the child's tid (CLONE_PARENT_SETTID), a pointer the kernel could not write
 * through, the pidfd (CLONE_PIDFD), and both flags at once (EINVAL) */
static long clone_child(unsigned long flags, int *parent_tid)
{
    long r = syscall(SYS_clone, flags | SIGCHLD, 0, parent_tid, 0, 0);
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid(r, 0, 0);
    return r;
}

static int oldclone_calls(void)
{
    int ptid = 0, pidfd = -1;
    marker();
    clone_child(CLONE_PARENT_SETTID, &ptid);
    clone_child(CLONE_PARENT_SETTID, (int *)1);
    clone_child(CLONE_PIDFD, &pidfd);
    close(pidfd);
    clone_child(CLONE_PIDFD | CLONE_PARENT_SETTID, &pidfd);
    return 0;
}

static int uring_calls(void)
{
    struct io_uring_params p;
    int fd, fd2;
    marker();
    memset(&p, 0, sizeof p);
    fd = syscall(SYS_io_uring_setup, 8, &p);
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    p.cq_entries = 64;
    fd2 = syscall(SYS_io_uring_setup, 4, &p);
    close(fd2);
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_ATTACH_WQ;
    p.wq_fd = fd;
    fd2 = syscall(SYS_io_uring_setup, 2, &p);
    close(fd2);
    close(fd);
    memset(&p, 0, sizeof p);
    p.flags = 0xffff0000;                           /* EINVAL */
    syscall(SYS_io_uring_setup, 4, &p);
    memset(&p, 0, sizeof p);
    p.resv[1] = 5;                                  /* EINVAL */
    syscall(SYS_io_uring_setup, 4, &p);
    syscall(SYS_io_uring_setup, 0, &p);             /* EINVAL */
    syscall(SYS_io_uring_setup, 4, (void *)8);      /* EFAULT */
    return 0;
}

static int kcmp_calls(void)
{
    pid_t me = getpid(), child;
    int fd = open("/etc/hostname", O_RDONLY), fd2 = dup(fd), ep = epoll_create1(0), evfd = eventfd(0, 0), go[2];
    struct epoll_event ev = {.events = EPOLLIN};
    struct kcmp_epoll_slot slot = {.efd = ep, .tfd = evfd, .toff = 0};
    if (pipe(go) != 0)
        return 1;
    child = fork();
    if (child == 0) {                               /* keeps its copies of the descriptors until told */
        char c;
        close(go[1]);
        read(go[0], &c, 1);
        _exit(0);
    }
    close(go[0]);
    epoll_ctl(ep, EPOLL_CTL_ADD, evfd, &ev);
    marker();
    syscall(SYS_kcmp, me, me, KCMP_FILE, fd, fd2);
    syscall(SYS_kcmp, me, child, KCMP_FILE, fd, fd);
    syscall(SYS_kcmp, me, me, KCMP_FILE, fd, 99);   /* EBADF */
    syscall(SYS_kcmp, me, me, KCMP_VM, 0, 0);
    syscall(SYS_kcmp, me, me, KCMP_FILES, 0, 0);
    syscall(SYS_kcmp, me, me, KCMP_FS, 1, 2);   /* no indexes: 1 and 2 not shown */
    syscall(SYS_kcmp, me, me, KCMP_SIGHAND, 0, 0);
    syscall(SYS_kcmp, me, me, KCMP_IO, 0, 0);
    syscall(SYS_kcmp, me, me, KCMP_SYSVSEM, 0, 0);
    syscall(SYS_kcmp, me, me, KCMP_EPOLL_TFD, evfd, &slot);
    syscall(SYS_kcmp, me, me, KCMP_EPOLL_TFD, fd, (void *)8); /* EFAULT */
    syscall(SYS_kcmp, me, me, 99, 1, 2);           /* EINVAL */
    syscall(SYS_kcmp, me, -1, KCMP_FILE, fd, fd2); /* ESRCH */
    close(go[1]);
    waitpid(child, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "threads"))
        return thread_calls();
    if (!strcmp(argv[1], "pidfd"))
        return pidfd_calls();
    if (!strcmp(argv[1], "uring"))
        return uring_calls();
    if (!strcmp(argv[1], "oldclone"))
        return oldclone_calls();
    if (!strcmp(argv[1], "kcmp"))
        return kcmp_calls();
    return 2;
}
