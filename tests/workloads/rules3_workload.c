/* Structs strace decodes (utsname, rusage, sysinfo, sigaction, sigset masks) and socket addresses with
 * the length the kernel returns, for tests/test_e2e_rules3.py. Signal actions and masks go through raw
 * syscalls so that their handler and restorer are fixed numbers, the same in every run. argv[1] "net"
 * runs the socket part: fixed ports on 127.0.0.1, closed with SO_LINGER 0 so no TIME_WAIT outlives a run. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

struct kernel_sigaction {  /* x86_64's struct sigaction as the kernel reads it */
    uint64_t handler, flags, restorer, mask;
};

#define SA_RESTORER_BIT 0x04000000

static void structs(void) {
    struct utsname u;
    struct rusage ru;
    struct sysinfo si;
    uname(&u);
    getrusage(RUSAGE_SELF, &ru);
    getrusage(RUSAGE_CHILDREN, &ru);
    getrusage(12345, &ru);  /* EINVAL: no struct to print */
    sysinfo(&si);
    pid_t child = fork();
    if (child == 0)
        _exit(3);
    int status;
    wait4(child, &status, 0, &ru);

    struct kernel_sigaction act = {0x4000, SA_RESTORER_BIT | SA_RESTART, 0x1234, 0}, old;
    act.mask = (1ULL << (SIGINT - 1)) | (1ULL << (SIGTERM - 1));
    syscall(SYS_rt_sigaction, SIGUSR1, &act, &old, 8);
    act.handler = (uint64_t)SIG_IGN;
    act.flags = SA_RESTORER_BIT | SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    act.mask = ~0ULL;
    syscall(SYS_rt_sigaction, SIGUSR1, &act, &old, 8);
    act.handler = (uint64_t)SIG_DFL;
    act.flags = SA_RESTORER_BIT;
    act.mask = 0;
    syscall(SYS_rt_sigaction, SIGUSR1, &act, &old, 8);
    syscall(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8);
    syscall(SYS_rt_sigaction, SIGKILL, &act, NULL, 8);  /* EINVAL */

    uint64_t set = (1ULL << (SIGINT - 1)) | (1ULL << (SIGTERM - 1)), oset;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oset, 8);
    set = ~((1ULL << 31) | (1ULL << 32));  /* all but RTMIN and RT_1 */
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, &oset, 8);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &oset, 8);
    set = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, &oset, 4);  /* EINVAL: the size is wrong */
}

static void linger0(int fd) {
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

static void net(void) {
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(47123)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bind(srv, (struct sockaddr *)&a, sizeof a);
    listen(srv, 4);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(srv, (struct sockaddr *)&ss, &len);  /* [128 => 16] */
    len = sizeof a;
    getsockname(srv, (struct sockaddr *)&ss, &len);  /* [16] */
    len = 8;
    getsockname(srv, (struct sockaddr *)&ss, &len);  /* truncated: [8 => 16] */

    struct sockaddr_in c = a;
    c.sin_port = htons(47124);
    int cli = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(cli, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    bind(cli, (struct sockaddr *)&c, sizeof c);
    connect(cli, (struct sockaddr *)&a, sizeof a);
    len = sizeof ss;
    int conn = accept(srv, (struct sockaddr *)&ss, &len);
    len = sizeof ss;
    getpeername(cli, (struct sockaddr *)&ss, &len);
    linger0(conn);
    linger0(cli);
    close(conn);
    close(cli);

    int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    struct sockaddr_nl n = {.nl_family = AF_NETLINK, .nl_pid = 0, .nl_groups = 0};
    bind(nl, (struct sockaddr *)&n, sizeof n);
    len = sizeof ss;
    getsockname(nl, (struct sockaddr *)&ss, &len);
    close(nl);
    close(srv);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "net") == 0)
        net();
    else
        structs();
    return 0;
}
