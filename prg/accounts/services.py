"""Use cases for practices, accounts, sign-in and tokens. Each owns its transaction.

Tenancy rule: a user reaches a practice's data only through a `PracticeRole`. Host admins create
practices and accounts and grant roles, but read no practice's patients without a role there
(a commissioner hosting the service needs achievement evidence, not the register).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import msgspec

from prg.accounts import schemas
from prg.accounts.audit.services import record
from prg.accounts.security import TOKEN_PREFIX, hash_password, new_token, token_hash, verify_password
from prg.accounts.tables import ApiToken, LoginFailure, Practice, PracticeRole, StaffSession, StaffUser
from prg.db import utcnow, write_transaction
from prg.errors import Conflict, ErrorDetail, InvalidInput, NotFound, TooManyRequests
from prg.settings import get_settings

ROLE_RANK = {"viewer": 1, "staff": 2, "manager": 3}


@dataclass(frozen=True)
class Identity:
    """Who is calling, and how they proved it."""

    user_id: int
    email: str
    is_admin: bool
    via: Literal["session", "token"]
    csrf_token: str | None = None
    credential_id: int | None = None


@dataclass(frozen=True)
class PracticeAccess:
    """A caller's standing at one practice, resolved once per request by the tenancy guard."""

    practice_id: int
    ods_code: str
    name: str
    role: str

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def _practice_out(row: dict, role: str | None = None) -> schemas.PracticeOut:
    return schemas.PracticeOut(
        ods_code=row["ods_code"], name=row["name"], address=row["address"],
        postcode=row["postcode"], list_size=row["list_size"], role=role,
        website=row.get("website") or msgspec.UNSET, opening_hours=row.get("opening_hours") or msgspec.UNSET,
        extended_hours=_extended_hours(row.get("extended_hours")) or msgspec.UNSET,
    )


def _extended_hours(stored: object) -> list[schemas.ExtendedHours]:
    if isinstance(stored, str):
        stored = msgspec.json.decode(stored or "[]")
    return msgspec.convert(stored or [], list[schemas.ExtendedHours])


def _user_out(row: dict) -> schemas.UserOut:
    return schemas.UserOut(
        id=row["id"], email=row["email"], display_name=row["display_name"],
        is_admin=row["is_admin"], is_active=row["is_active"],
    )


# --- practices ---------------------------------------------------------------------------------


async def create_practice(data: schemas.PracticeIn, actor: Identity | None) -> schemas.PracticeOut:
    ods = data.ods_code.upper()
    async with write_transaction():
        if await Practice.exists().where(Practice.ods_code == ods):
            raise Conflict(f"A practice with ODS code {ods} already exists.", [ErrorDetail("already exists", field="ods_code")])
        practice = Practice(
            ods_code=ods, name=data.name, address=data.address, postcode=data.postcode.upper(),
            list_size=data.list_size, created_at=utcnow(),
        )
        await practice.save()
        await record("practice.create", actor, practice_id=practice.id, entity="practice", entity_id=practice.id)
    return _practice_out(practice.to_dict())


async def list_all_practices() -> list[schemas.PracticeOut]:
    rows = await Practice.select().order_by(Practice.ods_code)
    return [_practice_out(r) for r in rows]


async def practices_of(user_id: int) -> list[schemas.PracticeOut]:
    rows = await PracticeRole.select(
        PracticeRole.role, *PracticeRole.practice.all_columns(exclude=["id", "created_at"])
    ).where(PracticeRole.user == user_id).order_by(PracticeRole.practice.ods_code)
    return [
        _practice_out({k.removeprefix("practice."): v for k, v in r.items()}, r["role"]) for r in rows
    ]


async def practice_access(user_id: int, ods_code: str) -> PracticeAccess | None:
    row = await PracticeRole.select(
        PracticeRole.role, PracticeRole.practice.id, PracticeRole.practice.ods_code, PracticeRole.practice.name
    ).where(
        (PracticeRole.user == user_id) & (PracticeRole.practice.ods_code == ods_code.upper())
    ).first()
    if row is None:
        return None
    return PracticeAccess(row["practice.id"], row["practice.ods_code"], row["practice.name"], row["role"])


async def get_practice(access: PracticeAccess) -> schemas.PracticeOut:
    row = await Practice.select().where(Practice.id == access.practice_id).first()
    return _practice_out(row, access.role)


async def update_practice(access: PracticeAccess, data: schemas.PracticeUpdate, actor: Identity) -> schemas.PracticeOut:
    changes = msgspec_changes(data)
    if "postcode" in changes:
        changes["postcode"] = changes["postcode"].upper()
    if "extended_hours" in changes:
        changes["extended_hours"] = msgspec.json.encode(data.extended_hours).decode()
    async with write_transaction():
        if changes:
            await Practice.update(changes, force=True).where(Practice.id == access.practice_id)
        await record("practice.update", actor, practice_id=access.practice_id, entity="practice",
                     entity_id=access.practice_id, details={"fields": sorted(changes)})
    return await get_practice(access)


def msgspec_changes(struct) -> dict:
    """The fields a PATCH body actually set (UNSET ones left out)."""
    return {k: v for k, v in msgspec.structs.asdict(struct).items() if v is not msgspec.UNSET}


# --- users and roles -----------------------------------------------------------------------------


async def _insert_user(email: str, password: str, display_name: str, is_admin: bool) -> StaffUser:
    if await StaffUser.exists().where(StaffUser.email == email):
        raise Conflict(f"An account for {email} already exists.", [ErrorDetail("already exists", field="email")])
    user = StaffUser(
        email=email, display_name=display_name, password_hash=await hash_password(password),
        is_admin=is_admin, is_active=True, created_at=utcnow(),
    )
    await user.save()
    return user


async def create_user(data: schemas.UserIn, actor: Identity | None) -> schemas.UserOut:
    email = data.email.strip().lower()
    async with write_transaction():
        user = await _insert_user(email, data.password, data.display_name, data.is_admin)
        await record("user.create", actor, entity="user", entity_id=user.id, details={"is_admin": data.is_admin})
    return _user_out(user.to_dict())


async def set_password(email: str, password: str, actor: Identity | None) -> None:
    new_hash = await hash_password(password)
    async with write_transaction():
        user = await StaffUser.select(StaffUser.id).where(StaffUser.email == email.lower()).first()
        if user is None:
            raise NotFound(f"No account for {email}.")
        await StaffUser.update({StaffUser.password_hash: new_hash}).where(StaffUser.id == user["id"])
        await StaffSession.delete().where(StaffSession.user == user["id"])
        await record("user.set_password", actor, entity="user", entity_id=user["id"])


async def grant_role(
    practice_id: int, email: str, role: str, actor: Identity | None,
    *, password: str | None = None, display_name: str = "",
) -> schemas.PracticeUserOut:
    """Give `email` a role at the practice, creating the account when a first password is given."""
    email = email.strip().lower()
    async with write_transaction():
        user = await StaffUser.select(StaffUser.id, StaffUser.display_name).where(StaffUser.email == email).first()
        if user is None:
            if password is None:
                raise InvalidInput(
                    f"No account exists for {email}: give a first password to create one.",
                    [ErrorDetail("required to create a new account", field="password")],
                )
            created = await _insert_user(email, password, display_name, False)
            await record("user.create", actor, practice_id=practice_id, entity="user", entity_id=created.id)
            user = {"id": created.id, "display_name": display_name}
        existing = await PracticeRole.select(PracticeRole.id).where(
            (PracticeRole.user == user["id"]) & (PracticeRole.practice == practice_id)
        ).first()
        if existing:
            await PracticeRole.update({PracticeRole.role: role}).where(PracticeRole.id == existing["id"])
        else:
            await PracticeRole.insert(PracticeRole(user=user["id"], practice=practice_id, role=role))
        await record("role.grant", actor, practice_id=practice_id, entity="user", entity_id=user["id"],
                     details={"role": role})
    return schemas.PracticeUserOut(user_id=user["id"], email=email, display_name=user["display_name"], role=role)


async def revoke_role(practice_id: int, user_id: int, actor: Identity) -> None:
    async with write_transaction():
        deleted = await PracticeRole.delete().where(
            (PracticeRole.user == user_id) & (PracticeRole.practice == practice_id)
        ).returning(PracticeRole.id)
        if not deleted:
            raise NotFound("That user has no role at this practice.")
        await record("role.revoke", actor, practice_id=practice_id, entity="user", entity_id=user_id)


async def practice_users(practice_id: int) -> list[schemas.PracticeUserOut]:
    rows = await PracticeRole.select(
        PracticeRole.user.id, PracticeRole.user.email, PracticeRole.user.display_name, PracticeRole.role
    ).where(PracticeRole.practice == practice_id).order_by(PracticeRole.user.email)
    return [
        schemas.PracticeUserOut(user_id=r["user.id"], email=r["user.email"], display_name=r["user.display_name"], role=r["role"])
        for r in rows
    ]


async def get_user(user_id: int) -> schemas.UserOut:
    row = await StaffUser.select().where(StaffUser.id == user_id).first()
    if row is None:
        raise NotFound("No such user.")
    return _user_out(row)


# --- signing in ------------------------------------------------------------------------------------


async def sign_in(email: str, password: str) -> tuple[str, Identity]:
    """Check the password (throttled per e-mail address) and open a session. Returns the cookie value."""
    settings = get_settings()
    email = email.strip().lower()
    email_key = token_hash(email)
    window_start = utcnow() - timedelta(minutes=settings.login_window_minutes)
    failures = await LoginFailure.count().where((LoginFailure.email_hash == email_key) & (LoginFailure.at > window_start))
    if failures >= settings.login_max_failures:
        raise TooManyRequests(
            "Too many failed sign-ins for this account. Try again later.", retry_after=settings.login_window_minutes * 60
        )
    user = await StaffUser.select().where(StaffUser.email == email).first()
    ok = await verify_password(user["password_hash"] if user else None, password)
    if not ok or not user["is_active"]:
        async with write_transaction():
            await LoginFailure.delete().where(LoginFailure.at < window_start)
            await LoginFailure.insert(LoginFailure(email_hash=email_key, at=utcnow()))
        raise InvalidCredentials()
    cookie = new_token()
    csrf = new_token()
    now = utcnow()
    async with write_transaction():
        await LoginFailure.delete().where(LoginFailure.email_hash == email_key)
        session = StaffSession(token_hash=token_hash(cookie), user=user["id"], csrf_token=csrf, created_at=now, last_seen_at=now)
        await session.save()
        identity = Identity(user["id"], email, user["is_admin"], "session", csrf, session.id)
        await record("session.sign_in", identity, entity="user", entity_id=user["id"])
    return cookie, identity


class InvalidCredentials(InvalidInput):
    status = 401
    title = "Sign-in failed"
    slug = "sign-in-failed"

    def __init__(self) -> None:
        super().__init__("The e-mail address or password is not right.")


async def sign_out(identity: Identity) -> None:
    if identity.via == "session" and identity.credential_id is not None:
        await StaffSession.delete().where(StaffSession.id == identity.credential_id)


# Refresh `last_seen_at` at most this often, so reads do not each cost a write.
_TOUCH_EVERY = timedelta(minutes=1)


async def identity_from_session(cookie: str) -> Identity | None:
    settings = get_settings()
    row = await StaffSession.select(
        StaffSession.id, StaffSession.csrf_token, StaffSession.created_at, StaffSession.last_seen_at,
        StaffSession.user.id, StaffSession.user.email, StaffSession.user.is_admin, StaffSession.user.is_active,
    ).where(StaffSession.token_hash == token_hash(cookie)).first()
    if row is None or not row["user.is_active"]:
        return None
    now = utcnow()
    expired = (now - row["last_seen_at"] > timedelta(hours=settings.session_idle_hours)
               or now - row["created_at"] > timedelta(hours=settings.session_max_hours))
    if expired:
        await StaffSession.delete().where(StaffSession.id == row["id"])
        return None
    if now - row["last_seen_at"] > _TOUCH_EVERY:
        await StaffSession.update({StaffSession.last_seen_at: now}).where(StaffSession.id == row["id"])
    return Identity(row["user.id"], row["user.email"], row["user.is_admin"], "session", row["csrf_token"], row["id"])


# --- API tokens ----------------------------------------------------------------------------------------


def _token_out(row: dict) -> schemas.TokenOut:
    return schemas.TokenOut(
        id=row["id"], name=row["name"], prefix=row["prefix"], created_at=row["created_at"],
        last_used_at=row["last_used_at"], revoked_at=row["revoked_at"],
    )


async def create_token(user_id: int, name: str, actor: Identity | None) -> schemas.TokenCreated:
    secret = new_token(TOKEN_PREFIX)
    async with write_transaction():
        token = ApiToken(
            user=user_id, name=name, token_hash=token_hash(secret), prefix=secret[:10], created_at=utcnow(),
        )
        await token.save()
        await record("token.create", actor, entity="token", entity_id=token.id)
    return schemas.TokenCreated(token=_token_out(token.to_dict()), secret=secret)


async def list_tokens(user_id: int) -> list[schemas.TokenOut]:
    rows = await ApiToken.select().where(ApiToken.user == user_id).order_by(ApiToken.id)
    return [_token_out(r) for r in rows]


async def revoke_token(user_id: int, token_id: int, actor: Identity) -> None:
    async with write_transaction():
        row = await ApiToken.select(ApiToken.id).where((ApiToken.id == token_id) & (ApiToken.user == user_id)).first()
        if row is None:
            raise NotFound("No such token.")
        await ApiToken.update({ApiToken.revoked_at: utcnow()}).where(ApiToken.id == token_id)
        await record("token.revoke", actor, entity="token", entity_id=token_id)


async def identity_from_token(secret: str) -> Identity | None:
    row = await ApiToken.select(
        ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at,
        ApiToken.user.id, ApiToken.user.email, ApiToken.user.is_admin, ApiToken.user.is_active,
    ).where(ApiToken.token_hash == token_hash(secret)).first()
    if row is None or row["revoked_at"] is not None or not row["user.is_active"]:
        return None
    now = utcnow()
    if row["last_used_at"] is None or now - row["last_used_at"] > _TOUCH_EVERY:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return Identity(row["user.id"], row["user.email"], row["user.is_admin"], "token", None, row["id"])


async def name_of_practice(practice_id: int) -> str:
    """The practice's name, for pages and mail that know only its id (a patient's single-use link)."""
    row = await Practice.select(Practice.name).where(Practice.id == practice_id).first()
    if row is None:
        raise NotFound(f"No practice {practice_id}.")
    return row["name"]


async def practice_id_for(ods_code: str) -> int:
    row = await Practice.select(Practice.id).where(Practice.ods_code == ods_code.upper()).first()
    if row is None:
        raise NotFound(f"No practice {ods_code.upper()}.")
    return row["id"]
