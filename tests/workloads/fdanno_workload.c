/* -y and -yy where strace annotates descriptors (tests/test_e2e_fdannotations.py): one group per
 * argument, each after close(-4242). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <linux/perf_event.h>
#include <linux/landlock.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <unistd.h>
#include <stddef.h>

static void marker(void) { close(-4242); }

static char out_path[64], sock_path[64], dgram_path[64];   /* short: a UNIX name the record holds whole */
static char long_path[100];   /* longer than a record holds: the name bind gave */

static void scm(void) {
    int sv[2], p[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    int f = open("/etc/hostname", O_RDONLY);
    int fds[3] = {f, p[0], sv[0]};
    char c = 'x';
    struct iovec iov = {&c, 1};
    union { char buf[CMSG_SPACE(sizeof fds)]; struct cmsghdr a; } u;
    struct msghdr m = {0};
    m.msg_iov = &iov; m.msg_iovlen = 1; m.msg_control = u.buf; m.msg_controllen = sizeof u.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cm), fds, sizeof fds);
    sendmsg(sv[0], &m, 0);
    close(f); close(p[0]);
    memset(u.buf, 0, sizeof u.buf);
    m.msg_controllen = sizeof u.buf;
    recvmsg(sv[1], &m, 0);
    int got[3];
    memcpy(got, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof got);
    char b[4];
    read(got[0], b, 1);
    write(p[1], "z", 1);
    read(got[1], b, 1);
    close(got[0]); close(got[1]); close(got[2]);
    close(sv[0]); close(sv[1]); close(p[1]);
}

/* The child passes a file and a pipe end on a socketpair and exits; the parent receives them after it
 * has gone, by recvmmsg, and uses them. */
static void scm_fork(void) {
    int sv[2], p[2];
    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        int f = open("/etc/hostname", O_RDONLY);
        int fds[2] = {f, p[1]};
        char c = 'x';
        struct iovec iov = {&c, 1};
        union { char buf[CMSG_SPACE(sizeof fds)]; struct cmsghdr a; } u;
        struct mmsghdr mm = {0};
        mm.msg_hdr.msg_iov = &iov; mm.msg_hdr.msg_iovlen = 1;
        mm.msg_hdr.msg_control = u.buf; mm.msg_hdr.msg_controllen = sizeof u.buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mm.msg_hdr);
        cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(cm), fds, sizeof fds);
        sendmmsg(sv[0], &mm, 1, 0);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    close(p[1]);
    char c;
    struct iovec iov = {&c, 1};
    union { char buf[CMSG_SPACE(2 * sizeof(int))]; struct cmsghdr a; } u;
    struct mmsghdr mm = {0};
    mm.msg_hdr.msg_iov = &iov; mm.msg_hdr.msg_iovlen = 1;
    mm.msg_hdr.msg_control = u.buf; mm.msg_hdr.msg_controllen = sizeof u.buf;
    recvmmsg(sv[1], &mm, 1, MSG_CMSG_CLOEXEC, NULL);
    int got[2];
    memcpy(got, CMSG_DATA(CMSG_FIRSTHDR(&mm.msg_hdr)), sizeof got);
    char b[4];
    read(got[0], b, 1);
    write(got[1], "z", 1);
    read(p[0], b, 1);
    close(got[0]); close(got[1]); close(p[0]); close(sv[0]); close(sv[1]);
}

static void udp(void) {
    int a = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(a, (void *)&sa, sizeof sa);
    socklen_t l = sizeof sa;
    getsockname(a, (void *)&sa, &l);
    int b = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(b, "u", 1, 0, (void *)&sa, sizeof sa);
    char c;
    read(a, &c, 1);
    connect(b, (void *)&sa, sizeof sa);
    write(b, "u", 1);
    read(a, &c, 1);
    close(a); close(b);
}

/* UDP sockets that a failed send or connect bound (the kernel binds before it sends or connects, and keeps
 * the port): the next line shows the port, as strace -yy does. A send on a pipe (ENOTSOCK) and on an
 * unconnected TCP socket bind nothing. */
static char big[70000];
static void udp_failed(void) {
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in bc = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_BROADCAST)};
    int a = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(a, big, sizeof big, 0, (void *)&lo, sizeof lo);  /* EMSGSIZE */
    fsync(a);
    sendto(a, "u", 1, 0, (void *)&lo, sizeof lo);
    close(a);
    int b = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(b, "u", 1, 0, (void *)&bc, sizeof bc);  /* EACCES: no SO_BROADCAST */
    fsync(b);
    close(b);
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(c, "u", 1, 0, NULL, 0);  /* EDESTADDRREQ */
    fsync(c);
    close(c);
    int d = socket(AF_INET6, SOCK_DGRAM, 0);
    struct iovec iov = {big, sizeof big};
    struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct msghdr m = {.msg_name = &lo6, .msg_namelen = sizeof lo6, .msg_iov = &iov, .msg_iovlen = 1};
    sendmsg(d, &m, 0);  /* EMSGSIZE */
    fsync(d);
    close(d);
    int e = socket(AF_INET, SOCK_DGRAM, 0);
    connect(e, (void *)&bc, sizeof bc);  /* EACCES, bound first */
    fsync(e);
    close(e);
    int f = socket(AF_INET, SOCK_DGRAM, 0);
    connect(f, (void *)&lo, sizeof lo);
    write(f, "x", 1);
    usleep(10000);  /* the port unreachable comes back: the next send fails */
    write(f, "y", 1);  /* ECONNREFUSED */
    sendto(f, "z", 1, 0, NULL, 0);
    close(f);
    int p[2];
    pipe(p);
    sendto(p[1], "u", 1, 0, (void *)&lo, sizeof lo);  /* ENOTSOCK */
    fsync(p[1]);
    close(p[0]); close(p[1]);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    sendto(t, "u", 1, MSG_NOSIGNAL, NULL, 0);  /* EPIPE: not connected, not bound */
    fsync(t);
    close(t);
    int w = socket(AF_INET, SOCK_DGRAM, 0);
    write(w, "w", 1);  /* EDESTADDRREQ, bound first */
    fsync(w);
    close(w);
    int v = socket(AF_INET6, SOCK_DGRAM, 0);
    struct iovec wv = {"v", 1};
    writev(v, &wv, 1);  /* the same by writev */
    fsync(v);
    close(v);
}

static void inet6(void) {
    int a = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bind(a, (void *)&sa, sizeof sa);
    socklen_t l = sizeof sa;
    getsockname(a, (void *)&sa, &l);
    int b = socket(AF_INET6, SOCK_DGRAM, 0);
    connect(b, (void *)&sa, sizeof sa);
    write(b, "u", 1);
    char c;
    read(a, &c, 1);
    close(a); close(b);
    int t = socket(AF_INET6, SOCK_STREAM, 0);
    sa.sin6_port = 0;
    bind(t, (void *)&sa, sizeof sa);
    listen(t, 1);
    l = sizeof sa;
    getsockname(t, (void *)&sa, &l);
    int c2 = socket(AF_INET6, SOCK_STREAM, 0);
    connect(c2, (void *)&sa, sizeof sa);
    int s = accept(t, NULL, NULL);
    write(c2, "t", 1);
    read(s, &c, 1);
    close(s); close(c2); close(t);
}

static void unixs(void) {
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, sock_path);
    unlink(sa.sun_path);
    bind(l, (void *)&sa, sizeof sa);
    listen(l, 1);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    write(c, "x", 1);
    connect(c, (void *)&sa, sizeof sa);
    int s = accept(l, NULL, NULL);
    write(c, "x", 1);
    char ch;
    read(s, &ch, 1);
    close(s); close(c); close(l);
    unlink(sa.sun_path);
    /* abstract */
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un ab = {.sun_family = AF_UNIX};
    memcpy(ab.sun_path, "\0fa-abs", 7);
    bind(l, (void *)&ab, offsetof(struct sockaddr_un, sun_path) + 7);
    listen(l, 1);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (void *)&ab, offsetof(struct sockaddr_un, sun_path) + 7);
    s = accept(l, NULL, NULL);
    write(c, "x", 1);
    read(s, &ch, 1);
    close(s); close(c); close(l);
    /* a long name */
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(sa.sun_path, long_path);
    unlink(sa.sun_path);
    bind(l, (void *)&sa, sizeof sa);
    listen(l, 1);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(c, (void *)&sa, sizeof sa);
    s = accept(l, NULL, NULL);
    write(c, "x", 1);
    read(s, &ch, 1);
    close(s); close(c); close(l);
    unlink(sa.sun_path);
    /* datagram */
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    strcpy(sa.sun_path, dgram_path);
    unlink(sa.sun_path);
    bind(d, (void *)&sa, sizeof sa);
    int e = socket(AF_UNIX, SOCK_DGRAM, 0);
    sendto(e, "x", 1, 0, (void *)&sa, sizeof sa);
    read(d, &ch, 1);
    connect(e, (void *)&sa, sizeof sa);
    write(e, "x", 1);
    read(d, &ch, 1);
    close(d); close(e);
    unlink(sa.sun_path);
}

static void netlink(void) {
    int n = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    write(n, "", 0);
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
    bind(n, (void *)&nl, sizeof nl);
    socklen_t l = sizeof nl;
    getsockname(n, (void *)&nl, &l);
    write(n, "", 0);
    close(n);
    int g = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_GENERIC);
    bind(g, (void *)&(struct sockaddr_nl){.nl_family = AF_NETLINK}, sizeof nl);
    write(g, "", 0);
    close(g);
    int k = socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT);
    write(k, "", 0);
    close(k);
}

static void anon(void) {
    int e = eventfd(0, EFD_CLOEXEC);
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    sigset_t ss; sigemptyset(&ss); sigaddset(&ss, SIGUSR1);
    int s = signalfd(-1, &ss, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = e};
    epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
    epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev);
    epoll_wait(ep, &ev, 1, 0);
    int mf = memfd_create("famem", 0);
    ftruncate(mf, 4096);
    void *mp = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mf, 0);
    munmap(mp, 4096);
    int pf = syscall(SYS_pidfd_open, getpid(), 0);
    int in = inotify_init1(0);
    int uf = syscall(SYS_userfaultfd, 0);
    struct pollfd pfd[2] = {{e, POLLIN}, {mf, POLLIN}};
    poll(pfd, 2, 0);
    fd_set rs; FD_ZERO(&rs); FD_SET(e, &rs); FD_SET(mf, &rs);
    struct timeval tv = {0, 0};
    select(mf + 1, &rs, NULL, NULL, &tv);
    int h = open("/etc/hostname", O_RDONLY);
    dup2(h, 40);
    dup3(h, 41, O_CLOEXEC);
    fcntl(h, F_DUPFD, 50);
    fcntl(h, F_DUPFD_CLOEXEC, 60);
    int p[2]; pipe2(p, 0);
    int q[2]; pipe2(q, 0);
    write(p[1], "abc", 3);
    splice(p[0], NULL, q[1], NULL, 1, 0);
    tee(p[0], q[1], 1, 0);
    int o = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    sendfile(o, h, NULL, 2);
    off_t a = 0;
    copy_file_range(h, &a, o, NULL, 2, 0);
    int d = open("/tmp", O_RDONLY | O_DIRECTORY);
    int r = openat(d, out_path + 5, O_RDONLY);
    struct stat st;
    fstatat(d, out_path + 5, &st, 0);
    faccessat(d, out_path + 5, R_OK, 0);
    unlinkat(d, "fa-nonexistent", 0);
    mkdirat(d, "fa-dir", 0700);
    unlinkat(d, "fa-dir", AT_REMOVEDIR);
    fchdir(d);
    fchmod(o, 0600);
    fstat(o, &st);
    lseek(o, 0, SEEK_SET);
    fsync(o);
    ftruncate(o, 0);
    void *m2 = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, h, 0);
    munmap(m2, 4096);
    close(r); close(d); close(o);
    close(40); close(41);
    close_range(50, 60, 0);
    close(e); close(t); close(s); close(ep); close(mf); close(pf); close(in); if (uf >= 0) close(uf);
    close(p[0]); close(p[1]); close(q[0]); close(q[1]); close(h);
    unlink(out_path);
}

/* perf_event_open's group, fanotify, a mount context, a landlock ruleset, another process's descriptor
 * copied by pidfd_getfd (the child's, which exits before its parent's lines are printed). */
static void more(void) {
    int h = open("/etc/hostname", O_RDONLY);
    struct perf_event_attr a = {0};
    a.type = PERF_TYPE_SOFTWARE; a.size = sizeof a; a.config = PERF_COUNT_SW_TASK_CLOCK; a.disabled = 1;
    int p1 = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    int p2 = syscall(SYS_perf_event_open, &a, 0, -1, p1, 0);
    int f = fanotify_init(0, 0);
    fanotify_mark(f, FAN_MARK_ADD, FAN_OPEN, h, NULL);
    int fs = syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
    syscall(SYS_fsconfig, fs, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0);
    int mnt = syscall(SYS_fsmount, fs, 0, 0);
    int tree = syscall(SYS_open_tree, AT_FDCWD, "/etc", 0);
    int sub = syscall(SYS_open_tree, tree, "ssl", 0x80000 /* OPEN_TREE_CLOEXEC */);
    int copy = syscall(SYS_open_tree, AT_FDCWD, "/tmp", 1 /* OPEN_TREE_CLONE */);
    close(mnt); close(tree); close(sub); close(copy);
    struct landlock_ruleset_attr ra = {.handled_access_fs = LANDLOCK_ACCESS_FS_READ_FILE};
    int r = syscall(SYS_landlock_create_ruleset, &ra, sizeof ra, 0);
    int ready[2], done[2];
    pipe(ready);
    pipe(done);
    pid_t pid = fork();
    if (pid == 0) {
        int t = open("/etc/hosts", O_RDONLY);
        dup2(t, 30);
        write(ready[1], "r", 1);
        char c;
        read(done[0], &c, 1);   /* until the parent has its copy */
        _exit(0);
    }
    char c;
    read(ready[0], &c, 1);
    int pf = syscall(SYS_pidfd_open, pid, 0);
    int g = syscall(SYS_pidfd_getfd, pf, 30, 0);
    write(done[1], "g", 1);
    waitpid(pid, NULL, 0);
    read(g, &c, 1);
    close(p1); close(p2); close(f); close(fs); close(r); close(pf); close(g); close(h);
    close(ready[0]); close(ready[1]); close(done[0]); close(done[1]);
}

/* clone's CLONE_PIDFD: the pidfd on the child, waited for by it (P_PIDFD), then closed. */
static void pidfd(void) {
    int pidfd = -1;
    long r = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
    if (r == 0) {
        usleep(100000);
        _exit(0);
    }
    fcntl(pidfd, F_GETFD);
    siginfo_t si;
    waitid(P_PIDFD, pidfd, &si, WEXITED);
    close(pidfd);
}

int main(int argc, char **argv) {
    const char *g = argc > 1 ? argv[1] : "";
    snprintf(out_path, sizeof out_path, "/tmp/fa-%d-out", getpid());
    snprintf(sock_path, sizeof sock_path, "/tmp/fa-%d-s", getpid());
    snprintf(dgram_path, sizeof dgram_path, "/tmp/fa-%d-d", getpid());
    snprintf(long_path, sizeof long_path, "/tmp/fa-%d-a-name-longer-than-the-32-bytes-a-record-holds", getpid());
    marker();
    if (!strcmp(g, "scm")) scm();
    else if (!strcmp(g, "scm_fork")) scm_fork();
    else if (!strcmp(g, "udp")) udp();
    else if (!strcmp(g, "udp_failed")) udp_failed();
    else if (!strcmp(g, "inet6")) inet6();
    else if (!strcmp(g, "unix")) unixs();
    else if (!strcmp(g, "netlink")) netlink();
    else if (!strcmp(g, "anon")) anon();
    else if (!strcmp(g, "more")) more();
    else if (!strcmp(g, "pidfd")) pidfd();
    return 0;
}
