/* getdents and getdents64 as strace counts their entries: a directory of 1500 entries (a few reads of
 * 32 KiB and of small buffers), an empty read at the end, failures, and an unreadable buffer.
 *   dirents DIR: DIR must not exist; it is made, filled and removed
 *   read DIR: reads DIR (made by the test, the same for strace and tracespec: the entries' inodes) with
 *     getdents64 and getdents, 32 KiB at a time, then a few entries at a time */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char buf[32768];

static int read_dir(const char *dir)
{
    close(-4242);  /* the marker the tests compare from */
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    if (d < 0)
        return 1;
    while (syscall(SYS_getdents64, d, buf, sizeof(buf)) > 0)
        ;
    lseek(d, 0, SEEK_SET);
    while (syscall(SYS_getdents, d, buf, sizeof(buf)) > 0)
        ;
    lseek(d, 0, SEEK_SET);
    for (int i = 0; i < 3; i++) {
        syscall(SYS_getdents64, d, buf, 100);
        syscall(SYS_getdents, d, buf, 100);
    }
    lseek(d, 0, SEEK_SET);
    syscall(SYS_getdents64, d, (void *)8, sizeof(buf));  /* EFAULT */
    close(d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "read") == 0)
        return read_dir(argv[2]);
    if (argc < 3 || strcmp(argv[1], "dirents") != 0)
        return 2;
    const char *dir = argv[2];
    if (mkdir(dir, 0700) != 0)
        return 1;
    char path[4096];
    for (int i = 0; i < 1500; i++) {  /* names of 1 to 40 characters */
        snprintf(path, sizeof(path), "%s/%.*s%d", dir, i % 37, "abcdefghijklmnopqrstuvwxyzabcdefghijklmn", i);
        int fd = open(path, O_CREAT | O_WRONLY, 0600);
        if (fd >= 0)
            close(fd);
    }
    close(-4242);  /* the marker the tests compare from */
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    while (syscall(SYS_getdents64, d, buf, sizeof(buf)) > 0)
        ;
    lseek(d, 0, SEEK_SET);
    for (int i = 0; i < 3; i++)
        syscall(SYS_getdents, d, buf, 200);
    syscall(SYS_getdents64, d, buf, 10);  /* too small for the next entry: EINVAL */
    syscall(SYS_getdents64, -1, buf, sizeof(buf));
    syscall(SYS_getdents64, d, (void *)8, sizeof(buf));  /* EFAULT */
    close(d);
    /* remove what was made */
    for (int i = 0; i < 1500; i++) {
        snprintf(path, sizeof(path), "%s/%.*s%d", dir, i % 37, "abcdefghijklmnopqrstuvwxyzabcdefghijklmn", i);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
