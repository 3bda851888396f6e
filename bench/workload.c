/* workload: tight syscall loops whose per-syscall cost the benchmark compares across tracers.
 *
 *   workload LOOP N [PATH]
 *
 * LOOP is one of
 *   getppid    getppid() N times: the cheapest syscall, so the tracer's cost dominates;
 *   openclose  openat(PATH) then close() N times (2N syscalls): a path to copy on entry;
 *   write      write() of 64 bytes to /dev/null N times: a buffer to copy on entry;
 *   read       read() of 64 bytes from /dev/zero N times: a buffer to copy on exit.
 *
 * Only the loop is timed (CLOCK_MONOTONIC around it): process start-up, the tracer's own start-up and
 * its draining after the loop are left out. The result is one JSON line on standard output:
 *   {"loop": ..., "syscall": ..., "nr": ..., "iterations": N, "syscalls": S, "loop_ns": T,
 *    "ns_per_syscall": T/S}
 * where "nr" is the loop's syscall numbers, for tracers that print numbers instead of names.
 *
 * The benchmark counts how many of the loop's syscalls a tracer recorded by counting the events of the
 * loop's syscall names, so outside the loop this program makes none of them: it is linked statically
 * (no dynamic loader opening, reading and closing libraries), the write and read loops open their
 * device before the clock starts (an openat, which those loops do not count), nothing else is opened
 * or closed, and the result is written with writev, not write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BUF_BYTES 64

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    /* stderr through fprintf is a write(2): acceptable here, the run is a failure anyway */
    fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: workload getppid|openclose|write|read N [PATH]\n");
    exit(2);
}

/* Print with writev so that the write loop's count of write(2) calls stays exactly N. */
static void emit(const char *line)
{
    struct iovec iov = {(void *)line, strlen(line)};
    if (writev(STDOUT_FILENO, &iov, 1) < 0)
        die("writev stdout");
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    const char *loop = argv[1];
    char *end;
    long long n = strtoll(argv[2], &end, 10);
    if (*end || n < 1)
        usage();
    const char *path = argc > 3 ? argv[3] : "/dev/null";

    char buf[BUF_BYTES];
    memset(buf, 'x', sizeof buf);
    long long calls_per_iteration = 1;
    const char *names;
    char nrs[64];
    long long t0, t1;

    if (strcmp(loop, "getppid") == 0) {
        names = "getppid";
        snprintf(nrs, sizeof nrs, "[%d]", SYS_getppid);
        t0 = now_ns();
        for (long long i = 0; i < n; i++)
            syscall(SYS_getppid); /* not getppid(): glibc could cache or inline it in the future */
        t1 = now_ns();
    } else if (strcmp(loop, "openclose") == 0) {
        names = "openat,close";
        snprintf(nrs, sizeof nrs, "[%d,%d]", SYS_openat, SYS_close);
        calls_per_iteration = 2;
        t0 = now_ns();
        for (long long i = 0; i < n; i++) {
            int fd = openat(AT_FDCWD, path, O_RDONLY);
            if (fd < 0)
                die(path);
            close(fd);
        }
        t1 = now_ns();
    } else if (strcmp(loop, "write") == 0) {
        names = "write";
        snprintf(nrs, sizeof nrs, "[%d]", SYS_write);
        int fd = open("/dev/null", O_WRONLY);
        if (fd < 0)
            die("/dev/null");
        t0 = now_ns();
        for (long long i = 0; i < n; i++)
            if (write(fd, buf, sizeof buf) != sizeof buf)
                die("write /dev/null");
        t1 = now_ns();
    } else if (strcmp(loop, "read") == 0) {
        names = "read";
        snprintf(nrs, sizeof nrs, "[%d]", SYS_read);
        int fd = open("/dev/zero", O_RDONLY);
        if (fd < 0)
            die("/dev/zero");
        t0 = now_ns();
        for (long long i = 0; i < n; i++)
            if (read(fd, buf, sizeof buf) != sizeof buf)
                die("read /dev/zero");
        t1 = now_ns();
    } else {
        usage();
    }

    long long syscalls = n * calls_per_iteration;
    long long elapsed = t1 - t0;
    char line[512];
    snprintf(line, sizeof line,
             "{\"loop\": \"%s\", \"syscall\": \"%s\", \"nr\": %s, \"iterations\": %lld, "
             "\"syscalls\": %lld, \"loop_ns\": %lld, \"ns_per_syscall\": %.2f}\n",
             loop, names, nrs, n, syscalls, elapsed, (double)elapsed / (double)syscalls);
    emit(line);
    return 0;
}
