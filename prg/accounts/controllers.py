"""HTTP for sign-in, the caller's own account and tokens, host administration, and practice staff."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from prg.accounts import schemas, services
from prg.accounts.services import Identity
from prg.settings import get_settings
from prg.web import SESSION_COOKIE, CurrentPractice, RecordId, admin_guard


def _session_cookie(request: Request, value: str, max_age: int) -> Cookie:
    setting = get_settings().cookie_secure
    secure = request.url.scheme == "https" if setting == "auto" else setting == "true"
    return Cookie(key=SESSION_COOKIE, value=value, httponly=True, samesite="lax", secure=secure, path="/", max_age=max_age)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/login", opt={"exclude_from_auth": True})
    async def login(self, request: Request, data: JSONBody[schemas.LoginIn]) -> Response[schemas.Me]:
        """Sign in with e-mail and password; sets the session cookie and returns the CSRF token."""
        cookie, identity = await services.sign_in(data.email, data.password)
        me = schemas.Me(
            user=await services.get_user(identity.user_id),
            practices=await services.practices_of(identity.user_id),
            csrf_token=identity.csrf_token,
        )
        max_age = int(get_settings().session_max_hours * 3600)
        return Response(me, cookies=[_session_cookie(request, cookie, max_age)])

    @post("/logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request) -> Response[None]:
        await services.sign_out(request.auth)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=[_session_cookie(request, "", 0)])

    @get("/me")
    async def me(self, request: Request) -> schemas.Me:
        identity: Identity = request.auth
        return schemas.Me(
            user=await services.get_user(identity.user_id),
            practices=await services.practices_of(identity.user_id),
            csrf_token=identity.csrf_token,
        )

    @get("/tokens")
    async def list_tokens(self, request: Request) -> list[schemas.TokenOut]:
        return await services.list_tokens(request.auth.user_id)

    @post("/tokens")
    async def create_token(self, request: Request, data: JSONBody[schemas.TokenIn]) -> schemas.TokenCreated:
        """Create a personal API token. The secret is in this response only."""
        return await services.create_token(request.auth.user_id, data.name, request.auth)

    @delete("/tokens/{token_id:int}")
    async def revoke_token(self, request: Request, token_id: RecordId) -> None:
        await services.revoke_token(request.auth.user_id, token_id, request.auth)


class AdminController(Controller):
    """Host administration: a PCN or commissioner hosting several practices."""

    path = "/api/admin"
    tags = ["admin"]
    guards = [admin_guard]

    @get("/practices")
    async def list_practices(self) -> list[schemas.PracticeOut]:
        return await services.list_all_practices()

    @post("/practices")
    async def create_practice(self, request: Request, data: JSONBody[schemas.PracticeIn]) -> schemas.PracticeOut:
        return await services.create_practice(data, request.auth)

    @post("/users")
    async def create_user(self, request: Request, data: JSONBody[schemas.UserIn]) -> schemas.UserOut:
        return await services.create_user(data, request.auth)

    @post("/practices/{ods_code:str}/roles")
    async def grant_role(self, request: Request, ods_code: FromPath[str], data: JSONBody[schemas.RoleGrant]) -> schemas.PracticeUserOut:
        practice_id = await services.practice_id_for(ods_code)
        return await services.grant_role(
            practice_id, data.email, data.role, request.auth, password=data.password, display_name=data.display_name
        )


class PracticeController(Controller):
    """The practice itself and its staff. Mounted under /api/practices/{ods_code}."""

    path = "/"
    tags = ["practice"]

    @get("/")
    async def get_practice(self, practice: CurrentPractice) -> schemas.PracticeOut:
        return await services.get_practice(practice)

    @patch("/", opt={"role": "manager"})
    async def update_practice(
        self, request: Request, practice: CurrentPractice, data: JSONBody[schemas.PracticeUpdate]
    ) -> schemas.PracticeOut:
        return await services.update_practice(practice, data, request.auth)

    @get("/users", opt={"role": "manager"})
    async def list_users(self, practice: CurrentPractice) -> list[schemas.PracticeUserOut]:
        return await services.practice_users(practice.practice_id)

    @post("/users", opt={"role": "manager"})
    async def grant_role(
        self, request: Request, practice: CurrentPractice, data: JSONBody[schemas.RoleGrant]
    ) -> schemas.PracticeUserOut:
        """Give a colleague a role here; creates their account when a first password is given."""
        return await services.grant_role(
            practice.practice_id, data.email, data.role, request.auth, password=data.password,
            display_name=data.display_name,
        )

    @delete("/users/{user_id:int}", opt={"role": "manager"})
    async def revoke_role(self, request: Request, practice: CurrentPractice, user_id: RecordId) -> None:
        await services.revoke_role(practice.practice_id, user_id, request.auth)
