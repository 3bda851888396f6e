/* Syscalls whose arguments a whole-program comparison with strace found decoded differently: flag
 * tables of their own (socket's type flags in strace's order, faccessat2's AT_EACCESS), numbers strace
 * prints in hex (rseq's length), and the structs and buffers of later groups. argv[1] names the group;
 * its calls follow the marker close(-4242), so the loader's and libc's calls before it do not matter.
 * Every call is deterministic. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <signal.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <poll.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static int flag_calls(void)
{
    marker();
    int s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    syscall(SYS_close, s);
    s = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    syscall(SYS_close, s);
    syscall(SYS_accept4, -1, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    int one = 1;
    s = syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    syscall(SYS_setsockopt, s, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    syscall(SYS_setsockopt, s, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
    syscall(SYS_setsockopt, s, SOL_NETLINK, 99, &one, sizeof(one));   /* no such option */
    syscall(SYS_close, s);
    syscall(SYS_faccessat2, AT_FDCWD, "/nonexistent/tracespec", X_OK, AT_EACCESS);
    syscall(SYS_faccessat2, AT_FDCWD, "/", R_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW);
    syscall(SYS_faccessat2, AT_FDCWD, "", R_OK, AT_EMPTY_PATH | 0x8000);  /* an unknown bit too */
    static char area[64] __attribute__((aligned(32)));
    syscall(SYS_rseq, area, 16, 0, 0x53053053);   /* a wrong length: EINVAL */
    syscall(SYS_rseq, area, 32, 1, 0x53053053);   /* unregistering what is not registered */
    return 0;
}

static int buffer_calls(void)
{
    unsigned char bytes[16];
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(1), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    connect(s, (struct sockaddr *)&sin, sizeof(sin));   /* nobody listens on port 1 */
    struct pollfd p = {.fd = s, .events = POLLOUT};
    poll(&p, 1, 1000);
    marker();
    syscall(SYS_getrandom, bytes, 8, GRND_NONBLOCK);
    syscall(SYS_getrandom, bytes, 0, 0);
    syscall(SYS_getrandom, (void *)8, 4, 0);            /* EFAULT: the address */
    int err = -1, type = -1;
    socklen_t len = sizeof(err);
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_ERROR, &err, &len);   /* ECONNREFUSED, by name */
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_ERROR, &err, &len);   /* consumed: 0 */
    len = 2;
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_ERROR, &err, &len);   /* too short: the bytes in hex */
    len = sizeof(type);
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, &type, &len);   /* a number */
    syscall(SYS_close, s);
    return 0;
}

static int struct_calls(void)
{
    struct rlimit lim, old;
    struct statfs fs;
    int proc = open("/proc", O_RDONLY | O_DIRECTORY);
    marker();
    syscall(SYS_getrlimit, RLIMIT_STACK, &lim);
    lim.rlim_cur = 0; lim.rlim_max = RLIM_INFINITY;
    syscall(SYS_setrlimit, RLIMIT_CORE, &lim);
    lim.rlim_cur = 1000; lim.rlim_max = 4096;
    syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, &old);       /* set, and the old limits back */
    lim.rlim_cur = 1024;
    syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &lim, NULL);
    syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old);
    syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)8);             /* EFAULT: the address */
    lim.rlim_cur = 2048; lim.rlim_max = 1024;
    syscall(SYS_setrlimit, RLIMIT_NOFILE, &lim);                  /* EINVAL, the struct still read */
    syscall(SYS_statfs, "/proc", &fs);
    syscall(SYS_statfs, "/sys", &fs);
    syscall(SYS_fstatfs, proc, &fs);
    syscall(SYS_statfs, "/nonexistent/tracespec", &fs);
    syscall(SYS_statfs, "/proc", (void *)8);
    syscall(SYS_close, proc);
    return 0;
}

static int cpu_calls(void)
{
    unsigned char mask[256];
    memset(mask, 0, sizeof(mask));
    marker();
    syscall(SYS_sched_getaffinity, 0, 128, mask);           /* the kernel writes its cpumask's bytes */
    syscall(SYS_sched_getaffinity, 0, 4, mask);             /* EINVAL: the address */
    syscall(SYS_sched_getaffinity, 0, 128, (void *)8);      /* EFAULT */
    memset(mask, 0, sizeof(mask));
    mask[0] = 1;
    syscall(SYS_sched_setaffinity, 0, 8, mask);
    mask[0] = 3;
    syscall(SYS_sched_setaffinity, 0, 8, mask);
    syscall(SYS_sched_setaffinity, 0, 0, mask);             /* EINVAL, an empty mask: [] */
    mask[1] = 0x80;                                          /* CPU 15 too, which the kernel ignores when absent */
    syscall(SYS_sched_setaffinity, 0, 16, mask);
    return 0;
}

static int time_calls(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/tracespec-rules5-%d", (int)getpid());   /* the pid: the same once normalized */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return 1;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 1000};
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 1000000};
    marker();
    syscall(SYS_select, 0, NULL, NULL, NULL, &tv);
    syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, NULL);
    syscall(SYS_ppoll, NULL, 0, &ts, NULL, 8);
    struct timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT}, {.tv_sec = 1700000000, .tv_nsec = 0}};
    syscall(SYS_utimensat, AT_FDCWD, path, times, 0);
    times[0].tv_nsec = UTIME_NOW; times[1].tv_nsec = 5;
    syscall(SYS_utimensat, fd, NULL, times, 0);
    times[0].tv_sec = 0; times[0].tv_nsec = 0; times[1].tv_nsec = 1000000000;   /* EINVAL: no date for either */
    syscall(SYS_utimensat, AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_utimensat, AT_FDCWD, path, NULL, 0);
    syscall(SYS_utimensat, AT_FDCWD, path, (void *)8, 0);                       /* EFAULT: the address */
    unlink(path);
    syscall(SYS_close, fd);
    return 0;
}

static int stat_calls(const char *self)
{
    struct stat st;
    char stx[256];
    int fd = open(self, O_RDONLY);
    marker();
    syscall(SYS_newfstatat, AT_FDCWD, self, &st, 0);
    syscall(SYS_fstat, fd, &st);
    syscall(SYS_newfstatat, AT_FDCWD, "/dev/null", &st, AT_SYMLINK_NOFOLLOW);   /* a device: its number */
    syscall(SYS_newfstatat, AT_FDCWD, "/dev/tty", &st, 0);                      /* minor 0 */
    syscall(SYS_newfstatat, AT_FDCWD, "/nonexistent/tracespec", &st, 0);
    syscall(SYS_statx, AT_FDCWD, self, 0, 0xfff, stx);                          /* STATX_ALL */
    syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff, stx);                      /* STATX_BASIC_STATS */
    syscall(SYS_statx, AT_FDCWD, "/dev/null", AT_SYMLINK_NOFOLLOW, 0x1 | 0x200, stx);   /* type and size only */
    syscall(SYS_close, fd);
    return 0;
}

static int timer_calls(void)
{
    int id = -1;
    struct sigevent sev;
    struct itimerspec its, old;
    struct itimerval itv, oldv;
    memset(&sev, 0, sizeof(sev));
    memset(&its, 0, sizeof(its));
    memset(&itv, 0, sizeof(itv));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR1;
    marker();
    syscall(SYS_timer_create, CLOCK_MONOTONIC, &sev, &id);
    its.it_value.tv_sec = 100;
    syscall(SYS_timer_settime, id, 0, &its, NULL);
    its.it_value.tv_sec = 0;
    syscall(SYS_timer_settime, id, 0, &its, NULL);        /* disarmed: what it holds is known */
    syscall(SYS_timer_gettime, id, &old);
    syscall(SYS_timer_delete, id);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_value.sival_int = 7;
    sev._sigev_un._tid = getpid();
    syscall(SYS_timer_create, CLOCK_REALTIME, &sev, &id);
    syscall(SYS_timer_delete, id);
    sev.sigev_notify = SIGEV_NONE;
    sev.sigev_value.sival_ptr = NULL;
    syscall(SYS_timer_create, CLOCK_BOOTTIME, &sev, &id);
    syscall(SYS_timer_delete, id);
    syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, &id);
    syscall(SYS_timer_settime, id, TIMER_ABSTIME, (void *)8, NULL);   /* EFAULT: the address */
    syscall(SYS_timer_delete, id);
    syscall(SYS_getitimer, ITIMER_PROF, &oldv);                        /* never armed: zeros */
    itv.it_interval.tv_usec = 500; itv.it_value.tv_sec = 100;
    syscall(SYS_setitimer, ITIMER_VIRTUAL, &itv, NULL);
    memset(&itv, 0, sizeof(itv));
    syscall(SYS_setitimer, ITIMER_PROF, &itv, &oldv);
    int fd = syscall(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    its.it_value.tv_sec = 1;
    syscall(SYS_timerfd_settime, fd, TFD_TIMER_ABSTIME, &its, &old);   /* long past: it expires at once */
    syscall(SYS_timerfd_gettime, fd, &old);
    syscall(SYS_close, fd);
    return 0;
}

static int unix_calls(void)
{
    int sv[2];
    struct sockaddr_un sun;
    socklen_t len;
    marker();
    syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
    len = sizeof(sun);
    syscall(SYS_getsockname, sv[0], &sun, &len);                  /* unnamed: the family alone */
    len = sizeof(sun);
    syscall(SYS_getpeername, sv[1], &sun, &len);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/tracespec-rules5-%d.sock", (int)getpid());
    unlink(sun.sun_path);
    syscall(SYS_bind, s, &sun, sizeof(sun));
    len = sizeof(sun);
    syscall(SYS_getsockname, s, &sun, &len);
    unlink(sun.sun_path);
    int a = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, "\0tracespec-abstract", 19);
    syscall(SYS_bind, a, &sun, 2 + 19);
    len = sizeof(sun);
    syscall(SYS_getsockname, a, &sun, &len);
    syscall(SYS_bind, a, &sun, 2);                                 /* the family alone, at entry too */
    syscall(SYS_close, a);
    syscall(SYS_close, s);
    return 0;
}

static int dir_calls(void)
{
    char dir[64], path[96], buf[4096];
    snprintf(dir, sizeof(dir), "/tmp/tracespec-rules5-%d.d", (int)getpid());
    mkdir(dir, 0700);
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/entry-%d", dir, i);
        close(open(path, O_CREAT | O_WRONLY, 0600));
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    marker();
    syscall(SYS_getdents64, fd, buf, sizeof(buf));      /* all 7 entries */
    syscall(SYS_getdents64, fd, buf, sizeof(buf));      /* the end: 0 entries */
    lseek(fd, 0, SEEK_SET);
    syscall(SYS_getdents, fd, buf, sizeof(buf));        /* the old struct linux_dirent */
    syscall(SYS_getdents64, fd, buf, 8);                /* EINVAL: too small for one */
    syscall(SYS_getdents64, -1, buf, sizeof(buf));
    syscall(SYS_close, fd);
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/entry-%d", dir, i);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "flags"))
        return flag_calls();
    if (!strcmp(argv[1], "dirs"))
        return dir_calls();
    if (!strcmp(argv[1], "unix"))
        return unix_calls();
    if (!strcmp(argv[1], "timers"))
        return timer_calls();
    if (!strcmp(argv[1], "stat"))
        return stat_calls(argv[0]);
    if (!strcmp(argv[1], "times"))
        return time_calls();
    if (!strcmp(argv[1], "cpus"))
        return cpu_calls();
    if (!strcmp(argv[1], "structs"))
        return struct_calls();
    if (!strcmp(argv[1], "buffers"))
        return buffer_calls();
    return 2;
}
