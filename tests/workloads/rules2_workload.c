/* Syscalls whose arguments strace shows by operation: futex by command, prctl by option, arch_prctl by
 * code. Every call is deterministic and single-threaded (waits fail at once with EAGAIN, wakes find no
 * waiter); timeouts are NULL, since a timespec is not copied. The first call, prctl(PR_SET_TIMERSLACK,
 * 12345), marks where the program's own calls begin. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static long futex(uint32_t *uaddr, int op, uint32_t val, unsigned long val2, uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

int main(void)
{
    static uint32_t word = 7, other = 0, pi = 0;

    syscall(SYS_prctl, PR_SET_TIMERSLACK, 12345UL, 0UL, 0UL, 0UL);
    syscall(SYS_prctl, PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL);
    syscall(SYS_prctl, PR_SET_DUMPABLE, 1UL, 0UL, 0UL, 0UL);
    syscall(SYS_prctl, PR_GET_KEEPCAPS, 0UL, 0UL, 0UL, 0UL);
    syscall(SYS_prctl, PR_SET_KEEPCAPS, 0UL, 0UL, 0UL, 0UL);
    syscall(SYS_prctl, PR_SET_PDEATHSIG, (unsigned long)SIGUSR1, 0UL, 0UL, 0UL);
    syscall(SYS_prctl, PR_SET_PDEATHSIG, 0UL, 0UL, 0UL, 0UL);
    syscall(SYS_prctl, PR_GET_SECCOMP, 0UL, 0UL, 0UL, 0UL);
    syscall(SYS_prctl, 0x7fffUL, 1UL, 2UL, 3UL, 4UL);                 /* unknown: all four in hex */

    syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0UL);
    syscall(SYS_arch_prctl, 0x9999, 0x1234UL);                          /* unknown code */

    futex(&word, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0);
    futex(&word, FUTEX_WAIT_PRIVATE, 8, 0, NULL, 0);                    /* EAGAIN: *uaddr != val */
    futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, 0, NULL, FUTEX_BITSET_MATCH_ANY);
    futex(&word, FUTEX_WAKE_BITSET, 3, 0, NULL, 0x5);
    futex(&word, FUTEX_REQUEUE_PRIVATE, 1, 2, &other, 0);
    futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &other, 9);          /* EAGAIN: *uaddr != val3 */
    futex(&word, FUTEX_WAKE_OP_PRIVATE, 1, 1, &other, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0));
    futex(&word, FUTEX_WAKE_OP, 1, 0, &other,
          FUTEX_OP((FUTEX_OP_OPARG_SHIFT | FUTEX_OP_XOR), 0x123, FUTEX_OP_CMP_GE, 0x45));
    futex(&pi, FUTEX_UNLOCK_PI_PRIVATE, 0, 0, NULL, 0);                /* EPERM: not the owner */
    futex(&word, 0x7e, 1, 0x2, &other, 0x3);                           /* unknown command */
    return 0;
}
