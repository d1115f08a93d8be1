"""Benchmark: web-form submissions of a 12-question survey against the same server's /livez.

One `prg serve` process on a fresh database (SQLite file by default; `--postgres URL` for a fresh
PostgreSQL database created beside URL's), 32 keep-alive connections from `loadgen`, alternating rounds
of GET /livez and POST /s/{id} (a whole response on one page, answered with a 303 once committed).
Target (issue 4): submissions/s >= 50% of /livez/s, p99 < 100 ms, and exactly as many stored responses
as 303 answers. Run: .venv/bin/python tests/benchmarks/bench_survey_submissions.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import build_request, run_load  # noqa: E402

PRG = str(Path(sys.executable).parent / "prg")
OPTIONS = [{"code": c, "label": {"en": c.replace("_", " ").capitalize()}}
           for c in ["very_good", "good", "neither", "poor", "very_poor"]]


def definition() -> dict:
    questions = [{"type": "single_choice", "id": f"q{i}", "required": True, "label": {"en": f"Question {i}"},
                  "options": OPTIONS} for i in range(1, 9)]
    questions += [
        {"type": "multiple_choice", "id": "q9", "label": {"en": "Contact"},
         "options": [{"code": c, "label": {"en": c}} for c in ["phone", "online", "in_person"]]},
        {"type": "scale_0_10", "id": "q10", "label": {"en": "Recommend"}},
        {"type": "number", "id": "q11", "label": {"en": "Visits this year"}, "min": 0, "max": 100},
        {"type": "long_text", "id": "q12", "label": {"en": "Comments"}},
    ]
    return {"title": {"en": "Benchmark survey"}, "sections": [{"id": "all", "questions": questions}]}


FORM = urllib.parse.urlencode(
    [(f"q{i}", "good") for i in range(1, 9)]
    + [("q9", "phone"), ("q9", "online"), ("q10", "8"), ("q11", "3"), ("q12", "Friendly reception, long wait."),
       ("_action", "submit"), ("_page", "0"), ("_lang", "en")]
).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a fresh database is made beside it")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="prg-bench-"))
    port = free_port()
    dbname = None
    if args.postgres:
        import asyncpg

        dbname = f"prg_bench_{uuid.uuid4().hex[:8]}"

        async def create() -> None:
            conn = await asyncpg.connect(args.postgres)
            await conn.execute(f'CREATE DATABASE "{dbname}"')
            await conn.close()

        asyncio.run(create())
        url = args.postgres.rsplit("/", 1)[0] + "/" + dbname
    else:
        url = f"sqlite:///{work}/bench.sqlite3"
    env = {**os.environ, "PRG_DATABASE_URL": url, "PRG_PORT": str(port), "PRG_SURVEY_SUBMISSIONS_PER_HOUR": "0",
           "PRG_LOG_LEVEL": "WARNING"}
    run = lambda *a, **k: subprocess.run([PRG, *a], env=env, check=True, capture_output=True, text=True, **k)  # noqa: E731
    run("practice", "add", "--ods", "Y90009", "--name", "Bench")
    run("user", "add", "--email", "bench@example.org", "--practice", "Y90009", "--role", "manager",
        input="a long bench password\na long bench password\n")
    token = run("token", "create", "--email", "bench@example.org", "--name", "bench").stdout.strip()
    server = subprocess.Popen([PRG, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/livez", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        survey = api.post("/api/practices/Y90009/surveys", json={"definition": definition()}).json()
        api.post(f"/api/practices/Y90009/surveys/{survey['id']}/publish").raise_for_status()
        host = f"127.0.0.1:{port}"
        livez = build_request("GET", "/livez", host)
        submit = build_request("POST", survey["link"], host, FORM, "application/x-www-form-urlencoded")

        async def measure():
            await run_load("127.0.0.1", port, livez, seconds=1)  # warm up
            warm = await run_load("127.0.0.1", port, submit, seconds=1)
            rounds = []
            for _ in range(args.rounds):
                rounds.append((await run_load("127.0.0.1", port, livez, seconds=args.seconds),
                               await run_load("127.0.0.1", port, submit, seconds=args.seconds)))
            return warm, rounds

        warm, rounds = asyncio.run(measure())
        livez_rps = statistics.median(r[0].rps for r in rounds)
        submit_rps = statistics.median(r[1].rps for r in rounds)
        latencies = [x for r in rounds for x in r[1].latencies]
        p99 = sorted(latencies)[int(0.99 * len(latencies))] * 1000
        acknowledged = warm.statuses.get(303, 0) + sum(r[1].statuses.get(303, 0) for r in rounds)
        other = {s: n for r in rounds for s, n in r[1].statuses.items() if s != 303}
        stored = api.get(f"/api/practices/Y90009/surveys/{survey['id']}/responses", params={"limit": 1}).json()["total"]
        ratio = submit_rps / livez_rps
        engine = "PostgreSQL" if args.postgres else "SQLite"
        print(f"survey submissions ({engine}, 32 connections, 12 questions): {submit_rps:.0f}/s, "
              f"/livez {livez_rps:.0f}/s, ratio {ratio:.2f} (target >= 0.50); p99 {p99:.1f} ms (target < 100); "
              f"303 answers {acknowledged}, stored {stored}, other statuses {other or 'none'}")
        ok = ratio >= 0.5 and p99 < 100 and stored == acknowledged and not other
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        if dbname:
            async def drop() -> None:
                conn = await asyncpg.connect(args.postgres)
                await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
                await conn.close()

            asyncio.run(drop())


if __name__ == "__main__":
    sys.exit(main())
