"""Benchmark: the results workbook for 100,000 responses of a 12-question survey (issue 6).

Each measurement runs in a fresh child process, so its peak resident memory (VmHWM) is its own:
- `ours`: `exports.results_workbook.write_results_workbook` writing the whole workbook (summary,
  breakdown by sex, charts, long Data sheet, wide Responses sheet, comments) from the collated results
  (`surveys.collation.collate`, as the results API computes them) and the stored responses;
- `baseline`: a bare xlsxwriter constant-memory dump of the same data cells (the long and wide sheets'
  cells, written with `worksheet.write` straight from the same responses, no formats, no summary).
Only the writing is timed (the responses are generated before the clock starts, the same in both),
and each child's peak memory is its whole process's. The results documents are collated once
beforehand (the results API's work, benchmarked by bench_results.py) and handed to `ours` pickled.
Median of 3 each, alternating. Target: ours <= 1.5 x baseline and ours' peak memory < 300 MB.
Run: .venv/bin/python tests/benchmarks/bench_results_workbook.py [--responses N] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from bench_results import definition  # noqa: E402 - the same 12-question survey
from bench_survey_submissions import OPTIONS  # noqa: E402
from report import figure  # noqa: E402

COMMENTS = ["Friendly reception, long wait.", "=1+1 the phones", "Parking is hard <script>alert(1)</script>"]


def responses(n: int) -> list[tuple[dict, str, str, str]]:
    rng = random.Random(20111201)
    codes = [o["code"] for o in OPTIONS]
    out = []
    for _ in range(n):
        a: dict = {f"q{i}": rng.choice(codes) for i in range(1, 7)}
        a["sex"] = rng.choice("fm")
        a["age"] = f"a{rng.randrange(1, 8)}"
        a["contact"] = sorted(rng.sample(["phone", "online", "in_person"], rng.randint(1, 2)))
        a["recommend"] = rng.randint(0, 10)
        a["visits"] = rng.randint(0, 20)
        if rng.random() < 0.2:
            a["comment"] = rng.choice(COMMENTS)
        # As the service reads them: the stored JSON text, decoded by the writer row by row.
        out.append((json.dumps(a, separators=(",", ":")), rng.choice(["web", "paper"]), "en", "2026-11-01"))
    return out


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def collated(n: int, path: str) -> None:
    """The results documents (overall and by sex), as the results API computes them, saved for the
    children: collating is the results API's work, measured by bench_results.py, not this benchmark's."""
    import msgspec
    import pandas as pd

    from surveys.collation import collate
    from surveys.definition import load_definition

    defn = load_definition(definition())
    frame = pd.DataFrame(msgspec.json.decode(b"[" + ",".join(r[0] for r in responses(n)).encode() + b"]"))
    results = {"version": 1, "weighting": None, **collate(defn, frame)}
    sex = frame["sex"]
    breakdown = {"sex": {"breakdown": {v: collate(defn, frame[(sex == v).to_numpy()].reset_index(drop=True))
                                       for v in ("f", "m")}}}
    with open(path, "wb") as handle:
        pickle.dump((results, breakdown), handle)


def child(kind: str, n: int, results_file: str) -> None:
    import xlsxwriter

    rows = responses(n)
    out = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False).name
    if kind == "ours":
        from exports.results_workbook import write_results_workbook
        from surveys.definition import load_definition

        with open(results_file, "rb") as handle:
            results, breakdown = pickle.load(handle)
        started = time.perf_counter()
        write_results_workbook(results, load_definition(definition()), rows, practice="Y90001",
                               breakdowns=breakdown, target=out)
    else:
        columns = ["q1", "q2", "q3", "q4", "q5", "q6", "sex", "age", "contact.phone", "contact.online",
                   "contact.in_person", "recommend", "visits", "comment"]
        started = time.perf_counter()
        book = xlsxwriter.Workbook(out, {"constant_memory": True})
        ws = book.add_worksheet("Data")
        r = 1
        for n_, (text, mode, language, day) in enumerate(rows, start=1):
            answers = json.loads(text)
            for qid, value in answers.items():
                for item, answer in ([(c, 1) for c in value] if isinstance(value, list) else [("", value)]):
                    for c, cell in enumerate((n_, mode, language, day, qid, item, answer)):
                        ws.write(r, c, cell)
                    r += 1
        ws = book.add_worksheet("Responses")
        for n_, (text, mode, language, day) in enumerate(rows, start=1):
            answers = json.loads(text)
            cells = [n_, mode, language, day]
            contact = answers["contact"]
            for column in columns:
                if column.startswith("contact."):
                    cells.append(1 if column[8:] in contact else 0)
                else:
                    cells.append(answers.get(column))
            for c, cell in enumerate(cells):
                if cell is not None:
                    ws.write(n_, c, cell)
        book.close()
    elapsed = time.perf_counter() - started
    size = Path(out).stat().st_size
    Path(out).unlink()
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_mib(), "bytes": size}))


def measure(kind: str, n: int, results_file: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--responses", str(n),
                           "--results", results_file], check=True,
                          capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child")
    parser.add_argument("--results")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.responses, args.results)
        return 0
    results_file = tempfile.NamedTemporaryFile(suffix=".pickle", delete=False).name
    collated(args.responses, results_file)
    ours, baseline = [], []
    for _ in range(args.runs):
        baseline.append(measure("baseline", args.responses, results_file))
        ours.append(measure("ours", args.responses, results_file))
    Path(results_file).unlink()
    t_ours = statistics.median(r["seconds"] for r in ours)
    t_base = statistics.median(r["seconds"] for r in baseline)
    peak = max(r["peak_mib"] for r in ours)
    ratio = t_ours / t_base
    print(f"results workbook, {args.responses:,} responses x 12 questions: median {t_ours:.2f} s, "
          f"{ours[0]['bytes'] / 1e6:.1f} MB; baseline bare xlsxwriter constant-memory dump {t_base:.2f} s; "
          f"ratio {ratio:.2f} (target <= 1.5); peak memory {peak:.0f} MiB (target < 300; baseline "
          f"{max(r['peak_mib'] for r in baseline):.0f} MiB)")
    ok = figure(f"results workbook, {args.responses:,} responses x 12 questions", target="<= 1.5x, < 300 MiB",
                measured=f"{t_ours:.2f} s, peak {peak:.0f} MiB", baseline=f"{t_base:.2f} s (bare xlsxwriter dump)",
                ratio=ratio, ok=ratio <= 1.5 and peak < 300)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
