"""Benchmark: import one practice from national-size NHS Digital files (target: 3 files in under 1 s).

Not collected by pytest (the name does not match test_*.py). Run by hand:

    .venv/bin/python tests/benchmarks/bench_population_import.py [--practices 7000] [--runs 5]

It writes, once, to a temporary folder, synthetic files with the real layout at national size (about 7,000
practices: the 5-year file with 63 rows per practice plus sub-ICB rows, and the two single-year files with
97 rows per practice), then times `read_nhs_digital` on all three for one practice in the middle of the
files, and as a baseline in the same run `pandas.read_csv(path, dtype=str)` of the same three files and
nothing else. Prints the medians and exits non-zero when the import median is 1 s or more. The same import
from zipped copies is printed for information (decompression costs about 0.15 s a file).
"""

from __future__ import annotations

import argparse
import io
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

from prg.population.readers.nhs_digital import read_nhs_digital  # noqa: E402

TARGET_SECONDS = 1.0
QUIN_HEADER = "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS"
SING_HEADER = (
    "PUBLICATION,EXTRACT_DATE,SUB_ICB_LOCATION_CODE,ONS_SUB_ICB_LOCATION_CODE,ORG_CODE,POSTCODE,SEX,AGE,"
    "NUMBER_OF_PATIENTS"
)
QUIN_AGES = [f"{a}_{a + 4}" for a in range(0, 95, 5)] + ["95+"]
SING_AGES = [str(a) for a in range(95)] + ["95+"]
PREFIX = "GP_PRAC_PAT_LIST,01OCT2026"


def practice_code(i: int) -> str:
    return f"{'ABCDEFGHJKLMNPY'[i % 15]}{80000 + i:05d}"


def write_files(folder: Path, practices: int, seed: int = 1) -> tuple[Path, Path, Path]:
    """Three national-size files with internally consistent totals; the target practice sits mid-file."""
    rng = np.random.default_rng(seed)
    female = rng.integers(0, 120, size=(practices, 96))
    male = rng.integers(0, 120, size=(practices, 96))
    quin_f = np.concatenate([female[:, :95].reshape(practices, 19, 5).sum(axis=2), female[:, 95:]], axis=1)
    quin_m = np.concatenate([male[:, :95].reshape(practices, 19, 5).sum(axis=2), male[:, 95:]], axis=1)

    quin, sing_f, sing_m = [QUIN_HEADER], [SING_HEADER], [SING_HEADER]
    for sub_icb in range(0, practices, 50):  # sub-ICB summary rows mixed in, as in the real file
        block = slice(sub_icb, sub_icb + 50)
        sub = f"{PREFIX},SUB_ICB_LOCATION,{sub_icb // 50:02d}X,E38{sub_icb:06d},"
        f_sum, m_sum = quin_f[block].sum(axis=0), quin_m[block].sum(axis=0)
        for label, s in (("ALL", f_sum + m_sum), ("FEMALE", f_sum), ("MALE", m_sum)):
            quin += [f"{sub},{label},{age},{n}" for age, n in zip(QUIN_AGES, s)]
            quin.append(f"{sub},{label},ALL,{s.sum()}")
    for i in range(practices):
        code = practice_code(i)
        postcode = f"ZZ{i % 99} {i % 9}AA"
        base = f"{PREFIX},GP,{code},E38{i // 50:06d},{postcode}"
        for label, s in (("ALL", quin_f[i] + quin_m[i]), ("FEMALE", quin_f[i]), ("MALE", quin_m[i])):
            quin += [f"{base},{label},{age},{n}" for age, n in zip(QUIN_AGES, s)]
            quin.append(f"{base},{label},ALL,{s.sum()}")
        sbase = f"{PREFIX},{i // 50:02d}X,E38{i // 50:06d},{code},{postcode}"
        sing_f += [f"{sbase},FEMALE,{age},{n}" for age, n in zip(SING_AGES, female[i])]
        sing_f.append(f"{sbase},FEMALE,ALL,{female[i].sum()}")
        sing_m += [f"{sbase},MALE,{age},{n}" for age, n in zip(SING_AGES, male[i])]
        sing_m.append(f"{sbase},MALE,ALL,{male[i].sum()}")
    paths = (
        folder / "gp-reg-pat-prac-quin-age.csv",
        folder / "gp-reg-pat-prac-sing-age-female.csv",
        folder / "gp-reg-pat-prac-sing-age-male.csv",
    )
    for path, lines in zip(paths, (quin, sing_f, sing_m)):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def time_import(paths: tuple[Path, ...], ods: str) -> float:
    start = time.perf_counter()
    extracts = [read_nhs_digital(p.read_bytes(), p.name, ods) for p in paths]
    elapsed = time.perf_counter() - start
    assert extracts[0].totals["all"] == extracts[1].totals["female"] + extracts[2].totals["male"]
    return elapsed


def zipped(paths: tuple[Path, ...]) -> list[tuple[str, bytes]]:
    out = []
    for p in paths:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(p, p.name)
        out.append((p.with_suffix(".zip").name, buf.getvalue()))
    return out


def time_zipped_import(archives: list[tuple[str, bytes]], ods: str) -> float:
    start = time.perf_counter()
    for name, data in archives:
        read_nhs_digital(data, name, ods)
    return time.perf_counter() - start


def time_baseline(paths: tuple[Path, ...]) -> float:
    start = time.perf_counter()
    for p in paths:
        pd.read_csv(p, dtype=str)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=7000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    runs = max(5, args.runs)
    with tempfile.TemporaryDirectory(prefix="prg-bench-") as tmp:
        t0 = time.perf_counter()
        paths = write_files(Path(tmp), args.practices)
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.0f} MB" for p in paths)
        print(f"wrote {sizes} in {time.perf_counter() - t0:.1f} s")
        ods = practice_code(args.practices // 2)
        time_import(paths, ods)  # warm-up: imports, page cache
        ours = statistics.median(time_import(paths, ods) for _ in range(runs))
        baseline = statistics.median(time_baseline(paths) for _ in range(runs))
        archives = zipped(paths)
        from_zip = statistics.median(time_zipped_import(archives, ods) for _ in range(runs))
    print(f"(for information) the same 3 files zipped: median {from_zip:.3f} s")
    figure("NHS Digital import (3 files, national size)", target=f"< {TARGET_SECONDS:g} s",
           measured=f"{ours:.3f} s", baseline=f"{baseline:.3f} s (pandas read_csv)", ratio=ours / baseline,
           ok=ours < TARGET_SECONDS)
    return 0 if ours < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
