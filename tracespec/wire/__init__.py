"""The wire format: what the BPF program writes and user space reads, defined once.

Every stage that writes or reads records takes its sizes, flags and kinds from here: the planner (record
layouts), the C generator (its #defines), the generated decoder, the readers of ring and perf buffers,
the binary trace file and the recorder. It imports nothing of tracespec, so any stage may import it.

    layout   record header, slot info words and their flags, record kinds, control records
    ring     the BPF ring buffer's own framing (records as drained from it, and in binary traces)
    records  records decoded into tuples: the form the decoder hands to the pairer
    summary  a summary's counts as read out of its maps
"""
