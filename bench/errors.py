"""The one exception the benchmark reports as a single line (run.py prints it and exits 1)."""


class BenchError(Exception):
    pass
