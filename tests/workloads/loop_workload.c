/*
 * Small programs for the runtime tests (tests/test_e2e_runtime.py), one per mode:
 *
 *   burst N           N getppid() calls as fast as possible, then exit 0 (overflows small buffers)
 *   burst-on FILE N   wait (polling every ms) until FILE exists, burst N, create FILE.done, wait until
 *                     FILE is gone, exit 0: a test stops the tracer while the burst overflows its
 *                     buffers, and lets it drain them before the last syscalls
 *   later PATH N      wait for a byte on stdin, then openat(PATH) N times (fails: ENOENT), exit 0;
 *                     a tracer attached with -p while it waits must see the opens
 *   tick PATH         every 10 ms, openat(PATH) (fails), until killed
 *   block             read(0) until killed (a syscall in flight when the process dies)
 *   threads PATH N    N threads, each openat(PATH) once after a byte arrives on stdin, then exit 0
 *   fault FILE N      N times: map FILE afresh and openat() the path it holds, straight from the new
 *                     mapping: the page is not in the process's page tables yet, so a tracer copying
 *                     the path at entry faults (the kernel's own copy then brings the page in)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *path;
static int go[2];

static void *thread_main(void *arg)
{
    char c;
    (void)arg;
    if (read(go[0], &c, 1) == 1)
        write(go[1], &c, 1);  /* pass the byte on to the next thread */
    openat(AT_FDCWD, path, O_RDONLY);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "burst") && argc == 3) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++)
            getppid();
        return 0;
    }
    if (!strcmp(mode, "burst-on") && argc == 4) {
        struct timespec ms = {0, 1000000};
        while (access(argv[2], F_OK) != 0)
            nanosleep(&ms, NULL);
        long n = atol(argv[3]);
        for (long i = 0; i < n; i++)
            getppid();
        char done[4096];
        snprintf(done, sizeof(done), "%s.done", argv[2]);
        close(open(done, O_CREAT | O_WRONLY, 0644));
        while (access(argv[2], F_OK) == 0)
            nanosleep(&ms, NULL);
        return 0;
    }
    if (!strcmp(mode, "later") && argc == 4) {
        char c;
        if (read(0, &c, 1) != 1)
            return 1;
        for (long i = 0, n = atol(argv[3]); i < n; i++)
            openat(AT_FDCWD, argv[2], O_RDONLY);
        return 0;
    }
    if (!strcmp(mode, "tick") && argc == 3) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        for (;;) {
            openat(AT_FDCWD, argv[2], O_RDONLY);
            nanosleep(&ts, NULL);
        }
    }
    if (!strcmp(mode, "block") && argc == 2) {
        char c;
        read(0, &c, 1);
        return 0;
    }
    if (!strcmp(mode, "threads") && argc == 4) {
        int n = atoi(argv[3]);
        pthread_t t[64];
        char c;
        path = argv[2];
        if (n < 1 || n > 64 || pipe(go))
            return 2;
        for (int i = 0; i < n; i++)
            pthread_create(&t[i], NULL, thread_main, NULL);
        if (read(0, &c, 1) != 1)
            return 1;
        write(go[1], &c, 1);
        for (int i = 0; i < n; i++)
            pthread_join(t[i], NULL);
        return 0;
    }
    if (!strcmp(mode, "fault") && argc == 4) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0)
            return 1;
        for (long i = 0, n = atol(argv[3]); i < n; i++) {
            char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED)
                return 1;
            openat(AT_FDCWD, p, O_RDONLY);
            munmap(p, 4096);
        }
        return 0;
    }
    return 2;
}
