/* Syscalls whose arguments a whole-program comparison with strace found decoded differently: flag
 * tables of their own (socket's type flags in strace's order, faccessat2's AT_EACCESS), numbers strace
 * prints in hex (rseq's length), and the structs and buffers of later groups. argv[1] names the group;
 * its calls follow the marker close(-4242), so the loader's and libc's calls before it do not matter.
 * Every call is deterministic. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static int flag_calls(void)
{
    marker();
    int s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    syscall(SYS_close, s);
    s = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    syscall(SYS_close, s);
    syscall(SYS_accept4, -1, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    syscall(SYS_faccessat2, AT_FDCWD, "/nonexistent/tracespec", X_OK, AT_EACCESS);
    syscall(SYS_faccessat2, AT_FDCWD, "/", R_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW);
    syscall(SYS_faccessat2, AT_FDCWD, "", R_OK, AT_EMPTY_PATH | 0x8000);  /* an unknown bit too */
    static char area[64] __attribute__((aligned(32)));
    syscall(SYS_rseq, area, 16, 0, 0x53053053);   /* a wrong length: EINVAL */
    syscall(SYS_rseq, area, 32, 1, 0x53053053);   /* unregistering what is not registered */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "flags"))
        return flag_calls();
    return 2;
}
