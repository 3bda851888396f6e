/* Descriptors of every kind for -y (strace's fd paths), in an order where /proc at print time lies:
 * a socket closed and its number reused by a new socket at once, a pipe's ends dup'ed and closed,
 * descriptors dropped by exec (O_CLOEXEC), anonymous inodes, a TCP loopback connection, a UNIX
 * socketpair, and a child that writes to inherited descriptors and exits before its lines are printed.
 * With an argument "after-exec", it is the program exec'ed: it writes to descriptors exec kept and
 * dropped. It writes a line to its inherited stdout in both. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A tracer that names sockets and pipes from /proc while they are open (tracespec prints lines a
 * little after the syscalls) gets the time to: every new descriptor lives a while. */
static void linger(void)
{
    usleep(150000);
}

static void after_exec(void)
{
    write(1, "after exec\n", 11);
    write(5, "kept", 4);      /* the pipe's write end, without FD_CLOEXEC */
    write(6, "dropped", 7);   /* was O_CLOEXEC: EBADF, shown as a bare number */
    close(5);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "after-exec") == 0) {
        after_exec();
        return 0;
    }
    write(1, "start\n", 6);

    /* close before socket: descriptor 3 is a socket, closed, and 3 again a new socket */
    int s1 = socket(AF_INET, SOCK_DGRAM, 0);
    linger();
    close(s1);
    int s2 = socket(AF_INET, SOCK_DGRAM, 0);
    linger();
    close(s2);

    int p[2];
    pipe2(p, 0);                       /* 3, 4 */
    linger();
    dup2(p[1], 5);                     /* 5: the write end, survives exec */
    int c = fcntl(p[1], F_DUPFD_CLOEXEC, 6);   /* 6, dropped at exec */
    close(p[1]);
    write(5, "x", 1);
    read(p[0], (char[4]){0}, 4);

    int e = eventfd(0, 0);
    linger();
    write(e, &(unsigned long long){1}, 8);
    close(e);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    linger();
    write(sv[0], "u", 1);
    read(sv[1], (char[4]){0}, 4);
    close(sv[0]);
    close(sv[1]);

    /* TCP over loopback */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    linger();
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    socklen_t len = sizeof a;
    getsockname(l, (struct sockaddr *)&a, &len);
    int cl = socket(AF_INET, SOCK_STREAM, 0);
    linger();
    connect(cl, (struct sockaddr *)&a, sizeof a);
    int sv_fd = accept(l, NULL, NULL);
    linger();
    write(cl, "tcp", 3);
    read(sv_fd, (char[4]){0}, 4);
    close(sv_fd);
    close(cl);
    close(l);

    pid_t pid = fork();
    if (pid == 0) {
        write(1, "child\n", 6);
        write(5, "c", 1);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    read(p[0], (char[4]){0}, 4);

    (void)c;
    execl("/proc/self/exe", argv[0], "after-exec", (char *)NULL);
    return 1;
}
