/* Arguments strace decodes by rules of their own class, each a group: pselect6's sixth argument (a
 * struct holding the signal mask's address and size), socket addresses too short to hold their family
 * (printed as pointers), and the NUMA memory policy calls (modes with their flags, node masks, the
 * policy get_mempolicy returns). argv[1] names the group; its calls follow the marker close(-4242).
 * Every call is deterministic. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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

/* get_mempolicy, set_mempolicy, mbind, migrate_pages, set_mempolicy_home_node: on a machine without NUMA they fail
 * (ENOSYS), which strace prints with the same arguments */
static int mempolicy_calls(void)
{
    int policy = -7;
    unsigned long mask[40] = {0}, one = 1, three[3] = {5, 0x8000000000000001UL, 3};
    mask[0] = 1;
    void *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return 1;
    marker();
    syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0);
    syscall(SYS_get_mempolicy, &policy, mask, 64, NULL, 0);       /* [MPOL_DEFAULT], its mask */
    syscall(SYS_get_mempolicy, &policy, NULL, 0, NULL, 4);        /* MPOL_F_MEMS_ALLOWED */
    syscall(SYS_set_mempolicy, 2, &one, 2);                       /* MPOL_BIND, node 0 */
    syscall(SYS_get_mempolicy, &policy, mask, 128, NULL, 0);      /* [MPOL_BIND], two longs */
    syscall(SYS_get_mempolicy, &policy, NULL, 0, NULL, 1);        /* EINVAL: MPOL_F_NODE alone */
    syscall(SYS_set_mempolicy, 1 | 0x8000, &one, 64);             /* MPOL_PREFERRED|MPOL_F_STATIC_NODES */
    syscall(SYS_get_mempolicy, &policy, mask, 64, NULL, 0);       /* the policy with its flag: MPOL_??? */
    syscall(SYS_set_mempolicy, 3 | 0x4000, &one, 64);
    syscall(SYS_set_mempolicy, 2 | 0x2000, &one, 64);
    syscall(SYS_set_mempolicy, 2 | 0xe000, &one, 64);             /* EINVAL: every flag */
    syscall(SYS_set_mempolicy, 7 | 0x8000, &one, 64);             /* no such policy: the flag, then 0x7 */
    syscall(SYS_set_mempolicy, 0x1234, &one, 64);
    syscall(SYS_set_mempolicy, 5, &one, 64);                      /* MPOL_PREFERRED_MANY */
    syscall(SYS_set_mempolicy, 2, three, 130);                    /* three longs */
    syscall(SYS_set_mempolicy, 2, three, 129);                    /* two */
    syscall(SYS_set_mempolicy, 2, mask, 40 * 64);                 /* more than -s longs: ... */
    syscall(SYS_set_mempolicy, 2, &one, 1);                       /* no longs: the address */
    syscall(SYS_set_mempolicy, 2, &one, 0);                       /* [] */
    syscall(SYS_set_mempolicy, 2, (void *)8, 64);                 /* EFAULT */
    syscall(SYS_set_mempolicy, 2, mask, -1L);                     /* a maxnode that wraps: the address */
    syscall(SYS_set_mempolicy, 0, NULL, 0);                       /* MPOL_DEFAULT */
    syscall(SYS_mbind, map, 8192, 2, &one, 64, 1 | 2);             /* MPOL_MF_STRICT|MPOL_MF_MOVE */
    syscall(SYS_mbind, map, 8192, 2, &one, 64, 4 | 8 | 0x20);      /* EINVAL: MPOL_MF_MOVE_ALL|0x28 */
    syscall(SYS_mbind, map, 8192, 1 | 0x8000, &one, 64, 0x100);
    syscall(SYS_mbind, map, 8192, 0, NULL, 0, 0);
    syscall(SYS_mbind, NULL, 0, -1L, &one, 64, 0);                 /* every bit of a long mode */
    syscall(SYS_get_mempolicy, &policy, mask, 64, map, 2);          /* MPOL_F_ADDR */
    syscall(SYS_get_mempolicy, &policy, mask, 64, map, 3);          /* MPOL_F_NODE|MPOL_F_ADDR: a node */
    syscall(SYS_get_mempolicy, &policy, mask, 64, NULL, 0x10);      /* EINVAL: the addresses */
    syscall(SYS_get_mempolicy, &policy, mask, 0, NULL, 0x10);       /* [] even so */
    syscall(SYS_get_mempolicy, (void *)8, mask, 64, NULL, 0);       /* EFAULT */
    syscall(SYS_get_mempolicy, NULL, mask, 64, NULL, 0);
    syscall(SYS_migrate_pages, 0, 64, &one, &one);                 /* both masks */
    syscall(SYS_migrate_pages, 0, 2, &one, (void *)8);              /* EFAULT: the address */
    syscall(SYS_migrate_pages, 0, 1, &one, &one);                  /* no longs: the addresses */
    syscall(450, map, 8192, 0, 0);                                  /* set_mempolicy_home_node */
    syscall(450, map, 8192, 5, 1);
    syscall(SYS_set_mempolicy, 0, NULL, 0);
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
    if (!strcmp(argv[1], "mempolicy"))
        return mempolicy_calls();
    return 2;
}
