#!/usr/bin/env python3
"""Set-up and everyday commands, needing nothing but Python 3.11+ and the package index.

    python3 tasks.py demo          install if needed, load the demo practice, serve on 127.0.0.1:8000
    python3 tasks.py test [ARGS]   install if needed (with test tools), run the whole test suite, one
                                   worker per core (pass -n 0 for one process)
    python3 tasks.py bench [NAMES] install if needed, run the benchmarks under tests/benchmarks/ and print
                                   one table of figures against targets (fails when one is missed)

The virtual environment lives in .venv/ and is reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_installed(extras: str = "") -> None:
    if sys.version_info < (3, 11):
        sys.exit("Python 3.11 or newer is needed.")
    if not (BIN / "python").exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = "." + (f"[{extras}]" if extras else "")
    stamp = VENV / f".installed{extras and '-' + extras}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print(f"Installing {spec} into .venv ...", flush=True)
    subprocess.run([BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([BIN / "python", "-m", "pip", "install", "--quiet", "-e", spec], check=True, cwd=ROOT)
    stamp.write_text(wanted)


def main(argv: list[str]) -> int:
    command, args = (argv[0], argv[1:]) if argv else ("help", [])
    if command == "demo":
        ensure_installed()
        return subprocess.call([BIN / "prg", "demo", "--serve", *args], cwd=ROOT)
    if command == "test":
        ensure_installed("test")
        # One worker per core (pytest-xdist): every test has its own database, so they run side by side.
        # `-n 0` runs them in this process, one at a time.
        workers = [] if any(a.startswith(("-n", "--numprocesses")) for a in args) else ["-n", "auto"]
        return subprocess.call([BIN / "python", "-m", "pytest", *workers, *args], cwd=ROOT)
    if command == "bench":
        ensure_installed("test")
        return subprocess.call([BIN / "python", ROOT / "tests" / "benchmarks" / "table.py", *args], cwd=ROOT)
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
