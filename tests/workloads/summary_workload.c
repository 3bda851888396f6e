/* Known numbers of calls and failures, for the summary tests:
 *   parent: 30 x openat("/dev/null") + close, 50 x openat of a missing path (ENOENT),
 *           20 x close(-1) (EBADF)
 *   child:  40 x openat of a missing path (ENOENT), then exit(0)
 * With the argument "slow", 1.5 s pass between the phases (for summaries taken at intervals). */
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void pause_if(int slow)
{
    if (slow)
        usleep(1500 * 1000);
}

int main(int argc, char **argv)
{
    int slow = argc > 1 && strcmp(argv[1], "slow") == 0;
    for (int i = 0; i < 30; i++) {
        int fd = open("/dev/null", O_RDONLY);
        close(fd);
    }
    pause_if(slow);
    for (int i = 0; i < 50; i++)
        open("/nonexistent/tracespec-summary", O_RDONLY);
    pause_if(slow);
    for (int i = 0; i < 20; i++)
        close(-1);
    pid_t child = fork();
    if (child == 0) {
        for (int i = 0; i < 40; i++)
            open("/nonexistent/tracespec-summary-child", O_RDONLY);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    return 0;
}
