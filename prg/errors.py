"""Domain errors, raised by services and readers, mapped once to RFC 9457 problem documents.

Services never build HTTP responses: they raise one of these, and `prg.app` turns it into
`application/problem+json` with `type`, `title`, `status`, `detail` and, for bad input, an `errors`
list in which every entry names the `field` (API bodies, query parameters) or the file `row` and
`column` (imports) that was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ErrorDetail:
    """One thing wrong with the input. Rows are 1-based as a spreadsheet shows them (header = row 1)."""

    message: str
    field: str | None = None
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class DomainError(Exception):
    detail: str
    errors: list[ErrorDetail] = field(default_factory=list)

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        return self.detail


class InvalidInput(DomainError):
    """The request or file is well-formed but its content breaks a rule; nothing was changed."""

    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class BadFile(DomainError):
    """An upload that is not the kind of file expected, or is hostile (bombs, oversize, formulas)."""

    status = 400
    title = "Unreadable or unsafe file"
    slug = "bad-file"


class FileTooLarge(DomainError):
    status = 413
    title = "File too large"
    slug = "file-too-large"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    slug = "too-many-requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
