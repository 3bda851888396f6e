/* Sockets and pipes made by processes that are gone before their lines are printed (children that
 * exit at once), and numbers closed and used again: -y must name each descriptor as it was at its
 * syscall (tests/test_e2e_fdinodes.py); and the descriptors it inherits (stdin, stdout, stderr, one given by its number). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void child_makes_descriptors(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int p[2], sv[2];
    syscall(SYS_pipe, p);   /* pipe itself: glibc's pipe() is pipe2 */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    write(p[1], "p", 1);
    write(sv[0], "s", 1);
    int d = dup(s);
    close(s);
    fcntl(d, F_DUPFD, 10);
    write(1, "child\n", 6);
    _exit(0);
}

int main(int argc, char **argv)
{
    /* inherited: stdin and stdout pipes, stderr a file, and the descriptor argv[1] names */
    char in[8];
    read(0, in, sizeof in);
    write(2, "err\n", 4);
    if (argc > 1)
        fcntl(atoi(argv[1]), F_GETFD);
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        if (pid == 0)
            child_makes_descriptors();
        waitpid(pid, NULL, 0);
    }
    /* numbers closed and made again */
    int a = socket(AF_INET, SOCK_DGRAM, 0);
    close(a);
    int p[2];
    pipe2(p, O_CLOEXEC);
    write(p[1], "z", 1);
    close(p[0]);
    close(p[1]);
    /* a listening socket whose connection a child accepts, then exits */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(l, (struct sockaddr *)&sin, sizeof(sin));
    listen(l, 1);
    socklen_t len = sizeof(sin);
    getsockname(l, (struct sockaddr *)&sin, &len);
    pid_t pid = fork();
    if (pid == 0) {
        /* the replies from the stack: a forked child's first touch of a constant's page faults, and a
         * write's copy at entry that faulted is copied again at its exit, too late for a line another
         * process's line cut short (write(4, 0x..., 2 <unfinished ...>): not what this test is about */
        char hi[2] = {'h', 'i'}, ho[2] = {'h', 'o'};
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        write(c, hi, 2);
        close(c);
        int c2 = accept(l, NULL, NULL);
        write(c2, ho, 2);
        _exit(0);
    }
    for (int i = 0; i < 2; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        connect(c, (struct sockaddr *)&sin, sizeof(sin));
        char buf[2];
        read(c, buf, 2);
        close(c);
    }
    waitpid(pid, NULL, 0);
    /* UDP: one bound, then connected (strace keeps the endpoints it found first), one bound by a send */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in us = sin;
    us.sin_port = 0;
    bind(u, (struct sockaddr *)&us, sizeof(us));
    len = sizeof(us);
    getsockname(u, (struct sockaddr *)&us, &len);
    connect(u, (struct sockaddr *)&us, sizeof(us));
    write(u, "u", 1);
    char ubuf[2];
    read(u, ubuf, 1);
    int v = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(v, "v", 1, 0, (struct sockaddr *)&us, sizeof(us));
    write(v, "w", 0);
    close(v);
    close(u);
    write(1, "parent\n", 7);
    return 0;
}
