"""Server-rendered HTML. Autoescape is on for every template, whatever its file name."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(loader=PackageLoader("prg", "templates"), autoescape=True, undefined=StrictUndefined)


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)
