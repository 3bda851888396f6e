/* Signals the kernel never delivers to a task that is not ptraced, which strace (a ptracer) shows
 * (tests/test_e2e_sigdrop.py): one group per run, chosen by argv[1], each starting with close(-4242).
 *
 *   ignored  signals dropped when sent: SIG_IGN'd SIGUSR1 by kill and tgkill, SIGWINCH, SIGURG and
 *            SIGCONT with their default action, SIGPIPE ignored (write to a pipe with no reader)
 *   chld     SIGCHLD with its default action for a child that exits 5 (waited for in wait4), then with
 *            SIG_IGN (the kernel sends none: strace shows none either)
 *   term     children killed by signals with no handler: one sends itself SIGTERM (kill), one writes to
 *            a pipe with no reader (SIGPIPE), one its own child sends SIGINT in pause(), one sends
 *            itself SIGHUP by tgkill
 *   threads  a thread sends itself an ignored signal by tgkill; then, in a child, a thread sends its
 *            process SIGTERM (no handler) while the main thread, which blocks it, waits in
 *            pthread_join: the process dies of it. (A process-directed signal a thread sends its own
 *            process, when another thread could take it too, is taken by either under strace.)
 *   tkill    tgkill from the main thread to another, spinning: an ignored signal, then a fatal SIGHUP
 *   zap      a thread blocked in read when its process dies of SIGTERM, then when it calls exit_group
 * Every step ends with close(-N), so that a signal's line lands between the same two syscalls.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts))
        ;
}

static int send_tgkill(pid_t tgid, pid_t tid, int sig)
{
    return syscall(SYS_tgkill, tgid, tid, sig);
}

static void ignored(void)
{
    int fds[2];
    signal(SIGUSR1, SIG_IGN);
    kill(getpid(), SIGUSR1);
    close(-1);
    send_tgkill(getpid(), gettid(), SIGUSR1);
    close(-2);
    kill(getpid(), SIGWINCH);
    close(-3);
    kill(getpid(), SIGURG);
    close(-4);
    kill(getpid(), SIGCONT);
    close(-5);
    signal(SIGPIPE, SIG_IGN);
    if (pipe(fds) == 0) {
        close(fds[0]);
        write(fds[1], "x", 1);
        close(fds[1]);
    }
    close(-6);
}

/* A child waits a little before what ends it, so that its parent is in wait4 by then (its SIGCHLD comes
 * after wait4's line), under strace as under tracespec. */
static void child_start(void)
{
    pause_ms(100);
}

static void reap(pid_t pid)
{
    int status;
    waitpid(pid, &status, 0);
}

static void chld(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        child_start();
        _exit(5);
    }
    reap(pid);
    close(-1);
    signal(SIGCHLD, SIG_IGN);
    pid = fork();
    if (pid == 0) {
        child_start();
        _exit(6);
    }
    reap(pid);
    close(-2);
}

static void term(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        child_start();
        close(-10);
        kill(getpid(), SIGTERM);
        _exit(1);
    }
    reap(pid);
    close(-1);
    pid = fork();
    if (pid == 0) {
        int fds[2];
        char c = 'x';  /* on the stack: the child has its page (a literal's may not be mapped in it yet) */
        child_start();
        if (pipe(fds) == 0) {
            close(fds[0]);
            write(fds[1], &c, 1);
        }
        _exit(1);
    }
    reap(pid);
    close(-2);
    pid = fork();
    if (pid == 0) {
        /* its own child sends it SIGINT, while its parent waits in wait4 */
        if (fork() == 0) {
            pause_ms(300);  /* its parent is in pause() by then */
            kill(getppid(), SIGINT);
            pause_ms(100);  /* ends after its parent */
            _exit(0);
        }
        close(-20);
        pause();
        _exit(1);
    }
    reap(pid);
    close(-3);
    pid = fork();
    if (pid == 0) {
        child_start();
        send_tgkill(getpid(), gettid(), SIGHUP);
        _exit(1);
    }
    reap(pid);
    close(-4);
}

static void *self_signals(void *arg)
{
    send_tgkill(getpid(), gettid(), SIGUSR1);
    close(-11);
    return NULL;
}

static volatile int spin = 1;

static void *terminator(void *arg)
{
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &term, NULL);  /* the only thread that takes it */
    close(-21);
    kill(getpid(), SIGTERM);
    while (spin)  /* killed here, in user space, with its process */
        ;
    return NULL;
}

static volatile int go;
static volatile pid_t spinner_tid;

static void *spinner(void *arg)
{
    spinner_tid = gettid();
    while (!go)  /* in user space when the signal comes */
        ;
    close(-31);
    go = 2;
    for (;;)  /* killed here, with its process */
        ;
    return NULL;
}

/* tgkill from the main thread to another one, spinning in user space (so that under strace it takes
 * the signal at once, not in a syscall the signal would interrupt): an ignored signal, then SIGHUP with
 * no handler, which kills the process. In a child, so that its parent sees it die (its SIGCHLD's times
 * are those of the spinning, which vary). */
static void tkill(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t t;
        child_start();
        signal(SIGUSR1, SIG_IGN);
        pthread_create(&t, NULL, spinner, NULL);
        while (!spinner_tid)
            ;
        send_tgkill(getpid(), spinner_tid, SIGUSR1);
        close(-30);
        pause_ms(20);  /* it has taken SIGUSR1 by then (under strace too) */
        go = 1;
        while (go < 2)
            ;
        send_tgkill(getpid(), spinner_tid, SIGHUP);
        for (;;)  /* killed here, with its process */
            ;
    }
    reap(pid);
    close(-1);
}

static int blocked_fds[2];

static void *blocked_reader(void *arg)
{
    char c;
    read(blocked_fds[0], &c, 1);  /* nothing comes: it ends here, with its process */
    return NULL;
}

/* A thread blocked in read when its process ends by another thread: by a fatal signal (SIGTERM, no
 * handler) the main thread sends its process, then by exit_group. The kernel ends the reader with SIGKILL
 * (its read returns a restart code that strace never sees: unfinished). */
static void zap(void)
{
    for (int how = 0; how < 2; how++) {
        pid_t pid = fork();
        if (pid == 0) {
            pthread_t t;
            if (pipe(blocked_fds))
                _exit(1);
            pthread_create(&t, NULL, blocked_reader, NULL);
            pause_ms(200);  /* the reader is in read by then */
            if (how == 1)
                _exit(3);
            kill(getpid(), SIGTERM);
            for (;;)
                ;
        }
        reap(pid);
        close(-1 - how);
    }
}

static void threads(void)
{
    pthread_t t;
    signal(SIGUSR1, SIG_IGN);
    pthread_create(&t, NULL, self_signals, NULL);
    pthread_join(t, NULL);
    close(-1);
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t term;
        child_start();
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &term, NULL);
        pthread_create(&t, NULL, terminator, NULL);
        pthread_join(t, NULL);
        _exit(1);
    }
    reap(pid);
    close(-2);
}

int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "";
    close(-4242);  /* the start marker */
    if (!strcmp(group, "ignored"))
        ignored();
    else if (!strcmp(group, "chld"))
        chld();
    else if (!strcmp(group, "term"))
        term();
    else if (!strcmp(group, "threads"))
        threads();
    else if (!strcmp(group, "tkill"))
        tkill();
    else if (!strcmp(group, "zap"))
        zap();
    else
        return 2;
    return 0;
}
