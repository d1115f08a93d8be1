"""The app answers, documents itself, and every error is a problem document."""

from __future__ import annotations

from datetime import date


async def test_livez_and_healthz(client):
    assert (await client.get("/livez")).json() == {"status": "ok"}
    health = await client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["database"] in {"sqlite", "postgres"}


async def test_openapi_schema_lists_the_api_with_bounds(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/practices/{ods_code}/members" in schema["paths"]
    member_in = schema["components"]["schemas"]["MemberIn"]
    assert member_in["properties"]["first_name"]["maxLength"] == 100


async def test_unauthenticated_api_call_is_a_401_problem(client):
    response = await client.get("/api/practices")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == 401


async def test_validation_error_names_each_field(client, manager):
    response = await client.post("/api/practices/Y90001/members", headers=manager.headers,
                                 json={"first_name": "", "last_name": "Smith", "sex": "robot"})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "/problems/invalid-request"
    assert body["errors"] and body["errors"][0]["field"] in {"first_name", "sex"}


async def test_rule_errors_name_the_field(client, manager):
    response = await client.post("/api/practices/Y90001/members", headers=manager.headers, json={
        "first_name": "Ann", "last_name": "Lee", "preferred_contact": "email", "status": "active",
        "left_on": "2020-01-01",
    })
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"left_on", "preferred_contact"}


async def test_unknown_route_is_a_404_problem(client):
    response = await client.get("/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_security_headers_on_every_response(client):
    response = await client.get("/livez")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_json_smuggled_as_text_or_form_is_refused(client, manager):
    body = b'{"email": "x@example.org", "password": "whatever"}'
    for content_type in ["text/plain", "application/x-www-form-urlencoded", ""]:
        response = await client.post("/api/auth/login", content=body, headers={"content-type": content_type})
        assert response.status_code == 415, content_type
        assert response.json()["type"] == "/problems/unsupported-media-type"


async def test_security_txt_publishes_the_configured_contact(client, configure):
    assert (await client.get("/.well-known/security.txt")).status_code == 404
    configure(security_contact="mailto:security@riverside.example.org")
    page = await client.get("/.well-known/security.txt")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    lines = dict(line.split(": ", 1) for line in page.text.splitlines())
    assert lines["Contact"] == "mailto:security@riverside.example.org"
    assert lines["Expires"] > date.today().isoformat()
