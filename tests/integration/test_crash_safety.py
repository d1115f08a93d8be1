"""Crash safety of the survey submission path, on the real server (issue 9, item 3).

`prg serve` runs in a subprocess on 127.0.0.1 and on the test's own database (SQLite, or PostgreSQL
with PRG_TEST_DATABASE_URL). Sixteen concurrent clients post the public web form, each submission
carrying a unique marker in a free-text answer. The server is killed with SIGKILL at random moments
mid-load and restarted on the same database, several times; the last kill comes after the load, so
nothing is ever shut down gracefully. Then the stored responses are read with SQL and reconciled:

- every submission answered 303 is stored exactly once (group commit acknowledges only after commit);
- no marker is stored twice, and nothing is stored that was never sent;
- a submission whose connection broke (sent, no answer) may or may not be stored: both are counted;
- a submission refused at connect time (server down) never reached the server and is not stored.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from surveys.tables import SurveyResponse

PRG = str(Path(sys.executable).parent / "prg")
ODS = "Y90077"
CLIENTS = 16
KILLS = 4
SURVEY = {
    "title": {"en": "Crash safety"},
    "sections": [{"id": "all", "questions": [
        {"type": "single_choice", "id": "fft", "required": True, "label": {"en": "Overall"},
         "options": [{"code": c, "label": {"en": c}} for c in ("very_good", "good", "poor")]},
        {"type": "long_text", "id": "comment", "label": {"en": "Comments"}},
    ]}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Tally:
    acknowledged: set[str] = field(default_factory=set)  # answered 303
    broken: set[str] = field(default_factory=set)  # sent, then the connection broke: outcome unknown
    unsent: set[str] = field(default_factory=set)  # connection refused: never reached the server
    other: Counter = field(default_factory=Counter)  # any other status (expected: none)


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{env['PRG_PORT']}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([PRG, "serve"], env=self.env, stdout=out, stderr=subprocess.STDOUT)

    async def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(base_url=self.base, timeout=1) as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, self.log.read_text()
                try:
                    if (await http.get("/livez")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"server did not start within {seconds} s\n{self.log.read_text()}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def cli(env: dict[str, str], *args: str, input: str | None = None) -> str:
    done = subprocess.run([PRG, *args], env=env, input=input, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def form(marker: str) -> bytes:
    return urllib.parse.urlencode([("fft", "good"), ("comment", f"crash-test {marker}"), ("_action", "submit"),
                                   ("_page", "0"), ("_lang", "en")]).encode()


async def patient(number: int, link: str, base: str, tally: Tally, stop: asyncio.Event) -> None:
    """One client: submits one unique response after another; a fresh connection after any failure."""
    sequence = 0
    while not stop.is_set():
        async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10, connect=1)) as http:
            while not stop.is_set():
                sequence += 1
                marker = f"c{number:02d}-{sequence:06d}"
                try:
                    response = await http.post(link, content=form(marker),
                                               headers={"Content-Type": "application/x-www-form-urlencoded"})
                except httpx.ConnectError:
                    tally.unsent.add(marker)
                    await asyncio.sleep(0.05)
                    break
                except httpx.TransportError:  # sent; the server died before (or while) answering
                    tally.broken.add(marker)
                    break
                if response.status_code == 303:
                    tally.acknowledged.add(marker)
                else:
                    tally.other[response.status_code] += 1


async def wait_for_acks(tally: Tally, more: int, seconds: float) -> None:
    target = len(tally.acknowledged) + more
    deadline = time.monotonic() + seconds
    while len(tally.acknowledged) < target and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert len(tally.acknowledged) >= target, "the server took no submissions after a restart"


async def test_every_acknowledged_submission_survives_sigkill(database, tmp_path):
    seed = int(os.environ.get("PRG_CRASH_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    env = {**os.environ, "PRG_DATABASE_URL": database, "PRG_PORT": str(free_port()), "PRG_HOST": "127.0.0.1",
           "PRG_SURVEY_SUBMISSIONS_PER_HOUR": "0", "PRG_LOG_LEVEL": "WARNING"}
    cli(env, "practice", "add", "--ods", ODS, "--name", "Crash Test Surgery")
    cli(env, "user", "add", "--email", "crash@example.org", "--practice", ODS, "--role", "manager",
        input="a long crash password\na long crash password\n")
    token = cli(env, "token", "create", "--email", "crash@example.org", "--name", "crash").strip()

    server = Server(env, tmp_path / "server.log")
    tally = Tally()
    stop = asyncio.Event()
    kills = 0
    try:
        server.start()
        await server.wait_ready()
        async with httpx.AsyncClient(base_url=server.base, headers={"Authorization": f"Bearer {token}"},
                                     timeout=10) as api:
            created = await api.post(f"/api/practices/{ODS}/surveys", json={"definition": SURVEY, "access": "open"})
            assert created.status_code == 201, created.text
            survey = created.json()
            published = await api.post(f"/api/practices/{ODS}/surveys/{survey['id']}/publish")
            assert published.status_code in (200, 201), published.text

        clients = [asyncio.create_task(patient(n, survey["link"], server.base, tally, stop)) for n in range(CLIENTS)]
        try:
            for _ in range(KILLS):
                await wait_for_acks(tally, 20, 15)  # the load is running on this incarnation
                await asyncio.sleep(rng.uniform(0.2, 1.5))  # a random moment mid-load
                server.kill()
                kills += 1
                await asyncio.sleep(rng.uniform(0.0, 0.3))  # clients meet a dead port for a while
                server.start()
                await server.wait_ready()
            await wait_for_acks(tally, 20, 15)
            await asyncio.sleep(rng.uniform(0.2, 1.0))
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*clients), timeout=30)
        server.kill()  # no graceful shutdown at the end either: only what was committed counts
        kills += 1

        rows = await SurveyResponse.select(SurveyResponse.answers).where(
            SurveyResponse.survey == survey["id"]).output(load_json=True)
    finally:
        server.stop()

    stored = Counter(row["answers"]["comment"].removeprefix("crash-test ") for row in rows)
    duplicates = {marker: n for marker, n in stored.items() if n > 1}
    lost = tally.acknowledged - stored.keys()
    broken_stored = tally.broken & stored.keys()
    sent = tally.acknowledged | tally.broken
    print(f"\ncrash safety ({'PostgreSQL' if database.startswith('postgres') else 'SQLite'}, seed {seed}): "
          f"kills survived {kills}, acknowledged (303) {len(tally.acknowledged)}, stored {len(rows)}, "
          f"broken connections {len(tally.broken)} of which stored {len(broken_stored)} "
          f"and not stored {len(tally.broken) - len(broken_stored)}, refused at connect {len(tally.unsent)}, "
          f"other statuses {dict(tally.other) or 'none'}")
    assert not lost, f"{len(lost)} acknowledged submissions were lost, e.g. {sorted(lost)[:5]} (seed {seed})"
    assert not duplicates, f"stored more than once: {dict(list(duplicates.items())[:5])} (seed {seed})"
    assert stored.keys() <= sent, f"stored but never sent: {sorted(stored.keys() - sent)[:5]}"
    assert not tally.other, f"unexpected statuses {dict(tally.other)}"
    assert kills == KILLS + 1
    assert len(tally.acknowledged) >= 20 * (KILLS + 1)
