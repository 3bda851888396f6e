"""Stage 7: syscall events -> strace-style text, JSON Lines, binary traces."""
