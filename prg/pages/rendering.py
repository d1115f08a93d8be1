"""Server-rendered HTML. Autoescape is on for every template, whatever its file name. A package's templates
are looked up in its own `templates/` folder, then in prg's, so every page can extend
prg/templates/public_base.html (one look, one stylesheet) without prg depending on the packages above it."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from litestar import Response
from litestar.datastructures import Cookie

from prg.errors import ErrorDetail
from prg.pages.catalogue import words
from prg.pages.languages import text_direction
from prg.pages.protection import HONEYPOT


@lru_cache(maxsize=None)
def environment(package: str = "prg") -> Environment:
    """The templates of one package (its `templates/` folder, then prg's)."""
    loaders = [PackageLoader(package, "templates")] + ([PackageLoader("prg", "templates")] if package != "prg" else [])
    env = Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined)
    env.globals["honeypot_field"] = HONEYPOT  # the name forms.honeypot() draws and honeypot_filled() reads
    return env


def render(template: str, package: str = "prg", **context: object) -> str:
    return environment(package).get_template(template).render(**context)


def errors_by_field(errors: Iterable[ErrorDetail]) -> dict[str, str]:
    """The message to show beside each field: its first error (`""` for errors that name no field)."""
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.field or "", error.message)
    return found


def render_page(template: str, lang: str, status: int = 200, *, package: str = "prg",
                cookies: list[Cookie] | None = None, headers: dict[str, str] | None = None,
                **context: object) -> Response[str]:
    """A page in `lang`: the layout's context (`lang`, `dir`, and `t`, the language's words) added to the
    template's. Never stored by browsers or proxies: public pages carry answers and single-use links."""
    html = render(template, package, lang=lang, dir=text_direction(lang), t=words(lang), **context)
    return Response(html, media_type="text/html", status_code=status, cookies=cookies or [],
                    headers={"cache-control": "no-store", **(headers or {})})
