"""tracespec: declarative syscall tracing with eBPF.

The pipeline, one package per stage, each knowing nothing of the stages after it:

    spec      YAML text -> Spec (filters parsed by grammar.lark)
    validate  Spec + catalogue + kernel profile -> ValidatedSpec
    plan      ValidatedSpec -> Plan (attach points, record layouts, filter split)
    codegen   Plan -> BPF C and a matching Python decoder (templates/)
    runtime   load/attach with BCC, start or find targets, drain buffers
    decode    raw records -> typed records -> syscall events
    format    events -> strace-style text, JSON Lines, binary traces, summaries
"""

__version__ = "0.1.0"
