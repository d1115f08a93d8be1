"""Server-rendered HTML. Autoescape is on for every template, whatever its file name. A package's templates
are looked up in its own `templates/` folder, then in prg's, so every public page a patient sees can extend
prg/templates/public_base.html (one look, one stylesheet) without prg depending on the packages above it."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined


@lru_cache(maxsize=None)
def environment(package: str = "prg") -> Environment:
    """The templates of one package (its `templates/` folder, then prg's)."""
    loaders = [PackageLoader(package, "templates")] + ([PackageLoader("prg", "templates")] if package != "prg" else [])
    return Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined)


def render(template: str, package: str = "prg", **context: object) -> str:
    return environment(package).get_template(template).render(**context)
