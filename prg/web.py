"""Cross-cutting HTTP policy: who is calling (session cookie or API token), CSRF for cookie sessions,
the tenancy guard for `/api/practices/{ods_code}/...`, and security headers.

Roles: a route's `opt={"role": ...}` names the least role it needs; otherwise reads need `viewer` and
writes `staff`. A caller with no role at the practice gets 404 for everything in it (its existence is
not confirmed), a caller whose role is too low gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Headers, MutableScopeHeaders, UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.enums import ScopeType
from litestar.middleware import AbstractAuthenticationMiddleware, ASGIMiddleware, AuthenticationResult
from litestar.params import PathParameter
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from prg.accounts.security import same_secret
from prg.accounts.services import PracticeAccess, identity_from_session, identity_from_token, practice_access
from prg.errors import DomainError, FileTooLarge, Forbidden, NotFound
from prg.settings import get_settings

SESSION_COOKIE = "prg_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class StaffAuthentication(AbstractAuthenticationMiddleware):
    """Resolves `Authorization: Bearer <token>` or the session cookie to an `Identity` on /api routes."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise NotAuthorizedException("Use 'Authorization: Bearer <token>'.")
            identity = await identity_from_token(secret.strip())
            if identity is None:
                raise NotAuthorizedException("The API token is not valid or has been revoked.")
            return AuthenticationResult(user=identity, auth=identity)

        cookie = connection.cookies.get(SESSION_COOKIE)
        identity = await identity_from_session(cookie) if cookie else None
        if identity is None:
            raise NotAuthorizedException("Sign in, or send an API token.")
        # Cookies ride along on cross-site requests; the CSRF token, readable only by our own pages, does not.
        if connection.scope["method"] not in SAFE_METHODS:
            sent = connection.headers.get(CSRF_HEADER, "")
            if not (identity.csrf_token and same_secret(sent, identity.csrf_token)):
                raise PermissionDeniedException("Missing or wrong X-CSRF-Token header.")
        return AuthenticationResult(user=identity, auth=identity)


async def practice_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    if connection.scope["method"] == "OPTIONS":  # Litestar's automatic OPTIONS answers only "Allow"
        return
    identity = connection.auth
    ods_code = str(connection.path_params.get("ods_code", ""))
    access = await practice_access(identity.user_id, ods_code)
    if access is None:
        raise NotFound(f"No practice {ods_code.upper()} that you can see.")
    needed = handler.opt.get("role") or ("viewer" if connection.scope["method"] in SAFE_METHODS else "staff")
    if not access.at_least(needed):
        raise Forbidden(f"This needs the {needed} role at {access.ods_code}; you are {access.role}.")
    connection.state.practice = access


async def admin_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.scope["method"] != "OPTIONS" and not connection.auth.is_admin:
        raise Forbidden("Only a host administrator can do this.")


def provide_practice(request: Request) -> PracticeAccess:
    return request.state.practice


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    # Pages are server-rendered with no inline script; the OpenAPI viewer pages load their own assets.
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "cross-origin-opener-policy": "same-origin",
}


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if scope["path"].startswith("/api"):
            headers.setdefault("cache-control", "no-store")


# The practice a request is about, as resolved by `practice_guard` (inject as `practice: CurrentPractice`).
CurrentPractice = NamedDependency[PracticeAccess]

# A row's id in a path, within the database's integer range (PostgreSQL `integer`): a larger number is
# a 400 naming the parameter, not an overflow deep in a driver.
RecordId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]


ACCEPTED_BODY_TYPES = ("application/json", "multipart/form-data")


class RequireKnownBodyType(ASGIMiddleware):
    """Unsafe API requests with a body must say it is JSON or a multipart upload.

    Browsers send `text/plain` and form bodies across sites without a CORS preflight; refusing them
    here means a hostile page cannot smuggle JSON into the API (sign-in included).
    """

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["method"] not in SAFE_METHODS and scope["path"].startswith("/api/"):
            headers = Headers.from_scope(scope)
            has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if has_body and content_type not in ACCEPTED_BODY_TYPES:
                raise UnsupportedBodyType(
                    "Send JSON with 'Content-Type: application/json', or files as multipart/form-data."
                )
        await next_app(scope, receive, send)


class UnsupportedBodyType(DomainError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


@dataclass
class FileUpload:
    file: UploadFile


async def read_upload(upload: UploadFile) -> tuple[bytes, str]:
    """The upload's bytes, refused before reading past the configured size."""
    limit = get_settings().max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"The file is larger than {limit // 1_000_000} MB.")
    return data, upload.filename or "upload"
