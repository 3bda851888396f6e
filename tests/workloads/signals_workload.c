/* Signals delivered, for comparing tracespec's "--- SIG... {...} ---" lines with strace's
 * (tests/test_e2e_signals.py). Every signal here has a handler, so that the kernel delivers it
 * whether or not the process is ptraced (a signal whose action is to ignore it, or to kill without a
 * handler, is delivered only under strace). Each step ends with close(-N), a marker both traces show,
 * so that a signal's line lands between the same two syscalls in either trace; each handler's return,
 * rt_sigreturn, restores the registers of a syscall (a kill, or sigsuspend: see wait_for).
 *
 *   self     kill, tgkill, sigqueue with a value, raise from a fault (SIGSEGV at a fixed address),
 *            a POSIX timer (SI_TIMER with its id and value), an interval timer (SI_KERNEL)
 *   children the parent has a SIGCHLD handler: a child that takes SIGUSR1 from its parent and exits 3
 *            (CLD_EXITED), a child SIGKILL ends (CLD_KILLED), each waited for
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static sigjmp_buf fault_jump;

static void on_signal(int sig)
{
    got = sig;
}

static void on_fault(int sig)
{
    siglongjmp(fault_jump, 1);
}

static void handle(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigaction(sig, &sa, NULL);
}

/* The signal is blocked until here: it is delivered in sigsuspend, so that rt_sigreturn restores the
 * same registers (sigsuspend's -EINTR) and mask under strace as under tracespec, however the timing. */
static void wait_for(int sig)
{
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    sigdelset(&mask, sig);
    while (got != sig)
        sigsuspend(&mask);
    got = 0;
}

static void block(int sig)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, sig);
    sigprocmask(SIG_BLOCK, &mask, NULL);
}

int main(void)
{
    handle(SIGUSR1, on_signal);
    handle(SIGUSR2, on_signal);
    handle(SIGRTMIN + 1, on_signal);
    handle(SIGALRM, on_signal);
    handle(SIGCHLD, on_signal);
    handle(SIGSEGV, on_fault);
    close(-4242);  /* the start marker */

    kill(getpid(), SIGUSR1);
    close(-1);
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
    close(-2);
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGRTMIN + 1, v);
    close(-3);
    if (!sigsetjmp(fault_jump, 1))
        *(volatile int *)16 = 1;  /* SIGSEGV, SEGV_MAPERR at 0x10 */
    close(-4);

    block(SIGUSR2);
    block(SIGALRM);
    block(SIGCHLD);
    timer_t timer;
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR2;
    ev.sigev_value.sival_int = 7;
    timer_create(CLOCK_MONOTONIC, &ev, &timer);
    struct itimerspec its = {.it_value = {0, 1000000}};
    timer_settime(timer, 0, &its, NULL);
    wait_for(SIGUSR2);
    timer_delete(timer);
    close(-5);

    struct itimerval itv = {.it_value = {0, 1000}};
    setitimer(ITIMER_REAL, &itv, NULL);
    wait_for(SIGALRM);
    close(-6);

    int ready[2];
    if (pipe(ready))
        return 1;
    pid_t child = fork();
    if (child == 0) {
        close(ready[0]);
        block(SIGUSR1);
        if (write(ready[1], "r", 1) != 1)  /* its SIGUSR1 handler is in place (inherited) */
            _exit(1);
        wait_for(SIGUSR1);
        close(-7);
        _exit(3);
    }
    char c;
    close(ready[1]);
    if (read(ready[0], &c, 1) != 1)
        return 1;
    close(ready[0]);
    kill(child, SIGUSR1);
    waitpid(child, NULL, 0);
    wait_for(SIGCHLD);
    close(-8);

    if (pipe(ready))
        return 1;
    child = fork();
    if (child == 0) {
        if (write(ready[1], "r", 1) != 1)  /* running, in its pause() next: strace has it attached */
            _exit(1);
        for (;;)
            pause();
    }
    if (read(ready[0], &c, 1) != 1)
        return 1;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    wait_for(SIGCHLD);
    close(-9);
    return 0;
}
