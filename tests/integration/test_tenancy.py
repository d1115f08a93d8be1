"""Tenant isolation, generated from the application's own route list: a route added tomorrow is
covered without anyone remembering to add it here."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from prg import db
from prg.app import create_app

MEMBER = {"first_name": "Bea", "last_name": "Other", "email": "bea@example.org"}


def api_operations(prefix: str) -> list[tuple[str, str]]:
    app = create_app(pool=False)
    operations = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith(prefix):
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                operations.append((method, route.path))
    return operations


PRACTICE_OPERATIONS = api_operations("/api/practices/{ods_code")


def test_the_matrix_covers_the_register():
    paths = {path for _, path in PRACTICE_OPERATIONS}
    assert "/api/practices/{ods_code:str}/members/{member_id:int}" in paths
    assert len(PRACTICE_OPERATIONS) >= 12


async def practice_snapshot() -> dict[str, list[dict]]:
    """Every row of every table that belongs to a practice, plus the practices themselves."""
    snapshot = {}
    for table in db.all_tables():
        columns = {c._meta.name for c in table._meta.columns}
        if "practice" in columns or table._meta.tablename == "practice":
            snapshot[table._meta.tablename] = await table.select().order_by(table._meta.primary_key)
    return snapshot


def fill(path: str, values: dict[str, object]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(values.get(m.group(1), 1)), path)


@pytest.fixture
async def two_practices(client, make_practice, make_staff):
    await make_practice("Y90001", "Practice A")
    await make_practice("Y90002", "Practice B")
    a = await make_staff("Y90001", "manager")
    b = await make_staff("Y90002", "manager")
    member = (await client.post("/api/practices/Y90002/members", headers=b.headers, json=MEMBER)).json()
    consent = (await client.post(f"/api/practices/Y90002/members/{member['id']}/consents", headers=b.headers,
                                 json={"purpose": "prg_contact", "method": "paper", "wording_version": "v1"})).json()
    b_ids = {"ods_code": "Y90002", "member_id": member["id"], "consent_id": consent["id"], "user_id": b.user_id}
    return a, b, b_ids


@pytest.mark.parametrize("method, path", PRACTICE_OPERATIONS)
async def test_a_user_of_practice_a_gets_404_for_everything_of_practice_b(client, two_practices, method, path):
    a, _, b_ids = two_practices
    before = await practice_snapshot()
    response = await client.request(method, fill(path, b_ids), headers=a.headers,
                                    json={} if method in {"POST", "PUT", "PATCH"} else None)
    assert response.status_code == 404, response.text
    assert "Bea" not in response.text and "bea@example.org" not in response.text
    assert await practice_snapshot() == before


@pytest.mark.parametrize("method, path", PRACTICE_OPERATIONS + api_operations("/api/admin") + api_operations("/api/auth/t"))
async def test_every_api_route_refuses_anonymous_callers(client, two_practices, method, path):
    _, _, b_ids = two_practices
    response = await client.request(method, fill(path, b_ids), json={} if method != "GET" else None)
    assert response.status_code == 401


@pytest.mark.parametrize("method, path", [op for op in PRACTICE_OPERATIONS if op[0] != "GET"])
async def test_viewer_cannot_write_anything(client, two_practices, make_staff, method, path):
    _, _, b_ids = two_practices
    viewer = await make_staff("Y90002", "viewer")
    before = await practice_snapshot()
    response = await client.request(method, fill(path, b_ids), headers=viewer.headers, json={})
    assert response.status_code == 403
    assert await practice_snapshot() == before
