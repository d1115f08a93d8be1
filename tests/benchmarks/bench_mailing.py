"""Benchmark: a 50,000-row patient list becomes a 2,000-letter mailing ZIP (target: under 20 s).

Not collected by pytest (the name does not match test_*.py). Run by hand:

    .venv/bin/python tests/benchmarks/bench_mailing.py [--rows 50000] [--runs 3] [--database-url URL]

It builds a fresh database (a temporary SQLite file unless --database-url names an empty PostgreSQL database)
with the demo practice Y90001, then writes a 50,000-row patient list in the demo list's shape (its rows drawn
with replacement, seeded, each given a new valid NHS number and a numbered surname, so no two rows are the
same patient). It times `POST /api/practices/Y90001/recruitment/mailing` through the application's own ASGI
test client with four target ethnic categories and a random sample of 500 per group: 2,000 letters in the
patient's language as DOCX and printable HTML, the mail-merge CSV and the summary, zipped. The baseline is
`pandas.read_csv` of the same list and nothing else. Prints the figures and exits non-zero when the median
is 20 s or more.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.report import figure  # noqa: E402

TARGET_SECONDS = 20.0
DEMO_LIST = Path(__file__).resolve().parents[1] / "data" / "practice-reports" / "Y90001-patient-list.csv"
GROUPS = "ethnicity:H,ethnicity:J,ethnicity:K,ethnicity:N"
PER_GROUP = 500
URL = "/api/practices/Y90001/recruitment/mailing"


def nhs_numbers(count: int) -> list[str]:
    """`count` different valid NHS numbers in the 999 test range (modulus 11; serials whose check digit would
    be 10 are skipped, as the NHS does)."""
    out, serial = [], 0
    while len(out) < count:
        digits = f"999{serial:06d}"
        serial += 1
        check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10:
            out.append(f"{digits[:3]} {digits[3:6]} {digits[6:]}{check}")
    return out


def patient_list(rows: int, seed: int = 1) -> bytes:
    demo = pd.read_csv(DEMO_LIST, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    out = demo.iloc[rng.integers(0, len(demo), size=rows)].reset_index(drop=True)
    out["NHS Number"] = nhs_numbers(rows)
    out["Surname"] = out["Surname"] + "-" + pd.Series(range(rows)).astype(str)
    return out.to_csv(index=False).encode()


async def prepare(database_url: str) -> str:
    from prg import db
    from prg.piccolo_conf import engine_for_url
    from prg.accounts import services as accounts
    from prg.accounts.tables import StaffUser
    from prg.demo import MANAGER_EMAIL, load_demo

    db.use_engine(engine_for_url(database_url))
    await db.migrate()
    await load_demo()
    user = await StaffUser.select(StaffUser.id).where(StaffUser.email == MANAGER_EMAIL).first()
    return (await accounts.create_token(user["id"], "benchmark", None)).secret


async def measure(runs: int, token: str, content: bytes) -> tuple[list[float], int, int]:
    from litestar.testing import AsyncTestClient

    from prg.app import create_app

    headers = {"Authorization": f"Bearer {token}"}
    form = {"groups": GROUPS, "sample_per_group": str(PER_GROUP), "seed": "bench"}
    timings, letters, size = [], 0, 0
    async with AsyncTestClient(create_app(pool=False), base_url="https://bench.local", timeout=300) as client:
        for _ in range(runs):
            start = time.perf_counter()
            response = await client.post(URL, headers=headers, files={"file": ("list.csv", content)}, data=form)
            timings.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text[:2000]
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                merge = next(n for n in archive.namelist() if n.endswith("mail-merge.csv"))
                letters = archive.read(merge).decode("utf-8-sig").count("\r\n") - 1
            size = len(response.content)
    return timings, letters, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default="", help="an empty database to use instead of a temporary SQLite file")
    args = parser.parse_args()
    content = patient_list(args.rows)
    start = time.perf_counter()
    pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    baseline = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        os.environ["PRG_DATABASE_URL"] = url
        os.environ.setdefault("PRG_LOG_LEVEL", "WARNING")
        token = asyncio.run(prepare(url))
        timings, letters, size = asyncio.run(measure(max(args.runs, 1), token, content))
    median = statistics.median(timings)
    print(f"figure:   POST /recruitment/mailing, {args.rows:,}-row list ({len(content) / 1e6:.1f} MB) -> "
          f"{letters:,} letters, ZIP of {size / 1e6:.1f} MB, median of {len(timings)} runs")
    print(f"  runs: {', '.join(f'{t:.2f} s' for t in timings)}")
    ok = median < TARGET_SECONDS and letters == 4 * PER_GROUP
    figure("Targeted mailing: 50,000-row list -> 2,000-letter ZIP", target=f"< {TARGET_SECONDS:.0f} s",
           measured=f"{median:.2f} s", baseline=f"{baseline:.2f} s (pandas.read_csv of the list)",
           ratio=median / baseline, ok=ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
