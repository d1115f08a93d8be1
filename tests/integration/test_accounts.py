"""Signing in, sessions and CSRF, tokens, host administration, roles."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD


async def sign_in(client, email, password=PASSWORD):
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_sign_in_sets_a_safe_session_cookie_and_lists_practices(client, manager):
    response = await sign_in(client, manager.email.upper())
    assert response.status_code == 201
    cookie = response.headers["set-cookie"]
    assert "prg_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    body = response.json()
    assert body["practices"] == [{"ods_code": "Y90001", "name": "Test Surgery", "address": "", "postcode": "",
                                  "list_size": 12400, "role": "manager"}]
    assert body["csrf_token"]
    members = await client.get("/api/practices/Y90001/members")
    assert members.status_code == 200


async def test_wrong_password_is_refused_and_throttled(client, manager):
    for _ in range(5):
        assert (await sign_in(client, manager.email, "wrong password!!")).status_code == 401
    locked = await sign_in(client, manager.email)  # even the right password, while locked
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert locked.headers["content-type"].startswith("application/problem+json")


async def test_unknown_email_and_wrong_password_look_the_same(client, manager):
    unknown = await sign_in(client, "nobody@example.org")
    wrong = await sign_in(client, manager.email, "not the password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


async def test_cookie_session_needs_csrf_token_on_unsafe_methods(client, manager):
    csrf = (await sign_in(client, manager.email)).json()["csrf_token"]
    member = {"first_name": "Ann", "last_name": "Lee", "preferred_contact": "post", "address": "1 High St"}
    refused = await client.post("/api/practices/Y90001/members", json=member)
    assert refused.status_code == 403
    wrong = await client.post("/api/practices/Y90001/members", json=member, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    listing = await client.get("/api/practices/Y90001/members")
    assert listing.json()["total"] == 0  # nothing was created by the refused requests
    accepted = await client.post("/api/practices/Y90001/members", json=member, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201


async def test_sign_out_ends_the_session(client, manager):
    csrf = (await sign_in(client, manager.email)).json()["csrf_token"]
    assert (await client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 204
    client.cookies.clear()
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_api_token_shown_once_listed_without_secret_and_revocable(client, manager):
    created = await client.post("/api/auth/tokens", headers=manager.headers, json={"name": "export script"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("prg_")
    token_headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/practices/Y90001/members", headers=token_headers)).status_code == 200
    listed = (await client.get("/api/auth/tokens", headers=manager.headers)).text
    assert secret not in listed and "export script" in listed
    token_id = created.json()["token"]["id"]
    assert (await client.delete(f"/api/auth/tokens/{token_id}", headers=manager.headers)).status_code == 204
    assert (await client.get("/api/practices/Y90001/members", headers=token_headers)).status_code == 401


async def test_token_is_stored_only_as_a_hash(client, manager):
    from prg.accounts.tables import ApiToken

    secret = (await client.post("/api/auth/tokens", headers=manager.headers, json={"name": "x"})).json()["secret"]
    rows = await ApiToken.select()
    assert all(secret not in str(row) for row in rows)


@pytest.mark.parametrize("ods, ok", [("A81001", True), ("y90002", True), ("Y9000", False), ("AB1234", False),
                                     ("123456", False), ("A810011", False)])
async def test_admin_creates_practices_with_valid_ods_codes(client, make_staff, ods, ok):
    admin = await make_staff(admin=True)
    response = await client.post("/api/admin/practices", headers=admin.headers, json={"ods_code": ods, "name": "P"})
    if ok:
        assert response.status_code == 201
        assert response.json()["ods_code"] == ods.upper()
    else:
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "ods_code"


async def test_duplicate_practice_is_a_conflict(client, make_staff):
    admin = await make_staff(admin=True)
    await client.post("/api/admin/practices", headers=admin.headers, json={"ods_code": "A81001", "name": "P"})
    again = await client.post("/api/admin/practices", headers=admin.headers, json={"ods_code": "a81001", "name": "Q"})
    assert again.status_code == 409


async def test_admin_routes_need_an_admin(client, manager):
    response = await client.post("/api/admin/practices", headers=manager.headers, json={"ods_code": "A81001", "name": "P"})
    assert response.status_code == 403


async def test_admin_sees_no_practice_data_without_a_role(client, manager, make_staff):
    admin = await make_staff(admin=True)
    assert (await client.get("/api/practices/Y90001/members", headers=admin.headers)).status_code == 404


async def test_manager_grants_roles_and_the_new_user_can_sign_in(client, manager):
    grant = await client.post("/api/practices/Y90001/users", headers=manager.headers, json={
        "email": "new.staff@example.org", "role": "viewer", "password": "a long first password"})
    assert grant.status_code == 201
    assert (await sign_in(client, "new.staff@example.org", "a long first password")).status_code == 201
    users = (await client.get("/api/practices/Y90001/users", headers=manager.headers)).json()
    assert {u["email"]: u["role"] for u in users}["new.staff@example.org"] == "viewer"


async def test_granting_a_role_to_an_unknown_email_needs_a_password(client, manager):
    response = await client.post("/api/practices/Y90001/users", headers=manager.headers,
                                 json={"email": "someone@example.org", "role": "staff"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


@pytest.mark.parametrize("role, can_read, can_write, can_manage", [
    ("viewer", True, False, False), ("staff", True, True, False), ("manager", True, True, True)])
async def test_roles(client, make_practice, make_staff, role, can_read, can_write, can_manage):
    await make_practice("Y90001")
    boss = await make_staff("Y90001", "manager")
    member_id = (await client.post("/api/practices/Y90001/members", headers=boss.headers, json={
        "first_name": "Ann", "last_name": "Lee", "preferred_contact": "post", "address": "1 High St"})).json()["id"]
    user = await make_staff("Y90001", role)
    read = await client.get("/api/practices/Y90001/members", headers=user.headers)
    write = await client.patch(f"/api/practices/Y90001/members/{member_id}", headers=user.headers,
                               json={"title": "Dr"})
    manage = await client.get("/api/practices/Y90001/users", headers=user.headers)
    assert (read.status_code == 200) == can_read
    assert (write.status_code == 200) == can_write
    assert (manage.status_code == 200) == can_manage
    if not can_write:
        assert write.status_code == 403
        member = (await client.get(f"/api/practices/Y90001/members/{member_id}", headers=boss.headers)).json()
        assert member["title"] == ""
    erase = await client.delete(f"/api/practices/Y90001/members/{member_id}", headers=user.headers)
    assert (erase.status_code == 204) == can_manage
