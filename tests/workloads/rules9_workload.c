/* Syscalls strace decodes that tracespec printed as bare numbers (issue 19): argv[1] names the group,
 * whose calls follow the marker close(-4242).
 * "altstack": sigaltstack's stack_t both ways (asked for, set, disabled, an unknown flag), NULL, an
 *   unreadable one, and a failing call whose old stack stays an address;
 * "ids": getresuid and getresgid's three ids written back (and a NULL one: the call fails), then
 *   setreuid, setresuid, setfsuid and setresgid with -1 (unchanged) and an id above 2^31, which strace
 *   prints unsigned;
 * "caps": capget and capset with each header version (two words of capabilities or one), an unknown
 *   version, a NULL or unreadable header or data, and capabilities above the known ones;
 * "persona": personality asked for (0xffffffff), set with a flag, set to an unknown type with an unknown
 *   flag, and back;
 * "ioprio": ioprio_set and ioprio_get of each class and who (in a process group of its own), an unknown
 *   class and who.
 * Every call is deterministic and leaves the process as it found it (run as root). */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

static void marker(void)
{
    syscall(SYS_close, -4242);
}

static char altstack[16384];

static void altstack_calls(void)
{
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0}, old;
    sigaltstack(NULL, &old);
    sigaltstack(&ss, &old);
    sigaltstack(&ss, NULL);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, &old);
    sigaltstack((stack_t *)1, NULL);
    ss.ss_flags = 0x10;
    sigaltstack(&ss, (stack_t *)8);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
}

static void id_calls(void)
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    syscall(SYS_getresuid, NULL, &e, &s);
    setreuid(-1, 0);
    setresuid(-1, -1, 4294967294u);
    setresuid(-1, -1, 0);
    setfsuid(-1);
    setresgid(-1, -1, -1);
    syscall(SYS_setuid, 0);
}

static void cap_calls(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    syscall(SYS_capget, &h, d);
    syscall(SYS_capset, &h, d);
    struct __user_cap_data_struct fewer[2];
    memcpy(fewer, d, sizeof d);
    fewer[1].effective = 0;
    fewer[0].inheritable = 0;
    fewer[1].inheritable = 0xfffffe00;  /* above CAP_CHECKPOINT_RESTORE: no names */
    syscall(SYS_capset, &h, fewer);
    h.version = _LINUX_CAPABILITY_VERSION_1;
    syscall(SYS_capget, &h, d);
    h.version = _LINUX_CAPABILITY_VERSION_2;
    syscall(SYS_capget, &h, d);
    h.version = 0x12345;
    syscall(SYS_capget, &h, NULL);
    syscall(SYS_capget, NULL, d);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    syscall(SYS_capget, &h, (void *)8);
    syscall(SYS_capset, (void *)8, d);
}

static void persona_calls(void)
{
    int was = personality(0xffffffff);
    personality(PER_LINUX | ADDR_NO_RANDOMIZE);
    personality(0xffffffff);
    personality(0x10001);  /* an unknown type, an unknown flag */
    personality(PER_LINUX32);
    personality(was);
}

static void ioprio_calls(void)
{
    setpgid(0, 0);  /* a process group of its own: its best priority is this process's */
    int was = syscall(SYS_ioprio_get, 1, 0);
    syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 4);
    syscall(SYS_ioprio_get, 1, 0);
    syscall(SYS_ioprio_get, 2, 0);
    syscall(SYS_ioprio_set, 1, 0, 3 << 13);
    syscall(SYS_ioprio_get, 3, 4242424);  /* a user with no process: ESRCH */
    syscall(SYS_ioprio_set, 9, 0, (5 << 13) | 4);
    syscall(SYS_ioprio_set, 1, 0, was);
}

int main(int argc, char **argv)
{
    const char *group = argc > 1 ? argv[1] : "";
    marker();
    if (!strcmp(group, "altstack"))
        altstack_calls();
    else if (!strcmp(group, "ids"))
        id_calls();
    else if (!strcmp(group, "caps"))
        cap_calls();
    else if (!strcmp(group, "persona"))
        persona_calls();
    else if (!strcmp(group, "ioprio"))
        ioprio_calls();
    else
        return 2;
    return 0;
}
