"""The README's run command, for real: `prg demo --serve` starts a server on 127.0.0.1 (with the
connection pool on PostgreSQL), and the printed credentials sign in and list the PRG over HTTP."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(database, tmp_path):
    port = free_port()
    env = {**os.environ, "PRG_DATABASE_URL": database, "PRG_PORT": str(port), "PRG_LOG_LEVEL": "INFO"}
    command = [str(Path(sys.executable).parent / "prg"), "demo", "--serve"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        for line in process.stdout:
            output.append(line)
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    password = None
    deadline = time.monotonic() + 60
    while password is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            assert process.poll() is None, "".join(output)
            continue
        if match := re.search(r"Password:\s+(\S+)", line):
            password = match.group(1)
    assert password, "".join(output)
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield base, password, output
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader.join(timeout=5)
    process.stdout.close()


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
