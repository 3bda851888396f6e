"""tracespec: declarative syscall tracing with eBPF.

The pipeline, one package per stage, each knowing nothing of the stages after it:

    spec      YAML text -> Spec (filters parsed by grammar.lark)
    validate  Spec + catalogue + kernel profile -> ValidatedSpec
    plan      ValidatedSpec -> Plan (attach points, record layouts, filter split)
    codegen   Plan -> BPF C and a matching Python decoder (templates/)
    runtime   load/attach with BCC, start or find targets, drain buffers
    decode    raw records -> typed records (wire/records.py) -> syscall events
    format    events -> strace-style text, JSON Lines, binary traces, summaries

Beneath them, shared by any stage: wire (the wire format), catalogue, kernel (profiles, BTF), errors and
quote.py (the one escape of bytes for a terminal). Above them, wiring the stages together: pipeline.py
(spec -> C), session/ (run.py: a tracing run; record.py: the flight recorder), serve/ and cli.py.
tests/test_layering.py holds every package to this order.
"""

__version__ = "0.1.0"
