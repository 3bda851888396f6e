/* Descriptors made, copied and closed by syscalls a spec may leave out (-e trace=read,write), for -y's
 * bookkeeping (tests/test_e2e_fdbookkeeping.py): opens (absolute, and relative after a chdir), dup, dup2,
 * fcntl F_DUPFD_CLOEXEC, close, pipe2, sockets and an accepted connection, eventfd, memfd, close_range, a
 * fork (the child has a copy of the table) and an exec (close-on-exec descriptors go; "after-exec" is the
 * second image). The reads and writes are what is traced; each names the descriptor it uses. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[16];

static void after_exec(void)
{
    read(7, buf, 1);    /* kept: dup2 made it without close-on-exec */
    read(11, buf, 1);   /* gone: F_DUPFD_CLOEXEC */
    write(21, "s", 1);  /* the socket dup2'd without close-on-exec */
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
        after_exec();
        return 0;
    }
    int fd = open("/etc/hostname", O_RDONLY);
    read(fd, buf, 1);
    int d = dup(fd);
    read(d, buf, 1);
    write(d, "q", 1);   /* fails (EBADF: read-only) on an open descriptor: a status=failed line with its path */
    int d2 = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    read(d2, buf, 1);
    dup2(fd, 7);
    close(fd);
    read(7, buf, 1);
    read(fd, buf, 1);
    int p[2];
    pipe2(p, O_CLOEXEC);
    write(p[1], "x", 1);
    read(p[0], buf, 1);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, (void *)&a, sizeof a);
    listen(s, 1);
    socklen_t l = sizeof a;
    getsockname(s, (void *)&a, &l);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    connect(c, (void *)&a, sizeof a);
    int acc = accept4(s, 0, 0, SOCK_CLOEXEC);
    dup2(c, 21);
    write(21, "hi", 2);
    sendto(21, "yo", 2, 0, 0, 0);
    read(acc, buf, 4);
    int e = eventfd(0, EFD_CLOEXEC);
    write(e, "\1\0\0\0\0\0\0\0", 8);
    int m = memfd_create("mine", MFD_CLOEXEC);
    write(m, "abc", 3);
    chdir("/etc");
    int rel = openat(AT_FDCWD, "passwd", O_RDONLY | O_CLOEXEC);
    read(rel, buf, 1);
    pid_t child = fork();
    if (child == 0) {
        read(rel, buf, 1);  /* the child's copy of the table */
        close(rel);
        read(rel, buf, 1);
        _exit(0);
    }
    waitpid(child, 0, 0);
    read(rel, buf, 1);  /* still open in the parent */
    close_range(30, 100, 0);
    close_range(3, 6, 0);
    read(3, buf, 1);
    execl("/proc/self/exe", argv[0], "after-exec", (char *)0);
    return 1;
}
