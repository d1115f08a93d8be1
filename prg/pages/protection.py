"""What guards a public form that anyone may send: a honeypot, an anti-forgery token, rate limits.

- Honeypot: a visually hidden text box called `website` that people never fill (the layout's
  `honeypot()` macro draws it); a form that arrives with it filled came from a bot, which is thanked and
  nothing is stored.
- Anti-forgery (CSRF) for forms without an account, a signed double-submit token: the GET sets a random
  nonce in an HttpOnly, SameSite=Strict cookie scoped to the form's path, and puts
  `issued-at.HMAC-SHA256(key, purpose|scope|nonce|issued-at)` in a hidden field. A POST must carry both;
  the signature must match the cookie's nonce and the scope (e.g. the practice), and the token must be
  younger than the guard's lifetime. Another site can neither read the token nor make the browser send
  the Strict cookie, and cannot forge a token without the key (`PRG_FORM_SECRET`, or a random key per
  process).
- Rate limits: `PRG_*_PER_HOUR` actions per client address per scope (a practice's sign-up form, a
  survey), counted by prg/ratelimit.py in this process or, with `PRG_RATE_LIMIT_REDIS_URL`, in Redis.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from prg.ratelimit import app_limiter
from prg.settings import get_settings

HONEYPOT = "website"
HOUR = 3600
NONCE = re.compile(r"[A-Za-z0-9_-]{22,64}")
_PROCESS_KEY = secrets.token_bytes(32)


def honeypot_filled(form: Any) -> bool:
    """Whether the hidden box only bots fill came back filled."""
    return bool(form.get(HONEYPOT))


# --- anti-forgery tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormGuard:
    """The anti-forgery token of one public form. `purpose` is signed in, so one form's token is worthless
    on another; `scope` (given per call) ties a token to what the form is about, e.g. the practice."""

    purpose: str
    cookie: str
    path: str
    field: str = "_csrf"
    lifetime: int = 4 * HOUR

    def token(self, scope: str, nonce: str, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        return f"{issued}.{self._signature(scope, nonce, issued)}"

    def is_valid(self, scope: str, nonce: str | None, token: str | None, now: float | None = None) -> bool:
        if not nonce or not token or len(token) > 100 or len(nonce) > 100:
            return False
        issued_text, _, signature = token.partition(".")
        if not issued_text.isdigit():
            return False
        issued, now = int(issued_text), time.time() if now is None else now
        if not (now - self.lifetime <= issued <= now + 60):
            return False
        return hmac.compare_digest(signature.encode(), self._signature(scope, nonce, issued).encode())

    def sent_is_valid(self, request: Request, scope: str, form: Any) -> bool:
        """Whether a posted form carries a good token for the nonce in the browser's cookie."""
        token = form.get(self.field)
        return self.is_valid(scope, request.cookies.get(self.cookie), token.strip() if isinstance(token, str) else "")

    def issue(self, request: Request, scope: str) -> tuple[str, Cookie]:
        """(token for the hidden field, nonce cookie) for a form being shown: the browser's nonce is kept
        if it has a sound one, so several tabs of the same form all stay valid."""
        nonce = request.cookies.get(self.cookie, "")
        if not NONCE.fullmatch(nonce):
            nonce = secrets.token_urlsafe(24)
        setting = get_settings().cookie_secure
        secure = request.url.scheme == "https" if setting == "auto" else setting == "true"
        cookie = Cookie(key=self.cookie, value=nonce, httponly=True, samesite="strict", secure=secure,
                        path=self.path, max_age=self.lifetime)
        return self.token(scope, nonce), cookie

    def _signature(self, scope: str, nonce: str, issued: int) -> str:
        secret = get_settings().form_secret
        key = secret.encode() if secret else _PROCESS_KEY
        mac = hmac.new(key, f"{self.purpose}|{scope}|{nonce}|{issued}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


# --- rate limits ------------------------------------------------------------------------------------------------


def client_key(request: Request, scope: str) -> str:
    """What a limit counts: one client address on one scope (a practice's form, a survey)."""
    return f"{scope}|{request.client.host if request.client else ''}"


async def wait_before_next(request: Request, name: str, per_hour: int, scope: str) -> int | None:
    """Count one action of this client on `scope` against the limit called `name`; None if allowed,
    else the seconds to wait."""
    limiter = app_limiter(request.app.state, name, per_hour, HOUR, get_settings().rate_limit_redis_url)
    return await limiter.acquire(client_key(request, scope))
