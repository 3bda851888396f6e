/*
 * Prints the signal state a program was started with: how SIGHUP, SIGINT, SIGQUIT and SIGTERM are
 * handled, and the kernel's view of the ignored and blocked sets (/proc/self/status SigIgn, SigBlk).
 * tests/test_e2e_fidelity.py runs it untraced, under strace and under tracespec (issue 19).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    static const struct { int sig; const char *name; } sigs[] = {
        {SIGHUP, "SIGHUP"}, {SIGINT, "SIGINT"}, {SIGQUIT, "SIGQUIT"}, {SIGTERM, "SIGTERM"},
    };
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction sa;
        sigaction(sigs[i].sig, NULL, &sa);
        printf("%s %s\n", sigs[i].name, sa.sa_handler == SIG_IGN ? "ignored" : sa.sa_handler == SIG_DFL ? "default" : "caught");
    }
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "SigIgn:", 7) == 0 || strncmp(line, "SigBlk:", 7) == 0)
            fputs(line, stdout);
    return 0;
}
