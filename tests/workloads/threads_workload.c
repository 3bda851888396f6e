/*
 * Threads that end before or after their process's main thread (issue 19). Usage:
 *   threads_workload leader-first   main ends with the raw SYS_exit (not exit_group) while a thread goes
 *                                   on, writes, and ends the process with exit_group(3)
 *   thread-first                    a thread writes and ends with SYS_exit(0); then main writes and
 *                                   ends the process with exit_group(4)
 *   ORDER wait                      the same, once a byte is read from stdin (time to be moved into a
 *                                   cgroup, and for a --cgroup or --comm trace to start)
 * tests/test_e2e_fidelity.py compares tracespec with strace -f.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_t main_thread;

static void say(const char *what)
{
    if (write(1, what, strlen(what)) < 0)
        _exit(1);
}

static void *outlive_main(void *arg)
{
    /* returns once the kernel cleared main's thread id (CLONE_CHILD_CLEARTID): main has ended */
    pthread_join(main_thread, NULL);
    say("thread after main\n");
    syscall(SYS_exit_group, 3);
    return arg;
}

static void *end_first(void *arg)
{
    say("thread before main\n");
    syscall(SYS_exit, 0);
    return arg;
}

int main(int argc, char **argv)
{
    pthread_t t;
    char c;
    if (argc > 2 && strcmp(argv[2], "wait") == 0 && read(0, &c, 1) != 1)
        return 1;
    if (argc > 1 && strcmp(argv[1], "leader-first") == 0) {
        main_thread = pthread_self();
        pthread_create(&t, NULL, outlive_main, NULL);
        say("main ends\n");
        syscall(SYS_exit, 0);
    }
    pthread_create(&t, NULL, end_first, NULL);
    pthread_join(t, NULL);
    say("main after thread\n");
    syscall(SYS_exit_group, 4);
    return 0;
}
