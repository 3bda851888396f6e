"""Where rt_sigreturn finds what it restores: x86_64's signal frame on the user stack.

At rt_sigreturn's entry the handler has returned through the frame's pretcode (popping it), so the
user stack pointer points at the frame's struct ucontext (the kernel's rt_sigreturn takes the frame at
sp - 8). ucontext is uc_flags (8), uc_link (8), uc_stack (stack_t: 24), uc_mcontext (struct sigcontext:
r8..r15, rdi, rsi, rbp, rbx, rdx, rax, ... 256 bytes), then uc_sigmask: the mask the return restores,
which strace prints as rt_sigreturn({mask=[...]}), and the rax it restores, its return value.
"""

UCONTEXT_MCONTEXT = 40  # uc_flags, uc_link, uc_stack
SIGCONTEXT_RAX = 13 * 8  # r8..r15, rdi, rsi, rbp, rbx, rdx come before it
SIGCONTEXT_SIZE = 256
SIGFRAME_RAX = UCONTEXT_MCONTEXT + SIGCONTEXT_RAX  # 144 bytes above the user stack pointer
SIGFRAME_MASK = UCONTEXT_MCONTEXT + SIGCONTEXT_SIZE  # 296
