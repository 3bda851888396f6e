/*
 * A program with a few slow syscalls among many fast ones: sleeps, a read that waits on a pipe, a
 * wait for a child, and a poll that times out, next to hundreds of quick getpid and write calls.
 * tests/test_e2e_specs.py checks that specs/slow.yaml keeps exactly the slow ones.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    struct timespec ts = {0, 30 * 1000 * 1000};
    int devnull = open("/dev/null", O_WRONLY);
    for (int i = 0; i < 300; i++) {
        getpid();
        write(devnull, "fast", 4);
    }
    nanosleep(&ts, NULL);
    int p[2];
    pipe(p);
    pid_t child = fork();
    if (child == 0) {
        struct timespec wait = {0, 40 * 1000 * 1000};
        nanosleep(&wait, NULL);
        write(p[1], "late", 4);
        _exit(0);
    }
    char buf[8];
    read(p[0], buf, sizeof(buf));
    waitpid(child, NULL, 0);
    struct pollfd none = {.fd = p[0], .events = POLLIN};
    poll(&none, 1, 25);
    for (int i = 0; i < 300; i++)
        getpid();
    return 0;
}
