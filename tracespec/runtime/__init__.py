"""Stage 5: load and attach with BCC, start or find the targets, drain the buffers, shut down cleanly."""
