"""Schema fuzzing: schemathesis generates requests for every operation of the OpenAPI schema and sends
them to the real server, signed in as the demo practice's manager. No request may cause a 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx


def test_no_operation_answers_with_a_server_error(demo_server, tmp_path):
    base, password, _ = demo_server
    with httpx.Client(base_url=base) as http:
        csrf = http.post("/api/auth/login", json={"email": "manager@y90001.example.org",
                                                   "password": password}).json()["csrf_token"]
        token = http.post("/api/auth/tokens", json={"name": "fuzz"}, headers={"X-CSRF-Token": csrf}).json()["secret"]
    command = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/schema/openapi.json",
               "-H", f"Authorization: Bearer {token}", "--checks", "not_a_server_error",
               "--max-examples", os.environ.get("PRG_FUZZ_EXAMPLES", "10"), "--seed", "20111201",
               "--phases", "examples,coverage,fuzzing"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert "Tested:" in summary and "0 generated" not in summary
