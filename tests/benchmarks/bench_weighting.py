"""Benchmark: raking and collating 1,000,000 survey responses (surveys.weighting, surveys.collation).

Run by hand: `/work/main/.venv/bin/python tests/benchmarks/bench_weighting.py`. Prints figure / target /
measured / baseline / ratio and exits 1 when a figure misses its target.

1. Raking 1,000,000 respondents on three margins (age 8 bands, sex 2, ethnicity 5), median of 5 runs.
   The baseline is timed in the same run on the same data: weightipy's rim weighting when it is
   installed (a test-only dependency; tolerance and iteration cap matched to ours), otherwise the slow
   reference IPF of tests/unit/test_weighting.py (run once, on the same number of sweeps as ours).
   Target: ours at least as fast as the baseline.
2. `collate` of 1,000,000 responses to a 12-question survey (8 single choice, one with skip logic,
   1 multiple choice, 1 scale 0-10, 1 number, 1 long text), with weights, median of 3 runs; target
   under 5 s (the issue's budget for results with weighting, before any database time). Peak Python
   memory of one run is measured separately with tracemalloc (which slows the run it measures).
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.report import figure  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from surveys.collation import collate  # noqa: E402
from surveys.definition import load_definition  # noqa: E402
from surveys.weighting import rake  # noqa: E402

N = 1_000_000
RAKE_REPEATS = 5
COLLATE_REPEATS = 3
COLLATE_TARGET_S = 5.0

AGES = ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+"]
AGE_CODES = {a: "age_" + a.replace("-", "_").replace("+", "_plus") for a in AGES}  # option codes have no '+'
SEXES = ["female", "male"]
ETHNICITIES = ["white", "mixed", "asian", "black", "other"]
MARGINS = {
    "age": dict(zip(AGES, [1400, 1500, 1450, 1400, 1250, 1000, 700, 300])),
    "sex": {"female": 4550, "male": 4450},
    "ethnicity": dict(zip(ETHNICITIES, [7200, 300, 900, 400, 200])),
}


def _codes(rng: np.random.Generator, codes: list[str], p: list[float], n: int, missing: float = 0.0) -> np.ndarray:
    out = np.asarray(codes, dtype=object)[rng.choice(len(codes), size=n, p=np.asarray(p) / sum(p))]
    if missing:
        out[rng.random(n) < missing] = None
    return out


def _sample(rng: np.random.Generator) -> pd.DataFrame:
    # Respondents skew older, female and white, as self-selected survey respondents do.
    return pd.DataFrame({
        "age": _codes(rng, AGES, [4, 6, 8, 10, 14, 18, 14, 6], N),
        "sex": _codes(rng, SEXES, [6, 4], N),
        "ethnicity": _codes(rng, ETHNICITIES, [85, 2, 7, 4, 2], N),
    })


def _median(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def bench_rake(rng: np.random.Generator) -> bool:
    sample = _sample(rng)
    ours_s, ours = _median(lambda: rake(sample, MARGINS, tolerance=1e-6, max_iterations=100), RAKE_REPEATS)
    assert ours.converged, ours.notes  # type: ignore[attr-defined]
    if importlib.util.find_spec("weightipy") is not None:
        import weightipy

        percent = {c: {k: 100 * v / sum(m.values()) for k, v in m.items()} for c, m in MARGINS.items()}

        def theirs():
            scheme = weightipy.scheme_from_dict(percent, rim_params={"convcrit": 1e-6, "max_iterations": 100})
            return np.asarray(weightipy.weight(sample, scheme), dtype=float)

        base_s, base_w = _median(theirs, RAKE_REPEATS)
        name = "weightipy"
        gap = float(np.max(np.abs(ours.weights - base_w / base_w.mean())))  # type: ignore[attr-defined, union-attr]
        print(f"  largest |our weight - weightipy weight| = {gap:.2e}")
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
        from test_weighting import _reference_ipf  # type: ignore[import-not-found]

        start = time.perf_counter()
        _reference_ipf(sample, MARGINS, ours.iterations)  # type: ignore[attr-defined]
        base_s = time.perf_counter() - start
        name = "reference"
    ratio = ours_s / base_s
    figure(f"rake 1M x 3 margins (median of {RAKE_REPEATS})", target=f"<= {name}", measured=f"{ours_s * 1000:.0f} ms",
           baseline=f"{base_s * 1000:.0f} ms ({name})", ratio=ratio, ok=ratio <= 1.0)
    print(f"  iterations {ours.iterations}, design effect {ours.design_effect:.3f}, "  # type: ignore[attr-defined]
          f"effective sample size {ours.effective_sample_size:,.0f}")  # type: ignore[attr-defined]
    return ratio <= 1.0


def _definition():
    def single(qid: str, codes: list[str], **extra):
        return {"type": "single_choice", "id": qid, "label": {"en": qid},
                "options": [{"code": c, "label": {"en": c}} for c in codes], **extra}

    experience = ["very_good", "fairly_good", "neither", "fairly_poor", "very_poor"]
    questions = [
        single("age", list(AGE_CODES.values()), dimension={"name": "age_band", "groups": {c: a for a, c in AGE_CODES.items()}}),
        single("sex", SEXES, dimension={"name": "sex", "groups": {"female": "female", "male": "male"}}),
        single("ethnicity", ETHNICITIES, dimension={"name": "ethnicity", "groups": {e: e for e in ETHNICITIES}}),
        single("overall", experience, top_box=["very_good", "fairly_good"]),
        single("phone", ["very_easy", "fairly_easy", "not_very_easy", "not_at_all_easy", "havent_tried"],
               top_box=["very_easy", "fairly_easy"]),
        single("receptionists", ["very_helpful", "fairly_helpful", "not_very_helpful", "not_at_all_helpful"]),
        single("mode", ["web", "paper", "sms", "kiosk"]),
        single("why_poor", ["waiting", "phone", "attitude", "other"], show_if="overall = 'fairly_poor' or overall = 'very_poor'"),
        {"type": "multiple_choice", "id": "contact", "label": {"en": "contact"},
         "options": [{"code": c, "label": {"en": c}} for c in ["phone", "online", "in_person", "app", "email"]]},
        {"type": "scale_0_10", "id": "recommend", "label": {"en": "recommend"}},
        {"type": "number", "id": "visits", "label": {"en": "visits"}, "min": 0, "max": 365},
        {"type": "long_text", "id": "comments", "label": {"en": "comments"}},
    ]
    return load_definition({"title": {"en": "Bench"}, "sections": [{"id": "s", "questions": questions}]})


def _responses(rng: np.random.Generator, demographics: pd.DataFrame) -> pd.DataFrame:
    overall = _codes(rng, ["very_good", "fairly_good", "neither", "fairly_poor", "very_poor"], [40, 35, 12, 8, 5], N, 0.02)
    poor = np.isin(overall, ["fairly_poor", "very_poor"])
    why = _codes(rng, ["waiting", "phone", "attitude", "other"], [4, 3, 2, 1], N, 0.1)
    why[~poor] = None  # hidden by skip logic: never stored
    pool = [["phone"], ["online"], ["phone", "online"], ["in_person"], ["phone", "in_person"], ["app", "email"], None]
    picks = rng.choice(len(pool), size=N, p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.1])
    pool_arr = np.empty(len(pool), dtype=object)
    for i, v in enumerate(pool):
        pool_arr[i] = v
    contact = pool_arr[picks]
    recommend = rng.integers(0, 11, N).astype(np.float64)
    recommend[rng.random(N) < 0.05] = np.nan
    visits = rng.poisson(4, N).astype(np.float64)
    visits[rng.random(N) < 0.1] = np.nan
    texts = np.asarray(["Very helpful staff", "Could not get through on the phone", "Good", "Long wait"], dtype=object)
    comments = texts[rng.integers(0, 4, N)]
    comments[rng.random(N) < 0.9] = None
    return pd.DataFrame({
        "age": demographics["age"].map(AGE_CODES).to_numpy(), "sex": demographics["sex"].to_numpy(),
        "ethnicity": demographics["ethnicity"].to_numpy(), "overall": overall,
        "phone": _codes(rng, ["very_easy", "fairly_easy", "not_very_easy", "not_at_all_easy", "havent_tried"], [2, 3, 3, 2, 1], N, 0.03),
        "receptionists": _codes(rng, ["very_helpful", "fairly_helpful", "not_very_helpful", "not_at_all_helpful"], [5, 3, 1, 1], N, 0.03),
        "mode": _codes(rng, ["web", "paper", "sms", "kiosk"], [5, 2, 2, 1], N),
        "why_poor": why, "contact": contact, "recommend": recommend, "visits": visits, "comments": comments,
    })


def bench_collate(rng: np.random.Generator) -> bool:
    definition = _definition()
    demographics = _sample(rng)
    frame = _responses(rng, demographics)
    weights = rake(demographics, MARGINS).weights
    seconds, result = _median(lambda: collate(definition, frame, weights=weights), COLLATE_REPEATS)
    publish_s, _ = _median(lambda: collate(definition, frame, weights=weights, publish=True), 1)
    tracemalloc.start()
    collate(definition, frame, weights=weights)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    frame_mb = frame.memory_usage(deep=True).sum() / 2**20
    figure(f"collate 1M x 12 questions, weighted (median of {COLLATE_REPEATS})", target=f"< {COLLATE_TARGET_S:.0f} s",
           measured=f"{seconds:.2f} s, peak {peak / 2**20:,.0f} MiB", ok=seconds < COLLATE_TARGET_S)
    print(f"  publish=True: {publish_s:.2f} s; peak traced memory during collate {peak / 2**20:,.0f} MiB "
          f"(input frame {frame_mb:,.0f} MiB); 'why_poor' not shown to {result['questions']['why_poor']['not_shown']:,}")  # type: ignore[index]
    return seconds < COLLATE_TARGET_S


def main() -> int:
    rng = np.random.default_rng(20111201)
    ok = bench_rake(rng)
    ok = bench_collate(rng) and ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
