"""Server-rendered HTML. Autoescape is on for every template, whatever its file name."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=None)
def environment(package: str = "prg") -> Environment:
    """The templates of one package (its `templates/` folder)."""
    return Environment(loader=PackageLoader(package, "templates"), autoescape=True, undefined=StrictUndefined)


def render(template: str, package: str = "prg", **context: object) -> str:
    return environment(package).get_template(template).render(**context)
