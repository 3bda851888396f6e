/* Syscalls whose arguments strace decodes from memory by operation: fcntl's struct flock and
 * f_owner_ex, ioctl's termios and winsize, futex's timeout, prctl's strings, AF_PACKET addresses and
 * signal masks. argv[1] names the group; its calls follow the marker close(-4242), so the dynamic
 * loader's and libc's calls before it do not matter. Every call is deterministic. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/futex.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <asm/termbits.h>  /* the kernel's struct termios and termios2, which glibc's termios.h would clash with */

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static int fcntl_calls(void)
{
    char path[] = "/tmp/tracespec-rules4-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    unlink(path);
    marker();
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    syscall(SYS_fcntl, fd, F_SETLK, &fl);
    fl.l_type = F_WRLCK; fl.l_whence = SEEK_CUR; fl.l_start = 10; fl.l_len = 100;
    syscall(SYS_fcntl, fd, F_SETLKW, &fl);
    syscall(SYS_fcntl, fd, F_GETLK, &fl);                   /* the kernel writes l_type=F_UNLCK back */
    syscall(SYS_fcntl, fd, F_OFD_GETLK, &fl);
    fl.l_type = F_UNLCK; fl.l_whence = SEEK_END; fl.l_start = -5;
    syscall(SYS_fcntl, fd, F_OFD_SETLK, &fl);               /* EINVAL: l_pid is not 0 */
    fl.l_pid = 0;
    syscall(SYS_fcntl, fd, F_OFD_SETLKW, &fl);
    syscall(SYS_fcntl, -1, F_SETLK, &fl);                   /* a failed set still shows the struct */
    syscall(SYS_fcntl, fd, F_GETLK, (void *)8);             /* EFAULT: the address */
    syscall(SYS_fcntl, -1, F_GETLK, &fl);                   /* a failed get: the address */
    syscall(SYS_fcntl, fd, F_SETLK, NULL);
    fl.l_type = 9; fl.l_whence = 7;                         /* unknown type and whence */
    syscall(SYS_fcntl, fd, F_SETLK, &fl);
    struct f_owner_ex owner = {F_OWNER_TID, getpid()};
    syscall(SYS_fcntl, fd, F_SETOWN_EX, &owner);
    memset(&owner, 0, sizeof owner);
    syscall(SYS_fcntl, fd, F_GETOWN_EX, &owner);
    owner.type = F_OWNER_PID;
    syscall(SYS_fcntl, fd, F_SETOWN_EX, &owner);
    owner.type = 77;
    syscall(SYS_fcntl, fd, F_SETOWN_EX, &owner);            /* EINVAL, an unknown type */
    syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);            /* a number where a struct could be */
    syscall(SYS_fcntl, fd, F_GETFD);
    return 0;
}

static int ioctl_calls(void)
{
    /* a pseudo-terminal of its own, controlling no session: no job control signals, same settings each run */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master))
        return 1;
    int tty = open(ptsname(master), O_RDWR | O_NOCTTY);
    char path[] = "/tmp/tracespec-rules4-XXXXXX";
    int file = mkstemp(path);
    if (tty < 0 || file < 0)
        return 1;
    unlink(path);
    marker();
    struct termios t;
    struct termios2 t2;
    struct winsize ws;
    syscall(SYS_ioctl, tty, TCGETS, &t);
    syscall(SYS_ioctl, tty, TCSETS, &t);
    syscall(SYS_ioctl, tty, TCSETSW, &t);
    syscall(SYS_ioctl, tty, TCSETSF, &t);
    syscall(SYS_ioctl, tty, TCGETS2, &t2);
    syscall(SYS_ioctl, tty, TCSETS2, &t2);
    /* bits strace names in odd ways: an input baud rate, TAB3 as XTABS, nothing set, a bit of no name */
    t.c_cflag |= B9600 << IBSHIFT;
    t.c_oflag = NL1 | TAB3;
    t.c_lflag = 0;
    t.c_iflag |= 0x80000000;
    syscall(SYS_ioctl, tty, TCSETS, &t);
    syscall(SYS_ioctl, tty, TCGETS, &t);
    unsigned char termio[18];                              /* struct termio: 16-bit flags, 8 characters */
    syscall(SYS_ioctl, tty, TCGETA, termio);
    syscall(SYS_ioctl, tty, TCSETA, termio);
    syscall(SYS_ioctl, tty, TIOCGWINSZ, &ws);
    ws.ws_row = 24; ws.ws_col = 80;
    syscall(SYS_ioctl, tty, TIOCSWINSZ, &ws);
    syscall(SYS_ioctl, tty, TIOCGWINSZ, &ws);
    syscall(SYS_ioctl, -1, TCGETS, &t);                    /* a failed get: the address */
    syscall(SYS_ioctl, tty, TCGETS, (void *)8);
    syscall(SYS_ioctl, tty, TCSETS, (void *)8);            /* unreadable: the address */
    syscall(SYS_ioctl, file, TCSETS, &t);                  /* ENOTTY, the struct read at entry still shows */
    syscall(SYS_ioctl, tty, TIOCGWINSZ, NULL);
    int n = 1;
    syscall(SYS_ioctl, tty, FIONBIO, &n);
    syscall(SYS_ioctl, tty, FIONREAD, &n);
    syscall(SYS_ioctl, tty, TIOCGPGRP, &n);                /* ENOTTY: not its controlling terminal */
    n = TIOCM_DTR | TIOCM_RTS;
    syscall(SYS_ioctl, tty, TIOCMSET, &n);
    syscall(SYS_ioctl, tty, TIOCMGET, &n);
    syscall(SYS_ioctl, tty, TCXONC, TCOON);
    syscall(SYS_ioctl, tty, TCFLSH, TCIFLUSH);
    syscall(SYS_ioctl, tty, TCSBRK, 1);
    syscall(SYS_ioctl, tty, TIOCNOTTY);
    syscall(SYS_ioctl, tty, TIOCEXCL);
    syscall(SYS_ioctl, tty, TIOCNXCL);
    syscall(SYS_ioctl, tty, TIOCLINUX, 0);                 /* a terminal request strace leaves in hex */
    return 0;
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const void *timeout, uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

static int futex_calls(void)
{
    static uint32_t word = 7, other = 0, pi = 0;
    struct timespec second = {1, 0}, micro = {0, 1000}, past = {1, 5}, bad = {0, 2000000000}, negative = {-1, 0};
    marker();
    futex(&word, FUTEX_WAIT_PRIVATE, 8, &second, NULL, 0);      /* EAGAIN at once: *uaddr != val */
    futex(&word, FUTEX_WAIT, 7, &micro, NULL, 0);               /* ETIMEDOUT after a microsecond */
    futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, &past, NULL, FUTEX_BITSET_MATCH_ANY);  /* absolute, passed */
    futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 7, &past, NULL, 0x3);
    futex(&word, FUTEX_WAIT_PRIVATE, 7, &bad, NULL, 0);         /* EINVAL: the struct still shows */
    futex(&word, FUTEX_WAIT_PRIVATE, 7, &negative, NULL, 0);
    futex(&word, FUTEX_WAIT_PRIVATE, 7, (void *)8, NULL, 0);    /* EFAULT: the address */
    futex(&word, FUTEX_WAIT_PRIVATE, 8, NULL, NULL, 0);
    futex(&pi, FUTEX_LOCK_PI_PRIVATE, 0, &past, NULL, 0);       /* unowned: taken at once */
    futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
    futex(&word, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 8, &second, &pi, 0);
    futex(&word, FUTEX_REQUEUE_PRIVATE, 1, (void *)5, &other, 0);   /* a count where a timeout could be */
    futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &other, 7);
    futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &other, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0));
    return 0;
}

static long pr(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
    return syscall(SYS_prctl, option, a2, a3, a4, a5);
}

static int prctl_calls(void)
{
    char name[16] = "";
    int value = 0;
    void *tid_address = NULL;
    marker();
    pr(PR_SET_NAME, (unsigned long)"rules4", 0, 0, 0);
    pr(PR_GET_NAME, (unsigned long)name, 0, 0, 0);
    pr(PR_SET_NAME, (unsigned long)"a-name-of-seventeen", 0, 0, 0);   /* strace shows 15 bytes and "..." */
    pr(PR_GET_NAME, (unsigned long)name, 0, 0, 0);
    pr(PR_GET_NAME, 8, 0, 0, 0);                                       /* EFAULT: the address */
    pr(PR_SET_NAME, 0, 0, 0, 0);
    pr(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
    pr(PR_GET_PDEATHSIG, (unsigned long)&value, 0, 0, 0);
    pr(PR_GET_CHILD_SUBREAPER, (unsigned long)&value, 0, 0, 0);
    pr(PR_GET_TSC, (unsigned long)&value, 0, 0, 0);
    pr(PR_GET_UNALIGN, (unsigned long)&value, 0, 0, 0);               /* EINVAL on x86_64: the address */
    pr(PR_GET_TID_ADDRESS, (unsigned long)&tid_address, 0, 0, 0);
    pr(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0);
    pr(PR_CAPBSET_READ, 99, 0, 0, 0);
    pr(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0);
    pr(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    pr(PR_SET_PTRACER, (unsigned long)-1, 0, 0, 0);
    pr(PR_SET_PTRACER, 0, 0, 0, 0);
    pr(PR_GET_SECUREBITS, 0, 0, 0, 0);
    pr(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS, 0, 0, 0);
    pr(PR_GET_SECUREBITS, 0, 0, 0, 0);
    pr(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0);
    pr(PR_SET_UNALIGN, PR_UNALIGN_NOPRINT, 0, 0, 0);
    pr(PR_SET_MM, PR_SET_MM_START_CODE, 0, 0, 0);
    pr(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0);
    pr(PR_MCE_KILL_GET, 0, 0, 0, 0);
    pr(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 5, 0, 0);
    pr(PR_GET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, 0, 0, 0);
    pr(PR_SET_SPECULATION_CTRL, PR_SPEC_STORE_BYPASS, PR_SPEC_ENABLE, 0, 0);
    pr(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    pr(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    pr(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    pr(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0, 0, 8);    /* a name strace cannot read either (tracespec never copies it) */
    pr(PR_SET_VMA, 7, 1, 2, 3);
    pr(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 8, 0, 0);                   /* EFAULT: no filter set */
    pr(PR_SET_SECCOMP, 99, 1, 2, 3);
    return 0;
}

static int packet_calls(void)
{
    int lo = if_nametoindex("lo");  /* libc asks a socket of its own */
    marker();
    int raw = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    int dgram = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_802_EX1));
    if (raw < 0 || dgram < 0)
        return 1;
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = lo};
    bind(raw, (struct sockaddr *)&sll, sizeof sll);
    socklen_t len = sizeof sll;
    getsockname(raw, (struct sockaddr *)&sll, &len);            /* 18 bytes back: strace shows them raw */
    sll.sll_protocol = htons(ETH_P_802_EX1);
    sll.sll_halen = 6;
    memcpy(sll.sll_addr, "\x02\x00\x00\xab\xcd\xef", 6);
    sendto(dgram, "x", 1, 0, (struct sockaddr *)&sll, sizeof sll);  /* to lo, looped back */
    sll.sll_ifindex = 12345; sll.sll_hatype = 0x4242; sll.sll_pkttype = 9; sll.sll_protocol = htons(0x1234);
    connect(dgram, (struct sockaddr *)&sll, sizeof sll);          /* no name for any of them */
    connect(dgram, (struct sockaddr *)&sll, 19);                  /* short of a sockaddr_ll: raw bytes */
    sll.sll_halen = 10;
    connect(dgram, (struct sockaddr *)&sll, sizeof sll);          /* more address than the struct holds */
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
}

static int sigmask_calls(void)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    signal(SIGUSR1, on_signal);
    raise(SIGUSR1);                                        /* blocked: pending until a suspend lets it in */
    marker();
    uint64_t set = 0, none = 0, usr2 = 1UL << (SIGUSR2 - 1), all_but_usr1 = ~(1UL << (SIGUSR1 - 1));
    uint64_t many = (1UL << 40) - 1;                       /* 40 of 64: under strace's two thirds */
    syscall(SYS_rt_sigpending, &set, 8);
    syscall(SYS_rt_sigpending, &set, 4);                   /* a shorter set, which rt_sigpending takes */
    syscall(SYS_rt_sigpending, &set, 16);                  /* EINVAL: the address */
    syscall(SYS_rt_sigpending, (void *)8, 8);
    syscall(SYS_rt_sigpending, NULL, 8);
    syscall(SYS_rt_sigsuspend, &none, 8);                  /* SIGUSR1 comes in at once */
    raise(SIGUSR1);
    syscall(SYS_rt_sigsuspend, &usr2, 8);
    raise(SIGUSR1);
    syscall(SYS_rt_sigsuspend, &all_but_usr1, 8);          /* ~[USR1] */
    syscall(SYS_rt_sigsuspend, &none, 4);                  /* EINVAL: the address */
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &many, NULL, 8);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "fcntl"))
        return fcntl_calls();
    if (!strcmp(argv[1], "ioctl"))
        return ioctl_calls();
    if (!strcmp(argv[1], "futex"))
        return futex_calls();
    if (!strcmp(argv[1], "prctl"))
        return prctl_calls();
    if (!strcmp(argv[1], "packet"))
        return packet_calls();
    if (!strcmp(argv[1], "sigmask"))
        return sigmask_calls();
    return 2;
}
