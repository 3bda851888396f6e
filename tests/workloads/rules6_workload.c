/* Arguments strace decodes by rules of their own class, each a group: pselect6's sixth argument (a
 * struct holding the signal mask's address and size). argv[1] names the group; its calls follow the
 * marker close(-4242). Every call is deterministic. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
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

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "sigmask"))
        return sigmask_calls();
    return 2;
}
