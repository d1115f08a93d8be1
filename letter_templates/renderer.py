"""Templates in, documents out: the pure core of the recruitment pack (no database, no HTTP, nothing of ours).

A template is a short text in Jinja syntax, one per kind and language, in `texts/<language>/<kind>.txt`:
- an optional first line `Subject: ...` (the e-mail subject, and the letter's title);
- paragraphs separated by blank lines; a single line break inside a paragraph is kept (sign-offs);
- a paragraph starting with `# ` is the heading.
The fields a template may use are those of `TemplateContext` below (`practice.name`, `salutation`,
`join_url`...). A practice may store its own copy of a template; it is checked by `check_template` (only
`{{ field }}`, `{% if %}` and a few text filters are allowed, so a template cannot loop or reach into Python)
and rendered in Jinja's `SandboxedEnvironment` like the shipped ones.

Rendering gives a `Document` of plain-text blocks. Nothing here is markup: the HTML writer escapes every
block as a whole (autoescape), so neither a patient's name nor a template's own text can become markup; the
DOCX writer puts text in `w:t` elements; the CSV writer neutralises formulas.

Languages are folders: `texts/<code>/language.json` gives the name, direction (`ltr` or `rtl`), the babel
locale for dates and the spellings a patient list may use for it ("Polish", "Polski"). Adding a folder with
the eight templates adds a language; see docs/recruitment.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

TEXTS = Path(__file__).parent / "texts"
DEFAULT_LANGUAGE = "en"
#: The kinds of template, each in every language.
KINDS = {
    "recruitment_core": "Recruitment letter: join the group that meets",
    "recruitment_virtual": "Recruitment letter: join the virtual group (e-mail and text only)",
    "follow_up": "Follow-up letter to people who have not answered",
    "meeting_invitation": "Invitation to a PRG meeting",
    "poster": "Waiting-room poster (A4)",
    "leaflet": "Leaflet to attach to prescriptions (A5)",
    "email": "E-mail",
    "sms": "Text message (SMS)",
}
LETTER_KINDS = ("recruitment_core", "recruitment_virtual", "follow_up", "meeting_invitation")
MESSAGE_KINDS = ("email", "sms")
PRINT_KINDS = ("poster", "leaflet")
MAX_TEMPLATE_CHARS = 20_000
#: Filters a practice's own template may use (all pure text transforms).
ALLOWED_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d", "replace", "e", "escape"})
_ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr, nodes.Const,
                  nodes.If, nodes.And, nodes.Or, nodes.Not, nodes.Compare, nodes.Operand, nodes.CondExpr,
                  nodes.Filter, nodes.Concat)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


class TemplateProblem(ValueError):
    """A template that cannot be used; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# ---------------------------------------------------------------------------------------------------------
# Languages
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    native_name: str
    direction: str  # ltr | rtl
    locale: str  # babel locale, e.g. pl_PL
    aliases: tuple[str, ...]
    reviewed: bool  # checked by a native speaker; unreviewed translations are marked in the docs

    @property
    def tag(self) -> str:
        """The BCP 47 tag for `lang` attributes: pl-PL."""
        return self.locale.replace("_", "-")


@lru_cache(maxsize=1)
def languages() -> dict[str, Language]:
    """Every language with a folder under texts/, English first."""
    found = {}
    for folder in sorted(TEXTS.iterdir(), key=lambda p: (p.name != DEFAULT_LANGUAGE, p.name)):
        meta_file = folder / "language.json"
        if not meta_file.is_file():
            continue
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        found[folder.name] = Language(
            code=folder.name, name=meta["name"], native_name=meta["native_name"], direction=meta["direction"],
            locale=meta["locale"], aliases=tuple(a.casefold() for a in meta.get("aliases", [])),
            reviewed=bool(meta.get("reviewed", False)),
        )
    return found


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index = {}
    for code, language in languages().items():
        for alias in (code, language.name, language.native_name, *language.aliases):
            index[alias.casefold()] = code
    return index


def language_for(spoken: str | None) -> str | None:
    """The template language for what a patient list says a patient speaks ("Polish", "pl", "Polski"),
    or None when we have no templates in it. Bracketed detail is ignored: "Punjabi (Gurmukhi)"."""
    if not spoken:
        return None
    text = spoken.strip().casefold()
    return _alias_index().get(text) or _alias_index().get(re.sub(r"\s*[\(\[].*$", "", text))


# ---------------------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeDetails:
    name: str
    address: str = ""  # lines separated by newlines
    postcode: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    contact_name: str = ""  # who signs the letters; the templates say "The Practice Manager" without one
    logo_png: bytes | None = None

    def fields(self) -> dict[str, str]:
        lines = [line.strip() for line in self.address.splitlines() if line.strip()]
        return {"name": self.name, "address": ", ".join(lines + ([self.postcode] if self.postcode else [])),
                "postcode": self.postcode, "phone": self.phone, "email": self.email, "website": self.website,
                "contact_name": self.contact_name}


@dataclass(frozen=True)
class Recipient:
    title: str = ""
    first_name: str = ""
    last_name: str = ""
    address_lines: tuple[str, ...] = ()
    postcode: str = ""

    @property
    def salutation(self) -> str:
        """"Mr Khan" when a title is known, else "Ayesha Khan"."""
        if self.title and self.last_name:
            return f"{self.title} {self.last_name}"
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "Patient"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)

    def fields(self) -> dict[str, str]:
        return {"title": self.title, "first_name": self.first_name, "last_name": self.last_name,
                "postcode": self.postcode, "address": ", ".join(self.address_lines)}


@dataclass(frozen=True)
class MeetingDetails:
    on: date | None = None
    time: str = ""
    place: str = ""


@dataclass(frozen=True)
class TemplateContext:
    """Everything a template may refer to (see docs/recruitment.md for the field names)."""

    practice: PracticeDetails
    recipient: Recipient = field(default_factory=Recipient)
    join_url: str = ""
    short_url: str = ""
    meeting: MeetingDetails = field(default_factory=MeetingDetails)
    on: date | None = None  # the date printed on the document (today when left out)


def long_date(on: date, language: str) -> str:
    return format_date(on, "long", locale=languages()[language].locale)


def _variables(context: TemplateContext, language: str) -> dict[str, object]:
    on = context.on or date.today()
    meeting = context.meeting
    return {
        "practice": context.practice.fields(), "patient": context.recipient.fields(),
        "salutation": context.recipient.salutation, "join_url": context.join_url, "short_url": context.short_url,
        "meeting": {"date": long_date(meeting.on, language) if meeting.on else "", "time": meeting.time,
                    "place": meeting.place},
        "today": long_date(on, language),
    }


#: Sample values a practice's own template is tried against before it is stored.
SAMPLE_CONTEXT = TemplateContext(
    practice=PracticeDetails(name="Sample Surgery", address="1 High Street\nTown", postcode="AB1 2CD",
                             phone="01234 567890", email="prg@example.org", website="https://example.org",
                             contact_name="A. Manager"),
    recipient=Recipient(title="Ms", first_name="Ann", last_name="Example", address_lines=("2 Low Road", "Town"),
                        postcode="AB1 2CE"),
    join_url="https://example.org/join/A81001", short_url="example.org/join/A81001",
    meeting=MeetingDetails(date(2026, 1, 15), "18:30", "the practice"), on=date(2026, 1, 1),
)


# ---------------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    style: str  # heading | paragraph
    text: str  # plain text; "\n" is a line break inside the block


@dataclass(frozen=True)
class Document:
    kind: str
    language: str
    direction: str
    lang_tag: str
    subject: str
    blocks: tuple[Block, ...]

    @property
    def heading(self) -> str:
        return next((b.text for b in self.blocks if b.style == "heading"), self.subject)

    def plain_text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


_ENV = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)


def shipped_source(kind: str, language: str) -> str:
    """The template the product ships for `kind` in `language`."""
    if kind not in KINDS:
        raise KeyError(kind)
    if language not in languages():
        raise KeyError(language)
    return (TEXTS / language / f"{kind}.txt").read_text(encoding="utf-8")


@lru_cache(maxsize=256)
def _compiled(source: str):
    return _ENV.from_string(source)


def check_template(source: str) -> None:
    """Refuse a practice's own template unless it only prints fields and uses `{% if %}` (no loops, macros,
    calls or assignments: a template must not be able to run long or reach into Python), parses, and renders
    against the sample context. Raises TemplateProblem naming the line."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateProblem(f"the template is {len(source):,} characters long; the limit is {MAX_TEMPLATE_CHARS:,}")
    if not source.strip():
        raise TemplateProblem("the template is empty")
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax: {exc.message}", exc.lineno) from None
    except RecursionError:
        raise TemplateProblem("the template nests too deeply") from None
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise TemplateProblem(f"'{type(node).__name__}' is not allowed: use {{{{ field }}}} and {{% if %}} only",
                                  getattr(node, "lineno", None))
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise TemplateProblem(f"the filter '{node.name}' is not allowed", node.lineno)
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise TemplateProblem(f"'{node.attr}' is not a field", node.lineno)
    try:
        parse_text(_compiled(source).render(_variables(SAMPLE_CONTEXT, DEFAULT_LANGUAGE)), "sample", DEFAULT_LANGUAGE)
    except (UndefinedError, SecurityError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise TemplateProblem(f"the template cannot be filled in: {exc}") from None


def parse_text(text: str, kind: str, language: str) -> Document:
    """Rendered template text as a Document (see the module docstring for the layout rules)."""
    meta = languages()[language]
    text = text.replace("\r\n", "\n").strip()
    subject = ""
    if text.startswith("Subject:"):
        first, _, text = text.partition("\n")
        subject = first.removeprefix("Subject:").strip()
    blocks = []
    for chunk in _PARAGRAPH_BREAK.split(text.strip()):
        chunk = "\n".join(line.strip() for line in chunk.strip().splitlines())
        if not chunk:
            continue
        if chunk.startswith("# "):
            blocks.append(Block("heading", chunk[2:].strip()))
        else:
            blocks.append(Block("paragraph", chunk))
    return Document(kind=kind, language=language, direction=meta.direction, lang_tag=meta.tag,
                    subject=subject, blocks=tuple(blocks))


def render(kind: str, language: str, context: TemplateContext, source: str | None = None) -> Document:
    """Fill the template for `kind` in `language` (a practice's own `source` if given, else the shipped one)."""
    if language not in languages():
        language = DEFAULT_LANGUAGE
    source = source if source is not None else shipped_source(kind, language)
    try:
        text = _compiled(source).render(_variables(context, language))
    except (UndefinedError, SecurityError, TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateProblem(f"the {kind} template ({language}) cannot be filled in: {exc}") from None
    return parse_text(text, kind, language)
