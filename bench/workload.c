/* workload: tight syscall loops whose per-syscall cost the benchmark compares across tracers.
 *
 *   workload LOOP N [PATH]
 *   workload paced RATE SECONDS
 *
 * LOOP is one of
 *   getppid    getppid() N times: the cheapest syscall, so the tracer's cost dominates;
 *   openclose  openat(PATH) then close() N times (2N syscalls): a path to copy on entry;
 *   write      write() of 64 bytes to /dev/null N times: a buffer to copy on entry;
 *   read       read() of 64 bytes from /dev/zero N times: a buffer to copy on exit.
 *
 * paced makes getppid() at a steady RATE per second for SECONDS, to find the rate a tracer keeps up
 * with for good rather than the burst its buffers absorb. Time goes in ticks of 1 ms: each tick makes
 * RATE/1000 calls (the remainder carried to the next ticks, so RATE*SECONDS calls in all), then sleeps
 * until the next tick's deadline with clock_nanosleep(TIMER_ABSTIME) on CLOCK_MONOTONIC. Deadlines are
 * absolute (start + k ms), so sleeping late does not drift. A tick whose calls end after the next
 * deadline is late: the next tick starts at once, without sleeping, and the loop runs flat out until it
 * has caught up, or to the end. The loop then lasts longer than SECONDS and "rate_achieved" (calls /
 * loop time) is below "rate_target". The sleeps are clock_nanosleep calls, about 1000 a second; reading
 * the clock is in the vDSO, no syscall.
 *
 * Only the loop is timed (CLOCK_MONOTONIC around it): process start-up, the tracer's own start-up and
 * its draining after the loop are left out. The result is one JSON line on standard output:
 *   {"loop": ..., "syscall": ..., "nr": ..., "iterations": N, "syscalls": S, "loop_ns": T,
 *    "ns_per_syscall": T/S}
 * where "nr" is the loop's syscall numbers, for tracers that print numbers instead of names. paced adds
 *   "rate_target": RATE, "rate_achieved": S*1e9/T, "seconds": SECONDS, "late_ticks": ticks that ended
 *   after the next deadline, "end_ns": CLOCK_MONOTONIC at the loop's end (for the time a tracer then
 *   takes to finish)
 * and its "iterations" and "syscalls" are both RATE*SECONDS.
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
    fprintf(stderr, "usage: workload getppid|openclose|write|read N [PATH]\n"
                    "       workload paced RATE SECONDS\n");
    exit(2);
}

/* Print with writev so that the write loop's count of write(2) calls stays exactly N. */
static void emit(const char *line)
{
    struct iovec iov = {(void *)line, strlen(line)};
    if (writev(STDOUT_FILENO, &iov, 1) < 0)
        die("writev stdout");
}

/* getppid() at rate per second for seconds, in 1 ms ticks (see the top of the file). */
static int paced(const char *rate_arg, const char *seconds_arg)
{
    char *end;
    long long rate = strtoll(rate_arg, &end, 10);
    if (*end || rate < 1)
        usage();
    long long seconds = strtoll(seconds_arg, &end, 10);
    if (*end || seconds < 1)
        usage();
    const long long tick_ns = 1000000LL, ticks_per_s = 1000;
    long long ticks = seconds * ticks_per_s;
    long long carry = 0; /* calls owed below one per tick, in thousandths */
    long long calls = 0, late = 0;

    long long t0 = now_ns();
    for (long long k = 0; k < ticks; k++) {
        carry += rate;
        long long now_calls = carry / ticks_per_s;
        carry %= ticks_per_s;
        for (long long i = 0; i < now_calls; i++)
            syscall(SYS_getppid); /* not getppid(): glibc could cache or inline it in the future */
        calls += now_calls;
        long long deadline = t0 + (k + 1) * tick_ns;
        if (now_ns() > deadline) {
            late++; /* behind: go on at once */
            continue;
        }
        struct timespec ts = {deadline / 1000000000LL, deadline % 1000000000LL};
        int err;
        while ((err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
            ;
        if (err) {
            errno = err;
            die("clock_nanosleep");
        }
    }
    long long t1 = now_ns();

    long long elapsed = t1 - t0;
    char line[512];
    snprintf(line, sizeof line,
             "{\"loop\": \"paced\", \"syscall\": \"getppid\", \"nr\": [%d], \"iterations\": %lld, "
             "\"syscalls\": %lld, \"loop_ns\": %lld, \"ns_per_syscall\": %.2f, \"rate_target\": %lld, "
             "\"rate_achieved\": %.1f, \"seconds\": %lld, \"late_ticks\": %lld, \"end_ns\": %lld}\n",
             SYS_getppid, calls, calls, elapsed, (double)elapsed / (double)calls, rate,
             (double)calls * 1e9 / (double)elapsed, seconds, late, t1);
    emit(line);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    const char *loop = argv[1];
    if (strcmp(loop, "paced") == 0) {
        if (argc != 4)
            usage();
        return paced(argv[2], argv[3]);
    }
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
