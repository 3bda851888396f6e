"""Tracing sessions: the code that wires the stages together for a run (runtime's loader, readers and
targets; decode's event stream; a writer from format). It sits above every stage, as pipeline.py does
for the stages before loading, so no stage needs to know those after it.

    run      one tracing run: load, start or find the targets, drain, decode, write, shut down
    record   a run that keeps records in the kernel and writes only dumps (the flight recorder)
    writers  what a session expects of the writers format/ provides
"""
