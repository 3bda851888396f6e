"""Stage 6: raw records -> typed records -> syscall events."""
