/* Arguments that are arrays whose element count is another argument or the return value (issue 19):
 * poll's and ppoll's struct pollfd, select's and pselect6's fd_sets, getgroups' and setgroups' gids,
 * and nanosleep's and clock_nanosleep's remainder (written only when a signal interrupts the sleep);
 * sendmsg's and recvmsg's struct msghdr with their control messages (SOL_SOCKET, SOL_IP, SOL_IPV6).
 * argv[1] names the group; its calls follow the marker close(-4242). Every call is deterministic. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static int poll_calls(void)
{
    int p[2], q[2];
    if (pipe(p) || pipe(q))
        return 1;
    marker();
    struct pollfd fds[3] = {{p[0], POLLIN, 0}, {q[1], POLLOUT, 0}, {-1, POLLIN, 0}};
    syscall(SYS_poll, fds, 3, 0);                  /* q[1] writable: 1 */
    syscall(SYS_poll, fds, 1, 0);                  /* nothing to read: 0 (Timeout) */
    syscall(SYS_write, p[1], "x", 1);
    syscall(SYS_poll, fds, 2, 100);                /* both: 2 */
    syscall(SYS_poll, NULL, 0, 0);                 /* no array */
    syscall(SYS_poll, (void *)8, 1, 0);            /* EFAULT */
    struct pollfd many[40];
    for (int i = 0; i < 40; i++) {
        many[i].fd = i % 2 ? p[0] : q[1];
        many[i].events = i % 2 ? POLLIN | POLLPRI : POLLOUT;
        many[i].revents = 0;
    }
    syscall(SYS_poll, many, 40, 0);                /* more than strace's 32: ... at entry and exit */
    struct timespec ts = {1, 500};
    syscall(SYS_ppoll, fds, 2, &ts, NULL, 8);      /* ppoll: its timeout left */
    syscall(SYS_ppoll, fds, 1, NULL, NULL, 8);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    syscall(SYS_ppoll, fds, 1, NULL, &mask, 8);     /* the mask while it waits */
    syscall(SYS_ppoll, fds, 1, NULL, &mask, 4);     /* EINVAL: a sigsetsize not the kernel's */
    char c;
    syscall(SYS_read, p[0], &c, 1);
    ts.tv_sec = 0;
    ts.tv_nsec = 1000;
    syscall(SYS_ppoll, fds, 1, &ts, NULL, 8);      /* 0 (Timeout) */
    return 0;
}

static int select_calls(void)
{
    int p[2], q[2];
    if (pipe(p) || pipe(q))
        return 1;
    marker();
    fd_set r, w, e;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&e);
    FD_SET(p[0], &r);
    FD_SET(q[0], &r);
    FD_SET(q[1], &w);
    struct timeval tv = {1, 0};
    syscall(SYS_select, q[1] + 1, &r, &w, &e, &tv);  /* out [q1], left ... */
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv.tv_sec = 0;
    tv.tv_usec = 100;
    syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv);  /* 0 (Timeout) */
    syscall(SYS_write, p[1], "x", 1);
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(q[0], &r);
    FD_SET(q[1], &w);
    syscall(SYS_select, q[1] + 1, &r, &w, NULL, NULL);  /* in [p0], out [q1] */
    syscall(SYS_select, 0, NULL, NULL, NULL, &tv);  /* no sets */
    syscall(SYS_select, 3, (void *)8, NULL, NULL, NULL);  /* EFAULT */
    syscall(SYS_select, -1, NULL, NULL, NULL, NULL);  /* EINVAL */
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_SET(q[0], &r);
    struct timespec ts = {2, 0};
    syscall(SYS_pselect6, q[0] + 1, &r, NULL, NULL, &ts, NULL);  /* in [p0], left ... */
    FD_ZERO(&r);
    FD_SET(q[0], &r);
    ts.tv_sec = 0;
    ts.tv_nsec = 1000;
    syscall(SYS_pselect6, q[0] + 1, &r, NULL, NULL, &ts, NULL);  /* 0 (Timeout) */
    return 0;
}

static int group_calls(void)
{
    marker();
    gid_t g[64];
    int n = syscall(SYS_getgroups, 0, NULL);
    syscall(SYS_getgroups, n, g);
    syscall(SYS_getgroups, 64, g);
    gid_t set[3] = {0, 27, 100};
    syscall(SYS_setgroups, 3, set);
    syscall(SYS_getgroups, 64, g);
    syscall(SYS_getgroups, 1, g);                 /* EINVAL: too small */
    syscall(SYS_getgroups, 64, (void *)8);        /* EFAULT */
    gid_t big[40];
    for (int i = 0; i < 40; i++)
        big[i] = 1000 + i;
    syscall(SYS_setgroups, 40, big);              /* more than strace's 32 */
    syscall(SYS_getgroups, 64, g);
    syscall(SYS_setgroups, 0, NULL);
    syscall(SYS_getgroups, 64, g);                /* 0: [] */
    syscall(SYS_setgroups, 2, (void *)8);         /* EFAULT */
    return 0;
}

static int epoll_calls(void)
{
    int p[2], q[2];
    if (pipe(p) || pipe(q))
        return 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {EPOLLIN, {.u64 = 0x1234}};
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    ev.events = EPOLLOUT | EPOLLET;
    ev.data.u64 = 7;
    epoll_ctl(ep, EPOLL_CTL_ADD, q[1], &ev);
    marker();
    struct epoll_event out[4];
    syscall(SYS_epoll_wait, ep, out, 4, 0);         /* q[1] writable: 1 */
    syscall(SYS_write, p[1], "x", 1);
    syscall(SYS_epoll_wait, ep, out, 4, 10);        /* both: 2 */
    syscall(SYS_epoll_wait, ep, out, 1, 0);         /* one of them */
    syscall(SYS_epoll_pwait, ep, out, 4, 0, NULL, 8);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    syscall(SYS_epoll_pwait, ep, out, 4, 0, &mask, 8);
    syscall(SYS_epoll_wait, ep, (void *)8, 4, 0);   /* EFAULT */
    syscall(SYS_epoll_wait, -1, out, 4, 0);         /* EBADF */
    int e2 = epoll_create1(0);
    syscall(SYS_epoll_wait, e2, out, 4, 0);         /* nothing ready: [] */
    struct timespec ts = {0, 1000};
    syscall(SYS_epoll_pwait2, ep, out, 4, &ts, NULL, 8);
    return 0;
}

static int msg_calls(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
        return 1;
    marker();
    char a[] = "hello", b[] = " world";
    struct iovec out[2] = {{a, 5}, {b, 6}};
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_iov = out;
    m.msg_iovlen = 2;
    syscall(SYS_sendmsg, sv[0], &m, MSG_DONTWAIT);
    char buf[64];
    struct iovec in = {buf, sizeof(buf)};
    struct msghdr r;
    memset(&r, 0, sizeof(r));
    r.msg_iov = &in;
    r.msg_iovlen = 1;
    syscall(SYS_recvmsg, sv[1], &r, 0);
    syscall(SYS_recvmsg, sv[1], &r, MSG_DONTWAIT);  /* EAGAIN */
    syscall(SYS_sendmsg, sv[0], (void *)8, 0);      /* EFAULT */
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    m.msg_iovlen = 1;
    m.msg_control = ctl.space;
    m.msg_controllen = sizeof(ctl.space);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &sv[0], sizeof(int));
    syscall(SYS_sendmsg, sv[0], &m, 0);
    char rctl[64];
    r.msg_control = rctl;
    r.msg_controllen = sizeof(rctl);
    syscall(SYS_recvmsg, sv[1], &r, MSG_CMSG_CLOEXEC);
    struct sockaddr_un name;
    memset(&name, 0, sizeof(name));
    name.sun_family = AF_UNIX;
    strcpy(name.sun_path, "/nonexistent/sock");
    m.msg_name = &name;
    m.msg_namelen = sizeof(name);
    m.msg_control = NULL;
    m.msg_controllen = 0;
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    syscall(SYS_sendmsg, u, &m, 0);                 /* ENOENT */
    /* named datagram sockets (abstract): recvmsg writes the sender's name back, shorter than given */
    struct sockaddr_un to, from;
    socklen_t tolen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen("tracespec-arrays-to");
    socklen_t fromlen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen("tracespec-arrays-from");
    memset(&to, 0, sizeof(to));
    memset(&from, 0, sizeof(from));
    to.sun_family = from.sun_family = AF_UNIX;
    memcpy(to.sun_path + 1, "tracespec-arrays-to", strlen("tracespec-arrays-to"));
    memcpy(from.sun_path + 1, "tracespec-arrays-from", strlen("tracespec-arrays-from"));
    int rx = socket(AF_UNIX, SOCK_DGRAM, 0), tx = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (bind(rx, (struct sockaddr *)&to, tolen) || bind(tx, (struct sockaddr *)&from, fromlen))
        return 1;
    m.msg_name = &to;
    m.msg_namelen = tolen;
    syscall(SYS_sendmsg, tx, &m, 0);
    struct sockaddr_un got;
    memset(&got, 0, sizeof(got));
    r.msg_name = &got;
    r.msg_namelen = sizeof(got);
    r.msg_control = NULL;
    r.msg_controllen = 0;
    syscall(SYS_recvmsg, rx, &r, 0);
    return 0;
}

/* cmsg: control messages on loopback datagrams, as the kernel delivers them (IP_RECVTTL, IP_RECVTOS,
 * IP_PKTINFO, IP_RECVORIGDSTADDR, SO_TIMESTAMP and its kin, IP_RECVERR's queue, IPV6_RECVPKTINFO and
 * the others) and as a sender writes them (IP_TTL, IP_TOS, IP_RETOPTS, IP_PKTINFO, levels and types
 * strace has no name for, 253 descriptors in one SCM_RIGHTS). */
static int one = 1;

static void cmsg_recv(int s, size_t clen, int flags)
{
    char buf[64], ctl[1024];
    struct iovec in = {buf, sizeof(buf)};
    struct msghdr r;
    memset(&r, 0, sizeof(r));
    memset(ctl, 0, sizeof(ctl));
    r.msg_iov = &in;
    r.msg_iovlen = 1;
    r.msg_control = ctl;
    r.msg_controllen = clen;
    syscall(SYS_recvmsg, s, &r, flags);
}

static int udp4(struct sockaddr_in *a)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t l = sizeof(*a);
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)a, sizeof(*a)) || getsockname(s, (struct sockaddr *)a, &l))
        return -1;
    return s;
}

static struct cmsghdr *cmsg_put(struct cmsghdr *h, int level, int type, const void *data, size_t len)
{
    h->cmsg_level = level;
    h->cmsg_type = type;
    h->cmsg_len = CMSG_LEN(len);
    memcpy(CMSG_DATA(h), data, len);
    return (struct cmsghdr *)((char *)h + CMSG_SPACE(len));
}

/* The kernel turns receive timestamps on for all packets lazily (a work item enables them after the
 * first setsockopt asking for them): until it has, SO_TIMESTAMPING reports nothing for a datagram (under
 * load, for a while). Before the marker, datagrams go to s until one comes with its timestamp. */
static void wait_for_timestamps(int s, int tx)
{
    struct sockaddr_in to;
    socklen_t l = sizeof(to);
    getsockname(s, (struct sockaddr *)&to, &l);
    for (int i = 0; i < 500; i++) {
        char buf[8], ctl[256];
        struct iovec in = {buf, sizeof(buf)};
        struct msghdr r;
        memset(&r, 0, sizeof(r));
        r.msg_iov = &in;
        r.msg_iovlen = 1;
        r.msg_control = ctl;
        r.msg_controllen = sizeof(ctl);
        sendto(tx, "w", 1, 0, (struct sockaddr *)&to, sizeof(to));
        if (recvmsg(s, &r, 0) >= 0 && CMSG_FIRSTHDR(&r) != NULL)
            return;
        usleep(10000);
    }
}

static int cmsg_calls(void)
{
    struct sockaddr_in ra, ta, gone;
    int rx = udp4(&ra), tx = udp4(&ta), tos = 0x10;
    int tsf = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    if (rx < 0 || tx < 0)
        return 1;
    setsockopt(rx, SOL_IP, IP_RECVTTL, &one, sizeof(one));
    setsockopt(rx, SOL_IP, IP_RECVTOS, &one, sizeof(one));
    setsockopt(rx, SOL_IP, IP_PKTINFO, &one, sizeof(one));
    setsockopt(rx, SOL_IP, IP_RECVORIGDSTADDR, &one, sizeof(one));
    setsockopt(rx, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one));
    setsockopt(tx, SOL_IP, IP_TOS, &tos, sizeof(tos));
    int ns = udp4(&ta), ing = udp4(&ta), nsnew = udp4(&ta), ingnew = udp4(&ta);
    setsockopt(ns, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    setsockopt(ing, SOL_SOCKET, SO_TIMESTAMPING, &tsf, sizeof(tsf));
    setsockopt(nsnew, SOL_SOCKET, SO_TIMESTAMPNS_NEW, &one, sizeof(one));
    setsockopt(ingnew, SOL_SOCKET, SO_TIMESTAMPING_NEW, &tsf, sizeof(tsf));
    wait_for_timestamps(ing, tx);
    wait_for_timestamps(ingnew, tx);
    int dead = udp4(&gone), err = udp4(&ta);
    close(dead);  /* nobody listens at its port: a datagram there brings ICMP port unreachable */
    setsockopt(err, SOL_IP, IP_RECVERR, &one, sizeof(one));
    int s6 = socket(AF_INET6, SOCK_DGRAM, 0), t6 = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a6;
    socklen_t l6 = sizeof(a6);
    memset(&a6, 0, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    if (s6 < 0 || t6 < 0 || bind(s6, (struct sockaddr *)&a6, sizeof(a6)) || getsockname(s6, (struct sockaddr *)&a6, &l6))
        return 1;
    setsockopt(s6, SOL_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    setsockopt(s6, SOL_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
    setsockopt(s6, SOL_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
    marker();
    sendto(tx, "x", 1, 0, (struct sockaddr *)&ra, sizeof(ra));
    cmsg_recv(rx, 1024, 0);
    sendto(tx, "x", 1, 0, (struct sockaddr *)&ra, sizeof(ra));
    cmsg_recv(rx, 40, 0);  /* room for the timestamp alone: MSG_CTRUNC */
    int timed[4] = {ns, ing, nsnew, ingnew};
    for (int i = 0; i < 4; i++) {
        struct sockaddr_in to;
        socklen_t l = sizeof(to);
        getsockname(timed[i], (struct sockaddr *)&to, &l);
        sendto(tx, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
        cmsg_recv(timed[i], 1024, 0);
    }
    sendto(err, "x", 1, 0, (struct sockaddr *)&gone, sizeof(gone));
    struct pollfd pe = {err, 0, 0};
    poll(&pe, 1, 5000);  /* POLLERR once the error is queued */
    cmsg_recv(err, 1024, MSG_ERRQUEUE);
    sendto(t6, "x", 1, 0, (struct sockaddr *)&a6, sizeof(a6));
    cmsg_recv(s6, 1024, 0);
    /* a sender's own: the kernel refuses the type it does not know (EINVAL), strace shows them all */
    union {
        struct cmsghdr h;
        char b[256];
    } c;
    memset(&c, 0, sizeof(c));
    struct iovec out = {"y", 1};
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    m.msg_name = &ra;
    m.msg_namelen = sizeof(ra);
    m.msg_iov = &out;
    m.msg_iovlen = 1;
    m.msg_control = c.b;
    int ttl = 9;
    unsigned char tos2 = 0x20, opts[4] = {1, 1, 1, 0};
    struct in_pktinfo pi;
    memset(&pi, 0, sizeof(pi));
    pi.ipi_ifindex = 1;
    pi.ipi_spec_dst.s_addr = htonl(0x7f000001);
    pi.ipi_addr.s_addr = htonl(0x7f000002);
    struct cmsghdr *h = &c.h;
    h = cmsg_put(h, SOL_IP, IP_TTL, &ttl, sizeof(ttl));
    h = cmsg_put(h, SOL_IP, IP_TOS, &tos2, 1);
    h = cmsg_put(h, 0x1234, 0x77, "\1\2\3", 3);
    h = cmsg_put(h, SOL_IP, 0x63, "\0\0", 2);
    h = cmsg_put(h, SOL_IP, IP_RETOPTS, opts, sizeof(opts));
    h = cmsg_put(h, SOL_SOCKET, 0x50, "\0\0\0\0", 4);
    h = cmsg_put(h, -1, -2, "\0\0\0\0", 4);        /* negative: printed unsigned */
    h = cmsg_put(h, SOL_SOCKET, -3, "\0\0\0\0", 4);
    h = cmsg_put(h, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
    m.msg_controllen = (char *)h - c.b;
    syscall(SYS_sendmsg, tx, &m, 0);
    /* 253 descriptors (SCM_MAX_FD) in one message: 1028 bytes of control data, -s elements printed */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
        return 1;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(253 * sizeof(int))];
    } many;
    int fds[253];
    for (int i = 0; i < 253; i++)
        fds[i] = sv[0];
    memset(&many, 0, sizeof(many));
    cmsg_put(&many.h, SOL_SOCKET, SCM_RIGHTS, fds, sizeof(fds));
    memset(&m, 0, sizeof(m));
    m.msg_iov = &out;
    m.msg_iovlen = 1;
    m.msg_control = many.b;
    m.msg_controllen = sizeof(many.b);
    syscall(SYS_sendmsg, sv[0], &m, MSG_DONTWAIT);
    return 0;
}

static void on_alarm(int sig)
{
    (void)sig;
}

static int sleep_calls(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    marker();
    struct timespec req = {0, 1000}, rem = {7, 7};
    syscall(SYS_nanosleep, &req, &rem);           /* slept: the remainder's address */
    syscall(SYS_nanosleep, &req, NULL);
    req.tv_nsec = -1;
    syscall(SYS_nanosleep, &req, &rem);           /* EINVAL: the address */
    struct itimerval it = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &it, NULL);
    req.tv_sec = 5;
    req.tv_nsec = 0;
    syscall(SYS_nanosleep, &req, &rem);           /* interrupted: what was left */
    setitimer(ITIMER_REAL, &it, NULL);
    syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &req, &rem);  /* interrupted: what was left */
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec until = {2000000000, 0};
    syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &until, &rem);  /* absolute: the address */
    req.tv_sec = 0;
    req.tv_nsec = 1000;
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem);
    return 0;
}

/* iovecs whose buffers lie in pages of a file mapped but not touched yet: BPF's copy at entry cannot fault
 * them in, the kernel does as it writes, and the exit copies the iovecs again. */
static int fresh_iov_calls(void)
{
    char path[] = "/tmp/arrays-fresh-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    unlink(path);
    char page[4096];
    for (int p = 0; p < 2; p++) {
        memset(page, 'a' + p, sizeof(page));
        if (write(fd, page, sizeof(page)) != sizeof(page))
            return 1;
    }
    char *m = mmap(NULL, 2 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    int sv[2];
    if (m == MAP_FAILED || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        return 1;
    struct iovec iov[2] = {{m, 4}, {m + 4096, 3}};
    marker();
    if (writev(sv[0], iov, 2) != 7)
        return 1;
    return 0;
}

/* iovecs whose buffers cannot be read: iov_base 0x1 and NULL, at entry (writev) and at exit (readv, the
 * second element past what the call returned, then one the kernel could not write) */
static int bad_iov_calls(void)
{
    int p[2];
    if (pipe(p))
        return 1;
    char buf[8] = "";
    struct iovec out[3] = {{"ab", 2}, {(void *)1, 5}, {NULL, 3}};
    struct iovec in[2] = {{buf, 4}, {(void *)1, 4}};
    struct iovec in2[2] = {{(void *)1, 4}, {buf, 4}};
    marker();
    writev(p[1], out, 3);
    if (write(p[1], "cdefghij", 8) != 8)
        return 1;
    readv(p[0], in, 2);
    readv(p[0], in2, 2);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "poll"))
        return poll_calls();
    if (!strcmp(argv[1], "select"))
        return select_calls();
    if (!strcmp(argv[1], "groups"))
        return group_calls();
    if (!strcmp(argv[1], "epoll"))
        return epoll_calls();
    if (!strcmp(argv[1], "msg"))
        return msg_calls();
    if (!strcmp(argv[1], "cmsg"))
        return cmsg_calls();
    if (!strcmp(argv[1], "fresh_iov"))
        return fresh_iov_calls();
    if (!strcmp(argv[1], "bad_iov"))
        return bad_iov_calls();
    if (!strcmp(argv[1], "sleep"))
        return sleep_calls();
    return 2;
}
