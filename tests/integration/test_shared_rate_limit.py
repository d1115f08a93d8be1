"""Two real server processes that share a Redis hold one rate limit between them on the open survey link
(PRG_RATE_LIMIT_REDIS_URL), where each alone would let through its own allowance."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

REDIS_URL = os.environ.get("PRG_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="set PRG_TEST_REDIS_URL to test limits shared through Redis")
LIMIT = 4


def start_server(database: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "PRG_DATABASE_URL": database, "PRG_PORT": str(port), "PRG_LOG_LEVEL": "WARNING",
           "PRG_SURVEY_SUBMISSIONS_PER_HOUR": str(LIMIT), "PRG_RATE_LIMIT_REDIS_URL": REDIS_URL}
    return subprocess.Popen([str(Path(sys.executable).parent / "prg"), "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{base} did not start")


async def test_two_processes_enforce_one_limit(client, manager, database):
    definition = {"title": {"en": "Friends and Family Test"}, "sections": [{"id": "all", "questions": [
        {"type": "single_choice", "id": "overall", "required": True, "label": {"en": "Overall?"},
         "options": [{"code": "good", "label": {"en": "Good"}}, {"code": "poor", "label": {"en": "Poor"}}]}]}]}
    created = await client.post("/api/practices/Y90001/surveys", headers=manager.headers, json={"definition": definition})
    survey = (await client.post(f"/api/practices/Y90001/surveys/{created.json()['id']}/publish",
                                headers=manager.headers)).json()
    path = "/s/" + survey["link"].rsplit("/s/", 1)[1].split("?")[0]
    form = {"overall": "good", "_action": "submit", "_page": "0", "_lang": "en"}
    ports = [free_port(), free_port()]
    servers = [start_server(database, port) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            wait_until_up(base)
        # Alternate between the processes: alone, each would allow LIMIT answers from this address.
        answers = [httpx.post(bases[n % 2] + path, data=form, timeout=10).status_code for n in range(LIMIT + 4)]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    assert answers[:LIMIT] == [303] * LIMIT, answers
    assert answers[LIMIT:] == [429] * 4, answers
    stored = await client.get(f"/api/practices/Y90001/surveys/{survey['id']}/responses", headers=manager.headers)
    assert stored.json()["total"] == LIMIT
