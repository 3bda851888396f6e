/*
 * A program whose file syscalls are known: successes and failures of every syscall in
 * specs/fileio.yaml, binary and text buffers, a path of more than 300 characters, paths longer than
 * the kernel accepts, and a forked child with file activity of its own.
 *
 * tests/test_e2e_strace.py runs it under strace and under tracespec and compares every line.
 * Usage: fileio_workload DIR   (DIR: an empty scratch directory)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static char path[8192];

static const char *in(const char *dir, const char *name)
{
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static void child_work(const char *dir)
{
    char buf[64];
    int fd = open(in(dir, "child.txt"), O_RDWR | O_CREAT | O_EXCL, 0600);
    write(fd, "from the child\n", 15);
    lseek(fd, 0, SEEK_SET);
    read(fd, buf, sizeof(buf));
    close(fd);
    openat(AT_FDCWD, in(dir, "no-such-file"), O_RDONLY);
    unlink(in(dir, "child.txt"));
    _exit(3);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    char buf[256];
    struct stat st;
    static const char binary[] = "\0\1\2\3\177\200\377\t\n\r\v\f\"\\ 8\0019 text after the first 32 bytes";

    /* successes */
    int fd = open(in(dir, "a.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0640);
    write(fd, "hello\n", 6);
    write(fd, binary, sizeof(binary) - 1);
    pwrite(fd, "XY", 2, 1);
    close(fd);
    fd = openat(AT_FDCWD, in(dir, "a.txt"), O_RDONLY | O_CLOEXEC);
    read(fd, buf, 3);
    pread(fd, buf, 40, 2);
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    fstat(fd, &st);
    close(fd);
    stat(in(dir, "a.txt"), &st);
    lstat(dir, &st);
    fstatat(AT_FDCWD, in(dir, "a.txt"), &st, AT_SYMLINK_NOFOLLOW);
    mkdir(in(dir, "sub"), 0755);
    mkdirat(AT_FDCWD, in(dir, "sub2"), 0700);
    rename(in(dir, "a.txt"), in(dir, "b.txt"));
    char other[8192];
    snprintf(other, sizeof(other), "%s/c.txt", dir);
    renameat(AT_FDCWD, in(dir, "b.txt"), AT_FDCWD, other);
    fd = creat(in(dir, "d.txt"), 0600);
    close(fd);
    unlinkat(AT_FDCWD, in(dir, "sub2"), AT_REMOVEDIR);
    rmdir(in(dir, "sub"));

    /* failures */
    open("/nonexistent/dir/file", O_RDONLY);
    open(dir, O_WRONLY);
    read(-1, buf, 1);
    write(12345, "x", 1);
    close(12345);
    mkdir(dir, 0755);
    rmdir(in(dir, "never-made"));
    unlink(dir);
    syscall(SYS_renameat2, AT_FDCWD, other, AT_FDCWD, in(dir, "d.txt"), RENAME_NOREPLACE);
    stat(in(dir, "missing"), &st);

    /* a path of more than 300 characters, never to be cut */
    char longname[400];
    memset(longname, 'L', sizeof(longname));
    longname[0] = '/';
    memcpy(longname + 100, "/middle/", 8);
    longname[sizeof(longname) - 1] = '\0';
    open(longname, O_RDONLY);
    /* longer than PATH_MAX allows: strace shows 4095 characters and "..." */
    static char huge[5000];
    memset(huge, 'h', sizeof(huge) - 1);
    huge[0] = '/';
    open(huge, O_RDONLY);
    static char exact[4096];
    memset(exact, 'e', sizeof(exact) - 1);
    exact[0] = '/';
    open(exact, O_RDONLY);

    /* a child with file activity of its own */
    pid_t pid = fork();
    if (pid == 0)
        child_work(dir);
    int status;
    waitpid(pid, &status, 0);
    unlink(other);
    unlink(in(dir, "d.txt"));
    return WEXITSTATUS(status) == 3 ? 0 : 1;
}
