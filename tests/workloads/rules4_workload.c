/* Syscalls whose arguments strace decodes from memory by operation: fcntl's struct flock and
 * f_owner_ex, ioctl's termios and winsize, futex's timeout, prctl's strings, AF_PACKET addresses and
 * signal masks. argv[1] names the group; its calls follow the marker close(-4242), so the dynamic
 * loader's and libc's calls before it do not matter. Every call is deterministic. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static int fcntl_calls(void)
{
    char path[] = "/tmp/tracespec-rules4-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    unlink(path);
    marker();
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    syscall(SYS_fcntl, fd, F_SETLK, &fl);
    fl.l_type = F_WRLCK; fl.l_whence = SEEK_CUR; fl.l_start = 10; fl.l_len = 100;
    syscall(SYS_fcntl, fd, F_SETLKW, &fl);
    syscall(SYS_fcntl, fd, F_GETLK, &fl);                   /* the kernel writes l_type=F_UNLCK back */
    syscall(SYS_fcntl, fd, F_OFD_GETLK, &fl);
    fl.l_type = F_UNLCK; fl.l_whence = SEEK_END; fl.l_start = -5;
    syscall(SYS_fcntl, fd, F_OFD_SETLK, &fl);               /* EINVAL: l_pid is not 0 */
    fl.l_pid = 0;
    syscall(SYS_fcntl, fd, F_OFD_SETLKW, &fl);
    syscall(SYS_fcntl, -1, F_SETLK, &fl);                   /* a failed set still shows the struct */
    syscall(SYS_fcntl, fd, F_GETLK, (void *)8);             /* EFAULT: the address */
    syscall(SYS_fcntl, -1, F_GETLK, &fl);                   /* a failed get: the address */
    syscall(SYS_fcntl, fd, F_SETLK, NULL);
    fl.l_type = 9; fl.l_whence = 7;                         /* unknown type and whence */
    syscall(SYS_fcntl, fd, F_SETLK, &fl);
    struct f_owner_ex owner = {F_OWNER_TID, getpid()};
    syscall(SYS_fcntl, fd, F_SETOWN_EX, &owner);
    memset(&owner, 0, sizeof owner);
    syscall(SYS_fcntl, fd, F_GETOWN_EX, &owner);
    owner.type = F_OWNER_PID;
    syscall(SYS_fcntl, fd, F_SETOWN_EX, &owner);
    owner.type = 77;
    syscall(SYS_fcntl, fd, F_SETOWN_EX, &owner);            /* EINVAL, an unknown type */
    syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);            /* a number where a struct could be */
    syscall(SYS_fcntl, fd, F_GETFD);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "fcntl"))
        return fcntl_calls();
    return 2;
}
