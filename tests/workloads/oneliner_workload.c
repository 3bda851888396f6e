/* For the one-liner tests: `rare PATH` makes one access() and says so on stdout, then idles; `mix DIR`
 * opens, writes, stats and renames files in DIR, fails on purpose, and forks a child that does too. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "rare") == 0) {
        access(argv[2], F_OK);
        write(1, "done\n", 5);
        sleep(4);
        return 0;
    }
    if (argc != 3) return 2;
    char target[4096], other[4096];
    snprintf(target, sizeof target, "%s/target", argv[2]);
    snprintf(other, sizeof other, "%s/other", argv[2]);
    int fd = open(target, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "hello, world, this is more than thirty-two bytes long\n", 54);
    close(fd);
    struct stat st;
    stat(target, &st);
    stat(other, &st);                       /* fails: ENOENT */
    access("/nonexistent/oneliner", F_OK);  /* fails */
    pid_t child = fork();
    if (child == 0) {
        int f = open(target, O_RDONLY);
        char buf[64];
        read(f, buf, sizeof buf);
        close(f);
        open(other, O_RDONLY);              /* fails */
        _exit(3);
    }
    int status;
    waitpid(child, &status, 0);
    rename(target, other);
    unlink(other);
    return 0;
}
