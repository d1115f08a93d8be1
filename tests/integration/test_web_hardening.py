"""Web hardening (issue 9, item 5): security headers, session cookie flags, CSRF on every
cookie-authenticated unsafe route (generated from the app's route list), CORS closed unless configured,
JSON sent as text/plain refused, request body limits. Login throttling is in test_accounts.py."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from prg import db
from prg.app import create_app
from tests.helpers import PASSWORD

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SURVEY = {"title": {"en": "Hardening"}, "sections": [{"id": "s", "questions": [
    {"type": "single_choice", "id": "fft", "required": True, "label": {"en": "Overall"},
     "options": [{"code": "good", "label": {"en": "Good"}}, {"code": "poor", "label": {"en": "Poor"}}]},
]}]}
MEMBER = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.org"}
EVIL = "https://evil.example"
FRIEND = "https://ppg.example.org"


def cookie_unsafe_operations() -> list[tuple[str, str]]:
    """Every unsafe /api route a browser session can reach (everything but sign-in itself)."""
    operations = []
    for route in create_app(pool=False).routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/") and route.path != "/api/auth/login":
            operations += [(method, route.path) for method in sorted(route.methods & UNSAFE)]
    return operations


CSRF_OPERATIONS = cookie_unsafe_operations()


def fill(path: str, values: dict[str, object]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(values.get(m.group(1), 1)), path)


BOOKKEEPING = {"last_used_at", "last_seen_at"}  # when the caller's own token or session was last used


async def every_row() -> dict[str, list[dict]]:
    """Every row of every table, less the caller's credential bookkeeping."""
    return {t._meta.tablename: [{k: v for k, v in row.items() if k not in BOOKKEEPING}
                                for row in await t.select().order_by(t._meta.primary_key)]
            for t in db.all_tables()}


async def sign_in(client, email: str):
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response


async def published_survey(client, staff) -> dict:
    survey = (await client.post("/api/practices/Y90001/surveys", headers=staff.headers,
                                json={"definition": SURVEY})).json()
    published = await client.post(f"/api/practices/Y90001/surveys/{survey['id']}/publish", headers=staff.headers)
    assert published.status_code in (200, 201), published.text
    return survey


# --- security headers -------------------------------------------------------------------------------


def assert_security_headers(response) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (response.request.url, csp)
    assert "default-src 'self'" in csp
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"
    assert headers.get("x-frame-options") == "DENY"


async def test_security_headers_on_api_public_form_and_errors(client, manager):
    survey = await published_survey(client, manager)
    responses = {
        "api": await client.get("/api/practices", headers=manager.headers),
        "public form": await client.get(survey["link"]),
        "thanks page": await client.get(f"{survey['link']}/thanks"),
        "form 422": await client.post(survey["link"], data={"_action": "submit", "_page": "0"}),
        "health": await client.get("/livez"),
        "api 401": await client.get("/api/auth/me"),
        "api 404": await client.get("/api/practices/Y90001/no-such-thing", headers=manager.headers),
        "api 400": await client.post("/api/practices/Y90001/members", headers=manager.headers, json={"x": 1}),
        "api 405": await client.put("/api/practices", headers=manager.headers, json={}),
        "unknown survey": await client.get("/s/nosuchsurvey"),
        "unknown page": await client.get("/nothing-here"),
    }
    expected = {"api": 200, "public form": 200, "thanks page": 200, "form 422": 422, "health": 200, "api 401": 401,
                "api 404": 404, "api 400": 400, "api 405": 405, "unknown survey": 404, "unknown page": 404}
    for name, response in responses.items():
        assert response.status_code == expected[name], (name, response.status_code, response.text)
        assert_security_headers(response)
    assert responses["api"].headers["cache-control"] == "no-store"  # personal data is not cached
    assert responses["api 404"].headers["cache-control"] == "no-store"


# --- session cookie flags ---------------------------------------------------------------------------


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("prg_session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


async def test_session_cookie_is_httponly_lax_and_secure_over_https(client, manager):
    cookie = session_cookie(await sign_in(client, manager.email))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie and "Path=/" in cookie


async def test_session_cookie_is_not_secure_over_plain_http_in_auto_mode(settings, manager):
    assert settings.cookie_secure == "auto"
    async with AsyncTestClient(create_app(pool=False), base_url="http://testserver.local") as http:
        cookie = session_cookie(await sign_in(http, manager.email))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie


async def test_session_cookie_is_secure_when_configured_even_over_http(configure, manager):
    assert configure(cookie_secure="true").cookie_secure == "true"
    async with AsyncTestClient(create_app(pool=False), base_url="http://testserver.local") as http:
        cookie = session_cookie(await sign_in(http, manager.email))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


# --- CSRF on every cookie-authenticated unsafe route -------------------------------------------------


def test_the_csrf_matrix_covers_every_kind_of_route():
    paths = {path for _, path in CSRF_OPERATIONS}
    assert "/api/auth/login" not in paths
    assert {"/api/auth/logout", "/api/admin/users", "/api/practices/{ods_code:str}/members/import"} <= paths
    assert {method for method, _ in CSRF_OPERATIONS} == UNSAFE
    assert len(CSRF_OPERATIONS) >= 25


@pytest.fixture
async def signed_in_browser(client, manager, make_staff):
    """A browser session of a host admin who manages Y90001 (so only CSRF stands in the way), and ids of
    real resources for every path parameter."""
    admin = await make_staff("Y90001", "manager", admin=True)
    member = (await client.post("/api/practices/Y90001/members", headers=admin.headers, json=MEMBER)).json()
    consent = (await client.post(f"/api/practices/Y90001/members/{member['id']}/consents", headers=admin.headers,
                                 json={"purpose": "prg_contact", "method": "paper", "wording_version": "v1"})).json()
    survey = await published_survey(client, admin)
    response = (await client.post(f"/api/practices/Y90001/surveys/{survey['id']}/responses", headers=admin.headers,
                                  json={"answers": {"fft": "good"}, "language": "en", "mode": "kiosk"})).json()
    profile = (await client.post("/api/practices/Y90001/population", headers=admin.headers, json={
        "dimension": "ethnicity", "extract_date": "2025-01-01", "counts": [{"group": "A", "patients": 100}]})).json()
    token = (await client.post("/api/auth/tokens", headers=admin.headers, json={"name": "spare"})).json()
    ids = {"ods_code": "Y90001", "member_id": member["id"], "consent_id": consent["id"], "survey_id": survey["id"],
           "response_id": response["id"], "profile_id": profile["id"], "token_id": token["token"]["id"],
           "user_id": manager.user_id}
    csrf = (await sign_in(client, admin.email)).json()["csrf_token"]
    assert (await client.get("/api/auth/me")).status_code == 200  # the cookie alone signs us in
    return ids, csrf


@pytest.mark.parametrize("method, path", CSRF_OPERATIONS)
async def test_cookie_session_without_csrf_token_is_refused_and_changes_nothing(client, signed_in_browser,
                                                                                method, path):
    ids, _ = signed_in_browser
    before = await every_row()
    body = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
    response = await client.request(method, fill(path, ids), **body)
    assert response.status_code == 403, response.text
    assert "X-CSRF-Token" in response.text
    wrong = await client.request(method, fill(path, ids), headers={"X-CSRF-Token": "x" * 43}, **body)
    assert wrong.status_code == 403, wrong.text
    assert await every_row() == before


async def test_the_same_session_with_its_csrf_token_is_accepted(client, signed_in_browser):
    _, csrf = signed_in_browser
    created = await client.post("/api/practices/Y90001/members", json={**MEMBER, "email": "b@example.org"},
                                headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text


# --- CORS ------------------------------------------------------------------------------------------------


async def preflight(client, origin: str):
    return await client.options("/api/practices", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-csrf-token"})


async def test_cors_is_closed_by_default(client, manager):
    response = await client.get("/api/practices", headers={**manager.headers, "Origin": EVIL})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert "access-control-allow-origin" not in (await preflight(client, EVIL)).headers


async def test_cors_opens_only_to_configured_origins(configure, manager):
    configure(cors_origins=f"{FRIEND}, https://other.example.org")
    async with AsyncTestClient(create_app(pool=False), base_url="https://testserver.local") as client:
        friendly = await client.get("/api/practices", headers={**manager.headers, "Origin": FRIEND})
        assert friendly.headers.get("access-control-allow-origin") == FRIEND
        assert friendly.headers.get("access-control-allow-credentials") == "true"
        allowed = await preflight(client, FRIEND)
        assert allowed.status_code in (200, 204)
        assert allowed.headers.get("access-control-allow-origin") == FRIEND
        hostile = await client.get("/api/practices", headers={**manager.headers, "Origin": EVIL})
        assert "access-control-allow-origin" not in hostile.headers
        refused = await preflight(client, EVIL)
        assert refused.headers.get("access-control-allow-origin") in (None, FRIEND)
        assert refused.headers.get("access-control-allow-origin") != EVIL


# --- body types and sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8",
                                          "application/x-www-form-urlencoded"])
async def test_json_sent_as_a_simple_cross_site_body_type_is_refused(client, manager, content_type):
    before = await every_row()
    created = await client.post("/api/practices/Y90001/members", headers={**manager.headers,
                                "Content-Type": content_type}, content=b'{"first_name": "Ann", "last_name": "Lee"}')
    assert created.status_code == 415, created.text
    assert created.headers["content-type"].startswith("application/problem+json")
    login = await client.post("/api/auth/login", headers={"Content-Type": content_type},
                              content=f'{{"email": "{manager.email}", "password": "{PASSWORD}"}}'.encode())
    assert login.status_code == 415
    assert "set-cookie" not in login.headers
    assert await every_row() == before


async def test_request_bodies_over_the_configured_limit_are_refused(configure, database, manager):
    settings = configure(max_upload_bytes=2000)
    app = create_app(pool=False)
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        before = await every_row()
        # A file over the upload limit, inside the request limit: refused before it is parsed.
        upload = await client.post("/api/practices/Y90001/members/import", headers=manager.headers,
                                   files={"file": ("r.csv", b"First name,Surname\n" + b"Ann,Lee\n" * 1000)})
        assert upload.status_code == 413, upload.text
        # A body over the request limit (upload limit + 100 kB for the form's own parts).
        too_big = settings.max_upload_bytes + 100_001
        body = b'{"first_name": "' + b"A" * too_big + b'", "last_name": "Lee"}'
        json_body = await client.post("/api/practices/Y90001/members", headers={
            **manager.headers, "Content-Type": "application/json"}, content=body)
        assert json_body.status_code == 413, json_body.text
        big_file = await client.post("/api/practices/Y90001/members/import", headers=manager.headers,
                                     files={"file": ("r.csv", b"x" * too_big)})
        assert big_file.status_code == 413, big_file.text
        survey_form = await client.post("/s/whatever", content=b"a=" + b"b" * too_big,
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert survey_form.status_code == 413, survey_form.status_code
        assert await every_row() == before
