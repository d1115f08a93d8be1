"""Run every benchmark under tests/benchmarks/ and print one table: figure, target, measured, baseline,
ratio. Exits non-zero when a figure misses its target or a benchmark fails to report.

    python3 tasks.py bench            all of them
    python3 tasks.py bench results    only the scripts whose names contain "results"
    python3 tasks.py bench bench_results.py    only that script

Each script runs in its own process (the machine is shared: figures are medians and ratios against a
baseline measured in the same run; see each script's docstring).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(script: Path) -> tuple[list[dict], int, float]:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(script)], cwd=HERE.parents[1], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    rows = []
    for line in process.stdout:
        if line.startswith("BENCH "):
            rows.append(json.loads(line[6:]))
        else:
            print("  " + line, end="", flush=True)
    return rows, process.wait(), time.perf_counter() - started


def table(rows: list[dict]) -> str:
    heads = ["figure", "target", "measured", "baseline", "ratio", "result"]
    cells = [[r["figure"], r["target"], r["measured"], r["baseline"],
              "" if r["ratio"] is None else f"{r['ratio']:.2f}", "ok" if r["ok"] else "MISSED"] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    line = lambda values: " | ".join(v.ljust(w) for v, w in zip(values, widths))  # noqa: E731
    return "\n".join([line(heads), "-+-".join("-" * w for w in widths), *(line(c) for c in cells)])


def main(argv: list[str]) -> int:
    every = sorted(HERE.glob("bench_*.py"))
    exact = [p for p in every if p.name in argv or p.stem in argv]
    scripts = exact or [p for p in every if not argv or any(a in p.stem for a in argv)]
    rows: list[dict] = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        found, code, seconds = run(script)
        print(f"   ({seconds:.0f} s)")
        if not found:
            found = [{"figure": script.stem, "target": "reports its figures", "measured": f"exit {code}",
                      "baseline": "", "ratio": None, "ok": False}]
        elif code != 0 and all(r["ok"] for r in found):
            found.append({"figure": script.stem, "target": "exits 0", "measured": f"exit {code}",
                          "baseline": "", "ratio": None, "ok": False})
        rows.extend(found)
    print()
    print(table(rows))
    missed = sum(not r["ok"] for r in rows)
    print(f"\n{len(rows) - missed} of {len(rows)} figures met their targets.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
