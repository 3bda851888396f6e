/* What the flight recorder tests record.
 *   crash:   20000 x open("/dev/null") + close, a failed open of a marker path, a write, then SIGSEGV
 *   trigger: 2000 x open + close, a failed open of a marker path, 2000 more, then exit(0)
 *   block:   2000 x open + close, then read() from a pipe nobody writes to, until killed */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void churn(int n)
{
    for (int i = 0; i < n; i++) {
        int fd = open("/dev/null", O_RDONLY);
        close(fd);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "crash";
    if (strcmp(mode, "crash") == 0) {
        churn(20000);
        open("/nonexistent/last-before-crash", O_RDONLY);
        write(1, "about to crash\n", 15);
        *(volatile int *)0 = 1;
    } else if (strcmp(mode, "trigger") == 0) {
        churn(2000);
        open("/nonexistent/the-trigger", O_RDONLY);
        churn(2000);
    } else if (strcmp(mode, "block") == 0) {
        int p[2];
        char c;
        churn(2000);
        if (pipe(p) == 0)
            read(p[0], &c, 1);
    }
    return 0;
}
