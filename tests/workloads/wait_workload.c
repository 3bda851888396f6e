/*
 * wait4 where the kernel writes no status: WNOHANG with no child ended yet (returns 0) and a wait with
 * no child left (fails with ECHILD); between them, one that does. The status word starts as garbage,
 * which a tracer that decodes what was never written would print. tests/test_e2e_fidelity.py (issue 19).
 */
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int gate[2];
    if (pipe(gate))
        return 1;
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(gate[1]);
        return read(gate[0], &c, 1) == 0 ? 7 : 1;  /* ends when the parent closes its end */
    }
    close(gate[0]);
    int status = 0x137f;  /* would read as "stopped by SIGSTOP" */
    if (wait4(-1, &status, WNOHANG, NULL) != 0)
        return 2;
    close(gate[1]);
    status = 0x137f;
    if (wait4(child, &status, 0, NULL) != child)
        return 3;
    status = 0x137f;
    return wait4(-1, &status, 0, NULL) == -1 ? 0 : 4;
}
