/* Classes found by sweeping real programs under strace and tracespec (issue 19), each a group:
 * "xlat": values strace prints as more than one constant (a socket's kind and flags, statx's sync type
 * and AT_ flags) or as one constant with combinations of its own (futex's operation), the classes -X
 * raw and -X verbose show apart; "exec": an execve with more arguments than -s strings and a small
 * environment, which strace -v prints whole (argv[2] names the program run). argv[1] names the group; its calls follow the marker close(-4242).
 * Every call is deterministic. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
    socket(AF_INET, 0xf, 0);                      /* 0xf /* SOCK_??? */
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
    syscall(SYS_futex, &fw, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0);   /* 0x101 /* FUTEX_??? */
    syscall(SYS_futex, &fw, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL,
            FUTEX_BITSET_MATCH_ANY);                                          /* EAGAIN: fw is 0 */
    syscall(SYS_futex, &fw, 0x7f, 1, NULL, NULL, 0);
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
    if (!strcmp(argv[1], "xlat"))
        return xlat_calls();
    return 2;
}
