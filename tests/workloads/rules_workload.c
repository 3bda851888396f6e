/* Arguments strace decodes by rule: unknown flag bits and enum values, 32-bit arguments, octal modes,
 * fcntl's commands, ioctl request names, binary buffers. Every call is deterministic; each one's
 * result does not depend on the machine (failures are the expected errno). argv[1]: a scratch dir. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char path[4096];
    int one = 1;
    unsigned char buf[16];
    if (argc < 2)
        return 2;
    snprintf(path, sizeof path, "%s/file", argv[1]);

    /* flag sets: known bits, unknown remainder, nothing known */
    syscall(SYS_access, path, 8);
    syscall(SYS_access, path, R_OK | 0x10);
    syscall(SYS_faccessat, AT_FDCWD, path, 0x80000000u);
    int fd = syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_TRUNC, 0640);
    int fd2 = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | 0x80000000u);
    int dir = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY | O_DIRECTORY, 0755);
    syscall(SYS_openat, AT_FDCWD, argv[1], O_WRONLY | 0x400000, 0600);
    syscall(SYS_close, dir);
    syscall(SYS_close_range, 100, ~0u, 8);
    syscall(SYS_close_range, 100, 200, CLOSE_RANGE_CLOEXEC | 0x40);

    /* octal modes: umask's return and argument */
    syscall(SYS_umask, 0);
    syscall(SYS_umask, 022);

    /* enums: a known value and an unknown one */
    int s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    syscall(SYS_setsockopt, s, SOL_SOCKET, 0x52, &one, sizeof one);
    syscall(SYS_lseek, fd, 0, 7);

    /* fcntl: the argument and the return follow the command */
    syscall(SYS_fcntl, fd, F_GETFD);
    syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
    syscall(SYS_fcntl, fd, F_GETFD);
    syscall(SYS_fcntl, fd, F_GETFL);
    syscall(SYS_fcntl, fd, F_SETFL, O_NONBLOCK | O_APPEND);
    syscall(SYS_fcntl, fd, F_DUPFD, 10);
    syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 20);
    syscall(SYS_fcntl, fd, F_GETPIPE_SZ);
    syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_WRITE);
    syscall(SYS_fcntl, fd, F_GET_SEALS);
    syscall(SYS_fcntl, fd, F_SETSIG, 0);
    syscall(SYS_fcntl, fd, F_NOTIFY, DN_ACCESS | DN_MULTISHOT);
    syscall(SYS_fcntl, fd, 0x4ff, 0x10);

    /* ioctl request names (on a regular file: each fails with ENOTTY or the like) */
    syscall(SYS_ioctl, fd, TCGETS, 0);
    syscall(SYS_ioctl, fd, TIOCGWINSZ, 0);
    syscall(SYS_ioctl, fd, FIONREAD, 0);
    syscall(SYS_ioctl, fd, 0x5499, 0);
    syscall(SYS_ioctl, fd, 0x80045499, 5);

    /* memory */
    void *m = (void *)syscall(SYS_mmap, 0, 4096, PROT_READ | 0x100, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_munmap, m, 4096);
    syscall(SYS_mlockall, 0x10);
    syscall(SYS_msync, 0, 0, 0x10);

    /* binary data: a buffer written by the kernel */
    memcpy(buf, "\x00\x01\x02\x7f\x80\xff" "ab\"\\\n\t\x1b\x10" "7z", 16);
    syscall(SYS_write, fd, buf, 16);
    syscall(SYS_pread64, fd, buf, 16, 0);
    syscall(SYS_getrandom, buf, 8, 0x40);

    syscall(SYS_close, fd2);
    syscall(SYS_close, fd);
    syscall(SYS_close, s);
    syscall(SYS_unlinkat, AT_FDCWD, path, 0);
    return 0;
}
