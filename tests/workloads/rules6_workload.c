/* Arguments strace decodes by rules of their own class, each a group: pselect6's sixth argument (a
 * struct holding the signal mask's address and size), socket addresses too short to hold their family
 * (printed as pointers). argv[1] names the group; its calls follow the marker close(-4242). Every call
 * is deterministic. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

/* the kernel's struct sigset_argpack (fs/select.c) */
struct argpack {
    const sigset_t *p;
    size_t size;
};

static long pselect_ready(int fd, void *sig)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(fd, &r);
    return syscall(SYS_pselect6, fd + 1, &r, NULL, NULL, NULL, sig);
}

static int sigmask_calls(void)
{
    int p[2];
    if (pipe(p) || write(p[1], "x", 1) != 1)
        return 1;
    sigset_t usr1, all;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigfillset(&all);
    struct argpack a = {&usr1, 8};
    marker();
    pselect_ready(p[0], &a);                      /* {sigmask=[USR1], sigsetsize=8} */
    a.p = &all;
    pselect_ready(p[0], &a);                      /* every signal: ~[...] */
    a.p = NULL;
    pselect_ready(p[0], &a);                      /* {sigmask=NULL, ...} */
    pselect_ready(p[0], NULL);                    /* NULL */
    a.p = &usr1;
    a.size = 4;
    pselect_ready(p[0], &a);                      /* EINVAL: a size not the kernel's, the mask's address */
    a.size = 16;
    pselect_ready(p[0], &a);
    a.size = 0;
    pselect_ready(p[0], &a);
    a.p = (const sigset_t *)8;
    a.size = 8;
    pselect_ready(p[0], &a);                      /* EFAULT: the mask unreadable, its address */
    pselect_ready(p[0], (void *)8);               /* EFAULT: the struct unreadable, its address */
    return 0;
}

static int sockaddr_calls(void)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    int u[2];
    if (s < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, u))
        return 1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr = {htonl(0x7f000001)}};
    struct sockaddr_un sun;
    socklen_t len;
    char c[4];
    marker();
    syscall(SYS_sendto, s, "hi", 2, 0, &sin, 0);  /* shorter than a family: the pointer */
    syscall(SYS_sendto, s, "hi", 2, 0, &sin, 1);
    syscall(SYS_sendto, s, "hi", 2, 0, &sin, -1);
    syscall(SYS_sendto, s, "hi", 2, 0, NULL, 0);  /* NULL */
    syscall(SYS_connect, s, &sin, 0);
    syscall(SYS_connect, s, &sin, 1);
    syscall(SYS_bind, s, &sin, 1);
    syscall(SYS_bind, s, (void *)8, 1);
    syscall(SYS_bind, s, &sin, 2);                 /* the family alone */
    len = 0;
    syscall(SYS_getsockname, s, &sin, &len);       /* [0 => 16]: none of it written */
    len = 1;
    syscall(SYS_getsockname, s, &sin, &len);
    len = sizeof(sun);
    syscall(SYS_getpeername, u[1], &sun, &len);   /* an unnamed peer: the family alone */
    len = 1;
    syscall(SYS_getpeername, u[1], &sun, &len);
    if (write(u[0], "ab", 2) != 2)
        return 1;
    len = sizeof(sun);
    syscall(SYS_recvfrom, u[1], c, 1, 0, &sun, &len); /* a stream socket names no sender: [110 => 0] */
    len = 0;
    syscall(SYS_recvfrom, u[1], c, 1, 0, &sun, &len);
    struct iovec iov = {c, 1};
    struct msghdr mh = {.msg_name = &sin, .msg_namelen = 1, .msg_iov = &iov, .msg_iovlen = 1};
    syscall(SYS_sendmsg, s, &mh, 0);
    if (write(u[0], "c", 1) != 1)
        return 1;
    mh.msg_name = &sun;
    mh.msg_namelen = 1;
    syscall(SYS_recvmsg, u[1], &mh, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "sigmask"))
        return sigmask_calls();
    if (!strcmp(argv[1], "sockaddr"))
        return sockaddr_calls();
    return 2;
}
