"""Every error leaves the API as an RFC 9457 problem document (`application/problem+json`).

`type` is a relative URI `/problems/<slug>` (documented in docs/api.md), `title` is stable per type,
`detail` says what happened in plain English, and `errors` lists each field or file row at fault.
Unexpected failures are logged by exception type and code location only: messages from the database
can quote the values that failed, and those may be personal data.
"""

from __future__ import annotations

import logging
import traceback
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from prg.errors import DomainError, TooManyRequests

log = logging.getLogger("prg")

PROBLEM_JSON = "application/problem+json"


def problem(status: int, slug: str, title: str, detail: str, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return problem(exc.status, exc.slug, exc.title, exc.detail, [e.as_dict() for e in exc.errors], headers)


def _field_errors(exc: ValidationException) -> list[dict[str, Any]]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            entry = {"message": item.get("message", "invalid")}
            if item.get("key"):
                entry["field"] = str(item["key"]).removeprefix("$.")
            if item.get("source"):
                entry["source"] = item["source"]
            errors.append(entry)
    return errors


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status >= 500:  # the framework's own 5xx detail describes our internals, not the request
        return unexpected_error_handler(request, exc)
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    slug = phrase.lower().replace(" ", "-").replace("'", "")
    if isinstance(exc, ValidationException):
        return problem(status, "invalid-request", "Invalid request", "The request does not match the API's schema.",
                       _field_errors(exc))
    detail = exc.detail if exc.detail and exc.detail != phrase else phrase
    return problem(status, slug, phrase, detail, headers=exc.headers)


def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    frames = traceback.extract_tb(exc.__traceback__)[-5:]
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    log.error("unhandled %s on %s %s at %s", type(exc).__name__, request.method, request.url.path, where)
    return problem(500, "internal-error", "Internal error", "Something went wrong on our side; nothing was saved.")


class ProblemError(msgspec.Struct, omit_defaults=True):
    """One thing wrong with the input: a body or query `field`, or a file's `row` and `column`."""

    message: str
    field: str | None = None
    row: int | None = None
    column: str | None = None
    source: str | None = None


class ProblemDocument(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem document, as every error of the API is sent."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] = msgspec.field(default_factory=list)


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "ProblemDocument", "problem"]
