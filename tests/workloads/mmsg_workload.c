/* sendmmsg and recvmmsg, each group compared with strace: argv[1] names the group; its calls follow the
 * marker close(-4242). Every call is deterministic (recvmmsg's timeouts are 0 or NULL: nothing is left
 * of 0). Groups: "unix" (datagrams over a socket pair: entries sent and received, a receive of fewer than
 * vlen, iovecs filled up to each msg_len, MSG_WAITFORONE, descriptors passed), "inet" (UDP over loopback:
 * names given and written back), "many" (more messages than -s shows), "failed" (a bad descriptor, NULL
 * and unreadable arrays, no entries, an unreadable timeout, nothing to receive, an array that runs into
 * memory that cannot be read). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#define MANY 40

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static char bufs[MANY][64];
static struct iovec iov[MANY];
static struct mmsghdr out[MANY];
static char rbufs[MANY][64];
static struct iovec riov[MANY][2];
static struct mmsghdr in[MANY];

static void setup_out(int n)
{
    memset(out, 0, sizeof(out));
    for (int i = 0; i < n; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "message %02d of the many sent at once", i);
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = strlen(bufs[i]);
        out[i].msg_hdr.msg_iov = &iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
}

static void setup_in(int n, int split)
{
    memset(in, 0, sizeof(in));
    memset(rbufs, 0, sizeof(rbufs));
    for (int i = 0; i < n; i++) {
        riov[i][0].iov_base = rbufs[i];
        riov[i][0].iov_len = split ? 3 : sizeof(rbufs[i]);
        riov[i][1].iov_base = rbufs[i] + 3;
        riov[i][1].iov_len = 10;
        in[i].msg_hdr.msg_iov = riov[i];
        in[i].msg_hdr.msg_iovlen = split ? 2 : 1;
    }
}

static int unix_calls(void)
{
    int sv[2];
    struct timespec zero = {0, 0};
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
        return 1;
    marker();
    setup_out(3);
    iov[0].iov_len = 2;
    sendmmsg(sv[0], out, 2, 0);
    setup_in(3, 0);
    recvmmsg(sv[1], in, 3, MSG_DONTWAIT, &zero);  /* 2 of 3 */
    sendmmsg(sv[0], out, 3, MSG_DONTWAIT);
    setup_in(3, 1);
    recvmmsg(sv[1], in, 5, MSG_WAITFORONE, NULL);  /* 3 of 5, each 3 bytes then the rest */
    /* a descriptor passed with the second message */
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof(control));
    setup_out(2);
    out[1].msg_hdr.msg_control = control;
    out[1].msg_hdr.msg_controllen = sizeof(control);
    struct cmsghdr *c = CMSG_FIRSTHDR(&out[1].msg_hdr);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &sv[0], sizeof(int));
    sendmmsg(sv[0], out, 2, 0);
    char rcontrol[2][64];
    setup_in(2, 0);
    for (int i = 0; i < 2; i++) {
        in[i].msg_hdr.msg_control = rcontrol[i];
        in[i].msg_hdr.msg_controllen = sizeof(rcontrol[i]);
    }
    int got = recvmmsg(sv[1], in, 2, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL);
    if (got == 2 && in[1].msg_hdr.msg_controllen) {
        int fd;
        memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&in[1].msg_hdr)), sizeof(fd));
        close(fd);
    }
    return 0;
}

static int inet_calls(void)
{
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(47391), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(47392), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (a < 0 || b < 0 || bind(b, (void *)&to, sizeof(to)) || bind(a, (void *)&from, sizeof(from)))
        return 1;
    marker();
    setup_out(2);
    for (int i = 0; i < 2; i++) {
        out[i].msg_hdr.msg_name = &to;
        out[i].msg_hdr.msg_namelen = sizeof(to);
    }
    sendmmsg(a, out, 2, 0);
    struct sockaddr_storage names[2];
    setup_in(2, 0);
    for (int i = 0; i < 2; i++) {
        in[i].msg_hdr.msg_name = &names[i];
        in[i].msg_hdr.msg_namelen = i ? 8 : sizeof(names[i]);  /* the second too short: truncated */
    }
    recvmmsg(b, in, 2, 0, NULL);
    return 0;
}

static int many_calls(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
        return 1;
    marker();
    setup_out(MANY);
    sendmmsg(sv[0], out, MANY, 0);
    setup_in(MANY, 0);
    recvmmsg(sv[1], in, MANY, MSG_DONTWAIT, NULL);
    setup_out(4);   /* as many as tracespec copies (MMSG_ENTRIES) */
    sendmmsg(sv[0], out, 4, 0);
    setup_in(4, 0);
    recvmmsg(sv[1], in, 4, MSG_DONTWAIT, NULL);
    return 0;
}

static int failed_calls(void)
{
    int sv[2];
    struct timespec zero = {0, 0};
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
        return 1;
    marker();
    setup_out(2);
    sendmmsg(-1, out, 2, 0);
    sendmmsg(sv[0], NULL, 2, 0);
    sendmmsg(sv[0], (void *)8, 2, 0);
    sendmmsg(sv[0], out, 0, 0);
    setup_in(2, 0);
    recvmmsg(sv[1], in, 2, MSG_DONTWAIT, NULL);
    recvmmsg(sv[1], in, 2, MSG_DONTWAIT, &zero);
    recvmmsg(sv[1], (void *)8, 2, MSG_DONTWAIT, NULL);
    recvmmsg(sv[1], in, 2, MSG_DONTWAIT, (void *)8);
    recvmmsg(-1, NULL, 0, 0, NULL);
    recvmmsg(sv[1], in, 0, MSG_DONTWAIT, NULL);  /* no entries: 0, "Timeout" */
    recvmmsg(sv[1], (void *)8, 0, MSG_DONTWAIT, &zero);
    /* an array whose second entry lies in memory that cannot be read: one sent */
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || munmap(page + 4096, 4096))
        return 1;
    struct mmsghdr *edge = (struct mmsghdr *)(page + 4096 - sizeof(*edge));
    memset(edge, 0, sizeof(*edge));
    edge->msg_hdr.msg_iov = iov;
    edge->msg_hdr.msg_iovlen = 1;
    sendmmsg(sv[0], edge, 3, 0);
    return 0;
}

/* Entries whose names (struct sockaddr_in) lie in pages of a file mapped but not touched yet: the entry's
 * copy cannot fault them in (BPF may not), the kernel does when it sends, and the exit copies them again. */
static int fresh_calls(void)
{
    int in = socket(AF_INET, SOCK_DGRAM, 0), out = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(to);
    if (in < 0 || out < 0 || bind(in, (struct sockaddr *)&to, sizeof(to)) ||
        getsockname(in, (struct sockaddr *)&to, &len))
        return 1;
    char path[] = "/tmp/mmsg-fresh-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    unlink(path);
    char page[4096];
    memset(page, 0, sizeof(page));
    memcpy(page, &to, sizeof(to));
    for (int p = 0; p < 3; p++)
        if (write(fd, page, sizeof(page)) != sizeof(page))
            return 1;
    char *m = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
        return 1;
    struct iovec iov = {"hi", 2};
    struct mmsghdr msgs[3];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < 3; i++) {
        msgs[i].msg_hdr.msg_name = m + i * 4096;
        msgs[i].msg_hdr.msg_namelen = sizeof(to);
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    marker();
    if (sendmmsg(out, msgs, 3, 0) != 3)
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "unix"))
        return unix_calls();
    if (!strcmp(argv[1], "inet"))
        return inet_calls();
    if (!strcmp(argv[1], "many"))
        return many_calls();
    if (!strcmp(argv[1], "failed"))
        return failed_calls();
    if (!strcmp(argv[1], "fresh"))
        return fresh_calls();
    return 2;
}
