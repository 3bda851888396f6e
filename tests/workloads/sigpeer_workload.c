/* Signals between a traced process and one outside the trace, for the targets whose tasks a sender
 * cannot tell by their ids (--comm, --cgroup, serve: tests/test_e2e_sigtargets.py). argv[1] is the pid
 * of a process outside the target: the workload sends it SIGWINCH (ignored by default: no line, that
 * process is not traced), then waits in pause() for the test, outside the target too, to send it a
 * SIGTERM it has no handler for (its death at once unless ptraced: strace shows it taken). */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    close(-4242);  /* the start marker */
    kill(atoi(argv[1]), SIGWINCH);
    close(-1);
    pause();
    return 1;
}
