"""The layers of docs/architecture.md hold: import-linter checks the contracts in pyproject.toml
(`[tool.importlinter]`) against the code, and a copy of the code with the old crossings put back shows
that the contracts catch them."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

from importlinter.application.use_cases import lint_imports
from importlinter.configuration import configure

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("prg", "surveys", "exports", "letter_templates")


def test_the_import_contracts_hold(capsys):
    # The use case, not `importlinter.cli.lint_imports`: the CLI's logging set-up would silence our loggers
    # for the rest of the test process.
    configure()
    passed = lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    assert passed, report
    assert "0 broken" in report


# Crossings the code once had (issue 16), each as it was written: inside a function, where it hid.
CROSSINGS = {
    # The participation year querying surveys' tables.
    "prg/des/records.py": "\n\nasync def _survey_titles():\n    from surveys.tables import Survey\n\n"
                          "    return await Survey.select(Survey.title)\n",
    # The register reading the year's tables for the subject access export.
    "prg/members/services.py": "\n\nasync def _deliveries():\n    from prg.des.tables import ConsultationDelivery\n\n"
                               "    return await ConsultationDelivery.select()\n",
    # The audit log and accounts importing each other.
    "prg/accounts/audit/services.py": "\n\ndef _identity_type():\n    from prg.accounts.services import Identity\n\n"
                                      "    return Identity\n",
}


def test_the_contracts_catch_the_old_crossings(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for path, code in CROSSINGS.items():
        with (tmp_path / path).open("a") as f:
            f.write(code)
    run = subprocess.run([Path(sys.executable).parent / "lint-imports", "--no-cache"], cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True,
                         timeout=120)
    report = run.stdout + run.stderr
    assert run.returncode == 1, report
    assert "prg.des is not allowed to import surveys" in report
    assert "prg.members is not allowed to import prg.des" in report
    assert "Illegal imports of protected package prg.des.tables" in report
    assert "No cycles are allowed in prg.accounts" in report


def test_no_function_imports_our_own_modules():
    """Imports of our own modules sit at module top, where the import graph shows them. The one exception:
    the CLI's commands import the features they drive (prg/cli.py says why: start-up time)."""
    hidden = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "prg" / "cli.py" or "piccolo_migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for inner in ast.walk(node):
                    names = ([inner.module or ""] if isinstance(inner, ast.ImportFrom) and not inner.level
                             else ["."] if isinstance(inner, ast.ImportFrom)
                             else [a.name for a in inner.names] if isinstance(inner, ast.Import) else [])
                    if any(n == "." or n.split(".")[0] in PACKAGES for n in names):
                        hidden.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert hidden == []
