"""Benchmark: survey results with weighting for 1,000,000 stored responses (issue 5).

A real `prg serve` on a fresh database (SQLite by default; `--postgres URL` for a fresh PostgreSQL
database beside URL's), practice Y90001 with its NHS Digital population, a 12-question survey whose sex
and age-band questions are weighted to it, and 1,000,000 responses written straight into the table.
Measured: GET .../results?weight=true over HTTP, median of --repeats (3); the server's peak resident
memory (VmHWM) and the CPU seconds the server used per request (user + system, from /proc: on a shared
machine the figure the other processes' load disturbs least); baseline: the bare SELECT of the same
answers in this process, timed before each request, median. The load average is printed with them.
Target: under 5 s.
Run: .venv/bin/python tests/benchmarks/bench_results.py [--postgres URL] [--responses N] [--repeats N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
from bench_survey_submissions import OPTIONS  # noqa: E402
from harness import bench_server  # noqa: E402
from report import figure  # noqa: E402

NHS = Path(__file__).parents[1] / "data" / "nhs-digital"
SINGLE_YEAR = [NHS / "gp-reg-pat-prac-sing-age-female.csv", NHS / "gp-reg-pat-prac-sing-age-male.csv"]
AGES = ["Under 16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]


def definition() -> dict:
    questions = [{"type": "single_choice", "id": f"q{i}", "label": {"en": f"Question {i}"}, "options": OPTIONS,
                  "top_box": ["very_good", "good"]} for i in range(1, 7)]
    questions += [
        {"type": "single_choice", "id": "sex", "label": {"en": "Sex"},
         "options": [{"code": c, "label": {"en": c}} for c in ["f", "m"]],
         "dimension": {"name": "sex", "groups": {"f": "female", "m": "male"}}},
        {"type": "single_choice", "id": "age", "label": {"en": "Age"},
         "options": [{"code": f"a{i}", "label": {"en": a}} for i, a in enumerate(AGES)],
         "dimension": {"name": "age_band", "groups": {f"a{i}": a for i, a in enumerate(AGES)}}},
        {"type": "multiple_choice", "id": "contact", "label": {"en": "Contact"},
         "options": [{"code": c, "label": {"en": c}} for c in ["phone", "online", "in_person"]]},
        {"type": "scale_0_10", "id": "recommend", "label": {"en": "Recommend"}},
        {"type": "number", "id": "visits", "label": {"en": "Visits"}, "min": 0, "max": 100},
        {"type": "long_text", "id": "comment", "label": {"en": "Comments"}},
    ]
    return {"title": {"en": "Results benchmark"}, "sections": [{"id": "all", "questions": questions}]}


def answers(rng: random.Random) -> str:
    codes = [o["code"] for o in OPTIONS]
    a: dict = {f"q{i}": rng.choice(codes) for i in range(1, 7)}
    a["sex"] = rng.choice("fm")
    a["age"] = f"a{rng.randrange(1, 8)}"
    a["contact"] = rng.sample(["phone", "online", "in_person"], rng.randint(1, 2))
    a["recommend"] = rng.randint(0, 10)
    a["visits"] = rng.randint(0, 20)
    if rng.random() < 0.2:
        a["comment"] = "Friendly reception, long wait."
    return json.dumps(a, separators=(",", ":"))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def _store_postgres(url: str, records: list[tuple], columns: tuple[str, ...]) -> None:
    conn = await asyncpg.connect(url)
    await conn.copy_records_to_table("survey_response", records=records, columns=columns)
    await conn.execute("ANALYZE survey_response")
    await conn.close()


async def _select_postgres(url: str, version: int) -> float:
    conn = await asyncpg.connect(url)
    t = time.perf_counter()
    await conn.fetch("SELECT answers FROM survey_response WHERE version = $1", version)
    elapsed = time.perf_counter() - t
    await conn.close()
    return elapsed


def _select_sqlite(url: str, version: int) -> float:
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    t = time.perf_counter()
    db.execute("SELECT answers FROM survey_response WHERE version = ?", (version,)).fetchall()
    elapsed = time.perf_counter() - t
    db.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=os.environ.get("PRG_BENCH_POSTGRES_URL"),
                        help="also measure on PostgreSQL (a server URL; default PRG_BENCH_POSTGRES_URL)")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ok = measure(args, None)
    if args.postgres:
        ok = measure(args, args.postgres) and ok
    return 0 if ok else 1


def measure(args: argparse.Namespace, postgres: str | None) -> bool:
    with bench_server("Y90001", postgres=postgres) as server:
        api, url = server.api, server.database_url
        api.post("/api/practices/Y90001/population/imports/nhs-digital",  # single years: the DES bands need them
                 files=[("file", (f.name, f.read_bytes(), "text/csv")) for f in SINGLE_YEAR]).raise_for_status()
        survey = api.post("/api/practices/Y90001/surveys", json={"definition": definition()}).json()
        api.post(f"/api/practices/Y90001/surveys/{survey['id']}/publish").raise_for_status()
        version = 1
        rng = random.Random(20111201)
        started = time.perf_counter()
        rows = [(1, survey["id"], version, "web", "en", date(2026, 11, 1), json_text)
                for json_text in (answers(rng) for _ in range(args.responses))]
        columns = ("practice", "survey", "version", "mode", "language", "submitted_on", "answers")
        if postgres:
            asyncio.run(_store_postgres(url, rows, columns))
        else:
            with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
                db.executemany(f"INSERT INTO survey_response ({', '.join(columns)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [(*r[:5], r[5].isoformat(), r[6]) for r in rows])
        del rows
        print(f"  stored {args.responses:,} responses in {time.perf_counter() - started:.1f} s")
        times, baselines, cpu = [], [], []
        load_before = os.getloadavg()
        for _ in range(args.repeats):
            baselines.append(asyncio.run(_select_postgres(url, version)) if postgres
                             else _select_sqlite(url, version))
            t, used = time.perf_counter(), _cpu_seconds(server.pid)
            response = api.get(f"/api/practices/Y90001/surveys/{survey['id']}/results", params={"weight": "true"})
            times.append(time.perf_counter() - t)
            cpu.append(_cpu_seconds(server.pid) - used)
            assert response.status_code == 200, response.text[:600]
        body = response.json()
        assert body["responses"] == args.responses and body["weighting"]["converged"]
        peak = next(int(line.split()[1]) for line in Path(f"/proc/{server.pid}/status").read_text().splitlines()
                    if line.startswith("VmHWM")) / 1024
        measured, baseline = statistics.median(times), statistics.median(baselines)
        engine = "PostgreSQL" if postgres else "SQLite"
        print(f"results with weighting, {args.responses:,} responses x 12 questions ({engine}): median "
              f"{measured:.2f} s of {', '.join(f'{x:.2f}' for x in times)} (target < 5 s); baseline bare SELECT "
              f"median {baseline:.2f} s, ratio {measured / baseline:.1f}; server CPU per request median "
              f"{statistics.median(cpu):.2f} s; server peak memory {peak:.0f} MiB; design effect "
              f"{body['weighting']['design_effect']:.3f}; load average {load_before[0]:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after (2 cores)")
        return figure(f"results with weighting, {args.responses:,} responses x 12 questions ({engine})",
                      target="< 5 s", measured=f"{measured:.2f} s, peak {peak:.0f} MiB",
                      baseline=f"{baseline:.2f} s (bare SELECT)", ratio=measured / baseline, ok=measured < 5)


if __name__ == "__main__":
    sys.exit(main())
