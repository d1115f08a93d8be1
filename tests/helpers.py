"""Values and small helpers shared by tests (fixtures live in conftest.py)."""

from pathlib import Path

PASSWORD = "correct horse battery staple"
DATA = Path(__file__).parent / "data"
DEMO = Path(__file__).parent.parent / "prg" / "demo"
