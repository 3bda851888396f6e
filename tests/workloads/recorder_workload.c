/* What the flight recorder tests record.
 *   crash:   20000 x open("/dev/null") + close, a failed open of a marker path, a write, then SIGSEGV
 *   trigger: 2000 x open + close, a failed open of a marker path, 2000 more, then exit(0)
 *   block:   2000 x open + close, then read() from a pipe nobody writes to, until killed
 *   migrate: as crash, but the first 10000 open /dev/zero on one CPU, the rest /dev/null on another */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

static void churn_with(const char *path, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);
        close(fd);
    }
}

static void churn(int n)
{
    churn_with("/dev/null", n);
}

/* Pin the process to the n-th of the CPUs in `allowed` (those it could run on at first). */
static int pin_to_nth_cpu(const cpu_set_t *allowed, int n)
{
    cpu_set_t one;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, allowed) && n-- == 0) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            return sched_setaffinity(0, sizeof(one), &one);
        }
    }
    return -1;
}

static void crash(void)
{
    open("/nonexistent/last-before-crash", O_RDONLY);
    write(1, "about to crash\n", 15);
    *(volatile int *)0 = 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "crash";
    if (strcmp(mode, "crash") == 0) {
        churn(20000);
        crash();
    } else if (strcmp(mode, "migrate") == 0) {
        cpu_set_t allowed;
        if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || pin_to_nth_cpu(&allowed, 0) != 0)
            return 2;
        churn_with("/dev/zero", 10000);
        if (pin_to_nth_cpu(&allowed, 1) != 0)
            return 2;
        churn(10000);
        crash();
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
