"""The README's run command, for real: `prg demo --serve` starts a server on 127.0.0.1 (with the
connection pool on PostgreSQL), and the printed credentials sign in and list the PRG over HTTP."""

from __future__ import annotations

import time

import httpx


def test_demo_server_signs_in_and_lists_members_over_http(demo_server):
    base, password, output = demo_server
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        signed_in = http.post("/api/auth/login", json={"email": "manager@y90001.example.org", "password": password})
        assert signed_in.status_code == 201
        csrf = signed_in.json()["csrf_token"]
        members = http.get("/api/practices/Y90001/members", params={"limit": 100}).json()
        assert members["total"] == 36
        names = [m["last_name"] for m in members["items"]]
        # Personal data travels in responses, never into the server's log.
        http.get("/api/practices/Y90001/members", params={"q": names[0]})
        bad = http.post("/api/practices/Y90001/members/import", headers={"X-CSRF-Token": csrf},
                        files={"file": ("r.csv", f"First name,Surname,Sex\nZebedee,{names[1]},robot\n".encode())})
        assert bad.status_code == 422
    time.sleep(0.3)
    log = "".join(output)
    assert "Zebedee" not in log and names[0] not in log and names[1] not in log
