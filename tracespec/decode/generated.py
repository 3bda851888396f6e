"""The generated decoder, made and loaded: rendered from a schema by codegen/decoder.py (from layouts
checked to be plain names and numbers), compiled, and run with the record types as its only names."""

from __future__ import annotations

from typing import Callable

from tracespec.codegen.decoder import render_decoder
from tracespec.plan.model import Schema
from tracespec.wire import records


def load_decoder(schema: Schema) -> Callable[[list, list], int]:
    """Render and load the decoder for a schema: its decode_all(records, out), which appends each
    record's tuple to out and returns how many records could not be decoded."""
    source = render_decoder(schema)
    namespace = {"Slot": records.Slot, "EnterRecord": records.EnterRecord, "ExitRecord": records.ExitRecord,
                 "ProcExitRecord": records.ProcExitRecord, "RetryRecord": records.RetryRecord,
                 "ExecArgsRecord": records.ExecArgsRecord, "ForkRecord": records.ForkRecord,
                 "SignalRecord": records.SignalRecord, "SigframeRecord": records.SigframeRecord,
                 "__name__": "tracespec_decoder"}
    exec(compile(source, "<tracespec decoder>", "exec"), namespace)
    return namespace["decode_all"]
