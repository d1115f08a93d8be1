"""The OpenAPI description, made to say what the server really does.

Litestar generates the schema from the handlers; three things it cannot know are added here, so that
clients and the schema fuzzer's conformance checks (tests/integration/test_fuzz.py) can rely on it:
- every operation may answer with a problem document (`application/problem+json`) for the statuses the
  middleware, guards and services raise;
- a 204 answer has no body (Litestar documents `Response[None]` as JSON);
- public operations (health, sign-in) need no credentials;
- request bodies whose Struct forbids unknown fields say `additionalProperties: false`.
Also mended: Litestar (2.25) builds a path's automatic OPTIONS handler when the path's first handler is
registered, so its `Allow` header missed the methods of handlers added later on the same path.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute

from prg.problems import PROBLEM_JSON, ProblemDocument

_ANY_OPERATION = {
    400: "The request is malformed (a bad parameter, body or file).",
    401: "Not signed in: no valid session cookie or API token.",
    403: "Signed in, but the role is too low, or the CSRF token is missing.",
    404: "No such resource, or none the caller may see (another practice's resources answer 404).",
    422: "The input is well formed but breaks a rule; `errors` names each field or file row.",
    429: "Too many requests: wait for the number of seconds in Retry-After.",
}
_WRITES = {
    409: "The change conflicts with the current state (a duplicate, or a resource in use).",
    413: "The body or file is larger than the limit.",
    415: "The body's content type is not one this operation reads.",
}
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def document_problem_responses(app: Litestar) -> None:
    """Declare the problem-document answers (and bodiless 204s) on every HTTP operation, before the
    schema is first built. A handler's own `responses` win over these."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            statuses = _ANY_OPERATION | (_WRITES if handler.http_methods & _WRITE_METHODS else {})
            specs = {status: ResponseSpec(data_container=ProblemDocument, media_type=PROBLEM_JSON,
                                          description=text, generate_examples=False)
                     for status, text in statuses.items()}
            if handler.opt.get("exclude_from_auth"):  # public: anyone may call it
                handler.security = [{}]
            if handler.status_code == 204:
                specs[204] = ResponseSpec(data_container=None, description="Done; no content.")
            handler.responses = {**specs, **(handler.responses or {})}


def answer_options_with_every_method(app: Litestar) -> None:
    """Point each automatic OPTIONS handler at its finished route, whose methods are complete."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            cells = handler.fn.__closure__ or () if handler.handler_name == "options_handler" else ()
            for cell in cells:
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route


def _strict_struct_names() -> set[str]:
    names, pending = set(), list(msgspec.Struct.__subclasses__())
    while pending:
        struct = pending.pop()
        pending.extend(struct.__subclasses__())
        if struct.__struct_config__.forbid_unknown_fields:
            names.add(struct.__name__)
    return names


class SchemaJson(JsonRenderPlugin):
    """`/schema/openapi.json`, with `additionalProperties: false` on the bodies that refuse extras."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: bytes | None = None

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            strict = _strict_struct_names()
            for name, schema in (openapi_schema.get("components", {}).get("schemas") or {}).items():
                if name in strict and schema.get("type") == "object":
                    schema["additionalProperties"] = False
            self._rendered = self.render_json(request, openapi_schema)
        return self._rendered


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="PRG toolkit API", version="0.1.0", path="/schema",
        render_plugins=[SchemaJson(), RedocRenderPlugin(path=["/", "/redoc"])],
        components=Components(security_schemes={
            "token": SecurityScheme(type="http", scheme="bearer", description="A personal API token"),
            "session": SecurityScheme(type="apiKey", name="prg_session", security_scheme_in="cookie"),
        }),
        security=[{"token": []}, {"session": []}],
    )
