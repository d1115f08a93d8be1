"""How a benchmark states a figure, so one command can gather every benchmark into one table.

Each script calls `figure(...)` once per figure it measures: the line it prints is readable by a person
and carries a JSON copy after `BENCH ` for `tests/benchmarks/table.py` (run by `python3 tasks.py bench`),
which prints the table and fails when any figure misses its target.
"""

from __future__ import annotations

import json


def figure(name: str, *, target: str, measured: str, baseline: str = "", ratio: float | None = None,
           ok: bool) -> bool:
    """Print one figure (the target and measurements as a person reads them) and return `ok`."""
    row = {"figure": name, "target": target, "measured": measured, "baseline": baseline,
           "ratio": None if ratio is None else round(ratio, 3), "ok": bool(ok)}
    print("BENCH " + json.dumps(row), flush=True)
    return bool(ok)
