"""Schema fuzzing: schemathesis generates requests for every operation of the OpenAPI schema and sends
them to the real server, signed in as the demo practice's manager. No request may cause a 5xx, and every
answer must match the schema: its status code, content type, headers (`Allow` included) and body, and
schema-violating requests must be refused.

Two things are left out, on purpose: revoking tokens (the fuzzer would revoke its own, and test the rest
anonymously), and the check that every schema-valid request is accepted: rules across fields ("a leaving
date needs status 'left'") and inside files (a CSV must be a CSV) cannot be said in the schema, and those
requests rightly get 422 or 400."""

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
               "-H", f"Authorization: Bearer {token}", "--checks", "all",
               "--exclude-checks", "positive_data_acceptance",
               "--exclude-name", "DELETE /api/auth/tokens/{token_id}",
               "--max-examples", os.environ.get("PRG_FUZZ_EXAMPLES", "10"), "--seed", "20111201",
               "--phases", "examples,coverage,fuzzing"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    failures = result.stdout.partition("= FAILURES =")[2].partition("= WARNINGS =")[0]
    summary = result.stdout[-1500:]
    assert result.returncode == 0, failures[:6000] + summary
    assert "Tested:" in summary and "0 generated" not in summary
