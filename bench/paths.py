"""Where the benchmark and the repository are, and tracespec importable from the repository even when
the Python running a bench script has not installed it (the constants below come from tracespec itself,
so that the bench measures what tracespec does, not a copy of it)."""

from __future__ import annotations

import os
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
if REPO not in sys.path:
    sys.path.append(REPO)
