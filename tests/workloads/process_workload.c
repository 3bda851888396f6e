/*
 * A program whose process syscalls are known: fork, execve of a program with arguments (and of one
 * that does not exist), a thread, waiting with statuses (exit code, killed by a signal), kill, and
 * the exit of every process. tests/test_e2e_specs.py compares tracespec with strace.
 * Usage: process_workload [child]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *thread_main(void *arg)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    return arg;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return 5;  /* the exec'd copy of this program */

    pthread_t t;
    pthread_create(&t, NULL, thread_main, NULL);
    pthread_join(t, NULL);

    pid_t a = fork();
    if (a == 0) {
        char *args[] = {argv[0], "child", "with \"quotes\" and a\ttab", NULL};
        execv(argv[0], args);
        _exit(127);
    }
    int status;
    waitpid(a, &status, 0);

    pid_t b = fork();
    if (b == 0) {
        char *args[] = {"/nonexistent/program", NULL};
        execv(args[0], args);
        _exit(126);
    }
    waitpid(b, &status, 0);

    /* killed while blocked in a read (not a process syscall): the kill never meets it at a syscall's
     * entry or exit, where strace's view and a tracer's would differ by a race */
    int ready[2], never[2];
    pipe(ready);
    pipe(never);
    pid_t c = fork();
    if (c == 0) {
        char x;
        write(ready[1], "r", 1);
        read(never[0], &x, 1);
        _exit(0);
    }
    char r;
    read(ready[0], &r, 1);
    struct timespec settle = {0, 20 * 1000 * 1000};
    nanosleep(&settle, NULL);
    kill(c, SIGKILL);
    waitpid(c, &status, 0);
    kill(1, 0);
    kill(999999, SIGTERM);
    return 0;
}
